#include "ckpt/text.h"

#include "absl/strings/str_format.h"

namespace ckpt {
size_t DecodeUtf8At(std::string_view s, size_t i, char32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;       // no overlongs
    if (c == 0xED) hi = 0x9F;       // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;       // no overlongs
    if (c == 0xF4) hi = 0x8F;       // ≤ U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  char32_t v = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (b(i + k) & 0x3F);
  *cp = v;
  return n;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Fast path: eight ASCII bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    char32_t cp;
    const size_t n = DecodeUtf8At(s, i, &cp);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c == '\\') { out += "\\\\"; ++i; continue; }
    if (c == '\'') { out += "\\'"; ++i; continue; }
    if (c == '\n') { out += "\\n"; ++i; continue; }
    if (c == '\t') { out += "\\t"; ++i; continue; }
    if (c == '\r') { out += "\\r"; ++i; continue; }
    if (c < 0x20 || c == 0x7F) { out += absl::StrFormat("\\x%02x", c); ++i; continue; }
    if (c < 0x80) { out += static_cast<char>(c); ++i; continue; }
    char32_t cp;
    const size_t n = DecodeUtf8At(s, i, &cp);
    if (n == 0) { out += absl::StrFormat("\\x%02x", c); ++i; continue; }
    // C1 controls and bidirectional overrides can rewrite what a terminal
    // shows (Trojan Source): show their code points instead.
    if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
        cp == 0x200E || cp == 0x200F || cp == 0x061C) {
      out += absl::StrFormat("\\u{%04x}", cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string HumanBytes(uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) return absl::StrFormat("%d B", n);
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 6) { v /= 1024; ++u; }
  if (v >= 100) return absl::StrFormat("%.0f %s", v, kUnits[u]);
  if (v >= 10) return absl::StrFormat("%.1f %s", v, kUnits[u]);
  return absl::StrFormat("%.2f %s", v, kUnits[u]);
}

}  // namespace ckpt
