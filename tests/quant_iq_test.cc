// Tests of the IQ4, small-format and IQ1/IQ2/IQ3 kernels (lib/quant/iq4.cc,
// small.cc, iq_grids.cc) against ggml 0.18.1.
//
// The expected XXH64 hashes (seed 0) were produced outside the repository by
// ggml's own code (ggml_quantize_chunk and the type's to_float) on exactly the
// inputs built here: QuantTestRows(24, 512, 7), with and without
// QuantTestImatrix(512, 7). The dequant-only IQ1/IQ2/IQ3 and NVFP4 fixtures
// under data/quant/ are ggml's bytes for QuantTestRows(12, 256, 7) with
// QuantTestImatrix(256, 7) (the IQ2_XXS, IQ2_XS and IQ1_S quantizers require
// an importance matrix).
#include <xxhash.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/quant/common.h"
#include "lib/quant/kernels.h"
#include "tests/quant_test_data.h"

namespace ckpt::quant {
namespace {

using ckpt::testing::QuantRng;
using ckpt::testing::QuantTestImatrix;
using ckpt::testing::QuantTestRows;

using QuantizeFn = void (*)(const float*, uint8_t*, int64_t, int64_t, const float*);
using DequantizeFn = void (*)(const uint8_t*, float*, int64_t);

struct Format {
  QuantizeFn quantize;  // null for the dequant-only formats
  DequantizeFn dequantize;
  int block;        // elements per block
  int block_bytes;  // bytes per block
  // Byte holding bit 14 of the block's f16 scale (cleared in random blocks to
  // keep the scale finite); -1 when the scale is not an f16.
  int scale_hi_byte;
};

constexpr Format kIQ4_NL{QuantizeIQ4_NL, DequantizeIQ4_NL, 32, 18, 1};
constexpr Format kIQ4_XS{QuantizeIQ4_XS, DequantizeIQ4_XS, 256, 136, 1};
constexpr Format kTQ1_0{QuantizeTQ1_0, DequantizeTQ1_0, 256, 54, 53};
constexpr Format kTQ2_0{QuantizeTQ2_0, DequantizeTQ2_0, 256, 66, 65};
constexpr Format kMXFP4{QuantizeMXFP4, DequantizeMXFP4, 32, 17, -1};
constexpr Format kNVFP4{nullptr, DequantizeNVFP4, 64, 36, -1};
constexpr Format kQ1_0{QuantizeQ1_0, DequantizeQ1_0, 128, 18, 1};
constexpr Format kQ2_0{QuantizeQ2_0, DequantizeQ2_0, 64, 18, 1};
constexpr Format kIQ2_XXS{nullptr, DequantizeIQ2_XXS, 256, 66, 1};
constexpr Format kIQ2_XS{nullptr, DequantizeIQ2_XS, 256, 74, 1};
constexpr Format kIQ2_S{nullptr, DequantizeIQ2_S, 256, 82, 1};
constexpr Format kIQ3_XXS{nullptr, DequantizeIQ3_XXS, 256, 98, 1};
constexpr Format kIQ3_S{nullptr, DequantizeIQ3_S, 256, 110, 1};
constexpr Format kIQ1_S{nullptr, DequantizeIQ1_S, 256, 50, 1};
constexpr Format kIQ1_M{nullptr, DequantizeIQ1_M, 256, 56, 55};  // super-scale top nibble in scales[7]

std::string HashHex(const void* p, size_t n) { return ckpt::testing::XxhHex(p, n); }
std::string HashHex(const std::vector<uint8_t>& v) { return HashHex(v.data(), v.size()); }
std::string HashHex(const std::vector<float>& v) { return HashHex(v.data(), v.size() * sizeof(float)); }

std::vector<uint8_t> Quantize(const Format& f, const std::vector<float>& x, int64_t nrows, int64_t n_per_row,
                              const float* qw) {
  std::vector<uint8_t> q(static_cast<size_t>(nrows * (n_per_row / f.block) * f.block_bytes), 0xAA);
  f.quantize(x.data(), q.data(), nrows, n_per_row, qw);
  return q;
}

std::vector<float> Dequantize(const Format& f, const std::vector<uint8_t>& q) {
  const int64_t n = static_cast<int64_t>(q.size() / f.block_bytes) * f.block;
  std::vector<float> y(static_cast<size_t>(n), -12345.0f);
  f.dequantize(q.data(), y.data(), n);
  return y;
}

// `nblocks` blocks of splitmix64 bytes (seeded like QuantRng); the f16 scale
// of every block is kept finite by clearing its bit 14.
std::vector<uint8_t> RandomBlocks(const Format& f, int64_t nblocks, uint64_t seed) {
  QuantRng rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(nblocks * f.block_bytes));
  for (size_t i = 0; i < v.size(); i += 8) {
    const uint64_t r = rng.Next();
    for (size_t k = 0; k < 8 && i + k < v.size(); ++k) v[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  if (f.scale_hi_byte >= 0) {
    for (int64_t b = 0; b < nblocks; ++b) v[b * f.block_bytes + f.scale_hi_byte] &= 0xBF;
  }
  return v;
}

std::vector<uint8_t> ReadFixture(const std::string& name) {
  std::ifstream in(std::string(CKPT_TEST_DATA_DIR) + "/quant/" + name, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// ggml's hashes for QuantTestRows(24, 512, 7): quantized bytes and their
// dequantization, without and with QuantTestImatrix(512, 7).
struct Golden {
  const char* bytes;
  const char* bytes_imatrix;
  const char* floats;
  const char* floats_imatrix;
};

void ExpectMatchesGgml(const Format& f, const Golden& g) {
  const std::vector<float> x = QuantTestRows(24, 512, 7);
  const std::vector<float> im = QuantTestImatrix(512, 7);
  const std::vector<uint8_t> q = Quantize(f, x, 24, 512, nullptr);
  const std::vector<uint8_t> qi = Quantize(f, x, 24, 512, im.data());
  EXPECT_EQ(HashHex(q), g.bytes);
  EXPECT_EQ(HashHex(qi), g.bytes_imatrix);
  EXPECT_EQ(HashHex(Dequantize(f, q)), g.floats);
  EXPECT_EQ(HashHex(Dequantize(f, qi)), g.floats_imatrix);
}

// Dequantizing 1024 random blocks (all grid entries, sign codes and scale
// codes) gives ggml's floats.
void ExpectRandomBlocksMatchGgml(const Format& f, const char* floats) {
  EXPECT_EQ(HashHex(Dequantize(f, RandomBlocks(f, 1024, 7))), floats);
}

// The committed ggml bytes decode to ggml's floats.
void ExpectFixtureMatchesGgml(const Format& f, const std::string& file, const char* bytes, const char* floats) {
  const std::vector<uint8_t> q = ReadFixture(file);
  ASSERT_EQ(q.size(), static_cast<size_t>(12 * f.block_bytes * (256 / f.block))) << file;
  ASSERT_EQ(HashHex(q), bytes) << file << " is not the recorded fixture";
  EXPECT_EQ(HashHex(Dequantize(f, q)), floats);
}

// Root-mean-square error of a quantize/dequantize round trip relative to the
// RMS of N(0, 1) input (16 rows of 1024).
double RelativeRmse(const Format& f, const float* qw) {
  QuantRng rng(1);
  std::vector<float> x(16 * 1024);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  return ckpt::testing::RelativeRmse(x, Dequantize(f, Quantize(f, x, 16, 1024, qw)));
}

// Quantizing `x` (one row) and dequantizing gives `x` back exactly.
void ExpectExactRoundTrip(const Format& f, const std::vector<float>& x) {
  const std::vector<float> y = Dequantize(f, Quantize(f, x, 1, static_cast<int64_t>(x.size()), nullptr));
  ASSERT_EQ(y.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], x[i]) << "element " << i;
}

// Types that ignore the importance matrix give the same bytes with one.
void ExpectIgnoresImatrix(const Format& f) {
  const std::vector<float> x = QuantTestRows(12, 512, 3);
  const std::vector<float> im = QuantTestImatrix(512, 3);
  EXPECT_EQ(Quantize(f, x, 12, 512, nullptr), Quantize(f, x, 12, 512, im.data()));
}

// ---- IQ4_NL / IQ4_XS -------------------------------------------------------

TEST(QuantKernels, IQ4_NL_MatchesGgml) {
  ExpectMatchesGgml(kIQ4_NL, {"76b3fea19c6f5ad0", "94cbe6ca750980b1", "2549a7503a3b2987", "bcc001f0d94f4499"});
}
TEST(QuantKernels, IQ4_XS_MatchesGgml) {
  ExpectMatchesGgml(kIQ4_XS, {"2798cd7606a81626", "842bf068e2ec8627", "9483df75c7cb23e8", "08b8966e6cead009"});
}
TEST(QuantKernels, IQ4_NL_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ4_NL, "3d5908ccb172784a"); }
TEST(QuantKernels, IQ4_XS_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ4_XS, "1b8aa99ff4a080b9"); }

TEST(QuantKernels, IQ4_NL_RoundTripError) {
  EXPECT_LT(RelativeRmse(kIQ4_NL, nullptr), 0.08);
  const std::vector<float> ones(1024, 1.0f);
  EXPECT_LT(RelativeRmse(kIQ4_NL, ones.data()), 0.08);
}
TEST(QuantKernels, IQ4_XS_RoundTripError) {
  EXPECT_LT(RelativeRmse(kIQ4_XS, nullptr), 0.08);
  const std::vector<float> ones(1024, 1.0f);
  EXPECT_LT(RelativeRmse(kIQ4_XS, ones.data()), 0.08);
}

// An all-zero IQ4_NL block stores d = 0 and index 8 (the value 1) everywhere;
// IQ4_XS stores the super-scale −0.0 (0x8000) and block scales l = 0 (+32).
TEST(QuantKernels, IQ4_ZeroBlocks) {
  const std::vector<float> zeros(256, 0.0f);
  const std::vector<uint8_t> nl = Quantize(kIQ4_NL, zeros, 1, 256, nullptr);
  for (int b = 0; b < 8; ++b) {
    EXPECT_EQ(nl[18 * b], 0);
    EXPECT_EQ(nl[18 * b + 1], 0);
    for (int j = 2; j < 18; ++j) EXPECT_EQ(nl[18 * b + j], 0x88);
  }
  const std::vector<uint8_t> xs = Quantize(kIQ4_XS, zeros, 1, 256, nullptr);
  EXPECT_EQ(xs[0], 0x00);
  EXPECT_EQ(xs[1], 0x80);
  EXPECT_EQ(xs[2], 0xAA);  // scales_h: 2 (the high bits of 32) per block
  EXPECT_EQ(xs[3], 0xAA);
  for (int j = 4; j < 8; ++j) EXPECT_EQ(xs[j], 0);
  for (int j = 8; j < 136; ++j) EXPECT_EQ(xs[j], 0x88);
}

// ---- IQ4 vector paths ------------------------------------------------------

struct ScopedIq4Path {
  explicit ScopedIq4Path(SearchPath p) { SetSearchPathForTesting(p); }
  ~ScopedIq4Path() { SetSearchPathForTesting(SearchPath::kAuto); }
};

constexpr SearchPath kIq4VectorPaths[] = {SearchPath::kPortableVector, SearchPath::kAvx2};

// Every vector path gives the scalar path's bytes on `x` (nrows × n_per_row).
void ExpectIq4PathsAgree(const Format& f, const std::vector<float>& x, int64_t nrows, int64_t n_per_row,
                         const float* qw, const std::string& what) {
  std::vector<uint8_t> scalar;
  {
    ScopedIq4Path p(SearchPath::kScalar);
    scalar = Quantize(f, x, nrows, n_per_row, qw);
  }
  for (SearchPath path : kIq4VectorPaths) {
    ScopedIq4Path p(path);
    const std::vector<uint8_t> v = Quantize(f, x, nrows, n_per_row, qw);
    ASSERT_EQ(v.size(), scalar.size());
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_EQ(v[i], scalar[i]) << what << (path == SearchPath::kAvx2 ? " avx2" : " portable") << ": block "
                                 << i / f.block_bytes << " byte " << i % f.block_bytes;
    }
  }
}

void ExpectIq4PathsAgreeOnTestRows(const Format& f) {
  for (int64_t width : {256, 4096}) {
    const int64_t nrows = width == 256 ? 36 : 12;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
      const std::vector<float> x = QuantTestRows(nrows, width, seed);
      const std::vector<float> im = QuantTestImatrix(width, seed);
      const std::string what = "width " + std::to_string(width) + " seed " + std::to_string(seed);
      ExpectIq4PathsAgree(f, x, nrows, width, nullptr, what);
      ExpectIq4PathsAgree(f, x, nrows, width, im.data(), what + " imatrix");
      // Row counts that leave a partial group of 8 blocks / super-blocks.
      ExpectIq4PathsAgree(f, x, 5, width, nullptr, what + " 5 rows");
      ExpectIq4PathsAgree(f, x, 5, width, im.data(), what + " 5 rows imatrix");
    }
  }
}

TEST(QuantKernels, IQ4_NL_VectorPathsMatchScalar) { ExpectIq4PathsAgreeOnTestRows(kIQ4_NL); }
TEST(QuantKernels, IQ4_XS_VectorPathsMatchScalar) { ExpectIq4PathsAgreeOnTestRows(kIQ4_XS); }

// IQ4_NL rows of 3 blocks (groups of 8 blocks span rows; the imatrix restarts
// each row).
TEST(QuantKernels, IQ4_NL_VectorPathsMatchScalarShortRows) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const std::vector<float> x = QuantTestRows(9, 512, seed);  // read as 48 rows of 96
    std::vector<float> im = QuantTestImatrix(256, seed);
    im.resize(96);
    ExpectIq4PathsAgree(kIQ4_NL, x, 48, 32 * 3, nullptr, "96 wide seed " + std::to_string(seed));
    ExpectIq4PathsAgree(kIQ4_NL, x, 48, 32 * 3, im.data(), "96 wide imatrix seed " + std::to_string(seed));
    ExpectIq4PathsAgree(kIQ4_NL, x, 3, 32 * 3, im.data(), "3 rows of 96 seed " + std::to_string(seed));
  }
}

// Blocks whose first trial scale is a power of two, so x·id lands exactly on
// table values, on midpoints between neighbours and one ulp either side of
// them (the best_index_int8 tie rule).
TEST(QuantKernels, IQ4_VectorPathsMatchScalarOnTies) {
  static constexpr int kValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  std::vector<float> targets;
  for (int k = 0; k < 16; ++k) targets.push_back(static_cast<float>(kValues[k]));
  for (int k = 0; k < 15; ++k) {
    const float mid = 0.5f * static_cast<float>(kValues[k] + kValues[k + 1]);
    targets.push_back(mid);
    targets.push_back(std::nextafter(mid, -1e9f));
    targets.push_back(std::nextafter(mid, 1e9f));
  }
  QuantRng rng(21);
  for (int e : {-20, -7, 0, 5}) {
    const float s = std::ldexp(1.0f, e);
    std::vector<float> x(256 * 16);
    for (size_t i = 0; i < x.size(); ++i) {
      const float sign = (i / 32) % 2 ? -1.0f : 1.0f;  // both signs of max
      x[i] = (i % 32 == 0) ? sign * 127.0f * s
                           : sign * s * targets[static_cast<size_t>(rng.Uniform() * targets.size())];
    }
    const std::vector<float> im = QuantTestImatrix(256, 3);
    const std::vector<float> ones(256, 1.0f);
    for (const Format* f : {&kIQ4_NL, &kIQ4_XS}) {
      const std::string what = std::string(f == &kIQ4_NL ? "IQ4_NL" : "IQ4_XS") + " 2^" + std::to_string(e);
      ExpectIq4PathsAgree(*f, x, 16, 256, nullptr, what);
      ExpectIq4PathsAgree(*f, x, 16, 256, im.data(), what + " imatrix");
      ExpectIq4PathsAgree(*f, x, 16, 256, ones.data(), what + " unit imatrix");
    }
  }
}

// ---- TQ1_0 / TQ2_0 ---------------------------------------------------------

TEST(QuantKernels, TQ1_0_MatchesGgml) {
  ExpectMatchesGgml(kTQ1_0, {"379512ae2a70e662", "379512ae2a70e662", "aa826d485b3e51eb", "aa826d485b3e51eb"});
}
TEST(QuantKernels, TQ2_0_MatchesGgml) {
  ExpectMatchesGgml(kTQ2_0, {"ee08b26065bc8d4c", "ee08b26065bc8d4c", "aa826d485b3e51eb", "aa826d485b3e51eb"});
}
TEST(QuantKernels, TQ1_0_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kTQ1_0, "2c662e3d79511328"); }
TEST(QuantKernels, TQ2_0_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kTQ2_0, "4e21ad2ba179017a"); }
TEST(QuantKernels, TQ1_0_IgnoresImatrix) { ExpectIgnoresImatrix(kTQ1_0); }
TEST(QuantKernels, TQ2_0_IgnoresImatrix) { ExpectIgnoresImatrix(kTQ2_0); }

std::vector<float> TernaryRow(int64_t n, float a, uint64_t seed) {
  QuantRng rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = a * static_cast<float>(static_cast<int>(rng.Uniform() * 3) - 1);
  for (int64_t i = 0; i < n; i += 256) x[static_cast<size_t>(i + 17)] = -a;  // every block reaches |a|
  return x;
}

TEST(QuantKernels, TQ1_0_RoundTrip) {
  ExpectExactRoundTrip(kTQ1_0, TernaryRow(1024, 0.375f, 11));
  EXPECT_LT(RelativeRmse(kTQ1_0, nullptr), 0.83);
}
TEST(QuantKernels, TQ2_0_RoundTrip) {
  ExpectExactRoundTrip(kTQ2_0, TernaryRow(1024, 0.375f, 12));
  EXPECT_LT(RelativeRmse(kTQ2_0, nullptr), 0.83);
}

// ---- MXFP4 / NVFP4 ---------------------------------------------------------

TEST(QuantKernels, MXFP4_MatchesGgml) {
  ExpectMatchesGgml(kMXFP4, {"df72b66ea8d31063", "df72b66ea8d31063", "a21cb12267b0cfe5", "a21cb12267b0cfe5"});
}
TEST(QuantKernels, MXFP4_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kMXFP4, "aa84618454566a89"); }
TEST(QuantKernels, MXFP4_IgnoresImatrix) { ExpectIgnoresImatrix(kMXFP4); }

// Values on the e2m1 grid times 2^e, with ±6·2^e in every block, come back
// exactly (the shared exponent is floor(log2(6·2^e)) − 2 = e).
TEST(QuantKernels, MXFP4_RoundTrip) {
  static constexpr float kE2m1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  QuantRng rng(13);
  std::vector<float> x(32 * 40);
  for (size_t i = 0; i < x.size(); ++i) {
    const int e = static_cast<int>(i / 32) * 3 - 60;
    const float sign = rng.Uniform() < 0.5 ? -1.0f : 1.0f;
    x[i] = sign * std::ldexp(kE2m1[static_cast<int>(rng.Uniform() * 8)], e);
    if (i % 32 == 9) x[i] = sign * std::ldexp(6.0f, e);
  }
  ExpectExactRoundTrip(kMXFP4, x);
  EXPECT_LT(RelativeRmse(kMXFP4, nullptr), 0.12);
}

TEST(QuantKernels, NVFP4_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kNVFP4, "nvfp4.bin", "8725129c359f18b1", "df65277c91cd103f");
}
TEST(QuantKernels, NVFP4_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kNVFP4, "193bf049ebd3d9b3"); }

// ---- Q1_0 / Q2_0 -----------------------------------------------------------

TEST(QuantKernels, Q1_0_MatchesGgml) {
  ExpectMatchesGgml(kQ1_0, {"0ec792ce12cdb847", "0ec792ce12cdb847", "c6ae134d4880b4b3", "c6ae134d4880b4b3"});
}
TEST(QuantKernels, Q2_0_MatchesGgml) {
  ExpectMatchesGgml(kQ2_0, {"96611c25c7dc4e83", "96611c25c7dc4e83", "b0eb852f9b8de87c", "b0eb852f9b8de87c"});
}
TEST(QuantKernels, Q1_0_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kQ1_0, "1ee12af108b3b9b6"); }
TEST(QuantKernels, Q2_0_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kQ2_0, "6acf58d077b8ddeb"); }
TEST(QuantKernels, Q1_0_IgnoresImatrix) { ExpectIgnoresImatrix(kQ1_0); }
TEST(QuantKernels, Q2_0_IgnoresImatrix) { ExpectIgnoresImatrix(kQ2_0); }

TEST(QuantKernels, Q1_0_RoundTrip) {
  QuantRng rng(14);
  std::vector<float> x(512);
  for (float& v : x) v = rng.Uniform() < 0.5 ? -0.625f : 0.625f;  // d = mean |x| = 0.625
  ExpectExactRoundTrip(kQ1_0, x);
  EXPECT_LT(RelativeRmse(kQ1_0, nullptr), 0.61);
}
TEST(QuantKernels, Q2_0_RoundTrip) {
  ExpectExactRoundTrip(kQ2_0, TernaryRow(512, 0.75f, 15));  // d = amax; codes −1, 0, 1
  EXPECT_LT(RelativeRmse(kQ2_0, nullptr), 0.73);
}

// ---- IQ1 / IQ2 / IQ3 (dequantization only) --------------------------------

TEST(QuantKernels, IQ2_XXS_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ2_XXS, "iq2_xxs.bin", "8dbfc35226a64eb6", "620a5ef5d9c16294");
}
TEST(QuantKernels, IQ2_XS_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ2_XS, "iq2_xs.bin", "b167394e0ef05bc4", "af1d6a36ed319ce8");
}
TEST(QuantKernels, IQ2_S_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ2_S, "iq2_s.bin", "3db5efc75cfb6d10", "0d348665c620d8e5");
}
TEST(QuantKernels, IQ3_XXS_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ3_XXS, "iq3_xxs.bin", "12c96d2b38c6a2c2", "3375e3be0d609e15");
}
TEST(QuantKernels, IQ3_S_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ3_S, "iq3_s.bin", "3058641a42b8a27d", "46bbbf4099d70181");
}
TEST(QuantKernels, IQ1_S_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ1_S, "iq1_s.bin", "ed0d87cdabd426c2", "797c6c5503456621");
}
TEST(QuantKernels, IQ1_M_DequantizeMatchesGgml) {
  ExpectFixtureMatchesGgml(kIQ1_M, "iq1_m.bin", "690006cd4178bad8", "802f5c1dced88e50");
}

TEST(QuantKernels, IQ2_XXS_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ2_XXS, "0c69e24c5ef61ca6"); }
TEST(QuantKernels, IQ2_XS_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ2_XS, "db97aa67d8ffdabd"); }
TEST(QuantKernels, IQ2_S_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ2_S, "39f18fecf294e870"); }
TEST(QuantKernels, IQ3_XXS_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ3_XXS, "e2cbca2b123db1ba"); }
TEST(QuantKernels, IQ3_S_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ3_S, "d366a860316aa79b"); }
TEST(QuantKernels, IQ1_S_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ1_S, "c29b33c696e366a2"); }
TEST(QuantKernels, IQ1_M_DequantizeRandomBlocks) { ExpectRandomBlocksMatchGgml(kIQ1_M, "0945ee89d1a6a4ba"); }

// Spot values: an IQ2_XXS block whose groups all use grid entry 0 (all
// magnitudes 8) with no sign flips and scale nibble 0 decodes to
// d·0.5·0.25·8 = d everywhere; setting sign code 1 for the first group (code
// 1 → signs 0b10000001) negates elements 0 and 7.
TEST(QuantKernels, IQ2_XXS_DequantizeSpotValues) {
  std::vector<uint8_t> q(66, 0);
  q[1] = 0x40;  // d = 2.0 (f16 0x4000)
  q[2 + 4] = 1;  // first 32-group: sign code of group 0 = 1
  const std::vector<float> y = Dequantize(kIQ2_XXS, q);
  for (int i = 0; i < 256; ++i) {
    const float expect = (i == 0 || i == 7) ? -2.0f : 2.0f;
    ASSERT_EQ(y[i], expect) << i;
  }
}

}  // namespace
}  // namespace ckpt::quant
