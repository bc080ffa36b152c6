// GGUF metadata values: names, decoding (with byte swapping) and JSON.
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "ckpt/gguf.h"
#include "ckpt/text.h"

namespace ckpt {
namespace {

constexpr std::array<std::string_view, kGgufTypeCount> kTypeNames = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
constexpr std::array<uint32_t, kGgufTypeCount> kTypeSizes = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

// Shortest decimal that reads back as the same float/double, as a JSON number.
template <typename F>
nlohmann::ordered_json FloatJson(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  // strtod of the float's shortest text gives the double nlohmann prints the
  // same way (so 0.1f shows as 0.1, not 0.10000000149011612).
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

// Valid UTF-8 as is; otherwise each byte of an invalid sequence as "\xNN".
std::string JsonSafeString(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  while (!s.empty()) {
    const size_t bad = FirstInvalidUtf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      break;
    }
    out.append(s.substr(0, bad));
    absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(s[bad]));
    s.remove_prefix(bad + 1);
  }
  return out;
}

}  // namespace

std::string_view GgufTypeName(GgufType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufTypeCount ? kTypeNames[i] : "?";
}

std::optional<GgufType> GgufTypeFromName(std::string_view name) {
  for (uint32_t i = 0; i < kGgufTypeCount; ++i) {
    if (kTypeNames[i] == name) return static_cast<GgufType>(i);
  }
  if (name == "string") return GgufType::kString;
  return std::nullopt;
}

uint32_t GgufTypeSize(GgufType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufTypeCount ? kTypeSizes[i] : 0;
}

uint64_t GgufFile::ReadUnsigned(const GgufValue& v) const {
  const uint8_t* p = bytes_.data() + v.offset;
  switch (v.type) {
    case GgufType::kU8:
    case GgufType::kBool:
      return p[0];
    case GgufType::kU16: {
      uint16_t x;
      std::memcpy(&x, p, 2);
      return big_endian_ ? __builtin_bswap16(x) : x;
    }
    case GgufType::kU32: {
      uint32_t x;
      std::memcpy(&x, p, 4);
      return big_endian_ ? __builtin_bswap32(x) : x;
    }
    case GgufType::kU64: {
      uint64_t x;
      std::memcpy(&x, p, 8);
      return big_endian_ ? __builtin_bswap64(x) : x;
    }
    default:
      return 0;
  }
}

int64_t GgufFile::ReadSigned(const GgufValue& v) const {
  GgufValue as_unsigned = v;
  switch (v.type) {
    case GgufType::kI8:
      return static_cast<int8_t>(bytes_[v.offset]);
    case GgufType::kI16:
      as_unsigned.type = GgufType::kU16;
      return static_cast<int16_t>(ReadUnsigned(as_unsigned));
    case GgufType::kI32:
      as_unsigned.type = GgufType::kU32;
      return static_cast<int32_t>(ReadUnsigned(as_unsigned));
    case GgufType::kI64:
      as_unsigned.type = GgufType::kU64;
      return static_cast<int64_t>(ReadUnsigned(as_unsigned));
    default:
      return 0;
  }
}

double GgufFile::ReadFloat(const GgufValue& v) const {
  GgufValue as_unsigned = v;
  if (v.type == GgufType::kF32) {
    as_unsigned.type = GgufType::kU32;
    return std::bit_cast<float>(static_cast<uint32_t>(ReadUnsigned(as_unsigned)));
  }
  if (v.type == GgufType::kF64) {
    as_unsigned.type = GgufType::kU64;
    return std::bit_cast<double>(ReadUnsigned(as_unsigned));
  }
  return 0;
}

std::string_view GgufFile::ReadString(const GgufValue& v) const {
  return std::string_view(reinterpret_cast<const char*>(bytes_.data() + v.offset), v.nbytes);
}

void GgufFile::ForEachElement(const GgufValue& v, absl::FunctionRef<bool(const GgufValue&)> fn) const {
  if (v.type != GgufType::kArray) return;
  const uint32_t size = GgufTypeSize(v.elem_type);
  const uint64_t len_bytes = version_ == 1 ? 4 : 8;
  // The reader checked every length, so these reads stay inside the array.
  const auto read_len = [&](uint64_t at) -> uint64_t {
    if (len_bytes == 4) {
      uint32_t x;
      std::memcpy(&x, bytes_.data() + at, 4);
      return big_endian_ ? __builtin_bswap32(x) : x;
    }
    uint64_t x;
    std::memcpy(&x, bytes_.data() + at, 8);
    return big_endian_ ? __builtin_bswap64(x) : x;
  };
  uint64_t pos = v.offset;
  for (uint64_t i = 0; i < v.count; ++i) {
    GgufValue e;
    e.type = v.elem_type;
    if (size != 0) {
      e.offset = pos;
      e.nbytes = size;
    } else if (v.elem_type == GgufType::kString) {
      e.offset = pos + len_bytes;
      e.nbytes = read_len(pos);
    } else {
      // A nested array: u32 element type, length, then its elements; walk
      // it to find where it ends.
      uint32_t t;
      std::memcpy(&t, bytes_.data() + pos, 4);
      e.elem_type = static_cast<GgufType>(big_endian_ ? __builtin_bswap32(t) : t);
      e.count = read_len(pos + 4);
      e.offset = pos + 4 + len_bytes;
      if (GgufTypeSize(e.elem_type) != 0) {
        e.nbytes = e.count * GgufTypeSize(e.elem_type);
      } else {
        uint64_t end = e.offset;
        ForEachElement(e, [&](const GgufValue& x) {
          end = x.offset + x.nbytes;
          return true;
        });
        e.nbytes = end - e.offset;
      }
      pos = e.offset + e.nbytes;
      if (!fn(e)) return;
      continue;
    }
    pos = e.offset + e.nbytes;
    if (!fn(e)) return;
  }
}

std::optional<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufKv* kv = FindKv(key);
  if (kv == nullptr) return std::nullopt;
  switch (kv->value.type) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
      return static_cast<int64_t>(ReadUnsigned(kv->value));
    case GgufType::kU64: {
      const uint64_t u = ReadUnsigned(kv->value);
      if (u > INT64_MAX) return std::nullopt;
      return static_cast<int64_t>(u);
    }
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return ReadSigned(kv->value);
    default:
      return std::nullopt;
  }
}

std::optional<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufKv* kv = FindKv(key);
  if (kv == nullptr || kv->value.type != GgufType::kString) return std::nullopt;
  return ReadString(kv->value);
}

nlohmann::ordered_json GgufFile::ToJson(const GgufValue& v, uint64_t max_elements) const {
  switch (v.type) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      return ReadUnsigned(v);
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return ReadSigned(v);
    case GgufType::kF32:
      return FloatJson(static_cast<float>(ReadFloat(v)));
    case GgufType::kF64:
      return FloatJson(ReadFloat(v));
    case GgufType::kBool:
      return ReadUnsigned(v) != 0;
    case GgufType::kString:
      return JsonSafeString(ReadString(v));
    case GgufType::kArray: {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      auto& elems = a.get_ref<nlohmann::ordered_json::array_t&>();
      elems.reserve(std::min(v.count, max_elements));
      ForEachElement(v, [&](const GgufValue& e) {
        if (elems.size() >= max_elements) return false;
        elems.push_back(ToJson(e, max_elements));
        return true;
      });
      return a;
    }
  }
  return nullptr;
}

}  // namespace ckpt
