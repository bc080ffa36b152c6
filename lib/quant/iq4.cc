// lib/quant/iq4.cc — IQ4_NL and IQ4_XS: 4-bit indices into the non-linear
// table kIq4Values, one f16 scale per 32 elements (IQ4_NL) or an f16
// super-scale with 6-bit block scales per 256 (IQ4_XS).
//
// Both quantizers reproduce ggml 0.18.1's quantize_iq4_nl / quantize_iq4_xs,
// i.e. the shared IQ4 block routine with a 15-point scale search (ntry = 7) —
// not quantize_row_iq4_nl_ref, which skips the search. Per 32-element block:
//   weights w = qw·√(σ² + x²) with σ² = 2·Σx²/n over the whole (super-)block,
//   or x² without an importance matrix; a block with max |x| < 1e-15 gets
//   scale 0. Start from d = max/127 (max = the signed value of largest |x|,
//   first wins), index with best_index_int8(x/d), refit d = Σwqx/Σwq²; then
//   try iscale = (t − 127)/max for t in −7..7, keeping the candidate when
//   (Σwqx)² > best·Σwq². Finally IQ4_NL stores f16(d) and re-indexes with the
//   float d; IQ4_XS quantizes the block scales to 6 bits against the
//   super-scale −max_scale/32 and re-indexes each block with its decoded
//   scale.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

// kvalues_iq4nl (ggml-common.h).
constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

constexpr int kBlock = 32;
constexpr int kSuper = 256;
constexpr int kNlBytes = 18;
constexpr int kXsBytes = 136;

// ggml's best_index_int8 over kIq4Values: the nearest table entry by binary
// search; on an exact midpoint the upper entry wins.
constexpr int BestIndex(float x) {
  if (x <= kIq4Values[0]) return 0;
  if (x >= kIq4Values[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < kIq4Values[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return x - kIq4Values[hi - 1] < kIq4Values[hi] - x ? hi - 1 : hi;
}

// Σw·q·x and Σw·q² of the block indexed with x·id, in ggml's order and
// association ((w·q)·x, (w·q)·q). Writes the indices to L when non-null.
inline void IndexAndSums(const float* xb, const float* weight, float id, uint8_t* L, float* sumqx,
                         float* sumq2) {
  float sqx = 0, sq2 = 0;
  for (int j = 0; j < kBlock; ++j) {
    const int l = BestIndex(id * xb[j]);
    if (L) L[j] = static_cast<uint8_t>(l);
    const float q = kIq4Values[l];
    const float w = weight[j];
    sqx += w * q * xb[j];
    sq2 += w * q * q;
  }
  *sumqx = sqx;
  *sumq2 = sq2;
}

// Importance weights of one 32-block (see the file comment).
inline void BlockWeights(const float* xb, const float* qw, float sigma2, float* weight) {
  if (qw) {
    for (int j = 0; j < kBlock; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
  } else {
    for (int j = 0; j < kBlock; ++j) weight[j] = xb[j] * xb[j];
  }
}

// σ² = Σx²·(2/n) over n elements, summed from element 0.
inline float Sigma2(const float* x, int n) {
  float s = 0;
  for (int j = 0; j < n; ++j) s += x[j] * x[j];
  return s * (2.f / static_cast<float>(n));
}

// The scale search of one 32-block (ntry = 7). Returns the block scale (0 when
// the block is below the 1e-15 threshold); L receives the indices of the
// initial guess (only used by callers that re-index anyway).
float SearchBlockScale(const float* xb, const float* weight, uint8_t* L) {
  float amax = 0, max = 0;
  for (int j = 0; j < kBlock; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) {
      amax = ax;
      max = xb[j];
    }
  }
  if (amax < kGroupMaxEps) return 0.f;
  constexpr int kTry = 7;
  float d = -max / static_cast<float>(kIq4Values[0]);
  float id = 1 / d;
  float sumqx, sumq2;
  IndexAndSums(xb, weight, id, L, &sumqx, &sumq2);
  d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
  float best = d * sumqx;
  for (int itry = -kTry; itry <= kTry; ++itry) {
    id = static_cast<float>(itry + kIq4Values[0]) / max;
    IndexAndSums(xb, weight, id, nullptr, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

// Packs 32 indices: byte j = L[j] | L[j+16] << 4.
inline void PackNibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[16 + j] << 4));
}

void QuantizeNlBlock(const float* x, const float* qw, uint8_t* out) {
  float weight[kBlock];
  uint8_t L[kBlock];
  BlockWeights(x, qw, Sigma2(x, kBlock), weight);
  const float d = SearchBlockScale(x, weight, L);
  StoreHalf(out, d);
  const float id = d ? 1 / d : 0.f;
  for (int j = 0; j < kBlock; ++j) L[j] = static_cast<uint8_t>(BestIndex(id * x[j]));
  PackNibbles(L, out + 2);
}

void QuantizeXsBlock(const float* x, const float* qw, uint8_t* out) {
  const float sigma2 = Sigma2(x, kSuper);
  float scales[kSuper / kBlock];
  float weight[kBlock];
  uint8_t L[kSuper];
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < kSuper / kBlock; ++ib) {
    const float* xb = x + ib * kBlock;
    BlockWeights(xb, qw ? qw + ib * kBlock : nullptr, sigma2, weight);
    scales[ib] = SearchBlockScale(xb, weight, L + ib * kBlock);
    const float abs_d = std::fabs(scales[ib]);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = scales[ib];
    }
  }
  // Note: with every block at zero, d is −0.0 and is stored as f16 0x8000.
  const float d = -max_scale / 32;
  StoreHalf(out, d);
  const float id = d ? 1 / d : 0.f;
  uint16_t scales_h = 0;
  uint8_t* scales_l = out + 4;
  std::memset(scales_l, 0, kSuper / 64);
  for (int ib = 0; ib < kSuper / kBlock; ++ib) {
    int l = NearestInt(id * scales[ib]);
    l = std::max(-32, std::min(31, l));
    const float dl = d * static_cast<float>(l);
    const float idl = dl ? 1 / dl : 0.f;
    const float* xb = x + ib * kBlock;
    uint8_t* Lb = L + ib * kBlock;
    for (int j = 0; j < kBlock; ++j) Lb[j] = static_cast<uint8_t>(BestIndex(idl * xb[j]));
    l += 32;
    scales_l[ib / 2] |= static_cast<uint8_t>((l & 0xf) << (4 * (ib % 2)));
    scales_h |= static_cast<uint16_t>((l >> 4) << (2 * ib));
  }
  StoreU16(out + 2, scales_h);
  for (int ib = 0; ib < kSuper / kBlock; ++ib) PackNibbles(L + ib * kBlock, out + 8 + 16 * ib);
}

// ---- 8 blocks at a time ------------------------------------------------------
//
// The vector path runs the scale search of 8 independent 32-blocks at once,
// one block per lane (IQ4_XS: the 8 blocks of a super-block; IQ4_NL: 8
// consecutive blocks). Every lane performs exactly the scalar float operations
// of its block in the same order (sums from element 0, the same association,
// divisions as divisions, no FMA); branches become per-lane selects. Lanes
// the scalar code would skip (max |x| < 1e-15, padding) may compute
// infinities or NaNs that are never kept.
//
// best_index_int8 becomes a count of thresholds: BestIndex is monotone in x,
// so for each pair of neighbours k, k+1 there is a smallest float T_k with
// BestIndex(T_k) > k, found below by bisection over the floats between the
// two table values with BestIndex itself (its rounded differences and its
// upper-wins rule included). Then BestIndex(x) = #{k : !(x < T_k)}
// = 15 + Σ_k [x < T_k] (masks are −1), which also maps NaN to 15 as the
// binary search does, and ±inf to 15 / 0. (The T_k come out as the exact
// midpoints −115.5, −93.5, …, 101; the count was also checked against
// BestIndex for every float with |x| < 200, ±inf and NaN.) The final
// re-indexing uses the same count.

#pragma GCC diagnostic ignored "-Wpsabi"

typedef float V8F __attribute__((vector_size(32)));
typedef int32_t V8I __attribute__((vector_size(32)));

#define CKPT_IQ4_VINLINE [[gnu::always_inline]] inline

// Floats ordered as integers (−0.0 and +0.0 both map to 0).
constexpr int64_t FloatKey(float f) {
  const int32_t b = std::bit_cast<int32_t>(f);
  return b < 0 ? -static_cast<int64_t>(b & 0x7fffffff) : static_cast<int64_t>(b);
}
constexpr float KeyFloat(int64_t k) {
  return k < 0 ? std::bit_cast<float>(static_cast<int32_t>(0x80000000u | static_cast<uint32_t>(-k)))
               : std::bit_cast<float>(static_cast<int32_t>(k));
}

struct Thresholds {
  float t[15];
};

constexpr Thresholds ComputeThresholds() {
  Thresholds th{};
  for (int k = 0; k < 15; ++k) {
    int64_t lo = FloatKey(static_cast<float>(kIq4Values[k]));   // BestIndex == k
    int64_t hi = FloatKey(static_cast<float>(kIq4Values[k + 1]));  // BestIndex == k + 1
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (BestIndex(KeyFloat(mid)) > k) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    th.t[k] = KeyFloat(hi);
  }
  return th;
}

constexpr Thresholds kThresholds = ComputeThresholds();
static_assert(kThresholds.t[0] == -115.5f && kThresholds.t[7] == -4.5f && kThresholds.t[14] == 101.0f,
              "exact midpoints go to the upper entry");

CKPT_IQ4_VINLINE V8F Splat(float f) { return V8F{f, f, f, f, f, f, f, f}; }
CKPT_IQ4_VINLINE V8I SplatI(int32_t v) { return V8I{v, v, v, v, v, v, v, v}; }
CKPT_IQ4_VINLINE V8F Select(const V8I& mask, const V8F& a, const V8F& b) { return mask ? a : b; }
CKPT_IQ4_VINLINE V8F Abs(const V8F& value) {
  V8I bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits &= SplatI(0x7fffffff);
  V8F f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
CKPT_IQ4_VINLINE V8F LoadV(const float* p) {
  V8F v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Σ_k [x < T_k] as −1 per true lane, summed as a tree; m7 receives [x < T_7]
// (i.e. index < 8).
constexpr V8F SplatC(float f) { return V8F{f, f, f, f, f, f, f, f}; }
constexpr V8F kThresholdV[15] = {
    SplatC(kThresholds.t[0]),  SplatC(kThresholds.t[1]),  SplatC(kThresholds.t[2]),  SplatC(kThresholds.t[3]),
    SplatC(kThresholds.t[4]),  SplatC(kThresholds.t[5]),  SplatC(kThresholds.t[6]),  SplatC(kThresholds.t[7]),
    SplatC(kThresholds.t[8]),  SplatC(kThresholds.t[9]),  SplatC(kThresholds.t[10]), SplatC(kThresholds.t[11]),
    SplatC(kThresholds.t[12]), SplatC(kThresholds.t[13]), SplatC(kThresholds.t[14])};

CKPT_IQ4_VINLINE V8I NegLessCount(const V8F& x, V8I* m7) {
  V8I m[15];
#pragma GCC unroll 15
  for (int k = 0; k < 15; ++k) m[k] = x < kThresholdV[k];
  *m7 = m[7];
  const V8I a = (m[0] + m[1]) + (m[2] + m[3]);
  const V8I b = (m[4] + m[5]) + (m[6] + m[7]);
  const V8I c = (m[8] + m[9]) + (m[10] + m[11]);
  const V8I d = (m[12] + m[13]) + m[14];
  return (a + b) + (c + d);
}

// BestIndex per lane.
CKPT_IQ4_VINLINE V8I IndexV(const V8F& x) {
  V8I m7;
  return SplatI(15) + NegLessCount(x, &m7);
}

// table[idx & 7] per lane (GCC's __builtin_shuffle; clang has no
// variable-index vector shuffle builtin, so it gets a lane loop).
CKPT_IQ4_VINLINE V8F PermuteV(const V8F& table, const V8I& idx) {
#if defined(__clang__)
  V8F r;
  for (int i = 0; i < 8; ++i) r[i] = table[idx[i] & 7];
  return r;
#else
  return __builtin_shuffle(table, idx);
#endif
}

// kIq4Values[BestIndex(x)] as float, per lane.
CKPT_IQ4_VINLINE V8F ValueV(const V8F& x) {
  static constexpr V8F kLo = {-127, -104, -83, -65, -49, -35, -22, -10};
  static constexpr V8F kHi = {1, 13, 25, 38, 53, 69, 89, 113};
  V8I m7;
  const V8I idx = SplatI(15) + NegLessCount(x, &m7);  // the shuffles use idx & 7
  return Select(m7, PermuteV(kLo, idx), PermuteV(kHi, idx));
}

// Σ(w·q)·x and Σ(w·q)·q per lane for the indices of x·id (see IndexAndSums).
CKPT_IQ4_VINLINE void SumsV(const V8F* x, const V8F* w, const V8F& id, V8F* sumqx, V8F* sumq2) {
  V8F sqx = Splat(0.f), sq2 = Splat(0.f);
  for (int j = 0; j < kBlock; ++j) {
    const V8F q = ValueV(id * x[j]);
    const V8F wq = w[j] * q;
    sqx += wq * x[j];
    sq2 += wq * q;
  }
  *sumqx = sqx;
  *sumq2 = sq2;
}

// SearchBlockScale for 8 blocks: x[j] and w[j] hold element j of each block.
CKPT_IQ4_VINLINE void SearchV(const V8F* x, const V8F* w, float* scales) {
  const V8F zero = Splat(0.f);
  V8F amax = zero, max = zero;
  for (int j = 0; j < kBlock; ++j) {
    const V8F ax = Abs(x[j]);
    const V8I m = ax > amax;
    amax = Select(m, ax, amax);
    max = Select(m, x[j], max);
  }
  const V8I skip = amax < Splat(kGroupMaxEps);
  V8F d = -max / Splat(static_cast<float>(kIq4Values[0]));
  V8F id = Splat(1.f) / d;
  V8F sumqx, sumq2;
  SumsV(x, w, id, &sumqx, &sumq2);
  d = Select(sumq2 > zero, sumqx / sumq2, zero);
  V8F best = d * sumqx;
  constexpr int kTry = 7;
  for (int itry = -kTry; itry <= kTry; ++itry) {
    id = Splat(static_cast<float>(itry + kIq4Values[0])) / max;
    SumsV(x, w, id, &sumqx, &sumq2);
    const V8I better = (sumq2 > zero) & (sumqx * sumqx > best * sumq2);
    const V8F dn = sumqx / sumq2;
    d = Select(better, dn, d);
    best = Select(better, dn * sumqx, best);
  }
  d = Select(skip, zero, d);
  std::memcpy(scales, &d, sizeof d);
}

// Element j of rows[l] into t[j][l] (8 rows of 32; null rows read as 0).
CKPT_IQ4_VINLINE void Transpose8(const float* const* rows, V8F* t) {
  for (int l = 0; l < 8; ++l) {
    for (int j = 0; j < kBlock; ++j) t[j][l] = rows[l] ? rows[l][j] : 0.f;
  }
}

// In-place sqrtf over n floats (n a multiple of 8); sqrtps is correctly
// rounded like sqrtss. Real calls, pointer arguments: no vector ABI involved.
[[gnu::noinline]] void SqrtArrayScalar(float* p, int n) {
  for (int i = 0; i < n; ++i) p[i] = std::sqrt(p[i]);
}
[[gnu::target("avx2"), gnu::noinline]] void SqrtArrayAvx2(float* p, int n) {
  for (int i = 0; i < n; i += 8) _mm256_storeu_ps(p + i, _mm256_sqrt_ps(_mm256_loadu_ps(p + i)));
}

// Importance weights (BlockWeights) in the transposed layout.
template <bool kAvx2>
CKPT_IQ4_VINLINE void WeightsV(const V8F* x, const V8F* qw, const V8F& sigma2, bool has_qw, V8F* w) {
  if (!has_qw) {
    for (int j = 0; j < kBlock; ++j) w[j] = x[j] * x[j];
    return;
  }
  for (int j = 0; j < kBlock; ++j) w[j] = sigma2 + x[j] * x[j];
  (kAvx2 ? SqrtArrayAvx2 : SqrtArrayScalar)(reinterpret_cast<float*>(w), 8 * kBlock);
  for (int j = 0; j < kBlock; ++j) w[j] = qw[j] * w[j];
}

// Packs BestIndex(id·xb[j]) of one 32-block into 16 bytes (PackNibbles order).
CKPT_IQ4_VINLINE void IndexBlockV(const float* xb, float id, uint8_t* qs) {
  const V8F vid = Splat(id);
  for (int h = 0; h < 2; ++h) {
    const V8I lo = IndexV(vid * LoadV(xb + 8 * h));
    const V8I hi = IndexV(vid * LoadV(xb + 16 + 8 * h));
    const V8I p = lo | (hi << 4);
    for (int l = 0; l < 8; ++l) qs[8 * h + l] = static_cast<uint8_t>(p[l]);
  }
}

// IQ4_NL blocks [0, nblocks_total) of rows of nblock blocks each, 8 at a time.
template <bool kAvx2>
CKPT_IQ4_VINLINE void QuantizeNlVecBody(const float* x, uint8_t* y, int64_t total, int64_t nblock,
                                        int64_t n_per_row, const float* qw) {
  V8F xt[kBlock], wt[kBlock], qwt[kBlock];
  for (int64_t g = 0; g < total; g += 8) {
    const int n = static_cast<int>(std::min<int64_t>(8, total - g));
    const float* xr[8];
    const float* qr[8];
    for (int l = 0; l < 8; ++l) {
      xr[l] = l < n ? x + (g + l) / nblock * n_per_row + (g + l) % nblock * kBlock : nullptr;
      qr[l] = l < n && qw ? qw + ((g + l) % nblock) * kBlock : nullptr;
    }
    Transpose8(xr, xt);
    V8F sigma2 = Splat(0.f);
    if (qw) {
      Transpose8(qr, qwt);
      for (int j = 0; j < kBlock; ++j) sigma2 += xt[j] * xt[j];
      sigma2 = sigma2 * Splat(2.f / static_cast<float>(kBlock));
    }
    WeightsV<kAvx2>(xt, qwt, sigma2, qw != nullptr, wt);
    float scales[8];
    SearchV(xt, wt, scales);
    for (int l = 0; l < n; ++l) {
      uint8_t* out = y + (g + l) * kNlBytes;
      const float d = scales[l];
      StoreHalf(out, d);
      IndexBlockV(xr[l], d ? 1 / d : 0.f, out + 2);
    }
  }
}

// IQ4_XS super-blocks [0, total) (rows of nblock super-blocks).
template <bool kAvx2>
CKPT_IQ4_VINLINE void QuantizeXsVecBody(const float* x, uint8_t* y, int64_t total, int64_t nblock,
                                        int64_t n_per_row, const float* qw) {
  V8F xt[kBlock], wt[kBlock], qwt[kBlock];
  for (int64_t g0 = 0; g0 < total; g0 += 8) {
    const int n = static_cast<int>(std::min<int64_t>(8, total - g0));
    // σ² of up to 8 super-blocks as 8 independent sequential sums.
    float sig[8] = {};
    if (qw) {
      const float* xs[8];
      for (int s = 0; s < 8; ++s) {
        const int64_t g = g0 + (s < n ? s : 0);
        xs[s] = x + g / nblock * n_per_row + g % nblock * kSuper;
      }
      V8F acc = Splat(0.f);
      for (int j = 0; j < kSuper; ++j) {
        V8F v;
        for (int s = 0; s < 8; ++s) v[s] = xs[s][j];
        acc += v * v;
      }
      acc = acc * Splat(2.f / static_cast<float>(kSuper));
      std::memcpy(sig, &acc, sizeof sig);
    }
    for (int s = 0; s < n; ++s) {
      const int64_t g = g0 + s;
      const float* xsb = x + g / nblock * n_per_row + g % nblock * kSuper;
      const float* qsb = qw ? qw + (g % nblock) * kSuper : nullptr;
      uint8_t* out = y + g * kXsBytes;
      const float* xr[8];
      for (int l = 0; l < 8; ++l) xr[l] = xsb + l * kBlock;
      Transpose8(xr, xt);
      if (qsb) {
        const float* qr[8];
        for (int l = 0; l < 8; ++l) qr[l] = qsb + l * kBlock;
        Transpose8(qr, qwt);
      }
      WeightsV<kAvx2>(xt, qwt, Splat(sig[s]), qsb != nullptr, wt);
      float scales[8];
      SearchV(xt, wt, scales);
      float max_scale = 0, amax_scale = 0;
      for (int ib = 0; ib < 8; ++ib) {
        const float abs_d = std::fabs(scales[ib]);
        if (abs_d > amax_scale) {
          amax_scale = abs_d;
          max_scale = scales[ib];
        }
      }
      const float d = -max_scale / 32;
      StoreHalf(out, d);
      const float id = d ? 1 / d : 0.f;
      uint16_t scales_h = 0;
      uint8_t* scales_l = out + 4;
      std::memset(scales_l, 0, kSuper / 64);
      for (int ib = 0; ib < 8; ++ib) {
        int l = NearestInt(id * scales[ib]);
        l = std::max(-32, std::min(31, l));
        const float dl = d * static_cast<float>(l);
        IndexBlockV(xsb + ib * kBlock, dl ? 1 / dl : 0.f, out + 8 + 16 * ib);
        l += 32;
        scales_l[ib / 2] |= static_cast<uint8_t>((l & 0xf) << (4 * (ib % 2)));
        scales_h |= static_cast<uint16_t>((l >> 4) << (2 * ib));
      }
      StoreU16(out + 2, scales_h);
    }
  }
}

void QuantizeNlPortable(const float* x, uint8_t* y, int64_t total, int64_t nblock, int64_t n_per_row,
                        const float* qw) {
  QuantizeNlVecBody<false>(x, y, total, nblock, n_per_row, qw);
}
[[gnu::target("avx2")]] void QuantizeNlAvx2(const float* x, uint8_t* y, int64_t total, int64_t nblock,
                                            int64_t n_per_row, const float* qw) {
  QuantizeNlVecBody<true>(x, y, total, nblock, n_per_row, qw);
}
void QuantizeXsPortable(const float* x, uint8_t* y, int64_t total, int64_t nblock, int64_t n_per_row,
                        const float* qw) {
  QuantizeXsVecBody<false>(x, y, total, nblock, n_per_row, qw);
}
[[gnu::target("avx2")]] void QuantizeXsAvx2(const float* x, uint8_t* y, int64_t total, int64_t nblock,
                                            int64_t n_per_row, const float* qw) {
  QuantizeXsVecBody<true>(x, y, total, nblock, n_per_row, qw);
}

}  // namespace

void QuantizeIQ4_NL(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  const int64_t nblock = n_per_row / kBlock;
  const SearchPath path = EffectivePath();
  if (path != SearchPath::kScalar && nblock > 0) {
    (path == SearchPath::kAvx2 ? QuantizeNlAvx2 : QuantizeNlPortable)(x, y, nrows * nblock, nblock, n_per_row, qw);
    return;
  }
  for (int64_t r = 0; r < nrows; ++r) {
    for (int64_t b = 0; b < nblock; ++b) {
      QuantizeNlBlock(x + r * n_per_row + b * kBlock, qw ? qw + b * kBlock : nullptr,
                      y + (r * nblock + b) * kNlBytes);
    }
  }
}

void QuantizeIQ4_XS(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  const int64_t nblock = n_per_row / kSuper;
  const SearchPath path = EffectivePath();
  if (path != SearchPath::kScalar && nblock > 0) {
    (path == SearchPath::kAvx2 ? QuantizeXsAvx2 : QuantizeXsPortable)(x, y, nrows * nblock, nblock, n_per_row, qw);
    return;
  }
  for (int64_t r = 0; r < nrows; ++r) {
    for (int64_t b = 0; b < nblock; ++b) {
      QuantizeXsBlock(x + r * n_per_row + b * kSuper, qw ? qw + b * kSuper : nullptr,
                      y + (r * nblock + b) * kXsBytes);
    }
  }
}

void DequantizeIQ4_NL(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kBlock; ++i, x += kNlBytes, y += kBlock) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(kIq4Values[qs[j] & 0xf]);
      y[j + 16] = d * static_cast<float>(kIq4Values[qs[j] >> 4]);
    }
  }
}

void DequantizeIQ4_XS(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kSuper; ++i, x += kXsBytes) {
    const float d = LoadHalf(x);
    const uint16_t scales_h = LoadU16(x + 2);
    const uint8_t* scales_l = x + 4;
    const uint8_t* qs = x + 8;
    for (int ib = 0; ib < kSuper / kBlock; ++ib) {
      const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xf) | (((scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * static_cast<float>(kIq4Values[qs[j] & 0xf]);
        y[j + 16] = dl * static_cast<float>(kIq4Values[qs[j] >> 4]);
      }
      y += 32;
      qs += 16;
    }
  }
}

}  // namespace ckpt::quant
