// GGUF writer: the header in memory, tensor data streamed, all atomic.
//
// Byte layout as gguf-py's GGUFWriter (and ggml's gguf_write_to_file): magic,
// version 3, counts, KVs in the order given, tensor infos in the order given,
// zeros to the alignment, then each tensor followed by zeros to the
// alignment — the last one too.
#include <bit>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ckpt/atomic_file.h"
#include "ckpt/checked_math.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "formats/gguf/writer_internal.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

class Encoder {
 public:
  Encoder(std::string* out, bool big_endian) : out_(out), big_endian_(big_endian) {}

  void Bytes(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Put(big_endian_ ? __builtin_bswap16(v) : v); }
  void U32(uint32_t v) { Put(big_endian_ ? __builtin_bswap32(v) : v); }
  void U64(uint64_t v) { Put(big_endian_ ? __builtin_bswap64(v) : v); }
  void String(std::string_view s) {
    U64(s.size());
    out_->append(s);
  }
  // A scalar of `type` from its bits (zero-extended).
  void Scalar(GgufType type, uint64_t bits) {
    switch (GgufTypeSize(type)) {
      case 1: U8(static_cast<uint8_t>(bits)); break;
      case 2: U16(static_cast<uint16_t>(bits)); break;
      case 4: U32(static_cast<uint32_t>(bits)); break;
      default: U64(bits); break;
    }
  }

  // The value's body (no leading type): owned.
  void Body(const GgufOwnedValue& v) {
    if (v.type == GgufType::kString) return String(v.str);
    if (v.type != GgufType::kArray) return Scalar(v.type, v.bits);
    U32(static_cast<uint32_t>(v.elem_type));
    U64(v.elements.size());
    for (const GgufOwnedValue& e : v.elements) Body(e);
  }

  // The value's body, copied from an open file. Raw bytes when the byte
  // order and length width match (the common case: a 256k-token array is one
  // memcpy); element by element otherwise.
  void Body(const GgufFile& f, const GgufValue& v) {
    const uint8_t* p = f.bytes().data() + v.offset;
    const bool raw = f.big_endian() == big_endian_ && f.version() >= 2;
    switch (v.type) {
      case GgufType::kString:
        return String(f.ReadString(v));
      case GgufType::kArray:
        U32(static_cast<uint32_t>(v.elem_type));
        U64(v.count);
        if (raw) return Bytes(p, v.nbytes);
        f.ForEachElement(v, [&](const GgufValue& e) {
          Body(f, e);
          return true;
        });
        return;
      default:
        if (raw) return Bytes(p, v.nbytes);
        return Scalar(v.type, ScalarBits(f, v));
    }
  }

 private:
  static uint64_t ScalarBits(const GgufFile& f, const GgufValue& v) {
    GgufValue u = v;
    switch (GgufTypeSize(v.type)) {
      case 1: u.type = GgufType::kU8; break;
      case 2: u.type = GgufType::kU16; break;
      case 4: u.type = GgufType::kU32; break;
      default: u.type = GgufType::kU64; break;
    }
    return f.ReadUnsigned(u);
  }
  template <typename I>
  void Put(I v) {
    char b[sizeof(I)];
    std::memcpy(b, &v, sizeof(I));
    out_->append(b, sizeof(I));
  }

  std::string* out_;
  bool big_endian_;
};

// An owned value the encoder can write faithfully: array elements of the
// array's type, bools 0 or 1, scalar bits that fit the type.
absl::Status CheckOwned(const GgufOwnedValue& v, std::string_view key, int depth = 0) {
  if (static_cast<uint32_t>(v.type) >= kGgufTypeCount) {
    return Error("gguf.write.value", StrCat("value type ", static_cast<uint32_t>(v.type), " is not a GGUF type")).Key(key);
  }
  if (v.type == GgufType::kArray) {
    if (depth + 1 >= kGgufMaxArrayDepth) return Error("gguf.write.value", "arrays nested too deep").Key(key);
    for (const GgufOwnedValue& e : v.elements) {
      if (e.type != v.elem_type) {
        return Error("gguf.write.value", StrCat("array of ", GgufTypeName(v.elem_type), " holds a ",
                                                GgufTypeName(e.type)))
            .Key(key);
      }
      CKPT_RETURN_IF_ERROR(CheckOwned(e, key, depth + 1));
    }
    return absl::OkStatus();
  }
  const uint32_t size = GgufTypeSize(v.type);
  if ((v.type == GgufType::kBool && v.bits > 1) || (size != 0 && size < 8 && (v.bits >> (8 * size)) != 0)) {
    return Error("gguf.write.value", StrCat("bits 0x", absl::Hex(v.bits), " do not fit a ", GgufTypeName(v.type)))
        .Key(key);
  }
  return absl::OkStatus();
}

GgufType TypeOf(const GgufKvToWrite& kv) {
  if (const auto* owned = std::get_if<GgufOwnedValue>(&kv.value)) return owned->type;
  return std::get<1>(kv.value).second.type;
}

// The alignment the KVs ask for (u32 general.alignment), validated.
absl::StatusOr<uint64_t> AlignmentOf(absl::Span<const GgufKvToWrite> kvs) {
  for (const GgufKvToWrite& kv : kvs) {
    if (kv.key != "general.alignment") continue;
    if (TypeOf(kv) != GgufType::kU32) {
      return Error("gguf.write.alignment", "general.alignment must be u32")
          .Key(kv.key)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    uint64_t a;
    if (const auto* owned = std::get_if<GgufOwnedValue>(&kv.value)) {
      a = owned->bits;
    } else {
      const auto& [f, v] = std::get<1>(kv.value);
      a = f->ReadUnsigned(v);
    }
    if (a == 0 || (a & (a - 1)) != 0) {
      return Error("gguf.write.alignment", StrCat("general.alignment ", a, " is not a power of two"))
          .Key(kv.key)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    if (a > kGgufMaxWriteAlignment) {
      // Valid for ggml, but a 60-byte file could make us write gigabytes of
      // padding. `--set general.alignment=u32:32` rewrites it.
      return Error("gguf.write.alignment", StrCat("general.alignment ", a, " is over 1 MiB; refusing to pad to it"))
          .Key(kv.key)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    return a;
  }
  return kGgufDefaultAlignment;
}

absl::Status CheckTensor(const GgufTensorToWrite& t) {
  if (t.name.size() > kGgufMaxTensorName) {
    // A valid input (e.g. a long Safetensors name) GGUF cannot hold: exit 2.
    return Error("gguf.write.name", StrCat("tensor name is ", t.name.size(), " bytes; ggml allows at most ",
                                           kGgufMaxTensorName))
        .Tensor(t.name)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  if (t.ne.size() > kGgufMaxDims) {
    return Error("gguf.write.shape", StrCat(t.ne.size(), " dimensions; GGUF allows at most 4")).Tensor(t.name);
  }
  for (const uint64_t d : t.ne) {
    // ggml reads dims as int64 (the reader's gguf.tensor.shape), even when
    // another dim is 0 and the product fits.
    if (d > INT64_MAX) return Error("gguf.write.shape", StrCat("dimension ", d, " is negative as int64")).Tensor(t.name);
  }
  if (!GgmlIdOf(t.dtype)) {
    return Error("gguf.write.dtype", StrCat(DTypeName(t.dtype), " has no ggml type"))
        .Tensor(t.name)
        .Code(absl::StatusCode::kUnimplemented);
  }
  const std::optional<uint64_t> out = t.nbytes();
  const std::optional<uint64_t> n = ElementCount(t.ne);
  const std::optional<uint64_t> in = n ? DTypeByteSize(t.source_dtype, *n) : std::nullopt;
  if (!out || !in || *n > INT64_MAX) {
    return Error("gguf.write.shape", "shape overflows or is not a whole number of blocks").Tensor(t.name);
  }
  if (*in != t.data.size()) {
    return Error("gguf.write.size", StrCat("shape needs ", *in, " bytes of ", DTypeName(t.source_dtype), " but ",
                                           t.data.size(), " were given"))
        .Tensor(t.name);
  }
  if (!CanConvert(t.source_dtype, t.dtype)) {
    return Error("gguf.write.convert", StrCat("cannot convert ", DTypeName(t.source_dtype), " to ",
                                              DTypeName(t.dtype)))
        .Tensor(t.name)
        .Code(absl::StatusCode::kUnimplemented);
  }
  if (t.source_dtype != t.dtype && t.source_big_endian) {
    return Error("gguf.write.convert", "converting the dtype of big-endian data is not supported")
        .Tensor(t.name)
        .Code(absl::StatusCode::kUnimplemented);
  }
  return absl::OkStatus();
}

// Writes `bytes` swapped block by block, through a bounded buffer.
absl::Status WriteSwapped(DType t, absl::Span<const uint8_t> bytes, AtomicOutputFile& out) {
  const uint64_t block = GetDTypeInfo(t).block_bytes;
  const uint64_t chunk = std::max<uint64_t>(1, (1 << 20) / block) * block;
  std::vector<uint8_t> buf(std::min<uint64_t>(chunk, bytes.size()));
  for (uint64_t i = 0; i < bytes.size(); i += chunk) {
    const uint64_t m = std::min<uint64_t>(chunk, bytes.size() - i);
    std::memcpy(buf.data(), bytes.data() + i, m);
    CKPT_RETURN_IF_ERROR(SwapGgmlBlocks(t, absl::MakeSpan(buf.data(), m)));
    CKPT_RETURN_IF_ERROR(out.Write(absl::MakeConstSpan(buf.data(), m)));
  }
  return absl::OkStatus();
}

absl::Status WriteTensorData(const GgufTensorToWrite& t, bool big_endian, AtomicOutputFile& out) {
  const bool swap = t.source_big_endian != big_endian;
  if (t.source_dtype == t.dtype) {
    return swap ? WriteSwapped(t.dtype, t.data, out) : out.Write(t.data);
  }
  return ConvertInChunks(t.source_dtype, t.data, t.dtype, [&](absl::Span<const uint8_t> chunk) {
    return swap ? WriteSwapped(t.dtype, chunk, out) : out.Write(chunk);
  });
}

}  // namespace

GgufOwnedValue GgufOwnedValue::Unsigned(GgufType t, uint64_t v) {
  GgufOwnedValue x;
  x.type = t;
  x.bits = v;
  return x;
}
GgufOwnedValue GgufOwnedValue::Signed(GgufType t, int64_t v) {
  const uint32_t size = GgufTypeSize(t);
  const uint64_t mask = size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
  return Unsigned(t, static_cast<uint64_t>(v) & mask);
}
GgufOwnedValue GgufOwnedValue::F32(float v) { return Unsigned(GgufType::kF32, std::bit_cast<uint32_t>(v)); }
GgufOwnedValue GgufOwnedValue::F64(double v) { return Unsigned(GgufType::kF64, std::bit_cast<uint64_t>(v)); }
GgufOwnedValue GgufOwnedValue::Bool(bool v) { return Unsigned(GgufType::kBool, v ? 1 : 0); }
GgufOwnedValue GgufOwnedValue::String(std::string s) {
  GgufOwnedValue x;
  x.type = GgufType::kString;
  x.str = std::move(s);
  return x;
}
GgufOwnedValue GgufOwnedValue::Array(GgufType elem_type, std::vector<GgufOwnedValue> elements) {
  GgufOwnedValue x;
  x.type = GgufType::kArray;
  x.elem_type = elem_type;
  x.elements = std::move(elements);
  return x;
}

std::optional<uint64_t> GgufTensorToWrite::nbytes() const {
  const std::optional<uint64_t> n = ElementCount(ne);
  return n ? DTypeByteSize(dtype, *n) : std::nullopt;
}

absl::StatusOr<std::string> GgufHeader(absl::Span<const GgufKvToWrite> kvs,
                                       absl::Span<const GgufTensorToWrite> tensors, GgufWriteOptions options) {
  CKPT_ASSIGN_OR_RETURN(const uint64_t alignment, AlignmentOf(kvs));
  std::string h;
  Encoder e(&h, options.big_endian);
  h.append("GGUF");
  e.U32(3);
  e.U64(tensors.size());
  e.U64(kvs.size());
  absl::flat_hash_set<std::string_view> keys;
  for (const GgufKvToWrite& kv : kvs) {
    if (kv.key.empty()) return Error("gguf.write.key", "empty key");
    if (!keys.insert(kv.key).second) return Error("gguf.write.key", "key given twice").Key(kv.key);
    // The reader refuses these (gguf.key.nul): ggml would see another key.
    if (kv.key.find('\0') != std::string::npos) return Error("gguf.write.key", "key holds a NUL byte").Key(kv.key);
    e.String(kv.key);
    e.U32(static_cast<uint32_t>(TypeOf(kv)));
    if (const auto* owned = std::get_if<GgufOwnedValue>(&kv.value)) {
      CKPT_RETURN_IF_ERROR(CheckOwned(*owned, kv.key));
      e.Body(*owned);
    } else {
      e.Body(*std::get<1>(kv.value).first, std::get<1>(kv.value).second);
    }
  }
  absl::flat_hash_set<std::string_view> names;
  uint64_t offset = 0;
  for (const GgufTensorToWrite& t : tensors) {
    CKPT_RETURN_IF_ERROR(CheckTensor(t));
    // Compared as ggml does, as C strings (the reader's gguf.tensor.duplicate).
    if (!names.insert(std::string_view(t.name).substr(0, t.name.find('\0'))).second) {
      return Error("gguf.write.name", "tensor name given twice (up to a NUL byte)").Tensor(t.name);
    }
    e.String(t.name);
    e.U32(static_cast<uint32_t>(t.ne.size()));
    for (const uint64_t d : t.ne) e.U64(d);
    e.U32(*GgmlIdOf(t.dtype));
    e.U64(offset);
    const std::optional<uint64_t> padded = CheckedAlignUp(*t.nbytes(), alignment);
    const std::optional<uint64_t> next = padded ? CheckedAdd(offset, *padded) : std::nullopt;
    if (!next) return Error("gguf.write.size", "total data size overflows 64 bits").Tensor(t.name);
    offset = *next;
  }
  h.append(*CheckedAlignUp(h.size(), alignment) - h.size(), '\0');
  return h;
}

absl::Status WriteGguf(const std::string& path, absl::Span<const GgufKvToWrite> kvs,
                       absl::Span<const GgufTensorToWrite> tensors, GgufWriteOptions options,
                       const GgufProgressFn& progress) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out,
                        gguf_internal::WriteUncommitted(path, kvs, tensors, options, progress));
  return out->Commit();
}

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> gguf_internal::WriteUncommitted(
    const std::string& path, absl::Span<const GgufKvToWrite> kvs, absl::Span<const GgufTensorToWrite> tensors,
    GgufWriteOptions options, const GgufProgressFn& progress) {
  absl::StatusOr<std::string> header = GgufHeader(kvs, tensors, options);
  if (!header.ok()) return WithFile(header.status(), path);
  const uint64_t alignment = *AlignmentOf(kvs);
  uint64_t total = 0;
  for (const GgufTensorToWrite& t : tensors) total += *t.nbytes();  // checked by GgufHeader
  for (const GgufTensorToWrite& t : tensors) {
    if (t.source_big_endian != options.big_endian && !CanSwapGgmlType(t.dtype)) {
      return Error("gguf.write.endian", StrCat("ckpt does not know which fields of a ", DTypeName(t.dtype),
                                               " block to byte-swap"))
          .Tensor(t.name)
          .File(path)
          .Code(absl::StatusCode::kUnimplemented);
    }
  }

  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out, AtomicOutputFile::Create(path));
  CKPT_RETURN_IF_ERROR(out->Write(*header));
  static constexpr uint8_t kZeros[256] = {};
  uint64_t done = 0;
  for (const GgufTensorToWrite& t : tensors) {
    CKPT_RETURN_IF_ERROR(WithFile(WriteTensorData(t, options.big_endian, *out), path));
    const uint64_t n = *t.nbytes();
    for (uint64_t pad = *CheckedAlignUp(n, alignment) - n; pad > 0;) {
      const uint64_t m = std::min<uint64_t>(pad, sizeof kZeros);
      CKPT_RETURN_IF_ERROR(out->Write(absl::MakeConstSpan(kZeros, m)));
      pad -= m;
    }
    done += n;
    if (progress) progress(done, total);
  }
  CKPT_RETURN_IF_ERROR(out->Finish());
  return out;
}

}  // namespace ckpt
