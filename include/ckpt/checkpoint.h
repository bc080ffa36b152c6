// ckpt/checkpoint.h — any checkpoint, opened by content.
//
// Checkpoint::Open() looks at the bytes (never the extension) and opens the
// file or directory with the right reader: a Safetensors file, a directory
// of Safetensors shards with its index, a GGUF file or split set, a PyTorch
// checkpoint (zip, legacy; read without running pickle) or a NumPy .npy/.npz. It gives the format-neutral
// view the CLI needs: tensors as views, metadata as JSON, warnings.
//
// Lifetime: the tensor views borrow from the Checkpoint.
#ifndef CKPT_CHECKPOINT_H_
#define CKPT_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/mapped_file.h"
#include "ckpt/tensor.h"
#include "nlohmann/json.hpp"

namespace ckpt {

struct OpenOptions {
  bool strict = false;  // the format's strict mode (see e.g. SafetensorsOptions)
  // Refuse what ckpt can read but the format's reference reader refuses
  // (GGUF v1, big-endian GGUF, arrays of arrays); `validate` sets it.
  bool reference_compatible = false;
  // Read every byte to check stored checksums (PyTorch zip CRC-32s, which
  // torch itself never checks); `validate` sets it.
  bool verify_checksums = false;
};

class GgufFile;

class Checkpoint {
 public:
  // Open
  //
  // Errors: file.* for unreadable paths; format.unrecognized
  // (kFailedPrecondition) when the content is no known format — the message
  // says what the bytes look like (pickle, zip, Git LFS pointer, HTML, ...);
  // otherwise the format reader's own errors.
  static absl::StatusOr<Checkpoint> Open(const std::string& path, const OpenOptions& options = {});

  const std::string& path() const { return path_; }
  const std::string& format() const { return format_; }        // "safetensors", ...
  std::optional<int64_t> version() const { return version_; }
  // Format metadata as JSON (safetensors: the __metadata__ map; GGUF: every
  // KV, built on first use so opening stays proportional to the header).
  const nlohmann::ordered_json& metadata() const;
  // Extra format-specific facts for `inspect --json` (header size, shards).
  const nlohmann::ordered_json& details() const { return details_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // File holding tensor i (differs per shard in sharded checkpoints).
  const std::string& tensor_file(size_t i) const { return files_[tensor_file_[i]]; }
  size_t tensor_file_index(size_t i) const { return tensor_file_[i]; }
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Safetensors __metadata__ as pairs, for carrying into a converted file.
  const std::optional<std::vector<std::pair<std::string, std::string>>>& string_metadata() const {
    return string_metadata_;
  }
  // GGUF: the file(s) (several for a split set, metadata in the first);
  // empty for other formats.
  const std::vector<std::shared_ptr<const GgufFile>>& gguf_files() const { return gguf_files_; }

 private:
  static absl::StatusOr<Checkpoint> OpenGguf(const std::string& path, const OpenOptions& options);
  static absl::StatusOr<Checkpoint> OpenPyTorch(MappedFile file, const OpenOptions& options);
  static absl::StatusOr<Checkpoint> OpenNumpy(MappedFile file);

  std::string path_;
  std::string format_;
  std::optional<int64_t> version_;
  mutable nlohmann::ordered_json metadata_ = nlohmann::ordered_json::object();
  mutable bool metadata_built_ = true;
  nlohmann::ordered_json details_ = nlohmann::ordered_json::object();
  std::vector<TensorView> tensors_;
  std::vector<uint32_t> tensor_file_;
  std::vector<std::string> files_;
  std::vector<std::string> warnings_;
  std::optional<std::vector<std::pair<std::string, std::string>>> string_metadata_;
  std::vector<std::shared_ptr<const GgufFile>> gguf_files_;
  std::shared_ptr<const void> owner_;  // the format reader the views borrow from
};

// DescribeUnknownContent
//
// A short phrase saying what `head` (the first bytes of a file) looks like
// when it is no supported format: "a Python pickle", "a zip archive", ...
std::string DescribeUnknownContent(absl::Span<const uint8_t> head);

}  // namespace ckpt

#endif  // CKPT_CHECKPOINT_H_
