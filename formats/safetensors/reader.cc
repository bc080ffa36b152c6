// Safetensors reader: validates everything in the reference crate's order
// (see docs/formats/safetensors.md), then hands out views.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "lib/hazard_log.h"
#include "lib/str_util.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/checked_math.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "lib/json_scanner.h"

namespace ckpt {

// Parses the JSON header into a SafetensorsFile, mirroring serde's decoding of
// the reference's `HashMetadata` (a struct with `__metadata__` plus a
// flattened map of TensorInfo).
class SafetensorsHeaderParser {
 public:
  SafetensorsHeaderParser(std::string_view header, SafetensorsFile* out)
      : header_(header), sc_(header), out_(out), hazards_(&out->warnings_) {}

  absl::Status Parse();
  // The first strict-mode hazard seen (OK if none).
  const absl::Status& hazard() const { return hazards_.first(); }
  const HazardLog& hazards() const { return hazards_; }

 private:
  static constexpr uint64_t kBase = 8;  // the header starts after the length prefix

  absl::Status JsonError() {
    return Error("safetensors.json.syntax", StrCat("invalid JSON in header: ", sc_.error()))
        .At(kBase + sc_.error_pos());
  }
  absl::Status SchemaError(size_t at, std::string detail, std::string_view tensor = {}) {
    ErrorBuilder b = Error("safetensors.json.schema", std::move(detail));
    b.At(kBase + at);
    if (!tensor.empty()) b.Tensor(tensor);
    return b;
  }
  // Records a strict-mode hazard (see lib/hazard_log.h).
  void Hazard(std::string_view rule, std::string detail, size_t at, std::string_view tensor) {
    hazards_.Record(Error(rule, std::move(detail)).At(kBase + at).Tensor(tensor));
  }
  void HazardKey(std::string_view rule, std::string detail, size_t at, std::string_view key) {
    hazards_.Record(Error(rule, std::move(detail)).At(kBase + at).Key(key));
  }

  std::string_view StoreName(std::string_view name, bool escaped) {
    if (!escaped) return name;  // views the header, which lives in the mapping
    out_->name_storage_.push_back(std::make_unique<std::string>(name));
    return *out_->name_storage_.back();
  }
  static const char* KindName(json::Kind k) {
    switch (k) {
      case json::Kind::kObject: return "map";
      case json::Kind::kArray: return "sequence";
      case json::Kind::kString: return "string";
      case json::Kind::kNumber: return "number";
      case json::Kind::kTrue:
      case json::Kind::kFalse: return "boolean";
      case json::Kind::kNull: return "null";
    }
    return "value";
  }

  // Appends an entry whose dims are shapes_[shape_begin, end).
  void AddEntry(std::string_view name, DType dtype, size_t shape_begin, uint64_t begin, uint64_t end,
                size_t key_pos) {
    SafetensorsFile::Entry e;
    e.name = name;
    e.dtype = dtype;
    e.shape_begin = static_cast<uint32_t>(shape_begin);
    e.shape_len = static_cast<uint32_t>(out_->shapes_.size() - shape_begin);
    e.begin = begin;
    e.end = end;
    e.key_offset = kBase + key_pos;
    out_->tensors_.push_back(e);
  }

  absl::Status ParseMetadata();
  absl::Status ParseTensor(std::string_view name, size_t key_pos);
  bool ParseCanonicalTensor(std::string_view name, size_t key_pos);
  absl::Status ParseDType(std::string_view name, DType* dtype, bool* map_form);
  absl::Status ParseU64Array(std::string_view name, std::string_view field, int depth,
                             std::vector<uint64_t>* out);

  std::string_view header_;
  json::Scanner sc_;
  SafetensorsFile* out_;
  HazardLog hazards_;
  std::string scratch_;
  std::vector<uint64_t> offsets_scratch_;
};

absl::Status SafetensorsHeaderParser::Parse() {
  json::Kind kind;
  if (!sc_.PeekKind(&kind)) return JsonError();
  if (kind != json::Kind::kObject) {
    return SchemaError(sc_.pos(), StrCat("invalid type: ", KindName(kind),
                                               ", expected the header to be a JSON object"));
  }
  sc_.Expect('{', "`{`");
  // Rough capacity from the header size (an entry takes ≥ 60 bytes), capped
  // so a hostile length cannot make this allocate much.
  const size_t guess = std::min<size_t>(header_.size() / 64 + 1, 1 << 20);
  out_->tensors_.reserve(guess);
  out_->index_.reserve(guess);
  bool seen_metadata = false;
  if (!sc_.Consume('}')) {
    do {
      sc_.SkipWs();
      const size_t key_pos = sc_.pos();
      std::string_view key;
      bool escaped = false;
      if (key_pos < header_.size() && header_[key_pos] != '"') {
        sc_.Fail(key_pos, "key must be a string");
        return JsonError();
      }
      if (!sc_.ReadString(&key, &scratch_, &escaped)) return JsonError();
      if (!sc_.Expect(':', "`:`")) return JsonError();
      if (key == "__metadata__") {
        if (seen_metadata) return SchemaError(key_pos, "duplicate field `__metadata__`");
        seen_metadata = true;
        CKPT_RETURN_IF_ERROR(ParseMetadata());
        continue;
      }
      const std::string_view name = StoreName(key, escaped);
      CKPT_RETURN_IF_ERROR(ParseTensor(name, key_pos));
      if (name.find('\0') != std::string_view::npos) {
        Hazard("safetensors.strict.nul_in_name", "tensor name contains a NUL byte", key_pos, name);
      }
      // serde keeps the last entry for a repeated name.
      const uint32_t idx = static_cast<uint32_t>(out_->tensors_.size() - 1);
      auto [it, inserted] = out_->index_.emplace(AbslView(name), idx);
      if (!inserted) {
        Hazard("safetensors.strict.duplicate_name",
               "tensor name appears more than once (the reference silently keeps the last entry)",
               key_pos, name);
        out_->tensors_[it->second] = out_->tensors_.back();
        out_->tensors_.pop_back();
      }
    } while (sc_.Consume(','));
    if (!sc_.Expect('}', "`,` or `}`")) return JsonError();
  }
  if (!sc_.AtEnd()) {
    sc_.Fail(sc_.pos(), "trailing characters");
    return JsonError();
  }
  return absl::OkStatus();
}

absl::Status SafetensorsHeaderParser::ParseMetadata() {
  json::Kind kind;
  if (!sc_.PeekKind(&kind)) return JsonError();
  if (kind == json::Kind::kNull) {
    sc_.SkipValue(1);
    return absl::OkStatus();
  }
  if (kind != json::Kind::kObject) {
    return SchemaError(sc_.pos(), StrCat("invalid type: ", KindName(kind),
                                               ", expected `__metadata__` to be a map of strings"));
  }
  sc_.Expect('{', "`{`");
  auto& md = out_->metadata_.emplace();
  absl::flat_hash_map<std::string, size_t> index;
  if (sc_.Consume('}')) return absl::OkStatus();
  do {
    sc_.SkipWs();
    const size_t pos = sc_.pos();
    if (pos < header_.size() && header_[pos] != '"') {
      sc_.Fail(pos, "key must be a string");
      return JsonError();
    }
    std::string_view key, value;
    std::string key_storage, value_storage;
    if (!sc_.ReadString(&key, &key_storage)) return JsonError();
    if (!sc_.Expect(':', "`:`")) return JsonError();
    if (!sc_.PeekKind(&kind)) return JsonError();
    if (kind != json::Kind::kString) {
      return SchemaError(sc_.pos(), StrCat("invalid type: ", KindName(kind),
                                                 ", expected a string (metadata values are strings)"));
    }
    if (!sc_.ReadString(&value, &value_storage)) return JsonError();
    if (key.find('\0') != std::string_view::npos) {
      HazardKey("safetensors.strict.nul_in_name", "metadata key contains a NUL byte", pos, key);
    }
    auto [it, inserted] = index.emplace(std::string(key), md.size());
    if (inserted) {
      md.emplace_back(std::string(key), std::string(value));
    } else {
      HazardKey("safetensors.strict.duplicate_metadata_key",
                "metadata key appears more than once (the reference keeps the last value)", pos, key);
      md[it->second].second = std::string(value);
    }
  } while (sc_.Consume(','));
  if (!sc_.Expect('}', "`,` or `}`")) return JsonError();
  return absl::OkStatus();
}

absl::Status SafetensorsHeaderParser::ParseDType(std::string_view name, DType* dtype, bool* map_form) {
  json::Kind kind;
  if (!sc_.PeekKind(&kind)) return JsonError();
  const size_t at = sc_.pos();
  std::string_view text;
  std::string storage;
  *map_form = false;
  if (kind == json::Kind::kObject) {
    // serde also decodes a unit enum variant from the map form {"F32": null}.
    *map_form = true;
    sc_.Expect('{', "`{`");
    if (sc_.Consume('}')) {
      return SchemaError(at, "invalid type: map with 0 entries, expected a dtype", name);
    }
    sc_.SkipWs();
    if (sc_.pos() < header_.size() && header_[sc_.pos()] != '"') {
      sc_.Fail(sc_.pos(), "key must be a string");
      return JsonError();
    }
    if (!sc_.ReadString(&text, &storage)) return JsonError();
    if (!sc_.Expect(':', "`:`")) return JsonError();
    if (!sc_.PeekKind(&kind)) return JsonError();
    const size_t value_at = sc_.pos();
    if (!sc_.SkipValue(3)) return JsonError();
    if (kind != json::Kind::kNull) {
      return SchemaError(value_at, "invalid type: expected unit variant value null", name);
    }
    if (sc_.Consume(',')) {
      // Validate the rest of the JSON first, as serde buffers it.
      do {
        std::string_view k;
        std::string ks;
        if (!sc_.ReadString(&k, &ks) || !sc_.Expect(':', "`:`") || !sc_.SkipValue(3)) return JsonError();
      } while (sc_.Consume(','));
      if (!sc_.Expect('}', "`,` or `}`")) return JsonError();
      return SchemaError(at, "invalid value: map with more than one entry, expected a dtype", name);
    }
    if (!sc_.Expect('}', "`,` or `}`")) return JsonError();
  } else if (kind == json::Kind::kString) {
    if (!sc_.ReadString(&text, &storage)) return JsonError();
  } else {
    if (!sc_.SkipValue(2)) return JsonError();
    return SchemaError(at, StrCat("invalid type: ", KindName(kind), ", expected a dtype string"), name);
  }
  std::optional<DType> t = DTypeFromSafetensorsName(text);
  if (!t) {
    return Error("safetensors.json.dtype", StrCat("unknown dtype \"", EscapeForDisplay(text), "\""))
        .At(kBase + at)
        .Tensor(name);
  }
  *dtype = *t;
  return absl::OkStatus();
}

absl::Status SafetensorsHeaderParser::ParseU64Array(std::string_view name, std::string_view field,
                                                    int depth, std::vector<uint64_t>* out) {
  json::Kind kind;
  if (!sc_.PeekKind(&kind)) return JsonError();
  const size_t at = sc_.pos();
  if (kind != json::Kind::kArray) {
    if (!sc_.SkipValue(depth - 1)) return JsonError();
    return SchemaError(at, StrCat("invalid type: ", KindName(kind), ", expected `", field,
                                        "` to be an array of unsigned integers"),
                       name);
  }
  if (depth > json::kMaxDepth) {
    sc_.Fail(at, "recursion limit exceeded");
    return JsonError();
  }
  sc_.Expect('[', "`[`");
  if (sc_.Consume(']')) return absl::OkStatus();
  do {
    if (!sc_.PeekKind(&kind)) return JsonError();
    const size_t el = sc_.pos();
    if (kind != json::Kind::kNumber) {
      if (!sc_.SkipValue(depth)) return JsonError();
      return SchemaError(el, StrCat("invalid type: ", KindName(kind), " in `", field,
                                          "`, expected an unsigned integer"),
                         name);
    }
    bool is_u64;
    uint64_t v;
    std::string_view raw;
    if (!sc_.ReadNumber(&is_u64, &v, &raw)) return JsonError();
    if (!is_u64) {
      return SchemaError(el, StrCat("invalid value ", raw, " in `", field,
                                          "`, expected an unsigned 64-bit integer"),
                         name);
    }
    out->push_back(v);
  } while (sc_.Consume(','));
  if (!sc_.Expect(']', "`,` or `]`")) return JsonError();
  return absl::OkStatus();
}

// The exact bytes the reference serializer writes for an entry:
//   {"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}
// Almost every file is written that way, so this matches those bytes
// directly. Anything else (whitespace, escapes, other field order, long
// numbers) returns false with nothing consumed, and the general parser —
// which decides every verdict — takes over from the same position.
bool SafetensorsHeaderParser::ParseCanonicalTensor(std::string_view name, size_t key_pos) {
  const std::string_view t = sc_.text();
  size_t p = sc_.pos();
  const auto lit = [&](std::string_view l) {
    if (t.size() - p < l.size() || std::memcmp(t.data() + p, l.data(), l.size()) != 0) return false;
    p += l.size();
    return true;
  };
  // A plain decimal u64 of at most 19 digits (never overflows), no leading zero.
  const auto num = [&](uint64_t* v) {
    if (p >= t.size() || t[p] < '0' || t[p] > '9') return false;
    if (t[p] == '0') {
      *v = 0;
      ++p;
      return p < t.size() && (t[p] < '0' || t[p] > '9');
    }
    uint64_t r = 0;
    const size_t start = p;
    while (p < t.size() && t[p] >= '0' && t[p] <= '9') r = r * 10 + static_cast<uint64_t>(t[p++] - '0');
    *v = r;
    return p - start <= 19;
  };
  if (!lit("{\"dtype\":\"")) return false;
  const size_t dtype_begin = p;
  while (p < t.size() && ((t[p] >= 'A' && t[p] <= 'Z') || (t[p] >= '0' && t[p] <= '9') || t[p] == '_')) ++p;
  const std::optional<DType> dtype = DTypeFromSafetensorsName(t.substr(dtype_begin, p - dtype_begin));
  if (!dtype || !lit("\",\"shape\":[")) return false;
  std::vector<uint64_t>& shapes = out_->shapes_;
  const size_t shape_begin = shapes.size();
  const auto fail = [&] {
    shapes.resize(shape_begin);
    return false;
  };
  if (!lit("]")) {
    while (true) {
      uint64_t d;
      if (!num(&d)) return fail();
      shapes.push_back(d);
      if (lit("]")) break;
      if (!lit(",")) return fail();
    }
  }
  uint64_t begin, end;
  if (!lit(",\"data_offsets\":[") || !num(&begin) || !lit(",") || !num(&end) || !lit("]}")) return fail();
  AddEntry(name, *dtype, shape_begin, begin, end, key_pos);
  sc_.Seek(p);
  return true;
}

absl::Status SafetensorsHeaderParser::ParseTensor(std::string_view name, size_t key_pos) {
  if (ParseCanonicalTensor(name, key_pos)) return absl::OkStatus();
  json::Kind kind;
  if (!sc_.PeekKind(&kind)) return JsonError();
  const size_t at = sc_.pos();
  std::optional<DType> dtype;
  // Shape dims go straight into shapes_ (no per-entry allocation); offsets
  // into a reused scratch vector.
  std::vector<uint64_t>& shapes = out_->shapes_;
  const size_t shape_begin = shapes.size();
  std::vector<uint64_t>& offsets = offsets_scratch_;
  offsets.clear();
  bool dtype_map_form = false;
  const auto missing = [&](const char* field) {
    return SchemaError(at, StrCat("missing field `", field, "` in tensor entry"), name);
  };
  if (kind == json::Kind::kArray) {
    // serde's sequence form of a struct: [dtype, shape, data_offsets].
    Hazard("safetensors.strict.entry_not_object",
           "tensor entry is written as an array, not an object", key_pos, name);
    sc_.Expect('[', "`[`");
    int n = 0;
    if (!sc_.Consume(']')) {
      do {
        DType t;
        switch (n) {
          case 0:
            CKPT_RETURN_IF_ERROR(ParseDType(name, &t, &dtype_map_form));
            dtype = t;
            break;
          case 1: CKPT_RETURN_IF_ERROR(ParseU64Array(name, "shape", 3, &shapes)); break;
          case 2: CKPT_RETURN_IF_ERROR(ParseU64Array(name, "data_offsets", 3, &offsets)); break;
          default:
            if (!sc_.SkipValue(2)) return JsonError();
        }
        ++n;
      } while (sc_.Consume(','));
      if (!sc_.Expect(']', "`,` or `]`")) return JsonError();
    }
    if (n != 3) {
      return SchemaError(at, StrCat("invalid length ", n,
                                          ", expected a tensor entry array with 3 elements"),
                         name);
    }
  } else if (kind == json::Kind::kObject) {
    sc_.Expect('{', "`{`");
    bool has_shape = false, has_offsets = false;
    if (!sc_.Consume('}')) {
      do {
        sc_.SkipWs();
        const size_t field_at = sc_.pos();
        if (field_at < header_.size() && header_[field_at] != '"') {
          sc_.Fail(field_at, "key must be a string");
          return JsonError();
        }
        std::string_view field;
        std::string storage;
        if (!sc_.ReadString(&field, &storage)) return JsonError();
        if (!sc_.Expect(':', "`:`")) return JsonError();
        if (field == "dtype") {
          if (dtype) return SchemaError(field_at, "duplicate field `dtype`", name);
          DType t;
          CKPT_RETURN_IF_ERROR(ParseDType(name, &t, &dtype_map_form));
          dtype = t;
        } else if (field == "shape") {
          if (has_shape) return SchemaError(field_at, "duplicate field `shape`", name);
          has_shape = true;
          CKPT_RETURN_IF_ERROR(ParseU64Array(name, "shape", 3, &shapes));
        } else if (field == "data_offsets") {
          if (has_offsets) return SchemaError(field_at, "duplicate field `data_offsets`", name);
          has_offsets = true;
          CKPT_RETURN_IF_ERROR(ParseU64Array(name, "data_offsets", 3, &offsets));
        } else {
          Hazard("safetensors.strict.unknown_field",
                 StrCat("unknown field \"", EscapeForDisplay(field), "\" in tensor entry"),
                 field_at, name);
          if (!sc_.SkipValue(2)) return JsonError();
        }
      } while (sc_.Consume(','));
      if (!sc_.Expect('}', "`,` or `}`")) return JsonError();
    }
    if (!dtype) return missing("dtype");
    if (!has_shape) return missing("shape");
    if (!has_offsets) return missing("data_offsets");
  } else {
    if (!sc_.SkipValue(1)) return JsonError();
    return SchemaError(at, StrCat("invalid type: ", KindName(kind),
                                        ", expected a tensor entry object"),
                       name);
  }
  if (dtype_map_form) {
    Hazard("safetensors.strict.dtype_not_string",
           "dtype is written as a map ({\"F32\": null}), not a plain string", at, name);
  }
  if (offsets.size() != 2) {
    return SchemaError(at, StrCat("invalid length ", offsets.size(),
                                        ", expected `data_offsets` to hold 2 integers"),
                       name);
  }
  AddEntry(name, *dtype, shape_begin, offsets[0], offsets[1], key_pos);
  return absl::OkStatus();
}

namespace {

// The reference's per-tensor checks, in its order, over tensors sorted by
// (begin, end). Returns the data section length on success.
absl::StatusOr<uint64_t> ValidateOffsets(const std::vector<SafetensorsFile::Entry>& tensors,
                                         const std::vector<uint32_t>& order, const std::vector<uint64_t>& shapes);

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path,
                                                      SafetensorsOptions options) {
  absl::StatusOr<MappedFile> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  return Open(*std::move(mapped), options);
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(MappedFile file, SafetensorsOptions options) {
  if (file.size() >= 8) {
    uint64_t n;
    std::memcpy(&n, file.bytes().data(), 8);
    if (n <= kSafetensorsMaxHeaderBytes) file.Prefault(8, n);  // the header, never the tensor data
  }
  absl::StatusOr<SafetensorsFile> f = Parse(file.bytes(), options);
  if (!f.ok()) return WithFile(f.status(), file.path());
  f->path_ = file.path();
  f->file_ = std::move(file);
  return f;
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Parse(absl::Span<const uint8_t> bytes,
                                                       SafetensorsOptions options) {
  const uint64_t size = bytes.size();
  if (size < 8) {
    return Error("safetensors.header.too_small",
                 StrCat("file has ", size, " bytes; the 8-byte header length is missing"))
        .At(0);
  }
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);  // little-endian host
  if (n > kSafetensorsMaxHeaderBytes) {
    return Error("safetensors.header.too_large",
                 StrCat("header length ", n, " exceeds the limit of ", kSafetensorsMaxHeaderBytes,
                              " bytes"))
        .At(0);
  }
  if (n > size - 8) {
    return Error("safetensors.header.length",
                 StrCat("header length ", n, " runs past the end of the file (", size - 8,
                              " bytes after the length prefix)"))
        .At(0);
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8, n);
  if (FirstInvalidUtf8(header) != std::string_view::npos) {
    return Error("safetensors.header.utf8", "header is not valid UTF-8")
        .At(8 + FirstInvalidUtf8(header));
  }

  SafetensorsFile f;
  f.bytes_ = bytes;
  f.header_nbytes_ = n;
  SafetensorsHeaderParser parser(header, &f);
  CKPT_RETURN_IF_ERROR(parser.Parse());
  parser.hazards().Finish();

  // Data order: by (begin, end), ties in header order. Files are usually
  // written in this order already, so check before sorting.
  const auto before = [&f](uint32_t a, uint32_t b) {
    const Entry &x = f.tensors_[a], &y = f.tensors_[b];
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  };
  f.order_.resize(f.tensors_.size());
  std::iota(f.order_.begin(), f.order_.end(), 0u);
  if (!std::is_sorted(f.order_.begin(), f.order_.end(), before)) {
    std::stable_sort(f.order_.begin(), f.order_.end(), before);
  }
  CKPT_ASSIGN_OR_RETURN(const uint64_t data_len, ValidateOffsets(f.tensors_, f.order_, f.shapes_));
  // 8 + N + data_len must be the file size, computed without wrapping.
  std::optional<uint64_t> expected = CheckedAdd(8 + n, data_len);
  if (!expected) {
    return Error("safetensors.data.coverage",
                 StrCat("tensors claim ", data_len, " bytes of data, more than any file can hold"))
        .At(8 + n);
  }
  if (*expected != size) {
    if (*expected > size) {
      return Error("safetensors.data.coverage",
                   StrCat("file is truncated: the tensors need ", *expected, " bytes but the file has ",
                                size, " (", *expected - size, " missing)"))
          .At(size);
    }
    return Error("safetensors.data.coverage",
                 StrCat(size - *expected, " bytes after the last tensor are not covered by any tensor"))
        .At(*expected);
  }

  // Hazards: warnings always, errors in strict mode (only once the file is
  // valid by the reference's rules, so strict rejects a superset).
  if ((8 + n) % 8 != 0) {
    const std::string msg = StrCat("data section starts at offset ", 8 + n,
                                         ", not a multiple of 8 (tensors may be misaligned)");
    f.warnings_.push_back(msg);
    if (options.strict && parser.hazard().ok()) {
      return Error("safetensors.strict.data_alignment", msg).At(0);
    }
  }
  if (options.strict && !parser.hazard().ok()) return parser.hazard();
  if (f.metadata_) {
    std::string_view format;
    for (const auto& [k, v] : *f.metadata_) {
      if (k == "format") format = v;
    }
    if (format.empty()) {
      f.warnings_.push_back("__metadata__ has no \"format\" key (transformers and huggingface_hub expect \"pt\")");
    }
  }
  size_t misaligned = 0;
  for (const Entry& e : f.tensors_) {
    const DTypeInfo& info = GetDTypeInfo(e.dtype);
    const uint64_t elem = info.block_elems == 1 ? info.block_bytes : 1;
    if (e.end > e.begin && (8 + n + e.begin) % elem != 0) ++misaligned;
  }
  if (misaligned > 0) {
    f.warnings_.push_back(StrCat(misaligned, " tensor(s) not aligned to their element size"));
  }

  f.position_.resize(f.order_.size());
  for (uint32_t i = 0; i < f.order_.size(); ++i) f.position_[f.order_[i]] = i;
  return f;
}

namespace {

absl::StatusOr<uint64_t> ValidateOffsets(const std::vector<SafetensorsFile::Entry>& tensors,
                                         const std::vector<uint32_t>& order, const std::vector<uint64_t>& shapes) {
  uint64_t start = 0;
  for (const uint32_t i : order) {
    const SafetensorsFile::Entry& e = tensors[i];
    if (e.begin != start || e.end < e.begin) {
      std::string why;
      if (e.end < e.begin) {
        why = StrCat("data_offsets [", e.begin, ", ", e.end, ") end before they begin");
      } else if (e.begin < start) {
        why = StrCat("data_offsets [", e.begin, ", ", e.end, ") overlap the previous tensor, which ends at ",
                           start);
      } else {
        why = StrCat("data_offsets [", e.begin, ", ", e.end, ") leave a hole: expected begin ", start);
      }
      return Error("safetensors.offsets.contiguous", why).At(e.key_offset).Tensor(e.name);
    }
    start = e.end;
    const absl::Span<const uint64_t> shape(shapes.data() + e.shape_begin, e.shape_len);
    const std::optional<uint64_t> n_elems = CheckedProduct(shape);
    const DTypeInfo& info = GetDTypeInfo(e.dtype);
    const uint64_t bits = uint64_t{info.block_bytes} * 8 / info.block_elems;
    const std::optional<uint64_t> n_bits = n_elems ? CheckedMul(*n_elems, bits) : std::nullopt;
    if (!n_bits) {
      return Error("safetensors.shape.overflow",
                   "element count times bit width of the shape overflows 64 bits")
          .At(e.key_offset)
          .Tensor(e.name);
    }
    if (*n_bits % 8 != 0) {
      return Error("safetensors.shape.misaligned",
                   StrCat(*n_elems, " elements of ", info.name, " (", bits,
                                " bits each) do not end on a byte boundary"))
          .At(e.key_offset)
          .Tensor(e.name);
    }
    if (e.end - e.begin != *n_bits / 8) {
      std::string dims;
      for (size_t i = 0; i < shape.size(); ++i) StrAppend(&dims, i ? ", " : "", shape[i]);
      return Error("safetensors.size.mismatch",
                   StrCat("data_offsets [", e.begin, ", ", e.end, ") hold ", e.end - e.begin, " bytes but ",
                                info.name, " [", dims, "] needs ", *n_bits / 8))
          .At(e.key_offset)
          .Tensor(e.name);
    }
  }
  return start;
}

}  // namespace

TensorView SafetensorsFile::tensor(size_t i) const {
  const Entry& e = tensors_[order_[i]];
  TensorView v;
  v.name = e.name;
  v.dtype = e.dtype;
  v.shape = absl::Span<const uint64_t>(shapes_.data() + e.shape_begin, e.shape_len);
  v.offset = data_offset() + e.begin;
  v.data = bytes_.subspan(v.offset, e.end - e.begin);
  return v;
}

std::optional<size_t> SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(AbslView(name));
  if (it == index_.end()) return std::nullopt;
  return position_[it->second];
}

}  // namespace ckpt
