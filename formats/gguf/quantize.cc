// GGUF → GGUF quantization in llama-quantize's layout (llama-quant.cpp's
// llama_model_quantize_impl): plan every tensor's type first, then stream the
// tensors one by one in that order, slab by slab, quantizing rows on all
// threads straight from the mapped input into a bounded output buffer.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ckpt/atomic_file.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/quant.h"
#include "ckpt/quantize.h"
#include "ckpt/status.h"
#include "lib/quant/mix.h"
#include "lib/tensor_stream.h"

namespace ckpt {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION
constexpr uint64_t kOutputAlignment = 32;     // GGUF_DEFAULT_ALIGNMENT

std::optional<int64_t> FirstInt(const GgufFile& f, const std::string& key) {
  const GgufKv* kv = f.FindKv(key);
  if (!kv) return std::nullopt;
  if (kv->value.type != GgufType::kArray) return f.GetInt(key);
  // Per-layer arrays (head_count_kv of hybrid models): layer 0's value.
  std::optional<int64_t> first;
  f.ForEachElement(kv->value, [&](const GgufValue& v) {
    if (v.type != GgufType::kString && v.type != GgufType::kArray && v.type != GgufType::kF32 &&
        v.type != GgufType::kF64 && v.type != GgufType::kBool) {
      first = f.ReadSigned(v);
    }
    return false;
  });
  return first;
}

}  // namespace

absl::StatusOr<QuantModelFacts> QuantModelFactsOf(const GgufFile& f) {
  QuantModelFacts facts;
  const std::optional<std::string_view> arch = f.GetString("general.architecture");
  if (!arch) {
    return Error("quantize.metadata", "general.architecture is missing: the mix rules need the model's layout")
        .Code(absl::StatusCode::kFailedPrecondition)
        .File(f.path());
  }
  facts.arch = std::string(*arch);
  const std::optional<int64_t> n_layer = FirstInt(f, facts.arch + ".block_count");
  if (!n_layer || *n_layer <= 0 || *n_layer > 4096) {
    return Error("quantize.metadata", absl::StrFormat("%s.block_count is missing or not in 1..4096", facts.arch))
        .Code(absl::StatusCode::kFailedPrecondition)
        .File(f.path())
        .Key(facts.arch + ".block_count");
  }
  facts.n_layer = *n_layer;
  facts.n_head = FirstInt(f, facts.arch + ".attention.head_count").value_or(0);
  facts.n_head_kv = FirstInt(f, facts.arch + ".attention.head_count_kv").value_or(facts.n_head);
  facts.n_expert = FirstInt(f, facts.arch + ".expert_count").value_or(0);
  if (facts.n_expert < 0 || facts.n_expert > 512) {  // LLAMA_MAX_EXPERTS
    return Error("quantize.metadata", absl::StrFormat("%s.expert_count %d is not in 0..512", facts.arch, facts.n_expert))
        .Code(absl::StatusCode::kFailedPrecondition)
        .File(f.path())
        .Key(facts.arch + ".expert_count");
  }
  return facts;
}

namespace {

// ggml_n_dims: trailing dimensions of 1 are not written.
std::vector<uint64_t> TrimmedNe(const std::vector<uint64_t>& ne) {
  size_t n = ne.size();
  while (n > 1 && ne[n - 1] == 1) --n;
  return std::vector<uint64_t>(ne.begin(), ne.begin() + std::max<size_t>(n, 1));
}

uint64_t Ne(const QuantizeInputTensor& t, size_t i) { return i < t.ne.size() ? t.ne[i] : 1; }

}  // namespace

absl::StatusOr<QuantizePlan> PlanQuantize(const GgufFile& in, const QuantizeOptions& options) {
  QuantizeInput input;
  input.path = in.path();
  CKPT_ASSIGN_OR_RETURN(input.facts, QuantModelFactsOf(in));
  if (in.GetInt("split.count").value_or(0) > 1) {
    return Error("quantize.split", "the input is one file of a split set: `ckpt merge` it first")
        .Code(absl::StatusCode::kUnimplemented)
        .File(in.path());
  }
  if (in.big_endian()) {
    return Error("quantize.endian", "big-endian GGUF input: convert it with `ckpt edit --endian little` first")
        .File(in.path());
  }
  input.tensors.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const GgufTensorInfo& info = in.info(i);
    input.tensors.push_back({std::string(info.name), std::vector<uint64_t>(info.ne.begin(), info.ne.begin() + info.n_dims),
                             info.dtype, info.nbytes});
  }
  return PlanQuantize(input, options);
}

absl::StatusOr<QuantizePlan> PlanQuantize(const QuantizeInput& in, const QuantizeOptions& options) {
  QuantizePlan plan;
  plan.facts = in.facts;
  std::vector<size_t> order(in.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return quant::QuantizeOrderLess(in.tensors[a].name, in.tensors[b].name);
  });
  std::vector<std::string> names;
  names.reserve(order.size());
  for (size_t i : order) names.push_back(in.tensors[i].name);
  CKPT_ASSIGN_OR_RETURN(quant::MixPolicy policy, quant::MixPolicy::Create(plan.facts, options, names));

  for (size_t i : order) {
    const QuantizeInputTensor& info = in.tensors[i];
    QuantizePlanEntry e;
    e.input_index = i;
    e.name = info.name;
    e.ne = TrimmedNe(info.ne);
    e.from = info.dtype;
    e.from_bytes = info.nbytes;
    const uint64_t ne0 = Ne(info, 0), ne2 = Ne(info, 2);
    absl::StatusOr<DType> to = policy.Choose(e.name, static_cast<int>(e.ne.size()), ne0, ne2, e.from, &e.fallback);
    if (!to.ok()) return WithFile(to.status(), in.path);
    e.to = *to;
    if (e.to != e.from && ne0 % GetDTypeInfo(e.to).block_elems != 0) {
      // Only the --output-tensor-type / --token-embedding-type choices skip
      // the fallback; llama-quantize then fails in the quantizer.
      return Error("quantize.row_length",
                   absl::StrFormat("rows of %d elements are not a whole number of %s blocks (%d)", ne0,
                                   DTypeName(e.to), GetDTypeInfo(e.to).block_elems))
          .Code(absl::StatusCode::kFailedPrecondition)
          .File(in.path)
          .Tensor(e.name);
    }
    plan.n_fallback += e.fallback;
    const uint64_t n_rows = info.nbytes / std::max<uint64_t>(RowBytes(e.from, ne0), 1);
    e.to_bytes = e.to == e.from ? info.nbytes : n_rows * RowBytes(e.to, ne0);
    const bool allowed = quant::AllowsQuantization(e.name, static_cast<int>(e.ne.size()), options);
    e.requires_imatrix = quant::RequiresImatrix(e.name, e.to, options.file_type.ftype);
    if (e.to != e.from) {
      if (GetDTypeInfo(e.from).kind == DTypeKind::kQuantized && !options.allow_requantize) {
        return Error("quantize.requantize",
                     absl::StrFormat("is already %s; requantizing loses precision (pass --allow-requantize to do it "
                                     "anyway)",
                                     DTypeName(e.from)))
            .Code(absl::StatusCode::kFailedPrecondition)
            .File(in.path)
            .Tensor(e.name);
      }
      if (Ne(info, 3) > 1) {
        return Error("quantize.shape", "4-D tensors are not quantized (llama-quantize mishandles them)")
            .Code(absl::StatusCode::kUnimplemented)
            .File(in.path)
            .Tensor(e.name);
      }
      if (options.imatrix) {
        const auto it = options.imatrix->entries.find(e.name);
        if (it != options.imatrix->entries.end()) {
          if (it->second.size() == ne0 * ne2) {
            e.imatrix = &it->second;
          } else if (e.name != "token_embd.weight" && e.name != "per_layer_token_embd.weight") {
            return Error("quantize.imatrix_size",
                         absl::StrFormat("the imatrix has %d values for it, the tensor needs %d (ne0 × experts)",
                                         it->second.size(), ne0 * ne2))
                .File(in.path)
                .Tensor(e.name);
          }
        }
      }
    }
    if (allowed && e.requires_imatrix && !options.imatrix) plan.needs_imatrix = true;
    plan.tensors.push_back(std::move(e));
  }
  return plan;
}

namespace {

// llama's guess when the input has no general.file_type: the type most
// tensors have (the first to reach the top count, in quantize order), with
// LLAMA_FTYPE_GUESSED (1024) set.
uint32_t GuessedFileType(const QuantizePlan& plan) {
  std::map<DType, uint32_t> counts;
  uint32_t best_count = 0;
  DType best = DType::kF32;
  for (const QuantizePlanEntry& e : plan.tensors) {
    if (++counts[e.from] > best_count) {
      best_count = counts[e.from];
      best = e.from;
    }
  }
  static const std::map<DType, uint32_t> kFtype = {
      {DType::kF32, 0}, {DType::kF16, 1}, {DType::kBF16, 32}, {DType::kQ4_0, 2}, {DType::kQ4_1, 3},
      {DType::kQ5_0, 8}, {DType::kQ5_1, 9}, {DType::kQ8_0, 7}, {DType::kQ2_K, 10}, {DType::kQ3_K, 12},
      {DType::kQ4_K, 15}, {DType::kQ5_K, 17}, {DType::kQ6_K, 18}, {DType::kTQ1_0, 36}, {DType::kTQ2_0, 37},
      {DType::kIQ2_XXS, 19}, {DType::kIQ2_XS, 20}, {DType::kIQ2_S, 28}, {DType::kIQ3_XXS, 23}, {DType::kIQ1_S, 24},
      {DType::kIQ1_M, 31}, {DType::kIQ4_NL, 25}, {DType::kIQ4_XS, 30}, {DType::kIQ3_S, 26}, {DType::kNVFP4, 39},
      {DType::kQ1_0, 40}, {DType::kQ2_0, 41}};
  const auto it = kFtype.find(best);
  return (it == kFtype.end() ? 0 : it->second) | 1024u;
}

// What llama copies through a C string: up to the first NUL, at most 127 bytes.
std::string CString127(std::string_view s) {
  s = s.substr(0, s.find('\0'));
  return std::string(s.substr(0, 127));
}

// What the streaming engine needs for one plan entry.
StreamTensor StreamJob(const GgufFile& in, const QuantizePlanEntry& e) {
  const GgufTensorInfo& info = in.info(e.input_index);
  StreamTensor t;
  t.name = e.name;
  t.file = in.path();
  t.file_offset = in.data_offset() + info.offset;
  t.source = in.bytes().subspan(t.file_offset, info.nbytes);
  t.source_in_file = !in.path().empty();
  t.from = e.from;
  t.to = e.to;
  t.row_elems = static_cast<int64_t>(info.ne[0]);
  const uint64_t in_row = RowBytes(e.from, info.ne[0]);
  t.n_rows = in_row == 0 ? 0 : static_cast<int64_t>(info.nbytes / in_row);
  t.rows_per_matrix = static_cast<int64_t>(info.ne[1]);
  t.imatrix = e.imatrix;
  t.refuse_non_finite = true;
  return t;
}

}  // namespace

// llama_model_quantize_impl's KV list: the input's (minus split.*), then the
// quantization version and file type, then the imatrix keys. A key set again
// leaves its old place and goes to the end.
std::vector<GgufKvToWrite> QuantizedKvs(std::vector<GgufKvToWrite> in_kvs, std::optional<int64_t> input_file_type,
                                        const QuantizeOptions& options, const QuantizePlan& plan) {
  std::vector<GgufKvToWrite> added;
  uint32_t ftype = options.file_type.ftype;
  if (options.file_type.copy) {
    ftype = input_file_type ? static_cast<uint32_t>(*input_file_type) : GuessedFileType(plan);
  }
  added.push_back({"general.quantization_version", GgufOwnedValue::Unsigned(GgufType::kU32, kQuantizationVersion)});
  added.push_back({"general.file_type", GgufOwnedValue::Unsigned(GgufType::kU32, ftype)});
  if (options.imatrix) {
    added.push_back({"quantize.imatrix.file", GgufOwnedValue::String(CString127(options.imatrix_file))});
    if (!options.imatrix->datasets.empty()) {
      added.push_back({"quantize.imatrix.dataset", GgufOwnedValue::String(CString127(options.imatrix->datasets[0]))});
    }
    added.push_back({"quantize.imatrix.entries_count",
                     GgufOwnedValue::Unsigned(GgufType::kU32, static_cast<uint32_t>(options.imatrix->entries.size()))});
    if (options.imatrix->chunk_count > 0) {
      added.push_back({"quantize.imatrix.chunks_count",
                       GgufOwnedValue::Unsigned(GgufType::kU32, static_cast<uint32_t>(options.imatrix->chunk_count))});
    }
  }
  std::vector<GgufKvToWrite> kvs;
  for (GgufKvToWrite& kv : in_kvs) {
    if (kv.key == "split.no" || kv.key == "split.count" || kv.key == "split.tensors.count") continue;
    if (std::any_of(added.begin(), added.end(), [&](const GgufKvToWrite& a) { return a.key == kv.key; })) continue;
    kvs.push_back(std::move(kv));
  }
  for (GgufKvToWrite& a : added) kvs.push_back(std::move(a));
  return kvs;
}

absl::Status CheckQuantizePlan(const QuantizePlan& plan, const QuantizeOptions& options, const std::string& path) {
  if (plan.needs_imatrix) {
    for (const QuantizePlanEntry& e : plan.tensors) {
      if (e.requires_imatrix && e.to != e.from) {
        return Error("quantize.imatrix_required",
                     absl::StrFormat("%s for %s needs an importance matrix (--imatrix), as llama-quantize requires",
                                     DTypeName(e.to), options.file_type.name))
            .Code(absl::StatusCode::kFailedPrecondition)
            .File(path)
            .Tensor(e.name);
      }
    }
  }
  if (options.imatrix) {
    for (const auto& [name, values] : options.imatrix->entries) {
      for (float v : values) {
        if (!std::isfinite(v)) {
          return Error("imatrix.non_finite", "the importance matrix holds NaN or infinity")
              .File(options.imatrix_file)
              .Tensor(name);
        }
      }
    }
  }
  for (const QuantizePlanEntry& e : plan.tensors) {
    if (e.to == e.from) continue;
    if (!CanQuantize(e.to)) {
      return Error("quantize.unsupported_type", absl::StrFormat("ckpt cannot produce %s yet", DTypeName(e.to)))
          .Code(absl::StatusCode::kUnimplemented)
          .File(path)
          .Tensor(e.name);
    }
    if (!CanDequantize(e.from)) {
      return Error("quantize.unsupported_type", absl::StrFormat("ckpt cannot read %s", DTypeName(e.from)))
          .Code(absl::StatusCode::kUnimplemented)
          .File(path)
          .Tensor(e.name);
    }
    if (e.requires_imatrix && !e.imatrix) {
      return Error("quantize.imatrix_required",
                   absl::StrFormat("no importance-matrix entry for this %s tensor (the result would be garbage; "
                                   "llama-quantize stops too)",
                                   DTypeName(e.to)))
          .Code(absl::StatusCode::kFailedPrecondition)
          .File(path)
          .Tensor(e.name);
    }
  }

  return absl::OkStatus();
}

absl::Status QuantizeGguf(const GgufFile& in, const std::string& out, const QuantizeOptions& options,
                          const QuantizePlan& plan, const QuantizeProgressFn& progress) {
  CKPT_RETURN_IF_ERROR(CheckQuantizePlan(plan, options, in.path()));
  std::vector<GgufKvToWrite> in_kvs;
  for (const GgufKv& kv : in.kvs()) in_kvs.push_back({std::string(kv.key), std::make_pair(&in, kv.value)});
  std::vector<GgufKvToWrite> kvs = QuantizedKvs(std::move(in_kvs), in.GetInt("general.file_type"), options, plan);
  std::vector<GgufTensorToWrite> infos;
  std::vector<StreamTensor> jobs;
  infos.reserve(plan.tensors.size());
  jobs.reserve(plan.tensors.size());
  for (const QuantizePlanEntry& e : plan.tensors) {
    GgufTensorToWrite t;
    t.name = e.name;
    t.dtype = e.to;
    t.ne = e.ne;
    t.source_dtype = e.to;
    // The header writer only needs the size: point at nothing of that length.
    t.data = absl::Span<const uint8_t>(nullptr, e.to_bytes);
    infos.push_back(std::move(t));
    jobs.push_back(StreamJob(in, e));
  }
  absl::StatusOr<std::string> header = GgufHeader(kvs, infos);
  if (!header.ok()) return WithFile(header.status(), out);
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> file, AtomicOutputFile::Create(out));
  CKPT_RETURN_IF_ERROR(file->Write(*header));
  uint64_t alignment = kOutputAlignment;
  for (const GgufKvToWrite& kv : kvs) {
    // An input general.alignment is kept, and honoured (llama-quantize keeps
    // the key but lays the data out at 32, which breaks the file).
    if (kv.key == "general.alignment") alignment = static_cast<uint64_t>(in.GetInt("general.alignment").value_or(32));
  }
  CKPT_RETURN_IF_ERROR(StreamTensors(*file, jobs, alignment, options.threads, progress));
  return file->Commit();
}

}  // namespace ckpt
