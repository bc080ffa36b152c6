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

// A header block: ustar magic, or (old v7 tar, which Python's tarfile and so
// torch.load accept) a name and a checksum that matches.
bool LooksLikeTar(absl::Span<const uint8_t> b) {
  if (b.size() < 512) return false;
  if (std::memcmp(b.data() + 257, "ustar", 5) == 0) return true;
  if (b[0] == 0) return false;
  uint64_t sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : b[i];
  std::optional<uint64_t> recorded = Numeric(b.subspan(148, 8));
  return recorded && *recorded == sum && Numeric(b.subspan(124, 12)).has_value();
}

absl::StatusOr<std::vector<TarMember>> ReadTar(absl::Span<const uint8_t> b) {
  std::vector<TarMember> out;
  std::string next_name;
  std::optional<uint64_t> next_size;
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
    // A PAX record's size= replaces the header's for the next member (as
    // Python's tarfile does: the bytes it reads are what torch.load sees).
    uint64_t member_size = *size;
    const char type = static_cast<char>(h[156]);
    if (next_size && type != 'x' && type != 'g' && type != 'L') {
      member_size = *next_size;
      if (member_size > b.size() - data) {
        return Error("tar.truncated", StrCat("PAX size ", member_size, " runs past the end")).At(pos);
      }
    }
    absl::Span<const uint8_t> body = b.subspan(data, member_size);
    if (type == 'L') {
      next_name = Field(body, 0, body.size());
    } else if (type == 'x') {
      // PAX records: "LEN key=value\n", LEN counting the whole record.
      std::string_view rec(reinterpret_cast<const char*>(body.data()), body.size());
      while (!rec.empty()) {
        size_t sp = rec.find(' ');
        uint64_t len = 0;
        bool ok = sp != std::string_view::npos && sp > 0 && sp < 20;
        for (size_t k = 0; ok && k < sp; ++k) {
          ok = rec[k] >= '0' && rec[k] <= '9';
          len = len * 10 + (rec[k] - '0');
        }
        if (!ok || len <= sp + 1 || len > rec.size()) {
          return Error("tar.pax", "a PAX extended header record is malformed").At(pos);
        }
        std::string_view kv = rec.substr(sp + 1, len - sp - 1);
        if (!kv.empty() && kv.back() == '\n') kv.remove_suffix(1);
        const size_t eq = kv.find('=');
        if (eq != std::string_view::npos) {
          std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
          if (key == "path") next_name = std::string(value);
          if (key == "size") {
            uint64_t v = 0;
            bool digits = !value.empty() && value.size() < 20;
            for (char c : value) {
              digits = digits && c >= '0' && c <= '9';
              v = v * 10 + (c - '0');
            }
            if (!digits) return Error("tar.pax", "a PAX size is not a decimal number").At(pos);
            next_size = v;
          }
        }
        rec.remove_prefix(len);
      }
    } else if (type != 'g') {
      TarMember m;
      m.name = Field(h, 0, 100);
      if (std::memcmp(h.data() + 257, "ustar", 5) == 0 && h[345] != 0) m.name = StrCat(Field(h, 345, 155), "/", m.name);
      if (!next_name.empty()) m.name = std::move(next_name);
      next_name.clear();
      next_size.reset();
      m.type = type == 0 ? '0' : type;
      m.header_offset = pos;
      m.data_offset = data;
      m.data = body;
      out.push_back(std::move(m));
    }
    *size = member_size;
    pos = data + std::min<uint64_t>((*size + 511) / 512 * 512, b.size() - data);
  }
  return out;
}

}  // namespace ckpt
