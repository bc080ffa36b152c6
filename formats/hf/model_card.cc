// The general.* metadata of convert_hf_to_gguf.py (gguf-py's Metadata),
// re-implemented: see model_card.h for what is covered and how it fails.
//
// Layout: Python str semantics on code points; the model-id heuristics and
// the size label; a PyYAML-typed loader over libyaml events producing Python
// values; README.md's front matter; generation_config.json; the heuristics
// of Metadata.apply_metadata_heuristic; the KVs as GGUFWriter packs them.
#include "formats/hf/model_card.h"

#include <locale.h>  // newlocale, strtod_l
#include <wctype.h>  // iswupper_l, towupper_l, ...
#include <yaml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "absl/strings/str_replace.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "lib/fs_util.h"
#include "lib/str_util.h"

namespace ckpt::hf {
namespace {

// ---- limits -----------------------------------------------------------------

constexpr uint64_t kMaxReadmeBytes = 256ull << 20;       // whole README.md, checked as UTF-8
constexpr uint64_t kMaxFrontMatterBytes = 4ull << 20;    // the part kept; the front matter must end in it
constexpr uint64_t kMaxGenerationConfigBytes = 16ull << 20;
constexpr size_t kMaxYamlDepth = 1000;  // PyYAML itself fails (RecursionError) from about 450
constexpr size_t kMaxYamlNodes = 1u << 18;  // real model cards hold a few thousand
constexpr size_t kMaxArrayElements = 1u << 20;

// ---- UTF-8 and Python str semantics -----------------------------------------

using U32 = std::u32string;

// The value of hex digit `c`, or -1.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// UTF-8 → code points; undecodable bytes become U+DC80..U+DCFF, as Python
// decodes file names (surrogateescape).
U32 Decode(std::string_view s) {
  U32 out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8At(s, i, &cp);
    if (n == 0) {
      out.push_back(0xDC00 + static_cast<uint8_t>(s[i]));
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

// Code points → UTF-8. Surrogates are encoded as 3-byte sequences, which are
// not valid UTF-8: writing such a string fails later, as Python's encode
// does.
std::string Encode(const U32& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// str.isspace (Unicode whitespace: what str.split() and str.strip() use).
bool PySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}
bool Digit(char32_t c) { return c >= '0' && c <= '9'; }

// Beyond ASCII, letters and case come from glibc's C.UTF-8 (Unicode simple
// case mappings); without that locale a non-ASCII code point counts as a
// letter without case mappings.
locale_t Utf8Locale() {
  static const locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return l;
}
bool Wide(char32_t c) { return c >= 0x80 && !(c >= 0xD800 && c <= 0xDFFF) && c <= 0x10FFFF; }
bool PyUpperCase(char32_t c) {  // Lu or Lt
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return Wide(c) && Utf8Locale() && iswupper_l(static_cast<wint_t>(c), Utf8Locale());
}
bool PyLowerCase(char32_t c) {  // Ll
  if (c < 0x80) return c >= 'a' && c <= 'z';
  if (!Wide(c)) return false;
  if (!Utf8Locale()) return true;
  return iswlower_l(static_cast<wint_t>(c), Utf8Locale());
}
bool PyCased(char32_t c) {
  if (PyUpperCase(c) || PyLowerCase(c)) return true;
  if (!Wide(c) || !Utf8Locale()) return false;
  return towupper_l(static_cast<wint_t>(c), Utf8Locale()) != static_cast<wint_t>(c) ||
         towlower_l(static_cast<wint_t>(c), Utf8Locale()) != static_cast<wint_t>(c);
}
// ASCII letters, and beyond ASCII what C.UTF-8 calls alphabetic.
bool Alpha(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  if (!Wide(c) || PySpace(c)) return false;
  return !Utf8Locale() || iswalpha_l(static_cast<wint_t>(c), Utf8Locale());
}
bool Word(char32_t c) { return Alpha(c) || Digit(c) || c == '_'; }
// ASCII only: every caller deals with ASCII patterns.
char32_t Lower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
char32_t Upper(char32_t c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
char32_t PyToUpper(char32_t c) {
  if (c < 0x80 || !Wide(c) || !Utf8Locale()) return Upper(c);
  return static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), Utf8Locale()));
}
char32_t PyToLower(char32_t c) {
  if (c < 0x80 || !Wide(c) || !Utf8Locale()) return Lower(c);
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), Utf8Locale()));
}

bool EqualsNoCase(const U32& s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (Lower(s[i]) != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

std::vector<U32> SplitOn(const U32& s, char32_t sep) {
  std::vector<U32> parts(1);
  for (char32_t c : s) {
    if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

std::vector<U32> SplitWhitespace(const U32& s) {
  std::vector<U32> words;
  U32 cur;
  for (char32_t c : s) {
    if (PySpace(c)) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

// str.islower: some lower-case character and no upper- or title-case one.
bool PyIsLower(const U32& w) {
  bool cased = false;
  for (char32_t c : w) {
    if (PyUpperCase(c)) return false;
    if (PyLowerCase(c)) cased = true;
  }
  return cased;
}

// str.title: a cased character after a cased one is lower-cased, any other
// upper-cased.
U32 PyTitle(const U32& w) {
  U32 out = w;
  bool prev_cased = false;
  for (char32_t& c : out) {
    const bool cased = PyCased(c);
    c = prev_cased ? PyToLower(c) : PyToUpper(c);
    prev_cased = cased;
  }
  return out;
}

// \d+ from i; returns the end, or npos when there is no digit.
size_t Digits(const U32& p, size_t i) {
  if (i >= p.size() || !Digit(p[i])) return U32::npos;
  while (i < p.size() && Digit(p[i])) ++i;
  return i;
}

// ---- get_model_id_components ------------------------------------------------

// re.fullmatch(r'(v|iter)?\d+([.]\d+)*', part, re.IGNORECASE)
bool IsVersionPart(const U32& p) {
  auto rest = [&](size_t i) {
    i = Digits(p, i);
    while (i != U32::npos && i < p.size()) {
      if (p[i] != '.') return false;
      i = Digits(p, i + 1);
    }
    return i != U32::npos;
  };
  if (p.size() >= 4 && EqualsNoCase(p.substr(0, 4), "iter") && rest(4)) return true;
  if (!p.empty() && Lower(p[0]) == 'v' && rest(1)) return true;
  return rest(0);
}

// re.fullmatch(r'i?q\d(_\w)*|b?fp?(16|32)', part, re.IGNORECASE)
bool IsQuantTypePart(const U32& p) {
  const size_t n = p.size();
  auto q = [&](size_t i) {
    if (i + 2 > n || Lower(p[i]) != 'q' || !Digit(p[i + 1])) return false;
    for (i += 2; i < n; i += 2) {
      if (p[i] != '_' || i + 1 >= n || !Word(p[i + 1])) return false;
    }
    return true;
  };
  auto bits = [&](size_t i) {
    return n - i == 2 && ((p[i] == '1' && p[i + 1] == '6') || (p[i] == '3' && p[i + 1] == '2'));
  };
  auto f = [&](size_t i) {
    if (i >= n || Lower(p[i]) != 'f') return false;
    ++i;
    if (i < n && Lower(p[i]) == 'p' && bits(i + 1)) return true;
    return bits(i);
  };
  if (n > 0 && Lower(p[0]) == 'i' && q(1)) return true;
  if (q(0)) return true;
  if (n > 0 && Lower(p[0]) == 'b' && f(1)) return true;
  return f(0);
}

// re.fullmatch(r'(([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl)', part, re.IGNORECASE)
bool IsSizePart(const U32& p) {
  const size_t n = p.size();
  auto tail = [&](size_t i) {  // \d+([._]\d+)?[KMBT]\d?$
    i = Digits(p, i);
    if (i == U32::npos) return false;
    if (i < n && (p[i] == '.' || p[i] == '_')) {
      i = Digits(p, i + 1);
      if (i == U32::npos) return false;
    }
    if (i >= n) return false;
    const char32_t s = Lower(p[i]);
    if (s != 'k' && s != 'm' && s != 'b' && s != 't') return false;
    ++i;
    if (i < n && Digit(p[i])) ++i;
    return i == n;
  };
  if (n > 0 && Lower(p[0]) == 'a' && tail(1)) return true;
  const size_t d = Digits(p, 0);
  if (d != U32::npos && d < n && Lower(p[d]) == 'x' && tail(d + 1)) return true;
  if (tail(0)) return true;
  for (std::string_view w : {"small", "mini", "medium", "large", "xl", "xxl"}) {
    if (EqualsNoCase(p, w)) return true;
  }
  return false;
}

bool IsFinetuneWord(const U32& p) {
  for (std::string_view w : {"chat", "instruct", "vision", "lora"}) {
    if (EqualsNoCase(p, w)) return true;
  }
  return false;
}

// strtod in the C locale (correctly rounded; overflow gives inf and
// underflow 0 or a subnormal, as Python's float() does) for text already
// checked to be digits, '.', 'e' and a sign.
double CStrtod(const std::string& s) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
  return strtod_l(s.c_str(), nullptr, c_locale);
}

// Python's float(s) for s matching \d+(\.\d+)? (the only float the size
// heuristic can parse); nullopt otherwise (ValueError).
std::optional<double> SimpleDecimal(const U32& s) {
  size_t i = Digits(s, 0);
  if (i == U32::npos) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != '.') return std::nullopt;
    i = Digits(s, i + 1);
    if (i != s.size()) return std::nullopt;
  }
  return CStrtod(Encode(s));
}

// Python's exact float > int comparison, for d >= 0 (or +inf).
bool ExactGreater(double d, uint64_t n) {
  if (std::isnan(d)) return false;
  if (d >= 18446744073709551616.0) return true;
  if (d < 0) return false;
  const uint64_t fl = static_cast<uint64_t>(d);
  if (fl != n) return fl > n;
  return d > static_cast<double>(fl);
}

enum : uint8_t { kBasename = 1, kSize = 2, kFinetune = 4, kVersion = 8, kType = 16 };

struct U32Components {
  std::optional<U32> full_name, organization, basename, finetune, version, size_label;
};

U32Components ComponentsOf(const U32& id, uint64_t total) {
  U32Components r;
  if (id.find(U' ') != U32::npos) {
    r.full_name = id;
    return r;
  }
  U32 full = id;
  if (const size_t slash = id.find(U'/'); slash != U32::npos) {
    r.organization = id.substr(0, slash);
    full = id.substr(slash + 1);
  }
  if (r.organization && !r.organization->empty() && (*r.organization)[0] == '.') r.organization.reset();
  r.full_name = full;

  std::vector<U32> parts;
  for (U32& p : SplitOn(full, U'-')) {
    if (!p.empty()) parts.push_back(std::move(p));
  }
  std::vector<uint8_t> types(parts.size(), 0);
  for (size_t i = 0; i < parts.size(); ++i) {
    U32& part = parts[i];
    if (IsVersionPart(part)) {
      types[i] |= kVersion;
    } else if (IsQuantTypePart(part)) {
      types[i] |= kType;
      for (char32_t& c : part) c = Upper(c);
    } else if (i > 0 && IsSizePart(part)) {
      std::replace(part.begin(), part.end(), U'_', U'.');
      if (Digit(part.back())) {  // bloom-7b1 → 7.1b
        const char32_t last = part.back(), before = part[part.size() - 2];
        part = part.substr(0, part.size() - 2) + U'.' + last + before;
      }
      if (part.size() > 1 && Digit(part[part.size() - 2])) {
        const char32_t s = part.back();
        if (s == 'k' || s == 'm' || s == 'b' || s == 't') part.back() = Upper(s);
      }
      if (total != 0) {
        if (std::optional<double> mantissa = SimpleDecimal(part.substr(0, part.size() - 1))) {
          static constexpr std::u32string_view kScales = U" KMBT";
          const size_t k = kScales.find(part.back());
          const double scale = k == std::u32string_view::npos ? 0.001 : std::pow(1000.0, static_cast<double>(k));
          const double label = *mantissa * scale;
          const unsigned __int128 limit = static_cast<unsigned __int128>(total) * 7 / 8;
          // Far from the model size: a context length ("128k"), not a size.
          if (ExactGreater(std::fabs(label - static_cast<double>(total)), static_cast<uint64_t>(limit))) {
            types[i] |= kFinetune;
            part.back() = Lower(part.back());
          }
        }
      }
      if (types[i] == 0) types[i] |= kSize;
    } else if (i > 0 && IsFinetuneWord(part)) {
      types[i] |= kFinetune;
    }
  }
  // Word sizes ("small") give way to numeric ones.
  bool numeric_size = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if ((types[i] & kSize) && std::any_of(parts[i].begin(), parts[i].end(), Digit)) numeric_size = true;
  }
  if (numeric_size) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if ((types[i] & kSize) && std::all_of(parts[i].begin(), parts[i].end(), Alpha)) types[i] &= ~kSize;
    }
  }
  bool at_start = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (at_start && ((types[i] == 0 && Alpha(parts[i][0])) || (types[i] & kVersion))) {
      types[i] |= kBasename;
    } else {
      at_start = false;
      if (types[i] == 0) types[i] |= kFinetune;
    }
  }
  for (size_t i = parts.size(); i-- > 0;) {
    if ((types[i] & kBasename) && __builtin_popcount(types[i]) > 1) {
      types[i] &= ~kBasename;
    } else {
      break;
    }
  }
  auto join = [&](uint8_t want, uint8_t exclude, bool dedup) -> std::optional<U32> {
    std::vector<U32> picked;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!(types[i] & want) || (types[i] & exclude)) continue;
      if (dedup && std::find(picked.begin(), picked.end(), parts[i]) != picked.end()) continue;
      picked.push_back(parts[i]);
    }
    if (picked.empty()) return std::nullopt;
    U32 out = picked[0];
    for (size_t k = 1; k < picked.size(); ++k) out += U'-' + picked[k];
    return out;
  };
  r.basename = join(kBasename, 0, false);
  r.size_label = join(kSize, 0, true);
  r.finetune = join(kFinetune, 0, false);
  r.version = join(kVersion, kBasename, false);
  if (!r.size_label && !r.finetune && !r.version) r.basename.reset();
  return r;
}

U32 TitleOf(const U32& id) {
  U32 s = id;
  std::replace(s.begin(), s.end(), U'-', U' ');
  U32 out;
  for (const U32& w : SplitWhitespace(s)) {
    // re.match(r'^(v\d+(?:\.\d+)*|\d.*)$', w): a version or a leading digit.
    bool keep = Digit(w[0]);
    if (!keep && w[0] == 'v') {
      size_t i = Digits(w, 1);
      while (i != U32::npos && i < w.size() && w[i] == '.') i = Digits(w, i + 1);
      keep = i == w.size();
    }
    if (!out.empty()) out.push_back(U' ');
    out += (PyIsLower(w) && !keep) ? PyTitle(w) : w;
  }
  return out;
}

std::string RoundedNotation(uint64_t n, int min_digits) {
  double scaled;
  const char* suffix;
  if (n > 1000000000000ull) {
    scaled = static_cast<double>(n) * 1e-12;
    suffix = "T";
  } else if (n > 1000000000ull) {
    scaled = static_cast<double>(n) * 1e-9;
    suffix = "B";
  } else if (n > 1000000ull) {
    scaled = static_cast<double>(n) * 1e-6;
    suffix = "M";
  } else {
    scaled = static_cast<double>(n) * 1e-3;
    suffix = "K";
  }
  // len(str(round(scaled)).lstrip('0')); round() is half-to-even.
  const double rounded = std::nearbyint(scaled);
  int len = 0;
  if (rounded >= 1) len = static_cast<int>(std::to_string(static_cast<uint64_t>(rounded)).size());
  const int fix = std::max(min_digits - len, 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%s", fix, scaled, suffix);
  return buf;
}

uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

// ---- Python values from YAML ------------------------------------------------

// Where a value came from, for the file an error names.
enum class Origin : uint8_t { kCard, kConfig, kDirName };

// A Python object as yaml.safe_load builds it (or as the heuristics make
// one). Collections refer to other values of the same arena, possibly in
// cycles (YAML anchors).
struct PyValue {
  enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kStr, kBytes, kOpaque, kList, kDict };
  Kind kind = Kind::kNone;
  Origin origin = Origin::kCard;
  bool complete = true;    // collections: their end was seen
  bool int_big = false;    // kInt: beyond int64 (never zero)
  bool opaque_truthy = true, opaque_hashable = true;
  int64_t i = 0;           // kBool (0/1), kInt
  double f = 0;            // kFloat
  std::string s;           // kStr (UTF-8), kBytes; kOpaque: its Python type name
  std::vector<const PyValue*> items;                                // kList
  std::vector<std::pair<const PyValue*, const PyValue*>> entries;  // kDict: all pairs; the last of equal keys wins
};
using K = PyValue::Kind;

bool Truthy(const PyValue* v) {
  if (v == nullptr) return false;
  switch (v->kind) {
    case K::kNone: return false;
    case K::kBool:
    case K::kInt: return v->int_big || v->i != 0;
    case K::kFloat: return v->f != 0;  // NaN is true
    case K::kStr:
    case K::kBytes: return !v->s.empty();
    case K::kOpaque: return v->opaque_truthy;
    case K::kList: return !v->items.empty();
    case K::kDict: return !v->entries.empty();
  }
  return false;
}

bool Hashable(const PyValue* v) {
  if (v->kind == K::kList || v->kind == K::kDict) return false;
  return v->kind != K::kOpaque || v->opaque_hashable;
}

bool IsNone(const PyValue* v) { return v == nullptr || v->kind == K::kNone; }

// A short Python-style description for messages.
std::string Describe(const PyValue* v) {
  switch (v->kind) {
    case K::kNone: return "None";
    case K::kBool: return v->i ? "a bool (True)" : "a bool (False)";
    case K::kInt: return v->int_big ? "a big int" : StrCat("an int (", v->i, ")");
    case K::kFloat: {
      // The shortest form that reads back, as Python's repr.
      char buf[40];
      for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, v->f);
        if (std::strtod(buf, nullptr) == v->f) break;
      }
      std::string r = buf;
      if (r.find_first_of(".en") == std::string::npos) r += ".0";
      return StrCat("a float (", r, ")");
    }
    case K::kStr: return "a str";
    case K::kBytes: return "bytes";
    case K::kOpaque: return StrCat("a ", v->s);
    case K::kList: return "a list";
    case K::kDict: return "a dict";
  }
  return "a value";
}

// dict.get(key) for a str key: the last pair with that key, or null.
const PyValue* DictGet(const PyValue* dict, std::string_view key, bool* found = nullptr) {
  if (found) *found = false;
  if (dict == nullptr || dict->kind != K::kDict) return nullptr;
  for (auto it = dict->entries.rbegin(); it != dict->entries.rend(); ++it) {
    if (it->first->kind == K::kStr && it->first->s == key) {
      if (found) *found = true;
      return it->second;
    }
  }
  return nullptr;
}

bool DictHas(const PyValue* dict, std::string_view key) {
  bool found;
  DictGet(dict, key, &found);
  return found;
}

class Arena {
 public:
  PyValue* New(K kind, Origin origin = Origin::kCard) {
    PyValue& v = values_.emplace_back();
    v.kind = kind;
    v.origin = origin;
    return &v;
  }
  const PyValue* Str(std::string s, Origin origin) {
    PyValue* v = New(K::kStr, origin);
    v->s = std::move(s);
    return v;
  }
  size_t size() const { return values_.size(); }

 private:
  std::deque<PyValue> values_;  // stable addresses
};

// ---- PyYAML's resolver and SafeConstructor ----------------------------------

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

enum class Tag { kNull, kBool, kInt, kFloat, kBinary, kTimestamp, kOmap, kPairs, kSet, kStr, kSeq, kMap, kMerge, kValue, kOther };

Tag TagFromName(std::string_view t) {
  if (t.substr(0, kTagPrefix.size()) != kTagPrefix) return Tag::kOther;
  t.remove_prefix(kTagPrefix.size());
  static const std::map<std::string_view, Tag> kTags = {
      {"null", Tag::kNull},   {"bool", Tag::kBool},   {"int", Tag::kInt},       {"float", Tag::kFloat},
      {"binary", Tag::kBinary}, {"timestamp", Tag::kTimestamp}, {"omap", Tag::kOmap}, {"pairs", Tag::kPairs},
      {"set", Tag::kSet},     {"str", Tag::kStr},     {"seq", Tag::kSeq},       {"map", Tag::kMap},
      {"merge", Tag::kMerge}, {"value", Tag::kValue}};
  const auto it = kTags.find(t);
  return it == kTags.end() ? Tag::kOther : it->second;
}

bool IsDigitC(char c) { return c >= '0' && c <= '9'; }

// A tiny cursor for the resolver's regular expressions (all anchored).
struct Scan {
  std::string_view s;
  size_t i = 0;
  bool End() const { return i == s.size(); }
  bool Peek(char c) const { return i < s.size() && s[i] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i;
    return true;
  }
  bool EatAny(std::string_view set) {
    if (i < s.size() && set.find(s[i]) != std::string_view::npos) {
      ++i;
      return true;
    }
    return false;
  }
  size_t EatWhile(std::string_view set) {
    const size_t from = i;
    while (EatAny(set)) {
    }
    return i - from;
  }
  bool EatWord(std::string_view w) {
    if (s.substr(i, w.size()) != w) return false;
    i += w.size();
    return true;
  }
};

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kDigitsU = "0123456789_";

// (:[0-5]?[0-9])+
bool Sexagesimal(Scan& c) {
  bool any = false;
  while (c.Peek(':')) {
    Scan t = c;
    t.Eat(':');
    if (t.i + 1 < t.s.size() && t.s[t.i] >= '0' && t.s[t.i] <= '5' && IsDigitC(t.s[t.i + 1])) {
      t.i += 2;
    } else if (!t.EatAny(kDigits)) {
      break;
    }
    c = t;
    any = true;
  }
  return any;
}

// ([eE][-+][0-9]+)?
void Exponent(Scan& c) {
  Scan t = c;
  if (t.EatAny("eE") && t.EatAny("-+") && t.EatWhile(kDigits) > 0) c = t;
}

bool MatchBool(std::string_view v) {
  for (std::string_view w : {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                             "on", "On", "ON", "off", "Off", "OFF"}) {
    if (v == w) return true;
  }
  return false;
}

bool MatchFloat(std::string_view v) {
  {  // [-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?
    Scan c{v};
    c.EatAny("-+");
    if (c.EatAny(kDigits)) {
      c.EatWhile(kDigitsU);
      if (c.Eat('.')) {
        c.EatWhile(kDigitsU);
        Exponent(c);
        if (c.End()) return true;
      }
    }
  }
  {  // \.[0-9][0-9_]*([eE][-+][0-9]+)?
    Scan c{v};
    if (c.Eat('.') && c.EatAny(kDigits)) {
      c.EatWhile(kDigitsU);
      Exponent(c);
      if (c.End()) return true;
    }
  }
  {  // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    Scan c{v};
    c.EatAny("-+");
    if (c.EatAny(kDigits)) {
      c.EatWhile(kDigitsU);
      if (Sexagesimal(c) && c.Eat('.')) {
        c.EatWhile(kDigitsU);
        if (c.End()) return true;
      }
    }
  }
  {  // [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
    Scan c{v};
    c.EatAny("-+");
    if (c.Eat('.') && (c.EatWord("inf") || c.EatWord("Inf") || c.EatWord("INF")) && c.End()) return true;
    if (v == ".nan" || v == ".NaN" || v == ".NAN") return true;
  }
  return false;
}

bool MatchInt(std::string_view v) {
  Scan c{v};
  c.EatAny("-+");
  const Scan signed_start = c;
  if (c.EatWord("0b") && c.EatWhile("01_") > 0 && c.End()) return true;
  c = signed_start;
  if (c.Eat('0') && c.EatWhile("01234567_") > 0 && c.End()) return true;
  c = signed_start;
  if (c.Eat('0') && c.End()) return true;
  c = signed_start;
  if (c.EatAny("123456789")) {
    c.EatWhile(kDigitsU);
    if (c.End()) return true;
    if (Sexagesimal(c) && c.End()) return true;
  }
  c = signed_start;
  if (c.EatWord("0x") && c.EatWhile("0123456789abcdefABCDEF_") > 0 && c.End()) return true;
  return false;
}

struct Timestamp {
  int year = 0, month = 0, day = 0;
  bool has_time = false;
  int hour = 0, minute = 0, second = 0;
  bool has_tz_offset = false;
  int tz_hour = 0, tz_minute = 0;
};

// n digits (min..max) as an int.
bool Number(Scan& c, size_t min, size_t max, int* out) {
  size_t n = 0;
  int v = 0;
  while (n < max && c.i < c.s.size() && IsDigitC(c.s[c.i])) {
    v = v * 10 + (c.s[c.i] - '0');
    ++c.i;
    ++n;
  }
  *out = v;
  return n >= min;
}

// SafeConstructor.timestamp_regexp (date, optional time, fraction, zone).
// `resolver` applies the implicit resolver's stricter form (a date alone
// needs two-digit month and day).
std::optional<Timestamp> MatchTimestamp(std::string_view v, bool resolver) {
  Timestamp t;
  Scan c{v};
  if (!Number(c, 4, 4, &t.year) || !c.Eat('-') || !Number(c, 1, 2, &t.month) || !c.Eat('-') ||
      !Number(c, 1, 2, &t.day)) {
    return std::nullopt;
  }
  if (c.End()) {
    if (resolver && v.size() != 10) return std::nullopt;
    return t;
  }
  if (!c.EatAny("Tt") && c.EatWhile(" \t") == 0) return std::nullopt;
  t.has_time = true;
  if (!Number(c, 1, 2, &t.hour) || !c.Eat(':') || !Number(c, 2, 2, &t.minute) || !c.Eat(':') ||
      !Number(c, 2, 2, &t.second)) {
    return std::nullopt;
  }
  if (c.Eat('.')) c.EatWhile(kDigits);
  if (c.End()) return t;
  c.EatWhile(" \t");
  if (c.Eat('Z')) {
    // UTC
  } else if (c.EatAny("-+")) {
    t.has_tz_offset = true;
    if (!Number(c, 1, 2, &t.tz_hour)) return std::nullopt;
    if (c.Eat(':') && !Number(c, 2, 2, &t.tz_minute)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!c.End()) return std::nullopt;
  return t;
}

// What datetime.date / datetime.datetime / datetime.timezone accept.
bool ValidTimestamp(const Timestamp& t) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.year < 1 || t.month < 1 || t.month > 12) return false;
  const bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
  const int dim = kDays[t.month - 1] + (t.month == 2 && leap ? 1 : 0);
  if (t.day < 1 || t.day > dim) return false;
  if (!t.has_time) return true;
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return false;
  return !t.has_tz_offset || t.tz_hour * 60 + t.tz_minute < 24 * 60;
}

// BaseResolver.resolve for a plain scalar: the implicit resolvers of its
// first character, in registration order.
Tag ResolvePlain(std::string_view v) {
  if (v.empty()) return Tag::kNull;
  const char c = v[0];
  if (std::string_view("yYnNtTfFoO").find(c) != std::string_view::npos && MatchBool(v)) return Tag::kBool;
  if (std::string_view("-+0123456789.").find(c) != std::string_view::npos && MatchFloat(v)) return Tag::kFloat;
  if (std::string_view("-+0123456789").find(c) != std::string_view::npos && MatchInt(v)) return Tag::kInt;
  if (v == "<<") return Tag::kMerge;
  if (v == "~" || v == "null" || v == "Null" || v == "NULL") return Tag::kNull;
  if (IsDigitC(c) && MatchTimestamp(v, /*resolver=*/true)) return Tag::kTimestamp;
  if (v == "=") return Tag::kValue;
  return Tag::kStr;
}

// Python's float(s) (after construct_yaml_float's own clean-up): optional
// spaces and sign, then digits with an optional dot and exponent, or
// inf/infinity/nan.
std::optional<double> PyFloat(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || (s.front() >= '\t' && s.front() <= '\r'))) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || (s.back() >= '\t' && s.back() <= '\r'))) s.remove_suffix(1);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string lower(s);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  double v;
  if (lower == "inf" || lower == "infinity") {
    v = std::numeric_limits<double>::infinity();
  } else if (lower == "nan") {
    v = std::numeric_limits<double>::quiet_NaN();
  } else {
    Scan c{lower};
    const size_t int_digits = c.EatWhile(kDigits);
    size_t frac_digits = 0;
    if (c.Eat('.')) frac_digits = c.EatWhile(kDigits);
    if (int_digits + frac_digits == 0) return std::nullopt;
    if (c.Eat('e')) {
      c.EatAny("+-");
      if (c.EatWhile(kDigits) == 0) return std::nullopt;
    }
    if (!c.End()) return std::nullopt;
    v = CStrtod(lower);
  }
  return neg ? -v : v;
}

// base64.decodebytes (binascii.a2b_base64, non-strict): characters outside
// the alphabet are skipped, decoding stops at complete padding.
std::optional<std::string> Base64Decode(std::string_view in, std::string* error) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int quad = 0, pads = 0;
  unsigned left = 0;
  for (char c : in) {
    if (c == '=') {
      if (quad >= 2 && quad + ++pads >= 4) return out;
      continue;
    }
    const int v = value(c);
    if (v < 0) continue;
    pads = 0;
    switch (quad) {
      case 0: quad = 1; left = v; break;
      case 1: quad = 2; out.push_back(static_cast<char>((left << 2) | (v >> 4))); left = v & 0x0F; break;
      case 2: quad = 3; out.push_back(static_cast<char>((left << 4) | (v >> 2))); left = v & 0x03; break;
      default: quad = 0; out.push_back(static_cast<char>((left << 6) | v)); left = 0; break;
    }
  }
  if (quad == 1) {
    *error = "invalid base64: the number of data characters is 1 more than a multiple of 4";
    return std::nullopt;
  }
  if (quad != 0) {
    *error = "incorrect base64 padding";
    return std::nullopt;
  }
  return out;
}

// construct_yaml_int's value (its sign and whether it fits int64 are all
// that matter downstream). False where Python's int() would raise.
bool ParseYamlInt(std::string_view text, PyValue* out) {
  std::string v;
  for (char c : text) {
    if (c != '_') v.push_back(c);
  }
  if (v.empty()) return false;
  bool neg = false;
  if (v[0] == '-' || v[0] == '+') {
    neg = v[0] == '-';
    v.erase(0, 1);
  }
  if (v.empty()) return false;
  using U128 = unsigned __int128;
  constexpr U128 kCap = static_cast<U128>(1) << 64;  // beyond int64 either way
  U128 mag = 0;
  bool big = false;
  // Appends `digits` in `base` to `*acc` (saturating into `*sat`).
  auto digits_in = [](std::string_view digits, unsigned base, U128* acc, bool* sat) {
    if (digits.empty()) return false;
    for (char c : digits) {
      const int h = HexDigit(c);
      if (h < 0) return false;
      const unsigned d = static_cast<unsigned>(h);
      if (d >= base) return false;
      if (!*sat) {
        *acc = *acc * base + d;
        if (*acc > kCap) *sat = true;
      }
    }
    return true;
  };
  const std::string_view sv(v);
  if (v == "0") {
    // zero
  } else if (v.rfind("0b", 0) == 0) {
    if (!digits_in(sv.substr(2), 2, &mag, &big)) return false;
  } else if (v.rfind("0x", 0) == 0) {
    if (!digits_in(sv.substr(2), 16, &mag, &big)) return false;
  } else if (v[0] == '0') {
    if (!digits_in(sv, 8, &mag, &big)) return false;
  } else if (v.find(':') != std::string::npos) {
    // Base 60, most significant part first.
    size_t start = 0;
    while (true) {
      const size_t colon = v.find(':', start);
      U128 part = 0;
      bool part_big = false;
      if (!digits_in(sv.substr(start, colon - start), 10, &part, &part_big)) return false;
      if (!big) {
        if (part_big) {
          big = true;
        } else {
          mag = mag * 60 + part;
          if (mag > kCap) big = true;
        }
      }
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  } else {
    if (!digits_in(sv, 10, &mag, &big)) return false;
  }
  out->kind = K::kInt;
  const U128 limit = neg ? (static_cast<U128>(1) << 63) : ((static_cast<U128>(1) << 63) - 1);
  if (big || mag > limit) {
    out->int_big = true;
    out->i = neg ? -1 : 1;  // the sign only
  } else if (mag == 0) {
    out->i = 0;
  } else {
    out->i = neg ? -static_cast<int64_t>(mag - 1) - 1 : static_cast<int64_t>(mag);
  }
  return true;
}

// construct_yaml_float.
bool ParseYamlFloat(std::string_view text, double* out) {
  std::string v;
  for (char c : text) {
    if (c != '_') v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (v.empty()) return false;
  double sign = 1;
  if (v[0] == '-') sign = -1;
  if (v[0] == '-' || v[0] == '+') v.erase(0, 1);
  if (v == ".inf") {
    *out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  if (v == ".nan") {
    // SafeConstructor.nan_value is -inf/inf: on x86 the default NaN, whose
    // sign bit is set (it packs as f32 0xffc00000).
    *out = std::copysign(std::numeric_limits<double>::quiet_NaN(), -1.0);
    return true;
  }
  if (v.find(':') != std::string::npos) {
    std::vector<double> digits;
    size_t start = 0;
    while (true) {
      const size_t colon = v.find(':', start);
      std::optional<double> d = PyFloat(std::string_view(v).substr(start, colon - start));
      if (!d) return false;
      digits.push_back(*d);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (digits.size() > 11) return false;  // 60^11 no longer fits the exact base below
    uint64_t base = 1;
    double value = 0.0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      value += *it * static_cast<double>(base);
      base *= 60;
    }
    *out = sign * value;
    return true;
  }
  std::optional<double> d = PyFloat(v);
  if (!d) return false;
  *out = sign * *d;
  return true;
}

// The errors of the YAML loader name the README line and column.
class YamlLoader {
 public:
  YamlLoader(Arena* arena, std::string file) : arena_(arena), file_(std::move(file)) {}

  // yaml.safe_load(text): the root value, or null for an empty stream.
  absl::StatusOr<const PyValue*> Load(const std::string& text);

 private:
  enum class Special { kNone, kMerge, kValue };  // scalars tagged merge ("<<") / value ("=")
  struct Node {
    PyValue* value = nullptr;  // null for special scalars
    Special special = Special::kNone;
  };
  enum class FrameType { kSeq, kOmap, kMap, kSet, kOmapItem };
  struct Frame {
    FrameType type;
    PyValue* value;
    bool have_key = false;
    bool key_is_merge = false;
    const PyValue* key = nullptr;
    std::vector<std::pair<const PyValue*, const PyValue*>> own;
    std::vector<const PyValue*> merges;
    size_t pairs = 0;
  };

  absl::Status Fail(std::string_view rule, const yaml_mark_t& mark, std::string detail) const {
    // Line 1 of the YAML text is line 2 of README.md.
    return Error(rule, StrCat("line ", mark.line + 2, " column ", mark.column + 1, ": ", detail)).File(file_);
  }
  absl::StatusOr<PyValue*> NewValue(K kind, const yaml_mark_t& mark) {
    if (arena_->size() >= kMaxYamlNodes) {
      return WithCode(Fail("hf.model_card.too_large", mark, StrCat("more than ", kMaxYamlNodes, " YAML values")),
                      absl::StatusCode::kResourceExhausted);
    }
    return arena_->New(kind);
  }
  absl::Status Event(const yaml_event_t& e);
  absl::StatusOr<Node> Scalar(const yaml_event_t& e);
  absl::Status Attach(Node node, const yaml_mark_t& mark);
  absl::Status Close(const yaml_mark_t& mark);
  absl::Status Anchor(const yaml_char_t* anchor, Node node, const yaml_mark_t& mark);

  Arena* arena_;
  std::string file_;
  std::map<std::string, Node> anchors_;
  std::vector<Frame> stack_;
  int documents_ = 0;
  const PyValue* root_ = nullptr;
};

absl::StatusOr<const PyValue*> YamlLoader::Load(const std::string& text) {
  struct Parser {
    yaml_parser_t p;
    bool ok;
    Parser() { ok = yaml_parser_initialize(&p) != 0; }
    ~Parser() {
      if (ok) yaml_parser_delete(&p);
    }
  } parser;
  if (!parser.ok) return Error("hf.model_card.yaml", "libyaml could not start").Code(absl::StatusCode::kInternal);
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  yaml_parser_set_encoding(&parser.p, YAML_UTF8_ENCODING);
  while (true) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser.p, &event)) {
      return Fail("hf.model_card.yaml", parser.p.problem_mark,
                  StrCat("front matter is not YAML: ", parser.p.problem ? parser.p.problem : "syntax error",
                         parser.p.context ? StrCat(" (", parser.p.context, ")") : std::string()));
    }
    struct Deleter {
      yaml_event_t* e;
      ~Deleter() { yaml_event_delete(e); }
    } deleter{&event};
    if (event.type == YAML_STREAM_END_EVENT) break;
    CKPT_RETURN_IF_ERROR(Event(event));
  }
  return root_;
}

absl::Status YamlLoader::Anchor(const yaml_char_t* anchor, Node node, const yaml_mark_t& mark) {
  if (anchor == nullptr) return absl::OkStatus();
  const std::string name(reinterpret_cast<const char*>(anchor));
  if (!anchors_.emplace(name, node).second) {
    return Fail("hf.model_card.value", mark, StrCat("duplicate anchor &", name));
  }
  return absl::OkStatus();
}

absl::Status YamlLoader::Event(const yaml_event_t& e) {
  switch (e.type) {
    case YAML_DOCUMENT_START_EVENT:
      if (++documents_ > 1) return Fail("hf.model_card.yaml", e.start_mark, "more than one YAML document");
      return absl::OkStatus();
    case YAML_ALIAS_EVENT: {
      const std::string name(reinterpret_cast<const char*>(e.data.alias.anchor));
      const auto it = anchors_.find(name);
      if (it == anchors_.end()) return Fail("hf.model_card.value", e.start_mark, StrCat("undefined alias *", name));
      return Attach(it->second, e.start_mark);
    }
    case YAML_SCALAR_EVENT: {
      CKPT_ASSIGN_OR_RETURN(Node node, Scalar(e));
      CKPT_RETURN_IF_ERROR(Anchor(e.data.scalar.anchor, node, e.start_mark));
      return Attach(node, e.start_mark);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      if (stack_.size() >= kMaxYamlDepth) {
        return WithCode(Fail("hf.model_card.too_large", e.start_mark,
                             StrCat("YAML nested more than ", kMaxYamlDepth, " levels deep")),
                        absl::StatusCode::kResourceExhausted);
      }
      const bool seq = e.type == YAML_SEQUENCE_START_EVENT;
      const yaml_char_t* raw_tag = seq ? e.data.sequence_start.tag : e.data.mapping_start.tag;
      const yaml_char_t* anchor = seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
      const std::string tag_name = raw_tag ? reinterpret_cast<const char*>(raw_tag) : "";
      const Tag tag = (raw_tag == nullptr || tag_name == "!") ? (seq ? Tag::kSeq : Tag::kMap) : TagFromName(tag_name);
      Frame f;
      if (!stack_.empty() && stack_.back().type == FrameType::kOmap) {
        // !!omap / !!pairs items: one-pair mappings, whatever their tag.
        if (seq) return Fail("hf.model_card.value", e.start_mark, "!!omap/!!pairs expects mappings of one pair");
        f.type = FrameType::kOmapItem;
      } else if (seq) {
        if (tag == Tag::kSeq) {
          f.type = FrameType::kSeq;
        } else if (tag == Tag::kOmap || tag == Tag::kPairs) {
          f.type = FrameType::kOmap;
        } else {
          return Fail("hf.model_card.value", e.start_mark,
                      StrCat("a sequence tagged ", tag_name, " (safe_load cannot construct it)"));
        }
      } else {
        if (tag == Tag::kMap) {
          f.type = FrameType::kMap;
        } else if (tag == Tag::kSet) {
          f.type = FrameType::kSet;
        } else {
          return Fail("hf.model_card.value", e.start_mark,
                      StrCat("a mapping tagged ", tag_name, " (safe_load cannot construct it)"));
        }
      }
      CKPT_ASSIGN_OR_RETURN(f.value, NewValue(seq ? K::kList : K::kDict, e.start_mark));
      f.value->complete = false;
      CKPT_RETURN_IF_ERROR(Anchor(anchor, Node{f.value, Special::kNone}, e.start_mark));
      stack_.push_back(std::move(f));
      return absl::OkStatus();
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      return Close(e.start_mark);
    default:
      return absl::OkStatus();
  }
}

absl::StatusOr<YamlLoader::Node> YamlLoader::Scalar(const yaml_event_t& e) {
  const std::string_view text(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
  const yaml_char_t* raw_tag = e.data.scalar.tag;
  const std::string tag_name = raw_tag ? reinterpret_cast<const char*>(raw_tag) : "";
  Tag tag;
  // PyYAML resolves plain untagged scalars and, whatever their style, those
  // tagged "!" by the implicit resolvers; other untagged ones are str.
  if ((raw_tag == nullptr && e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) || tag_name == "!") {
    tag = ResolvePlain(text);
  } else if (raw_tag == nullptr) {
    tag = Tag::kStr;
  } else {
    tag = TagFromName(tag_name);
  }
  const yaml_mark_t& mark = e.start_mark;
  auto bad = [&](std::string why) { return Fail("hf.model_card.value", mark, std::move(why)); };
  switch (tag) {
    case Tag::kMerge: return Node{nullptr, Special::kMerge};
    case Tag::kValue: return Node{nullptr, Special::kValue};
    case Tag::kNull: {
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kNone, mark));
      return Node{v};
    }
    case Tag::kStr: {
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kStr, mark));
      v->s = std::string(text);
      return Node{v};
    }
    case Tag::kBool: {
      std::string lower(text);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      int b;
      if (lower == "yes" || lower == "true" || lower == "on") {
        b = 1;
      } else if (lower == "no" || lower == "false" || lower == "off") {
        b = 0;
      } else {
        return bad(StrCat("\"", text, "\" is not a YAML 1.1 boolean"));
      }
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kBool, mark));
      v->i = b;
      return Node{v};
    }
    case Tag::kInt: {
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kInt, mark));
      if (!ParseYamlInt(text, v)) return bad(StrCat("\"", text, "\" is not an integer"));
      return Node{v};
    }
    case Tag::kFloat: {
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kFloat, mark));
      if (!ParseYamlFloat(text, &v->f)) return bad(StrCat("\"", text, "\" is not a float"));
      return Node{v};
    }
    case Tag::kBinary: {
      for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) return bad("!!binary data is not ASCII");
      }
      std::string why;
      std::optional<std::string> bytes = Base64Decode(text, &why);
      if (!bytes) return bad(why);
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kBytes, mark));
      v->s = std::move(*bytes);
      return Node{v};
    }
    case Tag::kTimestamp: {
      std::optional<Timestamp> t = MatchTimestamp(text, /*resolver=*/false);
      if (!t) return bad(StrCat("\"", text, "\" is not a timestamp"));
      if (!ValidTimestamp(*t)) return bad(StrCat("\"", text, "\" is not a valid date or time"));
      CKPT_ASSIGN_OR_RETURN(PyValue* v, NewValue(K::kOpaque, mark));
      v->s = t->has_time ? "datetime.datetime" : "datetime.date";
      return Node{v};
    }
    case Tag::kSeq:
    case Tag::kOmap:
    case Tag::kPairs:
      return bad(StrCat("a scalar tagged ", tag_name, " (safe_load expects a sequence)"));
    case Tag::kMap:
    case Tag::kSet:
      return bad(StrCat("a scalar tagged ", tag_name, " (safe_load expects a mapping)"));
    case Tag::kOther:
      break;
  }
  return bad(StrCat("tag ", tag_name, " has no constructor in yaml.safe_load"));
}

absl::Status YamlLoader::Attach(Node node, const yaml_mark_t& mark) {
  if (stack_.empty()) {
    if (node.special != Special::kNone) return Fail("hf.model_card.value", mark, "a \"<<\" or \"=\" value has no constructor");
    root_ = node.value;
    return absl::OkStatus();
  }
  Frame& f = stack_.back();
  switch (f.type) {
    case FrameType::kSeq:
      if (node.special != Special::kNone) {
        return Fail("hf.model_card.value", mark, "a \"<<\" or \"=\" value has no constructor");
      }
      f.value->items.push_back(node.value);
      return absl::OkStatus();
    case FrameType::kOmap: {
      // An alias standing for a one-pair mapping.
      if (node.value == nullptr || node.value->kind != K::kDict || node.value->entries.size() != 1) {
        return Fail("hf.model_card.value", mark, "!!omap/!!pairs expects mappings of one pair");
      }
      CKPT_ASSIGN_OR_RETURN(PyValue* tuple, NewValue(K::kOpaque, mark));
      tuple->s = "tuple";
      f.value->items.push_back(tuple);
      return absl::OkStatus();
    }
    case FrameType::kMap:
    case FrameType::kSet:
    case FrameType::kOmapItem:
      break;
  }
  const bool flatten = f.type != FrameType::kOmapItem;
  if (!f.have_key) {
    f.have_key = true;
    f.key_is_merge = false;
    if (node.special == Special::kMerge && flatten) {
      f.key_is_merge = true;
    } else if (node.special == Special::kValue && flatten) {
      f.key = arena_->Str("=", Origin::kCard);  // flatten_mapping retags "=" keys as str
    } else if (node.special != Special::kNone) {
      return Fail("hf.model_card.value", mark, "a \"<<\" or \"=\" key has no constructor here");
    } else {
      if (flatten && !Hashable(node.value)) {
        return Fail("hf.model_card.value", mark, StrCat("found unhashable key (", Describe(node.value), ")"));
      }
      f.key = node.value;
    }
    return absl::OkStatus();
  }
  f.have_key = false;
  if (node.special != Special::kNone) {
    return Fail("hf.model_card.value", mark, "a \"<<\" or \"=\" value has no constructor");
  }
  ++f.pairs;
  if (f.key_is_merge) {
    f.merges.push_back(node.value);
  } else {
    f.own.emplace_back(f.key, node.value);
  }
  return absl::OkStatus();
}

absl::Status YamlLoader::Close(const yaml_mark_t& mark) {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  PyValue* v = f.value;
  v->complete = true;
  switch (f.type) {
    case FrameType::kSeq:
    case FrameType::kOmap:
      return Attach(Node{v}, mark);
    case FrameType::kOmapItem: {
      if (f.pairs != 1) {
        return Fail("hf.model_card.value", mark, StrCat("!!omap/!!pairs item has ", f.pairs, " pairs, not 1"));
      }
      v->entries = std::move(f.own);
      CKPT_ASSIGN_OR_RETURN(PyValue* tuple, NewValue(K::kOpaque, mark));
      tuple->s = "tuple";
      stack_.back().value->items.push_back(tuple);
      return absl::OkStatus();
    }
    case FrameType::kMap:
    case FrameType::kSet:
      break;
  }
  // flatten_mapping: merged pairs first (a list of mappings: the first one
  // wins, so it goes last), then the mapping's own.
  std::vector<std::pair<const PyValue*, const PyValue*>> entries;
  for (const PyValue* m : f.merges) {
    auto mapping = [&](const PyValue* x) -> absl::Status {
      if (x->kind != K::kDict) {
        return Fail("hf.model_card.value", mark, StrCat("expected a mapping for merging, found ", Describe(x)));
      }
      if (!x->complete) return Fail("hf.model_card.value", mark, "merging an enclosing mapping into itself");
      return absl::OkStatus();
    };
    if (m->kind == K::kList) {
      if (!m->complete) return Fail("hf.model_card.value", mark, "merging an enclosing sequence");
      for (const PyValue* x : m->items) CKPT_RETURN_IF_ERROR(mapping(x));
      for (auto it = m->items.rbegin(); it != m->items.rend(); ++it) {
        entries.insert(entries.end(), (*it)->entries.begin(), (*it)->entries.end());
      }
    } else {
      CKPT_RETURN_IF_ERROR(mapping(m));
      entries.insert(entries.end(), m->entries.begin(), m->entries.end());
    }
    if (entries.size() > kMaxYamlNodes) {
      return WithCode(Fail("hf.model_card.too_large", mark, "merge keys expand to too many pairs"),
                      absl::StatusCode::kResourceExhausted);
    }
  }
  entries.insert(entries.end(), f.own.begin(), f.own.end());
  v->entries = std::move(entries);
  if (f.type == FrameType::kSet) {
    v->kind = K::kOpaque;
    v->s = "set";
    v->opaque_truthy = !v->entries.empty();
    v->opaque_hashable = false;
  }
  return Attach(Node{v}, mark);
}

// ---- README.md --------------------------------------------------------------

// The line break at s[i] (str.splitlines' set), as its length; 0 if none.
size_t LineBreakAt(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  switch (c) {
    case '\n': case 0x0B: case 0x0C: case 0x1C: case 0x1D: case 0x1E: return 1;
    case '\r': return (i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
    case 0xC2: return (i + 1 < s.size() && static_cast<uint8_t>(s[i + 1]) == 0x85) ? 2 : 0;
    case 0xE2:
      return (i + 2 < s.size() && static_cast<uint8_t>(s[i + 1]) == 0x80 &&
              (static_cast<uint8_t>(s[i + 2]) == 0xA8 || static_cast<uint8_t>(s[i + 2]) == 0xA9))
                 ? 3
                 : 0;
    default: return 0;
  }
}

// Whether `tail` (shorter than a full sequence) can begin a valid UTF-8
// sequence: a chunk may end inside one.
bool Utf8Prefix(std::string_view tail) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(tail[k]); };
  if (tail.empty()) return true;
  const uint8_t c = b(0);
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return false;
  }
  if (tail.size() >= need) return false;
  if (tail.size() > 1 && (b(1) < lo || b(1) > hi)) return false;
  for (size_t k = 2; k < tail.size(); ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return false;
  }
  return true;
}

// load_model_card's text: the YAML between the first line "---" and the
// next, joined with "\n", plus the converter's two fixes. nullopt when there
// is no front matter. The whole file must be UTF-8 (Python decodes it all,
// body included).
absl::StatusOr<std::optional<std::string>> ReadFrontMatter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("file.unreadable", "cannot open").File(path).Code(absl::StatusCode::kUnavailable);
  std::string prefix;  // the first kMaxFrontMatterBytes bytes
  std::vector<char> chunk(1 << 20);
  std::string carry;  // an incomplete UTF-8 sequence at the previous chunk's end
  uint64_t total = 0;
  while (true) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const size_t got = static_cast<size_t>(in.gcount());
    if (got == 0) {
      if (in.bad()) return Error("file.unreadable", "read failed").File(path).Code(absl::StatusCode::kUnavailable);
      break;
    }
    if (total + got > kMaxReadmeBytes) {
      return Error("hf.model_card.too_large", StrCat("README.md is larger than ", kMaxReadmeBytes, " bytes"))
          .File(path)
          .Code(absl::StatusCode::kResourceExhausted);
    }
    if (prefix.size() < kMaxFrontMatterBytes) {
      prefix.append(chunk.data(), std::min<size_t>(got, kMaxFrontMatterBytes - prefix.size()));
    }
    std::string block = std::move(carry);
    const uint64_t block_start = total - block.size();
    block.append(chunk.data(), got);
    size_t i = 0;
    while (i < block.size()) {
      char32_t cp;
      const size_t n = DecodeUtf8At(block, i, &cp);
      if (n == 0) {
        if (Utf8Prefix(std::string_view(block).substr(i))) break;  // completed by the next chunk
        return Error("hf.model_card.utf8", "README.md is not UTF-8 (Python fails to decode it)")
            .File(path)
            .At(block_start + i);
      }
      i += n;
    }
    carry = block.substr(i);
    total += got;
  }
  if (!carry.empty()) {
    return Error("hf.model_card.utf8", "README.md ends inside a UTF-8 sequence")
        .File(path)
        .At(total - carry.size());
  }
  const bool whole = total == prefix.size();
  const std::string_view text(prefix);
  // The next line as str.splitlines() cuts it: 1 with `*line`, 0 at the end,
  // -1 when it runs past `prefix` (only possible for a file larger than it).
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) return whole ? 0 : -1;
    for (size_t i = pos; i < text.size(); ++i) {
      const size_t br = LineBreakAt(text, i);
      if (br == 0) continue;
      if (!whole && text[i] == '\r' && i + 1 == text.size()) return -1;  // may be "\r\n"
      *line = text.substr(pos, i - pos);
      pos = i + br;
      return 1;
    }
    if (!whole) return -1;
    *line = text.substr(pos);
    pos = text.size();
    return 1;
  };
  std::string_view line;
  if (next_line(&line) != 1 || line != "---") return std::optional<std::string>();
  std::string yaml;
  bool first = true;
  while (true) {
    const int r = next_line(&line);
    if (r == 0) break;
    if (r < 0) {
      return Error("hf.model_card.too_large", StrCat("the YAML front matter does not end within the first ",
                                                     kMaxFrontMatterBytes, " bytes of README.md"))
          .File(path)
          .Code(absl::StatusCode::kResourceExhausted);
    }
    if (line == "---") break;
    if (!first) yaml.push_back('\n');
    first = false;
    yaml.append(line);
  }
  yaml.push_back('\n');
  // The converter's fixes: the Norway problem, and tabs.
  yaml = absl::StrReplaceAll(yaml, {{"- no\n", "- \"no\"\n"}});
  yaml = absl::StrReplaceAll(yaml, {{"\t", "  "}});
  return std::optional<std::string>(std::move(yaml));
}

// ---- generation_config.json ----------------------------------------------

// Python's json accepts NaN, Infinity and -Infinity as values, and lone
// surrogate escapes in strings; nlohmann does not. Outside strings the
// former become marker strings, turned back into numbers where the sampling
// keys are read (NonFiniteMarker).
constexpr std::string_view kNonFinite[] = {"NaN", "Infinity", "-Infinity"};
std::string MarkerFor(std::string_view token) { return StrCat("\001", "ckpt-json-", token); }

// The UTF-16 unit of the 4 hex digits at text[i], or -1.
int HexUnit(std::string_view text, size_t i) {
  if (i + 4 > text.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const int d = HexDigit(text[k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Also marks lone surrogate escapes inside strings (MarkerFor("surrogate")):
// such a string cannot be written (Python's encode fails).
std::string MarkNonFinite(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'u') {
        // A lone surrogate escape (Python keeps it, nlohmann refuses it).
        const int unit = HexUnit(text, i + 2);
        if (unit >= 0xD800 && unit <= 0xDFFF) {
          const int next = (i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u') ? HexUnit(text, i + 8) : -1;
          if (unit <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
            out.append(text.substr(i, 12));
            i += 11;
          } else {
            out.append("\\u0001ckpt-json-surrogate");
            i += 5;
          }
          continue;
        }
      }
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view token : {kNonFinite[2], kNonFinite[0], kNonFinite[1]}) {
      if (text.substr(i, token.size()) == token) {
        StrAppend(&out, "\"\\u0001ckpt-json-", token, "\"");
        i += token.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(c);
  }
  return out;
}

// The number a marker string stands for, if `j` is one.
std::optional<double> NonFiniteMarker(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  if (s == MarkerFor("NaN")) return std::numeric_limits<double>::quiet_NaN();
  if (s == MarkerFor("Infinity")) return std::numeric_limits<double>::infinity();
  if (s == MarkerFor("-Infinity")) return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

// ---- the metadata -----------------------------------------------------------

// A base_model / dataset entry: a dict from the model card, or the fields
// the heuristics filled in.
struct Entry {
  const PyValue* dict = nullptr;
  std::vector<std::pair<std::string, const PyValue*>> fields;

  const PyValue* Get(std::string_view key, bool* found) const {
    if (dict != nullptr) return DictGet(dict, key, found);
    for (const auto& [k, v] : fields) {
      if (k == key) {
        *found = true;
        return v;
      }
    }
    *found = false;
    return nullptr;
  }
};

struct Metadata {
  const PyValue *name = nullptr, *author = nullptr, *version = nullptr, *organization = nullptr,
                *finetune = nullptr, *basename = nullptr, *description = nullptr, *quantized_by = nullptr,
                *size_label = nullptr, *url = nullptr, *doi = nullptr, *uuid = nullptr, *repo_url = nullptr,
                *source_url = nullptr, *source_doi = nullptr, *source_uuid = nullptr,
                *source_repo_url = nullptr, *license = nullptr, *license_name = nullptr,
                *license_link = nullptr;
  std::optional<std::vector<Entry>> base_models, datasets;
  std::optional<std::vector<const PyValue*>> tags, languages;
};

// The sampling keys: generation_config.json name, GGUF key, GGUF type.
struct SamplingKey {
  std::string_view json, gguf;
  GgufType type;
};
constexpr SamplingKey kSampling[] = {
    {"sequence", "general.sampling.sequence", GgufType::kString},
    {"top_k", "general.sampling.top_k", GgufType::kI32},
    {"top_p", "general.sampling.top_p", GgufType::kF32},
    {"min_p", "general.sampling.min_p", GgufType::kF32},
    {"xtc_probability", "general.sampling.xtc_probability", GgufType::kF32},
    {"xtc_threshold", "general.sampling.xtc_threshold", GgufType::kF32},
    {"temperature", "general.sampling.temp", GgufType::kF32},
    {"penalty_last_n", "general.sampling.penalty_last_n", GgufType::kI32},
    {"penalty_repeat", "general.sampling.penalty_repeat", GgufType::kF32},
    {"mirostat", "general.sampling.mirostat", GgufType::kI32},
    {"mirostat_tau", "general.sampling.mirostat_tau", GgufType::kF32},
    {"mirostat_eta", "general.sampling.mirostat_eta", GgufType::kF32},
};

class Builder {
 public:
  Builder(std::string dir, std::string readme, std::string config_path, uint64_t total)
      : dir_(std::move(dir)), readme_(std::move(readme)), config_path_(std::move(config_path)), total_(total) {}

  Arena& arena() { return arena_; }
  Metadata& meta() { return meta_; }

  void ApplyCard(const PyValue* card);
  void ApplyComponents(const U32& model_id, Origin origin);
  absl::Status Emit(const nlohmann::json* gen_config, std::vector<GgufKvToWrite>* out);

 private:
  const PyValue* Str(const U32& s, Origin origin) { return arena_.Str(Encode(s), origin); }
  std::string FileOf(const PyValue* v) const {
    switch (v->origin) {
      case Origin::kCard: return readme_;
      case Origin::kConfig: return config_path_;
      case Origin::kDirName: return dir_;
    }
    return dir_;
  }
  Entry EntryFromId(const PyValue* id);
  // gguf-py's add_string: nothing for None or falsy values.
  absl::Status AddString(std::string key, const PyValue* v);
  absl::StatusOr<GgufOwnedValue> PackArray(const std::vector<const PyValue*>& items, const std::string& key,
                                           int depth);
  absl::Status AddEntries(std::string_view prefix, const std::vector<Entry>& entries);

  std::string dir_, readme_, config_path_;
  uint64_t total_;
  Arena arena_;
  Metadata meta_;
  std::vector<GgufKvToWrite>* out_ = nullptr;
  size_t array_elements_ = 0;
};

// A base_model / dataset string: a URL (maybe a Hugging Face one) or a
// Hugging Face id.
Entry Builder::EntryFromId(const PyValue* id) {
  Entry e;
  const std::string& s = id->s;
  const U32 u = Decode(s);
  auto set = [&](std::string_view k, const PyValue* v) { e.fields.emplace_back(std::string(k), v); };
  if (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("ssh://", 0) == 0) {
    set("repo_url", id);
    if (s.find("huggingface.co") == std::string::npos) return e;
    // re.match(r"https?://huggingface.co/([^/]+/[^/]+)$", s): '.' is any
    // character but a newline; the group runs to the end.
    if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) return e;
    size_t p = s.rfind("https://", 0) == 0 ? 8 : 7;
    const std::string_view rest(s);
    if (rest.substr(p, 11) != "huggingface") return e;
    p += 11;
    if (p >= s.size()) return e;
    {
      char32_t cp;
      const size_t n = DecodeUtf8At(s, p, &cp);
      if (n == 0 || cp == '\n') return e;
      p += n;
    }
    if (rest.substr(p, 3) != "co/") return e;
    p += 3;
    const std::string_view group = rest.substr(p);
    const size_t slash = group.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 >= group.size() ||
        group.find('/', slash + 1) != std::string_view::npos) {
      return e;
    }
    const U32Components c = ComponentsOf(Decode(group), total_);
    if (c.full_name) set("name", Str(TitleOf(*c.full_name), id->origin));
    if (c.organization) set("organization", Str(TitleOf(*c.organization), id->origin));
    if (c.version) set("version", Str(*c.version, id->origin));
    return e;
  }
  const U32Components c = ComponentsOf(u, total_);
  if (c.full_name) set("name", Str(TitleOf(*c.full_name), id->origin));
  if (c.organization) set("organization", Str(TitleOf(*c.organization), id->origin));
  if (c.version) set("version", Str(*c.version, id->origin));
  if (c.organization && c.full_name) {
    set("repo_url", arena_.Str(StrCat("https://huggingface.co/", Encode(*c.organization), "/", Encode(*c.full_name)),
                               id->origin));
  }
  return e;
}

// Metadata.apply_metadata_heuristic's model-card part.
void Builder::ApplyCard(const PyValue* card) {
  Metadata& m = meta_;
  auto use = [&](const PyValue*& field, std::string_view key) {
    bool found;
    const PyValue* v = DictGet(card, key, &found);
    if (found && IsNone(field)) field = IsNone(v) ? nullptr : v;
  };
  auto use_array = [&](std::optional<std::vector<const PyValue*>>& field, std::string_view key) {
    const PyValue* v = DictGet(card, key);
    if (IsNone(v)) return;
    std::vector<const PyValue*> current = field ? *field : std::vector<const PyValue*>();
    if (v->kind == K::kStr) {
      current.push_back(v);
    } else if (v->kind == K::kList) {
      current.insert(current.end(), v->items.begin(), v->items.end());
    }
    field = std::move(current);
  };
  // llama.cpp's own names.
  use(m.name, "name");
  use(m.author, "author");
  use(m.version, "version");
  use(m.organization, "organization");
  use(m.description, "description");
  use(m.finetune, "finetune");
  use(m.basename, "basename");
  use(m.size_label, "size_label");
  use(m.source_url, "url");
  use(m.source_doi, "doi");
  use(m.source_uuid, "uuid");
  use(m.source_repo_url, "repo_url");
  // ... with model_ in front.
  use(m.name, "model_name");
  use(m.author, "model_author");
  use(m.version, "model_version");
  use(m.organization, "model_organization");
  use(m.description, "model_description");
  use(m.finetune, "model_finetune");
  use(m.basename, "model_basename");
  use(m.size_label, "model_size_label");
  use(m.source_url, "model_url");
  use(m.source_doi, "model_doi");
  use(m.source_uuid, "model_uuid");
  use(m.source_repo_url, "model_repo_url");
  // TheBloke-style cards.
  use(m.name, "model_name");
  use(m.author, "model_creator");
  use(m.basename, "model_type");

  auto sources = [&](std::optional<std::vector<Entry>>& field, std::array<std::string_view, 3> keys) {
    if (!DictHas(card, keys[0]) && !DictHas(card, keys[1]) && !DictHas(card, keys[2])) return;
    // card.get(k0, card.get(k1, card.get(k2))): the first key present wins,
    // even when its value is null.
    const PyValue* value = nullptr;
    for (std::string_view k : keys) {
      bool found;
      const PyValue* v = DictGet(card, k, &found);
      if (found) {
        value = v;
        break;
      }
    }
    std::vector<const PyValue*> ids;
    if (!IsNone(value)) {
      if (value->kind == K::kStr) {
        ids.push_back(value);
      } else if (value->kind == K::kList) {
        ids = value->items;
      }
    }
    if (!field) field.emplace();
    for (const PyValue* id : ids) {
      if (id->kind == K::kStr) {
        field->push_back(EntryFromId(id));
      } else if (id->kind == K::kDict) {
        field->push_back(Entry{id, {}});
      } else {
        field->push_back(Entry{});  // logged by the reference, kept as {}
      }
    }
  };
  sources(m.base_models, {"base_model", "base_models", "base_model_sources"});
  sources(m.datasets, {"datasets", "dataset", "dataset_sources"});

  use(m.license, "license");
  use(m.license_name, "license_name");
  use(m.license_link, "license_link");
  use_array(m.tags, "tags");
  use_array(m.tags, "pipeline_tag");
  use_array(m.languages, "languages");
  use_array(m.languages, "language");
}

// The _name_or_path and directory-name heuristics: fill what is still None.
void Builder::ApplyComponents(const U32& model_id, Origin origin) {
  const U32Components c = ComponentsOf(model_id, total_);
  Metadata& m = meta_;
  auto fill = [&](const PyValue*& field, const std::optional<U32>& v, bool title) {
    if (IsNone(field) && v) field = Str(title ? TitleOf(*v) : *v, origin);
  };
  fill(m.name, c.full_name, true);
  fill(m.organization, c.organization, true);
  fill(m.basename, c.basename, false);
  fill(m.finetune, c.finetune, false);
  fill(m.version, c.version, false);
  fill(m.size_label, c.size_label, false);
}

absl::Status Builder::AddString(std::string key, const PyValue* v) {
  if (!Truthy(v)) return absl::OkStatus();
  if (v->kind == K::kBytes) {
    out_->push_back({std::move(key), GgufOwnedValue::String(v->s)});
    return absl::OkStatus();
  }
  if (v->kind != K::kStr) {
    return Error("hf.model_card.type",
                 StrCat("is ", Describe(v), ", not a string: gguf-py cannot write it (the reference converter fails)"))
        .Key(key)
        .File(FileOf(v));
  }
  if (!IsValidUtf8(v->s)) {
    return Error("hf.model_card.utf8", "the directory name is not UTF-8, so gguf-py cannot write the value made from it")
        .Key(key)
        .File(FileOf(v));
  }
  out_->push_back({std::move(key), GgufOwnedValue::String(v->s)});
  return absl::OkStatus();
}

// GGUFWriter._pack_val for a list: the element type from the first item
// (GGUFValueType.get_type), every item of that type.
absl::StatusOr<GgufOwnedValue> Builder::PackArray(const std::vector<const PyValue*>& items, const std::string& key,
                                                  int depth) {
  const std::string file = readme_;
  if (items.empty()) return Error("hf.model_card.type", "holds an empty list (gguf-py refuses it)").Key(key).File(file);
  if (depth + 1 >= kGgufMaxArrayDepth) {
    return Error("hf.model_card.type", "lists nested deeper than GGUF allows").Key(key).File(file);
  }
  array_elements_ += items.size();
  if (array_elements_ > kMaxArrayElements) {
    return Error("hf.model_card.too_large", StrCat("more than ", kMaxArrayElements, " array elements"))
        .Key(key)
        .File(file)
        .Code(absl::StatusCode::kResourceExhausted);
  }
  auto type_of = [](const PyValue* v) -> std::optional<GgufType> {
    switch (v->kind) {
      case K::kStr:
      case K::kBytes: return GgufType::kString;
      case K::kList: return GgufType::kArray;
      case K::kFloat: return GgufType::kF32;
      case K::kBool: return GgufType::kBool;
      case K::kInt: return GgufType::kI32;
      default: return std::nullopt;
    }
  };
  const std::optional<GgufType> type = type_of(items[0]);
  if (!type) {
    return Error("hf.model_card.type", StrCat("holds ", Describe(items[0]), ", which has no GGUF type"))
        .Key(key)
        .File(FileOf(items[0]));
  }
  std::vector<GgufOwnedValue> elements;
  elements.reserve(items.size());
  for (const PyValue* v : items) {
    if (type_of(v) != type) {
      return Error("hf.model_card.type",
                   StrCat("mixes ", Describe(items[0]), " and ", Describe(v), " (a GGUF array has one type)"))
          .Key(key)
          .File(FileOf(v));
    }
    switch (*type) {
      case GgufType::kString:
        if (v->kind == K::kStr && !IsValidUtf8(v->s)) {
          return Error("hf.model_card.utf8", "a list item is not UTF-8").Key(key).File(FileOf(v));
        }
        elements.push_back(GgufOwnedValue::String(v->s));
        break;
      case GgufType::kBool:
        elements.push_back(GgufOwnedValue::Bool(v->i != 0));
        break;
      case GgufType::kI32:
        if (v->int_big || v->i < std::numeric_limits<int32_t>::min() || v->i > std::numeric_limits<int32_t>::max()) {
          return Error("hf.model_card.type", StrCat("holds ", Describe(v), ", outside int32")).Key(key).File(FileOf(v));
        }
        elements.push_back(GgufOwnedValue::Signed(GgufType::kI32, v->i));
        break;
      case GgufType::kF32: {
        const float f = static_cast<float>(v->f);
        if (std::isinf(f) && !std::isinf(v->f)) {
          return Error("hf.model_card.type", StrCat("holds ", Describe(v), ", too large for float32"))
              .Key(key)
              .File(FileOf(v));
        }
        elements.push_back(GgufOwnedValue::F32(f));
        break;
      }
      default: {
        CKPT_ASSIGN_OR_RETURN(GgufOwnedValue inner, PackArray(v->items, key, depth + 1));
        elements.push_back(std::move(inner));
        break;
      }
    }
  }
  return GgufOwnedValue::Array(*type, std::move(elements));
}

absl::Status Builder::AddEntries(std::string_view prefix, const std::vector<Entry>& entries) {
  out_->push_back({StrCat("general.", prefix, ".count"),
                   GgufOwnedValue::Unsigned(GgufType::kU32, static_cast<uint32_t>(entries.size()))});
  static constexpr std::string_view kFields[] = {"name", "author", "version", "organization", "description",
                                                 "url",  "doi",    "uuid",    "repo_url"};
  for (size_t i = 0; i < entries.size(); ++i) {
    for (std::string_view field : kFields) {
      bool found;
      const PyValue* v = entries[i].Get(field, &found);
      if (found) CKPT_RETURN_IF_ERROR(AddString(StrCat("general.", prefix, ".", i, ".", field), v));
    }
  }
  return absl::OkStatus();
}

// JSON truthiness, for generation_config.json values.
bool JsonTruthy(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return false;
    case nlohmann::json::value_t::boolean: return j.get<bool>();
    case nlohmann::json::value_t::number_integer: return j.get<int64_t>() != 0;
    case nlohmann::json::value_t::number_unsigned: return j.get<uint64_t>() != 0;
    case nlohmann::json::value_t::number_float: return j.get<double>() != 0;
    case nlohmann::json::value_t::string: return !j.get_ref<const std::string&>().empty();
    default: return !j.empty();
  }
}

absl::Status Builder::Emit(const nlohmann::json* gen_config, std::vector<GgufKvToWrite>* out) {
  out_ = out;
  const Metadata& m = meta_;
  out->push_back({"general.type", GgufOwnedValue::String("model")});

  if (gen_config != nullptr) {
    const std::string gen_path = StrCat(dir_, "/generation_config.json");
    for (const SamplingKey& s : kSampling) {
      const auto it = gen_config->find(std::string(s.json));
      if (it == gen_config->end() || it->is_null()) continue;
      nlohmann::json marked;
      if (std::optional<double> x = NonFiniteMarker(*it)) marked = *x;
      const nlohmann::json& v = marked.is_null() ? *it : marked;
      auto wrong = [&](std::string why) {
        std::string shown = v.dump();
        if (v.is_number_float() && !std::isfinite(v.get<double>())) shown = it->get<std::string>().substr(11);
        if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
        return Error("hf.generation_config.type", StrCat("\"", s.json, "\" is ", shown, ": ", why,
                                                         " (gguf-py cannot pack it; the reference converter fails)"))
            .Key(s.gguf)
            .File(gen_path);
      };
      const std::string key(s.gguf);
      if (s.type == GgufType::kString) {
        if (!JsonTruthy(v)) continue;
        if (!v.is_string()) return wrong("not a string");
        if (v.get_ref<const std::string&>().find(MarkerFor("surrogate")) != std::string::npos) {
          return wrong("a string with a lone surrogate, which UTF-8 cannot encode");
        }
        out->push_back({key, GgufOwnedValue::String(v.get<std::string>())});
      } else if (s.type == GgufType::kI32) {
        int64_t x;
        if (v.is_boolean()) {
          x = v.get<bool>() ? 1 : 0;
        } else if (v.is_number_unsigned()) {
          if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return wrong("outside int32");
          x = static_cast<int64_t>(v.get<uint64_t>());
        } else if (v.is_number_integer()) {
          x = v.get<int64_t>();
          if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
            return wrong("outside int32");
          }
        } else {
          return wrong("not an integer");
        }
        out->push_back({key, GgufOwnedValue::Signed(GgufType::kI32, x)});
      } else {
        double d;
        if (v.is_boolean()) {
          d = v.get<bool>() ? 1.0 : 0.0;
        } else if (v.is_number_unsigned()) {
          d = static_cast<double>(v.get<uint64_t>());
        } else if (v.is_number_integer()) {
          d = static_cast<double>(v.get<int64_t>());
        } else if (v.is_number_float()) {
          d = v.get<double>();
        } else {
          return wrong("not a number");
        }
        const float f = static_cast<float>(d);
        if (std::isinf(f) && !std::isinf(d)) return wrong("too large for float32");
        out->push_back({key, GgufOwnedValue::F32(f)});
      }
    }
  }

  CKPT_RETURN_IF_ERROR(AddString("general.name", m.name));
  CKPT_RETURN_IF_ERROR(AddString("general.author", m.author));
  CKPT_RETURN_IF_ERROR(AddString("general.version", m.version));
  CKPT_RETURN_IF_ERROR(AddString("general.organization", m.organization));
  CKPT_RETURN_IF_ERROR(AddString("general.finetune", m.finetune));
  CKPT_RETURN_IF_ERROR(AddString("general.basename", m.basename));
  CKPT_RETURN_IF_ERROR(AddString("general.description", m.description));
  CKPT_RETURN_IF_ERROR(AddString("general.quantized_by", m.quantized_by));
  CKPT_RETURN_IF_ERROR(AddString("general.size_label", m.size_label));
  if (!IsNone(m.license) && m.license->kind == K::kList) {
    std::string joined;
    for (size_t i = 0; i < m.license->items.size(); ++i) {
      const PyValue* v = m.license->items[i];
      if (v->kind != K::kStr) {
        return Error("hf.model_card.type",
                     StrCat("license list holds ", Describe(v), ": \",\".join fails (the reference converter fails)"))
            .Key("general.license")
            .File(FileOf(v));
      }
      if (i > 0) joined.push_back(',');
      joined += v->s;
    }
    CKPT_RETURN_IF_ERROR(AddString("general.license", arena_.Str(joined, m.license->origin)));
  } else {
    CKPT_RETURN_IF_ERROR(AddString("general.license", m.license));
  }
  CKPT_RETURN_IF_ERROR(AddString("general.license.name", m.license_name));
  CKPT_RETURN_IF_ERROR(AddString("general.license.link", m.license_link));
  CKPT_RETURN_IF_ERROR(AddString("general.url", m.url));
  CKPT_RETURN_IF_ERROR(AddString("general.doi", m.doi));
  CKPT_RETURN_IF_ERROR(AddString("general.uuid", m.uuid));
  CKPT_RETURN_IF_ERROR(AddString("general.repo_url", m.repo_url));
  CKPT_RETURN_IF_ERROR(AddString("general.source.url", m.source_url));
  CKPT_RETURN_IF_ERROR(AddString("general.source.doi", m.source_doi));
  CKPT_RETURN_IF_ERROR(AddString("general.source.uuid", m.source_uuid));
  CKPT_RETURN_IF_ERROR(AddString("general.source.repo_url", m.source_repo_url));
  if (m.base_models) CKPT_RETURN_IF_ERROR(AddEntries("base_model", *m.base_models));
  if (m.datasets) CKPT_RETURN_IF_ERROR(AddEntries("dataset", *m.datasets));
  if (m.tags && !m.tags->empty()) {
    CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, PackArray(*m.tags, "general.tags", 0));
    out->push_back({"general.tags", std::move(v)});
  }
  if (m.languages && !m.languages->empty()) {
    CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, PackArray(*m.languages, "general.languages", 0));
    out->push_back({"general.languages", std::move(v)});
  }
  return absl::OkStatus();
}

// Path(dir).name: the last component that is not empty or ".".
std::string PathName(std::string_view dir) {
  std::string_view last;
  size_t start = 0;
  while (start <= dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string_view::npos) end = dir.size();
    const std::string_view part = dir.substr(start, end - start);
    if (!part.empty() && part != ".") last = part;
    start = end + 1;
  }
  return std::string(last);
}

// load_generation_config: {} (here: null) when missing, unreadable or not
// JSON; an error where Python's decoding fails.
absl::StatusOr<std::optional<nlohmann::json>> LoadGenerationConfig(const std::string& path) {
  if (!IsRegularFile(path)) return std::optional<nlohmann::json>();
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxGenerationConfigBytes);
  if (!text.ok()) {
    if (ErrorRule(text.status()) == "file.too_large") {
      return WithCode(text.status(), absl::StatusCode::kResourceExhausted);
    }
    return std::optional<nlohmann::json>();  // IOError → {}
  }
  if (const size_t bad = FirstInvalidUtf8(*text); bad != std::string::npos) {
    return Error("hf.generation_config.utf8", "generation_config.json is not UTF-8 (Python fails to decode it)")
        .File(path)
        .At(bad);
  }
  if (text->rfind("\xEF\xBB\xBF", 0) == 0) return std::optional<nlohmann::json>();  // json.loads rejects a BOM
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(MarkNonFinite(*text), nullptr, /*allow_exceptions=*/false);
  } catch (...) {
    return std::optional<nlohmann::json>();
  }
  if (j.is_discarded()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(std::move(j));
}

}  // namespace

ParamCounts CountParams(absl::Span<const std::pair<std::string, std::vector<uint64_t>>> tensors) {
  ParamCounts c;
  uint64_t expert_sum = 0, n_expert_tensors = 0;
  for (const auto& [name, shape] : tensors) {
    uint64_t size = 1;
    for (uint64_t d : shape) {
      if (__builtin_mul_overflow(size, d, &size)) size = std::numeric_limits<uint64_t>::max();
    }
    if (name.find("_exps.") != std::string::npos && shape.size() >= 3) {
      const uint64_t count = shape[shape.size() - (name.find(".bias") != std::string::npos ? 2 : 3)];
      if (count != 0) c.expert = SatAdd(c.expert, size / count);
      expert_sum = SatAdd(expert_sum, count);
      ++n_expert_tensors;
    } else {
      c.shared = SatAdd(c.shared, size);
    }
    c.total = SatAdd(c.total, size);
  }
  c.expert_count = n_expert_tensors > 0 ? expert_sum / n_expert_tensors : 0;
  return c;
}

std::string SizeLabel(const ParamCounts& p) {
  if (p.expert_count > 0) return StrCat(p.expert_count, "x", RoundedNotation(SatAdd(p.shared, p.expert), 2));
  return RoundedNotation(p.total, 2);
}

ModelIdComponents GetModelIdComponents(std::string_view model_id, uint64_t total_params) {
  const U32Components c = ComponentsOf(Decode(model_id), total_params);
  ModelIdComponents r;
  auto enc = [](const std::optional<U32>& v) { return v ? std::optional<std::string>(Encode(*v)) : std::nullopt; };
  r.full_name = enc(c.full_name);
  r.organization = enc(c.organization);
  r.basename = enc(c.basename);
  r.finetune = enc(c.finetune);
  r.version = enc(c.version);
  r.size_label = enc(c.size_label);
  return r;
}

std::string IdToTitle(std::string_view id) { return Encode(TitleOf(Decode(id))); }

absl::StatusOr<std::vector<GgufKvToWrite>> ModelCardKvs(const std::string& dir, const nlohmann::json& config,
                                                        const ParamCounts& params) {
  try {
    std::error_code ec;
    const bool is_dir = std::filesystem::is_directory(dir, ec);
    const std::string readme = StrCat(dir, "/README.md");
    const std::string config_path = StrCat(dir, "/config.json");
    Builder b(dir, readme, config_path, params.total);

    // load_model_card (a front matter that is not a mapping counts as none).
    if (is_dir && IsRegularFile(readme)) {
      CKPT_ASSIGN_OR_RETURN(std::optional<std::string> yaml, ReadFrontMatter(readme));
      if (yaml) {
        YamlLoader loader(&b.arena(), readme);
        CKPT_ASSIGN_OR_RETURN(const PyValue* card, loader.Load(*yaml));
        if (card != nullptr && card->kind == K::kDict) b.ApplyCard(card);
      }
    }
    // load_hf_parameters: `_name_or_path`, when it looks like a model id.
    if (!config.is_null()) {
      if (!config.is_object()) return Error("hf.config.type", "config.json is not a JSON object").File(config_path);
      const auto it = config.find("_name_or_path");
      if (it != config.end() && !it->is_null()) {
        if (!it->is_string()) {
          return Error("hf.config.type", StrCat("\"_name_or_path\" is ", it->dump(), ", not a string"))
              .File(config_path);
        }
        const std::string& id = it->get_ref<const std::string&>();
        if (std::count(id.begin(), id.end(), '/') <= 1) b.ApplyComponents(Decode(id), Origin::kConfig);
      }
    }
    // The directory name.
    const std::string name = PathName(dir);
    b.ApplyComponents(Decode(name), Origin::kDirName);
    Metadata& m = b.meta();
    if (IsNone(m.name)) m.name = b.arena().Str(Encode(Decode(name)), Origin::kDirName);
    if (IsNone(m.size_label) && params.total > 0) m.size_label = b.arena().Str(SizeLabel(params), Origin::kDirName);

    std::optional<nlohmann::json> gen;
    if (is_dir) {
      CKPT_ASSIGN_OR_RETURN(gen, LoadGenerationConfig(StrCat(dir, "/generation_config.json")));
    }
    const nlohmann::json* gen_config = nullptr;
    if (gen) {
      if (gen->is_object()) {
        gen_config = &*gen;
      } else if (JsonTruthy(*gen)) {
        return Error("hf.generation_config.type",
                     StrCat("generation_config.json is ", gen->type_name(), ", not an object (the reference "
                            "converter fails on it)"))
            .File(StrCat(dir, "/generation_config.json"));
      }
    }
    std::vector<GgufKvToWrite> kvs;
    CKPT_RETURN_IF_ERROR(b.Emit(gen_config, &kvs));
    return kvs;
  } catch (const std::bad_alloc&) {
    return Error("hf.model_card.too_large", "out of memory reading the model card")
        .File(dir)
        .Code(absl::StatusCode::kResourceExhausted);
  } catch (const std::exception& e) {
    return Error("hf.model_card.internal", e.what()).File(dir).Code(absl::StatusCode::kInternal);
  }
}

}  // namespace ckpt::hf
