// lib/quant/small.cc — the simple scale-plus-code formats: ternary TQ1_0 and
// TQ2_0, the 4-bit float formats MXFP4 (quantize and decode) and NVFP4
// (decode only), and the 1-/2-bit Q1_0 and Q2_0. All reproduce ggml 0.18.1
// (quantize_* / dequantize_row_*) bit for bit; none of them uses an
// importance matrix.
//
// Rounding follows ggml: lroundf / roundf (half away from zero) for TQ1_0,
// TQ2_0 and Q2_0 — computed exactly without libm for in-range blocks
// (RoundHalfAwayInRange), by the C library otherwise; MXFP4's shared exponent is
// floorf(log2f(amax)) from the C library, cast to uint8_t as GCC does on
// x86-64 (truncate to int32, keep the low byte).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

constexpr int kQK = 256;  // TQ1_0, TQ2_0
constexpr int kTq1Bytes = 54;   // qs[48], qh[4], d
constexpr int kTq2Bytes = 66;   // qs[64], d
constexpr int kMxfp4Block = 32;
constexpr int kMxfp4Bytes = 17;  // e, qs[16]
constexpr int kNvfp4Block = 64;
constexpr int kNvfp4Bytes = 36;  // d[4] (UE4M3), qs[32]
constexpr int kQ1Block = 128;
constexpr int kQ1Bytes = 18;  // d, qs[16]
constexpr int kQ2Block = 64;
constexpr int kQ2Bytes = 18;  // d, qs[16]

// kvalues_fp4 (ggml-common.h): e2m1 magnitudes doubled, sign in bit 3.
constexpr int8_t kFp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// amax over n elements (a multiple of 8) as ggml's MAX(amax, fabsf(v)):
// a NaN becomes amax and the next element replaces it. Without NaNs that is
// the plain maximum, which eight lanes find in any order (values are >= +0,
// so no signed-zero ties); a block with a NaN takes the scalar loop.
inline float AbsMax(const float* x, int n) {
  F32x4 m0 = SplatF32x4(0), m1 = m0;
  I32x4 nan = SplatI32x4(0);
  for (int c = 0; c < n; c += 8) {
    const F32x4 a0 = AbsF32x4(LoadF32x4(x + c)), a1 = AbsF32x4(LoadF32x4(x + c + 4));
    nan |= (a0 != a0) | (a1 != a1);
    m0 = m0 > a0 ? m0 : a0;
    m1 = m1 > a1 ? m1 : a1;
  }
  if ((nan[0] | nan[1] | nan[2] | nan[3]) != 0) {
    float amax = 0.0f;
    for (int j = 0; j < n; ++j) {
      const float a = std::fabs(x[j]);
      amax = amax > a ? amax : a;
    }
    return amax;
  }
  m0 = m0 > m1 ? m0 : m1;
  const float lo = m0[0] > m0[1] ? m0[0] : m0[1], hi = m0[2] > m0[3] ? m0[2] : m0[3];
  return lo > hi ? lo : hi;
}

// amax as Q2_0's `if (a > amax) amax = a`, which skips NaNs: the maximum of
// the other values, in any order (eight lanes).
inline float AbsMaxSkippingNan(const float* x, int n) {
  F32x4 m0 = SplatF32x4(0), m1 = m0;
  for (int c = 0; c < n; c += 8) {
    const F32x4 a0 = AbsF32x4(LoadF32x4(x + c)), a1 = AbsF32x4(LoadF32x4(x + c + 4));
    m0 = a0 > m0 ? a0 : m0;
    m1 = a1 > m1 ? a1 : m1;
  }
  m0 = m1 > m0 ? m1 : m0;
  const float lo = m0[1] > m0[0] ? m0[1] : m0[0], hi = m0[3] > m0[2] ? m0[3] : m0[2];
  return hi > lo ? hi : lo;
}

// Ternary digits of a TQ block, t[j] = lroundf(x[j]·id) + 1 (lroundf's result
// narrowed to int as ggml does), kept mod 256 — all the packing uses. In
// range (always, unless id is infinite or x holds NaN / ±inf) the exact
// branch-free roundf replaces the libm call, so the loop vectorises.
inline void Trits(const float* x, float id, uint8_t* t) {
  float v[kQK];
  bool in_range = true;
  for (int j = 0; j < kQK; ++j) {
    v[j] = x[j] * id;
    in_range &= RoundInRange(v[j]);
  }
  if (in_range) {
    for (int j = 0; j < kQK; ++j) t[j] = static_cast<uint8_t>(RoundHalfAwayInRange(v[j]) + 1);
  } else {
    for (int j = 0; j < kQK; ++j) t[j] = static_cast<uint8_t>(static_cast<int>(::lroundf(v[j])) + 1);
  }
}

// Base-3 packing of TQ1_0: trits combined most significant first in a
// uint8_t (wrapping like ggml's), then the ceiling of v·256/243.
inline uint8_t PackTrits(uint8_t v) { return static_cast<uint8_t>((static_cast<uint16_t>(v) * 256 + 242) / 243); }

// 2^(e−128) — half of the E8M0 value, as ggml_e8m0_to_fp32_half (the fp4
// tables are doubled). e < 2 gives the subnormals 2^-128 and 2^-127.
inline float E8M0Half(uint8_t e) {
  const uint32_t bits = e < 2 ? (UINT32_C(0x00200000) << e) : (static_cast<uint32_t>(e - 1) << 23);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// UE4M3 scale times 0.5, as ggml_ue4m3_to_fp32: bit 7 is ignored; 0x00 and
// 0x7F decode to 0.
inline float Ue4m3Half(uint8_t x) {
  if (x == 0 || x == 0x7F) return 0.0f;
  const int exp = (x >> 3) & 0xF;
  const int man = x & 0x7;
  float raw;
  if (exp == 0) {
    raw = std::ldexp(static_cast<float>(man), -9);
  } else {
    raw = std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
  }
  return raw * 0.5f;
}

// best_index_mxfp4: the first index minimising |k_i·d − x|.
inline int BestFp4Index(float x, float d) {
  int best = 0;
  float best_err = std::fabs(static_cast<float>(kFp4Values[0]) * d - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(static_cast<float>(kFp4Values[i]) * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

void QuantizeTq1Block(const float* x, uint8_t* out) {
  const float d = AbsMax(x, kQK);
  const float id = d ? 1.0f / d : 0.0f;
  uint8_t t[kQK];
  Trits(x, id, t);
  uint8_t* qs = out;
  uint8_t* qh = out + 48;
  // Bytes 0..31: elements m + 32n (n = 0..4).
  for (int m = 0; m < 32; ++m) {
    uint8_t q = 0;
    for (int n = 0; n < 5; ++n) q = static_cast<uint8_t>(q * 3 + t[m + 32 * n]);
    qs[m] = PackTrits(q);
  }
  // Bytes 32..47: elements 160 + m + 16n.
  for (int m = 0; m < 16; ++m) {
    uint8_t q = 0;
    for (int n = 0; n < 5; ++n) q = static_cast<uint8_t>(q * 3 + t[160 + m + 16 * n]);
    qs[32 + m] = PackTrits(q);
  }
  // qh: 4 trits at stride 4 from element 240 + j, shifted up by one trit.
  for (int j = 0; j < 4; ++j) {
    uint8_t q = 0;
    for (int m = 0; m < 4; ++m) q = static_cast<uint8_t>(q * 3 + t[240 + j + 4 * m]);
    q = static_cast<uint8_t>(q * 3);
    qh[j] = PackTrits(q);
  }
  StoreHalf(out + 52, d);
}

void QuantizeTq2Block(const float* x, uint8_t* out) {
  const float d = AbsMax(x, kQK);
  const float id = d ? 1.0f / d : 0.0f;
  uint8_t t[kQK];
  Trits(x, id, t);
  for (int j = 0; j < 64; j += 32) {
    for (int m = 0; m < 32; ++m) {
      uint8_t q = 0;
      for (int n = 0; n < 4; ++n) q = static_cast<uint8_t>(q + ((t[4 * j + m + 32 * n] & 3) << (2 * n)));
      out[j + m] = q;
    }
  }
  StoreHalf(out + 64, d);
}

void QuantizeMxfp4Block(const float* x, uint8_t* out) {
  float amax = 0.0f;
  for (int j = 0; j < kMxfp4Block; ++j) {
    if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
  }
  const uint8_t e =
      amax > 0.0f ? static_cast<uint8_t>(TruncToInt32(std::floor(::log2f(amax)) - 2 + 127)) : uint8_t{0};
  const float d = E8M0Half(e);
  out[0] = e;
  for (int j = 0; j < kMxfp4Block / 2; ++j) {
    const int x0 = BestFp4Index(x[j], d);
    const int x1 = BestFp4Index(x[kMxfp4Block / 2 + j], d);
    out[1 + j] = static_cast<uint8_t>(x0 | (x1 << 4));
  }
}

void QuantizeQ1Block(const float* x, uint8_t* out) {
  float sum_abs = 0.0f;
  for (int j = 0; j < kQ1Block; ++j) sum_abs += std::fabs(x[j]);
  StoreHalf(out, sum_abs / static_cast<float>(kQ1Block));
  uint8_t* qs = out + 2;
  std::memset(qs, 0, kQ1Block / 8);
  for (int j = 0; j < kQ1Block; ++j) {
    if (x[j] >= 0.0f) qs[j / 8] |= static_cast<uint8_t>(1 << (j % 8));
  }
}

void QuantizeQ2Block(const float* x, uint8_t* out) {
  const float d = AbsMaxSkippingNan(x, kQ2Block);
  const float id = d > 0.0f ? 1.0f / d : 0.0f;
  StoreHalf(out, d);
  // q = roundf(x·id) + 1 clamped to 0..3, the exact branch-free roundf in
  // range (see Trits), libm's otherwise.
  float v[kQ2Block];
  bool in_range = true;
  for (int j = 0; j < kQ2Block; ++j) {
    v[j] = x[j] * id;
    in_range &= RoundInRange(v[j]);
  }
  int q[kQ2Block];
  if (in_range) {
    for (int j = 0; j < kQ2Block; ++j) q[j] = RoundHalfAwayInRange(v[j]) + 1;
  } else {
    for (int j = 0; j < kQ2Block; ++j) q[j] = TruncToInt32(std::round(v[j])) + 1;
  }
  uint8_t* qs = out + 2;
  for (int b = 0; b < kQ2Block / 4; ++b) {
    uint8_t byte = 0;
    for (int k = 0; k < 4; ++k) byte = static_cast<uint8_t>(byte | (std::clamp(q[4 * b + k], 0, 3) << (2 * k)));
    qs[b] = byte;
  }
}

// Runs `block` over every block of nrows × n_per_row (rows are contiguous, so
// the blocks are too).
template <typename Fn>
void ForEachBlock(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, int block, int bytes, Fn fn) {
  const int64_t nb = nrows * (n_per_row / block);
  for (int64_t i = 0; i < nb; ++i) fn(x + i * block, y + i * bytes);
}

}  // namespace

void QuantizeTQ1_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw*/) {
  ForEachBlock(x, y, nrows, n_per_row, kQK, kTq1Bytes, QuantizeTq1Block);
}

void QuantizeTQ2_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw*/) {
  ForEachBlock(x, y, nrows, n_per_row, kQK, kTq2Bytes, QuantizeTq2Block);
}

void QuantizeMXFP4(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw*/) {
  ForEachBlock(x, y, nrows, n_per_row, kMxfp4Block, kMxfp4Bytes, QuantizeMxfp4Block);
}

void QuantizeQ1_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw*/) {
  ForEachBlock(x, y, nrows, n_per_row, kQ1Block, kQ1Bytes, QuantizeQ1Block);
}

void QuantizeQ2_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw*/) {
  ForEachBlock(x, y, nrows, n_per_row, kQ2Block, kQ2Bytes, QuantizeQ2Block);
}

void DequantizeTQ1_0(const uint8_t* x, float* y, int64_t n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  // Trit n of a packed byte: rotate it to the top by multiplying by 3^n
  // (mod 256), then take ⌊3·q/256⌋.
  auto trit = [](uint8_t b, int k) {
    const uint8_t q = static_cast<uint8_t>(b * kPow3[k]);
    return static_cast<int16_t>((static_cast<uint16_t>(q) * 3) >> 8);
  };
  for (int64_t i = 0; i < n / kQK; ++i, x += kTq1Bytes) {
    const float d = LoadHalf(x + 52);
    for (int k = 0; k < 5; ++k) {
      for (int m = 0; m < 32; ++m) *y++ = static_cast<float>(trit(x[m], k) - 1) * d;
    }
    for (int k = 0; k < 5; ++k) {
      for (int m = 0; m < 16; ++m) *y++ = static_cast<float>(trit(x[32 + m], k) - 1) * d;
    }
    for (int k = 0; k < 4; ++k) {
      for (int j = 0; j < 4; ++j) *y++ = static_cast<float>(trit(x[48 + j], k) - 1) * d;
    }
  }
}

void DequantizeTQ2_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kTq2Bytes) {
    const float d = LoadHalf(x + 64);
    for (int j = 0; j < 64; j += 32) {
      for (int l = 0; l < 4; ++l) {
        for (int m = 0; m < 32; ++m) {
          const int q = (x[j + m] >> (2 * l)) & 3;
          *y++ = static_cast<float>(q - 1) * d;
        }
      }
    }
  }
}

void DequantizeMXFP4(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kMxfp4Block; ++i, x += kMxfp4Bytes, y += kMxfp4Block) {
    const float d = E8M0Half(x[0]);
    for (int j = 0; j < kMxfp4Block / 2; ++j) {
      y[j] = static_cast<float>(kFp4Values[x[1 + j] & 0x0F]) * d;
      y[j + kMxfp4Block / 2] = static_cast<float>(kFp4Values[x[1 + j] >> 4]) * d;
    }
  }
}

void DequantizeNVFP4(const uint8_t* x, float* y, int64_t n) {
  constexpr int kSub = 16;
  for (int64_t i = 0; i < n / kNvfp4Block; ++i, x += kNvfp4Bytes) {
    for (int s = 0; s < kNvfp4Block / kSub; ++s, y += kSub) {
      const float d = Ue4m3Half(x[s]);
      const uint8_t* qs = x + 4 + s * (kSub / 2);
      for (int j = 0; j < kSub / 2; ++j) {
        y[j] = static_cast<float>(kFp4Values[qs[j] & 0x0F]) * d;
        y[j + kSub / 2] = static_cast<float>(kFp4Values[qs[j] >> 4]) * d;
      }
    }
  }
}

void DequantizeQ1_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQ1Block; ++i, x += kQ1Bytes, y += kQ1Block) {
    const float d = LoadHalf(x);
    const float neg_d = -d;
    for (int j = 0; j < kQ1Block; ++j) y[j] = ((x[2 + j / 8] >> (j % 8)) & 1) ? d : neg_d;
  }
}

void DequantizeQ2_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQ2Block; ++i, x += kQ2Bytes, y += kQ2Block) {
    const float d = LoadHalf(x);
    for (int j = 0; j < kQ2Block; ++j) {
      const int q = (x[2 + j / 4] >> (2 * (j % 4))) & 0x03;
      y[j] = static_cast<float>(q - 1) * d;
    }
  }
}

}  // namespace ckpt::quant
