#include "lib/str_util.h"
#include "lib/json_scanner.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ckpt::json {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool Scanner::Fail(size_t at, std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    error_pos_ = at;
  }
  return false;
}

bool Scanner::PeekKind(Kind* kind) {
  SkipWs();
  if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a value");
  switch (s_[pos_]) {
    case '{': *kind = Kind::kObject; return true;
    case '[': *kind = Kind::kArray; return true;
    case '"': *kind = Kind::kString; return true;
    case 't': *kind = Kind::kTrue; return true;
    case 'f': *kind = Kind::kFalse; return true;
    case 'n': *kind = Kind::kNull; return true;
    default:
      if (s_[pos_] == '-' || IsDigit(s_[pos_])) { *kind = Kind::kNumber; return true; }
      return Fail(pos_, "expected value");
  }
}

bool Scanner::Expect(char c, const char* what) {
  SkipWs();
  if (pos_ < s_.size() && s_[pos_] == c) {
    ++pos_;
    return true;
  }
  if (pos_ >= s_.size()) return Fail(pos_, StrCat("EOF while parsing ", what));
  return Fail(pos_, StrCat("expected ", what));
}

bool Scanner::ReadHex4(uint32_t* v) {
  if (pos_ + 4 > s_.size()) return Fail(pos_, "EOF while parsing a string");
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = s_[pos_ + i];
    r <<= 4;
    if (c >= '0' && c <= '9') r |= c - '0';
    else if (c >= 'a' && c <= 'f') r |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') r |= c - 'A' + 10;
    else return Fail(pos_ + i, "invalid escape");
  }
  pos_ += 4;
  *v = r;
  return true;
}

bool Scanner::ReadString(std::string_view* out, std::string* storage, bool* had_escape) {
  SkipWs();
  if (pos_ >= s_.size() || s_[pos_] != '"') return Fail(pos_, "expected string");
  const size_t start = ++pos_;
  // Fast scan for the closing quote when there are no escapes: eight bytes
  // at a time, stopping at any '"', '\\' or control byte (false positives
  // only send us to the byte loop early).
  size_t i = start;
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  while (i + 8 <= s_.size()) {
    uint64_t w;
    std::memcpy(&w, s_.data() + i, 8);
    const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    const uint64_t special = ((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w);
    if (special & kHigh) break;
    i += 8;
  }
  while (i < s_.size()) {
    const unsigned char c = static_cast<unsigned char>(s_[i]);
    if (c == '"' || c == '\\' || c < 0x20) break;
    ++i;
  }
  if (i >= s_.size()) return Fail(i, "EOF while parsing a string");
  if (s_[i] == '"') {
    *out = s_.substr(start, i - start);
    pos_ = i + 1;
    if (had_escape) *had_escape = false;
    return true;
  }
  if (static_cast<unsigned char>(s_[i]) < 0x20) {
    return Fail(i, "control character (\\u0000-\\u001F) found while parsing a string");
  }
  // Slow path: decode escapes into storage.
  storage->assign(s_.data() + start, i - start);
  pos_ = i;
  while (true) {
    if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a string");
    const unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == '"') { ++pos_; break; }
    if (c < 0x20) return Fail(pos_, "control character (\\u0000-\\u001F) found while parsing a string");
    if (c != '\\') { storage->push_back(static_cast<char>(c)); ++pos_; continue; }
    const size_t esc_at = pos_;
    if (++pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a string");
    const char e = s_[pos_++];
    switch (e) {
      case '"': storage->push_back('"'); break;
      case '\\': storage->push_back('\\'); break;
      case '/': storage->push_back('/'); break;
      case 'b': storage->push_back('\b'); break;
      case 'f': storage->push_back('\f'); break;
      case 'n': storage->push_back('\n'); break;
      case 'r': storage->push_back('\r'); break;
      case 't': storage->push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!ReadHex4(&cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail(esc_at, "lone trailing surrogate in hex escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
            return Fail(esc_at, "lone leading surrogate in hex escape");
          }
          pos_ += 2;
          uint32_t lo;
          if (!ReadHex4(&lo)) return false;
          if (lo < 0xDC00 || lo > 0xDFFF) return Fail(esc_at, "lone leading surrogate in hex escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        AppendUtf8(cp, storage);
        break;
      }
      default:
        return Fail(esc_at, "invalid escape");
    }
  }
  *out = *storage;
  if (had_escape) *had_escape = true;
  return true;
}

bool Scanner::ReadNumber(bool* is_u64, uint64_t* u, std::string_view* raw) {
  SkipWs();
  const size_t start = pos_;
  bool negative = false;
  if (pos_ < s_.size() && s_[pos_] == '-') { negative = true; ++pos_; }
  if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a value");
  if (!IsDigit(s_[pos_])) return Fail(pos_, "invalid number");
  bool overflow = false;
  uint64_t v = 0;
  if (s_[pos_] == '0') {
    ++pos_;
    if (pos_ < s_.size() && IsDigit(s_[pos_])) return Fail(pos_, "invalid number");
  } else {
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      const uint64_t d = static_cast<uint64_t>(s_[pos_] - '0');
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v)) overflow = true;
      ++pos_;
    }
  }
  bool is_float = false;
  if (pos_ < s_.size() && s_[pos_] == '.') {
    is_float = true;
    ++pos_;
    if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a value");
    if (!IsDigit(s_[pos_])) return Fail(pos_, "invalid number");
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
  }
  if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
    is_float = true;
    ++pos_;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
    if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing a value");
    if (!IsDigit(s_[pos_])) return Fail(pos_, "invalid number");
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
  }
  *raw = s_.substr(start, pos_ - start);
  *is_u64 = !negative && !is_float && !overflow;
  *u = *is_u64 ? v : 0;
  if (is_float || overflow) {
    // serde_json rejects values that do not fit a finite double.
    std::string text(*raw);
    errno = 0;
    const double d = std::strtod(text.c_str(), nullptr);
    if (std::isinf(d)) return Fail(start, "number out of range");
  }
  return true;
}

bool Scanner::ReadLiteral(std::string_view word) {
  if (s_.substr(pos_, word.size()) != word) {
    // Point at the first differing byte, like serde's "expected ident".
    size_t k = 0;
    while (pos_ + k < s_.size() && k < word.size() && s_[pos_ + k] == word[k]) ++k;
    if (pos_ + k >= s_.size()) return Fail(pos_ + k, "EOF while parsing a value");
    return Fail(pos_ + k, "expected ident");
  }
  pos_ += word.size();
  return true;
}

bool Scanner::SkipValue(int depth) {
  Kind kind;
  if (!PeekKind(&kind)) return false;
  switch (kind) {
    case Kind::kString: {
      std::string_view v;
      std::string storage;
      return ReadString(&v, &storage);
    }
    case Kind::kNumber: {
      bool is_u64;
      uint64_t u;
      std::string_view raw;
      return ReadNumber(&is_u64, &u, &raw);
    }
    case Kind::kTrue: return ReadLiteral("true");
    case Kind::kFalse: return ReadLiteral("false");
    case Kind::kNull: return ReadLiteral("null");
    case Kind::kArray: {
      if (depth + 1 > kMaxDepth) return Fail(pos_, "recursion limit exceeded");
      ++pos_;
      if (Consume(']')) return true;
      do {
        if (!SkipValue(depth + 1)) return false;
      } while (Consume(','));
      return Expect(']', "`,` or `]`");
    }
    case Kind::kObject: {
      if (depth + 1 > kMaxDepth) return Fail(pos_, "recursion limit exceeded");
      ++pos_;
      if (Consume('}')) return true;
      do {
        std::string_view key;
        std::string storage;
        SkipWs();
        if (pos_ >= s_.size()) return Fail(pos_, "EOF while parsing an object");
        if (s_[pos_] != '"') return Fail(pos_, "key must be a string");
        if (!ReadString(&key, &storage)) return false;
        if (!Expect(':', "`:`")) return false;
        if (!SkipValue(depth + 1)) return false;
      } while (Consume(','));
      return Expect('}', "`,` or `}`");
    }
  }
  return false;
}

}  // namespace ckpt::json
