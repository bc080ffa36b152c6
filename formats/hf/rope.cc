// Each line mirrors one torch float32 operation of the converter; keep the
// order (this file is built with -ffp-contract=off).
#include "formats/hf/rope.h"

#include <cmath>

// Declared by <sleef.h> only when compiling with FMA enabled; the library
// always exports it. Called only on CPUs with FMA.
extern "C" float Sleef_powf1_u10purecfma(float, float);

namespace ckpt::hf {
namespace {

// torch's float32 pow of a scalar base: its AVX2 kernel (SLEEF with FMA)
// on full vectors; std::pow (glibc powf) otherwise.
float TorchPow(float base, float e, bool vectorised) {
  static const bool kFma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  return vectorised && kFma ? Sleef_powf1_u10purecfma(base, e) : std::pow(base, e);
}

}  // namespace

std::vector<float> Llama3RopeFreqs(const Llama3Rope& r) {
  const int64_t n = (r.dim + 1) / 2;  // arange(0, dim, 2)
  const float base = static_cast<float>(r.base);
  const float dim = static_cast<float>(r.dim);
  // torch's vectorised loop takes 2 × 8 floats at a time; the rest is scalar.
  const int64_t vectorised = n / 16 * 16;
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n));
  const float two_pi = static_cast<float>(2 * M_PI);
  const double low_wavelen = r.original_context / r.low_freq_factor;    // Python floats
  const double high_wavelen = r.original_context / r.high_freq_factor;
  const float low_f = static_cast<float>(r.low_freq_factor);
  const float span = static_cast<float>(r.high_freq_factor - r.low_freq_factor);
  const float factor = static_cast<float>(r.factor);
  const float old_ctx = static_cast<float>(r.original_context);
  for (int64_t i = 0; i < n; ++i) {
    const float e = static_cast<float>(2 * i) / dim;
    const float p = TorchPow(base, e, i < vectorised);
    const float freq = (1.0f / p) * 1.0f;
    const float wavelen = (1.0f / freq) * two_pi;
    if (wavelen < static_cast<float>(high_wavelen)) {
      out.push_back(1.0f);
    } else if (wavelen > static_cast<float>(low_wavelen)) {
      out.push_back(factor);
    } else {
      const float smooth = ((1.0f / wavelen) * old_ctx - low_f) / span;
      const float denom = (1.0f - smooth) / factor + smooth;
      out.push_back((1.0f / denom) * 1.0f);
    }
  }
  return out;
}

}  // namespace ckpt::hf
