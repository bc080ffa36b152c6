// lib/quant/kernels.h — per-type entry points behind ckpt/quant.h.
//
// Quantize<T>(x, y, nrows, n_per_row, qw) has the semantics of ggml's
// quantize_<t>(x, y, nrows, n_per_row, qw): qw is null or n_per_row
// importance weights. Dequantize<T>(x, y, n) is ggml's dequantize_row_<t>.
// Files: legacy.cc (Q4_0..Q8_1), kquants.cc (Q2_K..Q8_K), iq4.cc (IQ4_NL,
// IQ4_XS), small.cc (TQ1_0, TQ2_0, MXFP4, NVFP4, Q1_0, Q2_0), iq_grids.cc
// (IQ1/IQ2/IQ3 decoding), iq3.cc (IQ3_XXS, IQ3_S quantization). Shared searches live in common.h.
#ifndef CKPT_LIB_QUANT_KERNELS_H_
#define CKPT_LIB_QUANT_KERNELS_H_

#include <cstdint>

namespace ckpt::quant {

#define CKPT_QUANTIZER(T)                                                                  \
  void Quantize##T(const float* x, uint8_t* y, int64_t nrows, int64_t n_per_row, const float* qw)
#define CKPT_DEQUANTIZER(T) void Dequantize##T(const uint8_t* x, float* y, int64_t n)

CKPT_QUANTIZER(Q4_0); CKPT_QUANTIZER(Q4_1); CKPT_QUANTIZER(Q5_0); CKPT_QUANTIZER(Q5_1);
CKPT_QUANTIZER(Q8_0);
CKPT_QUANTIZER(Q2_K); CKPT_QUANTIZER(Q3_K); CKPT_QUANTIZER(Q4_K); CKPT_QUANTIZER(Q5_K);
CKPT_QUANTIZER(Q6_K);
CKPT_QUANTIZER(IQ4_NL); CKPT_QUANTIZER(IQ4_XS);
CKPT_QUANTIZER(TQ1_0); CKPT_QUANTIZER(TQ2_0); CKPT_QUANTIZER(MXFP4);
CKPT_QUANTIZER(Q1_0); CKPT_QUANTIZER(Q2_0);
CKPT_QUANTIZER(IQ3_XXS); CKPT_QUANTIZER(IQ3_S);

CKPT_DEQUANTIZER(Q4_0); CKPT_DEQUANTIZER(Q4_1); CKPT_DEQUANTIZER(Q5_0); CKPT_DEQUANTIZER(Q5_1);
CKPT_DEQUANTIZER(Q8_0); CKPT_DEQUANTIZER(Q8_1);
CKPT_DEQUANTIZER(Q2_K); CKPT_DEQUANTIZER(Q3_K); CKPT_DEQUANTIZER(Q4_K); CKPT_DEQUANTIZER(Q5_K);
CKPT_DEQUANTIZER(Q6_K); CKPT_DEQUANTIZER(Q8_K);
CKPT_DEQUANTIZER(IQ4_NL); CKPT_DEQUANTIZER(IQ4_XS);
CKPT_DEQUANTIZER(TQ1_0); CKPT_DEQUANTIZER(TQ2_0); CKPT_DEQUANTIZER(MXFP4); CKPT_DEQUANTIZER(NVFP4);
CKPT_DEQUANTIZER(Q1_0); CKPT_DEQUANTIZER(Q2_0);
CKPT_DEQUANTIZER(IQ2_XXS); CKPT_DEQUANTIZER(IQ2_XS); CKPT_DEQUANTIZER(IQ2_S);
CKPT_DEQUANTIZER(IQ3_XXS); CKPT_DEQUANTIZER(IQ3_S);
CKPT_DEQUANTIZER(IQ1_S); CKPT_DEQUANTIZER(IQ1_M);

#undef CKPT_QUANTIZER
#undef CKPT_DEQUANTIZER

}  // namespace ckpt::quant

#endif  // CKPT_LIB_QUANT_KERNELS_H_
