// Protects: OpenGgufSplits never crashes on any set of split files and, when
// it accepts a set, the set is what llama.cpp's loader would load.
//
// The input is a concatenation of up to three GGUF files: it is cut before
// each later occurrence of "GGUF" (at most two cuts; further occurrences stay
// in the last chunk). The N chunks are written to a tmpfs directory as
// m-00001-of-0000N.gguf ... (any files of the previous input removed first),
// then OpenGgufSplits opens the first one (and, for coverage, the second one).
//
// Checks, each an abort() with a message on stderr:
//   1. Errors carry a rule id. Strict OK => default OK.
//   2. On success: paths and files line up; a file without split.count > 1
//      gives a set of one; otherwise the set has split.count files, named
//      GgufSplitPath(prefix, i, count), file i saying split.no = i and the
//      same split.count, no tensor name twice across the set, and
//      split.tensors.count (when present) the total; every file of the set is
//      its chunk, parsed as GgufFile::Parse parses it alone.
//   3. GgufSplitPrefix inverts GgufSplitPath.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "fuzz/fuzz_check.h"

namespace {

using ckpt::GgufFile;
using Bytes = absl::Span<const uint8_t>;

const std::string& ScratchDir() {
  static const std::string dir = [] {
    struct stat st;
    std::string base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "";
    if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    char tmpl[4096];
    std::snprintf(tmpl, sizeof tmpl, "%s/ckpt_gguf_split_fuzz_XXXXXX", base.c_str());
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string d = tmpl;
    std::atexit([] {
      for (uint32_t n = 1; n <= 3; ++n) {
        for (uint32_t i = 0; i < n; ++i) unlink(ckpt::GgufSplitPath(d + "/m", i, n).c_str());
      }
      rmdir(d.c_str());
    });
    return d;
  }();
  return dir;
}

void WriteFile(const std::string& path, Bytes b) {
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (fp == nullptr || (!b.empty() && std::fwrite(b.data(), 1, b.size(), fp) != b.size()) || std::fclose(fp) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

void CheckError(const absl::Status& s) {
  CHECK(!s.ok(), "error expected");
  CHECK(!ckpt::ErrorRule(s).empty(), "error without a rule id", s.message());
}

void CheckSet(const ckpt::GgufSplitSet& set, const std::vector<Bytes>& chunks, const std::string& prefix) {
  CHECK(!set.files.empty() && set.paths.size() == set.files.size(), "paths and files do not line up");
  const GgufFile& f0 = *set.files[0];
  const std::optional<int64_t> count = f0.GetInt("split.count");
  if (!count || *count <= 1) {
    CHECK(set.files.size() == 1, "a file that is not split gave a set of several");
  } else {
    CHECK(set.files.size() == static_cast<uint64_t>(*count), "set size is not split.count");
  }
  CHECK(set.files.size() <= chunks.size(), "set has more files than were written");
  std::set<std::string_view> names;
  uint64_t total = 0;
  for (size_t i = 0; i < set.files.size(); ++i) {
    const GgufFile& f = *set.files[i];
    if (set.files.size() > 1) {
      CHECK(set.paths[i] == ckpt::GgufSplitPath(prefix, i, set.files.size()), "split path is not PREFIX-i-of-N");
      CHECK(f.GetInt("split.no") == static_cast<int64_t>(i), "split.no is not the file's position");
      CHECK(f.GetInt("split.count") == count, "split.count differs between files");
    }
    for (const ckpt::GgufTensorInfo& t : f.infos()) {
      CHECK(names.insert(t.name).second, "tensor name appears twice in the set", t.name);
    }
    total += f.size();
    // File i is chunk i (files are only opened from their own paths).
    CHECK(f.file_nbytes() == chunks[i].size(), "split file is not its chunk");
    absl::StatusOr<GgufFile> alone = GgufFile::Parse(chunks[i]);
    CHECK(alone.ok(), "a split file in an accepted set does not parse alone", alone.status().message());
    CHECK(alone->kvs().size() == f.kvs().size() && alone->size() == f.size(),
          "a split file parses differently alone");
  }
  if (set.files.size() > 1) {
    const std::optional<int64_t> declared = f0.GetInt("split.tensors.count");
    CHECK(!declared || *declared == static_cast<int64_t>(total), "split.tensors.count is not the total");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  std::vector<Bytes> chunks;
  size_t start = 0;
  for (size_t at = s.find("GGUF", 1); at != std::string_view::npos && chunks.size() < 2; at = s.find("GGUF", at + 1)) {
    chunks.push_back(Bytes(data + start, at - start));
    start = at;
  }
  chunks.push_back(Bytes(data + start, size - start));
  const uint32_t n = static_cast<uint32_t>(chunks.size());

  const std::string prefix = ScratchDir() + "/m";
  for (uint32_t k = 1; k <= 3; ++k) {
    for (uint32_t i = 0; i < k; ++i) unlink(ckpt::GgufSplitPath(prefix, i, k).c_str());
  }
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < n; ++i) {
    paths.push_back(ckpt::GgufSplitPath(prefix, i, n));
    WriteFile(paths.back(), chunks[i]);
    const std::optional<std::string> p = ckpt::GgufSplitPrefix(paths.back());
    CHECK(p && *p == prefix, "GgufSplitPrefix does not invert GgufSplitPath", paths.back());
  }

  const absl::StatusOr<ckpt::GgufSplitSet> loose = ckpt::OpenGgufSplits(paths[0]);
  ckpt::GgufOptions strict_options;
  strict_options.strict = true;
  const absl::StatusOr<ckpt::GgufSplitSet> strict = ckpt::OpenGgufSplits(paths[0], strict_options);
  if (!loose.ok()) CheckError(loose.status());
  if (!strict.ok()) CheckError(strict.status());
  CHECK(!strict.ok() || loose.ok(), "strict accepts a split set that default mode rejects",
        loose.status().message());
  if (loose.ok()) CheckSet(*loose, chunks, prefix);
  if (strict.ok()) CheckSet(*strict, chunks, prefix);

  if (n > 1) {
    // Opening a later split: either refused (not the first) or a set of one.
    const absl::StatusOr<ckpt::GgufSplitSet> second = ckpt::OpenGgufSplits(paths[1]);
    if (!second.ok()) {
      CheckError(second.status());
    } else {
      CHECK(!second->files.empty(), "empty split set");
    }
  }
  return 0;
}
