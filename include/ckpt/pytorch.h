// ckpt/pytorch.h — PyTorch checkpoints read without executing pickle.
//
// PyTorchFile::Open() reads what torch.save writes:
//   - the zip format (torch >= 1.6): <root>/data.pkl plus one stored entry
//     per storage, <root>/data/<key>, and <root>/byteorder;
//   - the legacy stacked format (< 1.6 or _use_new_zipfile_serialization=
//     False): magic, protocol and sys_info pickles, the object pickle, the
//     storage keys, then each storage as int64 numel + raw bytes;
//   - the legacy tar format (torch 0.1.x): members sys_info, storages,
//     tensors and pickle.
// The object pickle is decoded with DecodePickle() (never run) and then
// interpreted like torch.load(weights_only=True): only the globals torch's
// weights-only unpickler allows are accepted (as names), only the rebuild
// calls torch.save emits are understood, and anything else is refused with
// the global's name and the opcode offset (rule pytorch.global). Tensors are
// named by their dotted key path in the saved object ("model.layers.0.weight",
// "state.0.exp_avg"; list items by index; a tensor saved alone is named "").
//
// Every storage reference is checked: the key exists, numel × element size
// fits the storage, and each view's offset and strided extent lie inside it.
// Tensors whose bytes are contiguous, little-endian and stored uncompressed
// are zero-copy views into the mapped file; others (strided views, big-endian
// files) are gathered by TensorBytes().
//
// Lifetime: views borrow from the PyTorchFile (and its mapping).
#ifndef CKPT_PYTORCH_H_
#define CKPT_PYTORCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/mapped_file.h"
#include "nlohmann/json.hpp"

namespace ckpt {

struct TorchStorage {
  std::string key;
  DType dtype = DType::kU8;    // element type the storage was saved with
  uint64_t nbytes = 0;
  uint64_t offset = 0;         // absolute offset of the bytes in the file
  absl::Span<const uint8_t> data;
};

struct TorchTensor {
  std::string name;               // dotted key path
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;    // row-major, outermost first
  std::vector<uint64_t> strides;  // in elements (torch strides are >= 0)
  uint64_t storage_offset = 0;    // in elements of `dtype`
  uint32_t storage = 0;           // index into storages()
  bool contiguous = true;         // row-major contiguous strides
  bool parameter = false;         // wrapped in torch.nn.Parameter
};

struct PyTorchOptions {
  uint64_t max_pickle_opcodes = 1ull << 28;
  int max_depth = 256;   // nesting of the saved object
};

class ZipArchive;

class PyTorchFile {
 public:
  PyTorchFile();
  ~PyTorchFile();
  PyTorchFile(PyTorchFile&&) noexcept;
  PyTorchFile& operator=(PyTorchFile&&) noexcept;

  // Open
  //
  // Errors (with file offset where known): pytorch.container (not a torch
  // zip/legacy/tar checkpoint), pytorch.zip (the archive has issues a loader
  // must not accept: see ZipIssue), pytorch.torchscript (a TorchScript
  // archive: it holds code), pytorch.pickle (the object pickle does not
  // decode), pytorch.global (a global weights-only loading refuses),
  // pytorch.structure (a construct torch.save does not write: unknown call
  // shape, dict key that is no str/int, nesting deeper than max_depth),
  // pytorch.storage (missing key, size or element type disagreeing),
  // pytorch.view (a view outside its storage, or overflow),
  // pytorch.dtype.unsupported (a dtype ckpt has no type for: complex128,
  // quantized, bits...), pytorch.tensor.unsupported (sparse, quantized,
  // nested or meta tensors), pytorch.name.duplicate.
  static absl::StatusOr<PyTorchFile> Open(MappedFile file, const PyTorchOptions& options = {});
  // The same on bytes in memory, which must outlive the result (fuzzing,
  // archives in memory).
  static absl::StatusOr<PyTorchFile> Parse(absl::Span<const uint8_t> bytes, const PyTorchOptions& options = {});

  // "zip", "legacy" or "tar".
  const std::string& container() const { return container_; }
  bool big_endian() const { return big_endian_; }
  const std::vector<TorchTensor>& tensors() const { return tensors_; }
  const std::vector<TorchStorage>& storages() const { return storages_; }
  // Non-tensor leaves of the saved object (ints, floats, strings, bools,
  // None) by dotted key path, for inspect.
  const nlohmann::ordered_json& metadata() const { return metadata_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  absl::Span<const uint8_t> bytes() const { return bytes_; }

  // True when tensor i's bytes are a plain view of the file.
  bool IsZeroCopy(size_t i) const;
  // Absolute file offset of tensor i's first byte.
  uint64_t TensorOffset(size_t i) const;
  // The contiguous little-endian row-major bytes of tensor i: a view into
  // the file when IsZeroCopy(i), otherwise gathered into `*scratch`.
  absl::Span<const uint8_t> TensorBytes(size_t i, std::vector<uint8_t>* scratch) const;

  // VerifyData
  //
  // Zip checkpoints: checks the CRC-32 of every entry (reads every byte;
  // torch itself never checks them). zip.crc names the entry. Legacy files
  // have no checksums: OK.
  absl::Status VerifyData() const;

 private:
  friend class PyTorchLoader;
  std::optional<MappedFile> file_;  // Open() keeps the mapping alive
  absl::Span<const uint8_t> bytes_;
  std::string path_;
  std::string container_;
  bool big_endian_ = false;
  std::vector<TorchTensor> tensors_;
  std::vector<TorchStorage> storages_;
  nlohmann::ordered_json metadata_ = nlohmann::ordered_json::object();
  std::vector<std::string> warnings_;
  // Inflated storages of deflated zip entries (torch never writes them, but
  // zip tools may recompress a checkpoint).
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;
  std::unique_ptr<ZipArchive> zip_;  // zip checkpoints
};

// True when `head` starts like a torch checkpoint this reader may open: a
// zip archive, the legacy magic pickle, or a tar archive.
bool LooksLikePyTorch(absl::Span<const uint8_t> head);

}  // namespace ckpt

#endif  // CKPT_PYTORCH_H_
