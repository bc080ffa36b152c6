// lib/quant/kquants.cc — Q2_K..Q6_K (and Q8_K decoding) as ggml's
// quantize_q<n>_K runs them: the `_ref` row code over all rows without an
// imatrix, the imatrix-weighted `_impl` row code per row with one.
// Super-blocks hold 256 elements; every field is written at its byte offset.
#include <algorithm>
#include <cstring>

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

constexpr int kQK = 256;

// Block sizes and field offsets (ggml-common.h).
constexpr size_t kQ2Bytes = 84;    // scales[16] @0, qs[64] @16, d @80, dmin @82
constexpr size_t kQ3Bytes = 110;   // hmask[32] @0, qs[64] @32, scales[12] @96, d @108
constexpr size_t kQ4Bytes = 144;   // d @0, dmin @2, scales[12] @4, qs[128] @16
constexpr size_t kQ5Bytes = 176;   // d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48
constexpr size_t kQ6Bytes = 210;   // ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208
constexpr size_t kQ8KBytes = 292;  // f32 d @0, int8 qs[256] @4, int16 bsums[16] @260

// ---- shared pieces -------------------------------------------------------------

// 2-bit levels of 128-element halves: byte l = L[l] | L[l+32]<<2 | L[l+64]<<4 | L[l+96]<<6.
inline void Pack2Bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Q4_K/Q5_K 6-bit scales and mins of 8 sub-blocks into 12 bytes. The inputs
// are full bytes (ggml's uint8_t), so out-of-range values spill like ggml's.
inline void PackScaleMinK4(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] = static_cast<uint8_t>(s[j - 4] | ((ls[j] >> 4) << 6));
      s[j] = static_cast<uint8_t>(s[j] | ((lm[j] >> 4) << 6));
    }
  }
}

// get_scale_min_k4.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q4_K/Q5_K requantization with the f16-decoded scales: sub-blocks whose
// d·sc is zero keep the search's levels.
inline void RequantizeK4(const float* x, const uint8_t* block, int nmax, uint8_t* L) {
  const float d_all = LoadHalf(block), dmin_all = LoadHalf(block + 2);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    ScaleMinK4(j, block + 4, &sc, &m);
    const float d = d_all * static_cast<float>(sc);
    if (d == 0) continue;
    const float dm = dmin_all * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = static_cast<uint8_t>(std::clamp(NearestInt((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

inline void PackQ4KLevels(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK; j += 64, qs += 32) {
    for (int l = 0; l < 32; ++l) qs[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

inline void PackQ5KLevels(const uint8_t* L, uint8_t* qh, uint8_t* ql) {
  std::memset(qh, 0, 32);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kQK; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j];
      if (l1 > 15) {
        l1 -= 16;
        qh[j] |= m1;
      }
      int l2 = L[n + j + 32];
      if (l2 > 15) {
        l2 -= 16;
        qh[j] |= m2;
      }
      ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    m1 = static_cast<uint8_t>(m1 << 2);
    m2 = static_cast<uint8_t>(m2 << 2);
  }
}

// Σx² over a super-block (the imatrix variants' σ²).
inline float SumSquares256(const float* x) {
  float s = 0;
  for (int l = 0; l < kQK; ++l) s += x[l] * x[l];
  return s;
}

// Q3_K scale j (6 bits, stored +32) into the 12 scale bytes (zeroed first).
inline void PutQ3Scale(uint8_t* s, int j, int l) {
  if (j < 8) {
    s[j] = static_cast<uint8_t>(l & 0xF);
  } else {
    s[j - 8] = static_cast<uint8_t>(s[j - 8] | ((l & 0xF) << 4));
  }
  l >>= 4;
  s[j % 4 + 8] = static_cast<uint8_t>(s[j % 4 + 8] | (l << (2 * (j / 4))));
}

inline int GetQ3Scale(const uint8_t* s, int j) {
  int8_t sc = static_cast<int8_t>(j < 8 ? s[j] & 0xF : s[j - 8] >> 4);
  sc = static_cast<int8_t>((sc | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
  return sc;
}

// Q3_K tail shared by both variants: requantize with the f16 scales, split
// the high bit into hmask, pack the low 2 bits. `L` holds levels 0..7.
inline void FinishQ3K(const float* x, uint8_t* y, int8_t* L) {
  const float d_all = LoadHalf(y + 108);
  for (int j = 0; j < 16; ++j) {
    const float d = d_all * static_cast<float>(GetQ3Scale(y + 96, j));
    if (d == 0) continue;
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<int8_t>(std::clamp(NearestInt(x[16 * j + ii] / d), -4, 3) + 4);
    }
  }
  // Levels are 0..7 here, so ggml's `if (L > 3) { hmask |= bit; L -= 4; }`
  // is bit 2 into hmask (element 32·b + m → bit b of hmask[m]) and L & 3;
  // branch-free, it vectorises.
  uint8_t* hmask = y;
  std::memset(hmask, 0, 32);
  for (int b = 0; b < 8; ++b) {
    for (int m = 0; m < 32; ++m) {
      const int l = L[32 * b + m];
      hmask[m] = static_cast<uint8_t>(hmask[m] | (((l >> 2) & 1) << b));
      L[32 * b + m] = static_cast<int8_t>(l & 3);
    }
  }
  Pack2Bit(reinterpret_cast<const uint8_t*>(L), y + 32);
}

// ---- Q2_K --------------------------------------------------------------------

void Q2KRef(const float* x, uint8_t* y, int64_t k) {
  uint8_t L[kQK];
  float weights[kQK], mins[16], scales[16];
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ2Bytes) {
    for (int l = 0; l < kQK; ++l) weights[l] = std::fabs(x[l]);
    MakeAsymmetricQuantsMany(16, 16, 3, x, weights, L, scales, mins, -0.5f, 0.1f, 15, /*use_mad=*/true,
                             /*x3=*/false);
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    uint8_t* sc = y;
    if (max_scale > 0) {
      const float iscale = 15.f / max_scale;
      for (int j = 0; j < 16; ++j) sc[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
      StoreHalf(y + 80, max_scale / 15.f);
    } else {
      std::memset(sc, 0, 16);
      StoreHalf(y + 80, 0.f);
    }
    if (max_min > 0) {
      const float iscale = 15.f / max_min;
      for (int j = 0; j < 16; ++j) sc[j] = static_cast<uint8_t>(sc[j] | (NearestInt(iscale * mins[j]) << 4));
      StoreHalf(y + 82, max_min / 15.f);
    } else {
      StoreHalf(y + 82, 0.f);
    }
    const float d_all = LoadHalf(y + 80), dmin_all = LoadHalf(y + 82);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j] & 0xF);
      if (d == 0) continue;
      const float dm = dmin_all * static_cast<float>(sc[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<uint8_t>(std::clamp(NearestInt((x[16 * j + ii] + dm) / d), 0, 3));
      }
    }
    Pack2Bit(L, y + 16);
  }
}

void Q2KImatrixRow(const float* x, uint8_t* y, int64_t n_per_row, const float* quant_weights) {
  uint8_t L[kQK], Ls[16], Lm[16];
  float mins[16], scales[16], sw[16], weight[kQK];
  for (int64_t i = 0; i < n_per_row / kQK; ++i, x += kQK, y += kQ2Bytes) {
    const float sigma2 = SumSquares256(x) / kQK;
    const float* qw = quant_weights + kQK * i;
    for (int l = 0; l < kQK; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[l] * x[l]);
    for (int j = 0; j < 16; ++j) {
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weight[16 * j + l];
      sw[j] = sumw;
    }
    MakeAsymmetricQuantsMany(16, 16, 3, x, weight, L, scales, mins, -0.9f, 0.05f, 36, /*use_mad=*/false,
                             /*x3=*/true);
    const float dm = MakePositiveQuants(16, 15, scales, Ls, sw);
    const float mm = MakePositiveQuants(16, 15, mins, Lm, sw);
    StoreHalf(y + 80, dm);
    StoreHalf(y + 82, mm);
    const float d_all = LoadHalf(y + 80), dmin_all = LoadHalf(y + 82);
    uint8_t* sc = y;
    for (int j = 0; j < 16; ++j) sc[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j] & 0xF);
      if (d == 0) continue;
      const float m = dmin_all * static_cast<float>(sc[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<uint8_t>(std::clamp(NearestInt((x[16 * j + ii] + m) / d), 0, 3));
      }
    }
    Pack2Bit(L, y + 16);
  }
}

// ---- Q3_K --------------------------------------------------------------------

void Q3KRef(const float* x, uint8_t* y, int64_t k) {
  int8_t L[kQK];
  float scales[16];
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ3Bytes) {
    MakeQ3QuantsMany(16, 16, 4, x, L, scales);
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    uint8_t* s = y + 96;
    std::memset(s, 0, 12);
    if (max_scale != 0) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < 16; ++j) {
        // ggml stores nearest_int into an int8_t before clamping.
        const int8_t l8 = static_cast<int8_t>(NearestInt(iscale * scales[j]));
        PutQ3Scale(s, j, std::clamp<int>(l8, -32, 31) + 32);
      }
      StoreHalf(y + 108, 1 / iscale);
    } else {
      StoreHalf(y + 108, 0.f);
    }
    FinishQ3K(x, y, L);
  }
}

void Q3KImatrixRow(const float* x, uint8_t* y, int64_t n_per_row, const float* quant_weights) {
  int8_t L[kQK], Ls[16];
  float scales[16], weight[kQK], sw[16];
  for (int64_t i = 0; i < n_per_row / kQK; ++i, x += kQK, y += kQ3Bytes) {
    const float sigma2 = 2 * SumSquares256(x) / kQK;
    const float* qw = quant_weights + kQK * i;
    for (int l = 0; l < kQK; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[l] * x[l]);
    for (int j = 0; j < 16; ++j) {
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weight[16 * j + l];
      sw[j] = sumw;
    }
    MakeSymmetricQuantsMany(16, 16, 4, x, weight, L, scales);
    uint8_t* s = y + 96;
    std::memset(s, 0, 12);
    const float d_block = MakeSymmetricQuants(16, 32, scales, Ls, 1, sw);
    for (int j = 0; j < 16; ++j) PutQ3Scale(s, j, Ls[j]);
    StoreHalf(y + 108, d_block);
    FinishQ3K(x, y, L);
  }
}

// ---- Q4_K / Q5_K ----------------------------------------------------------------

// Super-blocks whose sub-block searches are batched in one
// MakeAsymmetricQuantsMany call (8 groups of 32 each).
constexpr int kQ45Batch = 2;

inline void PackQ45KLevels(int nmax, const uint8_t* L, uint8_t* y) {
  if (nmax == 15) {
    PackQ4KLevels(L, y + 16);
  } else {
    PackQ5KLevels(L, y + 16, y + 48);
  }
}

// The `_ref` rows of Q4_K (nmax 15) and Q5_K (nmax 31): per-32 searches with
// weights av + |x|, scales and mins quantized linearly against their maxima.
template <int kNmax>
void Q45KRef(const float* x, uint8_t* y, int64_t k) {
  constexpr size_t kBytes = kNmax == 15 ? kQ4Bytes : kQ5Bytes;
  constexpr float kRmin = kNmax == 15 ? -1.f : -0.5f;
  constexpr int kNstep = kNmax == 15 ? 20 : 15;
  uint8_t L[kQ45Batch * kQK], ls[8], lm[8];
  float weights[kQ45Batch * kQK], mins[kQ45Batch * 8], scales[kQ45Batch * 8];
  const int64_t nb = k / kQK;
  for (int64_t i0 = 0; i0 < nb; i0 += kQ45Batch) {
    const int m = static_cast<int>(std::min<int64_t>(kQ45Batch, nb - i0));
    const float* xc = x + i0 * kQK;
    for (int j = 0; j < 8 * m; ++j) {
      const float* xb = xc + 32 * j;
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += xb[l] * xb[l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + std::fabs(xb[l]);
    }
    MakeAsymmetricQuantsMany(8 * m, 32, kNmax, xc, weights, L, scales, mins, kRmin, 0.1f, kNstep,
                             /*use_mad=*/false, /*x3=*/false);
    for (int b = 0; b < m; ++b) {
      const float* xs = xc + b * kQK;
      const float* sc = scales + 8 * b;
      const float* mn = mins + 8 * b;
      uint8_t* yb = y + (i0 + b) * kBytes;
      float max_scale = 0, max_min = 0;
      for (int j = 0; j < 8; ++j) {
        if (sc[j] > max_scale) max_scale = sc[j];
        if (mn[j] > max_min) max_min = mn[j];
      }
      const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
      const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
      for (int j = 0; j < 8; ++j) {
        ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * sc[j])));
        lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mn[j])));
      }
      PackScaleMinK4(ls, lm, yb + 4);
      StoreHalf(yb, max_scale / 63.f);
      StoreHalf(yb + 2, max_min / 63.f);
      RequantizeK4(xs, yb, kNmax, L + b * kQK);
      PackQ45KLevels(kNmax, L + b * kQK, yb);
    }
  }
}

template <int kNmax>
void Q45KImatrixRow(const float* x, uint8_t* y, int64_t n_per_row, const float* quant_weights) {
  constexpr size_t kBytes = kNmax == 15 ? kQ4Bytes : kQ5Bytes;
  uint8_t L[kQ45Batch * kQK], Ls[8], Lm[8];
  float weights[kQ45Batch * kQK], sw[kQ45Batch * 8], mins[kQ45Batch * 8], scales[kQ45Batch * 8];
  const int64_t nb = n_per_row / kQK;
  for (int64_t i0 = 0; i0 < nb; i0 += kQ45Batch) {
    const int m = static_cast<int>(std::min<int64_t>(kQ45Batch, nb - i0));
    const float* xc = x + i0 * kQK;
    for (int b = 0; b < m; ++b) {
      const float* xs = xc + b * kQK;
      const float* qw = quant_weights + kQK * (i0 + b);
      float* wb = weights + b * kQK;
      const float sigma2 = 2 * SumSquares256(xs) / kQK;
      for (int l = 0; l < kQK; ++l) wb[l] = qw[l] * std::sqrt(sigma2 + xs[l] * xs[l]);
      for (int j = 0; j < 8; ++j) {
        float sumw = 0;
        for (int l = 0; l < 32; ++l) sumw += wb[32 * j + l];
        sw[8 * b + j] = sumw;
      }
    }
    MakeAsymmetricQuantsMany(8 * m, 32, kNmax, xc, weights, L, scales, mins, -0.9f, 0.05f, 36, /*use_mad=*/false,
                             /*x3=*/true);
    for (int b = 0; b < m; ++b) {
      uint8_t* yb = y + (i0 + b) * kBytes;
      const float d_block = MakePositiveQuants(8, 63, scales + 8 * b, Ls, sw + 8 * b);
      const float m_block = MakePositiveQuants(8, 63, mins + 8 * b, Lm, sw + 8 * b);
      if constexpr (kNmax == 31) {  // only quantize_row_q5_K_impl clamps here
        for (int j = 0; j < 8; ++j) {
          Ls[j] = std::min<uint8_t>(63, Ls[j]);
          Lm[j] = std::min<uint8_t>(63, Lm[j]);
        }
      }
      PackScaleMinK4(Ls, Lm, yb + 4);
      StoreHalf(yb, d_block);
      StoreHalf(yb + 2, m_block);
      RequantizeK4(xc + b * kQK, yb, kNmax, L + b * kQK);
      PackQ45KLevels(kNmax, L + b * kQK, yb);
    }
  }
}

// ---- Q6_K --------------------------------------------------------------------

// quantize_row_q6_K_ref (qw null: x² weights) and _impl (raw imatrix weights).
void Q6KRow(const float* x, uint8_t* y, int64_t k, const float* quant_weights) {
  int8_t L[kQK];
  float scales[16], x2[kQK];
  for (int64_t i = 0; i < k / kQK; ++i, x += kQK, y += kQ6Bytes) {
    // make_qx_quants(…, rmse_type 1, qw): qw, or x² without an imatrix.
    const float* w = quant_weights ? quant_weights + kQK * i : x2;
    if (!quant_weights) {
      for (int l = 0; l < kQK; ++l) x2[l] = x[l] * x[l];
    }
    MakeSymmetricQuantsMany(16, 16, 32, x, w, L, scales);
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      const float scale = scales[ib];
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(y, 0, kQ6Bytes);
      continue;
    }
    const float iscale = -128.f / max_scale;
    StoreHalf(y + 208, 1 / iscale);
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    for (int ib = 0; ib < 16; ++ib) sc[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
    const float d_all = LoadHalf(y + 208);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j]);
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<int8_t>(std::clamp(NearestInt(x[16 * j + ii] / d), -32, 31) + 32);
      }
    }
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    const uint8_t* U = reinterpret_cast<const uint8_t*>(L);
    for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = U[j + l] & 0xF, q2 = U[j + l + 32] & 0xF;
        const uint8_t q3 = U[j + l + 64] & 0xF, q4 = U[j + l + 96] & 0xF;
        ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((U[j + l] >> 4) | ((U[j + l + 32] >> 4) << 2) | ((U[j + l + 64] >> 4) << 4) |
                                     ((U[j + l + 96] >> 4) << 6));
      }
    }
  }
}

// quantize_q<n>_K: one `_ref` pass over all rows without an imatrix, else the
// `_impl` row function per row.
void Dispatch(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw, size_t block_bytes,
              void (*ref)(const float*, uint8_t*, int64_t),
              void (*imatrix)(const float*, uint8_t*, int64_t, const float*)) {
  if (!qw) {
    ref(x, y, nrows * n_per_row);
    return;
  }
  const size_t row_bytes = static_cast<size_t>(n_per_row / kQK) * block_bytes;
  for (int64_t r = 0; r < nrows; ++r) imatrix(x + r * n_per_row, y + r * row_bytes, n_per_row, qw);
}

void Q6KRef(const float* x, uint8_t* y, int64_t k) { Q6KRow(x, y, k, nullptr); }

}  // namespace

void QuantizeQ2_K(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ2Bytes, Q2KRef, Q2KImatrixRow);
}
void QuantizeQ3_K(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ3Bytes, Q3KRef, Q3KImatrixRow);
}
void QuantizeQ4_K(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ4Bytes, Q45KRef<15>, Q45KImatrixRow<15>);
}
void QuantizeQ5_K(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ5Bytes, Q45KRef<31>, Q45KImatrixRow<31>);
}
void QuantizeQ6_K(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  Dispatch(x, y, nrows, n_per_row, qw, kQ6Bytes, Q6KRef, Q6KRow);
}

// ---- dequantization (dequantize_row_q<n>_K) ---------------------------------------

void DequantizeQ2_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ2Bytes) {
    const float d = LoadHalf(x + 80), min = LoadHalf(x + 82);
    const uint8_t* q = x + 16;
    int is = 0;
    for (int nn = 0; nn < kQK; nn += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = x[is++];
          const float dl = d * static_cast<float>(sc & 0xF), ml = min * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void DequantizeQ3_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ3Bytes) {
    const float d_all = LoadHalf(x + 108);
    const uint8_t* hm = x;
    const uint8_t* q = x + 32;
    int sc[16];
    for (int j = 0; j < 16; ++j) sc[j] = GetQ3Scale(x + 96, j);
    uint8_t m = 1;
    int is = 0;
    for (int nn = 0; nn < kQK; nn += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(sc[is++]);
          for (int l = 0; l < 16; ++l) {
            const int v = ((q[l + 16 * half] >> shift) & 3) - ((hm[l + 16 * half] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

void DequantizeQ4_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ4Bytes) {
    const float d = LoadHalf(x), min = LoadHalf(x + 2);
    const uint8_t* q = x + 16;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      ScaleMinK4(is, x + 4, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      ScaleMinK4(is + 1, x + 4, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void DequantizeQ5_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ5Bytes) {
    const float d = LoadHalf(x), min = LoadHalf(x + 2);
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2, ql += 32) {
      uint8_t sc, m;
      ScaleMinK4(is, x + 4, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      ScaleMinK4(is + 1, x + 4, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void DequantizeQ6_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ6Bytes) {
    const float d = LoadHalf(x + 208);
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    for (int nn = 0; nn < kQK; nn += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void DequantizeQ8_K(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQ8KBytes) {
    float d;
    std::memcpy(&d, x, sizeof d);
    for (int j = 0; j < kQK; ++j) *y++ = d * static_cast<float>(static_cast<int8_t>(x[4 + j]));
  }
}

}  // namespace ckpt::quant
