#include "lib/strided.h"

#include <cstring>
#include <vector>

namespace ckpt {

void GatherStrided(const uint8_t* base, uint64_t offset, absl::Span<const uint64_t> shape,
                   absl::Span<const uint64_t> strides, uint32_t elsize, uint32_t swap_unit, uint8_t* out) {
  const size_t nd = shape.size();
  uint64_t count = 1;
  for (uint64_t d : shape) count *= d;
  if (count == 0) return;
  std::vector<uint64_t> idx(nd, 0);
  uint64_t src = offset;  // element index of idx, updated incrementally
  for (uint64_t e = 0; e < count; ++e) {
    const uint8_t* from = base + src * elsize;
    if (swap_unit) {
      for (uint32_t b = 0; b < elsize; b += swap_unit) {
        for (uint32_t k = 0; k < swap_unit; ++k) out[b + k] = from[b + swap_unit - 1 - k];
      }
    } else {
      std::memcpy(out, from, elsize);
    }
    out += elsize;
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        src += strides[d];
        break;
      }
      src -= (shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
}

}  // namespace ckpt
