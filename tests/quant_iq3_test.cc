// Tests of the IQ3_XXS and IQ3_S quantizers (lib/quant/iq3.cc) against ggml
// 0.18.1.
//
// The expected XXH64 hashes (seed 0) were produced outside the repository by
// ggml's own code (ggml_quantize_chunk and the type's to_float) on exactly the
// inputs built here: QuantTestRows(24, 512, 7), with and without
// QuantTestImatrix(512, 7).
#include <xxhash.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "lib/quant/kernels.h"
#include "tests/quant_test_data.h"

namespace ckpt::quant {

// Defined in lib/quant/iq3.cc (redeclared here so the test does not depend on
// kernels.h listing them).
void QuantizeIQ3_XXS(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw);
void QuantizeIQ3_S(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw);

namespace {

using ckpt::testing::QuantRng;
using ckpt::testing::QuantTestImatrix;
using ckpt::testing::QuantTestRows;

struct Iq3Format {
  void (*quantize)(const float*, uint8_t*, int64_t, int64_t, const float*);
  void (*dequantize)(const uint8_t*, float*, int64_t);
  int block_bytes;  // per 256 elements
};

const Iq3Format kIQ3_XXS{QuantizeIQ3_XXS, DequantizeIQ3_XXS, 98};
const Iq3Format kIQ3_S{QuantizeIQ3_S, DequantizeIQ3_S, 110};

std::string HashHex(const void* p, size_t n) { return ckpt::testing::XxhHex(p, n); }

std::vector<uint8_t> Quantize(const Iq3Format& f, const std::vector<float>& x, int64_t nrows, int64_t n_per_row,
                              const float* qw) {
  std::vector<uint8_t> q(static_cast<size_t>(nrows * (n_per_row / 256) * f.block_bytes), 0xAA);
  f.quantize(x.data(), q.data(), nrows, n_per_row, qw);
  return q;
}

std::vector<float> Dequantize(const Iq3Format& f, const std::vector<uint8_t>& q) {
  const int64_t n = static_cast<int64_t>(q.size() / f.block_bytes) * 256;
  std::vector<float> y(static_cast<size_t>(n), -12345.0f);
  f.dequantize(q.data(), y.data(), n);
  return y;
}

struct Golden {
  const char* bytes;
  const char* bytes_imatrix;
  const char* floats;
  const char* floats_imatrix;
};

void ExpectMatchesGgml(const Iq3Format& f, const Golden& g) {
  const std::vector<float> x = QuantTestRows(24, 512, 7);
  const std::vector<float> im = QuantTestImatrix(512, 7);
  const std::vector<uint8_t> q = Quantize(f, x, 24, 512, nullptr);
  const std::vector<uint8_t> qi = Quantize(f, x, 24, 512, im.data());
  EXPECT_EQ(HashHex(q.data(), q.size()), g.bytes);
  EXPECT_EQ(HashHex(qi.data(), qi.size()), g.bytes_imatrix);
  const std::vector<float> y = Dequantize(f, q);
  const std::vector<float> yi = Dequantize(f, qi);
  EXPECT_EQ(HashHex(y.data(), y.size() * sizeof(float)), g.floats);
  EXPECT_EQ(HashHex(yi.data(), yi.size() * sizeof(float)), g.floats_imatrix);
}

// Root-mean-square error of a quantize/dequantize round trip relative to the
// RMS of N(0, 1) input (16 rows of 1024).
double RelativeRmse(const Iq3Format& f, const float* qw) {
  QuantRng rng(1);
  std::vector<float> x(16 * 1024);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  return ckpt::testing::RelativeRmse(x, Dequantize(f, Quantize(f, x, 16, 1024, qw)));
}

TEST(QuantKernels, IQ3_XXS_MatchesGgml) {
  ExpectMatchesGgml(kIQ3_XXS, {"5ef28dbdbf36832f", "f30bb3ac147da081", "af55aa5f7f2305f9", "75bdbed2a883a2b1"});
}
TEST(QuantKernels, IQ3_S_MatchesGgml) {
  ExpectMatchesGgml(kIQ3_S, {"0e231c8736f3699f", "c438f877a3cad88b", "a88c1a26aa173ca3", "4f82f1f1c09ab68a"});
}

TEST(QuantKernels, IQ3_XXS_RoundTripError) {
  EXPECT_LT(RelativeRmse(kIQ3_XXS, nullptr), 0.23);
  const std::vector<float> ones(1024, 1.0f);
  EXPECT_LT(RelativeRmse(kIQ3_XXS, ones.data()), 0.23);
}
TEST(QuantKernels, IQ3_S_RoundTripError) {
  EXPECT_LT(RelativeRmse(kIQ3_S, nullptr), 0.19);
  const std::vector<float> ones(1024, 1.0f);
  EXPECT_LT(RelativeRmse(kIQ3_S, ones.data()), 0.19);
}

// All-zero input gives all-zero blocks (d = +0, every code 0).
TEST(QuantKernels, IQ3_ZeroBlocks) {
  const std::vector<float> zeros(512, 0.0f);
  for (const Iq3Format* f : {&kIQ3_XXS, &kIQ3_S}) {
    const std::vector<uint8_t> q = Quantize(*f, zeros, 1, 512, nullptr);
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], 0) << "byte " << i;
  }
}

// ggml's IQ3_S advances its qs/signs cursors only past non-empty 32-element
// sub-blocks, so an all-zero sub-block leaves the block's last 8 index bytes
// and last 4 sign bytes zero (later sub-blocks' codes move forward).
TEST(QuantKernels, IQ3_S_ZeroSubBlockShiftsCodes) {
  std::vector<float> x = QuantTestRows(1, 256, 5);
  for (int i = 0; i < 256; ++i) x[i] = std::fabs(x[i]) + 0.01f;  // no zero codes by accident
  for (int i = 64; i < 96; ++i) x[i] = 0.0f;
  const std::vector<uint8_t> q = Quantize(kIQ3_S, x, 1, 256, nullptr);
  const uint8_t* qs = q.data() + 2;
  const uint8_t* signs = q.data() + 2 + 64 + 8;
  for (int k = 56; k < 64; ++k) EXPECT_EQ(qs[k], 0) << k;
  for (int k = 28; k < 32; ++k) EXPECT_EQ(signs[k], 0) << k;
  bool any_nonzero = false;
  for (int k = 0; k < 56; ++k) any_nonzero |= qs[k] != 0;
  EXPECT_TRUE(any_nonzero);
}

// The lattice neighbour tables are built once on first use; concurrent first
// calls and later calls give the same bytes.
TEST(QuantKernels, IQ3_ConcurrentCallsAgree) {
  const std::vector<float> x = QuantTestRows(12, 256, 9);
  for (const Iq3Format* f : {&kIQ3_XXS, &kIQ3_S}) {
    std::vector<std::vector<uint8_t>> out(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { out[t] = Quantize(*f, x, 12, 256, nullptr); });
    for (std::thread& th : threads) th.join();
    const std::vector<uint8_t> ref = Quantize(*f, x, 12, 256, nullptr);
    for (int t = 0; t < 4; ++t) EXPECT_EQ(out[t], ref) << "thread " << t;
  }
}

}  // namespace
}  // namespace ckpt::quant
