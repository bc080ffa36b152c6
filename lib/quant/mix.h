// lib/quant/mix.h — llama-quantize's per-tensor type choice (llama-quant.cpp).
//
// Format-neutral: callers give tensor names, shapes and types in the order
// SortForQuantize puts them, and a MixPolicy answers which type each gets.
// The rules keep counters (the k-th attn_v, the k-th ffn_down), so Choose()
// must be called once per tensor, in that order — as llama-quantize does.
#ifndef CKPT_LIB_QUANT_MIX_H_
#define CKPT_LIB_QUANT_MIX_H_

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/quantize.h"

namespace ckpt::quant {

enum class TensorCategory {
  kOutput, kTokenEmbd, kAttnQkv, kAttnKvB, kAttnV, kAttnK, kAttnQ, kAttnOutput,
  kFfnUp, kFfnGate, kFfnDown, kOther,
};

TensorCategory CategoryOf(std::string_view name);

// The layer number of a `blk.N.` name as sscanf("blk.%d.") reads it.
std::optional<int> ParseLayer(std::string_view name);
int LayerOf(std::string_view name);  // ParseLayer or -1

// llama-quantize's tensor order: layer number (-1 first), then name bytes.
bool QuantizeOrderLess(std::string_view a, std::string_view b);

// tensor_allows_quantization: 2-D and larger weights, minus norms, routers,
// small special tensors and (with leave_output_tensor) output.weight.
bool AllowsQuantization(std::string_view name, int n_dims, const QuantizeOptions& options);

// tensor_requires_imatrix.
bool RequiresImatrix(std::string_view name, DType type, uint32_t ftype);

class MixPolicy {
 public:
  // `names` are all the model's tensor names (categories are counted over
  // them: n_attention_wv, tied embeddings).
  static absl::StatusOr<MixPolicy> Create(const QuantModelFacts& facts, const QuantizeOptions& options,
                                          const std::vector<std::string>& names);

  // The type for one tensor (llama_tensor_get_type), `ne0` its row length,
  // `ne2` its expert count. Sets *fallback when the row length forced
  // another type. Errors: no fallback exists for the chosen type.
  absl::StatusOr<DType> Choose(std::string_view name, int n_dims, uint64_t ne0, uint64_t ne2, DType current,
                               bool* fallback);

 private:
  MixPolicy() = default;
  absl::StatusOr<DType> ChooseByRules(std::string_view name, uint64_t ne0, uint64_t ne2, DType type,
                                      TensorCategory category);
  absl::StatusOr<DType> Fallback(std::string_view name, uint64_t ne0, DType type, bool* fallback);

  QuantModelFacts facts_;
  const QuantizeOptions* options_ = nullptr;
  std::vector<std::pair<std::regex, DType>> patterns_;
  bool tied_embeddings_ = true;
  bool is_70b_ = false;
  int n_attention_wv_ = 0, n_ffn_down_ = 0, n_ffn_gate_ = 0, n_ffn_up_ = 0;
  int i_attention_wv_ = 0, i_ffn_down_ = 0, i_ffn_gate_ = 0, i_ffn_up_ = 0;
};

}  // namespace ckpt::quant

#endif  // CKPT_LIB_QUANT_MIX_H_
