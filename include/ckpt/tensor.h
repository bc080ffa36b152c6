// ckpt/tensor.h — format-neutral tensor descriptions and views.
//
// Vocabulary used throughout ckpt:
//   offset — absolute byte position in a file;
//   nbytes — a length in bytes;
//   shape  — row-major dims, outermost first ([] is a scalar).
//
// Lifetime: a TensorView borrows everything it points to (name, shape, data)
// from the file object that produced it, and is valid only while that object
// lives. Nothing is copied.
#ifndef CKPT_TENSOR_H_
#define CKPT_TENSOR_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "ckpt/checked_math.h"
#include "ckpt/dtype.h"

namespace ckpt {

struct TensorView {
  std::string_view name;
  DType dtype = DType::kF32;
  absl::Span<const uint64_t> shape;
  uint64_t offset = 0;               // absolute offset of the data in its file
  absl::Span<const uint8_t> data;    // the tensor's bytes inside the mapping

  uint64_t nbytes() const { return data.size(); }
  // Element count; the readers have already checked it does not overflow.
  uint64_t num_elements() const { return CheckedProduct(shape).value_or(0); }
};

}  // namespace ckpt

#endif  // CKPT_TENSOR_H_
