// Hugging Face model directory → GGUF, as convert_hf_to_gguf.py writes it
// (ModelBase.prepare_tensors, prepare_metadata, set_gguf_parameters,
// set_vocab), optionally followed by ckpt quantize in the same pass.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/atomic_file.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/hf.h"
#include "ckpt/status.h"
#include "formats/hf/architectures.h"
#include "formats/hf/model_card.h"
#include "formats/hf/model_dir.h"
#include "formats/hf/rope.h"
#include "formats/hf/vocab.h"
#include "lib/fs_util.h"
#include "lib/str_util.h"
#include "lib/tensor_stream.h"

namespace ckpt {
namespace hf {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QUANT_VERSION
constexpr uint64_t kAlignment = 32;           // GGUF_DEFAULT_ALIGNMENT

// gguf-py's KV list: a key added again keeps its first place, takes the new value.
class KvList {
 public:
  void Set(std::string key, GgufOwnedValue v) {
    for (GgufKvToWrite& kv : kvs_) {
      if (kv.key == key) {
        kv.value = std::move(v);
        return;
      }
    }
    kvs_.push_back({std::move(key), std::move(v)});
  }
  void SetAll(std::vector<GgufKvToWrite> kvs) {
    for (GgufKvToWrite& kv : kvs) {
      GgufOwnedValue* v = std::get_if<GgufOwnedValue>(&kv.value);
      if (v) Set(std::move(kv.key), std::move(*v));
    }
  }
  std::vector<GgufKvToWrite>& kvs() { return kvs_; }

 private:
  std::vector<GgufKvToWrite> kvs_;
};

// The converter's --outtype, or a quantize file type run on the result.
struct Target {
  std::optional<DType> outtype;               // F32, F16, BF16, Q8_0; nullopt = auto
  std::optional<QuantFileType> quantize;      // set: quantize after converting exactly
};

absl::StatusOr<Target> ParseTarget(const std::string& dtype) {
  const std::string d = absl::AsciiStrToLower(dtype);
  if (d == "auto" || d == "keep" || d.empty()) return Target{};
  if (d == "f32") return Target{DType::kF32, std::nullopt};
  if (d == "f16") return Target{DType::kF16, std::nullopt};
  if (d == "bf16") return Target{DType::kBF16, std::nullopt};
  if (d == "q8_0") return Target{DType::kQ8_0, std::nullopt};
  if (std::optional<QuantFileType> q = FindQuantFileType(dtype)) return Target{std::nullopt, q};
  return Error("hf.dtype", StrCat("--dtype ", dtype,
                                  " is none of f32, f16, bf16, q8_0, auto or a quantize type (Q4_K_M, Q6_K, ...)"))
      .Code(absl::StatusCode::kFailedPrecondition);
}

uint32_t FileTypeOf(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ8_0: return 7;
    case DType::kBF16: return 32;
    default: return 1;
  }
}

// One output tensor of the conversion.
struct OutTensor {
  std::string name;
  std::vector<uint64_t> ne;         // ggml order
  const SourceTensor* src = nullptr;  // null for generated data
  std::vector<float> owned;         // generated or transformed values (F32)
  DType from = DType::kF32;         // type of the bytes read (src dtype, or F32 for owned)
  DType exact = DType::kF32;        // the converter's exact intermediate (f16/f32 kept, others → F32)
  DType to = DType::kF32;           // written type
  int64_t row_elems = 0, n_rows = 0;
  std::vector<int64_t> row_order;   // Q/K permutation
};

class Converter {
 public:
  Converter(const ModelDir& m, const HfToGgufOptions& options) : m_(m), options_(options) {}

  absl::Status Run(const std::string& out, const HfProgressFn& progress);

 private:
  absl::StatusOr<std::optional<int64_t>> Int(std::initializer_list<std::string_view> f) const {
    return m_.IntField(absl::MakeConstSpan(f.begin(), f.size()));
  }
  absl::Status Hparams(KvList& kvs, uint32_t file_type);
  absl::Status RopeScaling(KvList& kvs);
  absl::Status PlanTensors(const Target& target);
  absl::Status CheckShape(const TensorRule& rule, const std::string& suffix, const SourceTensor& t);
  absl::StatusOr<DType> AutoType() const;

  const ModelDir& m_;
  const HfToGgufOptions& options_;
  std::string arch_;
  std::vector<OutTensor> tensors_;
  // rope_parameters as TextModel.__init__ builds it.
  nlohmann::json rope_;
};

std::string Key(const std::string& arch, std::string_view k) { return StrCat(arch, ".", k); }

absl::StatusOr<GgufOwnedValue> ConfigValue(const nlohmann::json& v, GgufType type, std::string_view field,
                                           const std::string& path) {
  switch (type) {
    case GgufType::kU32:
      if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 0xFFFFFFFFll) {
        return GgufOwnedValue::Unsigned(GgufType::kU32, v.get<uint64_t>());
      }
      break;
    case GgufType::kF32:
      if (v.is_number()) return GgufOwnedValue::F32(static_cast<float>(v.get<double>()));
      break;
    case GgufType::kBool:
      if (v.is_boolean()) return GgufOwnedValue::Bool(v.get<bool>());
      break;
    default:
      break;
  }
  return Error("hf.config.type", StrCat(field, " is ", v.dump(), ", not a ",
                                        type == GgufType::kU32 ? "32-bit unsigned integer" : "number"))
      .File(path);
}

absl::Status Converter::RopeScaling(KvList& kvs) {
  const nlohmann::json& rp = rope_.contains("full_attention") ? rope_["full_attention"] : rope_;
  const auto type = rp.find("rope_type");
  if (type == rp.end() || type->is_null()) return absl::OkStatus();
  if (!type->is_string()) return Error("hf.config.type", "rope_type is not a string").File(m_.config_path());
  const std::string t = type->get<std::string>();
  const auto factor = rp.find("factor");
  const bool has_factor = factor != rp.end() && !factor->is_null();
  auto f32 = [&](std::string_view key, const nlohmann::json& v) -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(GgufOwnedValue value, ConfigValue(v, GgufType::kF32, key, m_.config_path()));
    kvs.Set(Key(arch_, key), std::move(value));
    return absl::OkStatus();
  };
  if ((t == "linear" || t == "yarn") && has_factor) {
    kvs.Set(Key(arch_, "rope.scaling.type"), GgufOwnedValue::String(t));
    CKPT_RETURN_IF_ERROR(f32("rope.scaling.factor", *factor));
    if (t == "yarn") {
      const auto orig = rp.find("original_max_position_embeddings");
      if (orig == rp.end()) {
        return Error("hf.config.missing_field", "yarn rope scaling without original_max_position_embeddings")
            .File(m_.config_path());
      }
      CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ConfigValue(*orig, GgufType::kU32, "original_max_position_embeddings",
                                                          m_.config_path()));
      kvs.Set(Key(arch_, "rope.scaling.original_context_length"), std::move(v));
      for (auto [field, key] : {std::pair<const char*, const char*>{"extrapolation_factor", "rope.scaling.yarn_ext_factor"},
                                {"attention_factor", "rope.scaling.yarn_attn_factor"},
                                {"beta_fast", "rope.scaling.yarn_beta_fast"},
                                {"beta_slow", "rope.scaling.yarn_beta_slow"}}) {
        auto it = rp.find(field);
        if (std::string_view(field) == "attention_factor" && (it == rp.end() || it->is_null())) it = rp.find("attn_factor");
        if (it != rp.end() && !it->is_null()) CKPT_RETURN_IF_ERROR(f32(key, *it));
      }
    }
  } else if (t == "su" || t == "longrope") {
    kvs.Set(Key(arch_, "rope.scaling.type"), GgufOwnedValue::String("longrope"));
  } else if (t != "dynamic" && absl::AsciiStrToLower(t) != "llama3" && t != "linear" && t != "yarn" && t != "default") {
    // The converter only warns; the model would run without its scaling.
    return Error("hf.config.rope", StrCat("rope_type \"", t, "\" is not one the converter knows"))
        .File(m_.config_path())
        .Code(absl::StatusCode::kUnimplemented);
  }
  return absl::OkStatus();
}

absl::Status Converter::Hparams(KvList& kvs, uint32_t file_type) {
  for (const HparamKv& h : m_.arch().hparams) {
    switch (h.source) {
      case HparamSource::kConfig: {
        const nlohmann::json* v = m_.Field(absl::MakeConstSpan(h.fields));
        if (!v || v->is_null()) {
          if (h.required) {
            return Error("hf.config.missing_field", StrCat("config.json has no ", h.fields[0], " (needed for ",
                                                           Key(arch_, h.key), ")"))
                .File(m_.config_path())
                .Code(absl::StatusCode::kFailedPrecondition);
          }
          break;
        }
        CKPT_ASSIGN_OR_RETURN(GgufOwnedValue value, ConfigValue(*v, h.type, h.fields[0], m_.config_path()));
        kvs.Set(Key(arch_, h.key), std::move(value));
        break;
      }
      case HparamSource::kIsCausal: {
        const auto it = m_.config().find("is_causal");
        if (it != m_.config().end() && it->is_boolean() && !it->get<bool>()) {
          kvs.Set(Key(arch_, h.key), GgufOwnedValue::Bool(false));
        }
        break;
      }
      case HparamSource::kRopeScaling:
        CKPT_RETURN_IF_ERROR(RopeScaling(kvs));
        break;
      case HparamSource::kRopeFreqBase: {
        const nlohmann::json& rp = rope_.contains("full_attention") ? rope_["full_attention"] : rope_;
        const auto it = rp.find("rope_theta");
        if (it != rp.end() && !it->is_null()) {
          CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ConfigValue(*it, GgufType::kF32, "rope_theta", m_.config_path()));
          kvs.Set(Key(arch_, h.key), std::move(v));
        }
        break;
      }
      case HparamSource::kRopeFreqBaseSwa: {
        const auto sw = rope_.find("sliding_attention");
        if (sw != rope_.end() && sw->is_object()) {
          const auto it = sw->find("rope_theta");
          if (it != sw->end() && !it->is_null()) {
            CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ConfigValue(*it, GgufType::kF32, "rope_theta", m_.config_path()));
            kvs.Set(Key(arch_, h.key), std::move(v));
          }
        }
        break;
      }
      case HparamSource::kHeadDim: {
        const auto it = m_.config().find("head_dim");
        if (it != m_.config().end() && !it->is_null()) {
          CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ConfigValue(*it, GgufType::kU32, "head_dim", m_.config_path()));
          kvs.Set(Key(arch_, "attention.key_length"), v);
          kvs.Set(Key(arch_, "attention.value_length"), std::move(v));
        }
        break;
      }
      case HparamSource::kFileType:
        kvs.Set("general.file_type", GgufOwnedValue::Unsigned(GgufType::kU32, file_type));
        break;
      case HparamSource::kRopeDimension: {
        CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> head_dim, Int({"head_dim"}));
        if (!head_dim) {
          CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> hidden, Int({"hidden_size"}));
          CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> heads, Int({"num_attention_heads"}));
          if (!hidden || !heads || *heads == 0) {
            return Error("hf.config.missing_field", "needs head_dim, or hidden_size and num_attention_heads")
                .File(m_.config_path())
                .Code(absl::StatusCode::kFailedPrecondition);
          }
          head_dim = *hidden / *heads;
        }
        kvs.Set(Key(arch_, h.key), GgufOwnedValue::Unsigned(GgufType::kU32, static_cast<uint64_t>(*head_dim)));
        break;
      }
    }
  }
  return absl::OkStatus();
}

// Head dimension as the converter derives it.
absl::StatusOr<int64_t> HeadDim(const ModelDir& m) {
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> head_dim, m.IntField({std::string_view("head_dim")}));
  if (head_dim) return *head_dim;
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> hidden, m.IntField({std::string_view("hidden_size")}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> heads, m.IntField({std::string_view("num_attention_heads")}));
  if (!hidden || !heads || *heads == 0) return int64_t{0};
  return *hidden / *heads;
}

// What a tensor's shape must be, from config.json (0 = not known).
absl::Status Converter::CheckShape(const TensorRule& rule, const std::string& suffix, const SourceTensor& t) {
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> hidden, Int({"hidden_size", "n_embd", "dim"}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> ffn, Int({"intermediate_size"}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> vocab, Int({"vocab_size"}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> heads, Int({"num_attention_heads", "n_head", "n_heads"}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> kv_heads, Int({"num_key_value_heads", "n_kv_heads"}));
  CKPT_ASSIGN_OR_RETURN(int64_t head_dim, HeadDim(m_));
  const int64_t q = heads && head_dim ? *heads * head_dim : 0;
  const int64_t kv = head_dim ? (kv_heads ? *kv_heads : heads.value_or(0)) * head_dim : 0;
  const std::map<std::string_view, int64_t> sym = {{"vocab", vocab.value_or(0)}, {"hidden", hidden.value_or(0)},
                                                   {"ffn", ffn.value_or(0)},     {"q", q},
                                                   {"kv", kv},                   {"head_dim", head_dim}};
  std::vector<std::string_view> want = rule.shape;
  if (suffix == ".bias" && !want.empty()) want.resize(1);
  if (want.empty()) return absl::OkStatus();
  bool ok = t.shape.size() == want.size();
  std::string expected;
  for (size_t i = 0; i < want.size(); ++i) {
    const int64_t w = sym.at(want[i]);
    expected += StrCat(i ? ", " : "", want[i], w ? StrCat("=", w) : "");
    if (ok && w != 0 && t.shape[i] != static_cast<uint64_t>(w)) ok = false;
  }
  if (ok) return absl::OkStatus();
  std::string got;
  for (size_t i = 0; i < t.shape.size(); ++i) got += StrCat(i ? ", " : "", t.shape[i]);
  return Error("hf.tensor.shape", StrCat("shape [", got, "] disagrees with config.json: expected [", expected, "]"))
      .File(t.file)
      .Tensor(t.name)
      .At(t.offset)
      .Code(absl::StatusCode::kFailedPrecondition);
}

// --outtype auto: the first tensor of 2+ dims that is bf16 or f16 decides.
absl::StatusOr<DType> Converter::AutoType() const {
  for (const SourceTensor& t : m_.tensors()) {
    if (t.shape.size() < 2) continue;
    if (t.dtype == DType::kBF16) return DType::kBF16;
    if (t.dtype == DType::kF16) return DType::kF16;
  }
  return DType::kF16;
}

// Output row h·hd + 2i + j is input row h·hd + j·hd/2 + i (LlamaModel.permute).
std::vector<int64_t> PermutedRows(int64_t rows, int64_t groups) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  const int64_t hd = rows / groups, half = hd / 2;
  for (int64_t h = 0; h < groups; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) order[h * hd + 2 * i + j] = h * hd + j * half + i;
    }
  }
  return order;
}

absl::Status Converter::PlanTensors(const Target& target) {
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> block_count,
                        Int({"n_layers", "num_hidden_layers", "n_layer", "num_layers"}));
  // rope_freqs first (generate_extra_tensors).
  if (m_.arch().llama3_rope_freqs) {
    const nlohmann::json& rp = rope_.contains("full_attention") ? rope_["full_attention"] : rope_;
    const auto type = rp.find("rope_type");
    if (type != rp.end() && type->is_string() && absl::AsciiStrToLower(type->get<std::string>()) == "llama3") {
      CKPT_ASSIGN_OR_RETURN(int64_t dim, HeadDim(m_));
      auto num = [&](const char* k, double def) -> absl::StatusOr<double> {
        const auto it = rp.find(k);
        if (it == rp.end()) return def;
        if (!it->is_number()) return Error("hf.config.type", StrCat(k, " is not a number")).File(m_.config_path());
        return it->get<double>();
      };
      Llama3Rope r;
      r.dim = dim;
      CKPT_ASSIGN_OR_RETURN(r.base, num("rope_theta", 10000.0));
      CKPT_ASSIGN_OR_RETURN(r.factor, num("factor", 8.0));
      CKPT_ASSIGN_OR_RETURN(r.low_freq_factor, num("low_freq_factor", 1.0));
      CKPT_ASSIGN_OR_RETURN(r.high_freq_factor, num("high_freq_factor", 4.0));
      CKPT_ASSIGN_OR_RETURN(r.original_context, num("original_max_position_embeddings", 8192));
      if (dim <= 0 || dim > (1 << 20)) {
        return Error("hf.config.rope", "head dimension for rope_freqs is not in 1..2^20").File(m_.config_path());
      }
      OutTensor t;
      t.name = "rope_freqs.weight";
      t.owned = Llama3RopeFreqs(r);
      t.ne = {t.owned.size()};
      tensors_.push_back(std::move(t));
    }
  }
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> heads, Int({"n_heads", "num_attention_heads"}));
  CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> kv_heads, Int({"n_kv_heads", "num_key_value_heads"}));
  std::set<std::pair<const TensorRule*, int>> seen;  // (rule, block) of each .weight
  for (const SourceTensor& s : m_.tensors()) {
    if (absl::EndsWith(s.name, ".attention.masked_bias") || absl::EndsWith(s.name, ".attention.bias") ||
        absl::EndsWith(s.name, ".rotary_emb.inv_freq")) {
      continue;
    }
    int bid;
    std::string suffix;
    const TensorRule* rule = MatchTensor(m_.arch(), s.name, &bid, &suffix);
    if (!rule || (bid >= 0 && (!block_count || bid >= *block_count))) {
      return Error("hf.tensor.unknown", StrCat("no ", m_.hf_arch(), " tensor has this name",
                                                rule ? StrCat(" (block ", bid, " of ", block_count.value_or(0), ")") : ""))
          .File(s.file)
          .Tensor(s.name)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    if (!IsConvertibleFloat(s.dtype)) {
      return Error("hf.tensor.dtype", StrCat(DTypeName(s.dtype), " weights cannot be converted (float types only)"))
          .File(s.file)
          .Tensor(s.name)
          .Code(absl::StatusCode::kUnimplemented);
    }
    CKPT_RETURN_IF_ERROR(CheckShape(*rule, suffix, s));
    if (suffix == ".weight") seen.insert({rule, bid});
    OutTensor t;
    t.name = GgufTensorName(*rule, bid, suffix);
    t.src = &s;
    t.ne.assign(s.shape.rbegin(), s.shape.rend());
    t.from = s.dtype;
    const uint64_t n = s.num_elements();
    t.row_elems = t.ne.empty() ? 1 : static_cast<int64_t>(t.ne[0]);
    t.n_rows = t.row_elems == 0 ? 0 : static_cast<int64_t>(n / t.row_elems);
    if (rule->transform == TensorTransform::kPermuteQ || rule->transform == TensorTransform::kPermuteK) {
      if (!heads || !kv_heads) {
        return Error("hf.config.missing_field", "num_attention_heads and num_key_value_heads are needed to permute Q/K")
            .File(m_.config_path())
            .Code(absl::StatusCode::kFailedPrecondition);
      }
      const int64_t groups = rule->transform == TensorTransform::kPermuteK && *kv_heads != *heads ? *kv_heads : *heads;
      const int64_t rows = s.shape.empty() ? 0 : static_cast<int64_t>(s.shape[0]);
      if (groups <= 0 || rows % (2 * groups) != 0) {
        return Error("hf.tensor.shape", StrCat(rows, " rows do not split into ", groups, " heads of pairs"))
            .File(s.file)
            .Tensor(s.name)
            .Code(absl::StatusCode::kFailedPrecondition);
      }
      // Rows along HF dim 0; a 1-D bias permutes single elements.
      const int64_t inner = rows == 0 ? 0 : static_cast<int64_t>(n / rows);
      t.row_elems = inner;
      t.n_rows = rows;
      t.row_order = PermutedRows(rows, groups);
    }
    if (rule->transform == TensorTransform::kAddOne && suffix == ".weight") {
      // GemmaModel: data + 1 in the tensor's torch dtype (f16 stays f16).
      std::vector<uint8_t> scratch;
      absl::Span<const uint8_t> bytes = s.data;
      if (s.gather) {
        CKPT_ASSIGN_OR_RETURN(bytes, s.gather(&scratch));
      }
      t.owned.resize(n);
      CKPT_RETURN_IF_ERROR(ConvertElements(s.dtype, bytes, DType::kF32,
                                           absl::MakeSpan(reinterpret_cast<uint8_t*>(t.owned.data()), n * 4), n));
      for (float& v : t.owned) v = s.dtype == DType::kF16 ? F16ToF32(F32ToF16(v + 1.0f)) : v + 1.0f;
      t.src = nullptr;
      t.from = DType::kF32;
    }
    tensors_.push_back(std::move(t));
  }
  // Every required weight, in every block: llama.cpp would refuse the file.
  for (const TensorRule& r : m_.arch().tensors) {
    if (!r.required) continue;
    const bool per_block = absl::StrContains(AbslView(r.hf), "{bid}");
    for (int b = per_block ? 0 : -1; b < (per_block ? static_cast<int>(block_count.value_or(0)) : 0); ++b) {
      if (seen.count({&r, b}) == 0) {
        return Error("hf.tensor.missing", StrCat(HfTensorName(r, b, ".weight"), " is in no shard (", m_.hf_arch(),
                                                 " needs it for ", GgufTensorName(r, b, ".weight"), ")"))
            .File(m_.dir())
            .Code(absl::StatusCode::kFailedPrecondition);
      }
    }
  }
  // Types: prepare_tensors' rules on the converted data.
  CKPT_ASSIGN_OR_RETURN(const DType auto_type, AutoType());
  const DType outtype = target.outtype.value_or(auto_type);
  for (OutTensor& t : tensors_) {
    if (t.src == nullptr) t.from = DType::kF32;
    t.exact = t.from == DType::kF16 || t.from == DType::kF32 || t.from == DType::kBF16 ? t.from : DType::kF32;
    if (t.row_elems == 0 && !t.ne.empty()) t.row_elems = static_cast<int64_t>(t.ne[0]);
    if (t.n_rows == 0 && t.row_elems > 0) {
      uint64_t n = 1;
      for (uint64_t d : t.ne) n *= d;
      t.n_rows = static_cast<int64_t>(n / t.row_elems);
    }
    const bool force_f32 = t.ne.size() <= 1 || absl::EndsWith(t.name, "_norm.weight") || !absl::EndsWith(t.name, ".weight");
    if (target.quantize) {
      // The exact intermediate; PlanQuantize picks the final type.
      t.to = force_f32 ? DType::kF32 : t.exact;
      continue;
    }
    t.to = force_f32 ? DType::kF32 : outtype;
    // gguf-py's QuantError fallback: rows that are not whole blocks → F16.
    if (t.to == DType::kQ8_0 && t.ne[0] % 32 != 0) t.to = DType::kF16;
  }
  return absl::OkStatus();
}

absl::Status Converter::Run(const std::string& out, const HfProgressFn& progress) {
  CKPT_ASSIGN_OR_RETURN(const Target target, ParseTarget(options_.dtype));
  arch_ = std::string(m_.arch().gguf_arch);
  // TextModel.__init__'s rope_parameters.
  {
    const auto rp = m_.config().find("rope_parameters");
    const auto rs = m_.config().find("rope_scaling");
    if (rp != m_.config().end()) {
      if (!rp->is_null()) rope_ = *rp;
    } else if (rs != m_.config().end() && !rs->is_null()) {
      rope_ = *rs;
    }
    if (rope_.is_null()) rope_ = nlohmann::json::object();
    if (!rope_.is_object()) return Error("hf.config.type", "rope_scaling is not an object").File(m_.config_path());
    if (!rope_.contains("full_attention") && !rope_.contains("sliding_attention")) {
      const nlohmann::json* theta =
          m_.Field({"global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"});
      const nlohmann::json* local =
          m_.Field({"local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta", "rope_local_base_freq"});
      const nlohmann::json* partial = m_.Field({"partial_rotary_factor", "rope_pct", "rope_percent"});
      const nlohmann::json* orig = m_.Field({"original_max_position_embeddings"});
      if (local && !local->is_null()) rope_["sliding_attention"] = {{"rope_theta", *local}};
      if (!rope_.contains("rope_theta") && theta && !theta->is_null()) rope_["rope_theta"] = *theta;
      if (!rope_.contains("rope_type") && rope_.contains("type") && !rope_["type"].is_null()) {
        rope_["rope_type"] = rope_["type"];
      }
      if (!rope_.contains("partial_rotary_factor") && partial && !partial->is_null()) {
        rope_["partial_rotary_factor"] = *partial;
      }
      if (!rope_.contains("original_max_position_embeddings") && orig && !orig->is_null()) {
        rope_["original_max_position_embeddings"] = *orig;
      }
    }
    if (rope_.contains("mrope_section")) {
      return Error("hf.config.rope", "multimodal RoPE sections (mrope_section) are not supported")
          .File(m_.config_path())
          .Code(absl::StatusCode::kUnimplemented);
    }
  }
  CKPT_RETURN_IF_ERROR(PlanTensors(target));

  // Metadata: architecture, model card, hyperparameters, version, tokenizer.
  CKPT_ASSIGN_OR_RETURN(const DType auto_type, AutoType());
  DType file_dtype = target.outtype.value_or(auto_type);
  if (target.quantize) file_dtype = auto_type;
  KvList kvs;
  kvs.Set("general.architecture", GgufOwnedValue::String(arch_));
  std::vector<std::pair<std::string, std::vector<uint64_t>>> shapes;
  for (const OutTensor& t : tensors_) shapes.push_back({t.name, std::vector<uint64_t>(t.ne.rbegin(), t.ne.rend())});
  CKPT_ASSIGN_OR_RETURN(std::vector<GgufKvToWrite> card, ModelCardKvs(m_.dir(), m_.raw_config(), CountParams(shapes)));
  kvs.SetAll(std::move(card));
  CKPT_RETURN_IF_ERROR(Hparams(kvs, FileTypeOf(file_dtype)));
  kvs.Set("general.quantization_version", GgufOwnedValue::Unsigned(GgufType::kU32, kQuantizationVersion));
  CKPT_ASSIGN_OR_RETURN(std::vector<GgufKvToWrite> vocab, TokenizerKvs(m_.dir(), m_.config(), m_.arch().vocab));
  kvs.SetAll(std::move(vocab));

  // Streaming jobs, in the converter's order or (quantizing) llama-quantize's.
  std::vector<StreamTensor> jobs;
  std::vector<GgufTensorToWrite> infos;
  std::vector<GgufKvToWrite> final_kvs = std::move(kvs.kvs());
  auto job_of = [&](const OutTensor& t, DType to) {
    StreamTensor j;
    j.name = t.name;
    if (t.src) {
      j.file = t.src->file;
      j.file_offset = t.src->offset;
      j.source = t.src->data;
      j.source_in_file = !t.src->data.empty();
      j.gather = t.src->gather;
    } else {
      j.file = m_.dir();
      j.source = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(t.owned.data()), t.owned.size() * 4);
    }
    j.from = t.from;
    j.to = to;
    j.row_elems = t.row_elems;
    j.n_rows = t.n_rows;
    j.row_order = t.row_order;
    j.rows_per_matrix = t.ne.size() > 1 ? static_cast<int64_t>(t.ne[1]) : 1;
    return j;
  };
  auto info_of = [](const std::string& name, const std::vector<uint64_t>& ne, DType to, uint64_t nbytes) {
    GgufTensorToWrite i;
    i.name = name;
    i.dtype = to;
    i.ne = ne;
    i.source_dtype = to;
    i.data = absl::Span<const uint8_t>(nullptr, nbytes);
    return i;
  };
  if (target.quantize) {
    QuantizeOptions qopts = options_.quantize;
    qopts.file_type = *target.quantize;
    QuantizeInput input;
    input.path = m_.dir();
    input.facts.arch = arch_;
    CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> n_layer, Int({"n_layers", "num_hidden_layers", "n_layer", "num_layers"}));
    CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> n_head, Int({"num_attention_heads", "n_head", "n_heads"}));
    CKPT_ASSIGN_OR_RETURN(std::optional<int64_t> n_head_kv, Int({"num_key_value_heads", "n_kv_heads"}));
    input.facts.n_layer = n_layer.value_or(0);
    input.facts.n_head = n_head.value_or(0);
    input.facts.n_head_kv = n_head_kv.value_or(input.facts.n_head);
    for (const OutTensor& t : tensors_) {
      input.tensors.push_back({t.name, t.ne, t.to, static_cast<uint64_t>(t.n_rows) * RowBytes(t.to, t.row_elems)});
    }
    CKPT_ASSIGN_OR_RETURN(const QuantizePlan plan, PlanQuantize(input, qopts));
    CKPT_RETURN_IF_ERROR(CheckQuantizePlan(plan, qopts, m_.dir()));
    final_kvs = QuantizedKvs(std::move(final_kvs), FileTypeOf(file_dtype), qopts, plan);
    for (const QuantizePlanEntry& e : plan.tensors) {
      const OutTensor& t = tensors_[e.input_index];
      StreamTensor j = job_of(t, e.to);
      j.imatrix = e.imatrix;
      j.refuse_non_finite = e.to != e.from;
      jobs.push_back(std::move(j));
      infos.push_back(info_of(e.name, e.ne, e.to, e.to_bytes));
    }
  } else {
    for (const OutTensor& t : tensors_) {
      jobs.push_back(job_of(t, t.to));
      jobs.back().refuse_non_finite = GetDTypeInfo(t.to).kind == DTypeKind::kQuantized;
      infos.push_back(info_of(t.name, t.ne, t.to, OutputBytes(jobs.back())));
    }
  }
  absl::StatusOr<std::string> header = GgufHeader(final_kvs, infos);
  if (!header.ok()) return WithFile(header.status(), out);
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> file, AtomicOutputFile::Create(out));
  CKPT_RETURN_IF_ERROR(file->Write(*header));
  CKPT_RETURN_IF_ERROR(StreamTensors(*file, jobs, kAlignment, options_.threads,
                                     [&](size_t, uint64_t done, uint64_t total) {
                                       if (progress) progress(done, total);
                                     }));
  return file->Commit();
}

}  // namespace
}  // namespace hf

bool IsHfModelDirectory(const std::string& path) { return IsRegularFile(StrCat(path, "/config.json")); }

absl::Status ConvertHfToGguf(const std::string& dir, const std::string& out, const HfToGgufOptions& options,
                             const HfProgressFn& progress) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<hf::ModelDir> model, hf::ModelDir::Open(dir));
  hf::Converter c(*model, options);
  return c.Run(out, progress);
}

}  // namespace ckpt
