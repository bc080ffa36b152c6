// Sharded Safetensors: index loading and validation, greedy splitting.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "lib/str_util.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ckpt/atomic_file.h"
#include "ckpt/checked_math.h"
#include "ckpt/mapped_file.h"
#include "ckpt/safetensors_sharded.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "nlohmann/json.hpp"

namespace ckpt {
namespace {

namespace fs = std::filesystem;

// Index files are small; anything this big is not one.
constexpr uint64_t kMaxIndexBytes = 256u << 20;

// huggingface_hub's rule: no root, drive or `..` component (either slash).
bool IsSafeRelativePath(std::string_view p) {
  if (p.empty() || p[0] == '/' || p[0] == '\\') return false;
  if (p.size() >= 2 && p[1] == ':') return false;  // C:foo
  if (p.find('\0') != std::string_view::npos) return false;
  for (absl::string_view part : absl::StrSplit(AbslView(p), absl::ByAnyChar("/\\"))) {
    if (part == "..") return false;
  }
  return true;
}

absl::StatusOr<std::string> FindIndex(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  if (fs::exists(d / kSafetensorsIndexName, ec)) return (d / kSafetensorsIndexName).string();
  std::vector<std::string> candidates;
  for (const auto& entry : fs::directory_iterator(d, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".safetensors.index") != std::string::npos && name.ends_with(".json")) {
      candidates.push_back(entry.path().string());
    }
  }
  if (ec) {
    return Error("file.unreadable", StrCat("cannot list directory: ", ec.message()))
        .File(dir)
        .Code(absl::StatusCode::kUnavailable);
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    return Error("safetensors.index.missing", StrCat("directory has no ", kSafetensorsIndexName))
        .File(dir)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  std::sort(candidates.begin(), candidates.end());
  std::string list;
  for (const auto& c : candidates) StrAppend(&list, list.empty() ? "" : ", ", fs::path(c).filename().string());
  return Error("safetensors.index.ambiguous", StrCat("several index files (", list, "); name one"))
      .File(dir)
      .Code(absl::StatusCode::kFailedPrecondition);
}

}  // namespace

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::Open(const std::string& path, SafetensorsOptions options) {
  ShardedSafetensors out;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    CKPT_ASSIGN_OR_RETURN(out.index_path_, FindIndex(path));
  } else {
    out.index_path_ = path;
  }
  const std::string& ip = out.index_path_;
  CKPT_ASSIGN_OR_RETURN(MappedFile index_file, MappedFile::Open(ip));
  if (index_file.size() > kMaxIndexBytes) {
    return Error("safetensors.index.too_large", StrCat("index is ", index_file.size(), " bytes"))
        .File(ip)
        .Code(absl::StatusCode::kResourceExhausted);
  }
  const auto bytes = index_file.bytes();
  const nlohmann::json index = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded()) return Error("safetensors.index.json", "index is not valid JSON").File(ip);
  if (!index.is_object()) return Error("safetensors.index.json", "index is not a JSON object").File(ip);
  const auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object()) {
    return Error("safetensors.index.weight_map", "index has no \"weight_map\" object").File(ip);
  }
  const auto md = index.find("metadata");
  if (md != index.end() && !md->is_null()) {
    if (!md->is_object()) return Error("safetensors.index.metadata", "\"metadata\" is not an object").File(ip);
    const auto ts = md->find("total_size");
    if (ts != md->end()) {
      if (ts->is_number_unsigned()) {
        out.total_size_ = ts->get<uint64_t>();
      } else {
        return Error("safetensors.index.metadata", "\"total_size\" is not a non-negative integer").File(ip);
      }
    }
  }

  // Shards in file-name order; tensor name → shard number.
  absl::flat_hash_map<std::string, uint32_t> listed;  // tensor → shard
  std::map<std::string, uint32_t> shard_ids;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& shard = it.value();
    if (!shard.is_string()) {
      return Error("safetensors.index.weight_map", "weight_map value is not a file name").File(ip).Tensor(name);
    }
    const std::string& s = shard.get_ref<const std::string&>();
    if (!IsSafeRelativePath(s)) {
      return Error("safetensors.index.path",
                   StrCat("shard path \"", EscapeForDisplay(s), "\" escapes the checkpoint directory"))
          .File(ip)
          .Tensor(name);
    }
    shard_ids.emplace(s, 0);
  }
  uint32_t next = 0;
  for (auto& [name, id] : shard_ids) {
    id = next++;
    out.shard_names_.push_back(name);
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    listed.emplace(it.key(), shard_ids[it.value().get<std::string>()]);
  }

  const fs::path dir = fs::path(ip).parent_path();
  absl::flat_hash_map<std::string_view, uint32_t> seen;  // tensor → shard it was found in
  uint64_t sum = 0;
  for (uint32_t s = 0; s < out.shard_names_.size(); ++s) {
    const std::string shard_path = (dir / out.shard_names_[s]).string();
    if (!fs::exists(shard_path, ec)) {
      return Error("safetensors.index.missing_shard", "shard listed in the index does not exist")
          .File(shard_path)
          .Code(absl::StatusCode::kInvalidArgument);
    }
    absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Open(shard_path, options);
    if (!f.ok()) return f.status();
    out.shards_.push_back(*std::move(f));
  }
  for (uint32_t s = 0; s < out.shards_.size(); ++s) {
    const SafetensorsFile& f = out.shards_[s];
    for (uint32_t i = 0; i < f.size(); ++i) {
      const TensorView v = f.tensor(i);
      sum += v.nbytes();
      auto [it, inserted] = seen.emplace(v.name, s);
      if (!inserted) {
        return Error("safetensors.index.duplicate_tensor",
                     StrCat("tensor is stored in two shards: ", out.shard_names_[it->second], " and ",
                                  out.shard_names_[s]))
            .File(ip)
            .Tensor(v.name);
      }
      auto l = listed.find(std::string(v.name));
      if (l == listed.end()) {
        return Error("safetensors.index.unlisted_tensor",
                     StrCat("tensor in shard ", out.shard_names_[s], " is not in the index's weight_map"))
            .File(ip)
            .Tensor(v.name);
      }
      if (l->second != s) {
        return Error("safetensors.index.wrong_shard",
                     StrCat("index lists the tensor in ", out.shard_names_[l->second], " but it is in ",
                                  out.shard_names_[s]))
            .File(ip)
            .Tensor(v.name);
      }
      out.tensors_.push_back({s, i});
    }
  }
  for (const auto& [name, s] : listed) {
    if (!seen.contains(name)) {
      return Error("safetensors.index.missing_tensor",
                   StrCat("index lists the tensor in ", out.shard_names_[s], " but that shard does not hold it"))
          .File(ip)
          .Tensor(name);
    }
  }
  if (out.total_size_ && *out.total_size_ != sum) {
    out.warnings_.push_back(StrCat("index metadata.total_size is ", *out.total_size_,
                                         " but the tensors hold ", sum, " bytes"));
  }
  for (uint32_t s = 0; s < out.shards_.size(); ++s) {
    for (const std::string& w : out.shards_[s].warnings()) {
      out.warnings_.push_back(StrCat(out.shard_names_[s], ": ", w));
    }
  }
  return out;
}

std::optional<uint64_t> ParseShardSize(std::string_view text) {
  std::string t = absl::AsciiStrToUpper(std::string(text));
  t = std::string(absl::StripAsciiWhitespace(t));
  static constexpr std::pair<const char*, uint64_t> kUnits[] = {
      {"KIB", 1ull << 10}, {"MIB", 1ull << 20}, {"GIB", 1ull << 30}, {"TIB", 1ull << 40},
      {"KB", 1'000},       {"MB", 1'000'000},  {"GB", 1'000'000'000}, {"TB", 1'000'000'000'000},
      {"B", 1},
  };
  uint64_t mult = 1;
  for (const auto& [suffix, m] : kUnits) {
    if (absl::EndsWith(t, suffix)) {
      t.resize(t.size() - strlen(suffix));
      mult = m;
      break;
    }
  }
  t = std::string(absl::StripAsciiWhitespace(t));
  uint64_t n;
  if (absl::SimpleAtoi(t, &n)) {
    std::optional<uint64_t> r = CheckedMul(n, mult);
    if (r && *r > 0) return r;
    return std::nullopt;
  }
  double d;  // "1.5GB"
  if (!absl::SimpleAtod(t, &d) || !(d > 0) || d * static_cast<double>(mult) >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(d * static_cast<double>(mult));
}

std::vector<uint32_t> PlanShards(const std::vector<uint64_t>& sizes, uint64_t max_shard_bytes,
                                 uint32_t* shard_count) {
  // Mirrors huggingface_hub's split_state_dict_into_shards_factory: an
  // oversized tensor becomes its own shard immediately, while the shard
  // being filled stays open and gets the next number when it closes.
  std::vector<uint32_t> shard_of(sizes.size());
  uint32_t count = 0;
  std::vector<size_t> current;
  uint64_t current_size = 0;
  const auto close_current = [&] {
    for (size_t i : current) shard_of[i] = count;
    ++count;
    current.clear();
    current_size = 0;
  };
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > max_shard_bytes) {
      shard_of[i] = count++;
      continue;
    }
    if (current_size + sizes[i] > max_shard_bytes) close_current();
    current.push_back(i);
    current_size += sizes[i];
  }
  if (!current.empty()) close_current();
  *shard_count = count;
  return shard_of;
}

absl::Status WriteShardedSafetensors(const std::string& dir, std::vector<TensorToWrite> tensors,
                                     const SafetensorsMetadata& metadata, const ShardOptions& options,
                                     const ProgressFn& progress) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error("file.create", StrCat("cannot create directory: ", ec.message())).File(dir);
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const TensorToWrite& t : tensors) {
    const std::optional<uint64_t> n = CheckedProduct(t.shape);
    const std::optional<uint64_t> b = n ? DTypeByteSize(t.dtype, *n) : std::nullopt;
    if (!b) return Error("safetensors.write.size", "shape does not give a whole number of bytes").Tensor(t.name);
    sizes.push_back(*b);
    total += *b;
  }
  uint32_t count = 0;
  const std::vector<uint32_t> shard_of = PlanShards(sizes, options.max_shard_bytes, &count);
  if (count <= 1) {
    return WriteSafetensors((fs::path(dir) / "model.safetensors").string(), std::move(tensors), metadata,
                            options.write, progress);
  }
  // Every shard carries {"format": "pt"} unless the source has metadata.
  SafetensorsMetadata shard_metadata = metadata;
  if (!shard_metadata) {
    shard_metadata.emplace(std::vector<std::pair<std::string, std::string>>{{"format", "pt"}});
  }
  std::vector<std::vector<TensorToWrite>> shards(count);
  nlohmann::json weight_map = nlohmann::json::object();
  std::vector<std::string> names(count);
  for (uint32_t s = 0; s < count; ++s) names[s] = absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, count);
  for (size_t i = 0; i < tensors.size(); ++i) {
    weight_map[tensors[i].name] = names[shard_of[i]];
    shards[shard_of[i]].push_back(std::move(tensors[i]));
  }
  uint64_t done_before = 0;
  for (uint32_t s = 0; s < count; ++s) {
    uint64_t shard_bytes = 0;
    for (const auto& t : shards[s]) shard_bytes += *DTypeByteSize(t.dtype, *CheckedProduct(t.shape));
    const ProgressFn shard_progress = [&](uint64_t done, uint64_t) {
      if (progress) progress(done_before + done, total);
    };
    CKPT_RETURN_IF_ERROR(WriteSafetensors((fs::path(dir) / names[s]).string(), std::move(shards[s]),
                                          shard_metadata, options.write, shard_progress));
    done_before += shard_bytes;
  }
  nlohmann::json index;  // std::map-backed: keys come out sorted
  index["metadata"]["total_size"] = total;
  index["weight_map"] = std::move(weight_map);
  const std::string text = index.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) + "\n";  // Python json.dumps style
  const std::string index_path = (fs::path(dir) / kSafetensorsIndexName).string();
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out, AtomicOutputFile::Create(index_path));
  CKPT_RETURN_IF_ERROR(out->Write(text));
  return out->Commit();
}

}  // namespace ckpt
