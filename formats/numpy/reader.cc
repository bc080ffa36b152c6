// NumPy .npy / .npz reader: see include/ckpt/numpy.h.
#include "ckpt/numpy.h"

#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "ckpt/checked_math.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "ckpt/zip.h"
#include "lib/str_util.h"
#include "lib/strided.h"

namespace ckpt {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// A tiny parser for the header's Python literal: a dict whose keys are str
// and whose values are str, True/False or a tuple of non-negative ints.
class LiteralParser {
 public:
  LiteralParser(std::string_view s, uint64_t base) : s_(s), base_(base) {}

  absl::Status Parse(NpyHeader* h) {
    bool have_descr = false, have_order = false, have_shape = false;
    Skip();
    if (!Eat('{')) return Fail("the header is not a dict literal");
    Skip();
    while (!Peek('}')) {
      std::string key;
      CKPT_RETURN_IF_ERROR(String(&key));
      Skip();
      if (!Eat(':')) return Fail("expected ':' after a key");
      Skip();
      if (key == "descr") {
        if (!Peek('\'') && !Peek('"')) {
          return Error("numpy.dtype.unsupported", "a structured dtype (descr is not a string)")
              .At(base_ + i_).Code(absl::StatusCode::kUnimplemented);
        }
        CKPT_RETURN_IF_ERROR(String(&h->descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (Word("True")) {
          h->fortran_order = true;
        } else if (!Word("False")) {
          return Fail("fortran_order is not True or False");
        }
        have_order = true;
      } else if (key == "shape") {
        CKPT_RETURN_IF_ERROR(Shape(&h->shape));
        have_shape = true;
      } else {
        return Fail(StrCat("unexpected key '", EscapeForDisplay(key), "'"));
      }
      Skip();
      if (!Eat(',')) break;
      Skip();
    }
    Skip();
    if (!Eat('}')) return Fail("the dict literal is not closed");
    Skip();
    if (i_ != s_.size()) return Fail("text after the dict literal");
    if (!have_descr || !have_order || !have_shape) {
      return Fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Fail(std::string what) const { return Error("numpy.header", std::move(what)).At(base_ + i_); }
  void Skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }
  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  absl::Status String(std::string* out) {
    if (!Peek('\'') && !Peek('"')) return Fail("expected a quoted string");
    const char q = s_[i_++];
    size_t end = s_.find(q, i_);
    if (end == std::string_view::npos) return Fail("unterminated string");
    std::string_view body = s_.substr(i_, end - i_);
    if (body.find('\\') != std::string_view::npos) return Fail("escapes in header strings are not supported");
    *out = std::string(body);
    i_ = end + 1;
    return absl::OkStatus();
  }
  absl::Status Shape(std::vector<uint64_t>* shape) {
    if (!Eat('(')) return Fail("shape is not a tuple");
    Skip();
    while (!Peek(')')) {
      if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') return Fail("a shape entry is not a non-negative integer");
      uint64_t v = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        std::optional<uint64_t> m = CheckedMul(v, 10);
        std::optional<uint64_t> a = m ? CheckedAdd(*m, s_[i_] - '0') : std::nullopt;
        if (!a) return Fail("a shape entry overflows 64 bits");
        v = *a;
        ++i_;
      }
      if (Peek('L')) ++i_;  // Python 2 longs
      shape->push_back(v);
      if (shape->size() > 64) return Fail("more than 64 dimensions");
      Skip();
      if (!Eat(',')) break;
      Skip();
    }
    if (!Eat(')')) return Fail("shape tuple not closed");
    return absl::OkStatus();
  }

  std::string_view s_;
  uint64_t base_;
  size_t i_ = 0;
};

}  // namespace

bool IsObjectDescr(std::string_view d) {
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) d.remove_prefix(1);
  // numpy reads 'O', 'O8', 'object', 'object0', 'object_' ... as object.
  return !d.empty() && (d[0] == 'O' || absl::StartsWith(AbslView(d), "object"));
}

namespace {

// descr → DType and byte order. '|' and '=' mean native/irrelevant (little).
absl::Status ParseDescr(const std::string& descr, uint64_t at, DType* dtype, bool* big_endian) {
  if (IsObjectDescr(descr)) {
    return Error("numpy.object_array", "an object array: its body is a pickle, which ckpt does not run "
                                       "(`ckpt scan` inspects it)")
        .At(at).Code(absl::StatusCode::kUnimplemented);
  }
  if (descr.size() < 2) return Error("numpy.header", StrCat("bad descr '", descr, "'")).At(at);
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    return Error("numpy.header", StrCat("descr '", EscapeForDisplay(descr), "' has no byte-order mark")).At(at);
  }
  const std::string_view code = std::string_view(descr).substr(1);
  if (code[0] == 'O') {
    return Error("numpy.object_array", "an object array: its body is a pickle, which ckpt does not run "
                                       "(`ckpt scan` inspects it)")
        .At(at).Code(absl::StatusCode::kUnimplemented);
  }
  static constexpr std::pair<std::string_view, DType> kCodes[] = {
      {"f2", DType::kF16}, {"f4", DType::kF32}, {"f8", DType::kF64}, {"i1", DType::kI8},
      {"i2", DType::kI16}, {"i4", DType::kI32}, {"i8", DType::kI64}, {"u1", DType::kU8},
      {"u2", DType::kU16}, {"u4", DType::kU32}, {"u8", DType::kU64}, {"b1", DType::kBool},
      {"c8", DType::kC64},
  };
  for (const auto& [c, t] : kCodes) {
    if (c == code) {
      *dtype = t;
      *big_endian = order == '>' && GetDTypeInfo(t).block_bytes > 1;
      return absl::OkStatus();
    }
  }
  return Error("numpy.dtype.unsupported", StrCat("dtype '", EscapeForDisplay(descr), "' has no ckpt type"))
      .At(at).Code(absl::StatusCode::kUnimplemented);
}

// One .npy stream (a whole file or an npz member) → array.
absl::Status ReadNpy(absl::Span<const uint8_t> bytes, uint64_t base, std::string name, NpyArray* out,
                     std::vector<std::string>* warnings) {
  CKPT_ASSIGN_OR_RETURN(NpyHeader h, ParseNpyHeader(bytes, base));
  out->name = std::move(name);
  CKPT_RETURN_IF_ERROR(ParseDescr(h.descr, base + 10, &out->dtype, &out->big_endian));
  out->shape = h.shape;
  out->fortran_order = h.fortran_order;
  std::optional<uint64_t> count = ElementCount(h.shape);
  std::optional<uint64_t> nbytes = count ? DTypeByteSize(out->dtype, *count) : std::nullopt;
  const uint64_t avail = bytes.size() - h.data_offset;
  if (!nbytes || *nbytes > avail) {
    return Error("numpy.data", StrCat("shape needs ", nbytes ? StrCat(*nbytes) : std::string("more than 2^64"),
                                      " bytes but ", avail, " follow the header"))
        .At(base + h.data_offset).Tensor(out->name);
  }
  if (*nbytes < avail) {
    warnings->push_back(StrCat(out->name.empty() ? std::string("") : StrCat("'", out->name, "': "),
                               avail - *nbytes, " bytes after the array data are ignored"));
  }
  out->offset = base + h.data_offset;
  out->data = bytes.subspan(h.data_offset, *nbytes);
  return absl::OkStatus();
}

}  // namespace

bool LooksLikeNpy(absl::Span<const uint8_t> head) {
  return head.size() >= 6 && std::memcmp(head.data(), kMagic, 6) == 0;
}

absl::StatusOr<NpyHeader> ParseNpyHeader(absl::Span<const uint8_t> b, uint64_t base) {
  if (!LooksLikeNpy(b)) return Error("numpy.magic", "no \\x93NUMPY magic").At(base);
  if (b.size() < 10) return Error("numpy.header", "the file ends inside the preamble").At(base);
  NpyHeader h;
  h.major = b[6];
  uint64_t len, start;
  if (h.major == 1) {
    len = b[8] | (b[9] << 8);
    start = 10;
  } else if (h.major == 2 || h.major == 3) {
    if (b.size() < 12) return Error("numpy.header", "the file ends inside the preamble").At(base);
    len = static_cast<uint64_t>(b[8]) | (static_cast<uint64_t>(b[9]) << 8) | (static_cast<uint64_t>(b[10]) << 16) |
          (static_cast<uint64_t>(b[11]) << 24);
    start = 12;
  } else {
    return Error("numpy.version", StrCat("format version ", h.major, ".", b[7], " (1.0, 2.0 and 3.0 are read)"))
        .At(base + 6);
  }
  if (len > b.size() - start) {
    return Error("numpy.header", StrCat("header length ", len, " runs past the end of the data")).At(base + 8);
  }
  std::string_view text(reinterpret_cast<const char*>(b.data() + start), len);
  if (h.major < 3 && FirstInvalidUtf8(text) != std::string_view::npos) {
    // v1/v2 headers are latin-1; anything non-ASCII is suspicious anyway.
  }
  CKPT_RETURN_IF_ERROR(LiteralParser(text, base + start).Parse(&h));
  h.data_offset = start + len;
  return h;
}

absl::StatusOr<NumpyFile> NumpyFile::Open(MappedFile file) {
  NumpyFile f;
  f.file_ = std::move(file);
  const std::string path = f.file_.path();
  absl::Span<const uint8_t> b = f.file_.bytes();
  if (LooksLikeNpy(b)) {
    f.container_ = "npy";
    NpyArray a;
    CKPT_RETURN_IF_ERROR(WithFile(ReadNpy(b, 0, "", &a, &f.warnings_), path));
    f.arrays_.push_back(std::move(a));
    return f;
  }
  f.container_ = "npz";
  absl::StatusOr<ZipArchive> zip = ZipArchive::Open(b);
  if (!zip.ok()) return WithFile(zip.status(), path);
  if (!zip->issues().empty()) {
    const ZipIssue& i = zip->issues()[0];
    return Error("numpy.zip", StrCat(i.message, " [", i.rule, "]")).At(i.offset).File(path);
  }
  absl::flat_hash_set<std::string> names;
  for (size_t e = 0; e < zip->entries().size(); ++e) {
    const ZipEntry& entry = zip->entries()[e];
    if (entry.is_directory()) continue;
    if (!absl::EndsWith(AbslView(entry.name), ".npy")) {
      f.warnings_.push_back(StrCat("member '", EscapeForDisplay(entry.name), "' is not an .npy array; ignored"));
      continue;
    }
    std::vector<uint8_t> inflated;
    absl::StatusOr<absl::Span<const uint8_t>> content = zip->Read(static_cast<int>(e), &inflated);
    if (!content.ok()) return WithFile(content.status(), path);
    uint64_t base = entry.data_offset;
    if (!entry.is_stored()) {
      f.owned_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(inflated)));
      content = absl::MakeConstSpan(*f.owned_.back());
      base = 0;  // offsets inside inflated data are not file offsets
    }
    NpyArray a;
    std::string name(entry.name.substr(0, entry.name.size() - 4));
    absl::Status s = ReadNpy(*content, base, name, &a, &f.warnings_);
    if (!s.ok()) return WithFile(Annotate(s, StrCat("member '", EscapeForDisplay(entry.name), "': ")), path);
    if (!entry.is_stored()) a.offset = entry.data_offset;
    if (!names.insert(name).second) {
      return Error("numpy.name.duplicate", "two members have this name").Tensor(name).File(path);
    }
    f.arrays_.push_back(std::move(a));
  }
  return f;
}

bool NumpyFile::IsZeroCopy(size_t i) const {
  const NpyArray& a = arrays_[i];
  if (a.big_endian) return false;
  if (!a.fortran_order) return true;
  // Fortran order equals C order when at most one dimension exceeds 1.
  int big = 0;
  for (uint64_t d : a.shape) big += d > 1;
  return big <= 1;
}

absl::Span<const uint8_t> NumpyFile::TensorBytes(size_t i, std::vector<uint8_t>* scratch) const {
  const NpyArray& a = arrays_[i];
  if (IsZeroCopy(i)) return a.data;
  const uint32_t elsize = GetDTypeInfo(a.dtype).block_bytes;
  const uint32_t swap = !a.big_endian ? 0 : a.dtype == DType::kC64 ? 4 : elsize;
  scratch->resize(a.data.size());
  // Fortran order is C order over the reversed dimensions: gather with
  // strides stride[d] = prod(shape[0..d-1]).
  std::vector<uint64_t> stride(a.shape.size(), 1);
  if (a.fortran_order) {
    for (size_t d = 1; d < a.shape.size(); ++d) stride[d] = stride[d - 1] * a.shape[d - 1];
  } else {
    for (size_t d = a.shape.size(); d-- > 1;) stride[d - 1] = stride[d] * a.shape[d];
  }
  GatherStrided(a.data.data(), 0, a.shape, stride, elsize, swap, scratch->data());
  return *scratch;
}

}  // namespace ckpt
