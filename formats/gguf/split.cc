// GGUF split sets: opening (llama.cpp's loader rules); see ckpt/gguf.h.
#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/gguf.h"
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
      CKPT_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(p, options));
      set.paths.push_back(std::move(p));
      set.files.push_back(std::make_shared<const GgufFile>(std::move(f)));
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

}  // namespace ckpt
