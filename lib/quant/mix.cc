// llama-quantize's file types and mix policy (src/llama-quant.cpp,
// tools/quantize/quantize.cpp of llama.cpp; ggml 0.18.1). The rules are
// transcribed as data where they are data and as the same sequence of tests
// where order matters (the first matching rule wins, counters advance).
#include "lib/quant/mix.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ckpt/quant.h"
#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

// llama_ftype values.
enum Ftype : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ8_0 = 7, kQ5_0 = 8, kQ5_1 = 9, kQ2_K = 10,
  kQ3_K_S = 11, kQ3_K_M = 12, kQ3_K_L = 13, kQ4_K_S = 14, kQ4_K_M = 15, kQ5_K_S = 16, kQ5_K_M = 17,
  kQ6_K = 18, kIQ2_XXS = 19, kIQ2_XS = 20, kQ2_K_S = 21, kIQ3_XS = 22, kIQ3_XXS = 23, kIQ1_S = 24,
  kIQ4_NL = 25, kIQ3_S = 26, kIQ3_M = 27, kIQ2_S = 28, kIQ2_M = 29, kIQ4_XS = 30, kIQ1_M = 31,
  kBF16 = 32, kTQ1_0 = 36, kTQ2_0 = 37, kMXFP4_MOE = 38, kQ1_0 = 40, kQ2_0 = 41,
};

}  // namespace

const std::vector<QuantFileType>& QuantFileTypes() {
  // llama-quantize's QUANT_OPTIONS order (COPY after F32 so "0" means F32).
  static const auto* types = new std::vector<QuantFileType>{
      {"Q1_0", kQ1_0, DType::kQ1_0},         {"Q2_0", kQ2_0, DType::kQ2_0},
      {"Q4_0", kQ4_0, DType::kQ4_0},         {"Q4_1", kQ4_1, DType::kQ4_1},
      {"MXFP4_MOE", kMXFP4_MOE, DType::kMXFP4},
      {"Q5_0", kQ5_0, DType::kQ5_0},         {"Q5_1", kQ5_1, DType::kQ5_1},
      {"IQ2_XXS", kIQ2_XXS, DType::kIQ2_XXS}, {"IQ2_XS", kIQ2_XS, DType::kIQ2_XS},
      {"IQ2_S", kIQ2_S, DType::kIQ2_XS},     {"IQ2_M", kIQ2_M, DType::kIQ2_S},
      {"IQ1_S", kIQ1_S, DType::kIQ1_S},      {"IQ1_M", kIQ1_M, DType::kIQ1_M},
      {"TQ1_0", kTQ1_0, DType::kTQ1_0},      {"TQ2_0", kTQ2_0, DType::kTQ2_0},
      {"Q2_K", kQ2_K, DType::kQ2_K},         {"Q2_K_S", kQ2_K_S, DType::kQ2_K},
      {"IQ3_XXS", kIQ3_XXS, DType::kIQ3_XXS}, {"IQ3_S", kIQ3_S, DType::kIQ3_S},
      {"IQ3_M", kIQ3_M, DType::kIQ3_S},      {"Q3_K", kQ3_K_M, DType::kQ3_K},
      {"IQ3_XS", kIQ3_XS, DType::kIQ3_S},    {"Q3_K_S", kQ3_K_S, DType::kQ3_K},
      {"Q3_K_M", kQ3_K_M, DType::kQ3_K},     {"Q3_K_L", kQ3_K_L, DType::kQ3_K},
      {"IQ4_NL", kIQ4_NL, DType::kIQ4_NL},   {"IQ4_XS", kIQ4_XS, DType::kIQ4_XS},
      {"Q4_K", kQ4_K_M, DType::kQ4_K},       {"Q4_K_S", kQ4_K_S, DType::kQ4_K},
      {"Q4_K_M", kQ4_K_M, DType::kQ4_K},     {"Q5_K", kQ5_K_M, DType::kQ5_K},
      {"Q5_K_S", kQ5_K_S, DType::kQ5_K},     {"Q5_K_M", kQ5_K_M, DType::kQ5_K},
      {"Q6_K", kQ6_K, DType::kQ6_K},         {"Q8_0", kQ8_0, DType::kQ8_0},
      {"F16", kF16, DType::kF16},            {"BF16", kBF16, DType::kBF16},
      {"F32", kF32, DType::kF32},            {"COPY", kF32, DType::kF32, /*copy=*/true},
  };
  return *types;
}

std::optional<QuantFileType> FindQuantFileType(std::string_view name) {
  for (const QuantFileType& t : QuantFileTypes()) {
    if (absl::EqualsIgnoreCase(AbslView(t.name), AbslView(name))) return t;
  }
  // A number, as std::stoi reads it (leading spaces, sign, digits, anything after).
  std::string s(name);
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;
  for (const QuantFileType& t : QuantFileTypes()) {
    if (t.ftype == static_cast<uint64_t>(v) && v >= 0) return t;
  }
  return std::nullopt;
}

namespace quant {
namespace {

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool IsAttnVLike(TensorCategory c) {
  return c == TensorCategory::kAttnV || c == TensorCategory::kAttnQkv || c == TensorCategory::kAttnKvB;
}

bool IsQuantized(DType t) { return GetDTypeInfo(t).kind == DTypeKind::kQuantized; }

bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

}  // namespace

TensorCategory CategoryOf(std::string_view name) {
  if (name == "output.weight") return TensorCategory::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return TensorCategory::kTokenEmbd;
  if (Contains(name, "attn_qkv.weight")) return TensorCategory::kAttnQkv;
  if (Contains(name, "attn_kv_b.weight")) return TensorCategory::kAttnKvB;
  if (Contains(name, "attn_v.weight")) return TensorCategory::kAttnV;
  if (Contains(name, "attn_k.weight")) return TensorCategory::kAttnK;
  if (Contains(name, "attn_q.weight")) return TensorCategory::kAttnQ;
  if (Contains(name, "attn_output.weight")) return TensorCategory::kAttnOutput;
  if (Contains(name, "ffn_up")) return TensorCategory::kFfnUp;
  if (Contains(name, "ffn_gate")) return TensorCategory::kFfnGate;
  if (Contains(name, "ffn_down")) return TensorCategory::kFfnDown;
  return TensorCategory::kOther;
}

std::optional<int> ParseLayer(std::string_view name) {
  // sscanf("blk.%d."): the literal prefix, then %d (leading white space, an
  // optional sign, at least one digit); what follows does not matter.
  if (!name.starts_with("blk.")) return std::nullopt;
  size_t i = 4;
  while (i < name.size() && std::isspace(static_cast<unsigned char>(name[i]))) ++i;
  const size_t start = i;
  if (i < name.size() && (name[i] == '+' || name[i] == '-')) ++i;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  const std::string digits(name.substr(start, std::min<size_t>(name.size() - start, 32)));
  // glibc converts with strtol and truncates to int.
  return static_cast<int>(std::strtol(digits.c_str(), nullptr, 10));
}

int LayerOf(std::string_view name) { return ParseLayer(name).value_or(-1); }

bool QuantizeOrderLess(std::string_view a, std::string_view b) {
  const int la = LayerOf(a), lb = LayerOf(b);
  if (la != lb) return la < lb;
  return a < b;
}

bool AllowsQuantization(std::string_view name, int n_dims, const QuantizeOptions& options) {
  if (options.file_type.copy || n_dims < 2) return false;
  if (!name.ends_with("weight")) return false;
  if (options.leave_output_tensor && name == "output.weight") return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  static constexpr std::string_view kKeep[] = {
      "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
      "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
      "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
      "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
      "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
      "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
      "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.",
      "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
  };
  for (std::string_view k : kKeep) {
    if (Contains(name, k)) return false;
  }
  return true;
}

bool RequiresImatrix(std::string_view name, DType type, uint32_t ftype) {
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight" || name == "output.weight") return false;
  switch (type) {
    case DType::kIQ3_XXS: case DType::kIQ2_XXS: case DType::kIQ2_XS: case DType::kIQ2_S:
    case DType::kIQ1_M: case DType::kIQ1_S:
      return true;
    case DType::kQ2_K:
      return ftype == kQ2_K_S;
    default:
      return false;
  }
}

absl::StatusOr<MixPolicy> MixPolicy::Create(const QuantModelFacts& facts, const QuantizeOptions& options,
                                            const std::vector<std::string>& names) {
  MixPolicy p;
  p.facts_ = facts;
  p.options_ = &options;
  for (const auto& [pattern, type] : options.tensor_types) {
    try {
      p.patterns_.emplace_back(std::regex(pattern), type);
    } catch (const std::regex_error& e) {
      return Error("quantize.tensor_type",
                   absl::StrFormat("--tensor-type: '%s' is not a valid regular expression (%s)", pattern, e.what()))
          .Code(absl::StatusCode::kFailedPrecondition);
    }
  }
  for (const std::string& n : names) {
    const TensorCategory c = CategoryOf(n);
    if (IsAttnVLike(c)) ++p.n_attention_wv_;
    if (c == TensorCategory::kOutput) p.tied_embeddings_ = false;
  }
  p.n_ffn_down_ = p.n_ffn_gate_ = p.n_ffn_up_ = static_cast<int>(facts.n_layer);
  // LLM_TYPE_70B, the only model size the rules look at (per-arch tables).
  const bool gqa = facts.n_head != facts.n_head_kv;
  p.is_70b_ = (facts.n_layer == 80 && ((facts.arch == "llama" && facts.n_expert != 8 && gqa) ||
                                       facts.arch == "deci" || facts.arch == "olmo" || facts.arch == "qwen2")) ||
              (facts.n_layer == 68 && facts.arch == "jais2");
  return p;
}

absl::StatusOr<DType> MixPolicy::Choose(std::string_view name, int n_dims, uint64_t ne0, uint64_t ne2, DType current,
                                        bool* fallback) {
  *fallback = false;
  if (!AllowsQuantization(name, n_dims, *options_)) return current;
  const TensorCategory category = CategoryOf(name);
  if (options_->token_embedding_type && category == TensorCategory::kTokenEmbd) return *options_->token_embedding_type;
  if (options_->output_tensor_type && category == TensorCategory::kOutput) return *options_->output_tensor_type;
  DType type = options_->file_type.default_type;
  if (!IsQuantized(type)) return type;
  bool manual = false;
  for (const auto& [re, t] : patterns_) {
    bool match = false;
    try {
      match = std::regex_search(name.begin(), name.end(), re);
    } catch (const std::regex_error& e) {  // complexity or stack limits
      return Error("quantize.tensor_type", absl::StrFormat("--tensor-type: matching failed (%s)", e.what()))
          .Code(absl::StatusCode::kFailedPrecondition)
          .Tensor(name);
    }
    if (match) {
      type = t;
      manual = true;
      break;
    }
  }
  if (!manual && !options_->pure) {
    absl::StatusOr<DType> t = ChooseByRules(name, ne0, ne2, type, category);
    if (!t.ok()) return t.status();
    type = *t;
  }
  return Fallback(name, ne0, type, fallback);
}

// llama_tensor_get_type_impl, test for test.
absl::StatusOr<DType> MixPolicy::ChooseByRules(std::string_view name, uint64_t ne0, uint64_t ne2, DType type,
                                               TensorCategory category) {
  using C = TensorCategory;
  using D = DType;
  const uint32_t ft = options_->file_type.ftype;
  const std::string& arch = facts_.arch;
  const bool falcon = arch == "falcon";
  const int64_t n_expert = facts_.n_expert;
  const int64_t n_gqa = facts_.n_head_kv > 0 ? facts_.n_head / facts_.n_head_kv : 0;
  const bool has_imatrix = options_->imatrix != nullptr;
  auto one_of = [ft](std::initializer_list<uint32_t> l) {
    for (uint32_t f : l) if (f == ft) return true;
    return false;
  };
  // With experts the layer comes from the name (experts are not stored in layer order).
  auto layer_info = [&](int counter, int n_layer) -> absl::StatusOr<std::pair<int, int>> {
    if (std::max<int64_t>(1, n_expert) > 1) {
      const std::optional<int> parsed = ParseLayer(name);
      if (!parsed) return Error("quantize.layer", "cannot determine its layer (blk.N.) for the expert rules").Tensor(name);
      const int layer = *parsed;
      if (layer < 0 || layer >= n_layer) {
        return Error("quantize.layer", absl::StrFormat("layer %d outside [0, %d)", layer, n_layer)).Tensor(name);
      }
      return std::make_pair(layer, n_layer);
    }
    return std::make_pair(counter, n_layer);
  };

  if (category == C::kOutput || (tied_embeddings_ && category == C::kTokenEmbd)) {
    if (options_->output_tensor_type) return *options_->output_tensor_type;
    if (ft == kMXFP4_MOE) return D::kQ8_0;
    if (falcon || ne0 % GetDTypeInfo(type).block_elems != 0) return D::kQ8_0;
    if (one_of({kIQ2_XXS, kIQ2_XS, kIQ3_XXS, kIQ1_S, kIQ2_S, kIQ2_M, kIQ1_M})) return D::kQ5_K;
    return type != D::kQ8_0 ? D::kQ6_K : type;
  }
  if (ft == kMXFP4_MOE) return ne2 > 1 ? D::kMXFP4 : D::kQ8_0;
  if (category == C::kTokenEmbd) {
    if (options_->token_embedding_type) return *options_->token_embedding_type;
    if (one_of({kIQ2_XXS, kIQ2_XS, kIQ1_S, kIQ1_M})) return D::kQ2_K;
    if (one_of({kIQ2_S, kIQ2_M, kIQ3_XXS})) return D::kIQ3_S;
    if (one_of({kTQ1_0, kTQ2_0, kQ2_0})) return D::kQ4_K;
    return type;
  }
  if (one_of({kIQ2_XXS, kIQ2_XS, kIQ1_S, kIQ2_S, kIQ2_M, kIQ1_M})) {
    const bool s_or_m = one_of({kIQ2_S, kIQ2_M});
    if (IsAttnVLike(category)) {
      type = (n_gqa >= 4 || n_expert >= 4) ? D::kQ4_K : (s_or_m ? D::kIQ3_S : D::kQ2_K);
      ++i_attention_wv_;
    } else if (n_expert == 8 && category == C::kAttnK) {
      type = D::kQ4_K;
    } else if (category == C::kFfnDown) {
      if (i_ffn_down_ < n_ffn_down_ / 8) type = s_or_m ? D::kIQ3_S : D::kQ2_K;
      ++i_ffn_down_;
    } else if (category == C::kAttnOutput) {
      if (n_expert == 8) {
        type = D::kQ5_K;
      } else if (one_of({kIQ1_S, kIQ1_M})) {
        type = D::kIQ2_XXS;
      } else if (s_or_m) {
        type = D::kIQ3_S;
      }
    }
    return type;
  }
  if (IsAttnVLike(category)) {
    if (ft == kQ2_K) {
      type = n_gqa >= 4 ? D::kQ4_K : D::kQ3_K;
    } else if (ft == kQ2_K_S && n_gqa >= 4) {
      type = D::kQ4_K;
    } else if (ft == kIQ3_XXS) {
      type = n_gqa >= 4 ? D::kQ4_K : (!has_imatrix ? D::kIQ3_S : D::kIQ3_XXS);
    } else if (one_of({kIQ3_XS, kIQ3_S}) && n_gqa >= 4) {
      type = D::kQ4_K;
    } else if (ft == kIQ3_M) {
      type = D::kQ4_K;
    } else if (ft == kQ3_K_M) {
      type = i_attention_wv_ < 2 ? D::kQ5_K : D::kQ4_K;
    } else if (ft == kQ3_K_L) {
      type = D::kQ5_K;
    } else if (one_of({kIQ4_NL, kIQ4_XS}) && n_gqa >= 4) {
      type = D::kQ5_K;
    } else if (one_of({kQ4_K_M, kQ5_K_M}) && UseMoreBits(i_attention_wv_, n_attention_wv_)) {
      type = D::kQ6_K;
    } else if (ft == kQ4_K_S && i_attention_wv_ < 4) {
      type = D::kQ5_K;
    }
    if (is_70b_ && (type == D::kQ3_K || type == D::kQ4_K)) type = D::kQ5_K;
    if (n_expert == 8) type = D::kQ8_0;
    ++i_attention_wv_;
    return type;
  }
  if (category == C::kAttnK) {
    if (n_expert == 8) return D::kQ8_0;
    if (ft == kIQ3_XS) return D::kIQ3_XXS;
    if (ft == kIQ3_XXS) return D::kIQ2_S;
    return type;
  }
  if (category == C::kAttnQ) {
    if (ft == kIQ3_XS) return D::kIQ3_XXS;
    if (ft == kIQ3_XXS) return D::kIQ2_S;
    return type;
  }
  if (category == C::kFfnDown) {
    const absl::StatusOr<std::pair<int, int>> info = layer_info(i_ffn_down_, n_ffn_down_);
    if (!info.ok()) return info.status();
    const auto [i, n] = *info;
    if (ft == kQ2_K) {
      type = D::kQ3_K;
    } else if (ft == kQ2_K_S) {
      if (i < n / 8) type = D::kQ4_K;
    } else if (ft == kIQ3_XXS && !has_imatrix) {
      type = i < n / 8 ? D::kQ4_K : D::kQ3_K;
    } else if (ft == kQ3_K_M) {
      type = i < n / 16 ? D::kQ5_K : (!falcon || UseMoreBits(i, n)) ? D::kQ4_K : D::kQ3_K;
    } else if (ft == kIQ3_M && (i < n / 8 || (n_expert == 8 && UseMoreBits(i, n)))) {
      type = D::kQ4_K;
    } else if (ft == kQ3_K_L) {
      type = falcon ? D::kQ4_K : D::kQ5_K;
    } else if (ft == kQ4_K_M) {
      if (falcon) {
        type = i < n / 16 ? D::kQ6_K : UseMoreBits(i, n) ? D::kQ5_K : D::kQ4_K;
      } else if (UseMoreBits(i, n)) {
        type = D::kQ6_K;
      }
    } else if (i < n / 8 && one_of({kIQ4_NL, kIQ4_XS}) && !has_imatrix) {
      type = D::kQ5_K;
    } else if (ft == kQ5_K_M && UseMoreBits(i, n)) {
      type = D::kQ6_K;
    } else if (ft == kQ4_K_S && !falcon && i < n / 8) {
      type = D::kQ5_K;
    } else if (one_of({kQ4_0, kQ5_0}) && has_imatrix && i < n / 8) {
      type = ft == kQ4_0 ? D::kQ4_1 : D::kQ5_1;
    }
    ++i_ffn_down_;
    return type;
  }
  if (category == C::kAttnOutput) {
    if (!falcon) {
      if (n_expert == 8) {
        if (one_of({kQ2_K, kIQ3_XS, kIQ3_XXS, kQ3_K_S, kQ3_K_M, kIQ4_NL, kQ4_K_S, kQ4_K_M, kIQ3_S, kIQ3_M,
                    kIQ4_XS})) {
          type = D::kQ5_K;
        }
      } else if (ft == kQ2_K) {
        type = D::kQ3_K;
      } else if (ft == kIQ3_XXS) {
        type = D::kIQ3_S;
      } else if (ft == kQ3_K_M) {
        type = D::kQ4_K;
      } else if (ft == kQ3_K_L) {
        type = D::kQ5_K;
      } else if (ft == kIQ3_M) {
        type = D::kQ4_K;
      }
    } else if (ft == kQ3_K_L) {
      type = D::kQ4_K;
    }
    return type;
  }
  // (llama-quant.cpp's later attn_qkv branch is unreachable: attn_qkv is attn_v-like.)
  if (category == C::kFfnGate || category == C::kFfnUp) {
    int& counter = category == C::kFfnGate ? i_ffn_gate_ : i_ffn_up_;
    const absl::StatusOr<std::pair<int, int>> info =
        layer_info(counter, category == C::kFfnGate ? n_ffn_gate_ : n_ffn_up_);
    if (!info.ok()) return info.status();
    const auto [i, n] = *info;
    if (ft == kIQ3_XS && i >= n / 8 && i < 7 * n / 8) type = D::kIQ3_XXS;
    ++counter;
    return type;
  }
  return type;
}

absl::StatusOr<DType> MixPolicy::Fallback(std::string_view name, uint64_t ne0, DType type, bool* fallback) {
  const uint64_t block = GetDTypeInfo(type).block_elems;
  if (ne0 % block == 0) return type;
  *fallback = true;
  DType to;
  switch (type) {
    case DType::kIQ1_S: case DType::kIQ1_M: case DType::kIQ2_XXS: case DType::kIQ2_XS: case DType::kIQ2_S:
    case DType::kIQ3_XXS: case DType::kIQ3_S: case DType::kIQ4_XS:
      to = DType::kIQ4_NL; break;
    case DType::kQ2_0: case DType::kQ2_K: case DType::kQ3_K: case DType::kTQ1_0: case DType::kTQ2_0:
      to = DType::kQ4_0; break;
    case DType::kQ4_K: to = DType::kQ5_0; break;
    case DType::kQ5_K: to = DType::kQ5_1; break;
    case DType::kQ6_K: to = DType::kQ8_0; break;
    default:
      return Error("quantize.no_fallback",
                   absl::StrFormat("rows of %d elements do not fit %s (blocks of %d) and llama-quantize defines no "
                                   "fallback for it",
                                   ne0, DTypeName(type), block))
          .Code(absl::StatusCode::kFailedPrecondition)
          .Tensor(name);
  }
  if (ne0 % GetDTypeInfo(to).block_elems != 0) to = DType::kF16;
  return to;
}

}  // namespace quant
}  // namespace ckpt
