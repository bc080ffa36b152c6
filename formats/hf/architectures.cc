// The architecture table. Field lists and their order follow
// convert_hf_to_gguf.py (conversion/base.py TextModel.set_gguf_parameters,
// llama.py, qwen.py, gemma.py) and gguf-py's tensor_mapping.py.
#include "formats/hf/architectures.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "formats/hf/vocab.h"
#include "lib/str_util.h"

namespace ckpt::hf {
namespace {

using H = HparamKv;
using S = HparamSource;

// TextModel.set_gguf_parameters, shared by most architectures.
std::vector<HparamKv> TextModelHparams() {
  return {
      {S::kConfig, "block_count", {"n_layers", "num_hidden_layers", "n_layer", "num_layers"}, GgufType::kU32, true},
      {S::kConfig, "context_length",
       {"max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length"}},
      {S::kConfig, "embedding_length", {"hidden_size", "n_embd", "dim"}},
      {S::kConfig, "feed_forward_length",
       {"prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size", "n_inner", "hidden_dim"}},
      {S::kConfig, "attention.head_count", {"num_attention_heads", "n_head", "n_heads"}},
      {S::kConfig, "attention.head_count_kv", {"num_key_value_heads", "n_kv_heads"}},
      {S::kIsCausal, "attention.causal", {}, GgufType::kBool},
      {S::kRopeScaling, "", {}},
      {S::kRopeFreqBase, "rope.freq_base", {}, GgufType::kF32},
      {S::kRopeFreqBaseSwa, "rope.freq_base_swa", {}, GgufType::kF32},
      {S::kConfig, "attention.layer_norm_rms_epsilon", {"rms_norm_eps", "norm_eps"}, GgufType::kF32},
      {S::kConfig, "attention.layer_norm_epsilon", {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"},
       GgufType::kF32},
      {S::kConfig, "expert_count", {"num_local_experts", "num_experts", "n_routed_experts"}},
      {S::kConfig, "expert_used_count", {"num_experts_per_tok", "num_experts_per_token", "top_k_experts"}},
      {S::kConfig, "expert_group_count", {"n_group"}},
      {S::kConfig, "expert_group_used_count", {"topk_group"}},
      {S::kHeadDim, "", {}},
      {S::kFileType, "", {}},
  };
}

std::vector<HparamKv> Concat(std::vector<HparamKv> a, const std::vector<HparamKv>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The decoder-only layout Llama, Mistral, Qwen and Gemma share.
std::vector<TensorRule> DecoderTensors(TensorTransform q, TensorTransform k, TensorTransform norm) {
  return {
      {"model.embed_tokens", "token_embd", TensorTransform::kNone, {"vocab", "hidden"}},
      {"model.norm", "output_norm", norm, {"hidden"}},
      {"lm_head", "output", TensorTransform::kNone, {"vocab", "hidden"}, /*required=*/false},
      {"model.layers.{bid}.input_layernorm", "blk.{bid}.attn_norm", norm, {"hidden"}},
      {"model.layers.{bid}.self_attn.q_proj", "blk.{bid}.attn_q", q, {"q", "hidden"}},
      {"model.layers.{bid}.self_attn.k_proj", "blk.{bid}.attn_k", k, {"kv", "hidden"}},
      {"model.layers.{bid}.self_attn.v_proj", "blk.{bid}.attn_v", TensorTransform::kNone, {"kv", "hidden"}},
      {"model.layers.{bid}.self_attn.o_proj", "blk.{bid}.attn_output", TensorTransform::kNone, {"hidden", "q"}},
      {"model.layers.{bid}.post_attention_layernorm", "blk.{bid}.ffn_norm", norm, {"hidden"}},
      {"model.layers.{bid}.mlp.gate_proj", "blk.{bid}.ffn_gate", TensorTransform::kNone, {"ffn", "hidden"}},
      {"model.layers.{bid}.mlp.up_proj", "blk.{bid}.ffn_up", TensorTransform::kNone, {"ffn", "hidden"}},
      {"model.layers.{bid}.mlp.down_proj", "blk.{bid}.ffn_down", TensorTransform::kNone, {"hidden", "ffn"}},
  };
}

std::vector<TensorRule> WithQkNorm(std::vector<TensorRule> t) {
  t.push_back({"model.layers.{bid}.self_attn.q_norm", "blk.{bid}.attn_q_norm", TensorTransform::kNone, {"head_dim"}});
  t.push_back({"model.layers.{bid}.self_attn.k_norm", "blk.{bid}.attn_k_norm", TensorTransform::kNone, {"head_dim"}});
  return t;
}

const std::vector<Architecture>& Table() {
  static const std::vector<Architecture>* table = [] {
    const TensorTransform kNone = TensorTransform::kNone;
    auto* t = new std::vector<Architecture>;
    // LlamaModel: Q/K rows permuted for ggml's interleaved RoPE.
    t->push_back({{"LlamaForCausalLM", "MistralForCausalLM"},
                  "llama",
                  Concat(TextModelHparams(), {{S::kConfig, "vocab_size", {"vocab_size"}, GgufType::kU32, true},
                                              {S::kRopeDimension, "rope.dimension_count", {}}}),
                  DecoderTensors(TensorTransform::kPermuteQ, TensorTransform::kPermuteK, kNone),
                  {},
                  VocabStyle::kLlama,
                  /*llama3_rope_freqs=*/true});
    // Qwen2Model / Qwen3Model: NEOX RoPE, rows kept; Qwen3 adds Q/K norms.
    t->push_back({{"Qwen2ForCausalLM"}, "qwen2", TextModelHparams(), DecoderTensors(kNone, kNone, kNone), {},
                  VocabStyle::kQwen2});
    t->push_back({{"Qwen3ForCausalLM"}, "qwen3", TextModelHparams(), WithQkNorm(DecoderTensors(kNone, kNone, kNone)),
                  {}, VocabStyle::kQwen2});
    // GemmaModel: its own parameter list, norms stored as w - 1, lm_head skipped.
    t->push_back({{"GemmaForCausalLM"},
                  "gemma",
                  {{S::kConfig, "context_length", {"max_position_embeddings"}, GgufType::kU32, true},
                   {S::kConfig, "embedding_length", {"hidden_size"}, GgufType::kU32, true},
                   {S::kConfig, "block_count", {"n_layers", "num_hidden_layers", "n_layer", "num_layers"},
                    GgufType::kU32, true},
                   {S::kConfig, "feed_forward_length", {"intermediate_size"}, GgufType::kU32, true},
                   {S::kConfig, "attention.head_count", {"num_attention_heads"}, GgufType::kU32, true},
                   {S::kConfig, "attention.head_count_kv", {"num_key_value_heads", "num_attention_heads"},
                    GgufType::kU32, true},
                   {S::kConfig, "attention.layer_norm_rms_epsilon", {"rms_norm_eps"}, GgufType::kF32, true},
                   {S::kConfig, "attention.key_length", {"head_dim"}, GgufType::kU32, true},
                   {S::kConfig, "attention.value_length", {"head_dim"}, GgufType::kU32, true},
                   {S::kFileType, "", {}}},
                  DecoderTensors(kNone, kNone, TensorTransform::kAddOne),
                  {"lm_head.weight"},
                  VocabStyle::kGemma});
    return t;
  }();
  return *table;
}

// Splits `name` at its first all-digit dotted component: "a.3.b" → ("a.{bid}.b", 3).
std::string Pattern(std::string_view name, int* bid) {
  *bid = -1;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    bool digits = !part.empty() && part.size() <= 6;
    for (char c : part) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      *bid = std::stoi(std::string(part));
      return StrCat(name.substr(0, start), "{bid}", name.substr(end));
    }
    start = end + 1;
  }
  return std::string(name);
}

const TensorRule* Match(const Architecture& arch, std::string_view name, bool gguf_side, int* bid,
                        std::string* suffix) {
  const std::string pattern = Pattern(name, bid);
  for (const TensorRule& r : arch.tensors) {
    const std::string_view base = gguf_side ? r.gguf : r.hf;
    for (std::string_view s : {".weight", ".bias"}) {
      if (pattern.size() == base.size() + s.size() && absl::StartsWith(pattern, AbslView(base)) &&
          absl::EndsWith(pattern, AbslView(s))) {
        *suffix = std::string(s);
        return &r;
      }
    }
  }
  return nullptr;
}

}  // namespace

const Architecture* FindArchitecture(std::string_view hf_name) {
  for (const Architecture& a : Table()) {
    for (std::string_view n : a.hf_names) {
      if (n == hf_name) return &a;
    }
  }
  return nullptr;
}

const Architecture* FindArchitectureByGguf(std::string_view gguf_arch) {
  for (const Architecture& a : Table()) {
    if (a.gguf_arch == gguf_arch) return &a;
  }
  return nullptr;
}

std::string SupportedArchitectureNames() {
  std::vector<std::string> names;
  for (const Architecture& a : Table()) {
    for (std::string_view n : a.hf_names) names.emplace_back(n);
  }
  return absl::StrJoin(names, ", ");
}

const TensorRule* MatchTensor(const Architecture& arch, std::string_view name, int* bid, std::string* suffix) {
  return Match(arch, name, /*gguf_side=*/false, bid, suffix);
}

const TensorRule* MatchGgufTensor(const Architecture& arch, std::string_view gguf_name, int* bid,
                                  std::string* suffix) {
  return Match(arch, gguf_name, /*gguf_side=*/true, bid, suffix);
}

std::string GgufTensorName(const TensorRule& rule, int bid, std::string_view suffix) {
  return StrCat(absl::StrReplaceAll(AbslView(rule.gguf), {{"{bid}", StrCat(bid)}}), suffix);
}

std::string HfTensorName(const TensorRule& rule, int bid, std::string_view suffix) {
  return StrCat(absl::StrReplaceAll(AbslView(rule.hf), {{"{bid}", StrCat(bid)}}), suffix);
}

}  // namespace ckpt::hf
