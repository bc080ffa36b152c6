// Kernel-level tests of the legacy (Q4_0..Q8_0) and K-quant (Q2_K..Q6_K)
// quantizers and dequantizers in lib/quant/kernels.h.
//
// The expected XXH64 values were produced by ggml 0.18.1 itself (the
// ggml_quantize_chunk / to_float of the build llama-quantize uses) on exactly
// the same inputs: QuantTestRows / QuantTestImatrix from quant_test_data.h,
// and pseudo-random block bytes for the dequantizers. A hash mismatch means
// the bytes differ from llama-quantize's.
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "lib/quant/common.h"
#include "lib/quant/kernels.h"
#include "tests/quant_test_data.h"

namespace ckpt::quant {
namespace {

using QuantizeFn = void (*)(const float*, uint8_t*, int64_t, int64_t, const float*);
using DequantizeFn = void (*)(const uint8_t*, float*, int64_t);

struct Kind {
  int block;           // elements per block
  size_t block_bytes;  // bytes per block
  QuantizeFn quantize;
  DequantizeFn dequantize;
};

constexpr Kind kQ4_0{32, 18, QuantizeQ4_0, DequantizeQ4_0};
constexpr Kind kQ4_1{32, 20, QuantizeQ4_1, DequantizeQ4_1};
constexpr Kind kQ5_0{32, 22, QuantizeQ5_0, DequantizeQ5_0};
constexpr Kind kQ5_1{32, 24, QuantizeQ5_1, DequantizeQ5_1};
constexpr Kind kQ8_0{32, 34, QuantizeQ8_0, DequantizeQ8_0};
constexpr Kind kQ2_K{256, 84, QuantizeQ2_K, DequantizeQ2_K};
constexpr Kind kQ3_K{256, 110, QuantizeQ3_K, DequantizeQ3_K};
constexpr Kind kQ4_K{256, 144, QuantizeQ4_K, DequantizeQ4_K};
constexpr Kind kQ5_K{256, 176, QuantizeQ5_K, DequantizeQ5_K};
constexpr Kind kQ6_K{256, 210, QuantizeQ6_K, DequantizeQ6_K};

uint64_t Hash(const void* p, size_t n) { return XXH64(p, n, 0); }

// The batched searches have a scalar, a portable-vector and an AVX2
// implementation; all must give ggml's bytes. (kAvx2 falls back to the
// portable code on CPUs without AVX2.)
constexpr SearchPath kPaths[] = {SearchPath::kScalar, SearchPath::kPortableVector, SearchPath::kAvx2};

const char* PathName(SearchPath p) {
  switch (p) {
    case SearchPath::kScalar: return "scalar";
    case SearchPath::kPortableVector: return "portable vector";
    case SearchPath::kAvx2: return CpuHasAvx2() ? "avx2" : "avx2 (absent: portable vector)";
    default: return "auto";
  }
}

// Restores the automatic choice when a test ends.
struct ScopedSearchPath {
  explicit ScopedSearchPath(SearchPath p) { SetSearchPathForTesting(p); }
  ~ScopedSearchPath() { SetSearchPathForTesting(SearchPath::kAuto); }
};

std::vector<uint8_t> Quantize(const Kind& k, const std::vector<float>& x, int64_t nrows, int64_t n_per_row,
                              const float* imatrix) {
  std::vector<uint8_t> out(static_cast<size_t>(nrows * (n_per_row / k.block)) * k.block_bytes, 0xAA);
  k.quantize(x.data(), out.data(), nrows, n_per_row, imatrix);
  return out;
}

// XXH64 of the quantized bytes of QuantTestRows(nrows, n_per_row, seed), with
// QuantTestImatrix(n_per_row, seed) when `with_imatrix`.
uint64_t QuantizedHash(const Kind& k, int64_t nrows, int64_t n_per_row, uint64_t seed, bool with_imatrix) {
  const std::vector<float> x = testing::QuantTestRows(nrows, n_per_row, seed);
  const std::vector<float> w = testing::QuantTestImatrix(n_per_row, seed);
  const std::vector<uint8_t> q = Quantize(k, x, nrows, n_per_row, with_imatrix ? w.data() : nullptr);
  return Hash(q.data(), q.size());
}

// XXH64 of the floats decoded from the quantized QuantTestRows(24, 512, 7).
uint64_t DequantizedHash(const Kind& k, bool with_imatrix) {
  const std::vector<float> x = testing::QuantTestRows(24, 512, 7);
  const std::vector<float> w = testing::QuantTestImatrix(512, 7);
  const std::vector<uint8_t> q = Quantize(k, x, 24, 512, with_imatrix ? w.data() : nullptr);
  std::vector<float> y(x.size());
  k.dequantize(q.data(), y.data(), static_cast<int64_t>(y.size()));
  return Hash(y.data(), y.size() * sizeof(float));
}

// XXH64 of the floats decoded from 64 blocks of pseudo-random bytes (every
// scale bit pattern, including f16 infinities and NaNs).
uint64_t RandomBlocksHash(DequantizeFn dequantize, int block, size_t block_bytes) {
  testing::QuantRng rng(123);
  std::vector<uint8_t> bytes(64 * block_bytes);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.Next());
  std::vector<float> y(static_cast<size_t>(64 * block));
  dequantize(bytes.data(), y.data(), static_cast<int64_t>(y.size()));
  return Hash(y.data(), y.size() * sizeof(float));
}

// RMSE of dequantize(quantize(x)) against x for N(0, 1) rows.
double RoundTripRmse(const Kind& k, bool with_imatrix) {
  constexpr int64_t kRows = 16, kCols = 1024;
  testing::QuantRng rng(42);
  std::vector<float> x(kRows * kCols);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  std::vector<float> w(kCols);
  for (float& v : w) v = static_cast<float>(std::exp(rng.Normal()));
  const std::vector<uint8_t> q = Quantize(k, x, kRows, kCols, with_imatrix ? w.data() : nullptr);
  std::vector<float> y(x.size());
  k.dequantize(q.data(), y.data(), static_cast<int64_t>(y.size()));
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += (double{y[i]} - x[i]) * (double{y[i]} - x[i]);
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// ---- quantizers: 24×512 (seed 7) and 24×4096 (seed 3) rows --------------------

#define CKPT_MATCHES_GGML(T, Variant, imatrix, h512, h4096)               \
  TEST(QuantKernels, T##Variant##MatchesGgml) {                           \
    for (SearchPath path : kPaths) {                                      \
      ScopedSearchPath scoped(path);                                      \
      SCOPED_TRACE(PathName(path));                                       \
      EXPECT_EQ(QuantizedHash(k##T, 24, 512, 7, imatrix), h512##ull);     \
      EXPECT_EQ(QuantizedHash(k##T, 24, 4096, 3, imatrix), h4096##ull);   \
    }                                                                     \
  }

CKPT_MATCHES_GGML(Q4_0, Ref, false, 0xa85ce2309a2cf8f1, 0xac9a48d40bf3cf9e)
CKPT_MATCHES_GGML(Q4_0, Imatrix, true, 0x970abc6045e87e82, 0xe6d70078d2fd1d58)
CKPT_MATCHES_GGML(Q4_1, Ref, false, 0x7ebd1a0bf2016189, 0xa7fb2241fe421e78)
CKPT_MATCHES_GGML(Q4_1, Imatrix, true, 0x8080ed753a966a4d, 0x1b88b30ce63202f8)
CKPT_MATCHES_GGML(Q5_0, Ref, false, 0x110e3db697107684, 0xed351cec5e94f164)
CKPT_MATCHES_GGML(Q5_0, Imatrix, true, 0xc43949ae978309cf, 0xc97f385075ae0859)
CKPT_MATCHES_GGML(Q5_1, Ref, false, 0x5b9cab032557aa93, 0xccea6d7056cadb8d)
CKPT_MATCHES_GGML(Q5_1, Imatrix, true, 0x5e4e80a08f4f5362, 0x21077144b1edf4ff)
// Q8_0 ignores the imatrix: both variants give the same bytes.
CKPT_MATCHES_GGML(Q8_0, Ref, false, 0x82f3ba0c7c925fb9, 0x1442a29e1891a163)
CKPT_MATCHES_GGML(Q8_0, Imatrix, true, 0x82f3ba0c7c925fb9, 0x1442a29e1891a163)
CKPT_MATCHES_GGML(Q2_K, Ref, false, 0x377d014f2e1eaaa2, 0x203515fa26998614)
CKPT_MATCHES_GGML(Q2_K, Imatrix, true, 0xadcf5ee9f29d4021, 0x0b8a8e8c166f8df0)
CKPT_MATCHES_GGML(Q3_K, Ref, false, 0xe716fb4204932d90, 0x926f968be6d6e625)
CKPT_MATCHES_GGML(Q3_K, Imatrix, true, 0xb6c02c0ff7c9abf3, 0xca88d71b3da5003e)
CKPT_MATCHES_GGML(Q4_K, Ref, false, 0x070a3649925e7295, 0x61f38686a4c60426)
CKPT_MATCHES_GGML(Q4_K, Imatrix, true, 0x485b51de837a3dbb, 0x7616aebadec2632a)
CKPT_MATCHES_GGML(Q5_K, Ref, false, 0x81db1008926a7acc, 0x78efa0b327d9d4ce)
CKPT_MATCHES_GGML(Q5_K, Imatrix, true, 0xd98b0762921df8b9, 0xa58d45d698ed24c8)
CKPT_MATCHES_GGML(Q6_K, Ref, false, 0xc1793bc01e5444bf, 0x61832845f9fa49c9)
CKPT_MATCHES_GGML(Q6_K, Imatrix, true, 0x7e18bac3bc582d52, 0xc4d2026a0c185879)

#undef CKPT_MATCHES_GGML

// Legacy types on rows that are not a multiple of 256 (σ² spans the whole row).
// 416 = 13 blocks: a full batch of 8 imatrix searches and a partial one.
#define CKPT_NARROW_MATCHES_GGML(T, ref_hash, imatrix_hash)                  \
  TEST(QuantKernels, T##NarrowRowsMatchGgml) {                               \
    for (SearchPath path : kPaths) {                                         \
      ScopedSearchPath scoped(path);                                         \
      SCOPED_TRACE(PathName(path));                                          \
      EXPECT_EQ(QuantizedHash(k##T, 24, 416, 9, false), ref_hash##ull);      \
      EXPECT_EQ(QuantizedHash(k##T, 24, 416, 9, true), imatrix_hash##ull);   \
    }                                                                        \
  }

CKPT_NARROW_MATCHES_GGML(Q4_0, 0xe77089c3df0b0f4a, 0x343b90b036fe60d7)
CKPT_NARROW_MATCHES_GGML(Q4_1, 0xc8c1ecb7429de397, 0x0cc7e11a6866ef2a)
CKPT_NARROW_MATCHES_GGML(Q5_0, 0x9ba405ae97b14b73, 0x96278a109117c26d)
CKPT_NARROW_MATCHES_GGML(Q5_1, 0xbc7b5750a2091287, 0xe82991efed999f92)
CKPT_NARROW_MATCHES_GGML(Q8_0, 0x40f44771494c1b64, 0x40f44771494c1b64)

#undef CKPT_NARROW_MATCHES_GGML

// Blocks of 32 that stress the lane-parallel block scans: opposite-sign ties
// of the largest magnitude, ±0 extremes, NaN and ±inf (also as the last
// element of a 256-block), tiny and huge scales. Rows of EdgeBlockRows are
// these blocks back to back.
std::vector<float> EdgeBlockRows(int64_t n) {
  testing::QuantRng rng(2024);
  std::vector<float> x(static_cast<size_t>(n));
  auto index = [&rng] { return static_cast<int>(rng.Next() % 32); };
  auto sign = [&rng](float v) { return (rng.Next() & 1) ? v : -v; };
  for (int64_t b = 0; b < n / 32; ++b) {
    float* p = x.data() + 32 * b;
    for (int j = 0; j < 32; ++j) p[j] = static_cast<float>(rng.Uniform() * 2 - 1);
    switch (b % 9) {
      case 0:
        for (int j = 0; j < 32; ++j) p[j] = sign(0.0f);
        break;
      case 1: {
        const int i = index(), k = index();
        p[i] = 2.0f;
        p[k] = -2.0f;
        break;
      }
      case 2:
        for (int t = 0; t < 4; ++t) {
          const int i = index();
          p[i] = sign(3.0f);
        }
        break;
      case 3: {
        for (int j = 0; j < 32; ++j) p[j] = std::fabs(p[j]);
        const int i = index();
        p[i] = sign(0.0f);
        break;
      }
      case 4: {
        for (int j = 0; j < 32; ++j) p[j] = -std::fabs(p[j]);
        const int i = index();
        p[i] = sign(0.0f);
        break;
      }
      case 5: {
        const int i = index(), k = index(), m = index();
        p[i] = 1.5f;
        p[k] = -1.5f;
        p[m] = NAN;
        break;
      }
      case 6: {
        const int i = index();
        p[i] = sign(INFINITY);
        break;
      }
      case 7:
        for (int j = 0; j < 32; ++j) p[j] *= 1e-39f;
        break;
      default:
        for (int j = 0; j < 32; ++j) p[j] *= 3e38f;
        break;
    }
    if (b % 24 == 7) p[31] = NAN;
  }
  return x;
}

// The lane-parallel scans (signed max, min/max, abs max), the in-range
// rounding and truncation fast paths and their fallbacks, on EdgeBlockRows(4 ×
// 2304): ggml's bytes, ref and with QuantTestImatrix(2304, 5).
TEST(QuantKernels, EdgeBlocksMatchGgml) {
  struct Case {
    const char* name;
    QuantizeFn quantize;
    int block;
    size_t block_bytes;
    uint64_t ref_hash, imatrix_hash;
  };
  const Case cases[] = {
      {"Q4_0", QuantizeQ4_0, 32, 18, 0x5255c07f0fb3ecc4ull, 0xf325e6439224f20dull},
      {"Q4_1", QuantizeQ4_1, 32, 20, 0x259c99de57214266ull, 0x259c99de57214266ull},
      {"Q5_0", QuantizeQ5_0, 32, 22, 0x26e97395e281ce84ull, 0x7b910aa50e63a739ull},
      {"Q5_1", QuantizeQ5_1, 32, 24, 0x921737550b08bc6bull, 0x921737550b08bc6bull},
      {"Q8_0", QuantizeQ8_0, 32, 34, 0x57e196d1fcbcc421ull, 0x57e196d1fcbcc421ull},
      {"Q3_K", QuantizeQ3_K, 256, 110, 0x7bc5270b7f24b250ull, 0xd3aa7f82e6f11411ull},
      {"Q2_0", QuantizeQ2_0, 64, 18, 0x5cae846f1e7a7cfaull, 0x5cae846f1e7a7cfaull},
      {"TQ1_0", QuantizeTQ1_0, 256, 54, 0xaaeb99c5e0cf1c33ull, 0xaaeb99c5e0cf1c33ull},
      {"TQ2_0", QuantizeTQ2_0, 256, 66, 0x21b814b3f73bace9ull, 0x21b814b3f73bace9ull},
  };
  constexpr int64_t kRows = 4, kCols = 2304;
  const std::vector<float> x = EdgeBlockRows(kRows * kCols);
  const std::vector<float> w = testing::QuantTestImatrix(kCols, 5);
  for (SearchPath path : kPaths) {
    ScopedSearchPath scoped(path);
    SCOPED_TRACE(PathName(path));
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name);
      std::vector<uint8_t> q(static_cast<size_t>(kRows * kCols / c.block) * c.block_bytes, 0xAA);
      c.quantize(x.data(), q.data(), kRows, kCols, nullptr);
      EXPECT_EQ(Hash(q.data(), q.size()), c.ref_hash);
      c.quantize(x.data(), q.data(), kRows, kCols, w.data());
      EXPECT_EQ(Hash(q.data(), q.size()), c.imatrix_hash);
    }
  }
}

// ---- batched searches against the scalar ones -------------------------------------

// MakeQ3QuantsMany (Q3_K ref's search) on every path gives MakeQ3Quants' levels
// and scale bits, group by group: QuantTestRows for many seeds (edge-case rows
// included), rows with NaN / ±inf / huge values, and group counts that leave
// a remainder for the narrower vector and scalar tails.
TEST(QuantKernels, Q3QuantsManyMatchesScalar) {
  constexpr int kN = 16, kNmax = 4;
  std::vector<std::vector<float>> inputs;
  for (uint64_t seed = 1; seed <= 24; ++seed) inputs.push_back(testing::QuantTestRows(24, 256, seed));
  {
    testing::QuantRng rng(77);
    std::vector<float> x(64 * kN);
    const float specials[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e-40f, 0.0f, -0.0f};
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<float>(rng.Normal());
      if (rng.Next() % 11 == 0) x[i] = specials[rng.Next() % 8];
    }
    inputs.push_back(x);
  }
  for (const std::vector<float>& x : inputs) {
    const int total = static_cast<int>(x.size()) / kN;
    std::vector<int8_t> want_L(x.size());
    std::vector<float> want_s(total);
    for (int g = 0; g < total; ++g) want_s[g] = MakeQ3Quants(kN, kNmax, x.data() + g * kN, want_L.data() + g * kN, true);
    for (SearchPath path : kPaths) {
      ScopedSearchPath scoped(path);
      SCOPED_TRACE(PathName(path));
      for (int count : {total, 8, 13, 16, 29}) {
        count = std::min(count, total);
        std::vector<int8_t> L(static_cast<size_t>(count) * kN, 99);
        std::vector<float> s(count);
        MakeQ3QuantsMany(count, kN, kNmax, x.data(), L.data(), s.data());
        ASSERT_EQ(0, std::memcmp(L.data(), want_L.data(), L.size())) << "count " << count;
        ASSERT_EQ(0, std::memcmp(s.data(), want_s.data(), s.size() * sizeof(float))) << "count " << count;
      }
    }
  }
}

// ---- dequantizers --------------------------------------------------------------

#define CKPT_DEQUANT_MATCHES_GGML(T, ref_hash, imatrix_hash, random_hash)                     \
  TEST(QuantKernels, T##DequantizeMatchesGgml) {                                              \
    EXPECT_EQ(DequantizedHash(k##T, false), ref_hash##ull);                                   \
    EXPECT_EQ(DequantizedHash(k##T, true), imatrix_hash##ull);                                \
    EXPECT_EQ(RandomBlocksHash(k##T.dequantize, k##T.block, k##T.block_bytes), random_hash##ull); \
  }

CKPT_DEQUANT_MATCHES_GGML(Q4_0, 0x99829d6df23fc223, 0x7dea527815ddc0fc, 0x1596a7811ff073d2)
CKPT_DEQUANT_MATCHES_GGML(Q4_1, 0x44c75a898d0e4359, 0x43e1a0e3c9343b6d, 0xf1850e064fe4afab)
CKPT_DEQUANT_MATCHES_GGML(Q5_0, 0x52ef4b5bc46d155a, 0x2102389729a8035c, 0x0e13ebd92d9871f0)
CKPT_DEQUANT_MATCHES_GGML(Q5_1, 0xa58801172af5b0c9, 0x674ad07bc4785f7b, 0xdd22685944325f13)
CKPT_DEQUANT_MATCHES_GGML(Q8_0, 0x7b63646a989d1928, 0x7b63646a989d1928, 0xa29926372d87e051)
CKPT_DEQUANT_MATCHES_GGML(Q2_K, 0x9cb7ae6d1d05a860, 0x4cbb582288917ce1, 0x8f25369572014880)
CKPT_DEQUANT_MATCHES_GGML(Q3_K, 0xef53731b949375bb, 0x6aa2d96c4b922c44, 0x76f7d14d552821bf)
CKPT_DEQUANT_MATCHES_GGML(Q4_K, 0x473cf2eb9c965633, 0x5f36b6fb9af724a4, 0xefd10329486cfc82)
CKPT_DEQUANT_MATCHES_GGML(Q5_K, 0x00803f130b981348, 0xe63f953e10333653, 0x9fd7702e68073e2c)
CKPT_DEQUANT_MATCHES_GGML(Q6_K, 0x21f31b252a2c7ec4, 0x623821649509bbb5, 0x12ccf671c471c3c9)

#undef CKPT_DEQUANT_MATCHES_GGML

// Q8_K blocks (f32 d, int8 qs[256], int16 bsums[16]) with a finite d.
TEST(QuantKernels, Q8_KDequantizeMatchesGgml) {
  testing::QuantRng rng(99);
  std::vector<uint8_t> bytes(64 * 292);
  for (int i = 0; i < 64; ++i) {
    uint8_t* p = bytes.data() + i * 292;
    for (int j = 4; j < 292; ++j) p[j] = static_cast<uint8_t>(rng.Next());
    const float d = static_cast<float>(rng.Normal() * 0.01);
    std::memcpy(p, &d, sizeof d);
  }
  std::vector<float> y(64 * 256);
  DequantizeQ8_K(bytes.data(), y.data(), static_cast<int64_t>(y.size()));
  EXPECT_EQ(Hash(y.data(), y.size() * sizeof(float)), 0x2541c4f64c510bdaull);
}

// ggml has no Q8_1 decoder; ours is q·d with d the first f16 and the stored
// sum (second f16) ignored.
TEST(QuantKernels, Q8_1DequantizeIsQTimesD) {
  uint8_t block[36] = {};
  block[0] = 0x00;
  block[1] = 0x38;  // d = 0.5
  block[2] = 0x00;
  block[3] = 0x7C;  // s = +inf, must not matter
  for (int j = 0; j < 32; ++j) block[4 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  float y[32];
  DequantizeQ8_1(block, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.5f * static_cast<float>(j - 16)) << j;
}

// ---- round trips ---------------------------------------------------------------

#define CKPT_ROUND_TRIP(T, bound)                          \
  TEST(QuantKernels, T##RoundTripError) {                  \
    EXPECT_LT(RoundTripRmse(k##T, false), bound);          \
    EXPECT_LT(RoundTripRmse(k##T, true), bound);           \
  }

// Measured (ref / imatrix): Q4_0 .085/.083, Q4_1 .078/.072, Q5_0 .042/.041,
// Q5_1 .037/.035, Q8_0 .0053, Q2_K .291/.278, Q3_K .150/.149, Q4_K .070/.073,
// Q5_K .035/.036, Q6_K .018/.018.
CKPT_ROUND_TRIP(Q4_0, 0.095)
CKPT_ROUND_TRIP(Q4_1, 0.09)
CKPT_ROUND_TRIP(Q5_0, 0.05)
CKPT_ROUND_TRIP(Q5_1, 0.045)
CKPT_ROUND_TRIP(Q8_0, 0.007)
CKPT_ROUND_TRIP(Q2_K, 0.33)
CKPT_ROUND_TRIP(Q3_K, 0.17)
CKPT_ROUND_TRIP(Q4_K, 0.085)
CKPT_ROUND_TRIP(Q5_K, 0.042)
CKPT_ROUND_TRIP(Q6_K, 0.021)

#undef CKPT_ROUND_TRIP

// All-zero and degenerate rows decode to exact zeros (no NaN from 0/0).
TEST(QuantKernels, ZeroRowsDecodeToZero) {
  const Kind kinds[] = {kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ2_K, kQ3_K, kQ4_K, kQ5_K, kQ6_K};
  const std::vector<float> x(2 * 512, 0.0f);
  const std::vector<float> w(512, 1.0f);
  for (const Kind& k : kinds) {
    for (const float* imatrix : {static_cast<const float*>(nullptr), w.data()}) {
      const std::vector<uint8_t> q = Quantize(k, x, 2, 512, imatrix);
      std::vector<float> y(x.size(), 1.0f);
      k.dequantize(q.data(), y.data(), static_cast<int64_t>(y.size()));
      for (float v : y) ASSERT_EQ(v, 0.0f) << "block bytes " << k.block_bytes;
    }
  }
}

}  // namespace
}  // namespace ckpt::quant
