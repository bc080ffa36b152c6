// lib/quant/common.h — rounding primitives and the shared scale searches of
// ggml's quantizers (ggml-quants.c), re-implemented for bit-exact output.
//
// Every function here reproduces ggml's float operation sequence: sums run
// left to right from element 0, products keep ggml's association ((w*x)*l,
// (w*l)*l), int→float conversions happen in float, and divisions stay
// divisions. The file that includes this must be compiled without FP
// contraction (-ffp-contract=off) and without -ffast-math.
#ifndef CKPT_LIB_QUANT_COMMON_H_
#define CKPT_LIB_QUANT_COMMON_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ckpt/dtype_convert.h"

namespace ckpt::quant {

// Below these block maxima ggml treats a group as all zero (GROUP_MAX_EPS*).
inline constexpr float kGroupMaxEps = 1e-15f;
inline constexpr float kGroupMaxEpsIq3Xxs = 1e-8f;
inline constexpr float kGroupMaxEpsIq2S = 1e-8f;
inline constexpr float kGroupMaxEpsIq1M = 1e-7f;
inline constexpr float kGroupMaxEpsIq1S = 1e-12f;

// ggml's nearest_int: adds 1.5·2^23 so the FPU rounds (half to even) into the
// low mantissa bits, then reads them back. Exact for |f| <= 4194303; outside
// that range it returns the same (garbage) value ggml does.
inline int NearestInt(float f) {
  const float v = f + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// C's float→small-integer cast as GCC emits it on x86-64 (cvttss2si to int32,
// then keep the low bits): truncation toward zero, INT32_MIN when out of range
// or NaN. ggml's Q4_0..Q5_1 and Q8_0 casts go through this.
inline int32_t TruncToInt32(float f) {
  if (!(f > -2147483904.0f && f < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(f);
}

// f32→f16 as GGML_FP32_TO_FP16: IEEE round-to-nearest-even; NaN becomes
// sign | 0x7E00 (ggml drops the payload).
inline uint16_t HalfFromFloat(float f) {
  if (std::isnan(f)) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return static_cast<uint16_t>(((bits >> 16) & 0x8000u) | 0x7E00u);
  }
  return F32ToF16(f);
}
inline float FloatFromHalf(uint16_t h) { return F16ToF32(h); }

// roundf(v) — half away from zero — exactly, for |v| < 2^23
// (RoundInRange(v)): truncate, then step away from zero when the dropped
// fraction is >= 0.5 (v − trunc(v) is exact there). Branch-free, so loops of
// it vectorise, unlike the libm call; callers check RoundInRange for a whole
// block first and fall back to std::round / lroundf otherwise (NaN, ±inf and
// huge values, where the libm result is what ggml stores).
inline bool RoundInRange(float v) { return std::fabs(v) < 8388608.0f; }
inline int32_t RoundHalfAwayInRange(float v) {
  const int32_t t = static_cast<int32_t>(v);
  const float frac = v - static_cast<float>(t);
  return t + (frac >= 0.5f) - (frac <= -0.5f);
}

// Four-lane vectors (SSE2 on x86-64; GCC/Clang vector extensions elsewhere)
// for the block scans: each lane runs the scalar code's IEEE operations on
// its own element, so lanes give the scalar results.
typedef float F32x4 __attribute__((vector_size(16)));
typedef int32_t I32x4 __attribute__((vector_size(16)));
inline F32x4 LoadF32x4(const float* p) {
  F32x4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline F32x4 SplatF32x4(float f) { return F32x4{f, f, f, f}; }
inline I32x4 SplatI32x4(int32_t i) { return I32x4{i, i, i, i}; }
inline F32x4 AbsF32x4(F32x4 v) {  // fabsf lane-wise: clears the sign bit, NaNs included
  I32x4 bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= SplatI32x4(0x7fffffff);
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Little-endian 16-bit load/store at a byte address.
inline uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void StoreU16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline float LoadHalf(const uint8_t* p) { return FloatFromHalf(LoadU16(p)); }
inline void StoreHalf(uint8_t* p, float f) { StoreU16(p, HalfFromFloat(f)); }

// make_qx_quants: symmetric levels L[i] = l + nmax, l in [-nmax, nmax-1], for
// the scale that maximises (Σw·x·l)²/Σw·l² over 19 candidate iscales. Weights
// are qw when non-null, else chosen by rmse_type (1: x², 2: 1, 3: |x|,
// 4: √|x|). rmse_type 0 returns the plain 1/iscale; negative returns early
// (ggml's semantics for both). Returns the scale (0 for an all-zero group).
float MakeSymmetricQuants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);

// make_q3_quants: symmetric levels (x² weights) refined by up to 5 passes of
// coordinate descent when do_rmse; L[i] = l + nmax. Returns the scale.
float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);

// make_qkx2_quants: asymmetric levels L in [0, nmax] for x ≈ scale·L − min,
// searching nstep+1 iscales and refitting scale/min by weighted least squares;
// error is Σw|e| (use_mad) or Σw·e². Returns scale; *the_min = −min (≥ 0).
// Laux is scratch of n bytes. All searches take 1 <= n <= 256.
float MakeAsymmetricQuants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                           uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);

// make_qkx3_quants: MakeAsymmetricQuants with x² as the default weights
// (weights may be null) and max <= min as the degenerate test.
float MakeAsymmetricQuantsX3(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                             float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);

// make_qp_quants: levels L in [0, nmax] for non-negative x (the K-quant
// sub-block scales and mins) with weights quant_weights: 9 iscales, then up to
// 5 descent passes. L wraps like ggml's uint8_t stores. Returns the scale.
float MakePositiveQuants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// ---- many searches at once ---------------------------------------------------
//
// The searches above, run on `count` independent groups of n elements: group
// g reads x + g·n (and w + g·n) and writes L + g·n and out[g]. Each group's
// float operations are exactly the scalar function's, so results are
// identical; with AVX2 8 or 16 groups share vector lanes (the combinations of
// n and nmax the quantizers use), the rest run the scalar code.

// count × MakeAsymmetricQuants (x3 = false) or MakeAsymmetricQuantsX3 (x3 =
// true); w is never null.
void MakeAsymmetricQuantsMany(int count, int n, int nmax, const float* x, const float* w, uint8_t* L,
                              float* scales, float* the_mins, float rmin, float rdelta, int nstep, bool use_mad,
                              bool x3);

// count × MakeSymmetricQuants(n, nmax, x, L, 1, w) with explicit weights w.
void MakeSymmetricQuantsMany(int count, int n, int nmax, const float* x, const float* w, int8_t* L,
                             float* scales);

// count × MakeQ3Quants(n, nmax, x, L, /*do_rmse=*/true).
void MakeQ3QuantsMany(int count, int n, int nmax, const float* x, int8_t* L, float* scales);

// Which implementation the batched searches use. kAuto: AVX2 when the CPU has it,
// else the portable vector code. Every path gives the same bytes; the switch
// exists so tests can prove that.
enum class SearchPath { kAuto, kScalar, kPortableVector, kAvx2 };
void SetSearchPathForTesting(SearchPath path);
// The implementation the searches use now (kAuto resolved for this CPU);
// every kernel with a vector path (K-quants, legacy, IQ4, TQ) follows it.
SearchPath EffectivePath();
bool CpuHasAvx2();

}  // namespace ckpt::quant

#endif  // CKPT_LIB_QUANT_COMMON_H_
