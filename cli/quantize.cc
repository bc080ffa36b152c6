// ckpt quantize IN.gguf [OUT.gguf] TYPE [options]
//
// llama-quantize's command, byte for byte: the same TYPE names (Q4_K_M,
// IQ4_XS, COPY, or the number), the same options, the same output. Without
// OUT the output is <IN's directory>/ggml-model-<TYPE>.gguf, as there.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/gguf.h"
#include "ckpt/quant.h"
#include "ckpt/quantize.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "cli/common.h"
#include "lib/str_util.h"

namespace ckpt::cli {
namespace {

struct QuantizeArgs {
  std::vector<std::string> positional;  // IN [OUT] TYPE
  int threads = 0;
  std::string imatrix;
  std::vector<std::string> include_weights, exclude_weights;
  std::vector<std::string> tensor_types;
  std::string tensor_type_file;
  std::string output_tensor_type, token_embedding_type;
  bool pure = false, allow_requantize = false, leave_output_tensor = false, dry_run = false, quiet = false;
};

absl::Status Usage(std::string detail) {
  return Error("cli.quantize.usage", std::move(detail)).Code(absl::StatusCode::kFailedPrecondition);
}

absl::StatusOr<DType> ParseGgmlType(std::string_view option, const std::string& text) {
  const std::optional<DType> t = DTypeFromGgmlName(text);
  if (!t || !GgmlIdOf(*t)) return Usage(StrCat(option, ": '", text, "' is not a ggml type name (q8_0, q6_K, ...)"));
  return *t;
}

std::string Mib(uint64_t bytes) { return absl::StrFormat("%.2f MiB", bytes / 1048576.0); }

void PrintPlan(const GgufFile& in, const QuantizePlan& plan) {
  uint64_t from = 0, to = 0, elems = 0;
  size_t k = 0;
  for (const QuantizePlanEntry& e : plan.tensors) {
    std::string shape;
    for (uint64_t d : e.ne) StrAppend(&shape, shape.empty() ? "" : ", ", d);
    std::printf("[%4zu/%4zu] %-36s [%s] %s -> %s%s, %s -> %s\n", ++k, plan.tensors.size(),
                EscapeForDisplay(e.name).c_str(), shape.c_str(), std::string(DTypeName(e.from)).c_str(),
                std::string(DTypeName(e.to)).c_str(), e.fallback ? " (row length fallback)" : "",
                Mib(e.from_bytes).c_str(), Mib(e.to_bytes).c_str());
    from += e.from_bytes;
    to += e.to_bytes;
    uint64_t n = 1;
    for (uint64_t d : e.ne) n *= d;
    elems += n;
  }
  const double e = elems ? static_cast<double>(elems) : 1.0;
  std::printf("model size = %s (%.2f BPW), quantized size = %s (%.2f BPW)\n", Mib(from).c_str(), from * 8.0 / e,
              Mib(to).c_str(), to * 8.0 / e);
  if (plan.n_fallback > 0) {
    std::printf("%d of %zu tensors fell back to another type (row length)\n", plan.n_fallback, plan.tensors.size());
  }
  if (plan.needs_imatrix) std::printf("note: this quantization requires an importance matrix (--imatrix)\n");
  (void)in;
}

absl::Status Run(const QuantizeArgs& a, int* exit_code) {
  const std::vector<std::string>& p = a.positional;
  if (p.size() < 2 || p.size() > 3) return Usage("expected IN.gguf [OUT.gguf] TYPE");
  const std::string& in_path = p[0];
  const std::string& type_name = p.back();
  const std::optional<QuantFileType> file_type = FindQuantFileType(type_name);
  if (!file_type) {
    return Usage(StrCat("'", type_name, "' is not a llama-quantize type (Q4_K_M, Q8_0, IQ4_XS, F16, COPY, ...)"));
  }
  std::string out_path;
  if (p.size() == 3) {
    out_path = p[1];
  } else {
    const size_t slash = in_path.find_last_of('/');
    out_path = StrCat(slash == std::string::npos ? "" : in_path.substr(0, slash + 1), "ggml-model-",
                            file_type->name, ".gguf");
  }
  if (!a.include_weights.empty() && !a.exclude_weights.empty()) {
    return Usage("--include-weights and --exclude-weights cannot be used together");
  }
  QuantizeOptions options;
  options.file_type = *file_type;
  options.pure = a.pure;
  options.allow_requantize = a.allow_requantize;
  options.leave_output_tensor = a.leave_output_tensor;
  options.threads = a.threads;
  if (!a.output_tensor_type.empty()) {
    CKPT_ASSIGN_OR_RETURN(options.output_tensor_type, ParseGgmlType("--output-tensor-type", a.output_tensor_type));
  }
  if (!a.token_embedding_type.empty()) {
    CKPT_ASSIGN_OR_RETURN(options.token_embedding_type,
                          ParseGgmlType("--token-embedding-type", a.token_embedding_type));
  }
  std::vector<std::string> tensor_types = a.tensor_types;
  if (!a.tensor_type_file.empty()) {
    // Whitespace-separated PATTERN=TYPE words, as llama-quantize reads them.
    std::ifstream f(a.tensor_type_file);
    if (!f) return Usage(StrCat("cannot read --tensor-type-file ", a.tensor_type_file));
    for (std::string word; f >> word;) tensor_types.push_back(word);
  }
  for (const std::string& tt : tensor_types) {
    const size_t eq = tt.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == tt.size()) {
      return Usage(StrCat("--tensor-type '", tt, "': expected PATTERN=TYPE"));
    }
    CKPT_ASSIGN_OR_RETURN(const DType t, ParseGgmlType("--tensor-type", tt.substr(eq + 1)));
    // llama-quantize lowercases the pattern.
    options.tensor_types.emplace_back(absl::AsciiStrToLower(tt.substr(0, eq)), t);
  }
  Imatrix imatrix;
  if (!a.imatrix.empty()) {
    CKPT_ASSIGN_OR_RETURN(imatrix, LoadImatrix(a.imatrix));
    // Substring filters, as llama-quantize applies them.
    if (!a.exclude_weights.empty()) {
      std::erase_if(imatrix.entries, [&](const auto& kv) {
        for (const std::string& s : a.exclude_weights) if (kv.first.find(s) != std::string::npos) return true;
        return false;
      });
    }
    if (!a.include_weights.empty()) {
      std::erase_if(imatrix.entries, [&](const auto& kv) {
        for (const std::string& s : a.include_weights) if (kv.first.find(s) != std::string::npos) return false;
        return true;
      });
    }
    if (!imatrix.entries.empty()) {
      options.imatrix = &imatrix;
      options.imatrix_file = a.imatrix;
    }
  }
  std::error_code ec;
  if (!a.dry_run && std::filesystem::equivalent(in_path, out_path, ec)) {
    return Usage("the input and the output are the same file");
  }
  CKPT_ASSIGN_OR_RETURN(const GgufFile in, GgufFile::Open(in_path));
  CKPT_ASSIGN_OR_RETURN(const QuantizePlan plan, PlanQuantize(in, options));
  if (a.dry_run) {
    PrintPlan(in, plan);
    return absl::OkStatus();
  }
  Progress progress("quantize", ShowProgress(a.quiet));
  CKPT_RETURN_IF_ERROR(QuantizeGguf(in, out_path, options, plan, [&](size_t k, uint64_t done, uint64_t total) {
    progress.Update(done, total, absl::StrFormat("tensor %d/%d", k + 1, plan.tensors.size()));
  }));
  progress.Finish();
  if (!a.quiet) {
    uint64_t from = 0, to = 0;
    for (const QuantizePlanEntry& e : plan.tensors) {
      from += e.from_bytes;
      to += e.to_bytes;
    }
    std::fprintf(stderr, "wrote %s: %zu tensors, %s -> %s as %s\n", out_path.c_str(), plan.tensors.size(),
                 Mib(from).c_str(), Mib(to).c_str(), std::string(file_type->name).c_str());
  }
  (void)exit_code;
  return absl::OkStatus();
}

}  // namespace

void RegisterQuantize(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Quantize a GGUF model like llama-quantize (same types, same options, byte-identical output)");
  cmd->add_option("IN_OUT_TYPE", args->positional, "IN.gguf [OUT.gguf] TYPE (Q4_K_M, Q8_0, IQ4_XS, F16, COPY, ...)")
      ->required()
      ->expected(2, 3);
  cmd->add_option("--threads,-t", args->threads, "Worker threads (default: all cores); output is identical for any N")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--imatrix", args->imatrix, "Importance matrix (GGUF from llama-imatrix, or legacy .dat)");
  cmd->add_option("--include-weights", args->include_weights, "Use the imatrix only for tensors containing this text")
      ->expected(1)
      ->take_all();
  cmd->add_option("--exclude-weights", args->exclude_weights, "Do not use the imatrix for tensors containing this text")
      ->expected(1)
      ->take_all();
  cmd->add_option("--output-tensor-type", args->output_tensor_type, "Type for output.weight");
  cmd->add_option("--token-embedding-type", args->token_embedding_type, "Type for token_embd.weight");
  cmd->add_option("--tensor-type", args->tensor_types, "PATTERN=TYPE: tensors whose name matches the regex get TYPE")
      ->expected(1)
      ->take_all();
  cmd->add_option("--tensor-type-file", args->tensor_type_file, "A file of PATTERN=TYPE words (after --tensor-type)");
  cmd->add_flag("--pure", args->pure, "Every quantizable tensor gets the default type (no mix rules)");
  cmd->add_flag("--allow-requantize", args->allow_requantize, "Allow inputs that are already quantized");
  cmd->add_flag("--leave-output-tensor", args->leave_output_tensor, "Keep output.weight as it is");
  cmd->add_flag("--dry-run", args->dry_run, "Print the per-tensor plan and sizes; write nothing");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress or summary");
  cmd->callback([args, exit_code] {
    const absl::Status st = Run(*args, exit_code);
    if (!st.ok()) {
      PrintError(st);
      *exit_code = ExitCodeFor(st);
    }
  });
}

}  // namespace ckpt::cli
