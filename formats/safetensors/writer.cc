// Safetensors writer: the reference serializer's bytes, streamed atomically.
#include <algorithm>
#include <cstring>

#include "lib/str_util.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ckpt/atomic_file.h"
#include "ckpt/checked_math.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "formats/safetensors/writer_internal.h"

namespace ckpt {
namespace {

// serde_json's compact string escaping: \" \\ and \b \f \n \r \t, other
// control bytes as \u00xx (lowercase hex); everything else raw.
void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

absl::Status CheckName(std::string_view name, std::string_view what) {
  if (!IsValidUtf8(name)) {
    return Error("safetensors.write.name_utf8", StrCat(what, " is not valid UTF-8 (shown escaped: ",
                                                       EscapeForDisplay(name), ")"));
  }
  return absl::OkStatus();
}

// Bytes of `t` as stored in the output, and a check that `t.data` holds
// exactly the elements its shape asks for in the source dtype.
absl::StatusOr<uint64_t> OutputBytes(const TensorToWrite& t) {
  const std::optional<uint64_t> n = CheckedProduct(t.shape);
  const std::optional<uint64_t> in = n ? DTypeByteSize(t.source_dtype, *n) : std::nullopt;
  const std::optional<uint64_t> out = t.nbytes();
  if (!in || !out) {
    return Error("safetensors.write.size", "shape does not give a whole number of bytes").Tensor(t.name);
  }
  if (*in != t.data.size()) {
    return Error("safetensors.write.size",
                 StrCat("shape needs ", *in, " bytes of ", DTypeName(t.source_dtype), " but ",
                              t.data.size(), " were given"))
        .Tensor(t.name);
  }
  if (!CanConvert(t.source_dtype, t.dtype)) {
    return Error("safetensors.write.convert",
                 StrCat("cannot convert ", DTypeName(t.source_dtype), " to ", DTypeName(t.dtype)))
        .Tensor(t.name)
        .Code(absl::StatusCode::kUnimplemented);
  }
  return *out;
}

absl::Status WriteTensorData(const TensorToWrite& t, AtomicOutputFile& out) {
  if (t.source_dtype == t.dtype) return out.Write(t.data);
  return ConvertInChunks(t.source_dtype, t.data, t.dtype,
                         [&out](absl::Span<const uint8_t> chunk) { return out.Write(chunk); });
}

}  // namespace

void SortForSafetensors(std::vector<TensorToWrite>& tensors) {
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorToWrite& a, const TensorToWrite& b) {
    if (a.dtype != b.dtype) return static_cast<int>(a.dtype) > static_cast<int>(b.dtype);
    return a.name < b.name;  // std::string compares bytes as unsigned char
  });
}

absl::StatusOr<std::string> SafetensorsHeader(absl::Span<const TensorToWrite> tensors,
                                              const SafetensorsMetadata& metadata,
                                              SafetensorsWriteOptions options) {
  if (options.data_alignment < 8 || options.data_alignment > kMaxDataAlignment ||
      (options.data_alignment & (options.data_alignment - 1)) != 0) {
    return Error("safetensors.write.alignment", StrCat("data alignment ", options.data_alignment,
                                                       " is not a power of two from 8 to ", kMaxDataAlignment))
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  std::string h = "{";
  bool first = true;
  if (metadata) {
    h.append("\"__metadata__\":{");
    absl::flat_hash_set<std::string_view> keys;
    for (size_t i = 0; i < metadata->size(); ++i) {
      const auto& [k, v] = (*metadata)[i];
      CKPT_RETURN_IF_ERROR(CheckName(k, "metadata key"));
      CKPT_RETURN_IF_ERROR(CheckName(v, "metadata value"));
      if (!keys.insert(k).second) {
        return Error("safetensors.write.duplicate_metadata_key", "metadata key given twice").Key(k);
      }
      if (i) h.push_back(',');
      AppendJsonString(k, &h);
      h.push_back(':');
      AppendJsonString(v, &h);
    }
    h.push_back('}');
    first = false;
  }
  absl::flat_hash_set<std::string_view> names;
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    CKPT_RETURN_IF_ERROR(CheckName(t.name, "tensor name"));
    if (t.name == "__metadata__") {
      return Error("safetensors.write.reserved_name", "`__metadata__` cannot be a tensor name").Tensor(t.name);
    }
    if (!names.insert(t.name).second) {
      return Error("safetensors.write.duplicate_name", "tensor name given twice").Tensor(t.name);
    }
    if (static_cast<int>(t.dtype) >= kSafetensorsDTypeCount) {
      return Error("safetensors.write.dtype", StrCat(DTypeName(t.dtype), " (a ggml block type) has no Safetensors dtype"))
          .Tensor(t.name)
          .Code(absl::StatusCode::kUnimplemented);
    }
    CKPT_ASSIGN_OR_RETURN(const uint64_t nbytes, OutputBytes(t));
    const std::optional<uint64_t> end = CheckedAdd(offset, nbytes);
    if (!end) return Error("safetensors.write.size", "total data size overflows 64 bits").Tensor(t.name);
    if (!first) h.push_back(',');
    first = false;
    AppendJsonString(t.name, &h);
    StrAppend(&h, ":{\"dtype\":\"", DTypeName(t.dtype), "\",\"shape\":[");
    for (size_t i = 0; i < t.shape.size(); ++i) StrAppend(&h, i ? "," : "", t.shape[i]);
    StrAppend(&h, "],\"data_offsets\":[", offset, ",", *end, "]}");
    offset = *end;
  }
  h.push_back('}');
  // Pad with spaces so the data section starts at a multiple of the alignment.
  const uint64_t data_start = *CheckedAlignUp(8 + h.size(), options.data_alignment);
  h.append(data_start - 8 - h.size(), ' ');
  if (h.size() > kSafetensorsMaxHeaderBytes) {
    return Error("safetensors.write.header_too_large",
                 StrCat("header would be ", h.size(), " bytes; readers refuse more than ",
                              kSafetensorsMaxHeaderBytes))
        .Code(absl::StatusCode::kFailedPrecondition);  // a limit of the output, not bad input
  }
  return h;
}

absl::Status WriteSafetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                              const SafetensorsMetadata& metadata, SafetensorsWriteOptions options) {
  return WriteSafetensors(path, std::move(tensors), metadata, options, nullptr);
}

absl::Status WriteSafetensors(const std::string& path, std::vector<TensorToWrite> tensors,
                              const SafetensorsMetadata& metadata, SafetensorsWriteOptions options,
                              const ProgressFn& progress) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out,
                        safetensors_internal::WriteUncommitted(path, std::move(tensors), metadata, options, progress));
  return out->Commit();
}

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> safetensors_internal::WriteUncommitted(
    const std::string& path, std::vector<TensorToWrite> tensors, const SafetensorsMetadata& metadata,
    SafetensorsWriteOptions options, const ProgressFn& progress) {
  SortForSafetensors(tensors);
  SafetensorsMetadata sorted_metadata = metadata;
  if (sorted_metadata) std::sort(sorted_metadata->begin(), sorted_metadata->end());
  absl::StatusOr<std::string> header = SafetensorsHeader(tensors, sorted_metadata, options);
  if (!header.ok()) return WithFile(header.status(), path);
  // The header checked every size, so nbytes() has a value from here on.
  uint64_t total = 0;
  for (const TensorToWrite& t : tensors) total += *t.nbytes();

  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> out, AtomicOutputFile::Create(path));
  uint8_t prefix[8];
  const uint64_t n = header->size();
  std::memcpy(prefix, &n, 8);  // little-endian host
  CKPT_RETURN_IF_ERROR(out->Write(absl::MakeConstSpan(prefix, 8)));
  CKPT_RETURN_IF_ERROR(out->Write(*header));
  uint64_t done = 0;
  for (const TensorToWrite& t : tensors) {
    CKPT_RETURN_IF_ERROR(WithFile(WriteTensorData(t, *out), path));
    done += *t.nbytes();
    if (progress) progress(done, total);
  }
  CKPT_RETURN_IF_ERROR(out->Finish());
  return out;
}

}  // namespace ckpt
