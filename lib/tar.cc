#include "lib/tar.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

// An octal (or GNU base-256) numeric field.
std::optional<uint64_t> Numeric(absl::Span<const uint8_t> f) {
  uint64_t v = 0;
  if (!f.empty() && (f[0] & 0x80)) {
    for (size_t i = 1; i < f.size(); ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | f[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < f.size() && f[i] == ' ') ++i;
  for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (f[i] - '0');
  }
  for (; i < f.size(); ++i) {
    if (f[i] != ' ' && f[i] != 0) return std::nullopt;
  }
  return v;
}

std::string Field(absl::Span<const uint8_t> h, size_t at, size_t n) {
  const char* p = reinterpret_cast<const char*>(h.data() + at);
  return std::string(p, strnlen(p, n));
}

}  // namespace

bool LooksLikeTar(absl::Span<const uint8_t> b) {
  return b.size() >= 512 && std::memcmp(b.data() + 257, "ustar", 5) == 0;
}

absl::StatusOr<std::vector<TarMember>> ReadTar(absl::Span<const uint8_t> b) {
  std::vector<TarMember> out;
  std::string next_name;
  uint64_t pos = 0;
  while (b.size() - pos >= 512) {
    absl::Span<const uint8_t> h = b.subspan(pos, 512);
    if (std::all_of(h.begin(), h.end(), [](uint8_t c) { return c == 0; })) break;
    uint64_t sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    std::optional<uint64_t> recorded = Numeric(h.subspan(148, 8));
    std::optional<uint64_t> size = Numeric(h.subspan(124, 12));
    if (!recorded || *recorded != sum || !size) {
      return Error("tar.checksum", "tar header checksum or size field is invalid").At(pos);
    }
    const uint64_t data = pos + 512;
    if (*size > b.size() - data) {
      return Error("tar.truncated", StrCat("tar member of ", *size, " bytes runs past the end")).At(pos);
    }
    absl::Span<const uint8_t> body = b.subspan(data, *size);
    const char type = static_cast<char>(h[156]);
    if (type == 'L') {
      next_name = Field(body, 0, body.size());
    } else if (type == 'x') {
      // PAX records "LEN path=NAME\n".
      std::string_view s(reinterpret_cast<const char*>(body.data()), body.size());
      size_t p = s.find(" path=");
      if (p != std::string_view::npos) {
        size_t end = s.find('\n', p);
        next_name = std::string(s.substr(p + 6, end == std::string_view::npos ? std::string_view::npos : end - p - 6));
      }
    } else if (type != 'g') {
      TarMember m;
      m.name = Field(h, 0, 100);
      if (std::memcmp(h.data() + 257, "ustar", 5) == 0 && h[345] != 0) m.name = StrCat(Field(h, 345, 155), "/", m.name);
      if (!next_name.empty()) m.name = std::move(next_name);
      next_name.clear();
      m.type = type == 0 ? '0' : type;
      m.header_offset = pos;
      m.data_offset = data;
      m.data = body;
      out.push_back(std::move(m));
    }
    pos = data + std::min<uint64_t>((*size + 511) / 512 * 512, b.size() - data);
  }
  return out;
}

}  // namespace ckpt
