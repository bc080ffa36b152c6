// Symbolic pickle decoder: see include/ckpt/pickle.h.
//
// The opcode semantics follow CPython's Modules/_pickle.c (the loader torch
// and everyone else runs), not pickletools: where they differ the C
// unpickler decides what executes, so that is what we model.
#include "ckpt/pickle.h"

#include <locale.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

// Opcode bytes (pickletools names).
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I',
  BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P',
  BINPERSID = 'Q', REDUCE = 'R', STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  UNICODE = 'V', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
  EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h', INST = 'i', LONG_BINGET = 'j',
  LIST = 'l', EMPTY_LIST = ']', OBJ = 'o', PUT = 'p', BINPUT = 'q', LONG_BINPUT = 'r',
  SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
  PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
  TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
  BINBYTES = 'B', SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

constexpr int kHighestProtocol = 5;

uint64_t LoadLE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Appends the UTF-8 encoding of `cp` (surrogates encoded as themselves, the
// way Python's "surrogatepass" does).
void AppendUtf8(std::string* out, uint32_t cp) {
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Py_ISSPACE (and the C locale's isspace, which is the same set).
bool IsPySpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

// C functions see a line only up to its first NUL (CPython passes the line
// as a C string to strtol, PyLong_FromString and the float parser).
std::string_view UpToNul(std::string_view s) {
  size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// The value of an integer literal: sign, base and digits (no underscores,
// no leading zeros; empty for zero).
struct IntLiteral {
  bool neg = false;
  int base = 10;
  std::string digits;
};

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// PyLong_FromString(s, NULL, base) for base 0 or 10: false where it raises.
// (CPython's 4300-digit limit for base 10 is not applied: the limit can be
// raised at run time, and decoding on is the safe side for a scanner.)
bool ParsePyLong(std::string_view s, int base, IntLiteral* out) {
  s = UpToNul(s);
  size_t i = 0;
  while (i < s.size() && IsPySpace(s[i])) ++i;
  out->neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) out->neg = s[i++] == '-';
  auto at = [&](size_t k) { return k < s.size() ? s[k] : '\0'; };
  bool error_if_nonzero = false;
  if (base == 0) {
    char p = static_cast<char>(at(i + 1) | 0x20);
    if (at(i) != '0') {
      base = 10;
    } else if (p == 'x') {
      base = 16;
    } else if (p == 'o') {
      base = 8;
    } else if (p == 'b') {
      base = 2;
    } else {
      error_if_nonzero = true;  // a C-style octal literal: only zero is valid
      base = 10;
    }
  }
  if (at(i) == '0' && base != 10) {
    char p = static_cast<char>(at(i + 1) | 0x20);
    if ((base == 16 && p == 'x') || (base == 8 && p == 'o') || (base == 2 && p == 'b')) {
      i += 2;
      if (at(i) == '_') ++i;  // one underscore may follow the prefix
    }
  }
  if (at(i) == '_') return false;
  out->base = base;
  out->digits.clear();
  size_t ndigits = 0;
  char prev = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (prev == '_') return false;
    } else if (DigitValue(c) < base) {
      ++ndigits;
      if (!(out->digits.empty() && c == '0')) out->digits.push_back(c);
    } else {
      break;
    }
    prev = c;
  }
  if (prev == '_' || ndigits == 0) return false;
  if (error_if_nonzero && !out->digits.empty()) return false;
  while (i < s.size() && IsPySpace(s[i])) ++i;
  return i == s.size();
}

// The literal's value when it fits int64.
bool IntLiteralToInt64(const IntLiteral& lit, int64_t* v) {
  unsigned __int128 m = 0;
  for (char c : lit.digits) {
    m = m * lit.base + DigitValue(c);
    if (m > (static_cast<unsigned __int128>(1) << 63)) return false;
  }
  const unsigned __int128 limit = (static_cast<unsigned __int128>(1) << 63) - (lit.neg ? 0 : 1);
  if (m > limit) return false;
  *v = lit.neg ? static_cast<int64_t>(-static_cast<__int128>(m)) : static_cast<int64_t>(m);
  return true;
}

// A power-of-two-base literal as little-endian two's-complement bytes (the
// LONG1 form), in linear time.
std::string IntLiteralToLongBytes(const IntLiteral& lit) {
  const int bits = lit.base == 16 ? 4 : lit.base == 8 ? 3 : 1;
  std::string out;
  uint32_t acc = 0;
  int nacc = 0;
  for (size_t k = lit.digits.size(); k-- > 0;) {
    acc |= static_cast<uint32_t>(DigitValue(lit.digits[k])) << nacc;
    nacc += bits;
    while (nacc >= 8) {
      out.push_back(static_cast<char>(acc & 0xFF));
      acc >>= 8;
      nacc -= 8;
    }
  }
  if (nacc > 0) out.push_back(static_cast<char>(acc & 0xFF));
  while (!out.empty() && out.back() == 0) out.pop_back();
  out.push_back('\0');  // room for the sign bit
  if (lit.neg) {
    unsigned carry = 1;
    for (char& c : out) {
      unsigned v = static_cast<unsigned>(static_cast<uint8_t>(~static_cast<uint8_t>(c))) + carry;
      c = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
  }
  // Drop redundant sign bytes.
  while (out.size() > 1) {
    uint8_t top = out[out.size() - 1], next = out[out.size() - 2];
    if ((top == 0 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) {
      out.pop_back();
    } else {
      break;
    }
  }
  return out;
}

// glibc's strtol(s, &end, 0) when it consumes all of `s`: C-style octal
// with a leading 0, hex with 0x. False when it stops early or overflows.
bool StrtolWhole(std::string_view s, int64_t* v) {
  size_t i = 0;
  while (i < s.size() && IsPySpace(s[i])) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  int base = 10;
  if (i < s.size() && s[i] == '0') {
    if (i + 2 < s.size() && (s[i + 1] | 0x20) == 'x' && DigitValue(s[i + 2]) < 16) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  if (i == s.size()) return false;
  unsigned __int128 m = 0;
  for (; i < s.size(); ++i) {
    int d = DigitValue(s[i]);
    if (d >= base) return false;
    m = m * base + d;
    if (m > (static_cast<unsigned __int128>(1) << 63)) return false;  // ERANGE
  }
  if (m > (static_cast<unsigned __int128>(1) << 63) - (neg ? 0 : 1)) return false;
  *v = neg ? static_cast<int64_t>(-static_cast<__int128>(m)) : static_cast<int64_t>(m);
  return true;
}

// The float syntax PyOS_string_to_double accepts (no whitespace, no hex,
// no underscores): [sign] (digits [. [digits]] | . digits) [e [sign] digits],
// or [sign] inf / infinity / nan in any case.
bool IsPyFloatText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string lower;
  for (size_t k = i; k < s.size(); ++k) lower.push_back(static_cast<char>(s[k] | 0x20));
  if (lower == "inf" || lower == "infinity" || lower == "nan") return true;
  auto digits = [&]() {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  size_t n = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    n += digits();
  }
  if (n == 0) return false;
  if (i < s.size() && (s[i] | 0x20) == 'e') {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Well-formed UTF-8; with `surrogates`, encoded U+D800..U+DFFF pass too
// (Python's "surrogatepass", which BINUNICODE decoding uses).
bool IsUtf8(std::string_view s, bool surrogates) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < static_cast<size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (!surrogates && cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
  }
  return true;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

class Decoder {
 public:
  Decoder(absl::Span<const uint8_t> bytes, uint64_t base, const PickleLimits& limits,
          PickleProgram* out)
      : in_(bytes), base_(base), limits_(limits), p_(*out) {}

  void Run() {
    p_.offset = base_;
    p_.first_use.fill(UINT64_MAX);
    absl::Status s = Loop();
    p_.end = base_ + (stopped_at_ ? stopped_at_ : pos_);
    p_.status = s;
  }

 private:
  // ---- input -------------------------------------------------------------
  uint64_t Abs(size_t pos) const { return base_ + pos; }

  absl::Status Truncated(std::string_view what) const {
    return Error("pickle.truncated", StrCat(what, " of ", PickleOpcodeName(op_),
                                            " runs past the end of the data"))
        .At(Abs(op_pos_));
  }

  // Reads n bytes of operand; notes a frame boundary crossing.
  absl::Status Take(uint64_t n, const uint8_t** out) {
    if (n > in_.size() - pos_) return Truncated("the operand");
    *out = in_.data() + pos_;
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status TakeInt(int nbytes, uint64_t* v) {
    const uint8_t* p = nullptr;
    CKPT_RETURN_IF_ERROR(Take(nbytes, &p));
    *v = LoadLE(p, nbytes);
    return absl::OkStatus();
  }
  // A text-protocol line without its '\n'.
  absl::Status TakeLine(std::string_view* line) {
    const void* nl = std::memchr(in_.data() + pos_, '\n', in_.size() - pos_);
    if (nl == nullptr) return Truncated("the line operand");
    size_t end = static_cast<const uint8_t*>(nl) - in_.data();
    *line = std::string_view(reinterpret_cast<const char*>(in_.data() + pos_), end - pos_);
    pos_ = end + 1;
    return absl::OkStatus();
  }

  absl::Status Bad(std::string_view rule, std::string detail) const {
    return Error(rule, StrCat(PickleOpcodeName(op_), ": ", detail)).At(Abs(op_pos_));
  }

  // ---- nodes and stack -----------------------------------------------------
  absl::StatusOr<uint32_t> NewNode(PickleKind kind) {
    if (p_.nodes.size() >= limits_.max_nodes) {
      return Error("pickle.limit", StrCat("more than ", limits_.max_nodes, " values"))
          .At(Abs(op_pos_)).Code(absl::StatusCode::kResourceExhausted);
    }
    PickleNode& n = p_.nodes.emplace_back();
    n.kind = kind;
    n.opcode = op_;
    n.offset = Abs(op_pos_);
    return static_cast<uint32_t>(p_.nodes.size() - 1);
  }
  absl::Status Push(PickleKind kind, uint32_t* id = nullptr) {
    // Without items (the scanner), scalars and containers carry nothing
    // anyone reads: one shared node per kind keeps memory independent of
    // the number of values (a pickle of 1M dicts makes a handful of nodes).
    const bool shareable = !limits_.record_items && kind != PickleKind::kString && kind != PickleKind::kBytes &&
                           kind != PickleKind::kByteArray && kind != PickleKind::kBigInt &&
                           kind != PickleKind::kObject && kind != PickleKind::kPersistentId &&
                           kind != PickleKind::kExt && kind != PickleKind::kGlobal;
    uint32_t n;
    if (shareable && shared_[static_cast<int>(kind)] != kNoNode) {
      n = shared_[static_cast<int>(kind)];
    } else {
      CKPT_ASSIGN_OR_RETURN(n, NewNode(kind));
      if (shareable) shared_[static_cast<int>(kind)] = n;
    }
    stack_.push_back(n);
    if (id) *id = n;
    return absl::OkStatus();
  }
  size_t Fence() const { return marks_.empty() ? 0 : marks_.back(); }
  absl::Status Pop(uint32_t* v) {
    if (stack_.size() <= Fence()) return Bad("pickle.stack", "needs a value but the stack is empty");
    *v = stack_.back();
    stack_.pop_back();
    return absl::OkStatus();
  }
  absl::Status Top(uint32_t* v) const {
    if (stack_.size() <= Fence()) return Bad("pickle.stack", "needs a value but the stack is empty");
    *v = stack_.back();
    return absl::OkStatus();
  }
  // Pops everything above the last mark, and the mark.
  absl::Status PopMark(std::vector<uint32_t>* items) {
    if (marks_.empty()) return Bad("pickle.stack", "needs a MARK but there is none");
    size_t m = marks_.back();
    marks_.pop_back();
    if (items) items->assign(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return absl::OkStatus();
  }
  void AddItems(uint32_t node, std::vector<uint32_t>&& items) {
    if (!limits_.record_items) return;
    auto& dst = p_.nodes[node].items;
    if (dst.empty()) {
      dst = std::move(items);
    } else {
      dst.insert(dst.end(), items.begin(), items.end());
    }
  }
  void Call(uint32_t callable, uint32_t args, uint32_t result) {
    p_.calls.push_back({Abs(op_pos_), op_, callable, args, result});
  }
  absl::StatusOr<uint32_t> Global(std::string_view module, std::string_view name) {
    CKPT_ASSIGN_OR_RETURN(uint32_t g, NewNode(PickleKind::kGlobal));
    p_.nodes[g].text = module;
    p_.nodes[g].name = name;
    p_.imports.push_back({Abs(op_pos_), op_, module, name, g});
    return g;
  }
  // An operand of STACK_GLOBAL must be a str (as in CPython): a kString,
  // or a Python-2 str (STRING / BINSTRING forms, which the unpickler decodes
  // to str). A value only known at run time (a call result, a global, a
  // persistent id, an extension, a buffer) may be a str: it is accepted
  // with `known` false and an empty text.
  absl::Status StringOperand(uint32_t id, std::string_view what, std::string_view* out, bool* known) const {
    const PickleNode& n = p_.nodes[id];
    *known = true;
    switch (n.kind) {
      case PickleKind::kString:
        *out = n.text;
        return absl::OkStatus();
      case PickleKind::kBytes:
        if (n.opcode == STRING || n.opcode == BINSTRING || n.opcode == SHORT_BINSTRING) {
          *out = n.text;
          return absl::OkStatus();
        }
        break;
      case PickleKind::kObject:
      case PickleKind::kGlobal:
      case PickleKind::kPersistentId:
      case PickleKind::kExt:
      case PickleKind::kBuffer:
        *known = false;
        *out = {};
        return absl::OkStatus();
      default:
        break;
    }
    return Bad("pickle.value", StrCat("the ", what, " must be a str, not ", PickleKindName(n.kind)));
  }

  // A GLOBAL / INST line: not empty, UTF-8 (GLOBAL) or ASCII (INST).
  absl::Status NameLine(std::string_view line, std::string_view what, bool ascii) const {
    if (line.empty()) return Bad("pickle.value", StrCat("empty ", what, " line"));
    if (ascii ? !IsAscii(line) : !IsUtf8(line, /*surrogates=*/false)) {
      return Bad("pickle.value", StrCat("the ", what, " is not ", ascii ? "ASCII" : "UTF-8"));
    }
    return absl::OkStatus();
  }

  std::string_view Own(std::string s) {
    p_.owned.push_back(std::move(s));
    return p_.owned.back();
  }
  std::string_view View(const uint8_t* p, uint64_t n) const {
    return std::string_view(reinterpret_cast<const char*>(p), n);
  }

  // ---- text forms ------------------------------------------------------------
  // An int literal's node: kInt when it fits int64, else kBigInt (decimal
  // text for base 10, LONG1-style bytes for the power-of-two bases).
  absl::Status PushIntLiteral(const IntLiteral& lit) {
    uint32_t id = 0;
    int64_t v = 0;
    if (IntLiteralToInt64(lit, &v)) {
      CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
      p_.nodes[id].int_value = v;
      return absl::OkStatus();
    }
    CKPT_RETURN_IF_ERROR(Push(PickleKind::kBigInt, &id));
    if (lit.base == 10) {
      p_.nodes[id].text = Own(StrCat(lit.neg ? "-" : "", lit.digits));
    } else {
      p_.nodes[id].text = Own(IntLiteralToLongBytes(lit));
      p_.nodes[id].big_binary = true;
    }
    return absl::OkStatus();
  }

  // INT: CPython tries strtol(line, &end, 0) (so "010" is 8) and, unless it
  // consumed the whole line without overflow, int(line, 0). A two-character
  // line that strtol reads as 0 or 1 ("00", "01", " 1", "-0") is a bool.
  absl::Status PushTextInt(std::string_view line) {
    if (line.empty()) return Bad("pickle.value", "empty line");
    int64_t x = 0;
    uint32_t id = 0;
    if (StrtolWhole(UpToNul(line), &x)) {
      if (line.size() == 2 && (x == 0 || x == 1)) {
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kBool, &id));
      } else {
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
      }
      p_.nodes[id].int_value = x;
      return absl::OkStatus();
    }
    IntLiteral lit;
    if (!ParsePyLong(line, 0, &lit)) return Bad("pickle.value", "the operand is not an integer");
    return PushIntLiteral(lit);
  }

  // LONG: int(line, 0) after dropping one trailing 'L'.
  absl::Status PushTextLong(std::string_view line) {
    if (line.empty()) return Bad("pickle.value", "empty line");
    if (line.back() == 'L') line.remove_suffix(1);
    IntLiteral lit;
    if (!ParsePyLong(line, 0, &lit)) return Bad("pickle.value", "the operand is not an integer");
    return PushIntLiteral(lit);
  }

  // FLOAT: PyOS_string_to_double, which must end the line (or meet a NUL);
  // a finite literal that overflows is an error, one that underflows is 0.
  absl::Status PushTextFloat(std::string_view line) {
    if (line.empty()) return Bad("pickle.value", "empty line");
    std::string s(UpToNul(line));
    if (!IsPyFloatText(s)) return Bad("pickle.value", "the operand is not a float");
    static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
    double d = strtod_l(s.c_str(), nullptr, c_locale);
    if (std::isinf(d)) {
      std::string_view t = s;
      if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
      if (!t.empty() && (t[0] | 0x20) != 'i') return Bad("pickle.value", "the float overflows");
    }
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(PickleKind::kFloat, &id));
    p_.nodes[id].float_value = d;
    return absl::OkStatus();
  }

  // STRING: a Python repr of a byte string, quoted with ' or ".
  absl::Status PushQuotedString(std::string_view line) {
    if (line.size() < 2 || line.front() != line.back() || (line.front() != '\'' && line.front() != '"')) {
      return Bad("pickle.value", "the STRING operand is not quoted");
    }
    std::string_view body = line.substr(1, line.size() - 2);
    std::string out;
    out.reserve(body.size());
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i + 1 == body.size()) return Bad("pickle.value", "trailing \\ in STRING");
      char e = body[++i];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case '\n': break;
        case 'x': {
          int h = i + 2 < body.size() ? HexValue(body[i + 1]) : -1;
          int l = i + 2 < body.size() ? HexValue(body[i + 2]) : -1;
          if (h < 0 || l < 0) return Bad("pickle.value", "bad \\x escape in STRING");
          out.push_back(static_cast<char>(h * 16 + l));
          i += 2;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
              v = v * 8 + (body[++i] - '0');
            }
            out.push_back(static_cast<char>(v & 0xFF));
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
    // Python 3 decodes a protocol-0 STRING with the unpickler's encoding
    // (ASCII by default); keep it a str when it is ASCII, like the loader.
    bool ascii = true;
    for (unsigned char c : out) ascii &= c < 0x80;
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(ascii ? PickleKind::kString : PickleKind::kBytes, &id));
    p_.nodes[id].text = Own(std::move(out));
    return absl::OkStatus();
  }

  // UNICODE: raw-unicode-escape (latin-1 bytes plus \uXXXX and \UXXXXXXXX).
  absl::Status PushRawUnicode(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (size_t i = 0; i < line.size(); ++i) {
      unsigned char c = line[i];
      if (c == '\\' && i + 1 < line.size() && (line[i + 1] == 'u' || line[i + 1] == 'U')) {
        // An odd run of backslashes before u starts an escape.
        size_t run = 1;
        while (run <= i && line[i - run] == '\\') ++run;
        if (run % 2 == 1) {
          int n = line[i + 1] == 'u' ? 4 : 8;
          if (i + 2 + n > line.size()) return Bad("pickle.value", "truncated \\u escape in UNICODE");
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            int h = HexValue(line[i + 2 + k]);
            if (h < 0) return Bad("pickle.value", "bad \\u escape in UNICODE");
            cp = cp * 16 + h;
          }
          if (cp > 0x10FFFF) return Bad("pickle.value", "\\U escape beyond U+10FFFF in UNICODE");
          AppendUtf8(&out, cp);
          i += 1 + n;
          continue;
        }
      }
      AppendUtf8(&out, c);
    }
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(PickleKind::kString, &id));
    p_.nodes[id].text = Own(std::move(out));
    return absl::OkStatus();
  }

  // BINUNICODE forms: UTF-8, decoded with "surrogatepass".
  absl::Status PushUnicode(uint64_t n) {
    const uint8_t* p = nullptr;
    CKPT_RETURN_IF_ERROR(Take(n, &p));
    if (!IsUtf8(View(p, n), /*surrogates=*/true)) return Bad("pickle.value", "the operand is not UTF-8");
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(PickleKind::kString, &id));
    p_.nodes[id].text = View(p, n);
    return absl::OkStatus();
  }

  absl::Status PushBytesLike(PickleKind kind, uint64_t n) {
    const uint8_t* p = nullptr;
    CKPT_RETURN_IF_ERROR(Take(n, &p));
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(kind, &id));
    p_.nodes[id].text = View(p, n);
    return absl::OkStatus();
  }

  // ---- memo --------------------------------------------------------------
  absl::Status Put(uint64_t key) {
    uint32_t v = 0;
    CKPT_RETURN_IF_ERROR(Top(&v));
    memo_[key] = v;
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) {
      return Bad("pickle.memo_missing", StrCat("memo key ", key, " was never stored"));
    }
    stack_.push_back(it->second);
    return absl::OkStatus();
  }
  // PUT / GET keys: int(line, 10) as a Py_ssize_t ("+3", " 3 " and "0_3"
  // are all key 3). PUT refuses a negative key; GET of one finds nothing.
  absl::StatusOr<int64_t> TextKey(std::string_view line) {
    IntLiteral lit;
    int64_t v = 0;
    if (line.empty() || !ParsePyLong(line, 10, &lit)) return Bad("pickle.value", "the memo key is not an integer");
    if (!IntLiteralToInt64(lit, &v)) return Bad("pickle.value", "the memo key does not fit a Py_ssize_t");
    return v;
  }

  // ---- the loop ----------------------------------------------------------
  absl::Status Loop() {
    while (true) {
      if (pos_ >= in_.size()) {
        op_pos_ = pos_;
        return Error("pickle.truncated", "the data ends before STOP").At(Abs(pos_));
      }
      op_pos_ = pos_;
      op_ = in_[pos_++];
      if (++p_.opcode_count > limits_.max_opcodes) {
        return Error("pickle.limit", StrCat("more than ", limits_.max_opcodes, " opcodes"))
            .At(Abs(op_pos_)).Code(absl::StatusCode::kResourceExhausted);
      }
      if (p_.first_use[op_] == UINT64_MAX) p_.first_use[op_] = Abs(op_pos_);
      CKPT_RETURN_IF_ERROR(Step());
      if (stack_.size() + marks_.size() > limits_.max_stack) {
        return Error("pickle.limit", StrCat("more than ", limits_.max_stack, " values and marks on the stack"))
            .At(Abs(op_pos_)).Code(absl::StatusCode::kResourceExhausted);
      }
      CheckFrame();
      if (stopped_at_) return absl::OkStatus();
    }
  }

  // Opcode boundaries must coincide with frame ends (pickle.py enforces it;
  // the C unpickler does not, so a lying FRAME lets the two run different
  // code).
  void CheckFrame() {
    if (frame_end_ == 0) return;
    if (op_ != FRAME && op_pos_ < frame_end_ && pos_ > frame_end_) {
      Anomaly("pickle.frame_mismatch",
              StrCat(PickleOpcodeName(op_), " crosses the end of the frame at offset ", Abs(frame_end_)));
      frame_end_ = 0;
    } else if (pos_ >= frame_end_) {
      frame_end_ = 0;
    }
  }
  void Anomaly(std::string_view rule, std::string message) {
    p_.anomalies.push_back({rule, std::move(message), Abs(op_pos_)});
  }

  absl::Status Step() {
    uint64_t v = 0;
    uint32_t a = 0, b = 0, c = 0, id = 0;
    std::string_view line, line2;
    std::vector<uint32_t> items;
    switch (op_) {
      case PROTO:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        if (v > kHighestProtocol) return Bad("pickle.protocol", StrCat("unsupported protocol ", v));
        p_.protocol = std::max<int>(p_.protocol, static_cast<int>(v));
        return absl::OkStatus();
      case FRAME:
        CKPT_RETURN_IF_ERROR(TakeInt(8, &v));
        if (v > in_.size() - pos_) return Truncated("the frame");
        // pickle.py refuses a FRAME unless the previous frame was read to
        // its last byte (the FRAME opcode and operand may be those bytes).
        if (frame_end_ != 0 && pos_ < frame_end_) {
          Anomaly("pickle.frame_mismatch",
                  StrCat("a new FRAME starts before the previous frame ends at offset ", Abs(frame_end_)));
        } else if (frame_end_ != 0 && pos_ > frame_end_) {
          Anomaly("pickle.frame_mismatch",
                  StrCat("FRAME crosses the end of the frame at offset ", Abs(frame_end_)));
        }
        frame_end_ = v == 0 ? 0 : pos_ + v;
        return absl::OkStatus();
      case STOP:
        CKPT_RETURN_IF_ERROR(Pop(&a));
        p_.root = a;
        stopped_at_ = pos_;
        return absl::OkStatus();
      case MARK:
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case POP:
        if (stack_.size() > Fence()) {
          stack_.pop_back();
        } else if (!marks_.empty()) {
          marks_.pop_back();  // CPython pops the mark itself
        } else {
          return Bad("pickle.stack", "needs a value but the stack is empty");
        }
        return absl::OkStatus();
      case POP_MARK:
        return PopMark(nullptr);
      case DUP:
        CKPT_RETURN_IF_ERROR(Top(&a));
        stack_.push_back(a);
        return absl::OkStatus();

      // ---- scalars
      case NONE: return Push(PickleKind::kNone);
      case NEWTRUE:
      case NEWFALSE:
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kBool, &id));
        p_.nodes[id].int_value = op_ == NEWTRUE;
        return absl::OkStatus();
      case BININT:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
        p_.nodes[id].int_value = static_cast<int32_t>(static_cast<uint32_t>(v));
        return absl::OkStatus();
      case BININT1:
      case BININT2:
        CKPT_RETURN_IF_ERROR(TakeInt(op_ == BININT1 ? 1 : 2, &v));
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
        p_.nodes[id].int_value = static_cast<int64_t>(v);
        return absl::OkStatus();
      case INT:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        return PushTextInt(line);
      case LONG:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        return PushTextLong(line);
      case LONG1:
      case LONG4: {
        CKPT_RETURN_IF_ERROR(TakeInt(op_ == LONG1 ? 1 : 4, &v));
        if (op_ == LONG4 && static_cast<int32_t>(v) < 0) return Bad("pickle.value", "negative byte count");
        const uint8_t* p = nullptr;
        CKPT_RETURN_IF_ERROR(Take(v, &p));
        if (v <= 8) {
          uint64_t u = v ? LoadLE(p, static_cast<int>(v)) : 0;
          if (v > 0 && v < 8 && (p[v - 1] & 0x80)) u |= ~uint64_t{0} << (8 * v);  // sign-extend
          CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
          p_.nodes[id].int_value = static_cast<int64_t>(u);
        } else {
          // More bytes than needed (never written, but valid): kInt when the
          // value fits int64 all the same.
          const uint8_t sign = (p[7] & 0x80) ? 0xFF : 0x00;
          bool fits = true;
          for (uint64_t k = 8; k < v && fits; ++k) fits = p[k] == sign;
          if (fits) {
            CKPT_RETURN_IF_ERROR(Push(PickleKind::kInt, &id));
            p_.nodes[id].int_value = static_cast<int64_t>(LoadLE(p, 8));
          } else {
            CKPT_RETURN_IF_ERROR(Push(PickleKind::kBigInt, &id));
            p_.nodes[id].text = View(p, v);
            p_.nodes[id].big_binary = true;
          }
        }
        return absl::OkStatus();
      }
      case FLOAT:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        return PushTextFloat(line);
      case BINFLOAT: {
        const uint8_t* p = nullptr;
        CKPT_RETURN_IF_ERROR(Take(8, &p));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
        double d;
        std::memcpy(&d, &bits, 8);
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kFloat, &id));
        p_.nodes[id].float_value = d;
        return absl::OkStatus();
      }

      // ---- strings and bytes
      case STRING:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        return PushQuotedString(line);
      case UNICODE:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        return PushRawUnicode(line);
      case BINSTRING:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));  // unsigned in the C unpickler
        return PushBytesLike(PickleKind::kBytes, v);
      case SHORT_BINSTRING:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        return PushBytesLike(PickleKind::kBytes, v);
      case BINUNICODE:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));
        return PushUnicode(v);
      case SHORT_BINUNICODE:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        return PushUnicode(v);
      case BINUNICODE8:
        CKPT_RETURN_IF_ERROR(TakeInt(8, &v));
        return PushUnicode(v);
      case BINBYTES:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));
        return PushBytesLike(PickleKind::kBytes, v);
      case SHORT_BINBYTES:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        return PushBytesLike(PickleKind::kBytes, v);
      case BINBYTES8:
        CKPT_RETURN_IF_ERROR(TakeInt(8, &v));
        return PushBytesLike(PickleKind::kBytes, v);
      case BYTEARRAY8:
        CKPT_RETURN_IF_ERROR(TakeInt(8, &v));
        return PushBytesLike(PickleKind::kByteArray, v);
      case NEXT_BUFFER:
        Anomaly("pickle.buffer", "refers to out-of-band data (NEXT_BUFFER)");
        return Push(PickleKind::kBuffer);
      case READONLY_BUFFER:
        return Top(&a);

      // ---- containers
      case EMPTY_TUPLE: return Push(PickleKind::kTuple);
      case EMPTY_LIST: return Push(PickleKind::kList);
      case EMPTY_DICT: return Push(PickleKind::kDict);
      case EMPTY_SET: return Push(PickleKind::kSet);
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        size_t n = op_ - TUPLE1 + 1;
        if (stack_.size() < Fence() + n) return Bad("pickle.stack", StrCat("needs ", n, " values"));
        items.assign(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kTuple, &id));
        AddItems(id, std::move(items));
        return absl::OkStatus();
      }
      case TUPLE:
      case LIST:
      case FROZENSET:
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        CKPT_RETURN_IF_ERROR(Push(op_ == TUPLE ? PickleKind::kTuple
                                  : op_ == LIST ? PickleKind::kList : PickleKind::kFrozenSet, &id));
        AddItems(id, std::move(items));
        return absl::OkStatus();
      case DICT:
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        if (items.size() % 2) return Bad("pickle.stack", "odd number of items for a dict");
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kDict, &id));
        AddItems(id, std::move(items));
        return absl::OkStatus();
      case APPEND:
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Top(&a));
        return AddTo(a, {b}, PickleKind::kList);
      case APPENDS:
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        CKPT_RETURN_IF_ERROR(Top(&a));
        return AddTo(a, std::move(items), PickleKind::kList);
      case SETITEM:
        CKPT_RETURN_IF_ERROR(Pop(&c));
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Top(&a));
        return AddTo(a, {b, c}, PickleKind::kDict);
      case SETITEMS:
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        if (items.size() % 2) return Bad("pickle.stack", "odd number of items for SETITEMS");
        CKPT_RETURN_IF_ERROR(Top(&a));
        return AddTo(a, std::move(items), PickleKind::kDict);
      case ADDITEMS:
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        CKPT_RETURN_IF_ERROR(Top(&a));
        return AddTo(a, std::move(items), PickleKind::kSet);

      // ---- memo
      case PUT:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        {
          CKPT_RETURN_IF_ERROR(Top(&a));
          CKPT_ASSIGN_OR_RETURN(int64_t key, TextKey(line));
          if (key < 0) return Bad("pickle.value", "negative memo key");
          return Put(static_cast<uint64_t>(key));
        }
      case BINPUT:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        return Put(v);
      case LONG_BINPUT:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));
        return Put(v);
      case MEMOIZE:
        return Put(memo_.size());
      case GET:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        {
          CKPT_ASSIGN_OR_RETURN(int64_t key, TextKey(line));
          if (key < 0) return Bad("pickle.memo_missing", StrCat("memo key ", key, " was never stored"));
          return Get(static_cast<uint64_t>(key));
        }
      case BINGET:
        CKPT_RETURN_IF_ERROR(TakeInt(1, &v));
        return Get(v);
      case LONG_BINGET:
        CKPT_RETURN_IF_ERROR(TakeInt(4, &v));
        return Get(v);

      // ---- imports
      case GLOBAL: {
        // Each line non-empty and strict UTF-8, checked in CPython's order.
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        CKPT_RETURN_IF_ERROR(NameLine(line, "module", /*ascii=*/false));
        CKPT_RETURN_IF_ERROR(TakeLine(&line2));
        CKPT_RETURN_IF_ERROR(NameLine(line2, "name", /*ascii=*/false));
        CKPT_ASSIGN_OR_RETURN(id, Global(line, line2));
        stack_.push_back(id);
        return absl::OkStatus();
      }
      case STACK_GLOBAL: {
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Pop(&a));
        std::string_view module, name;
        bool known_module = false, known_name = false;
        CKPT_RETURN_IF_ERROR(StringOperand(a, "module name", &module, &known_module));
        CKPT_RETURN_IF_ERROR(StringOperand(b, "global name", &name, &known_name));
        if (!known_module || !known_name) {
          Anomaly("pickle.dynamic_global",
                  StrCat("STACK_GLOBAL takes its ", !known_module ? "module" : "name",
                         " from a call or import result: what it imports is known only when it runs"));
        }
        CKPT_ASSIGN_OR_RETURN(id, Global(module, name));
        stack_.push_back(id);
        return absl::OkStatus();
      }
      case EXT1:
      case EXT2:
      case EXT4: {
        CKPT_RETURN_IF_ERROR(TakeInt(op_ == EXT1 ? 1 : op_ == EXT2 ? 2 : 4, &v));
        const int64_t code = op_ == EXT4 ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int64_t>(v);
        if (code <= 0) return Bad("pickle.value", StrCat("extension code ", code, " is not positive"));
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kExt, &id));
        p_.nodes[id].int_value = code;
        p_.imports.push_back({Abs(op_pos_), op_, {}, {}, id});
        return absl::OkStatus();
      }

      // ---- calls
      case REDUCE:
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Pop(&a));
        return MakeObject(a, b, kNoNode);
      case NEWOBJ:
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Pop(&a));
        return MakeObject(a, b, kNoNode);
      case NEWOBJ_EX:
        CKPT_RETURN_IF_ERROR(Pop(&c));
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Pop(&a));
        return MakeObject(a, b, c);
      case OBJ: {
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        if (items.empty()) return Bad("pickle.stack", "OBJ needs a class after the MARK");
        uint32_t cls = items[0];
        items.erase(items.begin());
        CKPT_ASSIGN_OR_RETURN(uint32_t args, NewNode(PickleKind::kTuple));
        AddItems(args, std::move(items));
        return MakeObject(cls, args, kNoNode);
      }
      case INST: {
        // CPython finds the MARK first, then reads two ASCII lines.
        CKPT_RETURN_IF_ERROR(PopMark(&items));
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        CKPT_RETURN_IF_ERROR(NameLine(line, "module", /*ascii=*/true));
        CKPT_RETURN_IF_ERROR(TakeLine(&line2));
        CKPT_RETURN_IF_ERROR(NameLine(line2, "name", /*ascii=*/true));
        CKPT_ASSIGN_OR_RETURN(uint32_t cls, Global(line, line2));
        CKPT_ASSIGN_OR_RETURN(uint32_t args, NewNode(PickleKind::kTuple));
        AddItems(args, std::move(items));
        return MakeObject(cls, args, kNoNode);
      }
      case BUILD:
        CKPT_RETURN_IF_ERROR(Pop(&b));
        CKPT_RETURN_IF_ERROR(Top(&a));
        Call(a, b, kNoNode);
        if (limits_.record_items) p_.extras[a].states.push_back(b);
        return absl::OkStatus();
      case PERSID:
        CKPT_RETURN_IF_ERROR(TakeLine(&line));
        if (!IsAscii(line)) return Bad("pickle.value", "a protocol-0 persistent id must be ASCII");
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kPersistentId, &id));
        p_.nodes[id].text = line;
        Call(kNoNode, kNoNode, id);
        return absl::OkStatus();
      case BINPERSID:
        CKPT_RETURN_IF_ERROR(Pop(&a));
        CKPT_RETURN_IF_ERROR(Push(PickleKind::kPersistentId, &id));
        p_.nodes[id].items.push_back(a);
        Call(kNoNode, a, id);
        return absl::OkStatus();
      default:
        return Error("pickle.opcode", StrCat("byte 0x", absl::Hex(op_, absl::kZeroPad2),
                                             " is not a pickle opcode"))
            .At(Abs(op_pos_));
    }
  }

  absl::Status MakeObject(uint32_t callable, uint32_t args, uint32_t kwargs) {
    uint32_t id = 0;
    CKPT_RETURN_IF_ERROR(Push(PickleKind::kObject, &id));
    // Calls are recorded whatever record_items says: their operands are what
    // the scanner and the readers look at.
    auto& it = p_.nodes[id].items;
    it.push_back(callable);
    it.push_back(args);
    if (kwargs != kNoNode) it.push_back(kwargs);
    Call(callable, args, id);
    return absl::OkStatus();
  }

  // APPEND(S) / SETITEM(S) / ADDITEMS: into a plain container of `want`
  // kind, or a method call (extend/append, __setitem__, add) on anything
  // that may have the method: an object, and the containers whose methods
  // CPython would find (bytearray.extend, list and bytearray item
  // assignment). With no items CPython does nothing at all.
  absl::Status AddTo(uint32_t target, std::vector<uint32_t>&& items, PickleKind want) {
    if (items.empty()) return absl::OkStatus();
    PickleKind k = p_.nodes[target].kind;
    if (k == want) {
      AddItems(target, std::move(items));
      return absl::OkStatus();
    }
    const bool method = k == PickleKind::kObject || k == PickleKind::kGlobal || k == PickleKind::kPersistentId ||
                        k == PickleKind::kExt || k == PickleKind::kBuffer ||
                        (want == PickleKind::kList && k == PickleKind::kByteArray) ||
                        (want == PickleKind::kDict && (k == PickleKind::kList || k == PickleKind::kByteArray));
    if (method) {
      Call(target, kNoNode, kNoNode);
      if (limits_.record_items) {
        auto& ex = p_.extras[target];
        auto& dst = want == PickleKind::kDict ? ex.dict_items : ex.list_items;
        dst.insert(dst.end(), items.begin(), items.end());
      }
      return absl::OkStatus();
    }
    return Bad("pickle.value", StrCat("cannot add items to a ", PickleKindName(k)));
  }

  absl::Span<const uint8_t> in_;
  uint64_t base_;
  const PickleLimits& limits_;
  PickleProgram& p_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  uint8_t op_ = 0;
  size_t stopped_at_ = 0;
  size_t frame_end_ = 0;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  absl::flat_hash_map<uint64_t, uint32_t> memo_;
  std::array<uint32_t, 32> shared_ = MakeShared();
  static std::array<uint32_t, 32> MakeShared() {
    std::array<uint32_t, 32> a;
    a.fill(kNoNode);
    return a;
  }
};

}  // namespace

std::string_view PickleKindName(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone: return "None";
    case PickleKind::kBool: return "bool";
    case PickleKind::kInt: return "int";
    case PickleKind::kBigInt: return "int";
    case PickleKind::kFloat: return "float";
    case PickleKind::kString: return "str";
    case PickleKind::kBytes: return "bytes";
    case PickleKind::kByteArray: return "bytearray";
    case PickleKind::kTuple: return "tuple";
    case PickleKind::kList: return "list";
    case PickleKind::kDict: return "dict";
    case PickleKind::kSet: return "set";
    case PickleKind::kFrozenSet: return "frozenset";
    case PickleKind::kGlobal: return "global";
    case PickleKind::kObject: return "object";
    case PickleKind::kPersistentId: return "persistent id";
    case PickleKind::kBuffer: return "buffer";
    case PickleKind::kExt: return "extension code";
  }
  return "?";
}

const PickleObjectExtras* PickleProgram::ExtrasOf(uint32_t i) const {
  auto it = extras.find(i);
  return it == extras.end() ? nullptr : &it->second;
}

bool PickleProgram::IsGlobal(uint32_t i, std::string_view module, std::string_view name) const {
  if (i >= nodes.size()) return false;
  const PickleNode& n = nodes[i];
  return n.kind == PickleKind::kGlobal && n.text == module && n.name == name;
}

PickleProgram DecodePickle(absl::Span<const uint8_t> bytes, uint64_t base_offset,
                           const PickleLimits& limits) {
  PickleProgram program;
  Decoder(bytes, base_offset, limits, &program).Run();
  return program;
}

std::string_view PickleOpcodeName(uint8_t op) {
  switch (op) {
    case MARK: return "MARK"; case STOP: return "STOP"; case POP: return "POP";
    case POP_MARK: return "POP_MARK"; case DUP: return "DUP"; case FLOAT: return "FLOAT";
    case INT: return "INT"; case BININT: return "BININT"; case BININT1: return "BININT1";
    case LONG: return "LONG"; case BININT2: return "BININT2"; case NONE: return "NONE";
    case PERSID: return "PERSID"; case BINPERSID: return "BINPERSID"; case REDUCE: return "REDUCE";
    case STRING: return "STRING"; case BINSTRING: return "BINSTRING";
    case SHORT_BINSTRING: return "SHORT_BINSTRING"; case UNICODE: return "UNICODE";
    case BINUNICODE: return "BINUNICODE"; case APPEND: return "APPEND"; case BUILD: return "BUILD";
    case GLOBAL: return "GLOBAL"; case DICT: return "DICT"; case EMPTY_DICT: return "EMPTY_DICT";
    case APPENDS: return "APPENDS"; case GET: return "GET"; case BINGET: return "BINGET";
    case INST: return "INST"; case LONG_BINGET: return "LONG_BINGET"; case LIST: return "LIST";
    case EMPTY_LIST: return "EMPTY_LIST"; case OBJ: return "OBJ"; case PUT: return "PUT";
    case BINPUT: return "BINPUT"; case LONG_BINPUT: return "LONG_BINPUT"; case SETITEM: return "SETITEM";
    case TUPLE: return "TUPLE"; case EMPTY_TUPLE: return "EMPTY_TUPLE"; case SETITEMS: return "SETITEMS";
    case BINFLOAT: return "BINFLOAT"; case PROTO: return "PROTO"; case NEWOBJ: return "NEWOBJ";
    case EXT1: return "EXT1"; case EXT2: return "EXT2"; case EXT4: return "EXT4";
    case TUPLE1: return "TUPLE1"; case TUPLE2: return "TUPLE2"; case TUPLE3: return "TUPLE3";
    case NEWTRUE: return "NEWTRUE"; case NEWFALSE: return "NEWFALSE"; case LONG1: return "LONG1";
    case LONG4: return "LONG4"; case BINBYTES: return "BINBYTES"; case SHORT_BINBYTES: return "SHORT_BINBYTES";
    case SHORT_BINUNICODE: return "SHORT_BINUNICODE"; case BINUNICODE8: return "BINUNICODE8";
    case BINBYTES8: return "BINBYTES8"; case EMPTY_SET: return "EMPTY_SET"; case ADDITEMS: return "ADDITEMS";
    case FROZENSET: return "FROZENSET"; case NEWOBJ_EX: return "NEWOBJ_EX";
    case STACK_GLOBAL: return "STACK_GLOBAL"; case MEMOIZE: return "MEMOIZE"; case FRAME: return "FRAME";
    case BYTEARRAY8: return "BYTEARRAY8"; case NEXT_BUFFER: return "NEXT_BUFFER";
    case READONLY_BUFFER: return "READONLY_BUFFER";
    default: return "";
  }
}

bool LooksLikePickle(absl::Span<const uint8_t> b) {
  if (b.size() < 2) return false;
  if (b[0] == PROTO && b[1] >= 2 && b[1] <= kHighestProtocol) return true;
  // Protocol 0/1 pickles (and hand-made PROTO 0/1 ones) open with a
  // container, a MARK, a GLOBAL or a scalar; require a prefix to decode
  // without error.
  switch (b[0]) {
    case PROTO: if (b[1] > 1) return false; break;
    case MARK: case EMPTY_DICT: case EMPTY_LIST: case EMPTY_TUPLE: case GLOBAL: case INST:
    case INT: case LONG: case FLOAT: case BINFLOAT: case STRING: case UNICODE: case NONE: case BININT:
    case BININT1: case BININT2: case BINUNICODE: case SHORT_BINSTRING: case BINSTRING: case PERSID:
      break;
    default:
      return false;
  }
  PickleLimits limits;
  limits.max_opcodes = 64;
  limits.record_items = false;
  // A window large enough for the long string a real pickle may open with.
  PickleProgram p = DecodePickle(b.subspan(0, std::min<size_t>(b.size(), size_t{1} << 20)), 0, limits);
  if (p.complete()) return true;
  // Truncated by our window or by the opcode limit is fine; a decoding error
  // on the first opcodes means these bytes are not a pickle.
  std::string rule = ErrorRule(p.status);
  const uint64_t min_opcodes = b[0] == PROTO ? 3 : 2;
  if (p.opcode_count < min_opcodes) return false;
  if (rule == "pickle.limit") return true;
  if (rule != "pickle.truncated") return false;
  // Cut short, but not by a 64-bit length no file has (random bytes).
  const uint64_t at = ErrorOffset(p.status).value_or(0);
  if (at + 9 <= b.size()) {
    const uint8_t op = b[at];
    if (op == BINBYTES8 || op == BINUNICODE8 || op == BYTEARRAY8 || op == FRAME) {
      return LoadLE(b.data() + at + 1, 8) < (uint64_t{1} << 48);
    }
  }
  return true;
}

}  // namespace ckpt
