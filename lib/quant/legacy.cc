// lib/quant/legacy.cc — Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (and Q8_1 decoding), as
// ggml's quantize_<t> runs them: the `_ref` row code without an imatrix, the
// imatrix-weighted searches with one (Q8_0 ignores it). Blocks hold 32
// elements; layouts are written byte by byte (little-endian f16 scales).
#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

constexpr int kQK = 32;
constexpr size_t kQ4_0Bytes = 18, kQ4_1Bytes = 20, kQ5_0Bytes = 22, kQ5_1Bytes = 24, kQ8_0Bytes = 34,
                 kQ8_1Bytes = 36;

// The signed value of largest magnitude (first one wins ties) and its |·|,
// as ggml's `if (amax < fabsf(x)) { amax = fabsf(x); max = x; }` (NaNs never
// win). Eight interleaved lanes (lane l: elements l, l+8, ...) each run that
// update, which breaks the serial chain: the largest lane amax is the block's
// (a max of non-NaN values, whatever the order), and the signed value is the
// lanes' when every lane reaching amax holds the same one; otherwise (ties of
// opposite sign across lanes) the scalar loop finds the first.
inline void SignedMax(const float* x, float* amax_out, float* max_out) {
  F32x4 a0 = SplatF32x4(0), a1 = SplatF32x4(0), m0 = SplatF32x4(0), m1 = SplatF32x4(0);
  for (int c = 0; c < kQK; c += 8) {
    const F32x4 x0 = LoadF32x4(x + c), x1 = LoadF32x4(x + c + 4);
    const F32x4 ax0 = AbsF32x4(x0), ax1 = AbsF32x4(x1);
    const I32x4 up0 = a0 < ax0, up1 = a1 < ax1;
    a0 = up0 ? ax0 : a0;
    m0 = up0 ? x0 : m0;
    a1 = up1 ? ax1 : a1;
    m1 = up1 ? x1 : m1;
  }
  const float a[8] = {a0[0], a0[1], a0[2], a0[3], a1[0], a1[1], a1[2], a1[3]};
  const float m[8] = {m0[0], m0[1], m0[2], m0[3], m1[0], m1[1], m1[2], m1[3]};
  float amax = a[0];
  for (int l = 1; l < 8; ++l) amax = amax < a[l] ? a[l] : amax;
  float max = 0;
  bool found = false, agree = true;
  for (int l = 0; l < 8; ++l) {
    if (a[l] == amax) {
      agree &= !found || m[l] == max;
      if (!found) max = m[l];
      found = true;
    }
  }
  if (!agree) {
    amax = max = 0;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
  }
  *amax_out = amax;
  *max_out = max;
}

// ggml's min/max scan (`if (x < min) min = x; if (x > max) max = x;` from
// ±FLT_MAX; NaNs never win), in eight interleaved lanes like SignedMax. The
// result is order-free except for the sign of a zero extreme (+0 and −0 tie;
// the first wins), so a zero min or max is redone by the scalar scan.
inline void MinMax(const float* x, float* min_out, float* max_out) {
  F32x4 lo0 = SplatF32x4(3.40282347e38f), lo1 = lo0, hi0 = SplatF32x4(-3.40282347e38f), hi1 = hi0;
  for (int c = 0; c < kQK; c += 8) {
    const F32x4 x0 = LoadF32x4(x + c), x1 = LoadF32x4(x + c + 4);
    lo0 = x0 < lo0 ? x0 : lo0;
    lo1 = x1 < lo1 ? x1 : lo1;
    hi0 = x0 > hi0 ? x0 : hi0;
    hi1 = x1 > hi1 ? x1 : hi1;
  }
  float min = lo0[0], max = hi0[0];
  for (int l = 1; l < 8; ++l) {
    const float lo = l < 4 ? lo0[l] : lo1[l - 4], hi = l < 4 ? hi0[l] : hi1[l - 4];
    min = lo < min ? lo : min;
    max = hi > max ? hi : max;
  }
  if (min == 0 || max == 0) {
    min = 3.40282347e38f;
    max = -3.40282347e38f;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
  }
  *min_out = min;
  *max_out = max;
}

// The levels of ggml's Q4_0..Q5_1 `_ref` rows: f = (x[j] − min)·id + bias
// (kSub; else x[j]·id + bias), cast to int as x86 does (TruncToInt32), then
// MIN(kNmax, (int8_t)·) — or, kNmax < 0, just the low byte (Q5_1's
// (uint8_t) cast). One range check per block lets the common case use plain
// casts, which vectorise.
template <bool kSub, int kNmax>
inline void TruncatedLevels(const float* x, float min, float id, float bias, uint8_t* L) {
  F32x4 f[kQK / 4];
  I32x4 ok = SplatI32x4(-1);
  for (int q = 0; q < kQK / 4; ++q) {
    const F32x4 xv = kSub ? LoadF32x4(x + 4 * q) - SplatF32x4(min) : LoadF32x4(x + 4 * q);
    f[q] = xv * SplatF32x4(id) + SplatF32x4(bias);
    ok &= (f[q] > SplatF32x4(-2147483904.0f)) & (f[q] < SplatF32x4(2147483648.0f));
  }
  if ((ok[0] & ok[1] & ok[2] & ok[3]) != 0) {
    I32x4 t[kQK / 4];
    for (int q = 0; q < kQK / 4; ++q) {
      t[q] = __builtin_convertvector(f[q], I32x4);
      if constexpr (kNmax >= 0) {
        t[q] = (t[q] << 24) >> 24;  // (int8_t)
        t[q] = t[q] > SplatI32x4(kNmax) ? SplatI32x4(kNmax) : t[q];
      }
      t[q] &= SplatI32x4(0xFF);  // the uint8_t store
    }
#if defined(__SSE2__)
    for (int h = 0; h < 2; ++h) {  // lanes 0..255: the saturating packs are exact
      const __m128i lo = _mm_packs_epi32(reinterpret_cast<__m128i>(t[4 * h]), reinterpret_cast<__m128i>(t[4 * h + 1]));
      const __m128i hi = _mm_packs_epi32(reinterpret_cast<__m128i>(t[4 * h + 2]), reinterpret_cast<__m128i>(t[4 * h + 3]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(L + 16 * h), _mm_packus_epi16(lo, hi));
    }
#else
    for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>(t[j / 4][j % 4]);
#endif
  } else {
    for (int j = 0; j < kQK; ++j) {
      const int32_t t = TruncToInt32(f[j / 4][j % 4]);
      L[j] = static_cast<uint8_t>(kNmax >= 0 ? std::min(kNmax, static_cast<int>(static_cast<int8_t>(t))) : t);
    }
  }
}

// Packs 32 5-bit levels as Q5: low nibbles in qs (j | j+16 << 4), bit 4 in qh.
inline void PackQ5(const uint8_t* L, uint8_t* qh_out, uint8_t* qs) {
  uint32_t qh = 0;
#if defined(__SSE2__)
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(L));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(L + 16));
  const __m128i low = _mm_set1_epi8(0x0F);
  // Nibbles: (b & 15) << 4 within each byte (the 16-bit shift's carry into
  // the next byte lands in bits the mask clears).
  const __m128i packed = _mm_or_si128(_mm_and_si128(a, low), _mm_slli_epi16(_mm_and_si128(b, low), 4));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), packed);
  // Bit 4 of each byte moved to bit 7, gathered by movemask.
  qh = static_cast<uint32_t>(_mm_movemask_epi8(_mm_slli_epi16(a, 3))) |
       (static_cast<uint32_t>(_mm_movemask_epi8(_mm_slli_epi16(b, 3))) << 16);
#else
  for (int j = 0; j < 16; ++j) {
    const uint8_t a = L[j], b = L[j + 16];
    qs[j] = static_cast<uint8_t>((a & 0x0F) | ((b & 0x0F) << 4));
    qh |= ((a & 0x10u) >> 4) << j;
    qh |= ((b & 0x10u) >> 4) << (j + 16);
  }
#endif
  std::memcpy(qh_out, &qh, sizeof qh);
}

// Q4 nibbles: qs[j] = L[j] | L[j+16] << 4, as uint8_t (no masking, like
// ggml's `(uint8_t)q0 | ((uint8_t)q1 << 4)`).
inline void PackQ4(const uint8_t* L, uint8_t* qs) {
#if defined(__SSE2__)
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(L));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(L + 16));
  const __m128i packed = _mm_or_si128(a, _mm_and_si128(_mm_slli_epi16(b, 4), _mm_set1_epi8(static_cast<char>(0xF0))));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), packed);
#else
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
#endif
}

// σ² of a whole row, as the imatrix variants weight by √(σ² + x²).
inline float RowSigma2(const float* x, int64_t n_per_row) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n_per_row; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n_per_row);
}

inline void ImatrixWeights(const float* xb, const float* qw, float sigma2, float* w) {
  for (int j = 0; j < kQK; ++j) w[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// ---- _ref rows -------------------------------------------------------------

void Q4_0Ref(const float* x, uint8_t* y, int64_t k) {
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ4_0Bytes) {
    float amax, max;
    SignedMax(x, &amax, &max);
    const float d = max / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    StoreHalf(y, d);
    uint8_t L[kQK];
    TruncatedLevels<false, 15>(x, 0, id, 8.5f, L);
    PackQ4(L, y + 2);
  }
}

void Q4_1Ref(const float* x, uint8_t* y, int64_t k) {
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ4_1Bytes) {
    float min, max;
    MinMax(x, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    StoreHalf(y, d);
    StoreHalf(y + 2, min);
    uint8_t L[kQK];
    TruncatedLevels<true, 15>(x, min, id, 0.5f, L);
    PackQ4(L, y + 4);
  }
}

void Q5_0Ref(const float* x, uint8_t* y, int64_t k) {
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ5_0Bytes) {
    float amax, max;
    SignedMax(x, &amax, &max);
    const float d = max / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    StoreHalf(y, d);
    uint8_t L[kQK];
    TruncatedLevels<false, 31>(x, 0, id, 16.5f, L);
    PackQ5(L, y + 2, y + 6);
  }
}

void Q5_1Ref(const float* x, uint8_t* y, int64_t k) {
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ5_1Bytes) {
    float min, max;
    MinMax(x, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    StoreHalf(y, d);
    StoreHalf(y + 2, min);
    uint8_t L[kQK];
    TruncatedLevels<true, -1>(x, min, id, 0.5f, L);  // ggml's Q5_1 has no MIN(31, ·)
    PackQ5(L, y + 4, y + 8);
  }
}

void Q8_0Ref(const float* x, uint8_t* y, int64_t k) {
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ8_0Bytes) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) {
      const float ax = std::fabs(x[j]);
      amax = amax > ax ? amax : ax;  // ggml's MAX(a, b), NaN order included
    }
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    StoreHalf(y, d);
    // roundf(v) without libm when the whole block is in range (always,
    // unless id overflowed); see RoundHalfAwayInRange.
    float v[kQK];
    bool in_range = true;
    for (int j = 0; j < kQK; ++j) {
      v[j] = x[j] * id;
      in_range &= RoundInRange(v[j]);
    }
    if (in_range) {
      for (int j = 0; j < kQK; ++j) y[2 + j] = static_cast<uint8_t>(RoundHalfAwayInRange(v[j]));
    } else {
      for (int j = 0; j < kQK; ++j) y[2 + j] = static_cast<uint8_t>(TruncToInt32(std::round(v[j])));
    }
  }
}

// ---- imatrix rows ------------------------------------------------------------

// The imatrix rows batch the searches of kBatch blocks (one
// Make*QuantsMany call); each block's result is the per-block search's.
constexpr int kBatch = 8;

// Symmetric (Q4_0: nmax 8, Q5_0: nmax 16): d = make_qx_quants(32, nmax, 1, w),
// levels used as returned.
template <int kNmax>
void SymmetricImatrixRow(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  constexpr size_t kBytes = kNmax == 8 ? kQ4_0Bytes : kQ5_0Bytes;
  const float sigma2 = RowSigma2(x, n_per_row);
  float w[kBatch * kQK], d[kBatch];
  int8_t L[kBatch * kQK];
  const int64_t nb = n_per_row / kQK;
  for (int64_t ib0 = 0; ib0 < nb; ib0 += kBatch) {
    const int m = static_cast<int>(std::min<int64_t>(kBatch, nb - ib0));
    const float* xc = x + kQK * ib0;
    for (int b = 0; b < m; ++b) ImatrixWeights(xc + kQK * b, qw + kQK * (ib0 + b), sigma2, w + kQK * b);
    MakeSymmetricQuantsMany(m, kQK, kNmax, xc, w, L, d);
    for (int b = 0; b < m; ++b) {
      uint8_t* yb = y + (ib0 + b) * kBytes;
      const int8_t* Lb = L + kQK * b;
      StoreHalf(yb, d[b]);
      if constexpr (kNmax == 8) {
        for (int j = 0; j < 16; ++j) yb[2 + j] = static_cast<uint8_t>(Lb[j] | (Lb[j + 16] << 4));
      } else {
        PackQ5(reinterpret_cast<const uint8_t*>(Lb), yb + 2, yb + 6);
      }
    }
  }
}

// Asymmetric (Q4_1: nmax 15, Q5_1: nmax 31): make_qkx3_quants(32, nmax, w,
// −0.9, 0.05, 36); d = f16(scale), m = f16(−min).
template <int kNmax>
void AsymmetricImatrixRow(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  constexpr size_t kBytes = kNmax == 15 ? kQ4_1Bytes : kQ5_1Bytes;
  const float sigma2 = RowSigma2(x, n_per_row);
  float w[kBatch * kQK], d[kBatch], min[kBatch];
  uint8_t L[kBatch * kQK];
  const int64_t nb = n_per_row / kQK;
  for (int64_t ib0 = 0; ib0 < nb; ib0 += kBatch) {
    const int m = static_cast<int>(std::min<int64_t>(kBatch, nb - ib0));
    const float* xc = x + kQK * ib0;
    for (int b = 0; b < m; ++b) ImatrixWeights(xc + kQK * b, qw + kQK * (ib0 + b), sigma2, w + kQK * b);
    MakeAsymmetricQuantsMany(m, kQK, kNmax, xc, w, L, d, min, -0.9f, 0.05f, 36, /*use_mad=*/false, /*x3=*/true);
    for (int b = 0; b < m; ++b) {
      uint8_t* yb = y + (ib0 + b) * kBytes;
      const uint8_t* Lb = L + kQK * b;
      StoreHalf(yb, d[b]);
      StoreHalf(yb + 2, -min[b]);
      if constexpr (kNmax == 15) {
        for (int j = 0; j < 16; ++j) yb[4 + j] = static_cast<uint8_t>(Lb[j] | (Lb[j + 16] << 4));
      } else {
        PackQ5(Lb, yb + 4, yb + 8);
      }
    }
  }
}

void Q4_0Imatrix(const float* x, uint8_t* y, int64_t n, const float* qw) { SymmetricImatrixRow<8>(x, y, n, qw); }
void Q5_0Imatrix(const float* x, uint8_t* y, int64_t n, const float* qw) { SymmetricImatrixRow<16>(x, y, n, qw); }
void Q4_1Imatrix(const float* x, uint8_t* y, int64_t n, const float* qw) { AsymmetricImatrixRow<15>(x, y, n, qw); }
void Q5_1Imatrix(const float* x, uint8_t* y, int64_t n, const float* qw) { AsymmetricImatrixRow<31>(x, y, n, qw); }

using RowFn = void (*)(const float*, uint8_t*, int64_t, const float*);

// quantize_<t>: one `_ref` pass over all rows without an imatrix, else the
// imatrix row function per row.
void Dispatch(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw, size_t block_bytes,
              void (*ref)(const float*, uint8_t*, int64_t), RowFn imatrix) {
  if (!qw) {
    ref(x, y, nrows * n_per_row);
    return;
  }
  const size_t row_bytes = static_cast<size_t>(n_per_row / kQK) * block_bytes;
  for (int64_t r = 0; r < nrows; ++r) imatrix(x + r * n_per_row, y + r * row_bytes, n_per_row, qw);
}

}  // namespace

void QuantizeQ4_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ4_0Bytes, Q4_0Ref, Q4_0Imatrix);
}
void QuantizeQ4_1(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ4_1Bytes, Q4_1Ref, Q4_1Imatrix);
}
void QuantizeQ5_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ5_0Bytes, Q5_0Ref, Q5_0Imatrix);
}
void QuantizeQ5_1(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ5_1Bytes, Q5_1Ref, Q5_1Imatrix);
}
void QuantizeQ8_0(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* /*qw: unused*/) {
  Q8_0Ref(x, y, nrows * n_per_row);
}

// ---- dequantization (dequantize_row_<t>) --------------------------------------

void DequantizeQ4_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ4_0Bytes, y += kQK) {
    const float d = LoadHalf(x);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((x[2 + j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((x[2 + j] >> 4) - 8) * d;
    }
  }
}

void DequantizeQ4_1(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ4_1Bytes, y += kQK) {
    const float d = LoadHalf(x), m = LoadHalf(x + 2);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(x[4 + j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(x[4 + j] >> 4) * d + m;
    }
  }
}

void DequantizeQ5_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ5_0Bytes, y += kQK) {
    const float d = LoadHalf(x);
    uint32_t qh;
    std::memcpy(&qh, x + 2, sizeof qh);
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16; ++j) {
      const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10), h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      y[j] = static_cast<float>(((qs[j] & 0x0F) | h0) - 16) * d;
      y[j + 16] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void DequantizeQ5_1(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ5_1Bytes, y += kQK) {
    const float d = LoadHalf(x), m = LoadHalf(x + 2);
    uint32_t qh;
    std::memcpy(&qh, x + 4, sizeof qh);
    const uint8_t* qs = x + 8;
    for (int j = 0; j < 16; ++j) {
      const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10), h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      y[j] = static_cast<float>((qs[j] & 0x0F) | h0) * d + m;
      y[j + 16] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
    }
  }
}

void DequantizeQ8_0(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ8_0Bytes, y += kQK) {
    const float d = LoadHalf(x);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(x[2 + j])) * d;
  }
}

// ggml has no dequantize_row_q8_1 (Q8_1 only carries activations); this is
// the obvious decoding q·d, ignoring the stored sum s (bytes 2..3).
void DequantizeQ8_1(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ8_1Bytes, y += kQK) {
    const float d = LoadHalf(x);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(x[4 + j])) * d;
  }
}

}  // namespace ckpt::quant
