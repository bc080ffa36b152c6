// ckpt/dtype_convert.h — exact element conversions between float formats.
//
// Widening to F32 is exact for every source type except F64. Narrowing from
// F32 rounds to nearest, ties to even, exactly once (F8_E8M0 has its own
// rule, below). Conversions between two non-F32 types go through F32, which
// is exact on the way in, so they also round once (F64 sources round to F32
// first, as torch does).
//
// Special values. The F8 rules are those of PyTorch's c10::Float8_* types
// (c10/util/Float8_*.h, torch/headeronly/util/Float8_*.h), re-implemented:
//   - F16 (both directions bit-identical to x86 F16C): NaN keeps its sign and
//     top 10 payload bits and gets the quiet bit; widening NaN also sets the
//     quiet bit. |x| >= 65520 (rounds past 65504) and ±Inf -> ±Inf.
//   - BF16 (ggml / gguf-py): NaN -> (u >> 16) | 0x40; widening is u << 16
//     (payload untouched). Overflow -> ±Inf.
//   - F8_E5M2 (bias 15): IEEE-like. |x| >= 61440 (rounds past 57344) and ±Inf
//     -> ±Inf (0x7C / 0xFC); NaN -> 0x7F | sign.
//   - F8_E4M3 (E4M3FN, bias 7, no Inf): torch does not saturate. Anything
//     that rounds past 448, i.e. |x| > 464, and ±Inf -> NaN with the input's
//     sign (0x7F / 0xFF); NaN -> 0x7F | sign. 464 itself ties to 448 (0x7E).
//   - F8_E4M3FNUZ (bias 8) / F8_E5M2FNUZ (bias 16), no Inf, no -0: the single
//     NaN 0x80 for NaN, ±Inf and |x| >= 248 / |x| >= 61440 (rounds past 240 /
//     57344). Results that round to zero are +0 (0x00) whatever the sign.
//   - Subnormals of every type round to nearest even like normals.
//   - Widening NaNs give what torch's float conversion gives: E4M3 NaN ->
//     sign | 0x7FF00000; E5M2 as the F16 with the same top byte; FNUZ 0x80 and
//     E8M0 0xFF -> 0x7F800001.
//   - F8_E8M0 (E8M0FNU: 8 exponent bits, bias 127, no sign, zero or Inf;
//     0x00 = 2^-127, 0xFE = 2^127, 0xFF = NaN), from F32 exactly as
//     c10::detail::fp8e8m0fnu_from_fp32_value: the sign bit is ignored (-x
//     converts like x); Inf and NaN -> 0xFF; otherwise, with E the F32's
//     biased exponent and M its 23-bit mantissa, the result is E + 1 if bit
//     22 of M is set and (E > 0 or M != 0x400000), else E. For normal inputs
//     that is round to the nearest power of two with the midpoint 1.5 * 2^k
//     rounding up (away from zero), and |x| >= 1.5 * 2^127 -> 0xFF. Zero and
//     F32 subnormals: |x| <= 2^-127 -> 0x00 (so ±0 -> 2^-127, not NaN);
//     2^-127 < |x| < 2^-126 -> 0x01. It is not a floor/ceil (as MX scale
//     computations often use) and never saturates.
// Bit layouts are those of safetensors / torch (little-endian storage).
#ifndef CKPT_DTYPE_CONVERT_H_
#define CKPT_DTYPE_CONVERT_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"

namespace ckpt {

// Scalar conversions. All are exact functions of their input bits, given the
// default floating-point environment (round to nearest; FTZ/DAZ do not matter).
float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);
float BF16ToF32(uint16_t b);
uint16_t F32ToBF16(float f);
float F8E4M3ToF32(uint8_t v);
uint8_t F32ToF8E4M3(float f);
float F8E5M2ToF32(uint8_t v);
uint8_t F32ToF8E5M2(float f);
float F8E4M3FnuzToF32(uint8_t v);
uint8_t F32ToF8E4M3Fnuz(float f);
float F8E5M2FnuzToF32(uint8_t v);
uint8_t F32ToF8E5M2Fnuz(float f);
float F8E8M0ToF32(uint8_t v);
uint8_t F32ToF8E8M0(float f);

// ConvertElements
//
// Converts `n` elements stored little-endian in `src` as type `from` into
// `dst` as type `to`, with the scalar functions' results. Both types must
// satisfy IsConvertibleFloat() (the same type copies). REQUIRES:
// src.size() >= n * size(from) and dst.size() >= n * size(to), else
// kInvalidArgument [dtype.convert.buffer_size]; other types give
// kInvalidArgument [dtype.convert.unsupported]. `src` and `dst` must not
// overlap. Vectorised where the compiler can; results do not depend on the
// path taken.
absl::Status ConvertElements(DType from, absl::Span<const uint8_t> src, DType to,
                             absl::Span<uint8_t> dst, uint64_t n);

// ConvertInChunks
//
// Converts all of `src` (whole elements of `from`) to `to` a bounded chunk at
// a time (memory stays small whatever the tensor size), handing each
// converted chunk to `sink` in order; stops at the first error. `from` may
// also be a ggml block type (whole blocks), decoded with ckpt/quant.h's
// DequantizeRow then converted from F32.
//
// CanConvert(from, to): what ConvertInChunks accepts.
absl::Status ConvertInChunks(DType from, absl::Span<const uint8_t> src, DType to,
                             absl::FunctionRef<absl::Status(absl::Span<const uint8_t>)> sink);
bool CanConvert(DType from, DType to);

}  // namespace ckpt

#endif  // CKPT_DTYPE_CONVERT_H_
