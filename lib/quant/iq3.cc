// lib/quant/iq3.cc — the IQ3_XXS and IQ3_S quantizers, giving the bytes of
// ggml 0.18.1's quantize_iq3_xxs / quantize_iq3_s bit for bit.
//
// Both formats code groups of 4 elements as one point of a lattice of 4-vectors
// with odd entries 1, 3, ..., 15 (256 points for IQ3_XXS, 512 for IQ3_S) times
// a per-32 scale, with the signs stored separately. For every 32-element
// sub-block the search tries a fan of trial scales around max/15; each trial
// rounds every group to the nearest level vector and, when that vector is not
// a lattice point, picks among the precomputed nearest lattice points the one
// with the smallest weighted error. The trial with the best weighted fit
// (Σw·x·q)²/Σw·q² wins; off-lattice groups are then re-snapped with the
// winner's refit scale. The per-32 scales finally become 4-bit codes of a
// 256-element f16 super-scale.
//
// Float expressions keep ggml's association and summation order; compile
// without FP contraction.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "lib/quant/common.h"

namespace ckpt::quant {
namespace {

#include "lib/quant/iq3_tables.inc"

constexpr int kQK = 256;
constexpr int kMaxQ = 8;           // levels 0..7, values 2l + 1
constexpr int kMapSize = 4096;     // all 4 × 3-bit level vectors
constexpr int kXxsBlockBytes = 98;   // d, 64 grid bytes, 8 × u32 signs+scale
constexpr int kSBlockBytes = 110;    // d, qs[64], qh[8], signs[32], scales[4]

// ggml's MAX(a, b): (a > b) ? a : b — NaN handling included.
inline float FMax(float a, float b) { return a > b ? a : b; }

// A lattice with, for every off-lattice level vector, the lattice points at
// the `nwant` smallest squared distances (all ties included), ordered by
// (distance, index).
struct Lattice {
  int size = 0;
  std::vector<int8_t> values;   // size × 4 entries 2l + 1
  int map[kMapSize];            // ≥ 0: lattice index; < 0: −(offset + 1) into neighbours
  std::vector<uint16_t> neighbours;  // at offset: count, then the indices

  const int8_t* Point(int idx) const { return values.data() + 4 * idx; }
  const uint16_t* NeighboursOf(int u) const { return neighbours.data() + (-map[u] - 1); }
};

Lattice BuildLattice(const uint16_t* points, int size, int nwant) {
  Lattice lat;
  lat.size = size;
  lat.values.resize(static_cast<size_t>(size) * 4);
  for (int k = 0; k < size; ++k) {
    for (int i = 0; i < 4; ++i) lat.values[4 * k + i] = static_cast<int8_t>(2 * ((points[k] >> (3 * i)) & 7) + 1);
  }
  for (int u = 0; u < kMapSize; ++u) lat.map[u] = -1;
  for (int k = 0; k < size; ++k) lat.map[points[k]] = k;

  std::vector<std::pair<int, int>> dist(static_cast<size_t>(size));  // (d², index)
  for (int u = 0; u < kMapSize; ++u) {
    if (lat.map[u] >= 0) continue;
    int pos[4];
    for (int k = 0; k < 4; ++k) pos[k] = 2 * ((u >> (3 * k)) & 7) + 1;
    for (int j = 0; j < size; ++j) {
      const int8_t* pg = lat.Point(j);
      int d2 = 0;
      for (int k = 0; k < 4; ++k) d2 += (pg[k] - pos[k]) * (pg[k] - pos[k]);
      dist[j] = {d2, j};
    }
    std::sort(dist.begin(), dist.end());  // (d², index) is a total order
    const size_t offset = lat.neighbours.size();
    lat.map[u] = -static_cast<int>(offset + 1);
    lat.neighbours.push_back(0);
    int d2 = dist[0].first;
    int nhave = 1;
    uint16_t count = 0;
    for (int j = 0; j < size; ++j) {
      if (dist[j].first > d2) {
        if (nhave == nwant) break;
        d2 = dist[j].first;
        ++nhave;
      }
      lat.neighbours.push_back(static_cast<uint16_t>(dist[j].second));
      ++count;
    }
    lat.neighbours[offset] = count;
  }
  return lat;
}

// Built once, on first use (thread-safe static initialisation).
const Lattice& Lattice256() {
  static const Lattice lat = BuildLattice(kIq3Points256, 256, 2);
  return lat;
}
const Lattice& Lattice512() {
  static const Lattice lat = BuildLattice(kIq3Points512, 512, 3);
  return lat;
}

// Among the listed neighbours of an off-lattice group, the point minimising
// Σ w·(scale·q − x)² (first one on ties); writes its levels to L.
int BestNeighbour(const Lattice& lat, const uint16_t* nb, const float* xval, const float* w, float scale,
                  int8_t* L) {
  const int count = nb[0];
  float best_d2 = FLT_MAX;
  int best = -1;
  for (int j = 1; j <= count; ++j) {
    const int8_t* pg = lat.Point(nb[j]);
    float d2 = 0;
    for (int i = 0; i < 4; ++i) {
      const float q = static_cast<float>(pg[i]);
      const float diff = scale * q - xval[i];
      d2 += w[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = nb[j];
    }
  }
  // ggml aborts here (only reachable with non-finite data); stay defined.
  if (best < 0) best = nb[1];
  const int8_t* pg = lat.Point(best);
  for (int i = 0; i < 4; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return best;
}

inline int Level(float id, float x) {
  const int l = NearestInt(0.5f * (id * x - 1));
  return std::max(0, std::min(kMaxQ - 1, l));
}

// Variant parameters of the 32-element search.
struct SearchParams {
  int nsteps;             // trial scales (15 + 0.2·is)/max for is in [−nsteps, nsteps]
  bool start_on_grid;     // initial "on lattice" flags
  bool resnap_only_off;   // the final re-snap skips groups that were on the lattice
};

// Σw·x·q and Σw·q² for q = 2L + 1, in element order.
inline void Fit(const float* weight, const float* xval, const int8_t* L, float* sumqx, float* sumq2) {
  float sx = 0, s2 = 0;
  for (int i = 0; i < 32; ++i) {
    const float w = weight[i];
    const float q = static_cast<float>(2 * L[i] + 1);
    sx += w * xval[i] * q;
    s2 += w * q * q;
  }
  *sumqx = sx;
  *sumq2 = s2;
}

// The scale search of one non-empty 32-element sub-block: levels to L (all on
// the lattice) and the returned scale (possibly negative).
float SearchSubBlock(const Lattice& lat, const SearchParams& p, const float* xval, const float* weight,
                     const float* waux, float max, int8_t* L) {
  int8_t Laux[32];
  bool on_grid[8], on_grid_aux[8];
  std::memset(L, 0, 32);  // kept when no trial fits (all weights zero)
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  for (int k = 0; k < 8; ++k) on_grid[k] = p.start_on_grid;
  for (int is = -p.nsteps; is <= p.nsteps; ++is) {
    const float id = (2 * kMaxQ - 1 + is * 0.2f) / max;
    const float this_scale = 1 / id;
    for (int k = 0; k < 8; ++k) {
      int u = 0;
      for (int i = 0; i < 4; ++i) {
        Laux[4 * k + i] = static_cast<int8_t>(Level(id, xval[4 * k + i]));
        u |= Laux[4 * k + i] << (3 * i);
      }
      on_grid_aux[k] = lat.map[u] >= 0;
      if (!on_grid_aux[k]) {
        BestNeighbour(lat, lat.NeighboursOf(u), xval + 4 * k, waux + 4 * k, this_scale, Laux + 4 * k);
      }
    }
    float sumqx, sumq2;
    Fit(weight, xval, Laux, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      std::memcpy(L, Laux, 32);
      std::memcpy(on_grid, on_grid_aux, sizeof on_grid);
    }
  }
  int n_off = 0;
  for (int k = 0; k < 8; ++k) n_off += on_grid[k] ? 0 : 1;
  if (n_off > 0 && scale > 0) {
    const float id = 1 / scale;
    for (int k = 0; k < 8; ++k) {
      if (p.resnap_only_off && on_grid[k]) continue;
      int u = 0;
      for (int i = 0; i < 4; ++i) u |= Level(id, xval[4 * k + i]) << (3 * i);
      int idx = lat.map[u];
      if (idx < 0) idx = BestNeighbour(lat, lat.NeighboursOf(u), xval + 4 * k, waux + 4 * k, scale, L + 4 * k);
      const int8_t* pg = lat.Point(idx);
      for (int i = 0; i < 4; ++i) L[4 * k + i] = static_cast<int8_t>((pg[i] - 1) / 2);
    }
    float sumqx, sumq2;
    Fit(weight, xval, L, &sumqx, &sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  return scale;
}

// Lattice index of the level vector of group k (on the lattice by construction).
inline int GridIndex(const Lattice& lat, const int8_t* L, int k) {
  int u = 0;
  for (int i = 0; i < 4; ++i) u |= L[4 * k + i] << (3 * i);
  const int idx = lat.map[u];
  return idx < 0 ? 0 : idx;  // ggml aborts on an off-lattice point; unreachable
}

// Per-element weights of one sub-block: imatrix·√(σ² + x²), or x².
inline void SubBlockWeights(const float* xb, const float* qw, float sigma2, float* weight, float* waux) {
  if (qw) {
    for (int i = 0; i < 32; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
  } else {
    for (int i = 0; i < 32; ++i) weight[i] = xb[i] * xb[i];
  }
  for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
}

inline float Sigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < kQK; ++i) sumx2 += xbl[i] * xbl[i];
  return 2 * sumx2 / kQK;
}

inline void StoreU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

// One 256-element block of IQ3_XXS: d; qs[64] lattice indices; 8 × u32 of
// four 7-bit sign codes (even parity: an odd count of negatives flips the
// least important element) and a 4-bit scale in bits 28..31.
void QuantizeBlockXxs(const Lattice& lat, const float* xbl, const float* qwbl, uint8_t* y) {
  static constexpr SearchParams kParams{15, true, true};
  uint8_t q3[96] = {};
  uint32_t scales_and_signs[8] = {};
  float scales[8];
  float weight[32], waux[32], xval[32];
  int8_t L[32];
  uint8_t block_signs[4];
  float max_scale = 0;
  const float sigma2 = Sigma2(xbl);

  for (int ib = 0; ib < kQK / 32; ++ib) {
    const float* xb = xbl + 32 * ib;
    SubBlockWeights(xb, qwbl ? qwbl + 32 * ib : nullptr, sigma2, weight, waux);
    for (int k = 0; k < 4; ++k) {
      int nflip = 0;
      uint8_t s = 0;
      for (int i = 0; i < 8; ++i) {
        const float v = xb[8 * k + i];
        if (v >= 0) {
          xval[8 * k + i] = v;
        } else {
          xval[8 * k + i] = -v;
          ++nflip;
          s |= static_cast<uint8_t>(1 << i);
        }
      }
      if (nflip % 2) {
        int imin = 0;
        float min = weight[8 * k] * xb[8 * k] * xb[8 * k];
        for (int i = 1; i < 8; ++i) {
          const float a = weight[8 * k + i] * xb[8 * k + i] * xb[8 * k + i];
          if (a < min) {
            min = a;
            imin = i;
          }
        }
        xval[8 * k + imin] = -xval[8 * k + imin];
        s ^= static_cast<uint8_t>(1 << imin);
      }
      block_signs[k] = s & 127;
    }
    float max = xval[0];
    for (int i = 1; i < 32; ++i) max = FMax(max, xval[i]);
    if (max < kGroupMaxEpsIq3Xxs) {
      scales[ib] = 0;
      continue;
    }
    float scale = SearchSubBlock(lat, kParams, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
    }
    for (int k = 0; k < 8; ++k) q3[8 * ib + k] = static_cast<uint8_t>(GridIndex(lat, L, k));
    scales_and_signs[ib] = static_cast<uint32_t>(block_signs[0]) | (static_cast<uint32_t>(block_signs[1]) << 7) |
                           (static_cast<uint32_t>(block_signs[2]) << 14) |
                           (static_cast<uint32_t>(block_signs[3]) << 21);
    scales[ib] = scale;
    max_scale = FMax(max_scale, scale);
  }

  std::memset(y, 0, kXxsBlockBytes);  // d = +0 and all-zero codes when every scale is 0
  if (!max_scale) return;
  const float d = max_scale / 31;
  StoreHalf(y, d * 1.0125f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    int l = NearestInt(0.5f * (id * scales[ib] - 1));
    l = std::max(0, std::min(15, l));
    scales_and_signs[ib] |= static_cast<uint32_t>(l) << 28;
  }
  for (int ib = 0; ib < 8; ++ib) StoreU32(q3 + 64 + 4 * ib, scales_and_signs[ib]);
  std::memcpy(y + 2, q3, 96);
}

// One 256-element block of IQ3_S: d; qs[64] low index bytes; qh[8] (bit k of
// qh[ib] = 9th index bit of group k of sub-block ib); signs[32]; scales[4]
// (two 4-bit codes). As in ggml, the qs/signs cursors advance only past
// non-empty sub-blocks, so an all-zero sub-block shifts the later ones' codes.
void QuantizeBlockS(const Lattice& lat, const float* xbl, const float* qwbl, uint8_t* y) {
  static constexpr SearchParams kParams{9, false, false};
  std::memset(y, 0, kSBlockBytes);
  uint8_t* qs = y + 2;
  uint8_t* qh = y + 2 + 64;
  uint8_t* signs = qh + 8;
  uint8_t* scale_codes = signs + 32;
  float scales[8];
  float weight[32], waux[32], xval[32];
  int8_t L[32];
  uint8_t block_signs[4];
  float max_scale = 0;
  const float sigma2 = Sigma2(xbl);

  for (int ib = 0; ib < kQK / 32; ++ib) {
    const float* xb = xbl + 32 * ib;
    SubBlockWeights(xb, qwbl ? qwbl + 32 * ib : nullptr, sigma2, weight, waux);
    for (int k = 0; k < 4; ++k) {
      uint8_t s = 0;
      for (int i = 0; i < 8; ++i) {
        const float v = xb[8 * k + i];
        if (v >= 0) {
          xval[8 * k + i] = v;
        } else {
          xval[8 * k + i] = -v;
          s |= static_cast<uint8_t>(1 << i);
        }
      }
      block_signs[k] = s;
    }
    float max = xval[0];
    for (int i = 1; i < 32; ++i) max = FMax(max, xval[i]);
    if (!max) {
      scales[ib] = 0;
      continue;
    }
    float scale = SearchSubBlock(lat, kParams, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k]);
    }
    for (int k = 0; k < 8; ++k) {
      const int idx = GridIndex(lat, L, k);
      qs[k] = static_cast<uint8_t>(idx & 255);
      qh[ib] |= static_cast<uint8_t>((idx >> 8) << k);
    }
    qs += 8;
    std::memcpy(signs, block_signs, 4);
    signs += 4;
    scales[ib] = scale;
    max_scale = FMax(max_scale, scale);
  }

  if (!max_scale) return;
  const float d = max_scale / 31;
  StoreHalf(y, d * 1.033f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 32; ib += 2) {
    int l1 = NearestInt(0.5f * (id * scales[ib + 0] - 1));
    l1 = std::max(0, std::min(15, l1));
    int l2 = NearestInt(0.5f * (id * scales[ib + 1] - 1));
    l2 = std::max(0, std::min(15, l2));
    scale_codes[ib / 2] = static_cast<uint8_t>(l1 | (l2 << 4));
  }
}

template <int kBlockBytes, void (*kBlock)(const Lattice&, const float*, const float*, uint8_t*)>
void QuantizeRows(const Lattice& lat, const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row,
                  const float* qw) {
  const int64_t nblock = n_per_row / kQK;
  for (int64_t row = 0; row < nrows; ++row) {
    const float* xr = x + row * n_per_row;
    uint8_t* yr = y + row * nblock * kBlockBytes;
    for (int64_t ibl = 0; ibl < nblock; ++ibl) {
      kBlock(lat, xr + kQK * ibl, qw ? qw + kQK * ibl : nullptr, yr + kBlockBytes * ibl);
    }
  }
}

}  // namespace

void QuantizeIQ3_XXS(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  QuantizeRows<kXxsBlockBytes, QuantizeBlockXxs>(Lattice256(), x, y, nrows, n_per_row, qw);
}

void QuantizeIQ3_S(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw) {
  QuantizeRows<kSBlockBytes, QuantizeBlockS>(Lattice512(), x, y, nrows, n_per_row, qw);
}

}  // namespace ckpt::quant
