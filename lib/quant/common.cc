// lib/quant/common.cc — the shared scale searches (see common.h). Each loop
// keeps ggml's float operation order; weights that ggml recomputes inside a
// loop are computed once here, which gives the same values.
#include "lib/quant/common.h"

#include <algorithm>

namespace ckpt::quant {

namespace {

// Weight of element `xi` when a symmetric search has no explicit weights.
inline float DefaultSymmetricWeight(int rmse_type, float xi) {
  switch (rmse_type) {
    case 1: return xi * xi;
    case 2: return 1.0f;
    case 3: return std::fabs(xi);
    default: return std::sqrt(std::fabs(xi));
  }
}

inline int ClampSym(int l, int nmax) { return std::max(-nmax, std::min(nmax - 1, l)); }
inline int ClampPos(int l, int nmax) { return std::max(0, std::min(nmax, l)); }

}  // namespace

float MakeSymmetricQuants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  if (rmse_type == 0) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + ClampSym(NearestInt(iscale * x[i]), nmax));
    return 1 / iscale;
  }
  bool return_early = false;
  if (rmse_type < 0) {
    rmse_type = -rmse_type;
    return_early = true;
  }
  float wbuf[256];
  const float* w = qw;
  if (!w) {
    for (int i = 0; i < n; ++i) wbuf[i] = DefaultSymmetricWeight(rmse_type, x[i]);
    w = wbuf;
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampSym(NearestInt(iscale * x[i]), nmax);
    L[i] = static_cast<int8_t>(l + nmax);
    const float fl = static_cast<float>(l);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
  float best = scale * sumlx;
  int8_t trial[256];
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = ClampSym(NearestInt(iscale * x[i]), nmax);
      trial[i] = static_cast<int8_t>(l + nmax);
      const float fl = static_cast<float>(l);
      sumlx += w[i] * x[i] * fl;
      suml2 += w[i] * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      std::memcpy(L, trial, static_cast<size_t>(n));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const float iscale = static_cast<float>(-nmax) / max;
  if (!do_rmse) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(ClampSym(NearestInt(iscale * x[i]), nmax) + nmax);
    return 1 / iscale;
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampSym(NearestInt(iscale * x[i]), nmax);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const float li = static_cast<float>(L[i]);
      float slx = sumlx - w * x[i] * li;
      if (slx > 0) {
        float sl2 = suml2 - w * li * li;
        const int new_l = ClampSym(NearestInt(x[i] * sl2 / slx), nmax);
        if (new_l != L[i]) {
          const float fl = static_cast<float>(new_l);
          slx += w * x[i] * fl;
          sl2 += w * fl * fl;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

namespace {

// The body shared by make_qkx2_quants and make_qkx3_quants; `w` is never null
// here. `x3` selects qkx3's degenerate test (max <= min instead of ==).
inline float AsymmetricSearch(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                              uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad, bool x3) {
  if (n < 1) {  // ggml never asks; it would read x[0]
    *the_min = 0;
    return 0.0f;
  }
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (x3 ? (max <= min) : (max == min)) {
    std::memset(L, 0, static_cast<size_t>(n));
    *the_min = -min;
    return 0.0f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = fnmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampPos(NearestInt(iscale * (x[i] - min)), nmax);
    L[i] = static_cast<uint8_t>(l);
    float diff = scale * static_cast<float>(l) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += w[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + fnmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = ClampPos(NearestInt(iscale * (x[i] - min)), nmax);
      Laux[i] = static_cast<uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += w[i] * diff;
      }
      if (cur_error < best_error) {
        std::memcpy(L, Laux, static_cast<size_t>(n));
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

}  // namespace

float MakeAsymmetricQuants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                           uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  return AsymmetricSearch(n, nmax, x, weights, L, the_min, Laux, rmin, rdelta, nstep, use_mad, false);
}

float MakeAsymmetricQuantsX3(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                             float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float wbuf[256];
  if (!weights) {
    for (int i = 0; i < n; ++i) wbuf[i] = x[i] * x[i];
    weights = wbuf;
  }
  return AsymmetricSearch(n, nmax, x, weights, L, the_min, Laux, rmin, rdelta, nstep, use_mad, true);
}

float MakePositiveQuants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
  if (max < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = fnmax / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(NearestInt(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * static_cast<float>(L[i]);
    best_mse += quant_weights[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * static_cast<float>(is) + fnmax) / max;
    const float scale_is = 1 / iscale_is;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, NearestInt(iscale_is * x[i]));
      const float diff = x[i] - scale_is * static_cast<float>(l);
      mse += quant_weights[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, NearestInt(iscale * x[i]));
    L[i] = static_cast<uint8_t>(l);
    const float w = quant_weights[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = quant_weights[i];
      const float li = static_cast<float>(L[i]);
      float slx = sumlx - w * x[i] * li;
      float sl2 = suml2 - w * li * li;
      if (slx > 0 && sl2 > 0) {
        const int new_l = std::min(nmax, NearestInt(x[i] * sl2 / slx));
        if (new_l != L[i]) {
          const float fl = static_cast<float>(new_l);
          slx += w * x[i] * fl;
          sl2 += w * fl * fl;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// ---- eight searches at once ------------------------------------------------------
//
// Lane j of every vector below is group j; each statement is the scalar
// code's statement applied lane-wise (IEEE single operations give the same
// result in a lane as in a scalar register). Branches become masks: a lane
// computes both sides and keeps the one the scalar code would take. Lanes
// that ggml would skip may compute infinities or NaNs; they are never kept.
// Group size and level range are template constants so that the element
// loops unroll and the clamp bounds stay in registers.

// The vector helpers are always inlined and take vectors by reference, so the
// AVX argument-passing ABI never matters; GCC reports returns at the end of
// the file, hence no pop.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

typedef float V8F __attribute__((vector_size(32)));
typedef int32_t V8I __attribute__((vector_size(32)));

#define CKPT_VINLINE [[gnu::always_inline]] inline

CKPT_VINLINE V8F Splat(float f) { return V8F{f, f, f, f, f, f, f, f}; }
CKPT_VINLINE V8I SplatI(int32_t v) { return V8I{v, v, v, v, v, v, v, v}; }
CKPT_VINLINE V8F Select(const V8I& mask, const V8F& a, const V8F& b) { return mask ? a : b; }
CKPT_VINLINE V8I SelectI(const V8I& mask, const V8I& a, const V8I& b) { return mask ? a : b; }
CKPT_VINLINE V8I NearestIntV(const V8F& f) {
  const V8F v = f + Splat(12582912.0f);
  V8I bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & SplatI(0x007fffff)) - SplatI(0x00400000);
}
CKPT_VINLINE V8F ToFloat(const V8I& i) { return __builtin_convertvector(i, V8F); }
CKPT_VINLINE V8F Abs(const V8F& value) {
  V8F f = value;
  V8I bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits &= SplatI(0x7fffffff);
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
template <int kLo, int kHi>
CKPT_VINLINE V8I Clamp(const V8I& level) {
  V8I l = level;
  l = SelectI(l > SplatI(kHi), SplatI(kHi), l);
  return SelectI(l < SplatI(kLo), SplatI(kLo), l);
}
CKPT_VINLINE bool Any(const V8I& mask) {
  int32_t any = 0;
  for (int j = 0; j < 8; ++j) any |= mask[j];
  return any != 0;
}

// The bodies work on kV vectors of 8 lanes each (8·kV groups); kV > 1
// interleaves independent dependency chains (see kVectorsPerCall).
template <int kV>
CKPT_VINLINE bool AnyOf(const V8I (&mask)[kV]) {
  bool any = false;
  for (int v = 0; v < kV; ++v) any |= Any(mask[v]);
  return any;
}

// Transposes 8·kV groups of kN floats (group g at src + g·kN).
template <int kN, int kV>
CKPT_VINLINE void GatherV(const float* src, V8F (*dst)[kV]) {
  for (int v = 0; v < kV; ++v) {
    for (int i = 0; i < kN; ++i) {
      for (int j = 0; j < 8; ++j) dst[i][v][j] = src[(8 * v + j) * kN + i];
    }
  }
}

template <int kN, int kNmax, bool kMad, bool kX3, int kV>
CKPT_VINLINE void AsymmetricBody(const float* xs, const float* ws, uint8_t* L_out, float* scales, float* the_mins,
                                 float rmin, float rdelta, int nstep) {
  V8F x[kN][kV], w[kN][kV];
  V8I L[kN][kV], Laux[kN][kV];
  GatherV<kN, kV>(xs, x);
  GatherV<kN, kV>(ws, w);
  const V8F zero = Splat(0.0f);
  const float fnmax = static_cast<float>(kNmax);
  V8F min[kV], max[kV], sum_w[kV], sum_x[kV], scale[kV], best_error[kV], degenerate_min[kV];
  V8I degenerate[kV];
  for (int v = 0; v < kV; ++v) {
    min[v] = max[v] = x[0][v];
    sum_w[v] = w[0][v];
    sum_x[v] = sum_w[v] * x[0][v];
  }
  for (int i = 1; i < kN; ++i) {
    for (int v = 0; v < kV; ++v) {
      min[v] = Select(x[i][v] < min[v], x[i][v], min[v]);
      max[v] = Select(x[i][v] > max[v], x[i][v], max[v]);
      sum_w[v] += w[i][v];
      sum_x[v] += w[i][v] * x[i][v];
    }
  }
  V8F iscale[kV];
  for (int v = 0; v < kV; ++v) {
    min[v] = Select(min[v] > zero, zero, min[v]);
    degenerate[v] = kX3 ? (max[v] <= min[v]) : (max[v] == min[v]);
    degenerate_min[v] = min[v];  // what a degenerate group reports
    iscale[v] = Splat(fnmax) / (max[v] - min[v]);
    scale[v] = Splat(1.0f) / iscale[v];
    best_error[v] = zero;
  }
  for (int i = 0; i < kN; ++i) {
    for (int v = 0; v < kV; ++v) {
      L[i][v] = Clamp<0, kNmax>(NearestIntV(iscale[v] * (x[i][v] - min[v])));
      V8F diff = scale[v] * ToFloat(L[i][v]) + min[v] - x[i][v];
      diff = kMad ? Abs(diff) : diff * diff;
      best_error[v] += w[i][v] * diff;
    }
  }
  for (int is = 0; is <= nstep && nstep >= 1; ++is) {
    const V8F numerator = Splat(rmin + rdelta * static_cast<float>(is) + fnmax);
    V8F sum_l[kV], sum_l2[kV], sum_xl[kV];
    for (int v = 0; v < kV; ++v) {
      // ggml divides by max - min with the min of the best fit so far.
      iscale[v] = numerator / (max[v] - min[v]);
      sum_l[v] = sum_l2[v] = sum_xl[v] = zero;
    }
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) {
        Laux[i][v] = Clamp<0, kNmax>(NearestIntV(iscale[v] * (x[i][v] - min[v])));
        const V8F fl = ToFloat(Laux[i][v]);
        sum_l[v] += w[i][v] * fl;
        sum_l2[v] += w[i][v] * fl * fl;
        sum_xl[v] += w[i][v] * fl * x[i][v];
      }
    }
    V8F D[kV], this_scale[kV], this_min[kV], cur_error[kV];
    V8I d_pos[kV], accept[kV];
    for (int v = 0; v < kV; ++v) {
      D[v] = sum_w[v] * sum_l2[v] - sum_l[v] * sum_l[v];
      d_pos[v] = D[v] > zero;
    }
    if (!AnyOf<kV>(d_pos)) continue;
    for (int v = 0; v < kV; ++v) {
      this_scale[v] = (sum_w[v] * sum_xl[v] - sum_x[v] * sum_l[v]) / D[v];
      this_min[v] = (sum_l2[v] * sum_x[v] - sum_l[v] * sum_xl[v]) / D[v];
      const V8I min_pos = this_min[v] > zero;
      this_min[v] = Select(min_pos, zero, this_min[v]);
      this_scale[v] = Select(min_pos, sum_xl[v] / sum_l2[v], this_scale[v]);
      cur_error[v] = zero;
    }
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) {
        V8F diff = this_scale[v] * ToFloat(Laux[i][v]) + this_min[v] - x[i][v];
        diff = kMad ? Abs(diff) : diff * diff;
        cur_error[v] += w[i][v] * diff;
      }
    }
    for (int v = 0; v < kV; ++v) accept[v] = d_pos[v] & (cur_error[v] < best_error[v]);
    if (!AnyOf<kV>(accept)) continue;
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) L[i][v] = SelectI(accept[v], Laux[i][v], L[i][v]);
    }
    for (int v = 0; v < kV; ++v) {
      best_error[v] = Select(accept[v], cur_error[v], best_error[v]);
      scale[v] = Select(accept[v], this_scale[v], scale[v]);
      min[v] = Select(accept[v], this_min[v], min[v]);
    }
  }
  for (int v = 0; v < kV; ++v) {
    scale[v] = Select(degenerate[v], zero, scale[v]);
    min[v] = Select(degenerate[v], degenerate_min[v], min[v]);
    for (int j = 0; j < 8; ++j) {
      const int g = 8 * v + j;
      scales[g] = scale[v][j];
      the_mins[g] = -min[v][j];
      for (int i = 0; i < kN; ++i) L_out[g * kN + i] = degenerate[v][j] ? 0 : static_cast<uint8_t>(L[i][v][j]);
    }
  }
}

// Per lane: the value of largest magnitude (the first wins ties) and its |·|.
template <int kN, int kV>
CKPT_VINLINE void SignedMaxV(const V8F (&x)[kN][kV], V8F* max, V8F* amax) {
  for (int v = 0; v < kV; ++v) max[v] = amax[v] = Splat(0.0f);
  for (int i = 0; i < kN; ++i) {
    for (int v = 0; v < kV; ++v) {
      const V8F ax = Abs(x[i][v]);
      const V8I bigger = ax > amax[v];
      amax[v] = Select(bigger, ax, amax[v]);
      max[v] = Select(bigger, x[i][v], max[v]);
    }
  }
}

template <int kN, int kNmax, int kV>
CKPT_VINLINE void SymmetricBody(const float* xs, const float* ws, int8_t* L_out, float* scales) {
  V8F x[kN][kV], w[kN][kV];
  V8I L[kN][kV], trial[kN][kV];
  GatherV<kN, kV>(xs, x);
  GatherV<kN, kV>(ws, w);
  const V8F zero = Splat(0.0f);
  const float fnmax = static_cast<float>(kNmax);
  V8F max[kV], amax[kV], iscale[kV], sumlx[kV], suml2[kV], scale[kV], best[kV];
  V8I all_zero[kV], accept[kV];
  SignedMaxV<kN, kV>(x, max, amax);
  for (int v = 0; v < kV; ++v) {
    all_zero[v] = amax[v] < Splat(kGroupMaxEps);
    iscale[v] = Splat(static_cast<float>(-kNmax)) / max[v];
    sumlx[v] = suml2[v] = zero;
  }
  for (int i = 0; i < kN; ++i) {
    for (int v = 0; v < kV; ++v) {
      const V8I l = Clamp<-kNmax, kNmax - 1>(NearestIntV(iscale[v] * x[i][v]));
      L[i][v] = l + SplatI(kNmax);
      const V8F fl = ToFloat(l);
      sumlx[v] += w[i][v] * x[i][v] * fl;
      suml2[v] += w[i][v] * fl * fl;
    }
  }
  for (int v = 0; v < kV; ++v) {
    scale[v] = Select(suml2[v] != zero, sumlx[v] / suml2[v], zero);
    best[v] = scale[v] * sumlx[v];
  }
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const V8F numerator = Splat(-(fnmax + 0.1f * static_cast<float>(is)));
    for (int v = 0; v < kV; ++v) {
      iscale[v] = numerator / max[v];
      sumlx[v] = suml2[v] = zero;
    }
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) {
        const V8I l = Clamp<-kNmax, kNmax - 1>(NearestIntV(iscale[v] * x[i][v]));
        trial[i][v] = l + SplatI(kNmax);
        const V8F fl = ToFloat(l);
        sumlx[v] += w[i][v] * x[i][v] * fl;
        suml2[v] += w[i][v] * fl * fl;
      }
    }
    for (int v = 0; v < kV; ++v) accept[v] = (suml2[v] > zero) & (sumlx[v] * sumlx[v] > best[v] * suml2[v]);
    if (!AnyOf<kV>(accept)) continue;
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) L[i][v] = SelectI(accept[v], trial[i][v], L[i][v]);
    }
    for (int v = 0; v < kV; ++v) {
      const V8F new_scale = sumlx[v] / suml2[v];
      scale[v] = Select(accept[v], new_scale, scale[v]);
      best[v] = Select(accept[v], new_scale * sumlx[v], best[v]);
    }
  }
  for (int v = 0; v < kV; ++v) {
    scale[v] = Select(all_zero[v], zero, scale[v]);
    for (int j = 0; j < 8; ++j) {
      const int g = 8 * v + j;
      scales[g] = scale[v][j];
      for (int i = 0; i < kN; ++i) L_out[g * kN + i] = all_zero[v][j] ? 0 : static_cast<int8_t>(L[i][v][j]);
    }
  }
}

// make_q3_quants with do_rmse over 8·kV groups. The descent passes run until
// no lane changed (at most 5). A lane whose pass changed nothing keeps
// running passes for the others, but a pass is a deterministic function of
// the lane's state, so it again changes nothing: exactly the scalar break.
template <int kN, int kNmax, int kV>
CKPT_VINLINE void Q3Body(const float* xs, int8_t* L_out, float* scales) {
  V8F x[kN][kV];
  V8I L[kN][kV];
  GatherV<kN, kV>(xs, x);
  const V8F zero = Splat(0.0f);
  V8F max[kV], amax[kV], iscale[kV], sumlx[kV], suml2[kV];
  V8I all_zero[kV];
  SignedMaxV<kN, kV>(x, max, amax);
  for (int v = 0; v < kV; ++v) {
    all_zero[v] = amax[v] < Splat(kGroupMaxEps);
    iscale[v] = Splat(static_cast<float>(-kNmax)) / max[v];
    sumlx[v] = suml2[v] = zero;
  }
  for (int i = 0; i < kN; ++i) {
    for (int v = 0; v < kV; ++v) {
      L[i][v] = Clamp<-kNmax, kNmax - 1>(NearestIntV(iscale[v] * x[i][v]));
      const V8F w = x[i][v] * x[i][v];
      const V8F fl = ToFloat(L[i][v]);
      sumlx[v] += w * x[i][v] * fl;
      suml2[v] += w * fl * fl;
    }
  }
  for (int itry = 0; itry < 5; ++itry) {
    V8I changed[kV];
    for (int v = 0; v < kV; ++v) changed[v] = SplatI(0);
    for (int i = 0; i < kN; ++i) {
      for (int v = 0; v < kV; ++v) {
        const V8F w = x[i][v] * x[i][v];
        const V8F li = ToFloat(L[i][v]);
        V8F slx = sumlx[v] - w * x[i][v] * li;
        const V8I slx_pos = slx > zero;
        V8F sl2 = suml2[v] - w * li * li;
        const V8I new_l = Clamp<-kNmax, kNmax - 1>(NearestIntV(x[i][v] * sl2 / slx));
        const V8F fl = ToFloat(new_l);
        slx += w * x[i][v] * fl;
        sl2 += w * fl * fl;
        const V8I accept = slx_pos & (new_l != L[i][v]) & (sl2 > zero) &
                           (slx * slx * suml2[v] > sumlx[v] * sumlx[v] * sl2);
        L[i][v] = SelectI(accept, new_l, L[i][v]);
        sumlx[v] = Select(accept, slx, sumlx[v]);
        suml2[v] = Select(accept, sl2, suml2[v]);
        changed[v] |= accept;
      }
    }
    if (!AnyOf<kV>(changed)) break;
  }
  for (int v = 0; v < kV; ++v) {
    V8F scale = Select(suml2[v] > zero, sumlx[v] / suml2[v], zero);
    scale = Select(all_zero[v], zero, scale);
    for (int j = 0; j < 8; ++j) {
      const int g = 8 * v + j;
      scales[g] = scale[j];
      for (int i = 0; i < kN; ++i) L_out[g * kN + i] = all_zero[v][j] ? 0 : static_cast<int8_t>(L[i][v][j] + kNmax);
    }
  }
}

using AsymFn = void (*)(const float*, const float*, uint8_t*, float*, float*, float, float, int);
using SymFn = void (*)(const float*, const float*, int8_t*, float*);
using Q3Fn = void (*)(const float*, int8_t*, float*);

template <int kN, int kNmax, bool kMad, bool kX3, int kV>
void AsymmetricPortable(const float* x, const float* w, uint8_t* L, float* s, float* m, float rmin, float rdelta,
                        int nstep) {
  AsymmetricBody<kN, kNmax, kMad, kX3, kV>(x, w, L, s, m, rmin, rdelta, nstep);
}
template <int kN, int kNmax, bool kMad, bool kX3, int kV>
[[gnu::target("avx2")]] void AsymmetricAvx2(const float* x, const float* w, uint8_t* L, float* s, float* m,
                                            float rmin, float rdelta, int nstep) {
  AsymmetricBody<kN, kNmax, kMad, kX3, kV>(x, w, L, s, m, rmin, rdelta, nstep);
}
template <int kN, int kNmax, int kV>
void SymmetricPortable(const float* x, const float* w, int8_t* L, float* s) {
  SymmetricBody<kN, kNmax, kV>(x, w, L, s);
}
template <int kN, int kNmax, int kV>
[[gnu::target("avx2")]] void SymmetricAvx2(const float* x, const float* w, int8_t* L, float* s) {
  SymmetricBody<kN, kNmax, kV>(x, w, L, s);
}

template <int kN, int kNmax, int kV>
void Q3Portable(const float* x, int8_t* L, float* s) {
  Q3Body<kN, kNmax, kV>(x, L, s);
}
template <int kN, int kNmax, int kV>
[[gnu::target("avx2")]] void Q3Avx2(const float* x, int8_t* L, float* s) {
  Q3Body<kN, kNmax, kV>(x, L, s);
}

// The (group size, nmax, mad, x3) combinations the quantizers use: Q2_K
// ref/imatrix, Q4_K/Q5_K ref, Q4_K/Q5_K/Q4_1/Q5_1 imatrix.
template <int kV>
AsymFn FindAsymmetric(int n, int nmax, bool mad, bool x3, bool avx2) {
#define CKPT_ASYM(N, NMAX, MAD, X3)                                                                      \
  if (n == N && nmax == NMAX && mad == MAD && x3 == X3) {                                                \
    return avx2 ? AsymmetricAvx2<N, NMAX, MAD, X3, kV> : AsymmetricPortable<N, NMAX, MAD, X3, kV>;       \
  }
  CKPT_ASYM(16, 3, true, false)
  CKPT_ASYM(16, 3, false, true)
  CKPT_ASYM(32, 15, false, false)
  CKPT_ASYM(32, 31, false, false)
  CKPT_ASYM(32, 15, false, true)
  CKPT_ASYM(32, 31, false, true)
#undef CKPT_ASYM
  return nullptr;
}

// Q6_K (16, 32), Q3_K imatrix (16, 4), Q4_0 / Q5_0 imatrix (32, 8 / 16).
template <int kV>
SymFn FindSymmetric(int n, int nmax, bool avx2) {
#define CKPT_SYM(N, NMAX) \
  if (n == N && nmax == NMAX) return avx2 ? SymmetricAvx2<N, NMAX, kV> : SymmetricPortable<N, NMAX, kV>;
  CKPT_SYM(16, 32)
  CKPT_SYM(16, 4)
  CKPT_SYM(32, 8)
  CKPT_SYM(32, 16)
#undef CKPT_SYM
  return nullptr;
}

// One call covers kVectorsPerCall × 8 groups. 2 (interleaving two
// dependency chains) measured no faster than 1 on Skylake-class cores, so the
// smaller code wins.
constexpr int kVectorsPerCall = 1;
constexpr int kGroupsPerCall = 8 * kVectorsPerCall;

SearchPath g_search_path = SearchPath::kAuto;

}  // namespace

// kAuto and kAvx2 pick AVX2 when the CPU has it; without AVX2, kAuto runs the
// scalar code (faster there than 8-wide vectors split into SSE2 halves).
SearchPath EffectivePath() {
  static const bool has_avx2 = CpuHasAvx2();
  switch (g_search_path) {
    case SearchPath::kAuto: return has_avx2 ? SearchPath::kAvx2 : SearchPath::kScalar;
    case SearchPath::kAvx2: return has_avx2 ? SearchPath::kAvx2 : SearchPath::kPortableVector;
    default: return g_search_path;
  }
}

namespace {

// Q3_K ref (16, 4).
template <int kV>
Q3Fn FindQ3(int n, int nmax, bool avx2) {
  if (n == 16 && nmax == 4) return avx2 ? Q3Avx2<16, 4, kV> : Q3Portable<16, 4, kV>;
  return nullptr;
}

}  // namespace

bool CpuHasAvx2() { return __builtin_cpu_supports("avx2"); }

void SetSearchPathForTesting(SearchPath path) { g_search_path = path; }

void MakeAsymmetricQuantsMany(int count, int n, int nmax, const float* x, const float* w, uint8_t* L,
                              float* scales, float* the_mins, float rmin, float rdelta, int nstep, bool use_mad,
                              bool x3) {
  const SearchPath path = EffectivePath();
  int g = 0;
  if (path != SearchPath::kScalar) {
    if (const AsymFn fn = FindAsymmetric<kVectorsPerCall>(n, nmax, use_mad, x3, path == SearchPath::kAvx2)) {
      for (; g + kGroupsPerCall <= count; g += kGroupsPerCall) {
        fn(x + g * n, w + g * n, L + g * n, scales + g, the_mins + g, rmin, rdelta, nstep);
      }
    }
  }
  uint8_t Laux[256];
  for (; g < count; ++g) {
    scales[g] = x3 ? MakeAsymmetricQuantsX3(n, nmax, x + g * n, w + g * n, L + g * n, &the_mins[g], Laux, rmin,
                                            rdelta, nstep, use_mad)
                   : MakeAsymmetricQuants(n, nmax, x + g * n, w + g * n, L + g * n, &the_mins[g], Laux, rmin, rdelta,
                                          nstep, use_mad);
  }
}

void MakeSymmetricQuantsMany(int count, int n, int nmax, const float* x, const float* w, int8_t* L,
                             float* scales) {
  const SearchPath path = EffectivePath();
  int g = 0;
  if (path != SearchPath::kScalar) {
    if (const SymFn fn = FindSymmetric<kVectorsPerCall>(n, nmax, path == SearchPath::kAvx2)) {
      for (; g + kGroupsPerCall <= count; g += kGroupsPerCall) fn(x + g * n, w + g * n, L + g * n, scales + g);
    }
  }
  for (; g < count; ++g) scales[g] = MakeSymmetricQuants(n, nmax, x + g * n, L + g * n, 1, w + g * n);
}

void MakeQ3QuantsMany(int count, int n, int nmax, const float* x, int8_t* L, float* scales) {
  const SearchPath path = EffectivePath();
  int g = 0;
  if (path != SearchPath::kScalar) {
    // The descent is one long dependency chain per element (a division
    // among it): two interleaved vectors (16 groups, one Q3_K super-block)
    // hide it; four measured no faster.
    const bool avx2 = path == SearchPath::kAvx2;
    if (const Q3Fn fn2 = FindQ3<2>(n, nmax, avx2)) {
      for (; g + 16 <= count; g += 16) fn2(x + g * n, L + g * n, scales + g);
      const Q3Fn fn1 = FindQ3<1>(n, nmax, avx2);
      for (; g + 8 <= count; g += 8) fn1(x + g * n, L + g * n, scales + g);
    }
  }
  for (; g < count; ++g) scales[g] = MakeQ3Quants(n, nmax, x + g * n, L + g * n, true);
}

}  // namespace ckpt::quant
