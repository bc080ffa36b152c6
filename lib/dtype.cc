#include "ckpt/dtype.h"

#include <array>

#include "ckpt/checked_math.h"

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
}};

}  // namespace

const DTypeInfo& GetDTypeInfo(DType t) { return kTypes[static_cast<size_t>(t)]; }

std::optional<DType> DTypeFromSafetensorsName(std::string_view name) {
  // Called once per tensor entry: test the common names first, then the rest.
  static constexpr DType kCommon[] = {DType::kBF16, DType::kF16, DType::kF32, DType::kI64, DType::kU8};
  for (DType t : kCommon) {
    if (kTypes[static_cast<size_t>(t)].name == name) return t;
  }
  for (size_t i = 0; i < kTypes.size(); ++i) {
    if (kTypes[i].name == name) return static_cast<DType>(i);
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
