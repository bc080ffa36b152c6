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
#include <cmath>
#include <cstdint>
#include <cstring>

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
inline int BestIndex(float x) {
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

}  // namespace

void QuantizeIQ4_NL(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  const int64_t nblock = n_per_row / kBlock;
  for (int64_t r = 0; r < nrows; ++r) {
    for (int64_t b = 0; b < nblock; ++b) {
      QuantizeNlBlock(x + r * n_per_row + b * kBlock, qw ? qw + b * kBlock : nullptr,
                      y + (r * nblock + b) * kNlBytes);
    }
  }
}

void QuantizeIQ4_XS(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  const int64_t nblock = n_per_row / kSuper;
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
