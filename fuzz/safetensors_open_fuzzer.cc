// Protects: SafetensorsFile::Parse never crashes, strict mode rejects a
// superset of what default mode rejects, an accepted file's tensor views tile
// [data_offset, size) exactly, and the writer round-trips every accepted file
// (same tensors, dtypes, shapes, bytes and metadata) to a canonical fixed point.
//
// Checks, each an abort() with a message on stderr:
//   1. Parse (default and strict) returns; errors carry a rule id and, when
//      they give an offset, one inside the input.
//   2. strict OK  =>  default OK, with the very same tensors.
//   3. On success: tensor views lie inside the input, are in ascending offset
//      order, start at data_offset(), follow each other without holes or
//      overlaps and end at the end of the input; each view's size is what its
//      dtype and shape need; Find(name) returns the view's index.
//   4. Re-serialising (SortForSafetensors + SafetensorsHeader + the data, in
//      memory) gives a file that parses to the same tensors and metadata
//      (metadata sorted by key, as WriteSafetensors does), passes strict mode
//      unless a name or metadata key holds a NUL, and re-serialises to the
//      same bytes. WriteSafetensors to a tmpfs file produces those bytes too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "fuzz/fuzz_check.h"
#include "ckpt/tensor.h"

namespace {

using ckpt::SafetensorsFile;
using Bytes = absl::Span<const uint8_t>;

using ckpt_fuzz::Fail;

// Errors must name a rule and, when they give an offset, point inside the input.
void CheckError(const absl::Status& s, uint64_t size) {
  CHECK(!s.ok(), "error expected");
  CHECK(!ckpt::ErrorRule(s).empty(), "error without a rule id", s.message());
  const std::optional<uint64_t> at = ckpt::ErrorOffset(s);
  CHECK(!at || *at <= size, "error offset past the end of the input", s.message());
}

bool SameView(const ckpt::TensorView& a, const ckpt::TensorView& b) {
  return a.name == b.name && a.dtype == b.dtype &&
         std::equal(a.shape.begin(), a.shape.end(), b.shape.begin(), b.shape.end()) &&
         a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size()) == 0);
}

// Property 3: the views tile the data section of `in` exactly.
void CheckLayout(const SafetensorsFile& f, Bytes in) {
  CHECK(f.file_nbytes() == in.size(), "file_nbytes differs from the input size");
  CHECK(f.bytes().data() == in.data(), "Parse copied the input");
  CHECK(f.data_offset() == 8 + f.header_nbytes(), "data_offset != 8 + header_nbytes");
  CHECK(f.data_offset() <= in.size(), "data section starts past the end");
  uint64_t expect = f.data_offset();
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::TensorView v = f.tensor(i);
    CHECK(v.offset == expect, "views are not contiguous in offset order", v.name);
    CHECK(v.data.size() <= in.size() - v.offset, "view runs past the end of the input", v.name);
    CHECK(v.data.data() == in.data() + v.offset, "view data does not point at its offset", v.name);
    const std::optional<uint64_t> n = ckpt::CheckedProduct(v.shape);
    CHECK(n.has_value(), "accepted a shape whose element count overflows", v.name);
    const std::optional<uint64_t> need = ckpt::DTypeByteSize(v.dtype, *n);
    CHECK(need && *need == v.nbytes(), "view size is not what dtype and shape need", v.name);
    const std::optional<size_t> found = f.Find(v.name);
    CHECK(found && *found == i, "Find(name) does not return the view's index", v.name);
    expect += v.nbytes();
  }
  CHECK(expect == in.size(), "views do not cover the data section up to the end of the input");
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// SortForSafetensors + SafetensorsHeader + data: what WriteSafetensors writes.
std::string Serialize(const SafetensorsFile& f) {
  std::vector<ckpt::TensorToWrite> tensors;
  tensors.reserve(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::TensorView v = f.tensor(i);
    ckpt::TensorToWrite t;
    t.name = std::string(v.name);
    t.dtype = v.dtype;
    t.source_dtype = v.dtype;
    t.shape.assign(v.shape.begin(), v.shape.end());
    t.data = v.data;
    tensors.push_back(std::move(t));
  }
  ckpt::SortForSafetensors(tensors);
  ckpt::SafetensorsMetadata md = f.metadata();
  if (md) std::sort(md->begin(), md->end());
  absl::StatusOr<std::string> header = ckpt::SafetensorsHeader(tensors, md);
  CHECK(header.ok(), "SafetensorsHeader refused a parsed file", header.status().message());
  std::string out(8, '\0');
  const uint64_t n = header->size();
  std::memcpy(out.data(), &n, 8);  // little-endian host, as the library assumes
  out += *header;
  for (const ckpt::TensorToWrite& t : tensors) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  }
  return out;
}

Bytes AsBytes(const std::string& s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// A scratch file on tmpfs (fsync is free there), or under TMPDIR.
const std::string& ScratchPath() {
  static const std::string path = [] {
    struct stat st;
    std::string dir = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "";
    if (dir.empty()) dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    char tmpl[4096];
    std::snprintf(tmpl, sizeof tmpl, "%s/ckpt_open_fuzz_XXXXXX", dir.c_str());
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string d = tmpl;
    std::atexit([] {
      unlink((d + "/out.safetensors").c_str());
      rmdir(d.c_str());
    });
    return d + "/out.safetensors";
  }();
  return path;
}

std::string ReadWhole(const std::string& path) {
  std::string s;
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (fp == nullptr) return s;
  char buf[65536];
  size_t k;
  while ((k = std::fread(buf, 1, sizeof buf, fp)) > 0) s.append(buf, k);
  std::fclose(fp);
  return s;
}

// Property 4.
void CheckRoundTrip(const SafetensorsFile& f) {
  const std::string out = Serialize(f);
  absl::StatusOr<SafetensorsFile> g = SafetensorsFile::Parse(AsBytes(out));
  CHECK(g.ok(), "re-serialised file does not parse", g.status().message());
  CheckLayout(*g, AsBytes(out));
  CHECK(g->size() == f.size(), "round trip changed the tensor count");
  bool nul = false;
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::TensorView a = f.tensor(i);
    nul |= HasNul(a.name);
    const std::optional<size_t> j = g->Find(a.name);
    CHECK(j.has_value(), "round trip lost a tensor", a.name);
    CHECK(SameView(a, g->tensor(*j)), "round trip changed a tensor", a.name);
  }
  ckpt::SafetensorsMetadata md = f.metadata();
  if (md) {
    std::sort(md->begin(), md->end());
    for (const auto& [k, v] : *md) nul |= HasNul(k);
  }
  CHECK(g->metadata() == md, "round trip changed the metadata");
  CHECK(g->data_offset() % 8 == 0, "writer did not align the data section to 8");

  ckpt::SafetensorsOptions strict;
  strict.strict = true;
  absl::StatusOr<SafetensorsFile> gs = SafetensorsFile::Parse(AsBytes(out), strict);
  if (!nul) CHECK(gs.ok(), "canonical output is rejected by strict mode", gs.status().message());

  CHECK(Serialize(*g) == out, "re-serialising the canonical output changed its bytes");

  // The real writer (sort, header, atomic file, fsync) must write the same bytes.
  std::vector<ckpt::TensorToWrite> tensors;
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::TensorView v = f.tensor(i);
    tensors.push_back({std::string(v.name), v.dtype, {v.shape.begin(), v.shape.end()}, v.data, v.dtype});
  }
  const std::string& path = ScratchPath();
  const absl::Status w = ckpt::WriteSafetensors(path, std::move(tensors), f.metadata());
  CHECK(w.ok(), "WriteSafetensors refused a parsed file", w.message());
  CHECK(ReadWhole(path) == out, "WriteSafetensors wrote other bytes than SafetensorsHeader + data");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  absl::StatusOr<SafetensorsFile> loose = SafetensorsFile::Parse(in);
  ckpt::SafetensorsOptions strict_options;
  strict_options.strict = true;
  absl::StatusOr<SafetensorsFile> strict = SafetensorsFile::Parse(in, strict_options);

  if (!loose.ok()) CheckError(loose.status(), size);
  if (!strict.ok()) CheckError(strict.status(), size);
  // Property 2.
  CHECK(!strict.ok() || loose.ok(), "strict accepts a file that default mode rejects",
        loose.status().message());
  if (!loose.ok()) return 0;
  if (strict.ok()) {
    CHECK(strict->size() == loose->size(), "strict and default disagree on the tensor count");
    for (size_t i = 0; i < loose->size(); ++i) {
      CHECK(SameView(strict->tensor(i), loose->tensor(i)), "strict and default disagree on a tensor");
    }
    CHECK(strict->metadata() == loose->metadata(), "strict and default disagree on the metadata");
  }
  CheckLayout(*loose, in);
  CheckRoundTrip(*loose);
  return 0;
}
