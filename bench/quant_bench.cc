// Quantization kernels: single-thread elements/s of QuantizeRows per type,
// with and without an importance matrix, on 4096-wide N(0, 0.02) rows (the
// shape of a 7B model's rows). bench/compare_quantize.sh compares whole files
// with llama-quantize.
#include <cmath>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "ckpt/quant.h"

namespace {

constexpr int64_t kRows = 16, kCols = 4096;

const std::vector<float>& Rows() {
  static const std::vector<float> x = [] {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 0.02f);
    std::vector<float> v(kRows * kCols);
    for (float& f : v) f = d(rng);
    return v;
  }();
  return x;
}

const std::vector<float>& Importance() {
  static const std::vector<float> w = [] {
    std::mt19937 rng(2);
    std::lognormal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(kCols);
    for (float& f : v) f = d(rng);
    return v;
  }();
  return w;
}

void BM_Quantize(benchmark::State& state, ckpt::DType t, bool imatrix) {
  const ckpt::DTypeInfo& info = ckpt::GetDTypeInfo(t);
  std::vector<uint8_t> out(kRows * (kCols / info.block_elems) * info.block_bytes);
  for (auto _ : state) {
    ckpt::QuantizeRows(t, Rows().data(), out.data(), kRows, kCols, imatrix ? Importance().data() : nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kCols);
}

void BM_Dequantize(benchmark::State& state, ckpt::DType t) {
  const ckpt::DTypeInfo& info = ckpt::GetDTypeInfo(t);
  std::vector<uint8_t> q(kRows * (kCols / info.block_elems) * info.block_bytes);
  ckpt::QuantizeRows(t, Rows().data(), q.data(), kRows, kCols, nullptr);
  std::vector<float> out(kRows * kCols);
  for (auto _ : state) {
    ckpt::DequantizeRow(t, q.data(), out.data(), kRows * kCols);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kCols);
}

#define QUANT_BENCH(T)                                                           \
  BENCHMARK_CAPTURE(BM_Quantize, T, ckpt::DType::k##T, false);                   \
  BENCHMARK_CAPTURE(BM_Quantize, T##_imatrix, ckpt::DType::k##T, true);          \
  BENCHMARK_CAPTURE(BM_Dequantize, T, ckpt::DType::k##T)

QUANT_BENCH(Q8_0);
QUANT_BENCH(Q4_0);
QUANT_BENCH(Q4_1);
QUANT_BENCH(Q5_0);
QUANT_BENCH(Q5_1);
QUANT_BENCH(Q2_K);
QUANT_BENCH(Q3_K);
QUANT_BENCH(Q4_K);
QUANT_BENCH(Q5_K);
QUANT_BENCH(Q6_K);
QUANT_BENCH(IQ4_NL);
QUANT_BENCH(IQ4_XS);
QUANT_BENCH(TQ1_0);
QUANT_BENCH(TQ2_0);
QUANT_BENCH(MXFP4);

}  // namespace
