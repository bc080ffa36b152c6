// ckpt convert IN OUT [--to safetensors] [--dtype keep|f32|f16|bf16|...]
//                     [--max-shard-size SIZE] [--align N] [--quiet]
#include <cstdio>

#include "lib/str_util.h"
#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/checkpoint.h"
#include "ckpt/dtype.h"
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
  bool quiet = false;
};

absl::Status Run(const ConvertArgs& a) {
  std::string to = absl::AsciiStrToLower(a.to);
  if (to.empty()) to = absl::EndsWith(absl::AsciiStrToLower(a.out), ".gguf") ? "gguf" : "safetensors";
  if (to != "safetensors") {
    return Error("cli.convert.target", StrCat("converting to ", to, " is not supported yet"))
        .Code(absl::StatusCode::kUnimplemented);
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
  std::vector<TensorToWrite> tensors;
  tensors.reserve(c.tensors().size());
  for (const TensorView& t : c.tensors()) {
    // Like torch's Module.to(dtype): only floating-point tensors change.
    const bool convert = target && IsConvertibleFloat(t.dtype);
    tensors.push_back(TensorToWrite::From(t, convert ? target : std::nullopt));
  }
  SafetensorsWriteOptions write;
  write.data_alignment = a.align;
  Progress progress("convert", ShowProgress(a.quiet));
  const ProgressFn on_progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
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
    CKPT_RETURN_IF_ERROR(WriteShardedSafetensors(a.out, std::move(tensors), c.string_metadata(), shard, on_progress));
  } else {
    CKPT_RETURN_IF_ERROR(WriteSafetensors(a.out, std::move(tensors), c.string_metadata(), write, on_progress));
  }
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace

void RegisterConvert(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Rewrite a checkpoint canonically, change float dtypes, shard or unshard");
  cmd->add_option("in", args->in, "Input checkpoint (file or shard directory)")->required();
  cmd->add_option("out", args->out, "Output file (or directory with --max-shard-size)")->required();
  cmd->add_option("--to", args->to, "Output format: safetensors (default from OUT's extension)");
  cmd->add_option("--dtype", args->dtype, "keep (default), f32, f16, bf16, f64, f8_e4m3, f8_e5m2: converts float tensors");
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
