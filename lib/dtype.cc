#include "ckpt/dtype.h"

#include <array>

#include "absl/strings/match.h"
#include "ckpt/checked_math.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

using K = DTypeKind;
constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kTypes = {{
    {"BOOL", 1, 1, K::kBool},
    {"F4", 2, 1, K::kFloat},
    {"F6_E2M3", 4, 3, K::kFloat},
    {"F6_E3M2", 4, 3, K::kFloat},
    {"U8", 1, 1, K::kUInt},
    {"I8", 1, 1, K::kInt},
    {"F8_E5M2", 1, 1, K::kFloat},
    {"F8_E4M3", 1, 1, K::kFloat},
    {"F8_E8M0", 1, 1, K::kFloat},
    {"F8_E4M3FNUZ", 1, 1, K::kFloat},
    {"F8_E5M2FNUZ", 1, 1, K::kFloat},
    {"I16", 1, 2, K::kInt},
    {"U16", 1, 2, K::kUInt},
    {"F16", 1, 2, K::kFloat},
    {"BF16", 1, 2, K::kFloat},
    {"I32", 1, 4, K::kInt},
    {"U32", 1, 4, K::kUInt},
    {"F32", 1, 4, K::kFloat},
    {"C64", 1, 8, K::kComplex},
    {"F64", 1, 8, K::kFloat},
    {"I64", 1, 8, K::kInt},
    {"U64", 1, 8, K::kUInt},
    // ggml block types; sizes from ggml-common.h (see docs/formats/gguf.md).
    {"Q4_0", 32, 18, K::kQuantized},
    {"Q4_1", 32, 20, K::kQuantized},
    {"Q5_0", 32, 22, K::kQuantized},
    {"Q5_1", 32, 24, K::kQuantized},
    {"Q8_0", 32, 34, K::kQuantized},
    {"Q8_1", 32, 36, K::kQuantized},
    {"Q2_K", 256, 84, K::kQuantized},
    {"Q3_K", 256, 110, K::kQuantized},
    {"Q4_K", 256, 144, K::kQuantized},
    {"Q5_K", 256, 176, K::kQuantized},
    {"Q6_K", 256, 210, K::kQuantized},
    {"Q8_K", 256, 292, K::kQuantized},
    {"IQ2_XXS", 256, 66, K::kQuantized},
    {"IQ2_XS", 256, 74, K::kQuantized},
    {"IQ3_XXS", 256, 98, K::kQuantized},
    {"IQ1_S", 256, 50, K::kQuantized},
    {"IQ4_NL", 32, 18, K::kQuantized},
    {"IQ3_S", 256, 110, K::kQuantized},
    {"IQ2_S", 256, 82, K::kQuantized},
    {"IQ4_XS", 256, 136, K::kQuantized},
    {"IQ1_M", 256, 56, K::kQuantized},
    {"TQ1_0", 256, 54, K::kQuantized},
    {"TQ2_0", 256, 66, K::kQuantized},
    {"MXFP4", 32, 17, K::kQuantized},
    {"NVFP4", 64, 36, K::kQuantized},
    {"Q1_0", 128, 18, K::kQuantized},
    {"Q2_0", 64, 18, K::kQuantized},
}};

// ggml type id → DType; kCount marks ids that are unused or removed.
constexpr DType kNone = DType::kCount;
constexpr std::array<DType, kGgmlTypeCount> kGgml = {{
    DType::kF32, DType::kF16, DType::kQ4_0, DType::kQ4_1, kNone, kNone,         // 0-5
    DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ8_1,                     // 6-9
    DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,       // 10-14
    DType::kQ8_K, DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ3_XXS,             // 15-18
    DType::kIQ1_S, DType::kIQ4_NL, DType::kIQ3_S, DType::kIQ2_S, DType::kIQ4_XS,  // 19-23
    DType::kI8, DType::kI16, DType::kI32, DType::kI64, DType::kF64,             // 24-28
    DType::kIQ1_M, DType::kBF16, kNone, kNone, kNone,                           // 29-33
    DType::kTQ1_0, DType::kTQ2_0, kNone, kNone, kNone,                          // 34-38
    DType::kMXFP4, DType::kNVFP4, DType::kQ1_0, DType::kQ2_0,                   // 39-42
}};

}  // namespace

const DTypeInfo& GetDTypeInfo(DType t) { return kTypes[static_cast<size_t>(t)]; }

std::optional<DType> DTypeFromSafetensorsName(std::string_view name) {
  // Called once per tensor entry: test the common names first, then the rest.
  static constexpr DType kCommon[] = {DType::kBF16, DType::kF16, DType::kF32, DType::kI64, DType::kU8};
  for (DType t : kCommon) {
    if (kTypes[static_cast<size_t>(t)].name == name) return t;
  }
  for (int i = 0; i < kSafetensorsDTypeCount; ++i) {
    if (kTypes[i].name == name) return static_cast<DType>(i);
  }
  return std::nullopt;
}

std::optional<DType> DTypeFromGgmlId(uint32_t id) {
  if (id >= kGgml.size() || kGgml[id] == kNone) return std::nullopt;
  return kGgml[id];
}

std::optional<uint32_t> GgmlIdOf(DType t) {
  for (uint32_t i = 0; i < kGgml.size(); ++i) {
    if (kGgml[i] == t) return i;
  }
  return std::nullopt;
}

std::optional<std::string_view> GgmlRemovedTypeName(uint32_t id) {
  switch (id) {
    case 4: return "Q4_2";
    case 5: return "Q4_3";
    case 31: return "Q4_0_4_4";
    case 32: return "Q4_0_4_8";
    case 33: return "Q4_0_8_8";
    case 36: return "IQ4_NL_4_4";
    case 37: return "IQ4_NL_4_8";
    case 38: return "IQ4_NL_8_8";
    default: return std::nullopt;
  }
}

std::optional<DType> DTypeFromGgmlName(std::string_view name) {
  for (DType t : kGgml) {
    if (t != kNone && absl::EqualsIgnoreCase(AbslView(kTypes[static_cast<size_t>(t)].name), AbslView(name))) return t;
  }
  return std::nullopt;
}

std::optional<uint64_t> DTypeByteSize(DType t, uint64_t n_elems) {
  const DTypeInfo& info = GetDTypeInfo(t);
  if (n_elems % info.block_elems != 0) return std::nullopt;
  return CheckedMul(n_elems / info.block_elems, info.block_bytes);
}

bool IsConvertibleFloat(DType t) {
  switch (t) {
    case DType::kF64:
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kF8_E4M3:
    case DType::kF8_E5M2:
    case DType::kF8_E4M3FNUZ:
    case DType::kF8_E5M2FNUZ:
    case DType::kF8_E8M0:
      return true;
    default:
      return false;
  }
}

}  // namespace ckpt
