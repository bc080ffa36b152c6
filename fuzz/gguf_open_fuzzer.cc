// Protects: GgufFile::Parse never crashes in any mode, strict and
// reference_compatible modes each accept a subset of what default mode
// accepts, an accepted file's records and tensor views lie where the format
// says, every value decodes (ToJson, ForEachElement) inside its own bytes, and
// the writer round-trips every accepted file, in its own byte order and in
// the other one.
//
// Checks, each an abort() with a message on stderr:
//   1. Parse (default, strict, reference_compatible) returns; errors carry a
//      rule id and, when they give an offset, one inside the input. When
//      default mode fails, strict fails with the same error and
//      reference_compatible with the same one or an earlier "ggml refuses
//      this" error (gguf.endian, gguf.version, gguf.value.nested_array).
//   2. strict OK => default OK and reference_compatible OK => default OK,
//      with the very same KVs and tensors. When default accepts and another
//      mode refuses, the rule says why: gguf.strict.* or an extension rule
//      for strict, an extension rule for reference_compatible.
//   3. On success: the KVs follow each other from offset 24 (16 in v1), each
//      key and value inside its record; the tensor infos follow the KVs, each
//      exactly as long as its fields, up to header_end(); data_offset() is
//      header_end() padded to the (power-of-two) alignment; tensor i starts at
//      data_offset() + the sum of the padded sizes before it, lies inside the
//      input, is as large as its type and ne need, its view's shape is ne
//      reversed, and Find / FindKv return it; the ggml type id survives
//      DTypeFromGgmlId / GgmlIdOf.
//   4. ToJson of every value (arrays cut at 64 elements) works and dumps
//      without throwing; ForEachElement visits exactly `count` elements, in
//      order, back to back, each inside its array's [offset, offset + nbytes),
//      nested arrays recursively.
//   5. GgufHeader (KVs copied with the {file, value} variant) + each tensor's
//      bytes padded to the alignment, in the file's own byte order, parses to
//      the same keys, value types, value JSON, tensor names, types, ne,
//      offsets and data bytes; as v3 even when the input is v1. It passes
//      strict / reference_compatible whenever the input did, serialises again
//      to the same bytes, and WriteGguf to a tmpfs file writes those bytes.
//      (5 and 6 only for alignments up to 4 KiB: larger ones only add zeros.)
//   6. WriteGguf in the other byte order succeeds exactly when every tensor
//      type can be byte-swapped (kUnimplemented otherwise); the result parses
//      to the same KV JSON and tensor infos, and its tensor data swapped back
//      with SwapGgmlBlocks is the input's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/checked_math.h"
#include "ckpt/dtype.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "ckpt/tensor.h"
#include "fuzz/fuzz_check.h"

namespace {

using ckpt::GgufFile;
using ckpt::GgufType;
using ckpt::GgufValue;
using Bytes = absl::Span<const uint8_t>;
using Json = nlohmann::ordered_json;

constexpr uint64_t kJsonCap = 64;
constexpr uint64_t kMaxRoundTripAlignment = 4096;

Bytes AsBytes(const std::string& s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

bool IsExtensionRule(std::string_view rule) {
  return rule == "gguf.endian" || rule == "gguf.version" || rule == "gguf.value.nested_array";
}

// Errors must name a rule and, when they give an offset, point inside the input.
void CheckError(const absl::Status& s, uint64_t size) {
  CHECK(!s.ok(), "error expected");
  CHECK(!ckpt::ErrorRule(s).empty(), "error without a rule id", s.message());
  const std::optional<uint64_t> at = ckpt::ErrorOffset(s);
  CHECK(!at || *at <= size, "error offset past the end of the input", s.message());
}

// JSON text of a value; dumping must not throw (invalid UTF-8 is escaped).
std::string JsonText(const GgufFile& f, const GgufValue& v, uint64_t cap) {
  try {
    return f.ToJson(v, cap).dump();
  } catch (const std::exception& e) {
    ckpt_fuzz::Fail("ToJson(...).dump() threw", std::string_view(e.what()));
  }
}

bool SameValueShape(const GgufValue& a, const GgufValue& b) {
  return a.type == b.type && (a.type != GgufType::kArray || (a.elem_type == b.elem_type && a.count == b.count)) &&
         a.nbytes == b.nbytes;
}

bool SameInfo(const ckpt::GgufTensorInfo& a, const ckpt::GgufTensorInfo& b) {
  return a.name == b.name && a.ggml_type == b.ggml_type && a.dtype == b.dtype && a.n_dims == b.n_dims &&
         a.ne == b.ne && a.offset == b.offset && a.nbytes == b.nbytes;
}

bool SameData(const ckpt::TensorView& a, const ckpt::TensorView& b) {
  return a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size()) == 0);
}

// Two parses of the same bytes (different modes) agree on everything.
void CheckSameParse(const GgufFile& a, const GgufFile& b, const char* what) {
  CHECK(a.version() == b.version() && a.big_endian() == b.big_endian() && a.alignment() == b.alignment() &&
            a.header_end() == b.header_end() && a.data_offset() == b.data_offset(),
        what, std::string_view("header fields"));
  CHECK(a.kvs().size() == b.kvs().size(), what, std::string_view("KV count"));
  for (size_t i = 0; i < a.kvs().size(); ++i) {
    const ckpt::GgufKv& x = a.kvs()[i];
    const ckpt::GgufKv& y = b.kvs()[i];
    CHECK(x.key == y.key && x.key_offset == y.key_offset && x.end_offset == y.end_offset &&
              x.value.offset == y.value.offset && SameValueShape(x.value, y.value),
          what, x.key);
  }
  CHECK(a.size() == b.size(), what, std::string_view("tensor count"));
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(SameInfo(a.info(i), b.info(i)) && a.info(i).info_offset == b.info(i).info_offset, what, a.info(i).name);
  }
}

// Property 4 for one array: elements back to back inside the array's bytes.
void CheckElements(const GgufFile& f, const GgufValue& v, int depth) {
  CHECK(depth <= ckpt::kGgufMaxArrayDepth, "ForEachElement nests deeper than the reader allows");
  const uint64_t len_bytes = f.version() == 1 ? 4 : 8;
  const uint64_t begin = v.offset;
  const uint64_t end = v.offset + v.nbytes;
  CHECK(end >= begin && end <= f.file_nbytes(), "array bytes run past the input");
  const uint32_t size = ckpt::GgufTypeSize(v.elem_type);
  uint64_t pos = begin;
  uint64_t n = 0;
  f.ForEachElement(v, [&](const GgufValue& e) {
    CHECK(n < v.count, "ForEachElement visits more than count elements");
    CHECK(e.type == v.elem_type, "element type differs from the array's element type");
    uint64_t header = 0;
    if (size != 0) {
      CHECK(e.nbytes == size, "fixed-size element has the wrong size");
    } else if (e.type == GgufType::kString) {
      header = len_bytes;
    } else {
      CHECK(e.type == GgufType::kArray, "element of unknown kind");
      header = 4 + len_bytes;
    }
    CHECK(e.offset == pos + header, "elements are not back to back");
    CHECK(e.offset >= begin && e.offset <= end && e.nbytes <= end - e.offset,
          "element lies outside its array's [offset, offset + nbytes)");
    if (e.type == GgufType::kString) {
      const std::string_view s = f.ReadString(e);
      CHECK(s.size() == e.nbytes && reinterpret_cast<const uint8_t*>(s.data()) == f.bytes().data() + e.offset,
            "ReadString of an element is not its bytes");
    }
    if (e.type == GgufType::kArray) CheckElements(f, e, depth + 1);
    pos = e.offset + e.nbytes;
    ++n;
    return true;
  });
  CHECK(n == v.count, "ForEachElement visits fewer than count elements");
  CHECK(pos == end, "elements do not end where the array ends");
  // Stopping early stops.
  if (v.count > 1) {
    uint64_t calls = 0;
    f.ForEachElement(v, [&](const GgufValue&) { return ++calls < 1; });
    CHECK(calls == 1, "ForEachElement goes on after fn returned false");
  }
}

// Property 3 and 4.
void CheckLayout(const GgufFile& f, Bytes in) {
  CHECK(f.file_nbytes() == in.size(), "file_nbytes differs from the input size");
  CHECK(f.bytes().data() == in.data(), "Parse copied the input");
  CHECK(f.version() >= 1 && f.version() <= 3, "version outside 1-3");
  const uint64_t a = f.alignment();
  CHECK(a != 0 && (a & (a - 1)) == 0, "alignment is not a power of two");
  const uint64_t len_bytes = f.version() == 1 ? 4 : 8;
  uint64_t pos = 4 + 4 + 2 * len_bytes;
  for (size_t i = 0; i < f.kvs().size(); ++i) {
    const ckpt::GgufKv& kv = f.kvs()[i];
    CHECK(kv.key_offset == pos, "KVs are not back to back", kv.key);
    CHECK(reinterpret_cast<const uint8_t*>(kv.key.data()) == in.data() + pos + len_bytes,
          "key does not point at its bytes", kv.key);
    CHECK(!kv.key.empty() && kv.key.find('\0') == std::string_view::npos, "accepted an empty key or a NUL in a key",
          kv.key);
    const GgufValue& v = kv.value;
    CHECK(static_cast<uint32_t>(v.type) < ckpt::kGgufTypeCount, "value type out of range", kv.key);
    const uint64_t value_start = pos + len_bytes + kv.key.size() + 4;
    const uint64_t header = v.type == GgufType::kString  ? len_bytes
                            : v.type == GgufType::kArray ? 4 + len_bytes
                                                         : 0;
    CHECK(v.offset == value_start + header, "value does not follow its key and type", kv.key);
    CHECK(kv.end_offset == v.offset + v.nbytes && kv.end_offset <= in.size(), "value does not end its record",
          kv.key);
    if (v.type != GgufType::kString && v.type != GgufType::kArray) {
      CHECK(v.nbytes == ckpt::GgufTypeSize(v.type), "scalar has the wrong size", kv.key);
    }
    CHECK(f.FindKv(kv.key) == &kv, "FindKv(key) does not return the KV", kv.key);
    // Decoding.
    const std::string j = JsonText(f, v, kJsonCap);
    CHECK(!j.empty(), "empty JSON", kv.key);
    if (v.type == GgufType::kArray) {
      const Json parsed = f.ToJson(v, kJsonCap);
      CHECK(parsed.is_array() && parsed.size() == std::min(v.count, kJsonCap), "ToJson array has the wrong length",
            kv.key);
      CheckElements(f, v, 1);
    } else if (v.type == GgufType::kString) {
      const std::string_view s = f.ReadString(v);
      CHECK(s.size() == v.nbytes && reinterpret_cast<const uint8_t*>(s.data()) == in.data() + v.offset,
            "ReadString is not the value's bytes", kv.key);
      CHECK(f.GetString(kv.key) == s, "GetString differs from ReadString", kv.key);
    }
    (void)f.GetInt(kv.key);
    pos = kv.end_offset;
  }

  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::GgufTensorInfo& t = f.info(i);
    CHECK(t.info_offset == pos, "tensor infos do not follow the KVs back to back", t.name);
    CHECK(reinterpret_cast<const uint8_t*>(t.name.data()) == in.data() + pos + len_bytes,
          "tensor name does not point at its bytes", t.name);
    CHECK(t.name.size() <= ckpt::kGgufMaxTensorName && t.n_dims <= ckpt::kGgufMaxDims, "name or n_dims over the limit",
          t.name);
    pos += len_bytes + t.name.size() + 4 + uint64_t{t.n_dims} * len_bytes + 4 + 8;
  }
  CHECK(f.header_end() == pos && pos <= in.size(), "header_end() is not the end of the tensor infos");
  const std::optional<uint64_t> data = ckpt::CheckedAlignUp(f.header_end(), a);
  CHECK(data && *data == f.data_offset(), "data_offset() is not header_end() padded to the alignment");
  if (f.size() > 0) CHECK(f.data_offset() <= in.size(), "data section starts past the end");

  uint64_t expect = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::GgufTensorInfo& t = f.info(i);
    const ckpt::TensorView v = f.tensor(i);
    CHECK(t.offset == expect, "tensors are not contiguous with padded offsets", t.name);
    CHECK(v.offset == f.data_offset() + t.offset, "view offset is not data_offset + offset", t.name);
    CHECK(v.offset <= in.size() && v.data.size() <= in.size() - v.offset, "view runs past the end of the input",
          t.name);
    CHECK(v.data.data() == in.data() + v.offset && v.data.size() == t.nbytes, "view data is not its bytes", t.name);
    CHECK(v.name == t.name && v.dtype == t.dtype, "view name/dtype differ from the info", t.name);
    CHECK(v.shape.size() == t.n_dims, "view rank is not n_dims", t.name);
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      CHECK(v.shape[d] == t.ne[t.n_dims - 1 - d], "view shape is not ne reversed", t.name);
    }
    for (uint32_t d = t.n_dims; d < ckpt::kGgufMaxDims; ++d) CHECK(t.ne[d] == 1, "ne past n_dims is not 1", t.name);
    const std::optional<uint64_t> n = ckpt::ElementCount(absl::MakeConstSpan(t.ne.data(), ckpt::kGgufMaxDims));
    CHECK(n.has_value(), "accepted an element count that overflows", t.name);
    const std::optional<uint64_t> need = ckpt::DTypeByteSize(t.dtype, *n);
    CHECK(need && *need == t.nbytes, "tensor size is not what type and ne need", t.name);
    CHECK(ckpt::DTypeFromGgmlId(t.ggml_type) == t.dtype && ckpt::GgmlIdOf(t.dtype) == t.ggml_type,
          "ggml type id does not map back to itself", t.name);
    const std::optional<size_t> found = f.Find(t.name);
    CHECK(found && *found == i, "Find(name) does not return the tensor's index", t.name);
    const std::optional<uint64_t> padded = ckpt::CheckedAlignUp(t.nbytes, a);
    CHECK(padded.has_value(), "padded tensor size overflows", t.name);
    expect = t.offset + *padded;
  }
}

// ---- writing ----------------------------------------------------------------

struct ToWrite {
  std::vector<ckpt::GgufKvToWrite> kvs;
  std::vector<ckpt::GgufTensorToWrite> tensors;
};

ToWrite WriteInputs(const GgufFile& f) {
  ToWrite w;
  w.kvs.reserve(f.kvs().size());
  for (const ckpt::GgufKv& kv : f.kvs()) {
    w.kvs.push_back({std::string(kv.key), std::pair<const GgufFile*, GgufValue>(&f, kv.value)});
  }
  w.tensors.reserve(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::GgufTensorInfo& t = f.info(i);
    ckpt::GgufTensorToWrite x;
    x.name = std::string(t.name);
    x.dtype = x.source_dtype = t.dtype;
    x.ne.assign(t.ne.begin(), t.ne.begin() + t.n_dims);
    x.data = f.tensor(i).data;
    x.source_big_endian = f.big_endian();
    w.tensors.push_back(std::move(x));
  }
  return w;
}

// GgufHeader + each tensor padded to the alignment, in the file's byte order:
// what WriteGguf writes.
std::string Serialize(const GgufFile& f) {
  const ToWrite w = WriteInputs(f);
  ckpt::GgufWriteOptions options;
  options.big_endian = f.big_endian();
  absl::StatusOr<std::string> header = ckpt::GgufHeader(w.kvs, w.tensors, options);
  CHECK(header.ok(), "GgufHeader refused a parsed file", header.status().message());
  std::string out = std::move(*header);
  for (const ckpt::GgufTensorToWrite& t : w.tensors) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    out.append(*ckpt::CheckedAlignUp(t.data.size(), f.alignment()) - t.data.size(), '\0');
  }
  return out;
}

// A scratch directory on tmpfs (fsync is free there), or under TMPDIR.
const std::string& ScratchDir() {
  static const std::string dir = [] {
    struct stat st;
    std::string base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "";
    if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    char tmpl[4096];
    std::snprintf(tmpl, sizeof tmpl, "%s/ckpt_gguf_fuzz_XXXXXX", base.c_str());
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string d = tmpl;
    std::atexit([] {
      unlink((d + "/same.gguf").c_str());
      unlink((d + "/swapped.gguf").c_str());
      rmdir(d.c_str());
    });
    return d;
  }();
  return dir;
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

// The KVs and tensor infos of `g` (written from `f`) are `f`'s.
void CheckSameContent(const GgufFile& f, const GgufFile& g, const char* what) {
  CHECK(g.version() == 3, what, std::string_view("writer did not write version 3"));
  CHECK(g.alignment() == f.alignment(), what, std::string_view("alignment changed"));
  CHECK(g.kvs().size() == f.kvs().size(), what, std::string_view("KV count changed"));
  for (size_t i = 0; i < f.kvs().size(); ++i) {
    const ckpt::GgufKv& x = f.kvs()[i];
    const ckpt::GgufKv& y = g.kvs()[i];
    CHECK(x.key == y.key, what, x.key);
    CHECK(x.value.type == y.value.type, what, x.key);
    if (x.value.type == GgufType::kArray) {
      CHECK(x.value.elem_type == y.value.elem_type && x.value.count == y.value.count, what, x.key);
    }
    // Full JSON: the input is small, so is every array.
    CHECK(JsonText(f, x.value, UINT64_MAX) == JsonText(g, y.value, UINT64_MAX), what, x.key);
  }
  CHECK(g.size() == f.size(), what, std::string_view("tensor count changed"));
  for (size_t i = 0; i < f.size(); ++i) CHECK(SameInfo(f.info(i), g.info(i)), what, f.info(i).name);
}

// Property 5.
void CheckRoundTrip(const GgufFile& f, bool strict_ok, bool reference_ok) {
  const std::string out = Serialize(f);
  absl::StatusOr<GgufFile> g = GgufFile::Parse(AsBytes(out));
  CHECK(g.ok(), "re-serialised file does not parse", g.status().message());
  CHECK(g->big_endian() == f.big_endian(), "round trip changed the byte order");
  CheckLayout(*g, AsBytes(out));
  CheckSameContent(f, *g, "round trip changed the file");
  for (size_t i = 0; i < f.size(); ++i) {
    CHECK(SameData(f.tensor(i), g->tensor(i)), "round trip changed tensor data", f.info(i).name);
  }
  const uint64_t padded_end = g->size() == 0 ? g->data_offset() : g->data_offset() + *ckpt::CheckedAlignUp(
                                                                      g->info(g->size() - 1).offset +
                                                                          g->info(g->size() - 1).nbytes,
                                                                      g->alignment());
  CHECK(padded_end == out.size(), "serialised file has the wrong length");

  ckpt::GgufOptions strict;
  strict.strict = true;
  if (strict_ok) {
    const absl::StatusOr<GgufFile> gs = GgufFile::Parse(AsBytes(out), strict);
    CHECK(gs.ok(), "writer output of a strict-clean file fails strict mode", gs.status().message());
  }
  ckpt::GgufOptions reference;
  reference.reference_compatible = true;
  if (reference_ok) {
    const absl::StatusOr<GgufFile> gr = GgufFile::Parse(AsBytes(out), reference);
    CHECK(gr.ok(), "writer output of a reference-compatible file fails reference_compatible",
          gr.status().message());
  }
  CHECK(Serialize(*g) == out, "re-serialising the writer's output changed its bytes");

  // The real writer (header, data, padding, atomic file) writes the same bytes.
  const ToWrite w = WriteInputs(f);
  ckpt::GgufWriteOptions options;
  options.big_endian = f.big_endian();
  const std::string path = ScratchDir() + "/same.gguf";
  const absl::Status s = ckpt::WriteGguf(path, w.kvs, w.tensors, options);
  CHECK(s.ok(), "WriteGguf refused a parsed file", s.message());
  CHECK(ReadWhole(path) == out, "WriteGguf wrote other bytes than GgufHeader + padded data");
}

// Property 6.
void CheckSwappedRoundTrip(const GgufFile& f) {
  const ToWrite w = WriteInputs(f);
  bool swappable = true;
  for (const ckpt::GgufTensorToWrite& t : w.tensors) swappable &= ckpt::CanSwapGgmlType(t.dtype);
  ckpt::GgufWriteOptions options;
  options.big_endian = !f.big_endian();
  const std::string path = ScratchDir() + "/swapped.gguf";
  const absl::Status s = ckpt::WriteGguf(path, w.kvs, w.tensors, options);
  if (!swappable) {
    CHECK(!s.ok() && s.code() == absl::StatusCode::kUnimplemented,
          "WriteGguf in the other byte order did not refuse a type it cannot swap", s.message());
    return;
  }
  CHECK(s.ok(), "WriteGguf in the other byte order failed", s.message());
  const std::string out = ReadWhole(path);
  absl::StatusOr<GgufFile> g = GgufFile::Parse(AsBytes(out));
  CHECK(g.ok(), "byte-swapped output does not parse", g.status().message());
  CHECK(g->big_endian() == !f.big_endian(), "byte-swapped output has the wrong byte order");
  CheckLayout(*g, AsBytes(out));
  CheckSameContent(f, *g, "byte-swapped round trip changed the file");
  for (size_t i = 0; i < f.size(); ++i) {
    const ckpt::TensorView v = g->tensor(i);
    std::vector<uint8_t> back(v.data.begin(), v.data.end());
    const absl::Status sw = ckpt::SwapGgmlBlocks(v.dtype, absl::MakeSpan(back));
    CHECK(sw.ok(), "SwapGgmlBlocks failed for a type CanSwapGgmlType accepts", sw.message());
    const ckpt::TensorView o = f.tensor(i);
    CHECK(back.size() == o.data.size() && (back.empty() || std::memcmp(back.data(), o.data.data(), back.size()) == 0),
          "byte-swapped round trip changed tensor data", v.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  absl::StatusOr<GgufFile> loose = GgufFile::Parse(in);
  ckpt::GgufOptions strict_options;
  strict_options.strict = true;
  absl::StatusOr<GgufFile> strict = GgufFile::Parse(in, strict_options);
  ckpt::GgufOptions reference_options;
  reference_options.reference_compatible = true;
  absl::StatusOr<GgufFile> reference = GgufFile::Parse(in, reference_options);

  if (!loose.ok()) CheckError(loose.status(), size);
  if (!strict.ok()) CheckError(strict.status(), size);
  if (!reference.ok()) CheckError(reference.status(), size);

  // Property 2.
  CHECK(!strict.ok() || loose.ok(), "strict accepts a file that default mode rejects", loose.status().message());
  CHECK(!reference.ok() || loose.ok(), "reference_compatible accepts a file that default mode rejects",
        loose.status().message());
  if (!loose.ok()) {
    // Property 1: the other modes stop at the same error (or, for
    // reference_compatible, at an earlier "ggml refuses it").
    CHECK(strict.status() == loose.status(), "strict fails differently from default mode",
          strict.status().ToString());
    const std::string rule = ckpt::ErrorRule(reference.status());
    CHECK(reference.status() == loose.status() || IsExtensionRule(rule),
          "reference_compatible fails differently from default mode", reference.status().ToString());
    return 0;
  }
  if (strict.ok()) {
    CheckSameParse(*loose, *strict, "strict and default mode disagree");
  } else {
    const std::string rule = ckpt::ErrorRule(strict.status());
    CHECK(rule.rfind("gguf.strict.", 0) == 0 || IsExtensionRule(rule),
          "strict rejects a default-accepted file with a non-strict rule", strict.status().ToString());
  }
  if (reference.ok()) {
    CheckSameParse(*loose, *reference, "reference_compatible and default mode disagree");
  } else {
    CHECK(IsExtensionRule(ckpt::ErrorRule(reference.status())),
          "reference_compatible rejects a default-accepted file for another reason", reference.status().ToString());
  }
  CheckLayout(*loose, in);
  // The writer pads the header and every tensor to the alignment, which the
  // file may set to 2^31: past 4 KiB the round trips only write more zeros
  // (and would make each run slow or hit the fuzzer's memory limit).
  if (loose->alignment() > kMaxRoundTripAlignment) return 0;
  CheckRoundTrip(*loose, strict.ok(), reference.ok());
  CheckSwappedRoundTrip(*loose);
  return 0;
}
