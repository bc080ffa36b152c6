// formats/hf/rope.h — Llama 3's rope_freqs.weight, computed as
// convert_hf_to_gguf.py computes it with torch float32 arithmetic.
#ifndef CKPT_FORMATS_HF_ROPE_H_
#define CKPT_FORMATS_HF_ROPE_H_

#include <cstdint>
#include <vector>

namespace ckpt::hf {

struct Llama3Rope {
  int64_t dim = 0;                 // head_dim (or hidden_size / num_attention_heads)
  double base = 10000.0;           // rope_theta
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_context = 8192;  // original_max_position_embeddings
};

// Llama3RopeFreqs
//
// dim/2 factors, bit-identical to LlamaModel.generate_extra_tensors under
// torch's CPU kernels: freqs = 1 / base^(arange(0, dim, 2) / dim) where the
// power is torch's AVX2 kernel (SLEEF powf_u10 with FMA for each full pair
// of 8-lane vectors, glibc powf for the tail), and every other step one
// float32 operation in torch's order (x / y on a tensor as reciprocal × y).
std::vector<float> Llama3RopeFreqs(const Llama3Rope& r);

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_ROPE_H_
