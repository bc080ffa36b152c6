// tests/quant_test_data.h — deterministic quantizer inputs with edge cases.
//
// The same rows are fed to ggml's quantizers (outside the repository) to get
// the expected bytes that the quant tests compare against, so the generator
// must never change once hashes are recorded: add new patterns as new
// functions instead.
#ifndef CKPT_TESTS_QUANT_TEST_DATA_H_
#define CKPT_TESTS_QUANT_TEST_DATA_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xxhash.h>

namespace ckpt::testing {

class QuantRng {
 public:
  explicit QuantRng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double Normal() {
    const double u = Uniform() + 1e-300, v = Uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

 private:
  uint64_t s_;
};

// `nrows` rows of `n_per_row` floats (n_per_row a multiple of 256): N(0, 0.02)
// with, depending on the row, edge cases every quantizer must survive — zero
// blocks, subnormals, tiny and huge blocks, exact rounding ties, constant and
// ternary blocks, block maxima near ggml's 1e-15 thresholds, outliers.
inline std::vector<float> QuantTestRows(int64_t nrows, int64_t n_per_row, uint64_t seed) {
  QuantRng rng(seed);
  std::vector<float> x(static_cast<size_t>(nrows * n_per_row));
  for (float& v : x) v = static_cast<float>(rng.Normal() * 0.02);
  for (int64_t r = 0; r < nrows; ++r) {
    float* row = x.data() + r * n_per_row;
    switch (r % 12) {
      case 0:  // zero 32-block, zero 256-block, a spike
        std::memset(row + 32, 0, 32 * sizeof(float));
        if (n_per_row >= 512) std::memset(row + 256, 0, 256 * sizeof(float));
        row[7] = 4.0f;
        break;
      case 1:  // huge values, f16 limits
        for (int64_t i = 0; i < n_per_row; ++i) row[i] = static_cast<float>(rng.Normal() * 1000.0);
        row[3] = 65519.0f;
        row[40] = -60000.0f;
        break;
      case 2:  // tiny blocks next to subnormals
        for (int64_t i = 0; i < n_per_row; ++i) {
          row[i] = static_cast<float>(rng.Normal() * 1e-37);
          if (i % 32 == 5) row[i] = 1e-36f;
          if (i % 7 == 0) row[i] = std::ldexp(1.0f, -140) * static_cast<float>(i % 5);
        }
        break;
      case 3:  // half-integers with +-127 in each block (rounding ties)
        for (int64_t i = 0; i < n_per_row; ++i) {
          row[i] = static_cast<float>(static_cast<int>(rng.Uniform() * 255) - 127) + 0.5f;
          if (i % 32 == 0) row[i] = 127.0f;
          if (i % 64 == 9) row[i] = -127.0f;
        }
        break;
      case 4:  // ternary
        for (int64_t i = 0; i < n_per_row; ++i)
          row[i] = static_cast<float>(static_cast<int>(rng.Uniform() * 3) - 1) / 64.0f;
        break;
      case 5:  // constant blocks (positive, negative) and block maxima near 1e-15
        for (int64_t i = 0; i < n_per_row; ++i) {
          const int64_t b = i / 32;
          if (b % 4 == 0) row[i] = 0.25f;
          else if (b % 4 == 1) row[i] = -0.125f;
          else if (b % 4 == 2) row[i] = static_cast<float>(rng.Normal() * 1e-15);
          else row[i] = (i % 32 == 0) ? 1e-15f : static_cast<float>(rng.Normal() * 1e-16);
        }
        break;
      case 6:  // all-zero row
        std::memset(row, 0, n_per_row * sizeof(float));
        break;
      case 7:  // outlier column and sparse spikes
        row[0] = 2.5f;
        for (int64_t i = 0; i < n_per_row; i += 97) row[i] = static_cast<float>((rng.Uniform() - 0.5) * 8.0);
        break;
      case 8:  // halfway between f16 neighbours (normal and subnormal range)
        for (int64_t i = 0; i < n_per_row; ++i) {
          const float a = std::ldexp(1.0f + static_cast<float>(i % 1024) / 1024.0f, static_cast<int>(i % 9) - 8);
          row[i] = (i % 2 ? -1.0f : 1.0f) * (a + std::ldexp(1.0f, static_cast<int>(i % 9) - 8 - 11));
          if (i % 16 == 3) row[i] = std::ldexp(3.0f, -26);  // between two f16 subnormals
        }
        break;
      case 9:  // only positive / only negative blocks
        for (int64_t i = 0; i < n_per_row; ++i) row[i] = std::fabs(row[i]) * ((i / 32) % 2 ? -1.0f : 1.0f);
        break;
      case 10:  // powers of two and values just below them (MXFP4 exponent)
        for (int64_t i = 0; i < n_per_row; ++i) {
          const float p = std::ldexp(1.0f, static_cast<int>(i % 13) - 6);
          row[i] = (i % 3 == 0) ? std::nextafter(p, 0.0f) : ((i % 3 == 1) ? -p : p * 0.75f);
        }
        break;
      default:  // plain N(0, 0.02)
        break;
    }
  }
  return x;
}

// An importance matrix for `n_per_row` columns: log-normal, a few very large
// columns, a few zero columns and a run of 32 zero columns.
inline std::vector<float> QuantTestImatrix(int64_t n_per_row, uint64_t seed) {
  QuantRng rng(seed);
  std::vector<float> w(static_cast<size_t>(n_per_row));
  for (float& v : w) v = static_cast<float>(std::exp(rng.Normal()));
  for (int64_t i = 0; i < n_per_row; i += 37) w[i] = 0.0f;
  for (int64_t i = 11; i < n_per_row; i += 101) w[i] = 1e6f;
  if (n_per_row >= 128) for (int64_t i = 64; i < 96; ++i) w[i] = 0.0f;
  return w;
}

// XXH64 (seed 0) of n bytes as 16 lowercase hex digits: how the quant tests
// record ggml's expected outputs.
inline std::string XxhHex(const void* p, size_t n) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH64(p, n, 0)));
  return buf;
}

// ||x - y|| / ||x||: round-trip error relative to the signal.
inline double RelativeRmse(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0, ss = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ss += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(se / ss);
}

}  // namespace ckpt::testing

#endif  // CKPT_TESTS_QUANT_TEST_DATA_H_
