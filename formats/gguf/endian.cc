// Byte order of tensor data: which fields of each ggml block are numbers.
//
// Plain types swap whole elements. Inside ggml blocks only the f16/f32
// scales (and u16 index arrays) are numbers; the packed quants are bytes.
// Layouts are ggml-common.h's block structs. Types whose bytes ggml reads as
// wider integers through memcpy (Q5_0's qh, Q3_K's scales, the IQ* grids)
// have no agreed big-endian form, so they are refused rather than guessed
// (gguf-py's convert_endian handles fewer types still).
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

struct Field {
  uint16_t offset;  // within the block
  uint8_t width;    // 2 or 4 bytes
  uint8_t count;    // consecutive fields
};

struct BlockLayout {
  DType type;
  std::initializer_list<Field> fields;
};

const BlockLayout kLayouts[] = {
    {DType::kQ4_0, {{0, 2, 1}}},                 // d, qs[16]
    {DType::kQ4_1, {{0, 2, 2}}},                 // d, m, qs[16]
    {DType::kQ8_0, {{0, 2, 1}}},                 // d, qs[32]
    {DType::kQ8_1, {{0, 2, 2}}},                 // d, s, qs[32]
    {DType::kQ2_K, {{80, 2, 2}}},                // scales[16], qs[64], d, dmin
    {DType::kQ4_K, {{0, 2, 2}}},                 // d, dmin, scales[12], qs[128]
    {DType::kQ5_K, {{0, 2, 2}}},                 // d, dmin, scales[12], qh[32], qs[128]
    {DType::kQ6_K, {{208, 2, 1}}},               // ql[128], qh[64], scales[16], d
    {DType::kQ8_K, {{0, 4, 1}, {260, 2, 16}}},   // d (f32), qs[256], bsums[16] (i16)
    {DType::kIQ4_NL, {{0, 2, 1}}},               // d, qs[16]
    {DType::kTQ2_0, {{64, 2, 1}}},               // qs[64], d
    {DType::kQ1_0, {{0, 2, 1}}},                 // d, qs[16]
    {DType::kMXFP4, {}},                         // e (u8), qs[16]
    {DType::kNVFP4, {}},                         // d[4] (u8 E4M3), qs[32]
};

const BlockLayout* LayoutOf(DType t) {
  for (const BlockLayout& l : kLayouts) {
    if (l.type == t) return &l;
  }
  return nullptr;
}

void SwapInPlace(uint8_t* p, uint32_t width) {
  if (width == 2) {
    std::swap(p[0], p[1]);
  } else if (width == 4) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    x = __builtin_bswap32(x);
    std::memcpy(p, &x, 4);
  } else if (width == 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    x = __builtin_bswap64(x);
    std::memcpy(p, &x, 8);
  }
}

}  // namespace

bool CanSwapGgmlType(DType t) {
  return GetDTypeInfo(t).kind != DTypeKind::kQuantized || LayoutOf(t) != nullptr;
}

absl::Status SwapGgmlBlocks(DType t, absl::Span<uint8_t> bytes) {
  const DTypeInfo& info = GetDTypeInfo(t);
  if (bytes.size() % info.block_bytes != 0) {
    return Error("gguf.endian.size", StrCat(bytes.size(), " bytes are not whole ", info.name, " blocks"));
  }
  if (info.kind != DTypeKind::kQuantized) {
    if (info.block_elems != 1) {
      return Error("gguf.endian.type", StrCat("cannot byte-swap ", info.name)).Code(absl::StatusCode::kUnimplemented);
    }
    for (size_t i = 0; i < bytes.size(); i += info.block_bytes) SwapInPlace(bytes.data() + i, info.block_bytes);
    return absl::OkStatus();
  }
  const BlockLayout* layout = LayoutOf(t);
  if (layout == nullptr) {
    return Error("gguf.endian.type", StrCat("ckpt does not know which fields of a ", info.name,
                                            " block to byte-swap"))
        .Code(absl::StatusCode::kUnimplemented);
  }
  for (size_t b = 0; b < bytes.size(); b += info.block_bytes) {
    for (const Field& f : layout->fields) {
      for (uint32_t k = 0; k < f.count; ++k) SwapInPlace(bytes.data() + b + f.offset + k * f.width, f.width);
    }
  }
  return absl::OkStatus();
}

}  // namespace ckpt
