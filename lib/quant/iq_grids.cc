// lib/quant/iq_grids.cc — decoding of ggml's lattice ("i-quant") formats
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S and IQ1_M, with the results of
// ggml's dequantize_row_* (ggml 0.18.1) bit for bit.
//
// Every 256-element super-block stores an f16 scale (IQ1_M spreads it over the
// top nibbles of its four 16-bit scale words) and, per group of 8 (IQ2, IQ1) or
// 4 (IQ3) elements, an index into a fixed grid of small non-negative (IQ2,
// IQ3) or ternary (IQ1) magnitudes. IQ2/IQ3 carry explicit sign bits; for
// IQ2_XXS, IQ2_XS and IQ3_XXS they are 7-bit codes whose 8th sign is the
// parity (kIq2Signs). Float expressions keep ggml's evaluation order: the
// block scale is formed first and then multiplied by the grid magnitude, then
// by ±1.
#include <cstdint>
#include <cstring>

#include "lib/quant/common.h"
#include "lib/quant/kernels.h"

namespace ckpt::quant {
namespace {

#include "lib/quant/iq_grids.inc"

constexpr int kQK = 256;
constexpr float kIq1Delta = 0.125f;  // IQ1S_DELTA == IQ1M_DELTA

// Byte j (element j) of a packed grid entry; little-endian order as ggml
// reads the tables through a byte pointer on x86.
inline uint8_t GridByte(uint64_t g, int j) { return static_cast<uint8_t>(g >> (8 * j)); }
inline int8_t GridSByte(uint64_t g, int j) { return static_cast<int8_t>(static_cast<uint8_t>(g >> (8 * j))); }

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline float Sign(uint8_t signs, int j) { return (signs & kIq2SignMask[j]) ? -1.f : 1.f; }

// Eight elements: (db · magnitude) · ±1.
inline void EmitSigned8(float db, uint64_t grid, uint8_t signs, float* y) {
  for (int j = 0; j < 8; ++j) y[j] = db * static_cast<float>(GridByte(grid, j)) * Sign(signs, j);
}

}  // namespace

// block_iq2_xxs (66 bytes): d; 8 × (4 grid bytes, u32 of 4 × 7-bit sign codes
// + 4-bit scale in the top bits).
void DequantizeIQ2_XXS(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 66;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const uint8_t* grid_idx = qs + 8 * ib;
      const uint32_t aux = LoadU32(qs + 8 * ib + 4);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        EmitSigned8(db, kIq2xxsGrid[grid_idx[l]], kIq2Signs[(aux >> (7 * l)) & 127], y);
        y += 8;
      }
    }
  }
}

// block_iq2_xs (74 bytes): d; u16 qs[32] (9-bit grid index | 7-bit sign
// code << 9); scales[8] (two 4-bit scales per 32 elements).
void DequantizeIQ2_XS(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 74;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    const uint8_t* scales = x + 2 + 64;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      float db[2];
      db[0] = d * (0.5f + static_cast<float>(scales[ib] & 0xf)) * 0.25f;
      db[1] = d * (0.5f + static_cast<float>(scales[ib] >> 4)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint16_t q = LoadU16(qs + 2 * (4 * ib + l));
        EmitSigned8(db[l / 2], kIq2xsGrid[q & 511], kIq2Signs[q >> 9], y);
        y += 8;
      }
    }
  }
}

// block_iq2_s (82 bytes): d; qs[64] (32 low grid-index bytes, then 32 sign
// bytes); qh[8] (2 high index bits per group); scales[8].
void DequantizeIQ2_S(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 82;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    const uint8_t* signs = qs + kQK / 8;
    const uint8_t* qh = x + 2 + 64;
    const uint8_t* scales = qh + 8;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      float db[2];
      db[0] = d * (0.5f + static_cast<float>(scales[ib] & 0xf)) * 0.25f;
      db[1] = d * (0.5f + static_cast<float>(scales[ib] >> 4)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const int idx = qs[l] | ((qh[ib] << (8 - 2 * l)) & 0x300);
        EmitSigned8(db[l / 2], kIq2sGrid[idx], signs[l], y);
        y += 8;
      }
      qs += 4;
      signs += 4;
    }
  }
}

// block_iq3_xxs (98 bytes): d; qs[64] grid indices (4 elements each); then 8
// u32 words of 4 × 7-bit sign codes + 4-bit scale.
void DequantizeIQ3_XXS(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 98;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    const uint8_t* scales_and_signs = qs + kQK / 4;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const uint32_t aux = LoadU32(scales_and_signs + 4 * ib);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kIq2Signs[(aux >> (7 * l)) & 127];
        const uint32_t g1 = kIq3xxsGrid[qs[2 * l + 0]];
        const uint32_t g2 = kIq3xxsGrid[qs[2 * l + 1]];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db * static_cast<float>(GridByte(g1, j)) * Sign(signs, j + 0);
          y[j + 4] = db * static_cast<float>(GridByte(g2, j)) * Sign(signs, j + 4);
        }
        y += 8;
      }
      qs += 8;
    }
  }
}

// block_iq3_s (110 bytes): d; qs[64] low index bytes; qh[8] (9th index bit per
// 4-group); signs[32]; scales[4] (two 4-bit odd scales 1 + 2s per 64).
void DequantizeIQ3_S(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 110;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    const uint8_t* qh = x + 2 + 64;
    const uint8_t* signs = qh + 8;
    const uint8_t* scales = signs + 32;
    for (int ib = 0; ib < kQK / 32; ib += 2) {
      const float dbs[2] = {d * static_cast<float>(1 + 2 * (scales[ib / 2] & 0xf)),
                            d * static_cast<float>(1 + 2 * (scales[ib / 2] >> 4))};
      for (int half = 0; half < 2; ++half) {
        const float db = dbs[half];
        const int h = qh[half];
        for (int l = 0; l < 4; ++l) {
          const uint32_t g1 = kIq3sGrid[qs[2 * l + 0] | ((h << (8 - 2 * l)) & 256)];
          const uint32_t g2 = kIq3sGrid[qs[2 * l + 1] | ((h << (7 - 2 * l)) & 256)];
          for (int j = 0; j < 4; ++j) {
            y[j + 0] = db * static_cast<float>(GridByte(g1, j)) * Sign(signs[l], j + 0);
            y[j + 4] = db * static_cast<float>(GridByte(g2, j)) * Sign(signs[l], j + 4);
          }
          y += 8;
        }
        qs += 8;
        signs += 4;
      }
      qh += 2;
    }
  }
}

// block_iq1_s (50 bytes): d; qs[32] low index bytes; u16 qh[8]: 4 × 3 high
// index bits, a 3-bit scale (2s + 1) at bit 12 and the delta sign at bit 15.
void DequantizeIQ1_S(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 50;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const float d = LoadHalf(x);
    const uint8_t* qs = x + 2;
    const uint8_t* qh = x + 2 + 32;
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const uint16_t h = LoadU16(qh + 2 * ib);
      const float dl = d * static_cast<float>(2 * ((h >> 12) & 7) + 1);
      const float delta = (h & 0x8000) ? -kIq1Delta : kIq1Delta;
      for (int l = 0; l < 4; ++l) {
        const uint64_t g = kIq1sGrid[qs[l] | (((h >> (3 * l)) & 7) << 8)];
        for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(GridSByte(g, j)) + delta);
        y += 8;
      }
      qs += 4;
    }
  }
}

// block_iq1_m (56 bytes): qs[32]; qh[16] (3 high index bits + delta sign per
// 8-group, two groups a byte); scales[8] as 4 u16 words: two 3-bit scales per
// 32 elements in bits 0..11, and the f16 super-scale in the four top nibbles.
void DequantizeIQ1_M(const uint8_t* x, float* y, int64_t n) {
  constexpr int kBytes = 56;
  for (int64_t i = 0; i < n / kQK; ++i, x += kBytes) {
    const uint8_t* qs = x;
    const uint8_t* qh = x + 32;
    uint16_t sc[4];
    for (int k = 0; k < 4; ++k) sc[k] = LoadU16(x + 48 + 2 * k);
    const uint16_t d_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                                  ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = FloatFromHalf(d_bits);
    for (int ib = 0; ib < kQK / 32; ++ib) {
      const float dl1 = d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1);
      const float dl2 = d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
      const int idx[4] = {qs[0] | ((qh[0] << 8) & 0x700), qs[1] | ((qh[0] << 4) & 0x700),
                          qs[2] | ((qh[1] << 8) & 0x700), qs[3] | ((qh[1] << 4) & 0x700)};
      const float delta[4] = {(qh[0] & 0x08) ? -kIq1Delta : kIq1Delta, (qh[0] & 0x80) ? -kIq1Delta : kIq1Delta,
                              (qh[1] & 0x08) ? -kIq1Delta : kIq1Delta, (qh[1] & 0x80) ? -kIq1Delta : kIq1Delta};
      for (int l = 0; l < 4; ++l) {
        const float dl = l < 2 ? dl1 : dl2;
        const uint64_t g = kIq1sGrid[idx[l]];
        for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(GridSByte(g, j)) + delta[l]);
        y += 8;
      }
      qs += 4;
      qh += 2;
    }
  }
}

}  // namespace ckpt::quant
