// ckpt split IN PREFIX [--max-size SIZE | --max-tensors N] [--no-tensor-first-split] [--dry-run]
// ckpt merge FIRST-SPLIT OUT [--dry-run]
//
// File-compatible with llama-gguf-split: PREFIX-00001-of-0000N.gguf names,
// split.no / split.count / split.tensors.count, the same KV order and
// layout; the output of `merge` is what `llama-gguf-split --merge` writes.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/gguf.h"
#include "ckpt/safetensors_sharded.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "cli/common.h"
#include "lib/str_util.h"

namespace ckpt::cli {
namespace {

struct SplitArgs {
  std::string in, prefix;
  std::string max_size;
  std::string max_tensors;  // text, so 0, -1 and overflow are refused rather than wrapped
  bool no_tensor_first_split = false;
  bool keep_dims = false;
  bool dry_run = false;
  bool quiet = false;
};

struct MergeArgs {
  std::string first, out;
  bool keep_dims = false;
  bool dry_run = false;
  bool quiet = false;
};

absl::Status Usage(std::string detail) {
  return Error("cli.split.usage", std::move(detail)).Code(absl::StatusCode::kFailedPrecondition);
}

// "2G" and "500M" as llama-gguf-split reads them (decimal), plus every
// form --max-shard-size takes ("5GB", "2GiB", "1.5G", bytes).
std::optional<uint64_t> ParseSplitSize(std::string text) {
  text = std::string(absl::StripAsciiWhitespace(text));
  if (!text.empty() && std::string_view("KMGT").find(absl::ascii_toupper(text.back())) != std::string_view::npos) {
    text.push_back('B');
  }
  return ParseShardSize(text);
}

absl::Status RunSplit(const SplitArgs& a) {
  if (!a.max_size.empty() && !a.max_tensors.empty()) return Usage("give --max-size or --max-tensors, not both");
  GgufSplitOptions options;
  options.no_tensors_in_first = a.no_tensor_first_split;
  options.keep_dims = a.keep_dims;
  if (!a.max_size.empty()) {
    const std::optional<uint64_t> n = ParseSplitSize(a.max_size);
    if (!n) return Usage(StrCat("cannot read --max-size ", a.max_size, " (examples: 2G, 500M, 4GiB)"));
    options.max_bytes = *n;
  } else if (!a.max_tensors.empty()) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(a.max_tensors, &n) || n == 0) {
      return Usage(StrCat("--max-tensors ", a.max_tensors, " is not a positive integer"));
    }
    options.max_tensors = n;
  } else {
    options.max_tensors = 128;  // llama-gguf-split's default
  }
  CKPT_ASSIGN_OR_RETURN(const GgufFile in, GgufFile::Open(a.in));
  if (in.GetInt("split.count").value_or(0) > 1) {
    return Usage("the input is already one file of a split set: `ckpt merge` it first");
  }
  std::string prefix = a.prefix;
  if (absl::EndsWith(prefix, ".gguf")) prefix.resize(prefix.size() - 5);

  const std::vector<size_t> plan = PlanGgufSplits(in, options);
  if (plan.size() > UINT16_MAX) {
    return Usage(StrCat("that makes ", plan.size(), " files; split.count is a u16 (at most 65535)"));
  }
  if (a.dry_run) {
    size_t next = 0;
    for (size_t s = 0; s < plan.size(); ++s) {
      uint64_t bytes = 0;
      for (size_t k = 0; k < plan[s]; ++k) bytes += in.info(next++).nbytes;
      std::printf("%s  %zu tensors  %s\n",
                  EscapeForDisplay(GgufSplitPath(prefix, static_cast<uint32_t>(s), static_cast<uint32_t>(plan.size())))
                      .c_str(),
                  plan[s], HumanBytes(bytes).c_str());
    }
    return absl::OkStatus();
  }
  Progress progress("split", ShowProgress(a.quiet));
  CKPT_ASSIGN_OR_RETURN(const std::vector<std::string> paths,
                        WriteGgufSplits(in, prefix, options,
                                        [&](uint64_t done, uint64_t total) { progress.Update(done, total); }));
  progress.Finish();
  if (!a.quiet) {
    for (const std::string& p : paths) std::printf("%s\n", EscapeForDisplay(p).c_str());
  }
  return absl::OkStatus();
}

absl::Status RunMerge(const MergeArgs& a) {
  CKPT_ASSIGN_OR_RETURN(const GgufSplitSet set, OpenGgufSplits(a.first));
  if (set.files.size() < 2 && set.files[0]->GetInt("split.count").value_or(0) != 1) {
    return Usage("not a split set (no split.count above 0); nothing to merge");
  }
  if (a.dry_run) {
    size_t n = 0;
    for (const auto& f : set.files) n += f->size();
    std::printf("%zu files, %zu tensors\n", set.files.size(), n);
    return absl::OkStatus();
  }
  Progress progress("merge", ShowProgress(a.quiet));
  CKPT_RETURN_IF_ERROR(
      MergeGgufSplits(set, a.out, a.keep_dims, [&](uint64_t done, uint64_t total) { progress.Update(done, total); }));
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace

void RegisterSplit(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SplitArgs>();
  CLI::App* cmd = app.add_subcommand("split", "Split a GGUF into PREFIX-00001-of-0000N.gguf files (llama-gguf-split)");
  cmd->add_option("in", args->in, "Input GGUF file")->required();
  cmd->add_option("prefix", args->prefix, "Output prefix (a trailing .gguf is dropped)")->required();
  cmd->add_option("--max-size", args->max_size,
                  "At most this many tensor bytes per file (2G, 500M: decimal as llama-gguf-split; 4GiB binary)");
  cmd->add_option("--max-tensors", args->max_tensors, "At most N tensors per file (default 128)");
  cmd->add_flag("--no-tensor-first-split", args->no_tensor_first_split, "Put only the metadata in the first file");
  cmd->add_flag("--keep-dims", args->keep_dims,
                "Keep stored trailing 1-dimensions (default: drop them as llama-gguf-split does)");
  cmd->add_flag("--dry-run", args->dry_run, "Print the plan, write nothing");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress, no list of files written");
  cmd->callback([args, exit_code] {
    const absl::Status s = RunSplit(*args);
    if (!s.ok()) PrintError(s);
    *exit_code = s.ok() ? kExitOk : ExitCodeFor(s);
  });

  auto margs = std::make_shared<MergeArgs>();
  CLI::App* merge = app.add_subcommand("merge", "Merge a GGUF split set into one file (llama-gguf-split --merge)");
  merge->add_option("first", margs->first, "The first file of the set (PREFIX-00001-of-0000N.gguf)")->required();
  merge->add_option("out", margs->out, "Output GGUF file")->required();
  merge->add_flag("--keep-dims", margs->keep_dims,
                  "Keep stored trailing 1-dimensions (default: drop them as llama-gguf-split does)");
  merge->add_flag("--dry-run", margs->dry_run, "Check the set, write nothing");
  merge->add_flag("-q,--quiet", margs->quiet, "No progress output");
  merge->callback([margs, exit_code] {
    const absl::Status s = RunMerge(*margs);
    if (!s.ok()) PrintError(s);
    *exit_code = s.ok() ? kExitOk : ExitCodeFor(s);
  });
}

}  // namespace ckpt::cli
