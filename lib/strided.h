// lib/strided.h — gathering strided and byte-swapped arrays into contiguous
// little-endian rows (internal; used by the PyTorch and NumPy readers).
#ifndef CKPT_LIB_STRIDED_H_
#define CKPT_LIB_STRIDED_H_

#include <cstdint>

#include "absl/types/span.h"

namespace ckpt {

// GatherStrided
//
// Copies the elements of the view (base + offset·elsize, shape, strides in
// elements) in row-major order to `out` (element count × elsize bytes).
// When `swap_unit` is non-zero each run of swap_unit bytes is reversed
// (big-endian input; swap_unit 4 for complex64). REQUIRES: the caller has
// checked that every element of the view lies inside the source.
void GatherStrided(const uint8_t* base, uint64_t offset, absl::Span<const uint64_t> shape,
                   absl::Span<const uint64_t> strides, uint32_t elsize, uint32_t swap_unit, uint8_t* out);

}  // namespace ckpt

#endif  // CKPT_LIB_STRIDED_H_
