// Dispatch from DType to the per-type kernels, and the output check.
#include <cstring>

#include "ckpt/dtype_convert.h"
#include "ckpt/quant.h"
#include "lib/quant/kernels.h"

namespace ckpt {
namespace {

using QuantizeFn = void (*)(const float*, uint8_t*, int64_t, int64_t, const float*);
using DequantizeFn = void (*)(const uint8_t*, float*, int64_t);

struct Kernels {
  QuantizeFn quantize = nullptr;
  DequantizeFn dequantize = nullptr;
  // Byte offsets of the f16 scales validated in each block (-1 = none).
  int scale0 = -1, scale1 = -1;
};

Kernels KernelsFor(DType t) {
  namespace q = quant;
  switch (t) {
    case DType::kQ4_0: return {q::QuantizeQ4_0, q::DequantizeQ4_0, 0};
    case DType::kQ4_1: return {q::QuantizeQ4_1, q::DequantizeQ4_1, 0, 2};
    case DType::kQ5_0: return {q::QuantizeQ5_0, q::DequantizeQ5_0, 0};
    case DType::kQ5_1: return {q::QuantizeQ5_1, q::DequantizeQ5_1, 0, 2};
    case DType::kQ8_0: return {q::QuantizeQ8_0, q::DequantizeQ8_0, 0};
    case DType::kQ8_1: return {nullptr, q::DequantizeQ8_1, 0, 2};
    case DType::kQ2_K: return {q::QuantizeQ2_K, q::DequantizeQ2_K, 80, 82};
    case DType::kQ3_K: return {q::QuantizeQ3_K, q::DequantizeQ3_K, 108};
    case DType::kQ4_K: return {q::QuantizeQ4_K, q::DequantizeQ4_K, 0, 2};
    case DType::kQ5_K: return {q::QuantizeQ5_K, q::DequantizeQ5_K, 0, 2};
    case DType::kQ6_K: return {q::QuantizeQ6_K, q::DequantizeQ6_K, 208};
    case DType::kQ8_K: return {nullptr, q::DequantizeQ8_K};
    case DType::kIQ4_NL: return {q::QuantizeIQ4_NL, q::DequantizeIQ4_NL, 0};
    case DType::kIQ4_XS: return {q::QuantizeIQ4_XS, q::DequantizeIQ4_XS, 0};
    case DType::kTQ1_0: return {q::QuantizeTQ1_0, q::DequantizeTQ1_0, 52};
    case DType::kTQ2_0: return {q::QuantizeTQ2_0, q::DequantizeTQ2_0, 64};
    case DType::kMXFP4: return {q::QuantizeMXFP4, q::DequantizeMXFP4};
    case DType::kNVFP4: return {nullptr, q::DequantizeNVFP4};
    case DType::kQ1_0: return {q::QuantizeQ1_0, q::DequantizeQ1_0, 0};
    case DType::kQ2_0: return {q::QuantizeQ2_0, q::DequantizeQ2_0, 0};
    case DType::kIQ2_XXS: return {nullptr, q::DequantizeIQ2_XXS, 0};
    case DType::kIQ2_XS: return {nullptr, q::DequantizeIQ2_XS, 0};
    case DType::kIQ2_S: return {nullptr, q::DequantizeIQ2_S, 0};
    case DType::kIQ3_XXS: return {q::QuantizeIQ3_XXS, q::DequantizeIQ3_XXS, 0};
    case DType::kIQ3_S: return {q::QuantizeIQ3_S, q::DequantizeIQ3_S, 0};
    case DType::kIQ1_S: return {nullptr, q::DequantizeIQ1_S, 0};
    case DType::kIQ1_M: return {nullptr, q::DequantizeIQ1_M};
    default: return {};
  }
}

bool IsPlainFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

bool F16NotFinite(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return (h & 0x7C00) == 0x7C00;
}

// F32/F16/BF16 rows go through the exact, vectorised element conversions
// (ggml's fp32<->fp16/bf16 row functions round the same way).
void ConvertPlain(DType from, const void* src, DType to, void* dst, int64_t n) {
  (void)ConvertElements(from, absl::MakeConstSpan(static_cast<const uint8_t*>(src), n * GetDTypeInfo(from).block_bytes),
                        to, absl::MakeSpan(static_cast<uint8_t*>(dst), n * GetDTypeInfo(to).block_bytes), n);
}

}  // namespace

bool CanQuantize(DType t) { return IsPlainFloat(t) || KernelsFor(t).quantize != nullptr; }
bool CanDequantize(DType t) { return IsPlainFloat(t) || KernelsFor(t).dequantize != nullptr; }
bool QuantizeRequiresImatrix(DType t) {
  return t == DType::kIQ2_XXS || t == DType::kIQ2_XS || t == DType::kIQ1_S;
}

void QuantizeRows(DType t, const float* src, uint8_t* dst, int64_t nrows, int64_t n_per_row, const float* imatrix) {
  if (IsPlainFloat(t)) {
    ConvertPlain(DType::kF32, src, t, dst, nrows * n_per_row);
  } else {
    KernelsFor(t).quantize(src, dst, nrows, n_per_row, imatrix);
  }
}

void DequantizeRow(DType t, const uint8_t* src, float* dst, int64_t n) {
  if (IsPlainFloat(t)) {
    ConvertPlain(t, src, DType::kF32, dst, n);
  } else {
    KernelsFor(t).dequantize(src, dst, n);
  }
}

std::optional<uint64_t> FindInvalidBlock(DType t, absl::Span<const uint8_t> bytes) {
  const DTypeInfo& info = GetDTypeInfo(t);
  const uint64_t n = bytes.size() / info.block_bytes;
  const uint8_t* p = bytes.data();
  if (t == DType::kF16) {
    for (uint64_t i = 0; i < n; ++i) if (F16NotFinite(p + 2 * i)) return i;
    return std::nullopt;
  }
  if (t == DType::kBF16) {
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      if ((h & 0x7F80) == 0x7F80) return i;
    }
    return std::nullopt;
  }
  if (t == DType::kF32) {
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, p + 4 * i, 4);
      if ((u & 0x7F800000u) == 0x7F800000u) return i;
    }
    return std::nullopt;
  }
  if (t == DType::kMXFP4) {
    for (uint64_t i = 0; i < n; ++i) if (p[i * info.block_bytes] == 0xFF) return i;
    return std::nullopt;
  }
  const Kernels k = KernelsFor(t);
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* b = p + i * info.block_bytes;
    if ((k.scale0 >= 0 && F16NotFinite(b + k.scale0)) || (k.scale1 >= 0 && F16NotFinite(b + k.scale1))) return i;
  }
  return std::nullopt;
}

}  // namespace ckpt
