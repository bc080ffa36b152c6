// Sharded Safetensors: index loading and validation, greedy splitting.
#include <algorithm>
#include <cctype>
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
#include "formats/safetensors/writer_internal.h"
#include "lib/fs_util.h"
#include "lib/json_scanner.h"
#include "nlohmann/json.hpp"

namespace ckpt {
namespace {

namespace fs = std::filesystem;

// Index files are small; anything this big is not one.
constexpr uint64_t kMaxIndexBytes = 64u << 20;  // the largest real ones are ~10 MB

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
  CKPT_ASSIGN_OR_RETURN(const std::vector<std::string> names, ListDirectory(dir));
  for (const std::string& name : names) {
    if (name.find(".safetensors.index") != std::string::npos && name.ends_with(".json")) {
      candidates.push_back((d / name).string());
    }
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

struct IndexContents {
  std::vector<std::pair<std::string, std::string>> weight_map;  // tensor → shard, first-seen order
  std::optional<uint64_t> total_size;
  std::vector<std::string> warnings;
};

// Reads {"metadata": {"total_size": N, ...}, "weight_map": {tensor: shard}}
// with the bounded JSON scanner: memory proportional to the entries kept,
// nesting limited, every other value skipped.
absl::StatusOr<IndexContents> ParseIndex(std::string_view text) {
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return Error("safetensors.index.json", "index is not valid UTF-8").At(bad);
  }
  json::Scanner sc(text);
  const auto syntax = [&] {
    return Error("safetensors.index.json", StrCat("index is not valid JSON: ", sc.error())).At(sc.error_pos());
  };
  json::Kind kind;
  if (!sc.PeekKind(&kind)) return syntax();
  if (kind != json::Kind::kObject) return Error("safetensors.index.json", "index is not a JSON object").At(sc.pos());
  sc.Expect('{', "`{`");
  IndexContents out;
  bool has_weight_map = false;
  std::string storage;
  const auto read_key = [&](std::string_view* key) {
    sc.SkipWs();
    if (sc.pos() < text.size() && text[sc.pos()] != '"') return sc.Fail(sc.pos(), "key must be a string");
    return sc.ReadString(key, &storage) && sc.Expect(':', "`:`");
  };
  if (!sc.Consume('}')) {
    do {
      std::string_view key;
      if (!read_key(&key)) return syntax();
      if (key == "weight_map") {
        if (!sc.PeekKind(&kind)) return syntax();
        if (kind != json::Kind::kObject) {
          return Error("safetensors.index.weight_map", "\"weight_map\" is not an object").At(sc.pos());
        }
        has_weight_map = true;
        out.weight_map.clear();  // a repeated key: the last one wins, as in Python's json
        absl::flat_hash_map<std::string, size_t> seen;
        sc.Expect('{', "`{`");
        if (!sc.Consume('}')) {
          do {
            std::string_view name, shard;
            std::string name_storage;
            sc.SkipWs();
            const size_t at = sc.pos();
            if (at < text.size() && text[at] != '"') {
              sc.Fail(at, "key must be a string");
              return syntax();
            }
            if (!sc.ReadString(&name, &name_storage) || !sc.Expect(':', "`:`") || !sc.PeekKind(&kind)) return syntax();
            if (kind != json::Kind::kString) {
              return Error("safetensors.index.weight_map", "weight_map value is not a file name").At(sc.pos()).Tensor(name);
            }
            if (!sc.ReadString(&shard, &storage)) return syntax();
            auto [it, inserted] = seen.emplace(std::string(name), out.weight_map.size());
            if (inserted) {
              out.weight_map.emplace_back(std::string(name), std::string(shard));
            } else if (out.weight_map[it->second].second != shard) {
              return Error("safetensors.index.weight_map",
                           StrCat("tensor listed twice, in ", EscapeForDisplay(out.weight_map[it->second].second),
                                  " and in ", EscapeForDisplay(shard)))
                  .At(at)
                  .Tensor(name);
            }
          } while (sc.Consume(','));
          if (!sc.Expect('}', "`,` or `}`")) return syntax();
        }
      } else if (key == "metadata") {
        if (!sc.PeekKind(&kind)) return syntax();
        if (kind != json::Kind::kObject) {
          if (!sc.SkipValue(1)) return syntax();
          if (kind != json::Kind::kNull) out.warnings.push_back("index \"metadata\" is not an object");
          continue;
        }
        sc.Expect('{', "`{`");
        if (!sc.Consume('}')) {
          do {
            std::string_view field;
            if (!read_key(&field)) return syntax();
            if (field != "total_size") {
              if (!sc.SkipValue(2)) return syntax();
              continue;
            }
            if (!sc.PeekKind(&kind)) return syntax();
            bool is_u64 = false;
            uint64_t v = 0;
            std::string_view raw;
            if (kind == json::Kind::kNumber) {
              if (!sc.ReadNumber(&is_u64, &v, &raw)) return syntax();
            } else if (!sc.SkipValue(2)) {
              return syntax();
            }
            if (is_u64) {
              out.total_size = v;
            } else {
              out.warnings.push_back("index metadata.total_size is not a non-negative integer; ignored");
            }
          } while (sc.Consume(','));
          if (!sc.Expect('}', "`,` or `}`")) return syntax();
        }
      } else {
        if (!sc.SkipValue(1)) return syntax();
      }
    } while (sc.Consume(','));
    if (!sc.Expect('}', "`,` or `}`")) return syntax();
  }
  if (!sc.AtEnd()) {
    sc.Fail(sc.pos(), "trailing characters");
    return syntax();
  }
  if (!has_weight_map) return Error("safetensors.index.weight_map", "index has no \"weight_map\" object").At(0);
  return out;
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
  absl::StatusOr<IndexContents> index = ParseIndex(
      std::string_view(reinterpret_cast<const char*>(index_file.bytes().data()), index_file.size()));
  if (!index.ok()) return WithFile(index.status(), ip);
  out.total_size_ = index->total_size;
  out.warnings_ = index->warnings;

  // Shards in file-name order; tensor name → shard number.
  std::map<std::string, uint32_t> shard_ids;
  for (const auto& [name, shard] : index->weight_map) {
    if (!IsSafeRelativePath(shard)) {
      return Error("safetensors.index.path",
                   StrCat("shard path \"", EscapeForDisplay(shard), "\" escapes the checkpoint directory"))
          .File(ip)
          .Tensor(name);
    }
    if (!absl::EndsWith(shard, ".safetensors")) {
      return Error("safetensors.index.path",
                   StrCat("shard path \"", EscapeForDisplay(shard), "\" does not end in .safetensors"))
          .File(ip)
          .Tensor(name);
    }
    shard_ids.emplace(shard, 0);
  }
  uint32_t next = 0;
  for (auto& [name, id] : shard_ids) {
    id = next++;
    out.shard_names_.push_back(name);
  }
  absl::flat_hash_map<std::string, uint32_t> listed;  // tensor → shard
  listed.reserve(index->weight_map.size());
  for (const auto& [name, shard] : index->weight_map) listed.emplace(name, shard_ids[shard]);

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
    if (!f.ok()) {
      // An empty or unrecognisable shard is a broken checkpoint (exit 1),
      // not an unrecognised input.
      if (f.status().code() == absl::StatusCode::kFailedPrecondition) {
        return WithCode(f.status(), absl::StatusCode::kInvalidArgument);
      }
      return f.status();
    }
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
  // As in transformers: "5Gb" (lower-case b, after a unit letter) means bits.
  const std::string trimmed(absl::StripAsciiWhitespace(std::string(text)));
  const bool bits = trimmed.size() >= 2 && trimmed.back() == 'b' && std::isalpha(static_cast<unsigned char>(trimmed[trimmed.size() - 2]));
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
    if (r && bits) *r /= 8;
    if (r && *r > 0) return r;
    return std::nullopt;
  }
  double d;  // "1.5GB"
  if (!absl::SimpleAtod(t, &d) || !(d > 0) || d * static_cast<double>(mult) >= 1.8e19) return std::nullopt;
  const uint64_t r = static_cast<uint64_t>(d * static_cast<double>(mult)) / (bits ? 8 : 1);
  if (r == 0) return std::nullopt;
  return r;
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

namespace {

// Names huggingface_hub writes (and removes as stale before saving anew):
// model.safetensors, model.safetensors.index.json, model-DDDDD-of-DDDDD.safetensors.
bool IsHubShardName(std::string_view n) {
  if (n == "model.safetensors" || n == kSafetensorsIndexName) return true;
  constexpr std::string_view kShape = "model-00000-of-00000.safetensors";
  if (n.size() != kShape.size()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    if (kShape[i] == '0' ? !(n[i] >= '0' && n[i] <= '9') : n[i] != kShape[i]) return false;
  }
  return true;
}

}  // namespace

absl::Status WriteShardedSafetensors(const std::string& dir, std::vector<TensorToWrite> tensors,
                                     const SafetensorsMetadata& metadata, const ShardOptions& options,
                                     const ProgressFn& progress) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error("file.create", StrCat("cannot create directory: ", ec.message()))
        .File(dir)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const TensorToWrite& t : tensors) {
    const std::optional<uint64_t> b = t.nbytes();
    if (!b) return Error("safetensors.write.size", "shape does not give a whole number of bytes").Tensor(t.name);
    sizes.push_back(*b);
    total += *b;
  }
  uint32_t count = 0;
  const std::vector<uint32_t> shard_of = PlanShards(sizes, options.max_shard_bytes, &count);

  // Every file is written to a temporary first; all are renamed into place
  // at the end, then files of an earlier save that are no longer part of the
  // checkpoint are removed (as huggingface_hub does).
  std::vector<std::unique_ptr<AtomicOutputFile>> staged;
  std::vector<std::string> names;
  if (count <= 1) {
    names.push_back("model.safetensors");
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out,
                          safetensors_internal::WriteUncommitted((fs::path(dir) / names[0]).string(),
                                                                 std::move(tensors), metadata, options.write,
                                                                 progress));
    staged.push_back(std::move(out));
  } else {
    // Shards need {"format": "pt"}: transformers refuses shards without it.
    SafetensorsMetadata shard_metadata = metadata;
    if (!shard_metadata) shard_metadata.emplace();
    if (std::none_of(shard_metadata->begin(), shard_metadata->end(),
                     [](const auto& kv) { return kv.first == "format"; })) {
      shard_metadata->emplace_back("format", "pt");
    }
    std::vector<std::vector<TensorToWrite>> shards(count);
    std::vector<uint64_t> shard_bytes(count, 0);
    nlohmann::json weight_map = nlohmann::json::object();
    for (uint32_t s = 0; s < count; ++s) names.push_back(absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, count));
    for (size_t i = 0; i < tensors.size(); ++i) {
      weight_map[tensors[i].name] = names[shard_of[i]];
      shard_bytes[shard_of[i]] += sizes[i];
      shards[shard_of[i]].push_back(std::move(tensors[i]));
    }
    uint64_t done_before = 0;
    for (uint32_t s = 0; s < count; ++s) {
      const ProgressFn shard_progress = [&](uint64_t done, uint64_t) {
        if (progress) progress(done_before + done, total);
      };
      CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out,
                            safetensors_internal::WriteUncommitted((fs::path(dir) / names[s]).string(),
                                                                   std::move(shards[s]), shard_metadata,
                                                                   options.write, shard_progress));
      staged.push_back(std::move(out));
      done_before += shard_bytes[s];
    }
    nlohmann::json index;  // std::map-backed: keys come out sorted
    index["metadata"]["total_size"] = total;
    index["weight_map"] = std::move(weight_map);
    // Python's json.dumps(indent=2, sort_keys=True) + "\n", as transformers writes it.
    const std::string text =
        index.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) + "\n";
    names.push_back(kSafetensorsIndexName);
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out,
                          AtomicOutputFile::Create((fs::path(dir) / kSafetensorsIndexName).string()));
    CKPT_RETURN_IF_ERROR(out->Write(text));
    staged.push_back(std::move(out));
  }
  for (auto& f : staged) CKPT_RETURN_IF_ERROR(f->Commit());
  CKPT_ASSIGN_OR_RETURN(const std::vector<std::string> present, ListDirectory(dir));
  for (const std::string& name : present) {
    if (IsHubShardName(name) && std::find(names.begin(), names.end(), name) == names.end()) {
      fs::remove(fs::path(dir) / name, ec);
    }
  }
  return absl::OkStatus();
}

}  // namespace ckpt
