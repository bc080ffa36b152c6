// Opening a Hugging Face model directory the way convert_hf_to_gguf.py's
// ModelBase.index_tensors does, minus anything that runs code.
#include "formats/hf/model_dir.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ckpt/checked_math.h"
#include "ckpt/mapped_file.h"
#include "ckpt/pytorch.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "lib/fs_util.h"
#include "lib/str_util.h"

namespace ckpt::hf {
namespace {

std::string Join(const std::string& dir, std::string_view name) { return StrCat(dir, "/", name); }

// TextModel.filter_tensors: multimodal parts a text conversion skips.
bool IsMultimodalTensor(std::string_view n) {
  static constexpr std::string_view kPrefixes[] = {"mlp", "vit.", "vpm.", "siglip2.", "conformer.", "merger.",
                                                   "resampler.", "sound_encoder.", "sound_projection.",
                                                   "speech_embeddings."};
  static constexpr std::string_view kInfixes[] = {
      "visual.", "vision.", "audio.", "talker.", "vision_", "audio_", "token2wav.", "code2wav.", "projector.",
      "pre_mm_projector_norm", "image_newline", "view_seperator", "patch_embed", "patch_embedding",
      "patch_merger.", "patch_merge_mlp.", "model.connector."};
  for (std::string_view p : kPrefixes) {
    if (absl::StartsWith(AbslView(n), AbslView(p))) return true;
  }
  for (std::string_view p : kInfixes) {
    if (absl::StrContains(AbslView(n), AbslView(p))) return true;
  }
  return false;
}

// ModelBase / TextModel / LlamaModel filter_tensors renames.
std::string Rename(std::string name) {
  if (absl::EndsWith(name, "e_score_correction_bias")) {
    name = absl::StrReplaceAll(name, {{"e_score_correction_bias", "e_score_correction.bias"}});
  }
  if (absl::StrContains(name, "language_model.")) name = absl::StrReplaceAll(name, {{"language_model.", ""}});
  if (absl::StrContains(name, "text_model.")) name = absl::StrReplaceAll(name, {{"text_model.", ""}});
  return name;
}

}  // namespace

uint64_t SourceTensor::num_elements() const { return CheckedProduct(shape).value_or(0); }

ModelDir::~ModelDir() = default;

const nlohmann::json* ModelDir::Field(absl::Span<const std::string_view> fields) const {
  for (std::string_view f : fields) {
    const auto it = config_.find(std::string(f));
    if (it != config_.end()) return &*it;  // find_hparam: the first present, even null
  }
  return nullptr;
}

absl::StatusOr<std::optional<int64_t>> ModelDir::IntField(absl::Span<const std::string_view> fields) const {
  const nlohmann::json* v = Field(fields);
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (!v->is_number_integer() || (v->is_number_integer() && v->get<int64_t>() < 0)) {
    std::string names;
    for (std::string_view f : fields) names += StrCat(names.empty() ? "" : "/", f);
    return Error("hf.config.type", StrCat(names, " is ", v->dump(), ", not a non-negative integer"))
        .File(config_path_);
  }
  return std::optional<int64_t>(v->get<int64_t>());
}

absl::StatusOr<std::unique_ptr<ModelDir>> ModelDir::Open(const std::string& dir) {
  std::unique_ptr<ModelDir> m(new ModelDir);
  m->dir_ = dir;
  while (m->dir_.size() > 1 && m->dir_.back() == '/') m->dir_.pop_back();
  m->config_path_ = Join(m->dir_, "config.json");
  absl::StatusOr<nlohmann::json> config = ReadJsonFile(m->config_path_, 16ull << 20);
  if (!config.ok()) {
    if (config.status().code() == absl::StatusCode::kNotFound) {
      return Error("hf.config.missing", "no config.json: not a Hugging Face model directory")
          .File(m->dir_)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    return config.status();
  }
  if (!config->is_object()) return Error("hf.config.type", "config.json is not a JSON object").File(m->config_path_);
  m->config_ = std::move(*config);
  m->raw_config_ = m->config_;
  // get_model_architecture: architectures[0], or text_config's.
  auto first_arch = [](const nlohmann::json& j) -> std::optional<std::string> {
    const auto it = j.find("architectures");
    if (it == j.end() || !it->is_array() || it->empty() || !(*it)[0].is_string()) return std::nullopt;
    return (*it)[0].get<std::string>();
  };
  std::optional<std::string> arch = first_arch(m->config_);
  const auto text = m->config_.find("text_config");
  if (text != m->config_.end() && text->is_object()) {
    if (std::optional<std::string> t = first_arch(*text)) arch = t;
    // TextModel moves text_config to the root level.
    nlohmann::json merged = m->config_;
    for (auto it = text->begin(); it != text->end(); ++it) merged[it.key()] = it.value();
    m->config_ = std::move(merged);
  }
  if (!arch) {
    return Error("hf.architecture", "config.json has no \"architectures\" list naming the model class")
        .File(m->config_path_)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  m->hf_arch_ = *arch;
  m->arch_ = FindArchitecture(*arch);
  if (!m->arch_) {
    return Error("hf.architecture", StrCat(*arch, " is not supported (supported: ", SupportedArchitectureNames(), ")"))
        .File(m->config_path_)
        .Code(absl::StatusCode::kUnimplemented);
  }
  CKPT_RETURN_IF_ERROR(m->ListTensors());
  return m;
}

absl::Status ModelDir::ListTensors() {
  CKPT_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir_));
  // get_model_part_names: every model*.safetensors, else pytorch_model*.bin.
  std::vector<std::string> parts;
  for (const std::string& n : names) {
    if (absl::StartsWith(n, "model") && absl::EndsWith(n, ".safetensors")) parts.push_back(n);
  }
  const bool safetensors = !parts.empty();
  if (!safetensors) {
    for (const std::string& n : names) {
      if (absl::StartsWith(n, "pytorch_model") && absl::EndsWith(n, ".bin")) parts.push_back(n);
    }
  }
  const std::string index_path =
      Join(dir_, safetensors ? "model.safetensors.index.json" : "pytorch_model.bin.index.json");
  std::set<std::string> index_names;
  std::map<std::string, std::string> weight_map;
  if (IsRegularFile(index_path)) {
    CKPT_ASSIGN_OR_RETURN(nlohmann::json index, ReadJsonFile(index_path));
    const auto wm = index.is_object() ? index.find("weight_map") : index.end();
    if (!index.is_object() || wm == index.end() || !wm->is_object()) {
      return Error("hf.shards.index", "no \"weight_map\" object").File(index_path);
    }
    std::set<std::string> files;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string()) {
        return Error("hf.shards.index", StrCat("weight_map[\"", it.key(), "\"] is not a file name")).File(index_path);
      }
      const std::string file = it.value().get<std::string>();
      if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
        return Error("hf.shards.index", StrCat("shard name \"", file, "\" is not a file in the model directory"))
            .File(index_path);
      }
      index_names.insert(it.key());
      weight_map[it.key()] = file;
      files.insert(file);
    }
    parts.assign(files.begin(), files.end());  // sorted, deduplicated
    for (const std::string& p : parts) {
      if (!IsRegularFile(Join(dir_, p))) {
        return Error("hf.shards.missing", StrCat("shard ", p, " listed by the index is missing"))
            .File(index_path)
            .Code(absl::StatusCode::kFailedPrecondition);
      }
    }
  }
  if (parts.empty()) {
    return Error("hf.shards.none", "no model*.safetensors or pytorch_model*.bin weights in the directory")
        .File(dir_)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  std::map<std::string, size_t> position;  // a repeated name keeps its first place, takes the last data
  std::set<std::string> stored_names;
  for (const std::string& part : parts) {
    const std::string path = Join(dir_, part);
    shard_files_.push_back(path);
    std::vector<SourceTensor> found;
    if (safetensors) {
      CKPT_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(path));
      safetensors_.push_back(std::make_unique<SafetensorsFile>(std::move(f)));
      const SafetensorsFile& sf = *safetensors_.back();
      for (size_t i = 0; i < sf.size(); ++i) {
        const TensorView v = sf.tensor(i);
        SourceTensor t;
        t.name = std::string(v.name);
        t.dtype = v.dtype;
        t.shape.assign(v.shape.begin(), v.shape.end());
        t.file = path;
        t.offset = v.offset;
        t.data = v.data;
        found.push_back(std::move(t));
      }
      // gguf-py's SafetensorsLocal sorts by name.
      std::sort(found.begin(), found.end(), [](const SourceTensor& a, const SourceTensor& b) { return a.name < b.name; });
    } else {
      CKPT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
      absl::StatusOr<PyTorchFile> f = PyTorchFile::Open(std::move(mapped));
      if (!f.ok()) return WithFile(f.status(), path);
      pytorch_.push_back(std::make_unique<PyTorchFile>(std::move(*f)));
      const PyTorchFile* pf = pytorch_.back().get();
      for (size_t i = 0; i < pf->tensors().size(); ++i) {
        const TorchTensor& tt = pf->tensors()[i];
        SourceTensor t;
        t.name = tt.name;
        t.dtype = tt.dtype;
        t.shape = tt.shape;
        t.file = path;
        t.offset = pf->TensorOffset(i);
        if (pf->IsZeroCopy(i)) {
          std::vector<uint8_t> unused;
          t.data = pf->TensorBytes(i, &unused);
        } else {
          t.gather = [pf, i](std::vector<uint8_t>* scratch) -> absl::StatusOr<absl::Span<const uint8_t>> {
            return pf->TensorBytes(i, scratch);
          };
        }
        found.push_back(std::move(t));
      }
    }
    for (SourceTensor& t : found) {
      stored_names.insert(t.name);
      t.name = Rename(t.name);
      if (IsMultimodalTensor(t.name)) continue;
      if (std::find(arch_->dropped.begin(), arch_->dropped.end(), t.name) != arch_->dropped.end()) continue;
      const auto [it, inserted] = position.emplace(t.name, tensors_.size());
      if (inserted) {
        tensors_.push_back(std::move(t));
      } else {
        tensors_[it->second] = std::move(t);
      }
    }
  }
  if (!index_names.empty() && index_names != stored_names) {
    std::vector<std::string> missing, extra;
    std::set_difference(index_names.begin(), index_names.end(), stored_names.begin(), stored_names.end(),
                        std::back_inserter(missing));
    std::set_difference(stored_names.begin(), stored_names.end(), index_names.begin(), index_names.end(),
                        std::back_inserter(extra));
    auto some = [](const std::vector<std::string>& v) {
      std::vector<std::string> head(v.begin(), v.begin() + std::min<size_t>(v.size(), 5));
      return StrCat(absl::StrJoin(head, ", "), v.size() > 5 ? StrCat(" and ", v.size() - 5, " more") : "");
    };
    std::string detail;
    if (!missing.empty()) {
      detail = StrCat(missing.size(), " tensor(s) the index lists are in no shard (", some(missing), "; expected in ",
                      weight_map[missing[0]], ")");
    }
    if (!extra.empty()) {
      detail += StrCat(detail.empty() ? "" : "; ", extra.size(), " tensor(s) in the shards are not in the index (",
                       some(extra), ")");
    }
    return Error("hf.shards.mismatch", detail).File(index_path).Code(absl::StatusCode::kFailedPrecondition);
  }
  return absl::OkStatus();
}

}  // namespace ckpt::hf
