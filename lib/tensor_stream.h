// lib/tensor_stream.h — streams tensors from mapped inputs into an output
// file, converting or quantizing rows on all threads on the way.
//
// The one engine behind `ckpt quantize` (GGUF → GGUF) and `ckpt convert`
// from a Hugging Face directory (Safetensors/PyTorch → GGUF): each output
// tensor is a sequence of rows read from a source span (in another row order
// when `row_order` is set), turned into the target type in bounded slabs and
// appended to the file. Chunks of whole rows go to fixed places, so the
// bytes never depend on the thread count; the next slab is produced while
// the previous one is written.
#ifndef CKPT_LIB_TENSOR_STREAM_H_
#define CKPT_LIB_TENSOR_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/atomic_file.h"
#include "ckpt/dtype.h"

namespace ckpt {

struct StreamTensor {
  std::string name;          // for errors
  std::string file;          // the input file, for errors
  uint64_t file_offset = 0;  // absolute offset of `source` in `file`, for errors
  // n_rows rows of row_elems elements stored as `from`, contiguous and
  // little-endian. Empty when `gather` provides them.
  absl::Span<const uint8_t> source;
  // `source` is exactly `file`'s bytes at `file_offset` (a mapping), so a
  // plain copy can be done by the kernel (AtomicOutputFile::CopyFromFile).
  bool source_in_file = false;
  // Called once, when the tensor's turn comes, for sources that must be
  // assembled first (strided PyTorch views): fills `scratch` or returns a
  // span that lives until the next call.
  std::function<absl::StatusOr<absl::Span<const uint8_t>>(std::vector<uint8_t>* scratch)> gather;
  DType from = DType::kF32;
  DType to = DType::kF32;
  int64_t row_elems = 0;
  int64_t n_rows = 0;
  // Output row r is input row row_order[r] (empty: the same row).
  std::vector<int64_t> row_order;
  // Rows per matrix (ne1): selects the imatrix slice of stacked experts.
  int64_t rows_per_matrix = 0;
  const std::vector<float>* imatrix = nullptr;  // ne0 (× experts) weights, or null
  // llama.cpp's checks on every converted tensor, float targets included:
  // NaN/Inf input and non-finite results are errors. Block-type targets are
  // always checked; off, float → float conversions write what IEEE rounding
  // gives (as gguf-py does, overflow to ±inf included).
  bool refuse_non_finite = false;
};

// Bytes of `n` elements of `t` (whole blocks).
uint64_t RowBytes(DType t, uint64_t n);

// Output bytes of one tensor (n_rows × RowBytes(to, row_elems)).
inline uint64_t OutputBytes(const StreamTensor& t) {
  return static_cast<uint64_t>(t.n_rows) * RowBytes(t.to, static_cast<uint64_t>(t.row_elems));
}

// StreamTensors
//
// Appends each tensor's bytes as `to` to `out`, each followed by zeros up to
// a multiple of `alignment`. Float → float goes through ConvertElements;
// anything from or to a ggml block type goes through DequantizeRow then
// QuantizeRows (with the imatrix). Quantized targets (and all conversions
// with refuse_non_finite) refuse NaN/Inf input (quantize.non_finite) and
// blocks whose scale or value overflowed (quantize.scale_overflow), as
// llama.cpp does; errors name the tensor and
// the first bad row. `progress` gets the tensor index and input bytes done.
using StreamProgressFn = std::function<void(size_t tensor_index, uint64_t bytes_done, uint64_t bytes_total)>;
absl::Status StreamTensors(AtomicOutputFile& out, absl::Span<const StreamTensor> tensors, uint64_t alignment,
                           int threads, const StreamProgressFn& progress = nullptr);

// Threads to use for `requested` (0 = all cores).
int EffectiveThreads(int requested);

}  // namespace ckpt

#endif  // CKPT_LIB_TENSOR_STREAM_H_
