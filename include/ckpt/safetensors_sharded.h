// ckpt/safetensors_sharded.h — Hugging Face sharded Safetensors checkpoints.
//
// A directory with `model.safetensors.index.json`:
//   {"metadata": {"total_size": INT, ...},
//    "weight_map": {TENSOR_NAME: "model-00001-of-00003.safetensors", ...}}
// opens as one checkpoint. Open() checks that every listed shard exists and
// is a valid Safetensors file, that no shard path escapes the directory
// (absolute paths, drive letters and `..` components are refused, as
// huggingface_hub does; symlinks are followed, since the Hub cache links
// snapshots to blobs), that every tensor of every shard is listed for that
// shard, and that every listed tensor is in its shard exactly once.
//
// Writing follows huggingface_hub's greedy split and naming
// (model-00001-of-0000N.safetensors, decimal size units, a tensor larger
// than the limit gets a shard of its own) and writes the index the way
// transformers does (2-space indent, sorted keys, trailing newline).
#ifndef CKPT_SAFETENSORS_SHARDED_H_
#define CKPT_SAFETENSORS_SHARDED_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/safetensors.h"

namespace ckpt {

inline constexpr char kSafetensorsIndexName[] = "model.safetensors.index.json";

class ShardedSafetensors {
 public:
  // Open
  //
  // `path` is the directory or the index file itself. Errors name the index
  // or the shard concerned (rules safetensors.index.*, plus every
  // safetensors.* rule from the shards).
  static absl::StatusOr<ShardedSafetensors> Open(const std::string& path, SafetensorsOptions options = {});

  struct TensorRef {
    uint32_t shard;
    uint32_t index;  // within the shard
  };

  const std::string& index_path() const { return index_path_; }
  const std::vector<std::string>& shard_names() const { return shard_names_; }  // as in the index
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // All tensors: shards in file-name order, each in data order.
  const std::vector<TensorRef>& tensors() const { return tensors_; }
  TensorView tensor(size_t i) const { return shards_[tensors_[i].shard].tensor(tensors_[i].index); }
  std::optional<uint64_t> total_size() const { return total_size_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string index_path_;
  std::vector<std::string> shard_names_;
  std::vector<SafetensorsFile> shards_;
  std::vector<TensorRef> tensors_;
  std::optional<uint64_t> total_size_;
  std::vector<std::string> warnings_;
};

// ParseShardSize
//
// "5GB" → 5'000'000'000 (KB/MB/GB/TB are decimal, as in huggingface_hub;
// KiB/MiB/GiB/TiB binary; a bare number is bytes; a lower-case final "b" after
// a unit letter means bits, as in transformers). nullopt when malformed.
std::optional<uint64_t> ParseShardSize(std::string_view text);

struct ShardOptions {
  uint64_t max_shard_bytes = 5'000'000'000;  // huggingface_hub's default "5GB"
  SafetensorsWriteOptions write;
};

// PlanShards
//
// huggingface_hub's greedy split of `sizes` (in order): returns the shard
// number (0-based) of each tensor and the shard count.
std::vector<uint32_t> PlanShards(const std::vector<uint64_t>& sizes, uint64_t max_shard_bytes,
                                 uint32_t* shard_count);

// WriteShardedSafetensors
//
// Writes the shards and the index into directory `dir` (created if missing).
// With a single shard, writes `model.safetensors` and no index, as the Hub
// libraries do. Each file is written atomically; the index comes last.
absl::Status WriteShardedSafetensors(const std::string& dir, std::vector<TensorToWrite> tensors,
                                     const SafetensorsMetadata& metadata, const ShardOptions& options,
                                     const ProgressFn& progress = nullptr);

}  // namespace ckpt

#endif  // CKPT_SAFETENSORS_SHARDED_H_
