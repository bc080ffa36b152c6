// make_llama_gguf OUT.gguf [LAYERS EMBD FF HEADS KV_HEADS VOCAB [f32|f16|bf16]]
//
// Writes a Llama-architecture GGUF with the KVs llama.cpp's loader needs and
// N(0, 0.02) weights (fixed seed), tensors in convert_hf_to_gguf.py's order,
// for `make demo` and the quantization benchmarks (bench/compare_quantize.sh).
// Defaults: 2 layers, 256 wide, a quick demo model.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ckpt/dtype_convert.h"
#include "ckpt/gguf.h"

namespace {

uint64_t Arg(int argc, char** argv, int i, uint64_t def) { return argc > i ? std::strtoull(argv[i], nullptr, 10) : def; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 9) {
    std::fprintf(stderr, "usage: make_llama_gguf OUT.gguf [LAYERS EMBD FF HEADS KV_HEADS VOCAB [f32|f16|bf16]]\n");
    return 2;
  }
  const uint64_t layers = Arg(argc, argv, 2, 2), embd = Arg(argc, argv, 3, 256), ff = Arg(argc, argv, 4, 512);
  const uint64_t heads = Arg(argc, argv, 5, 4), kv_heads = Arg(argc, argv, 6, 2), vocab = Arg(argc, argv, 7, 512);
  const std::string dtype_name = argc > 8 ? argv[8] : "f16";
  const ckpt::DType dtype = dtype_name == "f32" ? ckpt::DType::kF32
                            : dtype_name == "bf16" ? ckpt::DType::kBF16
                                                   : ckpt::DType::kF16;
  if (layers == 0 || embd == 0 || ff == 0 || heads == 0 || kv_heads == 0 || vocab == 0 || embd % heads != 0) {
    std::fprintf(stderr, "make_llama_gguf: sizes must be positive and EMBD a multiple of HEADS\n");
    return 2;
  }
  const uint64_t kv_dim = embd / heads * kv_heads;
  using ckpt::GgufOwnedValue;
  using ckpt::GgufType;
  auto u32 = [](uint64_t v) { return GgufOwnedValue::Unsigned(GgufType::kU32, v); };
  std::vector<ckpt::GgufKvToWrite> kvs = {
      {"general.architecture", GgufOwnedValue::String("llama")},
      {"general.type", GgufOwnedValue::String("model")},
      {"general.name", GgufOwnedValue::String("ckpt sample")},
      {"llama.block_count", u32(layers)},
      {"llama.context_length", u32(4096)},
      {"llama.embedding_length", u32(embd)},
      {"llama.feed_forward_length", u32(ff)},
      {"llama.attention.head_count", u32(heads)},
      {"llama.attention.head_count_kv", u32(kv_heads)},
      {"llama.rope.freq_base", GgufOwnedValue::F32(10000.0f)},
      {"llama.attention.layer_norm_rms_epsilon", GgufOwnedValue::F32(1e-5f)},
      {"general.file_type", u32(dtype == ckpt::DType::kF32 ? 0 : dtype == ckpt::DType::kF16 ? 1 : 32)},
      {"llama.vocab_size", u32(vocab)},
      {"llama.rope.dimension_count", u32(embd / heads)},
      {"general.quantization_version", u32(2)},
  };
  struct Spec {
    std::string name;
    std::vector<uint64_t> ne;  // ggml order
  };
  std::vector<Spec> specs = {{"token_embd.weight", {embd, vocab}}};
  for (uint64_t l = 0; l < layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    specs.push_back({b + "attn_norm.weight", {embd}});
    specs.push_back({b + "ffn_down.weight", {ff, embd}});
    specs.push_back({b + "ffn_gate.weight", {embd, ff}});
    specs.push_back({b + "ffn_up.weight", {embd, ff}});
    specs.push_back({b + "ffn_norm.weight", {embd}});
    specs.push_back({b + "attn_k.weight", {embd, kv_dim}});
    specs.push_back({b + "attn_output.weight", {embd, embd}});
    specs.push_back({b + "attn_q.weight", {embd, embd}});
    specs.push_back({b + "attn_v.weight", {embd, kv_dim}});
  }
  specs.push_back({"output_norm.weight", {embd}});
  specs.push_back({"output.weight", {embd, vocab}});

  uint64_t state = 42;
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::vector<std::vector<uint8_t>> storage;
  std::vector<ckpt::GgufTensorToWrite> tensors;
  for (const Spec& s : specs) {
    uint64_t n = 1;
    for (uint64_t d : s.ne) n *= d;
    const bool norm = s.ne.size() == 1;
    const ckpt::DType t = norm ? ckpt::DType::kF32 : dtype;
    std::vector<uint8_t> bytes(n * ckpt::GetDTypeInfo(t).block_bytes);
    for (uint64_t i = 0; i < n; i += 2) {
      // Box-Muller: two N(0, 0.02) values per pair of uniforms.
      const double u = ((next() >> 11) + 1.0) * 0x1.0p-53, v = (next() >> 11) * 0x1.0p-53;
      const double r = std::sqrt(-2.0 * std::log(u)) * 0.02;
      const float pair[2] = {norm ? 1.0f : static_cast<float>(r * std::cos(6.283185307179586 * v)),
                             norm ? 1.0f : static_cast<float>(r * std::sin(6.283185307179586 * v))};
      for (uint64_t k = 0; k < 2 && i + k < n; ++k) {
        if (t == ckpt::DType::kF32) {
          std::memcpy(bytes.data() + 4 * (i + k), &pair[k], 4);
        } else {
          const uint16_t h = t == ckpt::DType::kF16 ? ckpt::F32ToF16(pair[k]) : ckpt::F32ToBF16(pair[k]);
          std::memcpy(bytes.data() + 2 * (i + k), &h, 2);
        }
      }
    }
    storage.push_back(std::move(bytes));
    ckpt::GgufTensorToWrite w;
    w.name = s.name;
    w.dtype = w.source_dtype = t;
    w.ne = s.ne;
    w.data = storage.back();
    tensors.push_back(std::move(w));
  }
  const absl::Status st = ckpt::WriteGguf(argv[1], kvs, tensors);
  if (!st.ok()) {
    std::fprintf(stderr, "make_llama_gguf: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}
