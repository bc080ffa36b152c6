// GGUF split sets: opening (llama.cpp's loader rules); see ckpt/gguf.h.
#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/checked_math.h"
#include "ckpt/gguf.h"
#include "formats/gguf/writer_internal.h"
#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {

std::string GgufSplitPath(std::string_view prefix, uint32_t index, uint32_t count) {
  return absl::StrFormat("%s-%05d-of-%05d.gguf", AbslView(prefix), index + 1, count);
}

std::optional<std::string> GgufSplitPrefix(std::string_view path) {
  // "-00001-of-00003.gguf" is 20 characters.
  constexpr size_t kSuffix = 20;
  if (path.size() < kSuffix) return std::nullopt;
  const std::string_view tail = path.substr(path.size() - kSuffix);
  for (size_t i : {1, 2, 3, 4, 5, 10, 11, 12, 13, 14}) {
    if (tail[i] < '0' || tail[i] > '9') return std::nullopt;
  }
  if (tail[0] != '-' || tail.substr(6, 4) != "-of-" || tail.substr(15) != ".gguf") return std::nullopt;
  return std::string(path.substr(0, path.size() - kSuffix));
}

absl::StatusOr<GgufSplitSet> OpenGgufSplits(const std::string& path, GgufOptions options) {
  GgufSplitSet set;
  CKPT_ASSIGN_OR_RETURN(GgufFile first, GgufFile::Open(path, options));
  const GgufKv* count_kv = first.FindKv("split.count");
  const uint64_t count = count_kv ? first.ReadUnsigned(count_kv->value) : 0;  // typed u16 by the reader
  set.paths.push_back(path);
  set.files.push_back(std::make_shared<const GgufFile>(std::move(first)));
  if (count <= 1) return set;

  const GgufFile& f0 = *set.files[0];
  const std::optional<int64_t> no = f0.GetInt("split.no");
  if (no.value_or(0) != 0) {
    return Error("gguf.split.not_first", StrCat("this is split ", *no + 1, " of ", count,
                                                "; open the first file of the set"))
        .File(path)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  const std::optional<std::string> prefix = GgufSplitPrefix(path);
  if (!prefix) {
    return Error("gguf.split.name", StrCat("split.count is ", count,
                                           " but the file is not named PREFIX-00001-of-NNNNN.gguf, so the "
                                           "other splits cannot be found"))
        .File(path)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  absl::flat_hash_set<absl::string_view> names;
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0) {
      std::string p = GgufSplitPath(*prefix, i, static_cast<uint32_t>(count));
      absl::StatusOr<GgufFile> f = GgufFile::Open(p, options);
      if (!f.ok()) {
        // The set was recognised and is broken (exit 1), as for a missing
        // Safetensors shard.
        if (absl::IsNotFound(f.status())) {
          return Error("gguf.split.missing", StrCat("split ", i + 1, " of ", count, " is missing"))
              .File(p);
        }
        return WithCode(f.status(), absl::StatusCode::kInvalidArgument);
      }
      set.paths.push_back(std::move(p));
      set.files.push_back(std::make_shared<const GgufFile>(*std::move(f)));
    }
    const GgufFile& f = *set.files[i];
    const std::optional<int64_t> f_no = f.GetInt("split.no");
    const std::optional<int64_t> f_count = f.GetInt("split.count");
    if (f_no != static_cast<int64_t>(i) || f_count != static_cast<int64_t>(count)) {
      return Error("gguf.split.index", StrCat("split.no/split.count are ", f_no.value_or(-1), "/",
                                              f_count.value_or(-1), ", expected ", i, "/", count))
          .File(set.paths[i]);
    }
    for (const GgufTensorInfo& t : f.infos()) {
      if (!names.insert(AbslView(t.name)).second) {
        return Error("gguf.split.duplicate", "tensor appears in two splits").Tensor(t.name).File(set.paths[i]);
      }
    }
    total += f.size();
  }
  const std::optional<int64_t> declared = f0.GetInt("split.tensors.count");
  if (declared && *declared != static_cast<int64_t>(total)) {
    return Error("gguf.split.count", StrCat("split.tensors.count is ", *declared, " but the splits hold ", total,
                                            " tensors"))
        .File(path);
  }
  return set;
}

namespace {

bool IsSplitKey(std::string_view key) {
  return key == "split.no" || key == "split.count" || key == "split.tensors.count";
}

GgufTensorToWrite CopyOf(const GgufFile& f, size_t i, bool keep_dims) {
  const GgufTensorInfo& info = f.info(i);
  GgufTensorToWrite t;
  t.name = std::string(info.name);
  t.dtype = t.source_dtype = info.dtype;
  uint32_t n_dims = info.n_dims;
  if (!keep_dims) {
    // ggml's writer (ggml_n_dims) drops trailing dims ≤ 1; dropping a 0
    // would change the size, so only 1s go.
    while (n_dims > 1 && info.ne[n_dims - 1] == 1) --n_dims;
  }
  t.ne.assign(info.ne.begin(), info.ne.begin() + n_dims);
  t.data = f.tensor(i).data;
  t.source_big_endian = f.big_endian();
  return t;
}

// Commits staged files together: all appear, or (on error) none.
absl::Status CommitAll(std::vector<std::unique_ptr<AtomicOutputFile>>& staged) {
  for (auto& f : staged) CKPT_RETURN_IF_ERROR(f->Commit());
  return absl::OkStatus();
}

}  // namespace

std::vector<size_t> PlanGgufSplits(const GgufFile& in, const GgufSplitOptions& options) {
  std::vector<size_t> counts(1, 0);
  if (options.no_tensors_in_first) counts.push_back(0);
  uint64_t bytes = 0;  // padded bytes in the file being filled
  for (size_t i = 0; i < in.size(); ++i) {
    const uint64_t n = CheckedAlignUp(in.info(i).nbytes, in.alignment()).value_or(UINT64_MAX);
    bool split = false;
    if (options.max_tensors > 0) split = i > 0 && i % options.max_tensors == 0;
    if (options.max_bytes > 0) split = counts.back() > 0 && (n > options.max_bytes - std::min(bytes, options.max_bytes));
    if (split) {
      counts.push_back(0);
      bytes = 0;
    }
    ++counts.back();
    bytes = CheckedAdd(bytes, n).value_or(UINT64_MAX);
  }
  return counts;
}

absl::StatusOr<std::vector<std::string>> WriteGgufSplits(const GgufFile& in, std::string_view prefix,
                                                         const GgufSplitOptions& options,
                                                         const std::function<void(uint64_t, uint64_t)>& progress) {
  const std::vector<size_t> counts = PlanGgufSplits(in, options);
  if (counts.size() > UINT16_MAX) {
    return Error("gguf.split.too_many", StrCat(counts.size(), " files; split.count is a u16"))
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  const auto n_files = static_cast<uint32_t>(counts.size());
  uint64_t total = 0, done = 0;
  for (const GgufTensorInfo& t : in.infos()) total += t.nbytes;
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<AtomicOutputFile>> staged;
  size_t next = 0;
  for (uint32_t s = 0; s < n_files; ++s) {
    std::vector<GgufKvToWrite> kvs;
    if (s == 0) {
      for (const GgufKv& kv : in.kvs()) {
        if (!IsSplitKey(kv.key)) kvs.push_back({std::string(kv.key), std::make_pair(&in, kv.value)});
      }
    }
    kvs.push_back({"split.no", GgufOwnedValue::Unsigned(GgufType::kU16, s)});
    kvs.push_back({"split.tensors.count", GgufOwnedValue::Signed(GgufType::kI32, static_cast<int64_t>(in.size()))});
    kvs.push_back({"split.count", GgufOwnedValue::Unsigned(GgufType::kU16, n_files)});
    std::vector<GgufTensorToWrite> tensors;
    for (size_t k = 0; k < counts[s]; ++k) tensors.push_back(CopyOf(in, next++, options.keep_dims));
    paths.push_back(GgufSplitPath(prefix, s, n_files));
    GgufWriteOptions write;
    write.big_endian = in.big_endian();
    const uint64_t base = done;
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> f,
                          gguf_internal::WriteUncommitted(paths.back(), kvs, tensors, write,
                                                          [&](uint64_t d, uint64_t) {
                                                            done = base + d;
                                                            if (progress) progress(done, total);
                                                          }));
    staged.push_back(std::move(f));
  }
  CKPT_RETURN_IF_ERROR(CommitAll(staged));
  return paths;
}

absl::Status MergeGgufSplits(const GgufSplitSet& set, const std::string& out, bool keep_dims,
                             const std::function<void(uint64_t, uint64_t)>& progress) {
  const GgufFile& first = *set.files[0];
  std::vector<GgufKvToWrite> kvs;
  for (const GgufKv& kv : first.kvs()) {
    if (kv.key != "split.count") kvs.push_back({std::string(kv.key), std::make_pair(&first, kv.value)});
  }
  // As llama-gguf-split --merge: split.count set (so moved last) to 0.
  kvs.push_back({"split.count", GgufOwnedValue::Unsigned(GgufType::kU16, 0)});
  std::vector<GgufTensorToWrite> tensors;
  for (const auto& f : set.files) {
    for (size_t i = 0; i < f->size(); ++i) tensors.push_back(CopyOf(*f, i, keep_dims));
  }
  GgufWriteOptions write;
  write.big_endian = first.big_endian();
  return WriteGguf(out, kvs, tensors, write, progress);
}

}  // namespace ckpt
