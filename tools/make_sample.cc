// make_sample OUT — writes a small Llama-shaped BF16 checkpoint (random
// weights, fixed seed) for `make demo`.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ckpt/dtype_convert.h"
#include "ckpt/safetensors.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_sample OUT.safetensors\n");
    return 2;
  }
  const uint64_t hidden = 512, ffn = 1408, vocab = 4096, layers = 4;
  struct Spec {
    std::string name;
    std::vector<uint64_t> shape;
  };
  std::vector<Spec> specs = {{"model.embed_tokens.weight", {vocab, hidden}}, {"model.norm.weight", {hidden}},
                             {"lm_head.weight", {vocab, hidden}}};
  for (uint64_t l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
      specs.push_back({p + "self_attn." + n + ".weight", {hidden, hidden}});
    }
    specs.push_back({p + "mlp.gate_proj.weight", {ffn, hidden}});
    specs.push_back({p + "mlp.up_proj.weight", {ffn, hidden}});
    specs.push_back({p + "mlp.down_proj.weight", {hidden, ffn}});
    specs.push_back({p + "input_layernorm.weight", {hidden}});
    specs.push_back({p + "post_attention_layernorm.weight", {hidden}});
  }
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<std::vector<uint8_t>> storage;
  std::vector<ckpt::TensorToWrite> tensors;
  for (const Spec& s : specs) {
    uint64_t n = 1;
    for (uint64_t d : s.shape) n *= d;
    std::vector<uint8_t> bytes(2 * n);
    for (uint64_t i = 0; i < n; ++i) {
      const float v = s.shape.size() == 1 ? 1.0f : normal(rng);
      const uint16_t b = ckpt::F32ToBF16(v);
      bytes[2 * i] = static_cast<uint8_t>(b);
      bytes[2 * i + 1] = static_cast<uint8_t>(b >> 8);
    }
    storage.push_back(std::move(bytes));
    ckpt::TensorToWrite t;
    t.name = s.name;
    t.dtype = t.source_dtype = ckpt::DType::kBF16;
    t.shape = s.shape;
    t.data = absl::MakeConstSpan(storage.back());
    tensors.push_back(std::move(t));
  }
  const absl::Status st = ckpt::WriteSafetensors(argv[1], std::move(tensors),
                                                 std::vector<std::pair<std::string, std::string>>{{"format", "pt"}});
  if (!st.ok()) {
    std::fprintf(stderr, "make_sample: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}
