// ckpt/dtype.h — one element-type model for every format.
//
// A DType is either a plain element type (one value per 1, 2, 4 or 8 bytes),
// a packed sub-byte float (F4: 2 per byte, F6: 4 per 3 bytes) or a ggml block
// type (N elements per block of B bytes; the GGUF support fills these in).
// Every type is described by (block_elems, block_bytes): a tensor of n
// elements needs n / block_elems * block_bytes bytes and n must be a multiple
// of block_elems.
//
// The first 22 enumerators are the Safetensors dtypes in the order of the
// reference crate's enum; that order is the "rank" its writer sorts by, so
// SafetensorsRank(t) == static_cast<int>(t) for those.
#ifndef CKPT_DTYPE_H_
#define CKPT_DTYPE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace ckpt {

enum class DType : uint8_t {
  kBool,
  kF4,         // E2M1, two per byte
  kF6_E2M3,    // four per three bytes
  kF6_E3M2,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,    // E4M3FN: no infinities, NaN = S.1111.111
  kF8_E8M0,    // exponent only (MX scales), 0xFF = NaN
  kF8_E4M3FNUZ,
  kF8_E5M2FNUZ,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kC64,        // two F32
  kF64,
  kI64,
  kU64,
  // ggml block types (GGUF only), in ggml id order.
  kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ8_1,
  kQ2_K, kQ3_K, kQ4_K, kQ5_K, kQ6_K, kQ8_K,
  kIQ2_XXS, kIQ2_XS, kIQ3_XXS, kIQ1_S, kIQ4_NL, kIQ3_S, kIQ2_S, kIQ4_XS, kIQ1_M,
  kTQ1_0, kTQ2_0, kMXFP4, kNVFP4, kQ1_0, kQ2_0,
  kCount,      // number of types; not a type
};

// The Safetensors dtypes are the first kSafetensorsDTypeCount enumerators.
inline constexpr int kSafetensorsDTypeCount = static_cast<int>(DType::kU64) + 1;

enum class DTypeKind : uint8_t { kBool, kInt, kUInt, kFloat, kComplex, kQuantized };

struct DTypeInfo {
  std::string_view name;   // Safetensors spelling ("F32", "F8_E4M3", ...)
  uint32_t block_elems;    // elements per block (1 for plain types)
  uint32_t block_bytes;    // bytes per block
  DTypeKind kind;
};

// Describes `t`. REQUIRES: t < DType::kCount.
const DTypeInfo& GetDTypeInfo(DType t);

inline std::string_view DTypeName(DType t) { return GetDTypeInfo(t).name; }

// The type with Safetensors name `name` (case-sensitive), or nullopt.
std::optional<DType> DTypeFromSafetensorsName(std::string_view name);

// Bytes needed for `n_elems` elements of `t`: nullopt on overflow or when
// `n_elems` is not a whole number of blocks.
std::optional<uint64_t> DTypeByteSize(DType t, uint64_t n_elems);

// ---- ggml type ids (GGUF tensor types) -------------------------------------

// One past the largest ggml type id in use (GGML_TYPE_COUNT).
inline constexpr uint32_t kGgmlTypeCount = 43;

// The DType for ggml type id `id`, or nullopt when the id is out of range or
// was removed from ggml (see GgmlRemovedTypeName).
std::optional<DType> DTypeFromGgmlId(uint32_t id);
// The ggml id of `t`, or nullopt for types GGUF cannot hold (BOOL, U8, F8...).
std::optional<uint32_t> GgmlIdOf(DType t);
// For ids ggml used once and removed ("Q4_2", "Q4_0_4_4", ...), the old name.
std::optional<std::string_view> GgmlRemovedTypeName(uint32_t id);
// The type named `name` in ggml spelling, case-insensitive ("q4_k", "F16").
std::optional<DType> DTypeFromGgmlName(std::string_view name);

// True for the types ckpt can convert to and from F32 (see dtype_convert.h).
bool IsConvertibleFloat(DType t);

}  // namespace ckpt

#endif  // CKPT_DTYPE_H_
