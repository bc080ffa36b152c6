#include "ckpt/dtype_convert.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/status.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }
float FromBits(uint32_t u) { return std::bit_cast<float>(u); }

// ---- hardware reference for F16 ----------------------------------------------

// F16C is VEX-encoded, so it also needs the OS to enable AVX state, which
// __builtin_cpu_supports("avx") checks. (Clang 14 has no "f16c" there.)
bool HaveF16c() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_F16C) != 0 && __builtin_cpu_supports("avx");
}

__attribute__((target("f16c"))) uint16_t HwF32ToF16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

__attribute__((target("f16c"))) uint32_t HwF16ToF32Bits(uint16_t h) {
  return Bits(_cvtsh_ss(h));
}

// Exact F16 value from its fields, independent of the library.
double F16Value(uint16_t h) {
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  const double mag = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000) ? -mag : mag;
}

// The F32 patterns the F32 -> F16 sweep checks: every 4099th pattern (4099 is
// prime, so the low bits vary too), each F16 rounding midpoint and its F32
// neighbours (both signs), and a few NaN payloads.
std::vector<uint32_t> F16SweepInputs() {
  std::vector<uint32_t> in;
  in.reserve((1ull << 32) / 4099 + 400000);
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4099) in.push_back(static_cast<uint32_t>(u));
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    // Midpoint between h and the next F16 up (Inf above 65504: 65520).
    const double hi = h + 1 == 0x7C00 ? 65536.0 : F16Value(static_cast<uint16_t>(h + 1));
    const uint32_t mid = Bits(static_cast<float>((F16Value(static_cast<uint16_t>(h)) + hi) / 2));
    for (uint32_t d = 0; d < 5; ++d) {
      const uint32_t u = mid + d - 2;
      in.push_back(u);
      in.push_back(u | 0x80000000u);
    }
  }
  for (uint32_t u : {0x7F800000u, 0x7F800001u, 0x7F802000u, 0x7FA00000u, 0x7FC00000u,
                     0x7FFFFFFFu, 0xFF800001u, 0xFFC00001u, 0xFFFFFFFFu}) {
    in.push_back(u);
  }
  return in;
}

// ---- F16 -------------------------------------------------------------------------

TEST(DtypeConvert, F16WidenIsExactAllValues) {
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = F16ToF32(h);
    const bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
    if (nan) {
      // Sign and payload kept, quiet bit set.
      EXPECT_EQ(Bits(f), (static_cast<uint32_t>(h & 0x8000) << 16) | 0x7FC00000u |
                             (static_cast<uint32_t>(h & 0x3FF) << 13))
          << std::hex << h;
    } else if ((h & 0x7FFF) == 0x7C00) {
      EXPECT_TRUE(std::isinf(f) && std::signbit(f) == ((h & 0x8000) != 0)) << std::hex << h;
    } else {
      EXPECT_EQ(static_cast<double>(f), F16Value(h)) << std::hex << h;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
    }
  }
}

TEST(DtypeConvert, F16WidenMatchesF16cAllValues) {
  if (!HaveF16c()) GTEST_SKIP() << "CPU has no F16C";
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    ASSERT_EQ(Bits(F16ToF32(h)), HwF16ToF32Bits(h)) << std::hex << h;
  }
}

TEST(DtypeConvert, F16RoundTripAllValues) {
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const uint16_t back = F32ToF16(F16ToF32(h));
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) {
      // NaN stays NaN with its sign and payload; signalling ones get quieted.
      EXPECT_EQ(back, h | 0x0200) << std::hex << h;
    } else {
      EXPECT_EQ(back, h) << std::hex << h;
    }
  }
}

TEST(DtypeConvert, F32ToF16MatchesF16cSweep) {
  if (!HaveF16c()) GTEST_SKIP() << "CPU has no F16C";
  const std::vector<uint32_t> in = F16SweepInputs();
  std::vector<uint16_t> bulk(in.size());
  ASSERT_TRUE(ConvertElements(DType::kF32,
                              absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(in.data()),
                                                  in.size() * 4),
                              DType::kF16,
                              absl::MakeSpan(reinterpret_cast<uint8_t*>(bulk.data()),
                                             bulk.size() * 2),
                              in.size())
                  .ok());
  for (size_t i = 0; i < in.size(); ++i) {
    const uint16_t want = HwF32ToF16(FromBits(in[i]));
    ASSERT_EQ(F32ToF16(FromBits(in[i])), want) << std::hex << in[i];
    ASSERT_EQ(bulk[i], want) << std::hex << in[i];
  }
}

TEST(DtypeConvert, F32ToF16SpotValues) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3C00);
  EXPECT_EQ(F32ToF16(-2.0f), 0xC000);
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(F32ToF16(65519.99f), 0x7BFF);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7C00);  // tie, 0x7BFF is odd: up to Inf
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -25)), 0x0000);        // tie to even 0
  EXPECT_EQ(F32ToF16(std::ldexp(3.0f, -25)), 0x0002);        // tie 1.5 ulp: even 2
  EXPECT_EQ(F32ToF16(std::ldexp(1023.5f, -24)), 0x0400);     // tie: up to min normal
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie: even
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie: even
  EXPECT_EQ(F32ToF16(FromBits(0x7F802000u)), 0x7E01);        // payload kept, quieted
  EXPECT_EQ(F32ToF16(FromBits(0xFFC00000u)), 0xFE00);
}

// ---- BF16 ------------------------------------------------------------------------

uint16_t BF16Reference(uint32_t u) {
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

TEST(DtypeConvert, BF16RoundTripAllValues) {
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const uint16_t b = static_cast<uint16_t>(i);
    const float f = BF16ToF32(b);
    EXPECT_EQ(Bits(f), i << 16);
    const uint16_t back = F32ToBF16(f);
    if ((b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0) {
      EXPECT_EQ(back, b | 0x40) << std::hex << b;  // NaN: sign kept, quieted
    } else {
      EXPECT_EQ(back, b) << std::hex << b;
    }
  }
}

TEST(DtypeConvert, F32ToBF16RoundingTies) {
  EXPECT_EQ(F32ToBF16(FromBits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(F32ToBF16(FromBits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(F32ToBF16(FromBits(0x3F807FFFu)), 0x3F80);
  EXPECT_EQ(F32ToBF16(FromBits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(F32ToBF16(FromBits(0xBF818000u)), 0xBF82);  // symmetric in sign
  EXPECT_EQ(F32ToBF16(FromBits(0x7F7F8000u)), 0x7F80);  // tie at the top: Inf
  EXPECT_EQ(F32ToBF16(FromBits(0x7F7F7FFFu)), 0x7F7F);
  EXPECT_EQ(F32ToBF16(FromBits(0xFF800000u)), 0xFF80);  // -Inf
  EXPECT_EQ(F32ToBF16(FromBits(0x00008000u)), 0x0000);  // subnormal tie
  EXPECT_EQ(F32ToBF16(FromBits(0x00018000u)), 0x0002);
  EXPECT_EQ(F32ToBF16(FromBits(0x7F800001u)), 0x7FC0);  // NaN: quiet bit forced
  EXPECT_EQ(F32ToBF16(FromBits(0xFF810000u)), 0xFFC1);
  EXPECT_EQ(F32ToBF16(FromBits(0x7FFFFFFFu)), 0x7FFF);
}

TEST(DtypeConvert, F32ToBF16Sweep) {
  std::vector<uint32_t> in;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4099) in.push_back(static_cast<uint32_t>(u));
  for (uint32_t hi = 0; hi < 0x10000; hi += 7) {
    for (uint32_t lo : {0x7FFFu, 0x8000u, 0x8001u}) in.push_back(hi << 16 | lo);
  }
  std::vector<uint16_t> bulk(in.size());
  ASSERT_TRUE(ConvertElements(DType::kF32,
                              absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(in.data()),
                                                  in.size() * 4),
                              DType::kBF16,
                              absl::MakeSpan(reinterpret_cast<uint8_t*>(bulk.data()),
                                             bulk.size() * 2),
                              in.size())
                  .ok());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(F32ToBF16(FromBits(in[i])), BF16Reference(in[i])) << std::hex << in[i];
    ASSERT_EQ(bulk[i], BF16Reference(in[i])) << std::hex << in[i];
  }
}

// ---- F8 --------------------------------------------------------------------------

enum class Overflow { kNaNSigned, kInf, kFnuzNaN };

struct F8Type {
  const char* name;
  uint8_t (*narrow)(float);
  float (*widen)(uint8_t);
  int man_bits;
  int bias;
  uint8_t max_code;  // largest finite positive encoding
  Overflow overflow;
};

const F8Type kF8Types[] = {
    {"E4M3FN", F32ToF8E4M3, F8E4M3ToF32, 3, 7, 0x7E, Overflow::kNaNSigned},
    {"E5M2", F32ToF8E5M2, F8E5M2ToF32, 2, 15, 0x7B, Overflow::kInf},
    {"E4M3FNUZ", F32ToF8E4M3Fnuz, F8E4M3FnuzToF32, 3, 8, 0x7F, Overflow::kFnuzNaN},
    {"E5M2FNUZ", F32ToF8E5M2Fnuz, F8E5M2FnuzToF32, 2, 16, 0x7F, Overflow::kFnuzNaN},
};

// Value of a non-negative finite encoding, from the field definitions.
double F8Value(const F8Type& t, int code) {
  const int e = code >> t.man_bits;
  const int m = code & ((1 << t.man_bits) - 1);
  if (e == 0) return std::ldexp(m, 1 - t.bias - t.man_bits);
  return std::ldexp((1 << t.man_bits) + m, e - t.bias - t.man_bits);
}

bool F8IsNaN(const F8Type& t, uint8_t v) {
  switch (t.overflow) {
    case Overflow::kNaNSigned:
      return (v & 0x7F) == 0x7F;
    case Overflow::kInf:
      return (v & 0x7F) > 0x7C;
    case Overflow::kFnuzNaN:
      return v == 0x80;
  }
  return false;
}

// Independent F32 -> F8 reference: the nearest finite value by search, ties
// to the even encoding. One more candidate just past the maximum (the next
// value with an unbounded exponent) stands for overflow.
class F8Reference {
 public:
  explicit F8Reference(const F8Type& t) : t_(t) {
    for (int c = 0; c <= t.max_code; ++c) values_.push_back(F8Value(t, c));
    const int top_exp = t.max_code >> t.man_bits;
    values_.push_back(values_.back() + std::ldexp(1.0, top_exp - t.bias - t.man_bits));
  }

  uint8_t operator()(float f) const {
    const uint8_t sign = std::signbit(f) ? 0x80 : 0;
    const uint8_t nan = t_.overflow == Overflow::kFnuzNaN ? 0x80 : (sign | 0x7F);
    if (std::isnan(f)) return nan;
    const uint8_t overflow = t_.overflow == Overflow::kInf ? (sign | 0x7C) : nan;
    const double x = std::fabs(static_cast<double>(f));
    const int past_max = static_cast<int>(values_.size()) - 1;
    int best;
    if (x >= values_.back()) {
      best = past_max;
    } else {
      // values_[hi - 1] <= x < values_[hi]
      const int hi =
          static_cast<int>(std::upper_bound(values_.begin(), values_.end(), x) - values_.begin());
      const double below = x - values_[hi - 1];
      const double above = values_[hi] - x;
      best = below < above ? hi - 1 : above < below ? hi : ((hi & 1) == 0 ? hi : hi - 1);
    }
    if (best == past_max) return overflow;
    if (best == 0 && t_.overflow == Overflow::kFnuzNaN) return 0;  // no -0
    return sign | static_cast<uint8_t>(best);
  }

 private:
  const F8Type& t_;
  std::vector<double> values_;  // by encoding, ascending
};

std::vector<float> F8SweepInputs(const F8Type& t) {
  std::vector<float> in;
  // Every 16411th pattern (prime, so low bits vary): ~262k per type keeps the
  // test fast under sanitizers; the boundaries below are all covered anyway.
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 16411) {
    in.push_back(FromBits(static_cast<uint32_t>(u)));
  }
  // Every rounding midpoint (including the one to the overflow candidate)
  // and its F32 neighbours, both signs.
  const int top_exp = t.max_code >> t.man_bits;
  for (int c = 0; c <= t.max_code; ++c) {
    const double next = c == t.max_code
                            ? F8Value(t, c) + std::ldexp(1.0, top_exp - t.bias - t.man_bits)
                            : F8Value(t, c + 1);
    const float mid = static_cast<float>((F8Value(t, c) + next) / 2);
    const float exact = static_cast<float>(F8Value(t, c));
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), exact,
                    std::nextafter(exact, 1e9f)}) {
      in.push_back(f);
      in.push_back(-f);
    }
  }
  return in;
}

TEST(DtypeConvert, F8AllValuesRoundTrip) {
  for (const F8Type& t : kF8Types) {
    SCOPED_TRACE(t.name);
    for (int i = 0; i < 256; ++i) {
      const uint8_t v = static_cast<uint8_t>(i);
      const float f = t.widen(v);
      if (F8IsNaN(t, v)) {
        EXPECT_TRUE(std::isnan(f)) << i;
        // Several NaN encodings (E5M2) come back as the canonical one.
        const uint8_t canonical =
            t.overflow == Overflow::kFnuzNaN ? 0x80 : static_cast<uint8_t>((v & 0x80) | 0x7F);
        EXPECT_EQ(t.narrow(f), canonical) << i;
        continue;
      }
      const double mag = (v & 0x7F) > t.max_code ? HUGE_VAL : F8Value(t, v & 0x7F);
      EXPECT_EQ(static_cast<double>(f), (v & 0x80) ? -mag : mag) << i;
      EXPECT_EQ(std::signbit(f), (v & 0x80) != 0) << i;
      EXPECT_EQ(t.narrow(f), v) << i;
    }
  }
}

TEST(DtypeConvert, F8NarrowMatchesNearestSearch) {
  for (const F8Type& t : kF8Types) {
    SCOPED_TRACE(t.name);
    const F8Reference reference(t);
    for (float f : F8SweepInputs(t)) {
      ASSERT_EQ(t.narrow(f), reference(f)) << std::hex << Bits(f);
    }
  }
}

TEST(DtypeConvert, F8E4M3SpotValues) {
  EXPECT_EQ(F32ToF8E4M3(1.0f), 0x38);
  EXPECT_EQ(F32ToF8E4M3(0.0f), 0x00);
  EXPECT_EQ(F32ToF8E4M3(-0.0f), 0x80);
  EXPECT_EQ(F32ToF8E4M3(448.0f), 0x7E);
  EXPECT_EQ(F32ToF8E4M3(-448.0f), 0xFE);
  EXPECT_EQ(F32ToF8E4M3(464.0f), 0x7E);    // tie, 0x7E is even
  EXPECT_EQ(F32ToF8E4M3(464.01f), 0x7F);   // rounds past 448: NaN, no saturation
  EXPECT_EQ(F32ToF8E4M3(480.0f), 0x7F);
  EXPECT_EQ(F32ToF8E4M3(-1e6f), 0xFF);     // NaN keeps the sign
  EXPECT_EQ(F32ToF8E4M3(INFINITY), 0x7F);
  EXPECT_EQ(F32ToF8E4M3(-INFINITY), 0xFF);
  EXPECT_EQ(F32ToF8E4M3(NAN), 0x7F);
  EXPECT_EQ(F32ToF8E4M3(-NAN), 0xFF);
  EXPECT_EQ(F32ToF8E4M3(1.0625f), 0x38);   // tie between 0x38 and 0x39: even
  EXPECT_EQ(F32ToF8E4M3(1.1875f), 0x3A);   // tie between 0x39 and 0x3A: even
  EXPECT_EQ(F32ToF8E4M3(std::ldexp(1.0f, -6)), 0x08);  // min normal
  EXPECT_EQ(F32ToF8E4M3(std::ldexp(1.0f, -9)), 0x01);  // min subnormal
  EXPECT_EQ(F32ToF8E4M3(std::ldexp(1.0f, -10)), 0x00);  // tie: even 0
  EXPECT_EQ(F32ToF8E4M3(-std::ldexp(1.0f, -10)), 0x80);
  EXPECT_EQ(F32ToF8E4M3(std::ldexp(3.0f, -10)), 0x02);  // tie 1.5 ulp: even 2
  EXPECT_EQ(F32ToF8E4M3(std::ldexp(15.0f, -10)), 0x08);  // tie 7.5 ulp: up to min normal
  EXPECT_EQ(F32ToF8E4M3(FromBits(1)), 0x00);            // F32 subnormal
  EXPECT_EQ(F8E4M3ToF32(0x7E), 448.0f);
  EXPECT_EQ(F8E4M3ToF32(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(Bits(F8E4M3ToF32(0x80)), 0x80000000u);
  EXPECT_EQ(Bits(F8E4M3ToF32(0x7F)), 0x7FF00000u);  // torch's NaN bits
  EXPECT_EQ(Bits(F8E4M3ToF32(0xFF)), 0xFFF00000u);
}

TEST(DtypeConvert, F8E5M2SpotValues) {
  EXPECT_EQ(F32ToF8E5M2(1.0f), 0x3C);
  EXPECT_EQ(F32ToF8E5M2(-0.0f), 0x80);
  EXPECT_EQ(F32ToF8E5M2(57344.0f), 0x7B);
  EXPECT_EQ(F32ToF8E5M2(61439.0f), 0x7B);
  EXPECT_EQ(F32ToF8E5M2(61440.0f), 0x7C);  // tie, 0x7B is odd: up to Inf
  EXPECT_EQ(F32ToF8E5M2(1e6f), 0x7C);
  EXPECT_EQ(F32ToF8E5M2(-1e6f), 0xFC);
  EXPECT_EQ(F32ToF8E5M2(-INFINITY), 0xFC);
  EXPECT_EQ(F32ToF8E5M2(NAN), 0x7F);
  EXPECT_EQ(F32ToF8E5M2(-NAN), 0xFF);
  EXPECT_EQ(F32ToF8E5M2(std::ldexp(1.0f, -16)), 0x01);  // min subnormal
  EXPECT_EQ(F32ToF8E5M2(std::ldexp(1.0f, -17)), 0x00);  // tie: even 0
  EXPECT_EQ(F32ToF8E5M2(1.125f), 0x3C);                 // tie: even
  EXPECT_EQ(F32ToF8E5M2(1.375f), 0x3E);                 // tie: even
  EXPECT_EQ(F8E5M2ToF32(0x7C), INFINITY);
  EXPECT_EQ(F8E5M2ToF32(0x7B), 57344.0f);
  EXPECT_EQ(Bits(F8E5M2ToF32(0x7D)), 0x7FE00000u);  // as the F16 0x7D00
  EXPECT_EQ(Bits(F8E5M2ToF32(0xFF)), 0xFFE00000u);
  for (int i = 0; i < 256; ++i) {  // E5M2 is the top byte of an F16
    EXPECT_EQ(Bits(F8E5M2ToF32(static_cast<uint8_t>(i))),
              Bits(F16ToF32(static_cast<uint16_t>(i << 8))));
  }
}

TEST(DtypeConvert, F8E4M3FnuzSpotValues) {
  EXPECT_EQ(F32ToF8E4M3Fnuz(1.0f), 0x40);
  EXPECT_EQ(F32ToF8E4M3Fnuz(-1.0f), 0xC0);
  EXPECT_EQ(F32ToF8E4M3Fnuz(0.0f), 0x00);
  EXPECT_EQ(F32ToF8E4M3Fnuz(-0.0f), 0x00);  // no negative zero
  EXPECT_EQ(F32ToF8E4M3Fnuz(-std::ldexp(1.0f, -12)), 0x00);
  EXPECT_EQ(F32ToF8E4M3Fnuz(-std::ldexp(1.0f, -10)), 0x81);  // min subnormal
  EXPECT_EQ(F32ToF8E4M3Fnuz(240.0f), 0x7F);
  EXPECT_EQ(F32ToF8E4M3Fnuz(247.9f), 0x7F);
  EXPECT_EQ(F32ToF8E4M3Fnuz(248.0f), 0x80);  // tie rounds past 240: NaN
  EXPECT_EQ(F32ToF8E4M3Fnuz(-248.0f), 0x80);
  EXPECT_EQ(F32ToF8E4M3Fnuz(INFINITY), 0x80);
  EXPECT_EQ(F32ToF8E4M3Fnuz(-NAN), 0x80);
  EXPECT_EQ(Bits(F8E4M3FnuzToF32(0x80)), 0x7F800001u);  // torch's NaN bits
  EXPECT_EQ(Bits(F8E4M3FnuzToF32(0x00)), 0x00000000u);
  EXPECT_EQ(F8E4M3FnuzToF32(0xFF), -240.0f);
}

TEST(DtypeConvert, F8E5M2FnuzSpotValues) {
  EXPECT_EQ(F32ToF8E5M2Fnuz(1.0f), 0x40);
  EXPECT_EQ(F32ToF8E5M2Fnuz(-0.0f), 0x00);
  EXPECT_EQ(F32ToF8E5M2Fnuz(std::ldexp(1.0f, -17)), 0x01);  // min subnormal
  EXPECT_EQ(F32ToF8E5M2Fnuz(-std::ldexp(1.0f, -18)), 0x00);  // tie: 0, unsigned
  EXPECT_EQ(F32ToF8E5M2Fnuz(57344.0f), 0x7F);
  EXPECT_EQ(F32ToF8E5M2Fnuz(61440.0f), 0x80);
  EXPECT_EQ(F32ToF8E5M2Fnuz(-INFINITY), 0x80);
  EXPECT_EQ(F32ToF8E5M2Fnuz(NAN), 0x80);
  EXPECT_EQ(Bits(F8E5M2FnuzToF32(0x80)), 0x7F800001u);
  EXPECT_EQ(F8E5M2FnuzToF32(0xFF), -57344.0f);
}

// E8M0 in value terms, as dtype_convert.h states torch's rule.
uint8_t E8M0Reference(float f) {
  if (!std::isfinite(f)) return 0xFF;
  const double x = std::fabs(static_cast<double>(f));
  if (x <= std::ldexp(1.0, -127)) return 0x00;
  if (x < std::ldexp(1.0, -126)) return 0x01;
  int exp;
  std::frexp(x, &exp);  // x = q * 2^exp, q in [0.5, 1)
  int k = exp - 1;      // 2^k <= x < 2^(k+1)
  if (x >= 1.5 * std::ldexp(1.0, k)) ++k;
  return k + 127 > 254 ? 0xFF : static_cast<uint8_t>(k + 127);
}

TEST(DtypeConvert, F8E8M0AllValuesRoundTrip) {
  for (int i = 0; i < 256; ++i) {
    const uint8_t v = static_cast<uint8_t>(i);
    const float f = F8E8M0ToF32(v);
    if (v == 0xFF) {
      EXPECT_EQ(Bits(f), 0x7F800001u);
    } else {
      EXPECT_EQ(static_cast<double>(f), std::ldexp(1.0, i - 127)) << i;
    }
    EXPECT_EQ(F32ToF8E8M0(f), v) << i;
  }
}

TEST(DtypeConvert, F8E8M0SpotValues) {
  EXPECT_EQ(F32ToF8E8M0(1.0f), 0x7F);
  EXPECT_EQ(F32ToF8E8M0(1.4999999f), 0x7F);
  EXPECT_EQ(F32ToF8E8M0(1.5f), 0x80);   // midpoint rounds up
  EXPECT_EQ(F32ToF8E8M0(3.0f), 0x81);   // 1.5 * 2 -> 4
  EXPECT_EQ(F32ToF8E8M0(0.75f), 0x7F);  // 1.5 * 0.5 -> 1
  EXPECT_EQ(F32ToF8E8M0(-1.0f), 0x7F);  // the sign is ignored
  EXPECT_EQ(F32ToF8E8M0(-6.0f), 0x82);
  EXPECT_EQ(F32ToF8E8M0(0.0f), 0x00);   // zero -> 2^-127, not NaN
  EXPECT_EQ(F32ToF8E8M0(-0.0f), 0x00);
  EXPECT_EQ(F32ToF8E8M0(std::ldexp(1.0f, 127)), 0xFE);
  EXPECT_EQ(F32ToF8E8M0(std::ldexp(1.5f, 127)), 0xFF);  // overflow: NaN
  EXPECT_EQ(F32ToF8E8M0(std::numeric_limits<float>::max()), 0xFF);
  EXPECT_EQ(F32ToF8E8M0(INFINITY), 0xFF);
  EXPECT_EQ(F32ToF8E8M0(-INFINITY), 0xFF);
  EXPECT_EQ(F32ToF8E8M0(NAN), 0xFF);
  EXPECT_EQ(F32ToF8E8M0(FromBits(0x003FFFFFu)), 0x00);
  EXPECT_EQ(F32ToF8E8M0(FromBits(0x00400000u)), 0x00);  // 2^-127 exactly
  EXPECT_EQ(F32ToF8E8M0(FromBits(0x00400001u)), 0x01);  // just above: 2^-126
  EXPECT_EQ(F32ToF8E8M0(FromBits(0x00800000u)), 0x01);
  EXPECT_EQ(F32ToF8E8M0(FromBits(0x00C00000u)), 0x02);  // 1.5 * 2^-126
  EXPECT_EQ(Bits(F8E8M0ToF32(0x00)), 0x00400000u);
  EXPECT_EQ(Bits(F8E8M0ToF32(0xFF)), 0x7F800001u);
}

TEST(DtypeConvert, F8E8M0MatchesValueRule) {
  std::vector<float> in;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4099) in.push_back(FromBits(static_cast<uint32_t>(u)));
  for (int k = -149; k <= 127; ++k) {
    for (float m : {1.0f, 1.5f}) {
      const float f = std::ldexp(m, k);
      for (float g : {f, std::nextafter(f, 0.0f), std::nextafter(f, INFINITY)}) {
        in.push_back(g);
        in.push_back(-g);
      }
    }
  }
  for (float f : in) ASSERT_EQ(F32ToF8E8M0(f), E8M0Reference(f)) << std::hex << Bits(f);
}

// ---- ConvertElements -------------------------------------------------------------

const DType kConvertible[] = {DType::kF64,         DType::kF32,         DType::kF16,
                              DType::kBF16,        DType::kF8_E4M3,     DType::kF8_E5M2,
                              DType::kF8_E4M3FNUZ, DType::kF8_E5M2FNUZ, DType::kF8_E8M0};

size_t Size(DType t) { return GetDTypeInfo(t).block_bytes; }

// Encodes little-endian elements of `bits` (each `Size(t)` bytes wide).
std::vector<uint8_t> Pack(DType t, const std::vector<uint64_t>& bits) {
  std::vector<uint8_t> out(bits.size() * Size(t));
  for (size_t i = 0; i < bits.size(); ++i) std::memcpy(&out[i * Size(t)], &bits[i], Size(t));
  return out;
}

std::vector<uint8_t> Convert(DType from, const std::vector<uint8_t>& src, DType to) {
  const size_t n = src.size() / Size(from);
  std::vector<uint8_t> dst(n * Size(to), 0xAA);
  const absl::Status s = ConvertElements(from, src, to, absl::MakeSpan(dst), n);
  EXPECT_TRUE(s.ok()) << s;
  return dst;
}

TEST(DtypeConvert, ConvertElementsAllPairsKnownValues) {
  // 1, 2, 0.5, 4, 0.25, 16, 0.125, 64: exact in every type, E8M0 included.
  const std::vector<std::pair<DType, std::vector<uint64_t>>> known = {
      {DType::kF64,
       {0x3FF0000000000000, 0x4000000000000000, 0x3FE0000000000000, 0x4010000000000000,
        0x3FD0000000000000, 0x4030000000000000, 0x3FC0000000000000, 0x4050000000000000}},
      {DType::kF32,
       {0x3F800000, 0x40000000, 0x3F000000, 0x40800000, 0x3E800000, 0x41800000, 0x3E000000,
        0x42800000}},
      {DType::kF16, {0x3C00, 0x4000, 0x3800, 0x4400, 0x3400, 0x4C00, 0x3000, 0x5400}},
      {DType::kBF16, {0x3F80, 0x4000, 0x3F00, 0x4080, 0x3E80, 0x4180, 0x3E00, 0x4280}},
      {DType::kF8_E4M3, {0x38, 0x40, 0x30, 0x48, 0x28, 0x58, 0x20, 0x68}},
      {DType::kF8_E5M2, {0x3C, 0x40, 0x38, 0x44, 0x34, 0x4C, 0x30, 0x54}},
      {DType::kF8_E4M3FNUZ, {0x40, 0x48, 0x38, 0x50, 0x30, 0x60, 0x28, 0x70}},
      {DType::kF8_E5M2FNUZ, {0x40, 0x44, 0x3C, 0x48, 0x38, 0x50, 0x34, 0x58}},
      {DType::kF8_E8M0, {0x7F, 0x80, 0x7E, 0x81, 0x7D, 0x83, 0x7C, 0x85}},
  };
  for (const auto& [from, from_bits] : known) {
    for (const auto& [to, to_bits] : known) {
      SCOPED_TRACE(std::string(DTypeName(from)) + " -> " + std::string(DTypeName(to)));
      EXPECT_EQ(Convert(from, Pack(from, from_bits), to), Pack(to, to_bits));
    }
  }
}

TEST(DtypeConvert, ConvertElementsRoundsOnceThroughF32) {
  // BF16 1.0625 is an E4M3 tie: even.
  EXPECT_EQ(Convert(DType::kBF16, Pack(DType::kBF16, {0x3F88}), DType::kF8_E4M3),
            Pack(DType::kF8_E4M3, {0x38}));
  // F16 480 overflows E4M3 to NaN and E4M3FNUZ to its NaN; in E5M2 it is a
  // tie (1.111b * 2^8) that goes to the even 512.
  EXPECT_EQ(Convert(DType::kF16, Pack(DType::kF16, {0x5F80, 0xDF80}), DType::kF8_E4M3),
            Pack(DType::kF8_E4M3, {0x7F, 0xFF}));
  EXPECT_EQ(Convert(DType::kF16, Pack(DType::kF16, {0x5F80}), DType::kF8_E4M3FNUZ),
            Pack(DType::kF8_E4M3FNUZ, {0x80}));
  EXPECT_EQ(Convert(DType::kF16, Pack(DType::kF16, {0x5F80}), DType::kF8_E5M2),
            Pack(DType::kF8_E5M2, {0x60}));
  // BF16 -> F16: 2^16 overflows to Inf, 2^-25 ties to 0, NaN keeps payload.
  EXPECT_EQ(Convert(DType::kBF16, Pack(DType::kBF16, {0x4780, 0x3300, 0xFFC1}), DType::kF16),
            Pack(DType::kF16, {0x7C00, 0x0000, 0xFE08}));
  // F64 rounds to F32 first (as torch does): 1 + 2^-11 + 2^-40 becomes the
  // F16 tie 1 + 2^-11, which goes to even.
  EXPECT_EQ(Convert(DType::kF64, Pack(DType::kF64, {0x3FF0020000001000}), DType::kF16),
            Pack(DType::kF16, {0x3C00}));
  // F64 beyond F32 range is Inf; F16 widens exactly into F64.
  EXPECT_EQ(Convert(DType::kF64, Pack(DType::kF64, {0x7E37E43C8800759C}), DType::kF32),
            Pack(DType::kF32, {0x7F800000}));
  EXPECT_EQ(Convert(DType::kF16, Pack(DType::kF16, {0x0001, 0x7BFF}), DType::kF64),
            Pack(DType::kF64, {0x3E70000000000000, 0x40EFFC0000000000}));
}

// Scalar reference for one element of `t` (bits in the low bytes).
float WidenOne(DType t, uint64_t b) {
  switch (t) {
    case DType::kF64: return static_cast<float>(std::bit_cast<double>(b));
    case DType::kF32: return FromBits(static_cast<uint32_t>(b));
    case DType::kF16: return F16ToF32(static_cast<uint16_t>(b));
    case DType::kBF16: return BF16ToF32(static_cast<uint16_t>(b));
    case DType::kF8_E4M3: return F8E4M3ToF32(static_cast<uint8_t>(b));
    case DType::kF8_E5M2: return F8E5M2ToF32(static_cast<uint8_t>(b));
    case DType::kF8_E4M3FNUZ: return F8E4M3FnuzToF32(static_cast<uint8_t>(b));
    case DType::kF8_E5M2FNUZ: return F8E5M2FnuzToF32(static_cast<uint8_t>(b));
    case DType::kF8_E8M0: return F8E8M0ToF32(static_cast<uint8_t>(b));
    default: ADD_FAILURE(); return 0;
  }
}

uint64_t NarrowOne(DType t, float f) {
  switch (t) {
    case DType::kF64: return std::bit_cast<uint64_t>(static_cast<double>(f));
    case DType::kF32: return Bits(f);
    case DType::kF16: return F32ToF16(f);
    case DType::kBF16: return F32ToBF16(f);
    case DType::kF8_E4M3: return F32ToF8E4M3(f);
    case DType::kF8_E5M2: return F32ToF8E5M2(f);
    case DType::kF8_E4M3FNUZ: return F32ToF8E4M3Fnuz(f);
    case DType::kF8_E5M2FNUZ: return F32ToF8E5M2Fnuz(f);
    case DType::kF8_E8M0: return F32ToF8E8M0(f);
    default: ADD_FAILURE(); return 0;
  }
}

TEST(DtypeConvert, ConvertElementsMatchesScalarAllPairs) {
  // Bit patterns with every kind of value, long enough to cross the vector
  // blocks and the 2048-element F32 staging chunks, at an odd offset so that
  // no load is aligned.
  constexpr size_t kN = 2048 + 131;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  std::vector<uint64_t> random(kN);
  for (uint64_t& r : random) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    r = state;
  }
  for (DType from : kConvertible) {
    const size_t fs = Size(from);
    std::vector<uint64_t> elems(kN);
    for (size_t i = 0; i < kN; ++i) {
      // Any pattern (specials included); for F32 and F64 every other one is
      // moved into [2^-30, 2^30) so the narrow types see rounding, not just
      // overflow and underflow.
      const uint64_t r = random[i];
      if (fs == 8) {
        elems[i] = (i & 1) ? (r & 0x800FFFFFFFFFFFFFull) | ((993 + (r >> 52) % 60) << 52) : r;
      } else if (fs == 4) {
        const uint64_t low = r & 0xFFFFFFFFull;
        elems[i] = (i & 1) ? (low & 0x807FFFFFull) | ((97 + (r >> 40) % 60) << 23) : low;
      } else {
        elems[i] = r & ((1ull << (8 * fs)) - 1);
      }
    }
    std::vector<uint8_t> src(1 + kN * fs);
    for (size_t i = 0; i < kN; ++i) std::memcpy(&src[1 + i * fs], &elems[i], fs);
    for (DType to : kConvertible) {
      SCOPED_TRACE(std::string(DTypeName(from)) + " -> " + std::string(DTypeName(to)));
      const size_t ts = Size(to);
      std::vector<uint8_t> dst(1 + kN * ts);
      ASSERT_TRUE(ConvertElements(from, absl::MakeConstSpan(src).subspan(1), to,
                                  absl::MakeSpan(dst).subspan(1), kN)
                      .ok());
      for (size_t i = 0; i < kN; ++i) {
        uint64_t got = 0;
        std::memcpy(&got, &dst[1 + i * ts], ts);
        const uint64_t want =
            from == to ? elems[i] : NarrowOne(to, WidenOne(from, elems[i]));
        ASSERT_EQ(got, want) << "element " << i << " input " << std::hex << elems[i];
      }
    }
  }
}

TEST(DtypeConvert, ConvertElementsZeroElements) {
  EXPECT_TRUE(ConvertElements(DType::kF32, {}, DType::kF8_E4M3, {}, 0).ok());
}

TEST(DtypeConvert, ConvertElementsUnsupportedTypes) {
  std::vector<uint8_t> buf(64);
  const std::pair<DType, DType> bad[] = {
      {DType::kI32, DType::kF32},  {DType::kF32, DType::kU8},   {DType::kF4, DType::kF16},
      {DType::kF16, DType::kC64},  {DType::kBool, DType::kBool}, {DType::kF6_E2M3, DType::kF32},
      {static_cast<DType>(200), DType::kF32},
  };
  for (const auto& [from, to] : bad) {
    const absl::Status s = ConvertElements(from, buf, to, absl::MakeSpan(buf), 4);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(ErrorRule(s), "dtype.convert.unsupported") << s;
  }
}

TEST(DtypeConvert, ConvertElementsBufferSizes) {
  std::vector<uint8_t> src(4 * 10), dst(2 * 10);
  const auto check = [](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(ErrorRule(s), "dtype.convert.buffer_size") << s;
  };
  EXPECT_TRUE(ConvertElements(DType::kF32, src, DType::kBF16, absl::MakeSpan(dst), 10).ok());
  // Source one byte short, destination one byte short.
  check(ConvertElements(DType::kF32, absl::MakeConstSpan(src).subspan(1), DType::kBF16,
                        absl::MakeSpan(dst), 10));
  check(ConvertElements(DType::kF32, src, DType::kBF16, absl::MakeSpan(dst).subspan(1), 10));
  check(ConvertElements(DType::kF32, src, DType::kBF16, absl::MakeSpan(dst), 11));
  // Same type still checks both sides.
  check(ConvertElements(DType::kF16, absl::MakeConstSpan(src).subspan(0, 19), DType::kF16,
                        absl::MakeSpan(dst), 10));
  // n * size overflows 64 bits.
  check(ConvertElements(DType::kF64, src, DType::kF8_E4M3, absl::MakeSpan(dst), 1ull << 62));
  check(ConvertElements(DType::kF8_E4M3, src, DType::kF64, absl::MakeSpan(dst), 1ull << 62));
  // The destination is left alone on error.
  std::vector<uint8_t> untouched(2 * 10, 0x5A);
  check(ConvertElements(DType::kF32, absl::MakeConstSpan(src).subspan(1), DType::kBF16,
                        absl::MakeSpan(untouched), 10));
  EXPECT_EQ(untouched, std::vector<uint8_t>(2 * 10, 0x5A));
}

TEST(DtypeConvert, ConvertElementsSameTypeCopies) {
  const std::vector<uint8_t> src = Pack(DType::kF16, {0x7D01, 0x0001, 0xFFFF});  // sNaN kept
  EXPECT_EQ(Convert(DType::kF16, src, DType::kF16), src);
}

}  // namespace
}  // namespace ckpt
