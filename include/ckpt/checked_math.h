// ckpt/checked_math.h — overflow-checked arithmetic on untrusted sizes.
//
// Every size, count and offset read from a file goes through these before it
// is used. They return nullopt instead of wrapping.
#ifndef CKPT_CHECKED_MATH_H_
#define CKPT_CHECKED_MATH_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"

namespace ckpt {

inline std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<uint64_t> CheckedMul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Product of all dims (1 for a scalar), or nullopt on overflow.
inline std::optional<uint64_t> CheckedProduct(absl::Span<const uint64_t> dims) {
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  return n;
}

// Elements of a tensor with these dims: 0 when any dim is 0, however large
// the others (GGUF/ggml semantics), else the checked product. Safetensors
// keeps CheckedProduct: its reference overflows on such shapes.
inline std::optional<uint64_t> ElementCount(absl::Span<const uint64_t> dims) {
  for (uint64_t d : dims) {
    if (d == 0) return 0;
  }
  return CheckedProduct(dims);
}

// Rounds `n` up to a multiple of `align` (a power of two), or nullopt.
inline std::optional<uint64_t> CheckedAlignUp(uint64_t n, uint64_t align) {
  std::optional<uint64_t> s = CheckedAdd(n, align - 1);
  if (!s) return std::nullopt;
  return *s & ~(align - 1);
}

}  // namespace ckpt

#endif  // CKPT_CHECKED_MATH_H_
