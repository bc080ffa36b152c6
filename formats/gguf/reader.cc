// GGUF reader: one pass over the header, every field bounds-checked.
//
// Check order follows ggml's gguf_init_from_reader (docs/formats/gguf.md) so
// default mode accepts what it accepts, then adds what it misses. Nothing is
// allocated in proportion to a declared count before the bytes it implies
// have been seen in the file.
#include <bit>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ckpt/checked_math.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "formats/gguf/known_keys.h"
#include "lib/hazard_log.h"
#include "lib/str_util.h"

namespace ckpt {

static_assert(std::endian::native == std::endian::little, "ckpt assumes a little-endian host");

namespace {

// Smallest encodings, used to bound counts by the bytes left (v2/v3; v1
// halves the length fields, see MinKvBytes()).
constexpr uint64_t kMaxAlignmentHazard = 1 << 20;

std::string Shown(std::string_view s) { return EscapeForDisplay(s); }

bool IsSpecKeySyntax(std::string_view key) {
  // ASCII, dot-separated lower_snake_case segments.
  bool segment_empty = true;
  for (const char c : key) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

}  // namespace

class GgufParser {
 public:
  GgufParser(absl::Span<const uint8_t> bytes, GgufOptions options, GgufFile* out)
      : b_(bytes), options_(options), out_(out), hazards_(&out->warnings_) {}

  absl::Status Parse();

 private:
  // ---- primitive reads: each checks the bytes left first. `what` names
  // the field in the error; its parts are joined only when there is one
  // (this runs once per string of a 256k-token vocabulary).
  template <typename... What>
  absl::Status Need(uint64_t n, const What&... what) const {
    if (n <= b_.size() - pos_) [[likely]] return absl::OkStatus();
    return Error("gguf.truncated", StrCat("the file ends inside ", what..., " (", n, " bytes needed, ",
                                          b_.size() - pos_, " left)"))
        .At(pos_);
  }
  uint32_t U32At(uint64_t at) const {
    uint32_t v;
    std::memcpy(&v, b_.data() + at, 4);
    return out_->big_endian_ ? __builtin_bswap32(v) : v;
  }
  uint64_t U64At(uint64_t at) const {
    uint64_t v;
    std::memcpy(&v, b_.data() + at, 8);
    return out_->big_endian_ ? __builtin_bswap64(v) : v;
  }
  template <typename... What>
  absl::StatusOr<uint32_t> ReadU32(const What&... what) {
    CKPT_RETURN_IF_ERROR(Need(4, what...));
    pos_ += 4;
    return U32At(pos_ - 4);
  }
  template <typename... What>
  absl::StatusOr<uint64_t> ReadU64(const What&... what) {
    CKPT_RETURN_IF_ERROR(Need(8, what...));
    pos_ += 8;
    return U64At(pos_ - 8);
  }
  // Counts, lengths and dims: u64, or u32 in version 1.
  template <typename... What>
  absl::StatusOr<uint64_t> ReadCount(const What&... what) {
    if (len_bytes_ == 4) return ReadU32(what...);
    return ReadU64(what...);
  }
  // A string: returns its text; `what` names it in errors.
  template <typename... What>
  absl::StatusOr<std::string_view> ReadString(const What&... what) {
    const uint64_t at = pos_;
    CKPT_ASSIGN_OR_RETURN(const uint64_t n, ReadCount("the length of ", what...));
    if (n > kGgufMaxStringBytes) [[unlikely]] {
      return Error("gguf.string.too_long", StrCat(what..., " is ", n, " bytes long; the limit is 2^30")).At(at);
    }
    CKPT_RETURN_IF_ERROR(Need(n, what...));
    const std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  absl::Status ParseHeader();
  absl::Status ParseKvs(uint64_t n_kv);
  absl::Status ParseValue(GgufType type, int depth, std::string_view key, GgufValue* v);
  absl::Status ParseArrayBody(int depth, std::string_view key, GgufValue* v);
  absl::StatusOr<GgufType> ReadType(std::string_view key, bool element);
  absl::Status CheckAlignment();
  absl::Status ParseTensorInfos(uint64_t n_tensors);
  absl::Status CheckTensorInfo(GgufTensorInfo& t, uint64_t type_at);
  absl::Status CheckLayout();

  void Hazard(ErrorBuilder b) { hazards_.Record(b); }
  // Something ggml refuses that ckpt reads: an error when asked to match
  // ggml, otherwise a strict-mode hazard.
  absl::Status Extension(ErrorBuilder b) {
    if (options_.reference_compatible) return b;
    Hazard(std::move(b));
    return absl::OkStatus();
  }

  absl::Span<const uint8_t> b_;
  GgufOptions options_;
  GgufFile* out_;
  HazardLog hazards_;
  uint64_t pos_ = 0;
  uint64_t len_bytes_ = 8;
  bool warned_nested_ = false;
  size_t n_bool_hazards_ = 0;
  size_t n_utf8_hazards_ = 0;

 public:
  const HazardLog& hazards() const { return hazards_; }
};

absl::Status GgufParser::Parse() {
  CKPT_RETURN_IF_ERROR(ParseHeader());
  // ParseHeader left n_tensors / n_kv in place.
  return absl::OkStatus();
}

absl::Status GgufParser::ParseHeader() {
  if (b_.size() < 4 || std::memcmp(b_.data(), "GGUF", 4) != 0) {
    return Error("gguf.magic", "the file does not start with \"GGUF\"").At(0);
  }
  pos_ = 4;
  CKPT_ASSIGN_OR_RETURN(uint32_t version, ReadU32("the version"));
  if (version != 0 && (version & 0xFFFF) == 0) {
    // The low half is zero: a file from a big-endian machine.
    out_->big_endian_ = true;
    version = __builtin_bswap32(version);
  }
  if (version == 0 || version > 3) {
    return Error("gguf.version", StrCat("version ", version, " is not 1, 2 or 3")).At(4);
  }
  out_->version_ = version;
  if (version == 1) len_bytes_ = 4;
  if (out_->big_endian_) {
    CKPT_RETURN_IF_ERROR(Extension(Error("gguf.endian", "big-endian file: ggml refuses it on little-endian "
                                                         "machines (`ckpt edit --endian little` converts it)")
                                       .At(4)));
  }
  if (version == 1) {
    CKPT_RETURN_IF_ERROR(Extension(
        Error("gguf.version", "GGUF version 1 (32-bit counts): current ggml refuses it").At(4)));
  }

  const uint64_t counts_at = pos_;
  CKPT_ASSIGN_OR_RETURN(const uint64_t n_tensors, ReadCount("the tensor count"));
  CKPT_ASSIGN_OR_RETURN(const uint64_t n_kv, ReadCount("the KV count"));
  // ggml reads both as int64 and rejects negatives; then each record is at
  // least (key/name length + type/dims + ...) bytes, so bound by what is left
  // before anything is reserved.
  const uint64_t min_kv = len_bytes_ + 1 + 4 + 1;
  const uint64_t min_tensor = len_bytes_ + 4 + 4 + 8;
  const uint64_t left = b_.size() - pos_;
  if (n_tensors > INT64_MAX || n_tensors > left / min_tensor) {
    return Error("gguf.count", StrCat("tensor count ", n_tensors, " cannot fit in the ", left,
                                      " bytes left (each tensor info takes at least ", min_tensor, ")"))
        .At(counts_at);
  }
  if (n_kv > INT64_MAX || n_kv > left / min_kv) {
    return Error("gguf.count", StrCat("KV count ", n_kv, " cannot fit in the ", left,
                                      " bytes left (each KV takes at least ", min_kv, ")"))
        .At(counts_at + len_bytes_);
  }
  CKPT_RETURN_IF_ERROR(ParseKvs(n_kv));
  CKPT_RETURN_IF_ERROR(CheckAlignment());
  CKPT_RETURN_IF_ERROR(ParseTensorInfos(n_tensors));
  CKPT_RETURN_IF_ERROR(CheckLayout());
  return CheckKnownKeys(*out_, [this](ErrorBuilder b) { Hazard(std::move(b)); });
}

absl::StatusOr<GgufType> GgufParser::ReadType(std::string_view key, bool element) {
  const uint64_t at = pos_;
  CKPT_ASSIGN_OR_RETURN(const uint32_t t, ReadU32(element ? "an array's element type" : "a value type"));
  if (t >= kGgufTypeCount) {
    return Error("gguf.value.type", StrCat("value type ", t, " is not a GGUF type (0-12)")).At(at).Key(key);
  }
  return static_cast<GgufType>(t);
}

absl::Status GgufParser::ParseKvs(uint64_t n_kv) {
  out_->kvs_.reserve(n_kv);  // bounded by the file size above
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t key_at = pos_;
    CKPT_ASSIGN_OR_RETURN(const std::string_view key, ReadString("the key of KV ", i));
    if (key.empty()) return Error("gguf.key.empty", StrCat("KV ", i, " has an empty key")).At(key_at);
    if (!out_->kv_index_.emplace(AbslView(key), static_cast<uint32_t>(i)).second) {
      return Error("gguf.key.duplicate", "key appears twice").At(key_at).Key(key);
    }
    if (key.find('\0') != std::string_view::npos) {
      // ggml looks keys up as C strings, so it sees the text before the NUL
      // (e.g. "general.alignment\0x" sets the alignment for ggml, not for
      // gguf-py): two parsers disagree about this file.
      return Error("gguf.key.nul", StrCat("key contains a NUL byte; ggml would read it as '",
                                          Shown(key.substr(0, key.find('\0'))), "'"))
          .At(key_at)
          .Key(key);
    }
    if (!IsSpecKeySyntax(key)) {
      Hazard(Error("gguf.strict.key_syntax", "key is not dot-separated lower_snake_case ASCII").At(key_at).Key(key));
    }
    CKPT_ASSIGN_OR_RETURN(const GgufType type, ReadType(key, false));
    GgufValue v;
    CKPT_RETURN_IF_ERROR(ParseValue(type, 0, key, &v));
    out_->kvs_.push_back(GgufKv{key, key_at, pos_, v});
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ParseValue(GgufType type, int depth, std::string_view key, GgufValue* v) {
  v->type = type;
  if (type == GgufType::kArray) return ParseArrayBody(depth, key, v);
  if (type == GgufType::kString) {
    const uint64_t at = pos_;
    CKPT_ASSIGN_OR_RETURN(const std::string_view s, ReadString("a string value"));
    v->offset = pos_ - s.size();
    v->nbytes = s.size();
    if (n_utf8_hazards_ < 1 && !IsValidUtf8(s)) {
      ++n_utf8_hazards_;  // one report per file is enough
      Hazard(Error("gguf.strict.string_utf8", "string value is not valid UTF-8").At(at).Key(key));
    }
    return absl::OkStatus();
  }
  const uint32_t size = GgufTypeSize(type);
  CKPT_RETURN_IF_ERROR(Need(size, "a ", GgufTypeName(type), " value"));
  v->offset = pos_;
  v->nbytes = size;
  if (type == GgufType::kBool && b_[pos_] > 1 && n_bool_hazards_++ < 1) {
    Hazard(Error("gguf.strict.bool", StrCat("bool byte is ", b_[pos_], ", not 0 or 1")).At(pos_).Key(key));
  }
  pos_ += size;
  return absl::OkStatus();
}

absl::Status GgufParser::ParseArrayBody(int depth, std::string_view key, GgufValue* v) {
  const uint64_t at = pos_;
  CKPT_ASSIGN_OR_RETURN(const GgufType elem, ReadType(key, true));
  if (elem == GgufType::kArray) {
    if (depth + 1 >= kGgufMaxArrayDepth) {
      return Error("gguf.value.depth", StrCat("arrays nested more than ", kGgufMaxArrayDepth, " deep"))
          .At(at)
          .Key(key);
    }
    if (!warned_nested_) {
      warned_nested_ = true;
      CKPT_RETURN_IF_ERROR(Extension(
          Error("gguf.value.nested_array", "array of arrays: ggml refuses it (gguf-py writes and reads it)")
              .At(at)
              .Key(key)));
    }
  }
  const uint64_t count_at = pos_;
  CKPT_ASSIGN_OR_RETURN(const uint64_t n, ReadCount("an array length"));
  if (n > kGgufMaxArrayElements) {
    return Error("gguf.array.too_long", StrCat("array of ", n, " elements; the limit is 2^30"))
        .At(count_at)
        .Key(key);
  }
  v->elem_type = elem;
  v->count = n;
  v->offset = pos_;
  const uint32_t size = GgufTypeSize(elem);
  if (size != 0) {
    // n ≤ 2^30 and size ≤ 8: no overflow.
    CKPT_RETURN_IF_ERROR(Need(n * size, "an array of ", n, " ", GgufTypeName(elem)));
    if (elem == GgufType::kBool && n_bool_hazards_ < 1) {
      for (uint64_t i = 0; i < n; ++i) {
        if (b_[pos_ + i] > 1) {
          ++n_bool_hazards_;
          Hazard(Error("gguf.strict.bool", StrCat("bool byte is ", b_[pos_ + i], ", not 0 or 1"))
                     .At(pos_ + i)
                     .Key(key));
          break;
        }
      }
    }
    pos_ += n * size;
  } else if (elem == GgufType::kString) {
    // ggml's first check: the length fields alone must fit.
    CKPT_RETURN_IF_ERROR(Need(n * len_bytes_, "an array of ", n, " strings"));
    // Checking every token's UTF-8 costs more than the rest of the walk:
    // only strict mode does it for array strings.
    const bool check_utf8 = options_.strict && n_utf8_hazards_ < 1;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t s_at = pos_;
      uint64_t len;
      if (len_bytes_ == 8) {
        CKPT_ASSIGN_OR_RETURN(len, ReadU64("a string length"));
      } else {
        CKPT_ASSIGN_OR_RETURN(len, ReadU32("a string length"));
      }
      if (len > kGgufMaxStringBytes) {
        return Error("gguf.string.too_long", StrCat("array string ", i, " is ", len, " bytes long; the limit is 2^30"))
            .At(s_at)
            .Key(key);
      }
      CKPT_RETURN_IF_ERROR(Need(len, "string ", i, " of an array"));
      if (check_utf8 && n_utf8_hazards_ < 1 &&
          !IsValidUtf8(std::string_view(reinterpret_cast<const char*>(b_.data() + pos_), len))) {
        ++n_utf8_hazards_;
        Hazard(Error("gguf.strict.string_utf8", StrCat("array string ", i, " is not valid UTF-8")).At(s_at).Key(key));
      }
      pos_ += len;
    }
  } else {
    CKPT_RETURN_IF_ERROR(Need(n * (4 + len_bytes_), "an array of ", n, " arrays"));
    for (uint64_t i = 0; i < n; ++i) {
      GgufValue inner;
      inner.type = GgufType::kArray;
      CKPT_RETURN_IF_ERROR(ParseArrayBody(depth + 1, key, &inner));
    }
  }
  v->nbytes = pos_ - v->offset;
  return absl::OkStatus();
}

absl::Status GgufParser::CheckAlignment() {
  const GgufKv* kv = out_->FindKv("general.alignment");
  if (kv == nullptr) return absl::OkStatus();
  if (kv->value.type != GgufType::kU32) {
    return Error("gguf.alignment", StrCat("general.alignment is ", GgufTypeName(kv->value.type), ", not u32"))
        .At(kv->key_offset)
        .Key(kv->key);
  }
  const uint32_t a = U32At(kv->value.offset);
  if (a == 0 || (a & (a - 1)) != 0) {
    return Error("gguf.alignment", StrCat("general.alignment is ", a, ", not a power of two"))
        .At(kv->value.offset)
        .Key(kv->key);
  }
  out_->alignment_ = a;
  if (a % 8 != 0 || a > kMaxAlignmentHazard) {
    Hazard(Error("gguf.strict.alignment", StrCat("general.alignment ", a, " is not a multiple of 8 up to 1 MiB"))
               .At(kv->value.offset)
               .Key(kv->key));
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ParseTensorInfos(uint64_t n_tensors) {
  out_->infos_.reserve(n_tensors);  // bounded by the file size above
  out_->shapes_.reserve(n_tensors * kGgufMaxDims);
  // ggml compares names as C strings: "a\0x" and "a\0y" are both "a".
  absl::flat_hash_set<absl::string_view> c_names;
  c_names.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t{};
    t.info_offset = pos_;
    CKPT_ASSIGN_OR_RETURN(t.name, ReadString("the name of tensor ", i));
    if (t.name.size() > kGgufMaxTensorName) {
      return Error("gguf.tensor.name_too_long", StrCat("tensor name is ", t.name.size(),
                                                       " bytes; ggml allows at most ", kGgufMaxTensorName))
          .At(t.info_offset)
          .Tensor(t.name);
    }
    const std::string_view c_name = t.name.substr(0, t.name.find('\0'));
    if (!c_names.insert(AbslView(c_name)).second) {
      return Error("gguf.tensor.duplicate", c_name.size() == t.name.size()
                                                ? std::string("tensor name appears twice")
                                                : StrCat("tensor name is the same as an earlier one up to "
                                                         "its NUL byte (ggml compares C strings)"))
          .At(t.info_offset)
          .Tensor(t.name);
    }
    if (c_name.size() != t.name.size() || !IsValidUtf8(t.name)) {
      Hazard(Error("gguf.strict.tensor_name", "tensor name holds a NUL byte or is not UTF-8")
                 .At(t.info_offset)
                 .Tensor(t.name));
    }
    const uint64_t dims_at = pos_;
    CKPT_ASSIGN_OR_RETURN(t.n_dims, ReadU32("the dimension count"));
    if (t.n_dims > kGgufMaxDims) {
      return Error("gguf.tensor.n_dims", StrCat("tensor has ", t.n_dims, " dimensions; ggml allows at most 4"))
          .At(dims_at)
          .Tensor(t.name);
    }
    t.ne = {1, 1, 1, 1};
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      const uint64_t ne_at = pos_;
      CKPT_ASSIGN_OR_RETURN(t.ne[d], ReadCount("a dimension"));
      if (t.ne[d] > INT64_MAX) {
        return Error("gguf.tensor.shape", StrCat("dimension ", d, " is negative as int64 (", t.ne[d], ")"))
            .At(ne_at)
            .Tensor(t.name);
      }
    }
    const uint64_t type_at = pos_;
    CKPT_ASSIGN_OR_RETURN(t.ggml_type, ReadU32("the tensor type"));
    CKPT_ASSIGN_OR_RETURN(t.offset, ReadU64("the tensor offset"));
    CKPT_RETURN_IF_ERROR(CheckTensorInfo(t, type_at));
    out_->infos_.push_back(t);
    for (uint32_t d = 0; d < kGgufMaxDims; ++d) out_->shapes_.push_back(t.ne[kGgufMaxDims - 1 - d]);
  }
  out_->header_end_ = pos_;
  return absl::OkStatus();
}

// Element count, type and byte size of one tensor info; errors point at its
// type field.
absl::Status GgufParser::CheckTensorInfo(GgufTensorInfo& t, uint64_t type_at) {
  const auto fail = [&](std::string_view rule, std::string detail) -> absl::Status {
    return Error(rule, std::move(detail)).At(type_at).Tensor(t.name);
  };
  // Checked 64-bit product: ggml divides an already wrapped product. A zero
  // dimension makes an empty tensor, however large the others (ggml skips
  // the check then, and its size is 0), so test for it first.
  const std::optional<uint64_t> elems = ElementCount(absl::MakeConstSpan(t.ne.data(), kGgufMaxDims));
  const bool empty = elems == uint64_t{0};
  if (!elems || *elems > INT64_MAX) {
    return fail("gguf.tensor.size_overflow",
                 StrCat("element count ", t.ne[0], "×", t.ne[1], "×", t.ne[2], "×", t.ne[3], " overflows int64"));
  }
  if (t.ggml_type >= kGgmlTypeCount) {
    return fail("gguf.tensor.type", StrCat("tensor type ", t.ggml_type, " is not a ggml type (0-",
                                            kGgmlTypeCount - 1, ")"));
  }
  const std::optional<DType> dtype = DTypeFromGgmlId(t.ggml_type);
  if (!dtype) {
    return fail("gguf.tensor.type", StrCat("tensor type ", t.ggml_type, " (",
                                            GgmlRemovedTypeName(t.ggml_type).value_or("?"),
                                            ") was removed from ggml"));
  }
  t.dtype = *dtype;
  const DTypeInfo& info = GetDTypeInfo(t.dtype);
  if (t.ne[0] % info.block_elems != 0) {
    return fail("gguf.tensor.block", StrCat("ne[0] = ", t.ne[0], " is not a multiple of ", info.name,
                                             "'s block size ", info.block_elems));
  }
  // Blocks per row × block bytes, then the other dims: never ne[0] × bytes
  // first, which can wrap where the true size would not.
  const std::array<uint64_t, 4> factors = {t.ne[0] / info.block_elems, t.ne[1], t.ne[2], t.ne[3]};
  std::optional<uint64_t> nbytes = empty ? 0 : CheckedMul(factors[0], info.block_bytes);
  for (int d = 1; d < 4 && nbytes; ++d) nbytes = CheckedMul(*nbytes, factors[d]);
  if (!nbytes || !CheckedAlignUp(*nbytes, out_->alignment_)) {
    return fail("gguf.tensor.size_overflow", StrCat(info.name, " tensor of ", *elems,
                                                     " elements needs more than 2^64 bytes (padded)"));
  }
  t.nbytes = *nbytes;
  return absl::OkStatus();
}

absl::Status GgufParser::CheckLayout() {
  const uint64_t a = out_->alignment_;
  const std::optional<uint64_t> data = CheckedAlignUp(out_->header_end_, a);
  if (!data || (!out_->infos_.empty() && *data > b_.size())) {
    return Error("gguf.truncated", StrCat("the data section would start at ", data.value_or(UINT64_MAX),
                                          ", past the end of the file (", b_.size(), " bytes)"))
        .At(out_->header_end_);
  }
  out_->data_offset_ = *data;
  const uint64_t room = b_.size() - std::min<uint64_t>(*data, b_.size());  // bytes of data present
  uint64_t expected = 0;
  for (const GgufTensorInfo& t : out_->infos_) {
    if (t.offset != expected) {
      return Error("gguf.tensor.offset", StrCat("tensor has offset ", t.offset, ", expected ", expected,
                                                " (tensors are contiguous, in order, each padded to ", a, ")"))
          .At(t.info_offset)
          .Tensor(t.name);
    }
    if (t.nbytes > room || t.offset > room - t.nbytes) {
      return Error("gguf.tensor.out_of_file",
                   StrCat("tensor data [", *data + t.offset, ", +", t.nbytes, ") runs past the end of the file (",
                          b_.size(), " bytes)"))
          .At(t.info_offset)
          .Tensor(t.name);
    }
    // Both fit in the file, so the padded sum cannot wrap.
    expected = t.offset + *CheckedAlignUp(t.nbytes, a);
  }
  if (out_->infos_.empty()) {
    // Writers pad the header even with no tensors; anything beyond is extra.
    if (b_.size() > *data) {
      Hazard(Error("gguf.strict.trailing_data", StrCat(b_.size() - *data, " bytes after the header's padding"))
                 .At(*data));
    }
  } else {
    if (expected > room) {
      Hazard(Error("gguf.strict.unpadded_end", StrCat("the last tensor is not padded to ", a,
                                                      " bytes: ggml refuses to load its data"))
                 .At(b_.size()));
    } else if (expected < room) {
      Hazard(Error("gguf.strict.trailing_data", StrCat(room - expected, " bytes after the last tensor"))
                 .At(*data + expected));
    }
  }
  return absl::OkStatus();
}

// ---- GgufFile ----------------------------------------------------------------

absl::StatusOr<GgufFile> GgufFile::Open(const std::string& path, GgufOptions options) {
  CKPT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
  return Open(std::move(mapped), options);
}

absl::StatusOr<GgufFile> GgufFile::Open(MappedFile file, GgufOptions options) {
  absl::StatusOr<GgufFile> f = Parse(file.bytes(), options);
  if (!f.ok()) return WithFile(f.status(), file.path());
  f->path_ = file.path();
  f->file_ = std::move(file);
  return f;
}

absl::StatusOr<GgufFile> GgufFile::Parse(absl::Span<const uint8_t> bytes, GgufOptions options) {
  GgufFile f;
  f.bytes_ = bytes;
  GgufParser parser(bytes, options, &f);
  CKPT_RETURN_IF_ERROR(parser.Parse());
  parser.hazards().Finish();
  if (options.strict && !parser.hazards().first().ok()) return parser.hazards().first();
  f.tensor_index_.reserve(f.infos_.size());
  for (uint32_t i = 0; i < f.infos_.size(); ++i) f.tensor_index_.emplace(AbslView(f.infos_[i].name), i);
  return f;
}

const GgufKv* GgufFile::FindKv(std::string_view key) const {
  const auto it = kv_index_.find(AbslView(key));
  return it == kv_index_.end() ? nullptr : &kvs_[it->second];
}

TensorView GgufFile::tensor(size_t i) const {
  const GgufTensorInfo& t = infos_[i];
  TensorView v;
  v.name = t.name;
  v.dtype = t.dtype;
  v.shape = absl::MakeConstSpan(shapes_.data() + i * kGgufMaxDims + (kGgufMaxDims - t.n_dims), t.n_dims);
  v.offset = data_offset_ + t.offset;
  v.data = bytes_.subspan(v.offset, t.nbytes);
  return v;
}

std::optional<size_t> GgufFile::Find(std::string_view name) const {
  const auto it = tensor_index_.find(AbslView(name));
  if (it == tensor_index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ckpt
