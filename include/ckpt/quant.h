// ckpt/quant.h — ggml block quantization, bit-exact with llama-quantize.
//
// QuantizeRows(t, ...) writes the bytes ggml's ggml_quantize_chunk(t, ...)
// writes — the `quantize_<type>` entry points llama-quantize calls, with or
// without an importance matrix (these differ from the `_ref` row functions
// for some types, e.g. IQ4_NL). Each block's floating-point operations run in
// the reference's order without FMA contraction; many blocks are processed at
// once where the CPU has AVX2, with a scalar path that gives the same bytes.
//
// DequantizeRow(t, ...) is ggml's to_float for every block type found in
// GGUF files, including the ones ckpt cannot produce (Q8_K, IQ1/IQ2/IQ3).
#ifndef CKPT_QUANT_H_
#define CKPT_QUANT_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"
#include "ckpt/dtype.h"

namespace ckpt {

// True when QuantizeRows can produce `t`: F32, F16, BF16, Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL, IQ4_XS, IQ3_XXS, IQ3_S, TQ1_0, TQ2_0,
// MXFP4, Q1_0, Q2_0.
bool CanQuantize(DType t);
// True when DequantizeRow can read `t` (every float and ggml block type).
bool CanDequantize(DType t);
// ggml_quantize_requires_imatrix: IQ2_XXS, IQ2_XS, IQ1_S.
bool QuantizeRequiresImatrix(DType t);

// QuantizeRows
//
// Quantizes `nrows` rows of `n_per_row` floats at `src` into `dst`
// (nrows × row bytes). `imatrix` is null or `n_per_row` importance weights,
// one per column; types that do not use one ignore it.
// REQUIRES: CanQuantize(t); n_per_row is a multiple of t's block size.
void QuantizeRows(DType t, const float* src, uint8_t* dst, int64_t nrows, int64_t n_per_row,
                  const float* imatrix);

// DequantizeRow
//
// Decodes `n` elements of `t` at `src` into `dst`.
// REQUIRES: CanDequantize(t); n is a multiple of t's block size.
void DequantizeRow(DType t, const uint8_t* src, float* dst, int64_t n);

// FindInvalidBlock
//
// ggml_validate_row_data for quantizer output: the index of the first block
// whose f16 scale is infinite or NaN (an E8M0 scale of 0xFF for MXFP4; any
// such value for F16/BF16/F32), or nullopt.
std::optional<uint64_t> FindInvalidBlock(DType t, absl::Span<const uint8_t> bytes);

}  // namespace ckpt

#endif  // CKPT_QUANT_H_
