// ckpt/safetensors.h — Safetensors reader and writer.
//
// File layout (all integers little-endian):
//
//   offset 0      u64 N           length of the header in bytes
//   offset 8      N bytes         UTF-8 JSON object:
//                                   "__metadata__": {str: str}   (optional)
//                                   NAME: {"dtype": "F32", "shape": [d0, ...],
//                                          "data_offsets": [begin, end]}
//   offset 8+N    data section    tensors, packed; begin/end are relative to
//                                 8+N, end exclusive; together they cover the
//                                 data section exactly, with no holes or
//                                 overlaps, and the file ends at 8+N+last end.
//
// Reading: Open() runs every structural check before returning, in the same
// order as the reference Rust crate, and accepts exactly what it accepts
// (with every sum and product checked for overflow). Once Open() succeeds,
// every tensor's bytes are known to lie inside the file and views cannot
// fail. Tensor data is never read by Open(). Strict mode also rejects the
// hazards the reference tolerates (see SafetensorsOptions).
//
// Lifetime: views borrow from the SafetensorsFile (which shares ownership of
// the mapping); they are valid while it, or a copy or move of it, lives.
//
// Writing: WriteSafetensors() produces the reference serializer's bytes
// (order by dtype rank descending then name bytes; compact JSON with
// serde_json escaping; header space-padded to a multiple of 8), streaming
// tensor data through an AtomicOutputFile.
#ifndef CKPT_SAFETENSORS_H_
#define CKPT_SAFETENSORS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/checked_math.h"
#include "ckpt/dtype.h"
#include "ckpt/mapped_file.h"
#include "ckpt/tensor.h"

namespace ckpt {

// The reference's header cap: N may be at most this.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsOptions {
  // Also reject: duplicate tensor names (the reference keeps the last),
  // duplicate __metadata__ keys, NUL bytes in names or keys, unknown fields
  // in a tensor entry, an entry written as an array, a dtype not written as
  // a plain string, and a data section not starting at a multiple of 8.
  bool strict = false;
};

class SafetensorsFile {
 public:
  // Open
  //
  // Maps `path` and validates it. Every error names the file, and where it
  // applies the byte offset and tensor; rule ids are listed in docs/rules.md
  // (safetensors.*, file.*).
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path,
                                              SafetensorsOptions options = {});

  // Open (mapped)
  //
  // Validates an already mapped file (as Open(path) does) and keeps it.
  static absl::StatusOr<SafetensorsFile> Open(MappedFile file, SafetensorsOptions options = {});

  // Parse
  //
  // Validates `bytes` (the whole file) without copying it. The result
  // borrows `bytes`, which must outlive it. Errors carry no file name.
  static absl::StatusOr<SafetensorsFile> Parse(absl::Span<const uint8_t> bytes,
                                               SafetensorsOptions options = {});

  // Tensors in data order (ascending offset), which is file order.
  size_t size() const { return tensors_.size(); }
  TensorView tensor(size_t i) const;
  // Index of the tensor named `name`, or nullopt.
  std::optional<size_t> Find(std::string_view name) const;

  // __metadata__ entries in order of first appearance (for duplicate keys the
  // last value wins, as in the reference); nullopt when absent or null.
  const std::optional<std::vector<std::pair<std::string, std::string>>>& metadata() const {
    return metadata_;
  }

  uint64_t header_nbytes() const { return header_nbytes_; }   // N
  uint64_t data_offset() const { return 8 + header_nbytes_; }  // where the data section starts
  uint64_t file_nbytes() const { return bytes_.size(); }
  absl::Span<const uint8_t> bytes() const { return bytes_; }
  // Things worth knowing that do not make the file invalid.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The path given to Open() (empty after Parse()).
  const std::string& path() const { return path_; }

 // Internal: one header entry (public only for the reader's helpers).
  struct Entry {
    std::string_view name;
    DType dtype;
    uint32_t shape_begin;   // index into shapes_
    uint32_t shape_len;
    uint64_t begin, end;    // data_offsets (relative to the data section)
    uint64_t key_offset;    // absolute offset of the entry's key in the file
  };

 private:
  friend class SafetensorsHeaderParser;

  std::string path_;
  std::optional<MappedFile> file_;          // keeps the mapping alive
  absl::Span<const uint8_t> bytes_;
  uint64_t header_nbytes_ = 0;
  std::vector<Entry> tensors_;      // header order (a repeated name keeps its first slot)
  std::vector<uint32_t> order_;     // data order: indices into tensors_
  std::vector<uint32_t> position_;  // inverse of order_
  std::vector<uint64_t> shapes_;
  // Decoded names that had JSON escapes (stable addresses for the views).
  std::vector<std::unique_ptr<std::string>> name_storage_;
  absl::flat_hash_map<absl::string_view, uint32_t> index_;  // name → index into tensors_
  std::optional<std::vector<std::pair<std::string, std::string>>> metadata_;
  std::vector<std::string> warnings_;
};

// ---- writing ---------------------------------------------------------------

// One tensor to write. `data` holds the elements as `source_dtype`; when that
// differs from `dtype` the writer converts while streaming (both must be
// convertible float types, see dtype_convert.h).
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  absl::Span<const uint8_t> data;
  DType source_dtype = DType::kF32;

  // Bytes this tensor takes in the output (as `dtype`), or nullopt when the
  // shape overflows or is not a whole number of blocks.
  std::optional<uint64_t> nbytes() const {
    const std::optional<uint64_t> n = CheckedProduct(shape);
    return n ? DTypeByteSize(dtype, *n) : std::nullopt;
  }

  // The tensor `v` (borrowing its data), written as `as` (default: its own dtype).
  static TensorToWrite From(const TensorView& v, std::optional<DType> as = std::nullopt) {
    TensorToWrite t;
    t.name = std::string(v.name);
    t.source_dtype = v.dtype;
    t.dtype = as.value_or(v.dtype);
    t.shape.assign(v.shape.begin(), v.shape.end());
    t.data = v.data;
    return t;
  }
};

using SafetensorsMetadata = std::optional<std::vector<std::pair<std::string, std::string>>>;

// Largest data alignment the writer pads to (the header is padded with
// spaces, so this bounds the padding).
inline constexpr uint64_t kMaxDataAlignment = 1 << 20;

struct SafetensorsWriteOptions {
  // The data section starts at a multiple of this (a power of two from 8 to
  // kMaxDataAlignment), by
  // padding the header with trailing spaces. 8 is the reference's layout.
  uint64_t data_alignment = 8;
};

// SafetensorsHeader
//
// The exact header bytes (without the 8-byte length) for `tensors` in the
// order given (callers use SortForSafetensors first), with metadata keys in
// the order given. Errors: safetensors.write.* (duplicate or reserved names,
// sizes that do not match shapes, header over the cap).
absl::StatusOr<std::string> SafetensorsHeader(absl::Span<const TensorToWrite> tensors,
                                              const SafetensorsMetadata& metadata,
                                              SafetensorsWriteOptions options = {});

// Sorts into the reference writer's order: dtype rank descending, then name
// (raw bytes) ascending.
void SortForSafetensors(std::vector<TensorToWrite>& tensors);

// WriteSafetensors
//
// Sorts, builds the header, and streams the tensors into `path` atomically.
// The old file at `path` is untouched on any error.
absl::Status WriteSafetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                              const SafetensorsMetadata& metadata,
                              SafetensorsWriteOptions options = {});

// Called after each tensor is written with (bytes written so far, total).
using ProgressFn = std::function<void(uint64_t, uint64_t)>;
absl::Status WriteSafetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                              const SafetensorsMetadata& metadata, SafetensorsWriteOptions options,
                              const ProgressFn& progress);

}  // namespace ckpt

#endif  // CKPT_SAFETENSORS_H_
