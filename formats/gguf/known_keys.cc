// Value types llama.cpp requires for the keys it reads (llama-model-loader's
// typed get_key: "key %s has wrong type %s but expected type %s").
#include "formats/gguf/known_keys.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

using T = GgufType;

// What a key must hold. `or_array` keys may also be a per-layer array of
// integers (llama.cpp's get_key_or_arr).
struct Expected {
  std::string_view key;
  GgufType type;
  GgufType elem_type = T::kU8;  // for arrays
  bool or_array = false;
};

constexpr Expected kGeneral[] = {
    {"general.architecture", T::kString},
    {"general.name", T::kString},
    {"general.file_type", T::kU32},
    {"general.quantization_version", T::kU32},
    {"split.no", T::kU16},
    {"split.count", T::kU16},
    {"split.tensors.count", T::kI32},
    {"tokenizer.ggml.model", T::kString},
    {"tokenizer.ggml.pre", T::kString},
    {"tokenizer.ggml.tokens", T::kArray, T::kString},
    {"tokenizer.ggml.scores", T::kArray, T::kF32},
    {"tokenizer.ggml.token_type", T::kArray, T::kI32},
    {"tokenizer.ggml.merges", T::kArray, T::kString},
    {"tokenizer.ggml.bos_token_id", T::kU32},
    {"tokenizer.ggml.eos_token_id", T::kU32},
    {"tokenizer.ggml.eot_token_id", T::kU32},
    {"tokenizer.ggml.eom_token_id", T::kU32},
    {"tokenizer.ggml.unknown_token_id", T::kU32},
    {"tokenizer.ggml.seperator_token_id", T::kU32},
    {"tokenizer.ggml.padding_token_id", T::kU32},
    {"tokenizer.ggml.cls_token_id", T::kU32},
    {"tokenizer.ggml.mask_token_id", T::kU32},
    {"tokenizer.ggml.fim_pre_token_id", T::kU32},
    {"tokenizer.ggml.fim_suf_token_id", T::kU32},
    {"tokenizer.ggml.fim_mid_token_id", T::kU32},
    {"tokenizer.ggml.fim_pad_token_id", T::kU32},
    {"tokenizer.ggml.fim_rep_token_id", T::kU32},
    {"tokenizer.ggml.fim_sep_token_id", T::kU32},
    {"tokenizer.ggml.add_bos_token", T::kBool},
    {"tokenizer.ggml.add_eos_token", T::kBool},
    {"tokenizer.ggml.add_sep_token", T::kBool},
    {"tokenizer.ggml.add_space_prefix", T::kBool},
    {"tokenizer.ggml.remove_extra_whitespaces", T::kBool},
    {"tokenizer.ggml.precompiled_charsmap", T::kArray, T::kU8},
    {"tokenizer.chat_template", T::kString},
};

// Keys under "{general.architecture}.".
constexpr Expected kArch[] = {
    {"context_length", T::kU32},
    {"embedding_length", T::kU32},
    {"block_count", T::kU32},
    {"vocab_size", T::kU32},
    {"expert_count", T::kU32},
    {"expert_used_count", T::kU32},
    {"feed_forward_length", T::kU32, T::kU8, true},
    {"attention.head_count", T::kU32, T::kU8, true},
    {"attention.head_count_kv", T::kU32, T::kU8, true},
    {"attention.key_length", T::kU32},
    {"attention.value_length", T::kU32},
    {"attention.layer_norm_epsilon", T::kF32},
    {"attention.layer_norm_rms_epsilon", T::kF32},
    {"rope.dimension_count", T::kU32},
    {"rope.freq_base", T::kF32},
    {"rope.scaling.type", T::kString},
    {"rope.scaling.factor", T::kF32},
    {"rope.scaling.original_context_length", T::kU32},
};

constexpr std::string_view kSpecialTokenKeys[] = {
    "bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "cls", "mask",
    "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep"};

std::string TypeText(GgufType type, GgufType elem) {
  if (type != T::kArray) return std::string(GgufTypeName(type));
  return StrCat("arr[", GgufTypeName(elem), "]");
}

bool Matches(const Expected& e, const GgufValue& v) {
  if (v.type == e.type && (e.type != T::kArray || v.elem_type == e.elem_type)) return true;
  return e.or_array && v.type == T::kArray && (v.elem_type == T::kU32 || v.elem_type == T::kI32);
}

absl::Status CheckType(const Expected& e, const GgufKv& kv) {
  if (Matches(e, kv.value)) return absl::OkStatus();
  return Error("gguf.key.type", StrCat("value is ", TypeText(kv.value.type, kv.value.elem_type),
                                       "; llama.cpp requires ", TypeText(e.type, e.elem_type),
                                       e.or_array ? " or an integer array" : ""))
      .At(kv.key_offset)
      .Key(kv.key);
}

}  // namespace

absl::Status CheckKnownKeys(const GgufFile& f, absl::FunctionRef<void(ErrorBuilder)> hazard) {
  for (const Expected& e : kGeneral) {
    if (const GgufKv* kv = f.FindKv(e.key)) CKPT_RETURN_IF_ERROR(CheckType(e, *kv));
  }
  if (const std::optional<std::string_view> arch = f.GetString("general.architecture")) {
    std::string key = StrCat(*arch, ".");
    const size_t prefix = key.size();
    for (const Expected& e : kArch) {
      key.resize(prefix);
      key.append(e.key);
      if (const GgufKv* kv = f.FindKv(key)) CKPT_RETURN_IF_ERROR(CheckType(e, *kv));
    }
  }

  const GgufKv* tokens = f.FindKv("tokenizer.ggml.tokens");
  if (tokens == nullptr) return absl::OkStatus();
  const uint64_t n_tokens = tokens->value.count;
  for (std::string_view name : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    const GgufKv* kv = f.FindKv(name);
    if (kv != nullptr && kv->value.count < n_tokens) {
      // llama.cpp indexes it for every token.
      return Error("gguf.vocab.length", StrCat("array has ", kv->value.count, " entries for ", n_tokens, " tokens"))
          .At(kv->key_offset)
          .Key(kv->key);
    }
  }
  std::string key;
  for (std::string_view which : kSpecialTokenKeys) {
    key = StrCat("tokenizer.ggml.", which, "_token_id");
    const GgufKv* kv = f.FindKv(key);
    if (kv == nullptr) continue;
    const uint64_t id = f.ReadUnsigned(kv->value);
    if (id >= n_tokens) {
      hazard(Error("gguf.strict.token_id", StrCat("token id ", id, " is outside the vocabulary of ", n_tokens))
                 .At(kv->value.offset)
                 .Key(kv->key));
    }
  }
  return absl::OkStatus();
}

}  // namespace ckpt
