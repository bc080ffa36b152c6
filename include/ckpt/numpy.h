// ckpt/numpy.h — NumPy .npy and .npz files, without pickle.
//
// NumpyFile::Open() reads a .npy file (format versions 1.0, 2.0 and 3.0:
// magic, version, header length, a Python dict literal with 'descr',
// 'fortran_order' and 'shape') or a .npz archive (a zip of .npy members,
// stored or deflated; an array is named after its member without ".npy").
// The header literal is parsed by a small grammar (never evaluated). Object
// arrays ('|O': the body is a pickle) and structured dtypes are refused.
//
// Arrays in C order, little-endian, stored uncompressed are zero-copy views;
// Fortran-order or big-endian arrays are converted by TensorBytes().
#ifndef CKPT_NUMPY_H_
#define CKPT_NUMPY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/mapped_file.h"

namespace ckpt {

struct NpyArray {
  std::string name;               // "" for a lone .npy; member name in .npz
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;    // as in the header (row-major meaning)
  bool fortran_order = false;
  bool big_endian = false;        // '>' byte order (swapped on output)
  uint64_t offset = 0;            // absolute offset of the data in the file
  absl::Span<const uint8_t> data; // exactly the array's bytes
};

// The parsed header of one .npy stream (exposed for the scanner).
struct NpyHeader {
  int major = 0;
  std::string descr;              // e.g. "<f4", "|O"
  bool fortran_order = false;
  std::vector<uint64_t> shape;
  uint64_t data_offset = 0;       // offset of the body within the stream
};

// ParseNpyHeader
//
// Parses the magic, version and header dict of `bytes` (a .npy stream).
// `base` is the stream's absolute offset, for messages. Errors: numpy.magic,
// numpy.version, numpy.header (not a dict literal of the expected keys).
absl::StatusOr<NpyHeader> ParseNpyHeader(absl::Span<const uint8_t> bytes, uint64_t base = 0);

// True when `descr` names an object dtype ('|O', 'O', 'O8', '<O', 'object',
// ...): numpy.load(allow_pickle=True) unpickles such an array's body.
bool IsObjectDescr(std::string_view descr);

class NumpyFile {
 public:
  // Errors: those of ParseNpyHeader, numpy.object_array,
  // numpy.dtype.unsupported (structured, strings, datetimes, ...),
  // numpy.data (body shorter than the shape needs), numpy.zip (an .npz whose
  // archive has issues; see ZipIssue), numpy.name.duplicate.
  static absl::StatusOr<NumpyFile> Open(MappedFile file);

  const std::string& container() const { return container_; }  // "npy" | "npz"
  const std::vector<NpyArray>& arrays() const { return arrays_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  bool IsZeroCopy(size_t i) const;
  // C-order little-endian bytes of array i (a view when IsZeroCopy).
  absl::Span<const uint8_t> TensorBytes(size_t i, std::vector<uint8_t>* scratch) const;

 private:
  MappedFile file_;
  std::string container_;
  std::vector<NpyArray> arrays_;
  std::vector<std::string> warnings_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;  // inflated members
};

// True when `head` starts with the .npy magic.
bool LooksLikeNpy(absl::Span<const uint8_t> head);

}  // namespace ckpt

#endif  // CKPT_NUMPY_H_
