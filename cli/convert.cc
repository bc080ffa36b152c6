// ckpt convert IN OUT [--to safetensors|gguf] [--dtype keep|f32|f16|bf16|...]
//                     [--max-shard-size SIZE] [--align N] [--quiet]
#include <cstdio>

#include "lib/str_util.h"
#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/checkpoint.h"
#include "ckpt/dtype.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/gguf.h"
#include "ckpt/hf.h"
#include "ckpt/quantize.h"
#include "ckpt/safetensors.h"
#include "ckpt/safetensors_sharded.h"
#include "ckpt/status.h"
#include "cli/common.h"

namespace ckpt::cli {
namespace {

struct ConvertArgs {
  std::string in, out;
  std::string to;
  std::string dtype = "keep";
  std::string max_shard_size;
  uint64_t align = 8;
  int threads = 0;
  std::string imatrix;
  bool quiet = false;
};

// A Hugging Face model directory → GGUF, as convert_hf_to_gguf.py (and
// `ckpt quantize` when --dtype names a quantize type).
absl::Status RunHfToGguf(const ConvertArgs& a, const ProgressFn& on_progress) {
  HfToGgufOptions options;
  options.dtype = absl::AsciiStrToLower(a.dtype) == "keep" ? "auto" : a.dtype;
  options.threads = a.threads;
  options.quantize.threads = a.threads;
  Imatrix imatrix;
  if (!a.imatrix.empty()) {
    CKPT_ASSIGN_OR_RETURN(imatrix, LoadImatrix(a.imatrix));
    options.quantize.imatrix = &imatrix;
    options.quantize.imatrix_file = a.imatrix;
  }
  return ConvertHfToGguf(a.in, a.out, options, on_progress);
}

// GGUF → Hugging Face directory (config.json, model.safetensors, tokenizer).
absl::Status RunGgufToHf(const ConvertArgs& a, const Checkpoint& c, std::optional<DType> target,
                         const ProgressFn& on_progress) {
  CKPT_ASSIGN_OR_RETURN(std::vector<std::string> notes, ConvertGgufToHf(*c.gguf_files()[0], a.out, target, on_progress));
  if (!a.quiet) {
    for (const std::string& n : notes) std::fprintf(stderr, "ckpt: note: %s\n", n.c_str());
  }
  return absl::OkStatus();
}

// Safetensors or GGUF tensors → GGUF, names kept, shapes as ggml `ne`
// (innermost first). KVs: a GGUF input's are copied as they are; a
// Safetensors input's __metadata__ entries become string KVs.
absl::Status WriteAsGguf(const Checkpoint& c, std::optional<DType> target, const std::string& out,
                         const ProgressFn& on_progress) {
  std::vector<GgufKvToWrite> kvs;
  if (!c.gguf_files().empty()) {
    const GgufFile& f = *c.gguf_files()[0];
    for (const GgufKv& kv : f.kvs()) {
      // A split set becomes one file: drop the split bookkeeping.
      if (c.gguf_files().size() > 1 && absl::StartsWith(AbslView(kv.key), "split.")) continue;
      kvs.push_back({std::string(kv.key), std::make_pair(&f, kv.value)});
    }
  } else if (c.string_metadata()) {
    for (const auto& [k, v] : *c.string_metadata()) kvs.push_back({k, GgufOwnedValue::String(v)});
  }
  std::vector<GgufTensorToWrite> tensors;
  tensors.reserve(c.tensors().size());
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    const TensorView& v = c.tensors()[i];
    GgufTensorToWrite t;
    t.name = std::string(v.name);
    t.source_dtype = v.dtype;
    // --dtype applies to float tensors and decodes ggml block types.
    t.dtype = target && CanConvert(v.dtype, *target) ? *target : v.dtype;
    if (!GgmlIdOf(t.dtype)) {
      return Error("cli.convert.dtype", StrCat("tensor is ", DTypeName(t.dtype), ", which GGUF cannot hold",
                                               IsConvertibleFloat(t.dtype) ? " (use --dtype f32, f16 or bf16)" : ""))
          .Tensor(v.name)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    t.ne.assign(v.shape.rbegin(), v.shape.rend());
    t.data = v.data;
    t.source_big_endian = !c.gguf_files().empty() && c.gguf_files()[c.tensor_file_index(i)]->big_endian();
    tensors.push_back(std::move(t));
  }
  return WriteGguf(out, kvs, tensors, {}, on_progress);
}

absl::Status Run(const ConvertArgs& a) {
  std::string to = absl::AsciiStrToLower(a.to);
  if (to.empty()) to = absl::EndsWith(absl::AsciiStrToLower(a.out), ".gguf") ? "gguf" : "safetensors";
  if (to != "safetensors" && to != "gguf") {
    return Error("cli.convert.target", StrCat("unknown --to ", to, " (safetensors or gguf)"))
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  Progress progress("convert", ShowProgress(a.quiet));
  const ProgressFn on_progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  if (IsHfModelDirectory(a.in) && to == "gguf") {
    CKPT_RETURN_IF_ERROR(RunHfToGguf(a, on_progress));
    progress.Finish();
    return absl::OkStatus();
  }
  std::optional<DType> target;  // nullopt = keep
  const std::string d = absl::AsciiStrToUpper(a.dtype);
  if (d != "KEEP") {
    target = DTypeFromSafetensorsName(d);
    if (!target || !IsConvertibleFloat(*target)) {
      return Error("cli.convert.dtype", StrCat("--dtype ", a.dtype,
                                                     " is not a float type (keep, f32, f16, bf16, f64, f8_e4m3, ...)"))
          .Code(absl::StatusCode::kFailedPrecondition);
    }
  }
  CKPT_ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::Open(a.in));
  if (!c.gguf_files().empty() && to == "safetensors" && a.max_shard_size.empty() &&
      !absl::EndsWith(absl::AsciiStrToLower(a.out), ".safetensors")) {
    if (c.gguf_files().size() > 1) {
      return Error("cli.convert.split", "a split GGUF set: merge it first (`ckpt split --merge`)")
          .Code(absl::StatusCode::kUnimplemented);
    }
    CKPT_RETURN_IF_ERROR(RunGgufToHf(a, c, target, on_progress));
    progress.Finish();
    return absl::OkStatus();
  }
  if (to == "gguf") {
    if (!a.max_shard_size.empty()) {
      return Error("cli.convert.shard_size", "--max-shard-size writes Safetensors shards; use `ckpt split` for GGUF")
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    CKPT_RETURN_IF_ERROR(WriteAsGguf(c, target, a.out, on_progress));
    progress.Finish();
    return absl::OkStatus();
  }
  std::optional<std::vector<std::pair<std::string, std::string>>> metadata = c.string_metadata();
  if (!c.gguf_files().empty()) {
    // GGUF → Safetensors: string KVs become __metadata__; the rest has no
    // place in a string map.
    const GgufFile& f = *c.gguf_files()[0];
    metadata.emplace();
    size_t dropped = 0;
    for (const GgufKv& kv : f.kvs()) {
      if (kv.value.type == GgufType::kString) {
        metadata->emplace_back(std::string(kv.key), std::string(f.ReadString(kv.value)));
      } else {
        ++dropped;
      }
    }
    if (dropped > 0 && !a.quiet) {
      std::fprintf(stderr, "ckpt: note: %zu non-string GGUF key(s) not carried (Safetensors metadata holds strings)\n",
                   dropped);
    }
    for (size_t i = 0; i < c.tensors().size(); ++i) {
      const TensorView& t = c.tensors()[i];
      if (GetDTypeInfo(t.dtype).kind == DTypeKind::kQuantized && !target) {
        return Error("cli.convert.dtype", StrCat("tensor is ", DTypeName(t.dtype),
                                                 "; Safetensors has no ggml block types: pass --dtype f32, f16 or "
                                                 "bf16 to dequantize"))
            .Tensor(t.name)
            .Code(absl::StatusCode::kFailedPrecondition);
      }
      if (c.gguf_files()[c.tensor_file_index(i)]->big_endian()) {
        return Error("cli.convert.endian", "big-endian GGUF: run `ckpt edit IN OUT --endian little` first")
            .Tensor(t.name)
            .Code(absl::StatusCode::kUnimplemented);
      }
    }
  }
  std::vector<TensorToWrite> tensors;
  tensors.reserve(c.tensors().size());
  for (const TensorView& t : c.tensors()) {
    // Like torch's Module.to(dtype): only floating-point tensors change.
    const bool convert = target && CanConvert(t.dtype, *target);
    tensors.push_back(TensorToWrite::From(t, convert ? target : std::nullopt));
  }
  SafetensorsWriteOptions write;
  write.data_alignment = a.align;
  if (!a.max_shard_size.empty()) {
    ShardOptions shard;
    shard.write = write;
    std::optional<uint64_t> max = ParseShardSize(a.max_shard_size);
    if (!max) {
      return Error("cli.convert.shard_size", StrCat("cannot read --max-shard-size ", a.max_shard_size,
                                                          " (examples: 5GB, 500MB, 2GiB)"))
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    shard.max_shard_bytes = *max;
    CKPT_RETURN_IF_ERROR(WriteShardedSafetensors(a.out, std::move(tensors), metadata, shard, on_progress));
  } else {
    CKPT_RETURN_IF_ERROR(WriteSafetensors(a.out, std::move(tensors), metadata, write, on_progress));
  }
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace

void RegisterConvert(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert between Safetensors, GGUF and Hugging Face model directories, change float dtypes, shard or unshard");
  cmd->add_option("in", args->in, "Input checkpoint (file, shard directory or Hugging Face model directory)")
      ->required();
  cmd->add_option("out", args->out,
                  "Output file (or directory with --max-shard-size; a GGUF to a path not ending in .safetensors "
                  "writes a Hugging Face model directory)")
      ->required();
  cmd->add_option("--to", args->to, "Output format: safetensors or gguf (default from OUT's extension)");
  cmd->add_option("--dtype", args->dtype,
                  "keep (default), f32, f16, bf16, f64, f8_e4m3, f8_e5m2: converts float tensors. From a Hugging Face "
                  "directory: f32, f16, bf16, q8_0, auto, or a quantize type (Q4_K_M, ...)");
  cmd->add_option("--threads", args->threads, "Threads for conversion and quantization (default: all cores)");
  cmd->add_option("--imatrix", args->imatrix, "Importance matrix for a quantize --dtype (as ckpt quantize)");
  cmd->add_option("--max-shard-size", args->max_shard_size,
                  "Write Hugging Face shards of at most this size into directory OUT (e.g. 5GB; decimal units)");
  cmd->add_option("--align", args->align, "Start the data section at a multiple of this many bytes (default 8)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args, exit_code] {
    const absl::Status s = Run(*args);
    if (!s.ok()) PrintError(s);
    *exit_code = s.ok() ? kExitOk : ExitCodeFor(s);
  });
}

}  // namespace ckpt::cli
