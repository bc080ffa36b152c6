#include "lib/str_util.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/quant.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/status.h"

// The loops below read and write little-endian storage with memcpy, which is
// only a plain load on a little-endian host.
static_assert(std::endian::native == std::endian::little,
              "ckpt supports little-endian hosts only");

namespace ckpt {
namespace {

// ---- F16 ---------------------------------------------------------------------
//
// Both directions are straight-line code that selects with all-ones/all-zero
// masks rather than ?:, so GCC and Clang vectorise the ConvertElements loops
// with plain SSE2 (GCC keeps ?: around float operations as branches under
// -ftrapping-math). The one float operation in each is exact or correctly
// rounded and never produces subnormals, so results do not depend on FTZ/DAZ;
// they do assume the default round-to-nearest mode.

// All ones when `c`, else zero.
inline uint32_t Mask(bool c) { return 0u - static_cast<uint32_t>(c); }

inline uint32_t Select(uint32_t mask, uint32_t if_set, uint32_t if_clear) {
  return (if_set & mask) | (if_clear & ~mask);
}

inline uint16_t F32BitsToF16Bits(uint32_t u) {
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7FFFFFFFu;
  // Normal range: round away the low 13 mantissa bits, ties to even, then
  // rebias (127 -> 15). A rounding carry moves into the exponent, so
  // [65520, 2^16) turns into Inf by itself; larger values and Inf clamp to it.
  // Below 2^-14 the subtraction wraps; that lane takes `sub` instead.
  const uint32_t rounded = ((a + 0xFFFu + ((a >> 13) & 1u)) >> 13) - (112u << 10);
  const uint32_t normal = Select(Mask(rounded > 0x7C00u), 0x7C00u, rounded);
  // F16 subnormal range (a < 2^-14): adding 0.5f puts the unit in the last
  // place at 2^-24, the F16 subnormal step, so the FPU's round-to-nearest-even
  // does the rounding; the low bits are then the F16 encoding (0x400 when it
  // rounds up to the smallest normal).
  const uint32_t sub = std::bit_cast<uint32_t>(std::bit_cast<float>(a) + 0.5f) - 0x3F000000u;
  // NaN: keep the top 10 payload bits and set the quiet bit, as F16C does.
  const uint32_t nan = 0x7E00u | ((a >> 13) & 0x3FFu);
  uint32_t r = Select(Mask(a < 0x38800000u), sub, normal);
  r = Select(Mask(a > 0x7F800000u), nan, r);
  return static_cast<uint16_t>(r | sign);
}

inline uint32_t F16BitsToF32Bits(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t a = h & 0x7FFFu;
  const uint32_t shifted = a << 13;
  // Normal: rebias the exponent (15 -> 127).
  const uint32_t normal = shifted + (112u << 23);
  // Subnormal and zero: (2^-14 + m * 2^-24) - 2^-14 = m * 2^-24 exactly.
  const uint32_t sub = std::bit_cast<uint32_t>(std::bit_cast<float>(shifted + (113u << 23)) -
                                               std::bit_cast<float>(113u << 23));
  // Inf and NaN; NaNs get the quiet bit, as F16C's vcvtph2ps does.
  const uint32_t special = shifted | 0x7F800000u | (Mask(a > 0x7C00u) & 0x00400000u);
  uint32_t r = Select(Mask(a < 0x0400u), sub, normal);
  r = Select(Mask(a >= 0x7C00u), special, r);
  return r | sign;
}

// ---- BF16 --------------------------------------------------------------------

inline uint16_t F32BitsToBF16Bits(uint32_t u) {
  // Round to nearest even on the low 16 bits. Cannot wrap: the largest
  // non-NaN pattern is -Inf (0xFF800000).
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  // NaN: truncate and force the quiet bit so the result cannot become Inf
  // (ggml / gguf-py rule).
  const uint32_t nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>(Select(Mask((u & 0x7FFFFFFFu) > 0x7F800000u), nan, rounded));
}

inline uint32_t BF16BitsToF32Bits(uint16_t b) { return static_cast<uint32_t>(b) << 16; }

// ---- F8 ------------------------------------------------------------------------
//
// Semantics follow PyTorch's c10::Float8_* types (see dtype_convert.h); the
// code below is written from those rules, not from c10's.

// Rounds `x` right by `s` bits (1 <= s <= 31), ties to even.
// REQUIRES: x + 2^(s-1) does not overflow.
constexpr uint32_t ShiftRightRne(uint32_t x, uint32_t s) {
  return (x + (1u << (s - 1)) - 1u + ((x >> s) & 1u)) >> s;
}

// Rounds the finite non-negative F32 with bits `a` to a binary format with
// `kMan` mantissa bits and exponent bias `kBias`, ties to even, without an
// upper exponent limit. Returns the encoding (exponent << kMan | mantissa)
// without sign; callers turn values past their maximum into Inf or NaN.
template <uint32_t kMan, uint32_t kBias>
constexpr uint32_t RoundToMinifloat(uint32_t a) {
  constexpr uint32_t kMinNormal = (127u - kBias + 1u) << 23;  // F32 bits of 2^(1-bias)
  if (a >= kMinNormal) {
    return ShiftRightRne(a, 23u - kMan) - ((127u - kBias) << kMan);
  }
  // Subnormal in the target: value = m * 2^(e - 150); the target step is
  // 2^(1 - bias - kMan), so the encoding is m >> (151 - bias - kMan - e).
  uint32_t e = a >> 23;
  uint32_t m = a & 0x7FFFFFu;
  if (e == 0) {
    e = 1;  // F32 subnormal
  } else {
    m |= 0x800000u;
  }
  // At least 24 - kMan here; m < 2^24, so any shift >= 25 rounds to 0.
  const uint32_t s = std::min(151u - kBias - kMan - e, 25u);
  return ShiftRightRne(m, s);
}

constexpr uint8_t F32BitsToE4M3(uint32_t u) {
  const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return sign | 0x7F;  // Inf and NaN: NaN, sign kept
  // No saturation: past 448 (0x7E) is NaN, like torch.
  return sign | static_cast<uint8_t>(std::min(RoundToMinifloat<3, 7>(a), 0x7Fu));
}

constexpr uint8_t F32BitsToE5M2(uint32_t u) {
  const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | 0x7F;  // NaN
  // Past 57344 (0x7B), and Inf itself: Inf.
  return sign | static_cast<uint8_t>(std::min(RoundToMinifloat<2, 15>(a), 0x7Cu));
}

// FNUZ: 0x80 is the only NaN, there is no -0 and no Inf.
template <uint32_t kMan, uint32_t kBias>
constexpr uint8_t F32BitsToFnuz(uint32_t u) {
  const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return 0x80;  // Inf and NaN
  const uint32_t code = RoundToMinifloat<kMan, kBias>(a);
  if (code > 0x7Fu) return 0x80;  // overflow: NaN, like torch
  if (code == 0) return 0;        // no negative zero
  return sign | static_cast<uint8_t>(code);
}

// E8M0: the rule of c10::detail::fp8e8m0fnu_from_fp32_value, restated in
// dtype_convert.h.
constexpr uint8_t F32BitsToE8M0(uint32_t u) {
  const uint32_t e = (u >> 23) & 0xFFu;  // the sign is ignored
  if (e == 0xFFu) return 0xFF;           // Inf and NaN
  const uint32_t m = u & 0x7FFFFFu;
  // Round up when the first dropped bit is set, except for the exact tie
  // of a subnormal (2^-127), whose "kept bit" (the implicit one) is 0.
  const bool up = (m & 0x400000u) != 0 && (e != 0 || (m & 0x3FFFFFu) != 0);
  return static_cast<uint8_t>(e + (up ? 1u : 0u));  // 254 rounding up gives NaN
}

enum class F8Kind { kE4M3Fn, kE5M2, kFnuz, kE8M0 };

// Exact F32 bits of an F8 encoding. NaNs come out as torch returns them.
template <F8Kind kKind, uint32_t kMan, uint32_t kBias>
constexpr uint32_t F8ToF32Bits(uint8_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x80u) << 24;
  if constexpr (kKind == F8Kind::kE8M0) {
    if (v == 0xFF) return 0x7F800001u;
    if (v == 0) return 0x00400000u;  // 2^-127 is an F32 subnormal
    return static_cast<uint32_t>(v) << 23;
  } else {
    if constexpr (kKind == F8Kind::kFnuz) {
      if (v == 0x80) return 0x7F800001u;
    }
    if constexpr (kKind == F8Kind::kE4M3Fn) {
      if ((v & 0x7Fu) == 0x7Fu) return sign | 0x7FF00000u;
    }
    if constexpr (kKind == F8Kind::kE5M2) {
      // Same as the F16 with these bits on top.
      if ((v & 0x7Cu) == 0x7Cu) {
        const uint32_t mant = static_cast<uint32_t>(v & 0x3u) << 21;
        return sign | 0x7F800000u | mant | (mant != 0 ? 0x00400000u : 0u);
      }
    }
    int e = (v & 0x7F) >> kMan;
    uint32_t m = v & ((1u << kMan) - 1u);
    if (e == 0) {
      if (m == 0) return sign;
      // Normalise the subnormal: shift the leading 1 into the implicit bit.
      e = 1;
      while ((m & (1u << kMan)) == 0) {
        m <<= 1;
        --e;
      }
      m &= (1u << kMan) - 1u;
    }
    const uint32_t f32_exp = static_cast<uint32_t>(e + 127 - static_cast<int>(kBias));
    return sign | (f32_exp << 23) | (m << (23u - kMan));
  }
}

template <F8Kind kKind, uint32_t kMan, uint32_t kBias>
constexpr std::array<uint32_t, 256> MakeF8Table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t v = 0; v < 256; ++v) {
    t[v] = F8ToF32Bits<kKind, kMan, kBias>(static_cast<uint8_t>(v));
  }
  return t;
}

constexpr std::array<uint32_t, 256> kE4M3Table = MakeF8Table<F8Kind::kE4M3Fn, 3, 7>();
constexpr std::array<uint32_t, 256> kE5M2Table = MakeF8Table<F8Kind::kE5M2, 2, 15>();
constexpr std::array<uint32_t, 256> kE4M3FnuzTable = MakeF8Table<F8Kind::kFnuz, 3, 8>();
constexpr std::array<uint32_t, 256> kE5M2FnuzTable = MakeF8Table<F8Kind::kFnuz, 2, 16>();
constexpr std::array<uint32_t, 256> kE8M0Table = MakeF8Table<F8Kind::kE8M0, 0, 127>();

// ---- bulk loops ----------------------------------------------------------------

// Applies `fn` to `n` little-endian `In`s at `src`, storing `Out`s at `dst`.
// memcpy keeps unaligned access defined and compiles to plain loads. The
// fixed-size inner loop lets GCC vectorise even at -O2, whose "very cheap"
// cost model skips loops with unknown trip counts.
template <typename In, typename Out, typename Fn>
inline void Map(const uint8_t* __restrict src, uint8_t* __restrict dst, size_t n, Fn fn) {
  constexpr size_t kBlock = 64;
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    const uint8_t* __restrict s = src + i * sizeof(In);
    uint8_t* __restrict d = dst + i * sizeof(Out);
    for (size_t j = 0; j < kBlock; ++j) {
      In x;
      std::memcpy(&x, s + j * sizeof(In), sizeof(In));
      const Out y = fn(x);
      std::memcpy(d + j * sizeof(Out), &y, sizeof(Out));
    }
  }
  for (; i < n; ++i) {
    In x;
    std::memcpy(&x, src + i * sizeof(In), sizeof(In));
    const Out y = fn(x);
    std::memcpy(dst + i * sizeof(Out), &y, sizeof(Out));
  }
}

void TableToF32(const std::array<uint32_t, 256>& table, const uint8_t* src, uint8_t* dst,
                size_t n) {
  Map<uint8_t, uint32_t>(src, dst, n, [&table](uint8_t v) { return table[v]; });
}

// Writes `n` F32s (as little-endian bytes) at `dst` from `n` `from`s at `src`.
// REQUIRES: IsConvertibleFloat(from).
void ToF32(DType from, const uint8_t* src, uint8_t* dst, size_t n) {
  switch (from) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF64:
      Map<double, float>(src, dst, n, [](double d) { return static_cast<float>(d); });
      return;
    case DType::kF16:
      Map<uint16_t, uint32_t>(src, dst, n, F16BitsToF32Bits);
      return;
    case DType::kBF16:
      Map<uint16_t, uint32_t>(src, dst, n, BF16BitsToF32Bits);
      return;
    case DType::kF8_E4M3:
      return TableToF32(kE4M3Table, src, dst, n);
    case DType::kF8_E5M2:
      return TableToF32(kE5M2Table, src, dst, n);
    case DType::kF8_E4M3FNUZ:
      return TableToF32(kE4M3FnuzTable, src, dst, n);
    case DType::kF8_E5M2FNUZ:
      return TableToF32(kE5M2FnuzTable, src, dst, n);
    case DType::kF8_E8M0:
      return TableToF32(kE8M0Table, src, dst, n);
    default:
      return;  // excluded by the caller
  }
}

// Writes `n` `to`s at `dst` from `n` F32s at `src`.
// REQUIRES: IsConvertibleFloat(to).
void FromF32(DType to, const uint8_t* src, uint8_t* dst, size_t n) {
  switch (to) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF64:
      Map<float, double>(src, dst, n, [](float f) { return static_cast<double>(f); });
      return;
    case DType::kF16:
      Map<uint32_t, uint16_t>(src, dst, n, F32BitsToF16Bits);
      return;
    case DType::kBF16:
      Map<uint32_t, uint16_t>(src, dst, n, F32BitsToBF16Bits);
      return;
    case DType::kF8_E4M3:
      return Map<uint32_t, uint8_t>(src, dst, n, F32BitsToE4M3);
    case DType::kF8_E5M2:
      return Map<uint32_t, uint8_t>(src, dst, n, F32BitsToE5M2);
    case DType::kF8_E4M3FNUZ:
      return Map<uint32_t, uint8_t>(src, dst, n, F32BitsToFnuz<3, 8>);
    case DType::kF8_E5M2FNUZ:
      return Map<uint32_t, uint8_t>(src, dst, n, F32BitsToFnuz<2, 16>);
    case DType::kF8_E8M0:
      return Map<uint32_t, uint8_t>(src, dst, n, F32BitsToE8M0);
    default:
      return;  // excluded by the caller
  }
}

// Printable name, also for values outside the enum.
std::string Name(DType t) {
  if (t >= DType::kCount) return StrCat("dtype #", static_cast<int>(t));
  return std::string(DTypeName(t));
}

}  // namespace

float F16ToF32(uint16_t h) { return std::bit_cast<float>(F16BitsToF32Bits(h)); }
uint16_t F32ToF16(float f) { return F32BitsToF16Bits(std::bit_cast<uint32_t>(f)); }
float BF16ToF32(uint16_t b) { return std::bit_cast<float>(BF16BitsToF32Bits(b)); }
uint16_t F32ToBF16(float f) { return F32BitsToBF16Bits(std::bit_cast<uint32_t>(f)); }
float F8E4M3ToF32(uint8_t v) { return std::bit_cast<float>(kE4M3Table[v]); }
uint8_t F32ToF8E4M3(float f) { return F32BitsToE4M3(std::bit_cast<uint32_t>(f)); }
float F8E5M2ToF32(uint8_t v) { return std::bit_cast<float>(kE5M2Table[v]); }
uint8_t F32ToF8E5M2(float f) { return F32BitsToE5M2(std::bit_cast<uint32_t>(f)); }
float F8E4M3FnuzToF32(uint8_t v) { return std::bit_cast<float>(kE4M3FnuzTable[v]); }
uint8_t F32ToF8E4M3Fnuz(float f) { return F32BitsToFnuz<3, 8>(std::bit_cast<uint32_t>(f)); }
float F8E5M2FnuzToF32(uint8_t v) { return std::bit_cast<float>(kE5M2FnuzTable[v]); }
uint8_t F32ToF8E5M2Fnuz(float f) { return F32BitsToFnuz<2, 16>(std::bit_cast<uint32_t>(f)); }
float F8E8M0ToF32(uint8_t v) { return std::bit_cast<float>(kE8M0Table[v]); }
uint8_t F32ToF8E8M0(float f) { return F32BitsToE8M0(std::bit_cast<uint32_t>(f)); }

absl::Status ConvertElements(DType from, absl::Span<const uint8_t> src, DType to,
                             absl::Span<uint8_t> dst, uint64_t n) {
  if (!IsConvertibleFloat(from) || !IsConvertibleFloat(to)) {
    return Error("dtype.convert.unsupported",
                 StrCat("cannot convert ", Name(from), " to ", Name(to),
                              "; only F64, F32, F16, BF16 and the F8 types convert"));
  }
  const std::optional<uint64_t> src_bytes = DTypeByteSize(from, n);
  const std::optional<uint64_t> dst_bytes = DTypeByteSize(to, n);
  if (!src_bytes || *src_bytes > src.size()) {
    return Error("dtype.convert.buffer_size",
                 StrCat(n, " ", Name(from), " elements need ",
                              src_bytes ? StrCat(*src_bytes) : "more than 2^64",
                              " bytes but the source holds ", src.size()));
  }
  if (!dst_bytes || *dst_bytes > dst.size()) {
    return Error("dtype.convert.buffer_size",
                 StrCat(n, " ", Name(to), " elements need ",
                              dst_bytes ? StrCat(*dst_bytes) : "more than 2^64",
                              " bytes but the destination holds ", dst.size()));
  }
  if (n == 0) return absl::OkStatus();
  // Both counts fit in memory now, so size_t holds them.
  const size_t count = static_cast<size_t>(n);
  const uint8_t* s = src.data();
  uint8_t* d = dst.data();
  if (from == to) {
    std::memcpy(d, s, static_cast<size_t>(*src_bytes));
    return absl::OkStatus();
  }
  if (from == DType::kF32) {
    FromF32(to, s, d, count);
    return absl::OkStatus();
  }
  if (to == DType::kF32) {
    ToF32(from, s, d, count);
    return absl::OkStatus();
  }
  // Everything else goes through F32 in cache-sized chunks. Widening to F32
  // is exact (F64 rounds once, as torch does), so the result rounds once.
  constexpr size_t kChunk = 2048;
  alignas(64) uint8_t buf[kChunk * sizeof(float)];
  const size_t from_size = GetDTypeInfo(from).block_bytes;
  const size_t to_size = GetDTypeInfo(to).block_bytes;
  for (size_t i = 0; i < count; i += kChunk) {
    const size_t c = std::min(kChunk, count - i);
    ToF32(from, s + i * from_size, buf, c);
    FromF32(to, buf, d + i * to_size, c);
  }
  return absl::OkStatus();
}

bool CanConvert(DType from, DType to) {
  return from == to || (IsConvertibleFloat(to) && (IsConvertibleFloat(from) || CanDequantize(from)));
}

absl::Status ConvertInChunks(DType from, absl::Span<const uint8_t> src, DType to,
                             absl::FunctionRef<absl::Status(absl::Span<const uint8_t>)> sink) {
  constexpr uint64_t kChunkElems = 1 << 18;
  const DTypeInfo& in = GetDTypeInfo(from);
  if (in.kind == DTypeKind::kQuantized && from != to) {
    if (!CanConvert(from, to)) {
      return Error("dtype.convert.unsupported", StrCat("cannot convert ", DTypeName(from), " to ", DTypeName(to)));
    }
    const uint64_t blocks = src.size() / in.block_bytes;
    const uint64_t per_chunk = std::max<uint64_t>(1, kChunkElems / in.block_elems);
    std::vector<float> f32(std::min(blocks, per_chunk) * in.block_elems);
    std::vector<uint8_t> buf(f32.size() * GetDTypeInfo(to).block_bytes);
    for (uint64_t b = 0; b < blocks; b += per_chunk) {
      const uint64_t m = std::min(per_chunk, blocks - b);
      const uint64_t n = m * in.block_elems;
      DequantizeRow(from, src.data() + b * in.block_bytes, f32.data(), static_cast<int64_t>(n));
      const auto f32_bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(f32.data()), 4 * n);
      const uint64_t out_bytes = n * GetDTypeInfo(to).block_bytes;
      CKPT_RETURN_IF_ERROR(ConvertElements(DType::kF32, f32_bytes, to, absl::MakeSpan(buf.data(), out_bytes), n));
      CKPT_RETURN_IF_ERROR(sink(absl::MakeConstSpan(buf.data(), out_bytes)));
    }
    return absl::OkStatus();
  }
  const uint64_t in_size = GetDTypeInfo(from).block_bytes;
  const uint64_t out_size = GetDTypeInfo(to).block_bytes;
  const uint64_t n = src.size() / in_size;
  std::vector<uint8_t> buf(std::min(n, kChunkElems) * out_size);
  for (uint64_t i = 0; i < n; i += kChunkElems) {
    const uint64_t m = std::min(kChunkElems, n - i);
    CKPT_RETURN_IF_ERROR(
        ConvertElements(from, src.subspan(i * in_size, m * in_size), to, absl::MakeSpan(buf.data(), m * out_size), m));
    CKPT_RETURN_IF_ERROR(sink(absl::MakeConstSpan(buf.data(), m * out_size)));
  }
  return absl::OkStatus();
}

}  // namespace ckpt
