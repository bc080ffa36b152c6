// formats/hf/architectures.h — Hugging Face architectures as data.
//
// Each architecture convert_hf_to_gguf.py handles that ckpt supports is one
// table entry: the GGUF architecture name, the hyperparameter KVs it writes
// (in its order, each from the first config.json field present), the tensor
// name map and per-tensor transforms, and which tokenizer path it takes.
// Adding an architecture means adding an entry, not code.
#ifndef CKPT_FORMATS_HF_ARCHITECTURES_H_
#define CKPT_FORMATS_HF_ARCHITECTURES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/gguf.h"

namespace ckpt::hf {

enum class VocabStyle;  // formats/hf/vocab.h

// How one hyperparameter KV gets its value.
enum class HparamSource {
  kConfig,         // the first of `fields` present in config.json (skipped when none is, unless required)
  kIsCausal,       // attention.causal = false, only when config says is_causal: false
  kRopeScaling,    // rope.scaling.* for rope_type linear / yarn / longrope
  kRopeFreqBase,   // rope.freq_base from rope_theta (and its aliases)
  kRopeFreqBaseSwa,// rope.freq_base_swa from a local/sliding rope theta
  kHeadDim,        // attention.key_length and value_length from head_dim, when present
  kFileType,       // general.file_type
  kRopeDimension,  // rope.dimension_count: head_dim, else hidden_size / num_attention_heads
};

struct HparamKv {
  HparamSource source;
  std::string_view key;                  // after "<arch>."; "" for grouped sources
  std::vector<std::string_view> fields;  // config.json names, first present wins
  GgufType type = GgufType::kU32;
  bool required = false;
};

// What is done to a tensor's data on the way.
enum class TensorTransform {
  kNone,
  kPermuteQ,  // rotate-half → interleaved pairs, n_head groups
  kPermuteK,  // the same with n_head_kv groups
  kAddOne,    // Gemma's norms store w - 1
};

struct TensorRule {
  std::string_view hf;    // "model.layers.{bid}.self_attn.q_proj" (".weight"/".bias" kept from the input)
  std::string_view gguf;  // "blk.{bid}.attn_q"
  TensorTransform transform = TensorTransform::kNone;
  // Expected torch shape of the weight in config symbols: vocab, hidden,
  // ffn, q (heads × head_dim), kv (kv heads × head_dim), head_dim. A bias
  // has the first dimension only.
  std::vector<std::string_view> shape;
  // The ".weight" must be present (for every block when the name has {bid});
  // lm_head is optional (tied embeddings).
  bool required = true;
};

struct Architecture {
  std::vector<std::string_view> hf_names;  // config.json "architectures"[0] values
  std::string_view gguf_arch;              // general.architecture
  std::vector<HparamKv> hparams;           // in the converter's order (general.file_type among them)
  std::vector<TensorRule> tensors;
  std::vector<std::string_view> dropped;   // HF tensors the converter skips (exact names)
  VocabStyle vocab;
  bool llama3_rope_freqs = false;  // writes rope_freqs.weight for rope_type llama3
};

// The entry for config.json's architecture name, or null.
const Architecture* FindArchitecture(std::string_view hf_name);
// Every supported HF architecture name, for messages.
std::string SupportedArchitectureNames();

// The rule for HF tensor `name`: {bid} matches the first all-digit
// component (the converter's block id). `*bid` gets it (-1 when none);
// `*suffix` gets ".weight"/".bias" (or "" when the rule matched the name
// itself). Null when no rule matches.
const TensorRule* MatchTensor(const Architecture& arch, std::string_view name, int* bid, std::string* suffix);

// The GGUF name for `rule` at block `bid`.
std::string GgufTensorName(const TensorRule& rule, int bid, std::string_view suffix);

// The inverse: the rule whose GGUF name matches `gguf_name`, with `*bid`
// and `*suffix` as above. Null when none does.
const TensorRule* MatchGgufTensor(const Architecture& arch, std::string_view gguf_name, int* bid,
                                  std::string* suffix);
std::string HfTensorName(const TensorRule& rule, int bid, std::string_view suffix);

// The architecture whose general.architecture is `gguf_arch` (first entry).
const Architecture* FindArchitectureByGguf(std::string_view gguf_arch);

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_ARCHITECTURES_H_
