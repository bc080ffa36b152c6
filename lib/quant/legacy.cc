// lib/quant/legacy.cc — Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (and Q8_1 decoding), as
// ggml's quantize_<t> runs them: the `_ref` row code without an imatrix, the
// imatrix-weighted searches with one (Q8_0 ignores it). Blocks hold 32
// elements; layouts are written byte by byte (little-endian f16 scales).
#include <algorithm>
#include <cstring>

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

constexpr int kQK = 32;
constexpr size_t kQ4_0Bytes = 18, kQ4_1Bytes = 20, kQ5_0Bytes = 22, kQ5_1Bytes = 24, kQ8_0Bytes = 34,
                 kQ8_1Bytes = 36;

// The signed value of largest magnitude (first one wins ties) and its |·|.
inline void SignedMax(const float* x, float* amax_out, float* max_out) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  *amax_out = amax;
  *max_out = max;
}

inline void MinMax(const float* x, float* min_out, float* max_out) {
  float min = 3.40282347e38f, max = -3.40282347e38f;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *min_out = min;
  *max_out = max;
}

// Packs 32 5-bit levels as Q5: low nibbles in qs (j | j+16 << 4), bit 4 in qh.
inline void PackQ5(const uint8_t* L, uint8_t* qh_out, uint8_t* qs) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const uint8_t a = L[j], b = L[j + 16];
    qs[j] = static_cast<uint8_t>((a & 0x0F) | ((b & 0x0F) << 4));
    qh |= ((a & 0x10u) >> 4) << j;
    qh |= ((b & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_out, &qh, sizeof qh);
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
    for (int j = 0; j < 16; ++j) {
      const float x0 = x[j] * id, x1 = x[16 + j] * id;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(TruncToInt32(x0 + 8.5f))));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(TruncToInt32(x1 + 8.5f))));
      y[2 + j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
    }
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
    for (int j = 0; j < 16; ++j) {
      const float x0 = (x[j] - min) * id, x1 = (x[16 + j] - min) * id;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(TruncToInt32(x0 + 0.5f))));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(TruncToInt32(x1 + 0.5f))));
      y[4 + j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
    }
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
    for (int j = 0; j < kQK; ++j) {
      const int q = std::min(31, static_cast<int>(static_cast<int8_t>(TruncToInt32(x[j] * id + 16.5f))));
      L[j] = static_cast<uint8_t>(q);
    }
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
    for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>(TruncToInt32((x[j] - min) * id + 0.5f));
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
    // roundf(v), exactly, for |v| < 2^23 (always, unless id overflowed):
    // truncate, then step away from zero when the dropped part is >= 0.5.
    // Unlike the libm call this vectorises.
    float v[kQK];
    bool in_range = true;
    for (int j = 0; j < kQK; ++j) {
      v[j] = x[j] * id;
      in_range &= std::fabs(v[j]) < 8388608.0f;
    }
    if (in_range) {
      for (int j = 0; j < kQK; ++j) {
        int32_t t = static_cast<int32_t>(v[j]);
        const float frac = v[j] - static_cast<float>(t);
        t += (frac >= 0.5f) - (frac <= -0.5f);
        y[2 + j] = static_cast<uint8_t>(t);
      }
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
