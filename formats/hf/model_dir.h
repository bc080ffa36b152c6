// formats/hf/model_dir.h — a Hugging Face model directory, opened and
// checked: config.json, the architecture, and every weight tensor of the
// shard set in the order convert_hf_to_gguf.py visits them.
#ifndef CKPT_FORMATS_HF_MODEL_DIR_H_
#define CKPT_FORMATS_HF_MODEL_DIR_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "formats/hf/architectures.h"
#include "nlohmann/json.hpp"

namespace ckpt {
class SafetensorsFile;
class PyTorchFile;
}  // namespace ckpt

namespace ckpt::hf {

// One weight tensor as stored. Views borrow from the ModelDir.
struct SourceTensor {
  std::string name;             // after the converter's renames (language_model. ...)
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;  // torch order, outermost first
  std::string file;             // the shard holding it
  uint64_t offset = 0;          // absolute offset of its bytes in `file`
  absl::Span<const uint8_t> data;  // contiguous little-endian bytes, or empty when `gather` is set
  // Strided or big-endian PyTorch tensors: assembles the bytes.
  std::function<absl::StatusOr<absl::Span<const uint8_t>>(std::vector<uint8_t>*)> gather;
  uint64_t num_elements() const;
};

class ModelDir {
 public:
  ~ModelDir();

  // Open
  //
  // Reads config.json (text_config merged in as the converter does), finds
  // the architecture, opens model*.safetensors (else pytorch_model*.bin)
  // and their index, and lists the tensors: shards sorted by name, tensors
  // sorted by name within a Safetensors shard (pickle order in a PyTorch
  // one), a name seen again keeping its first place. Errors: hf.config.*,
  // hf.architecture, hf.shards.*, and the shard readers' own.
  static absl::StatusOr<std::unique_ptr<ModelDir>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  const nlohmann::json& config() const { return config_; }
  // config.json exactly as read (text_config not merged), for the model card.
  const nlohmann::json& raw_config() const { return raw_config_; }
  const Architecture& arch() const { return *arch_; }
  const std::string& hf_arch() const { return hf_arch_; }
  const std::vector<SourceTensor>& tensors() const { return tensors_; }
  const std::vector<std::string>& shard_files() const { return shard_files_; }

  // The first of `fields` present in config.json (even when its value is
  // null, as the converter's find_hparam), or nullptr.
  const nlohmann::json* Field(absl::Span<const std::string_view> fields) const;
  // Field() as a non-negative integer; nullopt when absent or null. Errors
  // (hf.config.type) when present but not an integer.
  absl::StatusOr<std::optional<int64_t>> IntField(absl::Span<const std::string_view> fields) const;

 private:
  ModelDir() = default;
  absl::Status ListTensors();

  std::string dir_, config_path_, hf_arch_;
  nlohmann::json config_, raw_config_;
  const Architecture* arch_ = nullptr;
  std::vector<std::string> shard_files_;
  std::vector<std::unique_ptr<SafetensorsFile>> safetensors_;
  std::vector<std::unique_ptr<PyTorchFile>> pytorch_;
  std::vector<SourceTensor> tensors_;
};

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_MODEL_DIR_H_
