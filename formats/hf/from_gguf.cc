// GGUF → Hugging Face model directory: the architecture table read
// backwards (GGUF names → HF names, the Q/K permutation undone, Gemma's
// norms shifted back), config.json from the hyperparameter KVs.
#include <charconv>
#include <cstring>
#include <cmath>
#include <filesystem>

#include "absl/strings/match.h"
#include "ckpt/atomic_file.h"
#include "ckpt/hf.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "formats/hf/architectures.h"
#include "formats/hf/rope.h"
#include "formats/hf/vocab.h"
#include "ckpt/quant.h"
#include "lib/str_util.h"
#include "lib/tensor_stream.h"
#include "nlohmann/json.hpp"

namespace ckpt {
namespace hf {
namespace {

// A float KV as the shortest decimal that reads back to the same float
// (1e-05, not 9.999999747378752e-06), so config.json → GGUF is stable.
double ShortestDouble(float f) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), f);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

std::string_view ModelType(std::string_view gguf_arch) { return gguf_arch; }  // llama, qwen2, qwen3, gemma

// Inverse of the Q/K permutation: HF row h·hd + j·hd/2 + i is GGUF row h·hd + 2i + j.
std::vector<int64_t> UnpermutedRows(int64_t rows, int64_t groups) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  const int64_t hd = rows / groups, half = hd / 2;
  for (int64_t h = 0; h < groups; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) order[h * hd + j * half + i] = h * hd + 2 * i + j;
    }
  }
  return order;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExportGguf(const GgufFile& in, const std::string& dir,
                                                     std::optional<DType> dtype, const HfProgressFn& progress) {
  std::vector<std::string> notes;
  const std::string arch_name(in.GetString("general.architecture").value_or(""));
  const Architecture* arch = FindArchitectureByGguf(arch_name);
  if (!arch) {
    return Error("hf.export.architecture",
                 StrCat("general.architecture \"", arch_name, "\" has no Hugging Face layout in ckpt's table (",
                        SupportedArchitectureNames(), "); write a flat .safetensors file instead"))
        .File(in.path())
        .Code(absl::StatusCode::kUnimplemented);
  }
  if (in.big_endian()) {
    return Error("hf.export.endian", "big-endian GGUF: run `ckpt edit IN OUT --endian little` first")
        .File(in.path())
        .Code(absl::StatusCode::kUnimplemented);
  }
  auto u = [&](std::string_view key) { return in.GetInt(StrCat(arch_name, ".", key)); };
  const std::optional<int64_t> n_layer = u("block_count"), n_embd = u("embedding_length"),
                               n_head = u("attention.head_count");
  const std::optional<int64_t> n_head_kv = u("attention.head_count_kv");
  if (!n_layer || !n_embd || !n_head || *n_head <= 0) {
    return Error("hf.export.metadata", StrCat(arch_name, ".block_count, embedding_length and attention.head_count are "
                                                         "needed for config.json"))
        .File(in.path())
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  const int64_t kv_heads = n_head_kv.value_or(*n_head);

  // Tensors, in the GGUF's order; rope_freqs is generated, not an HF weight.
  std::vector<TensorToWrite> headers;
  std::vector<StreamTensor> jobs;
  bool tied = true;
  const GgufTensorInfo* rope_freqs = nullptr;
  DType main_dtype = DType::kF32;
  bool main_dtype_set = false;
  std::vector<std::vector<float>> owned;  // Gemma norms, minus one
  owned.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const GgufTensorInfo& info = in.info(i);
    if (info.name == "rope_freqs.weight") {
      rope_freqs = &info;
      continue;
    }
    int bid;
    std::string suffix;
    const TensorRule* rule = MatchGgufTensor(*arch, info.name, &bid, &suffix);
    if (!rule) {
      return Error("hf.export.tensor", StrCat("no ", arch->hf_names[0], " tensor corresponds to it"))
          .File(in.path())
          .Tensor(info.name)
          .Code(absl::StatusCode::kUnimplemented);
    }
    if (rule->gguf == "output") tied = false;
    if (info.n_dims >= 2 && !main_dtype_set && GetDTypeInfo(info.dtype).kind != DTypeKind::kQuantized) {
      main_dtype = info.dtype;
      main_dtype_set = true;
    }
    const bool block = GetDTypeInfo(info.dtype).kind == DTypeKind::kQuantized;
    if (!dtype && block) {
      return Error("hf.export.dtype", StrCat("tensor is ", DTypeName(info.dtype),
                                             "; pass --dtype f32, f16 or bf16 to dequantize it"))
          .File(in.path())
          .Tensor(info.name)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    StreamTensor j;
    j.name = HfTensorName(*rule, bid, suffix);
    j.file = in.path();
    j.file_offset = in.data_offset() + info.offset;
    j.source = in.bytes().subspan(j.file_offset, info.nbytes);
    j.source_in_file = !in.path().empty();
    j.from = info.dtype;
    j.to = dtype.value_or(info.dtype);
    j.row_elems = static_cast<int64_t>(info.ne[0]);
    j.n_rows = j.row_elems == 0 ? 0 : static_cast<int64_t>(info.nbytes / RowBytes(info.dtype, info.ne[0]));
    if (rule->transform == TensorTransform::kPermuteQ || rule->transform == TensorTransform::kPermuteK) {
      const int64_t groups = rule->transform == TensorTransform::kPermuteK ? kv_heads : *n_head;
      const int64_t rows = static_cast<int64_t>(info.ne[info.n_dims - 1]);
      if (groups <= 0 || rows % (2 * groups) != 0 || (block && info.n_dims == 1)) {
        return Error("hf.export.tensor", StrCat(rows, " rows do not split into ", groups, " heads of pairs"))
            .File(in.path())
            .Tensor(info.name);
      }
      j.row_order = UnpermutedRows(rows, groups);
      if (info.n_dims == 1) j.row_elems = 1, j.n_rows = rows;  // a bias: single elements
    }
    if (rule->transform == TensorTransform::kAddOne && suffix == ".weight") {
      // Gemma stores norm weights plus one (GemmaModel.modify_tensors).
      const uint64_t n = static_cast<uint64_t>(j.n_rows * j.row_elems);
      std::vector<float>& v = owned.emplace_back(n);
      const uint64_t in_row = RowBytes(j.from, j.row_elems);
      for (int64_t r = 0; r < j.n_rows; ++r) {
        DequantizeRow(j.from, j.source.data() + r * in_row, v.data() + r * j.row_elems, j.row_elems);
      }
      for (float& x : v) x -= 1.0f;
      j.source = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(v.data()), n * 4);
      j.source_in_file = false;
      j.from = DType::kF32;
      j.to = dtype.value_or(DType::kF32);
      if (notes.empty() || !absl::StartsWith(notes.back(), "Gemma")) {
        notes.push_back("Gemma stores norm weights plus one: they are written back minus one, exact only where the "
                        "sum was");
      }
    }
    TensorToWrite h;
    h.name = j.name;
    h.dtype = j.to;
    for (size_t d = info.n_dims; d-- > 0;) h.shape.push_back(info.ne[d]);
    h.source_dtype = j.to;
    h.data = absl::Span<const uint8_t>(nullptr, OutputBytes(j));
    headers.push_back(std::move(h));
    jobs.push_back(std::move(j));
  }
  // config.json.
  nlohmann::ordered_json config;
  config["architectures"] = {std::string(arch->hf_names[0])};
  config["model_type"] = std::string(ModelType(arch_name));
  config["hidden_size"] = *n_embd;
  if (auto v = u("feed_forward_length")) config["intermediate_size"] = *v;
  config["num_hidden_layers"] = *n_layer;
  config["num_attention_heads"] = *n_head;
  config["num_key_value_heads"] = kv_heads;
  if (auto v = u("context_length")) config["max_position_embeddings"] = *v;
  if (auto v = u("attention.key_length")) config["head_dim"] = *v;
  for (auto [key, field] : {std::pair<const char*, const char*>{"attention.layer_norm_rms_epsilon", "rms_norm_eps"},
                            {"rope.freq_base", "rope_theta"}}) {
    const GgufKv* kv = in.FindKv(StrCat(arch_name, ".", key));
    if (kv && kv->value.type == GgufType::kF32) config[field] = ShortestDouble(static_cast<float>(in.ReadFloat(kv->value)));
  }
  const GgufKv* tokens = in.FindKv("tokenizer.ggml.tokens");
  if (auto v = u("vocab_size")) {
    config["vocab_size"] = *v;
  } else if (tokens && tokens->value.type == GgufType::kArray) {
    config["vocab_size"] = tokens->value.count;
  }
  config["tie_word_embeddings"] = tied;
  // Special token ids: the converter reads them back from config.json.
  for (auto [key, field] : {std::pair<const char*, const char*>{"bos_token_id", "bos_token_id"},
                            {"eos_token_id", "eos_token_id"},
                            {"unknown_token_id", "unk_token_id"},
                            {"seperator_token_id", "sep_token_id"},
                            {"padding_token_id", "pad_token_id"},
                            {"mask_token_id", "mask_token_id"}}) {
    if (auto v = in.GetInt(StrCat("tokenizer.ggml.", key))) config[field] = *v;
  }
  // Llama 3 RoPE scaling is only in rope_freqs: recover the parameters
  // when the default recipe, with the stored maximum as factor, rebuilds it.
  if (rope_freqs) {
    bool matched = false;
    if (rope_freqs->dtype == DType::kF32 && rope_freqs->n_dims == 1) {
      const uint8_t* p = in.bytes().data() + in.data_offset() + rope_freqs->offset;
      std::vector<float> stored(rope_freqs->ne[0]);
      std::memcpy(stored.data(), p, stored.size() * 4);
      Llama3Rope r;
      r.dim = static_cast<int64_t>(stored.size() * 2);
      r.base = config.contains("rope_theta") ? config["rope_theta"].get<double>() : 10000.0;
      float max = 1;
      for (float f : stored) max = std::max(max, f);
      r.factor = max;
      matched = Llama3RopeFreqs(r) == stored;
      if (matched) {
        config["rope_scaling"] = {{"factor", ShortestDouble(max)},
                                  {"high_freq_factor", r.high_freq_factor},
                                  {"low_freq_factor", r.low_freq_factor},
                                  {"original_max_position_embeddings", static_cast<int64_t>(r.original_context)},
                                  {"rope_type", "llama3"}};
      }
    }
    if (!matched) {
      notes.push_back("rope_freqs.weight does not match Llama 3's default recipe: rope_scaling left out of config.json");
    }
  }
  const DType torch_dtype = dtype.value_or(main_dtype);
  config["torch_dtype"] = torch_dtype == DType::kBF16 ? "bfloat16" : torch_dtype == DType::kF16 ? "float16" : "float32";

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error("file.create", StrCat("cannot create directory: ", ec.message())).File(dir);
  auto write_text = [&](const std::string& name, const std::string& text) -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> f, AtomicOutputFile::Create(StrCat(dir, "/", name)));
    CKPT_RETURN_IF_ERROR(f->Write(text));
    return f->Commit();
  };

  // model.safetensors: header in the reference writer's order, then the data.
  std::vector<TensorToWrite> sorted = headers;
  SortForSafetensors(sorted);
  std::vector<StreamTensor> sorted_jobs;
  for (const TensorToWrite& t : sorted) {
    for (size_t i = 0; i < headers.size(); ++i) {
      if (headers[i].name == t.name) sorted_jobs.push_back(jobs[i]);
    }
  }
  absl::StatusOr<std::string> header = SafetensorsHeader(sorted, std::nullopt);
  if (!header.ok()) return WithFile(header.status(), dir);
  const std::string path = StrCat(dir, "/model.safetensors");
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> file, AtomicOutputFile::Create(path));
  uint8_t len[8];
  for (int b = 0; b < 8; ++b) len[b] = static_cast<uint8_t>(static_cast<uint64_t>(header->size()) >> (8 * b));
  CKPT_RETURN_IF_ERROR(file->Write(absl::MakeConstSpan(len, 8)));
  CKPT_RETURN_IF_ERROR(file->Write(*header));
  CKPT_RETURN_IF_ERROR(StreamTensors(*file, sorted_jobs, 1, 0, [&](size_t, uint64_t done, uint64_t total) {
    if (progress) progress(done, total);
  }));
  CKPT_ASSIGN_OR_RETURN(std::vector<std::string> tokenizer_files, WriteHfTokenizerFiles(in, dir));
  (void)tokenizer_files;
  CKPT_RETURN_IF_ERROR(write_text("config.json", config.dump(2) + "\n"));
  nlohmann::ordered_json gen;
  if (config.contains("bos_token_id")) gen["bos_token_id"] = config["bos_token_id"];
  if (config.contains("eos_token_id")) gen["eos_token_id"] = config["eos_token_id"];
  // general.sampling.* came from generation_config.json (gguf-py's Metadata).
  for (auto [key, field] : {std::pair<const char*, const char*>{"sequence", "sequence"}, {"top_k", "top_k"},
                            {"top_p", "top_p"}, {"min_p", "min_p"}, {"xtc_probability", "xtc_probability"},
                            {"xtc_threshold", "xtc_threshold"}, {"temp", "temperature"},
                            {"penalty_last_n", "penalty_last_n"}, {"penalty_repeat", "penalty_repeat"},
                            {"mirostat", "mirostat"}, {"mirostat_tau", "mirostat_tau"},
                            {"mirostat_eta", "mirostat_eta"}}) {
    const GgufKv* kv = in.FindKv(StrCat("general.sampling.", key));
    if (!kv) continue;
    switch (kv->value.type) {
      case GgufType::kF32: gen[field] = ShortestDouble(static_cast<float>(in.ReadFloat(kv->value))); break;
      case GgufType::kString: gen[field] = std::string(in.ReadString(kv->value)); break;
      case GgufType::kI32: case GgufType::kU32: case GgufType::kI64: case GgufType::kU64:
        gen[field] = in.ReadSigned(kv->value);
        break;
      default: break;
    }
  }
  CKPT_RETURN_IF_ERROR(write_text("generation_config.json", gen.dump(2) + "\n"));
  CKPT_RETURN_IF_ERROR(file->Commit());
  return notes;
}

}  // namespace hf

absl::StatusOr<std::vector<std::string>> ConvertGgufToHf(const GgufFile& in, const std::string& dir,
                                                         std::optional<DType> dtype, const HfProgressFn& progress) {
  return hf::ExportGguf(in, dir, dtype, progress);
}

}  // namespace ckpt
