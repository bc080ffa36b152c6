// Protects: the quantizers (ckpt/quant.h) on any finite input — no crash,
// no undefined behaviour, no out-of-bounds write — and the promise that the
// vectorised searches give the same bytes as the scalar ones.
//
// Input: byte 0 picks the type, byte 1 bit 0 whether an importance matrix is
// used, bits 1-2 the row count (1-4); the rest are the floats (the row
// length is the largest multiple of the type's block that fits, at least
// one block; missing bytes are zero). Non-finite values become 0 (the
// pipeline rejects them before quantizing, as llama.cpp does); the
// importance weights are the absolute values of the same floats.
//
// Checks, each an abort() with a message on stderr:
//   1. QuantizeRows writes exactly nrows × row bytes (guard bytes intact).
//   2. The scalar, portable-vector and AVX2 search paths give identical bytes.
//   3. DequantizeRow of the result returns (no crash; values are not checked).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ckpt/quant.h"
#include "fuzz/fuzz_check.h"
#include "lib/quant/common.h"

namespace {

constexpr ckpt::DType kTypes[] = {
    ckpt::DType::kQ4_0, ckpt::DType::kQ4_1, ckpt::DType::kQ5_0, ckpt::DType::kQ5_1, ckpt::DType::kQ8_0,
    ckpt::DType::kQ2_K, ckpt::DType::kQ3_K, ckpt::DType::kQ4_K, ckpt::DType::kQ5_K, ckpt::DType::kQ6_K,
    ckpt::DType::kIQ4_NL, ckpt::DType::kIQ4_XS, ckpt::DType::kTQ1_0, ckpt::DType::kTQ2_0, ckpt::DType::kMXFP4,
    ckpt::DType::kQ1_0, ckpt::DType::kQ2_0, ckpt::DType::kF16, ckpt::DType::kBF16, ckpt::DType::kIQ3_XXS,
    ckpt::DType::kIQ3_S};
constexpr uint8_t kGuard = 0xA5;

std::vector<uint8_t> Run(ckpt::quant::SearchPath path, ckpt::DType t, const std::vector<float>& x, int64_t rows,
                         int64_t cols, const float* qw) {
  ckpt::quant::SetSearchPathForTesting(path);
  const ckpt::DTypeInfo& info = ckpt::GetDTypeInfo(t);
  const size_t n = static_cast<size_t>(rows * (cols / info.block_elems) * info.block_bytes);
  std::vector<uint8_t> out(n + 64, kGuard);
  ckpt::QuantizeRows(t, x.data(), out.data(), rows, cols, qw);
  for (size_t i = n; i < out.size(); ++i) CHECK(out[i] == kGuard, "QuantizeRows wrote past its output");
  out.resize(n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const ckpt::DType t = kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))];
  const bool use_imatrix = data[1] & 1;
  const int64_t rows = 1 + ((data[1] >> 1) & 3);
  const ckpt::DTypeInfo& info = ckpt::GetDTypeInfo(t);
  const int64_t floats = static_cast<int64_t>((size - 2) / 4);
  const int64_t block = info.block_elems;
  const int64_t cols = std::max<int64_t>(block, std::min<int64_t>(floats / rows / block * block, 16 * 256));
  std::vector<float> x(static_cast<size_t>(rows * cols), 0.0f);
  std::memcpy(x.data(), data + 2, std::min<size_t>(x.size(), static_cast<size_t>(floats)) * 4);
  for (float& v : x) if (!std::isfinite(v)) v = 0.0f;
  std::vector<float> qw(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) qw[i] = std::fabs(x[i]);
  const float* w = use_imatrix ? qw.data() : nullptr;

  using ckpt::quant::SearchPath;
  const std::vector<uint8_t> scalar = Run(SearchPath::kScalar, t, x, rows, cols, w);
  CHECK(Run(SearchPath::kPortableVector, t, x, rows, cols, w) == scalar, "portable vector path differs from scalar");
  if (ckpt::quant::CpuHasAvx2()) {
    CHECK(Run(SearchPath::kAvx2, t, x, rows, cols, w) == scalar, "AVX2 path differs from scalar");
  }
  ckpt::quant::SetSearchPathForTesting(SearchPath::kAuto);
  std::vector<float> back(static_cast<size_t>(rows * cols));
  ckpt::DequantizeRow(t, scalar.data(), back.data(), rows * cols);
  return 0;
}
