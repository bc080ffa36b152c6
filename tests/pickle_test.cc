// Tests of the symbolic pickle decoder (lib/pickle.cc) against real pickles
// (tests/pickle_cases.inc, made by tests/fixtures/make_pickle_cases.py with
// CPython's pickle.dumps) and hand-assembled opcode streams whose meaning was
// checked against CPython's C unpickler (Modules/_pickle.c, Python 3.11).
#include "ckpt/pickle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/status.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::StatusIs;

struct PickleCase {
  const char* name;
  int protocol;
  int expected;  // index in kPickleExpected
  uint64_t opcodes;
  int proto;
  std::string_view bytes;
};

#include "tests/pickle_cases.inc"

// Literals with NUL bytes are written "..."s.
using namespace std::string_literals;

// The program's views point into its input: Decode keeps a copy of every
// input alive for the whole test run (inputs are small).
PickleProgram Decode(std::string_view s, uint64_t base = 0, const PickleLimits& limits = {}) {
  static std::deque<std::string> inputs;
  const std::string& kept = inputs.emplace_back(s);
  return DecodePickle(absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(kept.data()), kept.size()), base,
                      limits);
}

// ---- a canonical rendering of the decoded graph -----------------------------
// The same format as canon() in tests/fixtures/make_pickle_cases.py. The few
// calls CPython's pickler writes for plain data in old protocols are
// evaluated: set / frozenset (list), bytearray (bytes or latin-1 str),
// bytes(), _codecs.encode(str, 'latin1'). Anything else renders as
// <call ...> and fails the comparison.

std::string Esc(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Two's-complement little-endian bytes → decimal.
std::string LeToDecimal(std::string_view le) {
  std::vector<uint8_t> mag(le.begin(), le.end());
  const bool neg = !mag.empty() && (mag.back() & 0x80);
  if (neg) {
    unsigned carry = 1;
    for (uint8_t& b : mag) {
      unsigned v = static_cast<uint8_t>(~b) + carry;
      b = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
  }
  std::string digits;
  while (std::any_of(mag.begin(), mag.end(), [](uint8_t b) { return b != 0; })) {
    unsigned rem = 0;
    for (size_t i = mag.size(); i-- > 0;) {
      unsigned cur = rem * 256 + mag[i];
      mag[i] = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
  }
  if (digits.empty()) digits = "0";
  if (neg) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// UTF-8 of code points < 256 → latin-1 bytes.
bool Latin1(std::string_view utf8, std::string* out) {
  out->clear();
  for (size_t i = 0; i < utf8.size(); ++i) {
    unsigned char c = utf8[i];
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
      out->push_back(static_cast<char>(((c & 0x03) << 6) | (utf8[++i] & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

class Renderer {
 public:
  explicit Renderer(const PickleProgram& p) : p_(p), on_path_(p.nodes.size(), false) {}

  std::string Render(uint32_t id) {
    if (id == kNoNode) return "<none>";
    if (id >= p_.nodes.size()) return "<bad node>";
    const PickleNode& n = p_.node(id);
    switch (n.kind) {
      case PickleKind::kNone: return "None";
      case PickleKind::kBool: return n.int_value ? "True" : "False";
      case PickleKind::kInt: return std::to_string(n.int_value);
      case PickleKind::kBigInt: return n.big_binary ? LeToDecimal(n.text) : std::string(n.text);
      case PickleKind::kFloat: {
        uint64_t bits;
        std::memcpy(&bits, &n.float_value, 8);
        char buf[24];
        std::snprintf(buf, sizeof buf, "f%016llx", static_cast<unsigned long long>(bits));
        return buf;
      }
      case PickleKind::kString: return "'" + Esc(n.text) + "'";
      case PickleKind::kBytes: return "b'" + Esc(n.text) + "'";
      case PickleKind::kByteArray: return "bytearray(b'" + Esc(n.text) + "')";
      default: break;
    }
    if (on_path_[id]) return "...";
    on_path_[id] = true;
    std::string out = Container(id, n);
    on_path_[id] = false;
    return out;
  }

 private:
  std::string Join(const std::vector<uint32_t>& items, size_t step = 1) {
    std::string out;
    for (size_t i = 0; i < items.size(); i += step) {
      if (i) out += ", ";
      out += Render(items[i]);
      if (step == 2) out += ": " + Render(items[i + 1]);
    }
    return out;
  }

  std::string Container(uint32_t id, const PickleNode& n) {
    switch (n.kind) {
      case PickleKind::kList: return "[" + Join(n.items) + "]";
      case PickleKind::kTuple:
        return n.items.size() == 1 ? "(" + Render(n.items[0]) + ",)" : "(" + Join(n.items) + ")";
      case PickleKind::kDict: return "{" + Join(n.items, 2) + "}";
      case PickleKind::kSet: return n.items.empty() ? "set()" : "{" + Join(n.items) + "}";
      case PickleKind::kFrozenSet: return n.items.empty() ? "frozenset()" : "frozenset({" + Join(n.items) + "})";
      case PickleKind::kObject: return Call(id, n);
      default: return std::string("<") + std::string(PickleKindName(n.kind)) + ">";
    }
  }

  static bool Builtin(const PickleProgram& p, uint32_t i, std::string_view name) {
    return p.IsGlobal(i, "builtins", name) || p.IsGlobal(i, "__builtin__", name);
  }

  std::string Call(uint32_t id, const PickleNode& n) {
    const uint32_t fn = n.items.size() >= 2 ? n.items[0] : kNoNode;
    const PickleNode* args = n.items.size() >= 2 && n.items[1] < p_.nodes.size() ? &p_.node(n.items[1]) : nullptr;
    const bool extra = p_.ExtrasOf(id) != nullptr;
    if (fn != kNoNode && args != nullptr && args->kind == PickleKind::kTuple && !extra && n.items.size() == 2) {
      const std::vector<uint32_t>& a = args->items;
      auto arg = [&](size_t k) -> const PickleNode& { return p_.node(a[k]); };
      for (std::string_view set : {"set", "frozenset"}) {
        if (!Builtin(p_, fn, set)) continue;
        std::vector<uint32_t> elems;
        if (a.size() == 1 && arg(0).kind == PickleKind::kList) {
          elems = arg(0).items;
        } else if (!a.empty()) {
          break;
        }
        if (set == "set") return elems.empty() ? "set()" : "{" + Join(elems) + "}";
        return elems.empty() ? "frozenset()" : "frozenset({" + Join(elems) + "})";
      }
      std::string latin1;
      if (Builtin(p_, fn, "bytearray")) {
        if (a.empty()) return "bytearray(b'')";
        if (a.size() == 1) {
          const std::string b = Render(a[0]);  // bytes, or _codecs.encode(...) in protocols 0-2
          if (b.rfind("b'", 0) == 0) return "bytearray(" + b + ")";
        }
        if (a.size() == 2 && arg(0).kind == PickleKind::kString && arg(1).kind == PickleKind::kString &&
            arg(1).text == "latin-1" && Latin1(arg(0).text, &latin1)) {
          return "bytearray(b'" + Esc(latin1) + "')";
        }
      }
      if (Builtin(p_, fn, "bytes") && a.empty()) return "b''";
      if (p_.IsGlobal(fn, "_codecs", "encode") && a.size() == 2 && arg(0).kind == PickleKind::kString &&
          arg(1).kind == PickleKind::kString && arg(1).text == "latin1" && Latin1(arg(0).text, &latin1)) {
        return "b'" + Esc(latin1) + "'";
      }
    }
    std::string out = "<call";
    for (uint32_t i : n.items) out += " " + Render(i);
    return out + ">";
  }

  const PickleProgram& p_;
  std::vector<bool> on_path_;
};

std::string RenderRoot(const PickleProgram& p) { return Renderer(p).Render(p.root); }

// Checks that hold for every decode result, complete or not.
void ExpectWellFormed(const PickleProgram& p, std::string_view in, uint64_t base = 0) {
  EXPECT_EQ(p.offset, base);
  EXPECT_GE(p.end, p.offset);
  EXPECT_LE(p.end, p.offset + in.size());
  if (p.complete()) {
    EXPECT_NE(p.root, kNoNode);
  } else {
    EXPECT_FALSE(ErrorRule(p.status).empty()) << p.status;
  }
  for (const PickleNode& n : p.nodes) {
    for (uint32_t i : n.items) EXPECT_LT(i, p.nodes.size());
  }
  for (const PickleImport& imp : p.imports) {
    ASSERT_LT(imp.node, p.nodes.size());
    EXPECT_TRUE(p.node(imp.node).kind == PickleKind::kGlobal || p.node(imp.node).kind == PickleKind::kExt);
  }
}

// ---- real pickles -----------------------------------------------------------

TEST(PickleRealTest, DecodesEveryGeneratedPickle) {
  for (const PickleCase& c : kPickleCases) {
    SCOPED_TRACE(std::string(c.name) + " protocol " + std::to_string(c.protocol));
    PickleProgram p = Decode(c.bytes);
    ASSERT_THAT(p.status, IsOk());
    ExpectWellFormed(p, c.bytes);
    EXPECT_EQ(p.end, c.bytes.size());
    EXPECT_EQ(RenderRoot(p), kPickleExpected[c.expected]);
    // pickletools.genops agrees on the opcode count and the protocol.
    EXPECT_EQ(p.opcode_count, c.opcodes);
    EXPECT_EQ(p.protocol, c.proto);
    EXPECT_TRUE(p.anomalies.empty());
    // Old protocols name only the builtins they rebuild plain data with.
    for (const PickleImport& imp : p.imports) {
      const std::string full = std::string(imp.module) + "." + std::string(imp.name);
      EXPECT_THAT(full, ::testing::AnyOf("__builtin__.set", "builtins.set", "__builtin__.frozenset",
                                         "builtins.frozenset", "__builtin__.bytearray", "builtins.bytearray",
                                         "__builtin__.bytes", "builtins.bytes", "_codecs.encode"));
    }
  }
}

TEST(PickleRealTest, BaseOffsetShiftsEveryOffset) {
  for (const PickleCase& c : kPickleCases) {
    if (std::string_view(c.name) != "bytes" || c.protocol != 2) continue;
    PickleProgram p0 = Decode(c.bytes);
    PickleProgram p = DecodePickle(
        absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(c.bytes.data()), c.bytes.size()), 1000);
    ASSERT_THAT(p.status, IsOk());
    ExpectWellFormed(p, c.bytes, 1000);
    EXPECT_EQ(p.end, 1000 + c.bytes.size());
    ASSERT_EQ(p.imports.size(), p0.imports.size());
    ASSERT_FALSE(p.imports.empty());
    for (size_t i = 0; i < p.imports.size(); ++i) EXPECT_EQ(p.imports[i].offset, p0.imports[i].offset + 1000);
    for (size_t i = 0; i < p.nodes.size(); ++i) EXPECT_EQ(p.nodes[i].offset, p0.nodes[i].offset + 1000);
    EXPECT_EQ(p.first_use[0x80], 1000u);
  }
}

TEST(PickleRealTest, EveryPrefixIsTruncated) {
  for (const PickleCase& c : kPickleCases) {
    const std::string_view name = c.name;
    if (name == "long_list") continue;  // long; the others cover its opcodes
    SCOPED_TRACE(std::string(c.name) + " protocol " + std::to_string(c.protocol));
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      // An exact-size copy, so ASan sees any read past the end.
      std::vector<uint8_t> prefix(c.bytes.begin(), c.bytes.begin() + n);
      PickleProgram p = DecodePickle(prefix);
      ASSERT_FALSE(p.complete()) << "prefix of " << n << " bytes decoded completely";
      ASSERT_THAT(p.status, HasRule("pickle.truncated")) << "prefix of " << n << " bytes";
      ASSERT_EQ(p.root, kNoNode);
      ASSERT_LE(p.end, n);
      ASSERT_LE(ErrorOffset(p.status).value_or(0), n);
    }
  }
}

TEST(PickleRealTest, RecordItemsFalseKeepsImportsAndCalls) {
  PickleLimits no_items;
  no_items.record_items = false;
  for (const PickleCase& c : kPickleCases) {
    SCOPED_TRACE(std::string(c.name) + " protocol " + std::to_string(c.protocol));
    PickleProgram full = Decode(c.bytes);
    PickleProgram lean = DecodePickle(
        absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(c.bytes.data()), c.bytes.size()), 0, no_items);
    ASSERT_THAT(lean.status, IsOk());
    EXPECT_EQ(lean.opcode_count, full.opcode_count);
    EXPECT_EQ(lean.end, full.end);
    // Node ids may differ (without items the decoder may share one node for
    // all values of a kind); imports and calls are the same.
    auto same_node = [&](uint32_t a, uint32_t b) {
      if (a == kNoNode || b == kNoNode) return a == b;
      const PickleNode& x = lean.node(a);
      const PickleNode& y = full.node(b);
      return x.kind == y.kind && (x.kind != PickleKind::kGlobal || (x.text == y.text && x.name == y.name));
    };
    ASSERT_EQ(lean.imports.size(), full.imports.size());
    for (size_t i = 0; i < lean.imports.size(); ++i) {
      EXPECT_EQ(lean.imports[i].offset, full.imports[i].offset);
      EXPECT_EQ(lean.imports[i].opcode, full.imports[i].opcode);
      EXPECT_EQ(lean.imports[i].module, full.imports[i].module);
      EXPECT_EQ(lean.imports[i].name, full.imports[i].name);
      EXPECT_TRUE(same_node(lean.imports[i].node, full.imports[i].node));
    }
    ASSERT_EQ(lean.calls.size(), full.calls.size());
    for (size_t i = 0; i < lean.calls.size(); ++i) {
      EXPECT_EQ(lean.calls[i].offset, full.calls[i].offset);
      EXPECT_EQ(lean.calls[i].opcode, full.calls[i].opcode);
      EXPECT_TRUE(same_node(lean.calls[i].callable, full.calls[i].callable));
      EXPECT_TRUE(same_node(lean.calls[i].args, full.calls[i].args));
      EXPECT_TRUE(same_node(lean.calls[i].result, full.calls[i].result));
    }
    for (const PickleNode& n : lean.nodes) {
      if (n.kind == PickleKind::kList || n.kind == PickleKind::kDict || n.kind == PickleKind::kSet) {
        EXPECT_TRUE(n.items.empty());
      }
    }
  }
}

TEST(PickleRealTest, LooksLikePickle) {
  for (const PickleCase& c : kPickleCases) {
    EXPECT_TRUE(LooksLikePickle(AsBytes(std::string(c.bytes)))) << c.name << " protocol " << c.protocol;
    // Only the head of a file (what the scanner peeks at).
    std::string head(c.bytes.substr(0, 64));
    if (head.size() >= 16) {
      EXPECT_TRUE(LooksLikePickle(AsBytes(head))) << c.name << " protocol " << c.protocol;
    }
  }
  // A protocol-0 pickle whose first line is longer than a small window.
  EXPECT_TRUE(LooksLikePickle(AsBytes("V" + std::string(6000, 'x') + "\n0cos\nsystem\n.")));
  // Hand-made PROTO 0 / 1, and a protocol-1 float.
  EXPECT_TRUE(LooksLikePickle(AsBytes("\x80\x01K\x01."s)));
  EXPECT_TRUE(LooksLikePickle(AsBytes("G?\xf8\x00\x00\x00\x00\x00\x00."s)));

  EXPECT_FALSE(LooksLikePickle(AsBytes("")));
  EXPECT_FALSE(LooksLikePickle(AsBytes(".")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("hello world\nthis is text\n")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("Lorem ipsum dolor sit amet\n")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("Not a pickle, only text.\n")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("(hello)\n")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("{\"a\": [1, 2], \"b\": null}")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("[1, 2, 3]")));
  EXPECT_FALSE(LooksLikePickle(AsBytes("PK\x03\x04\x14\x00\x00\x00\x08\x00\x21\x9c\xb1\xfe"s +
                                       "archive/data.pkl" + std::string(40, '\xa5'))));
  EXPECT_FALSE(LooksLikePickle(AsBytes("GGUF\x03\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00"
                                                   "\x05\x00\x00\x00\x00\x00\x00\x00"s)));
  EXPECT_FALSE(LooksLikePickle(AsBytes("\x80\x06N."s)));
  std::mt19937 rng(12345);
  for (int seed = 0; seed < 200; ++seed) {
    std::string junk(512, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (static_cast<uint8_t>(junk[0]) == 0x80) junk[0] = 'Z';  // PROTO 2..5 alone is enough
    EXPECT_FALSE(LooksLikePickle(AsBytes(junk))) << "seed " << seed;
  }
}

// ---- hand-assembled streams --------------------------------------------------

std::string Le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}
// SHORT_BINUNICODE
std::string Su(std::string_view s) { return "\x8c" + Le(s.size(), 1) + std::string(s); }
std::string Frame(uint64_t n) { return "\x95" + Le(n, 8); }
const std::string kP2("\x80\x02", 2);
const std::string kP4("\x80\x04", 2);

TEST(PickleImportTest, GlobalAndReduce) {
  const std::string s = "cos\nsystem\n(S'ls'\ntR.";
  PickleProgram p = Decode(s, 100);
  ASSERT_THAT(p.status, IsOk());
  ExpectWellFormed(p, s, 100);
  ASSERT_EQ(p.imports.size(), 1u);
  const PickleImport& imp = p.imports[0];
  EXPECT_EQ(imp.offset, 100u);
  EXPECT_EQ(imp.opcode, 'c');
  EXPECT_EQ(imp.module, "os");
  EXPECT_EQ(imp.name, "system");
  EXPECT_TRUE(p.IsGlobal(imp.node, "os", "system"));
  ASSERT_EQ(p.calls.size(), 1u);
  const PickleCall& call = p.calls[0];
  EXPECT_EQ(call.opcode, 'R');
  EXPECT_EQ(call.offset, 100 + s.find('R'));
  EXPECT_EQ(call.callable, imp.node);
  EXPECT_EQ(RenderRoot(p), "<call <global> ('ls',)>");
  EXPECT_EQ(call.result, p.root);
  EXPECT_EQ(p.node(call.args).kind, PickleKind::kTuple);
  EXPECT_EQ(p.first_use['c'], 100u);
  EXPECT_EQ(p.first_use['R'], 100 + s.find('R'));
  EXPECT_EQ(p.first_use[0x93], UINT64_MAX);
}

TEST(PickleImportTest, StackGlobalKeepsDottedNames) {
  const std::string s = kP4 + Su("pathlib") + "\x94" + Su("os.system") + "\x94\x93\x94" + Su("id") + "\x85R.";
  PickleProgram p = Decode(s);
  ASSERT_THAT(p.status, IsOk());
  ExpectWellFormed(p, s);
  ASSERT_EQ(p.imports.size(), 1u);
  EXPECT_EQ(p.imports[0].opcode, 0x93);
  EXPECT_EQ(p.imports[0].offset, s.find('\x93'));
  EXPECT_EQ(p.imports[0].module, "pathlib");
  EXPECT_EQ(p.imports[0].name, "os.system");
  EXPECT_TRUE(p.IsGlobal(p.imports[0].node, "pathlib", "os.system"));
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].callable, p.imports[0].node);
  EXPECT_TRUE(p.anomalies.empty());
}

TEST(PickleImportTest, StackGlobalAcceptsPython2Strings) {
  // SHORT_BINSTRING operands are str to CPython (decoded with the
  // unpickler's encoding), so this imports os.system.
  const std::string s = kP2 + "U\x02osU\x06system\x93)R.";
  PickleProgram p = Decode(s);
  ASSERT_THAT(p.status, IsOk());
  ASSERT_EQ(p.imports.size(), 1u);
  EXPECT_EQ(p.imports[0].module, "os");
  EXPECT_EQ(p.imports[0].name, "system");
}

TEST(PickleImportTest, StackGlobalOfCallResultIsDynamic) {
  // builtins.str('os') is the str 'os' when it runs: CPython imports
  // os.system here. The decoder records the import with an unknown module.
  const std::string s = kP4 + "cbuiltins\nstr\n" + Su("os") + "\x85R" + Su("system") + "\x93)R.";
  PickleProgram p = Decode(s);
  ASSERT_THAT(p.status, IsOk());
  ExpectWellFormed(p, s);
  ASSERT_EQ(p.imports.size(), 2u);
  EXPECT_EQ(p.imports[1].opcode, 0x93);
  EXPECT_EQ(p.imports[1].module, "");
  EXPECT_EQ(p.imports[1].name, "system");
  ASSERT_EQ(p.anomalies.size(), 1u);
  EXPECT_EQ(p.anomalies[0].rule, "pickle.dynamic_global");
  EXPECT_EQ(p.anomalies[0].offset, s.find('\x93'));
}

TEST(PickleImportTest, StackGlobalOfNonStrFails) {
  for (const std::string& operand : {std::string("K\x05"), std::string("N"), std::string("C\x02os"),
                                     std::string("]"), std::string("\x88")}) {
    const std::string s = kP4 + operand + Su("system") + "\x93.";
    PickleProgram p = Decode(s);
    EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kInvalidArgument, "pickle.value")) << operand;
    EXPECT_EQ(ErrorOffset(p.status), s.find('\x93'));
    EXPECT_TRUE(p.imports.empty());
  }
  // Too few operands.
  EXPECT_THAT(Decode(kP4 + Su("os") + "\x93.").status, HasRule("pickle.stack"));
}

TEST(PickleImportTest, InstObjAndNewobj) {
  {
    const std::string s = "(S'ls'\nios\nsystem\n.";
    PickleProgram p = Decode(s);
    ASSERT_THAT(p.status, IsOk());
    ASSERT_EQ(p.imports.size(), 1u);
    EXPECT_EQ(p.imports[0].opcode, 'i');
    EXPECT_EQ(p.imports[0].offset, s.find('i'));
    EXPECT_EQ(p.imports[0].module, "os");
    EXPECT_EQ(p.imports[0].name, "system");
    ASSERT_EQ(p.calls.size(), 1u);
    EXPECT_EQ(p.calls[0].opcode, 'i');
    EXPECT_EQ(p.calls[0].offset, s.find('i'));
    EXPECT_EQ(p.calls[0].callable, p.imports[0].node);
    EXPECT_EQ(p.calls[0].result, p.root);
    EXPECT_EQ(RenderRoot(p), "<call <global> ('ls',)>");
  }
  {
    const std::string s = "(cos\nsystem\nS'ls'\nK\x01o.";
    PickleProgram p = Decode(s);
    ASSERT_THAT(p.status, IsOk());
    ASSERT_EQ(p.calls.size(), 1u);
    EXPECT_EQ(p.calls[0].opcode, 'o');
    EXPECT_EQ(p.calls[0].offset, s.find('o', 3));
    EXPECT_TRUE(p.IsGlobal(p.calls[0].callable, "os", "system"));
    EXPECT_EQ(RenderRoot(p), "<call <global> ('ls', 1)>");
  }
  // OBJ without a class; INST and OBJ without a MARK.
  EXPECT_THAT(Decode("(o.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("ios\nsystem\n.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("N)o.").status, HasRule("pickle.stack"));
  {
    // NEWOBJ, NEWOBJ_EX, then BUILD with a dict state.
    const std::string s = kP4 + "c__main__\nC\n)\x81" + "c__main__\nD\n)}\x92" + "}" + Su("x") + "K\x01sb\x86.";
    PickleProgram p = Decode(s);
    ASSERT_THAT(p.status, IsOk());
    ExpectWellFormed(p, s);
    ASSERT_EQ(p.calls.size(), 3u);
    EXPECT_EQ(p.calls[0].opcode, 0x81);
    EXPECT_EQ(p.calls[0].offset, s.find('\x81'));
    EXPECT_TRUE(p.IsGlobal(p.calls[0].callable, "__main__", "C"));
    EXPECT_EQ(p.calls[1].opcode, 0x92);
    EXPECT_TRUE(p.IsGlobal(p.calls[1].callable, "__main__", "D"));
    const PickleNode& ex = p.node(p.calls[1].result);
    ASSERT_EQ(ex.items.size(), 3u);  // callable, args, kwargs
    EXPECT_EQ(p.node(ex.items[2]).kind, PickleKind::kDict);
    EXPECT_EQ(p.calls[2].opcode, 'b');
    EXPECT_EQ(p.calls[2].offset, s.find('b'));
    EXPECT_EQ(p.calls[2].callable, p.calls[1].result);
    EXPECT_EQ(p.node(p.calls[2].args).kind, PickleKind::kDict);
    const PickleObjectExtras* extras = p.ExtrasOf(p.calls[1].result);
    ASSERT_NE(extras, nullptr);
    ASSERT_EQ(extras->states.size(), 1u);
    EXPECT_EQ(extras->states[0], p.calls[2].args);
  }
}

TEST(PickleImportTest, PersistentIds) {
  {
    const std::string s = "Pstorage 0\n.";
    PickleProgram p = Decode(s);
    ASSERT_THAT(p.status, IsOk());
    const PickleNode& n = p.node(p.root);
    EXPECT_EQ(n.kind, PickleKind::kPersistentId);
    EXPECT_EQ(n.text, "storage 0");
    ASSERT_EQ(p.calls.size(), 1u);
    EXPECT_EQ(p.calls[0].opcode, 'P');
    EXPECT_EQ(p.calls[0].result, p.root);
  }
  {
    const std::string s = kP2 + "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"s "0tQ.";
    PickleProgram p = Decode(s);
    ASSERT_THAT(p.status, IsOk());
    const PickleNode& n = p.node(p.root);
    EXPECT_EQ(n.kind, PickleKind::kPersistentId);
    ASSERT_EQ(n.items.size(), 1u);
    ASSERT_EQ(p.calls.size(), 1u);
    EXPECT_EQ(p.calls[0].opcode, 'Q');
    EXPECT_EQ(p.calls[0].offset, s.find('Q'));
    EXPECT_EQ(p.calls[0].args, n.items[0]);
    EXPECT_EQ(p.calls[0].result, p.root);
    EXPECT_EQ(RenderRoot(p), "<persistent id>");
    EXPECT_TRUE(p.IsGlobal(p.imports.at(0).node, "torch", "FloatStorage"));
  }
  // Protocol-0 persistent ids are ASCII.
  EXPECT_THAT(Decode("P\xff\n.").status, HasRule("pickle.value"));
}

TEST(PickleImportTest, ExtensionCodes) {
  const std::string s = kP2 + "\x82\x05" + "\x83\x34\x12" + "\x84\x78\x56\x34\x12" + "\x87.";
  PickleProgram p = Decode(s);
  ASSERT_THAT(p.status, IsOk());
  ASSERT_EQ(p.imports.size(), 3u);
  const uint8_t ops[] = {0x82, 0x83, 0x84};
  const int64_t codes[] = {5, 0x1234, 0x12345678};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(p.imports[i].opcode, ops[i]);
    EXPECT_EQ(p.imports[i].offset, s.find(static_cast<char>(ops[i])));
    EXPECT_EQ(p.imports[i].module, "");
    EXPECT_EQ(p.imports[i].name, "");
    EXPECT_EQ(p.node(p.imports[i].node).kind, PickleKind::kExt);
    EXPECT_EQ(p.node(p.imports[i].node).int_value, codes[i]);
  }
  // CPython: "EXT specifies code <= 0" (EXT4 is signed).
  EXPECT_THAT(Decode(kP2 + "\x82\x00."s).status, HasRule("pickle.value"));
  EXPECT_THAT(Decode(kP2 + "\x83\x00\x00."s).status, HasRule("pickle.value"));
  EXPECT_THAT(Decode(kP2 + "\x84\xff\xff\xff\xff.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode(kP2 + "\x84\x01\x00\x00"s).status, HasRule("pickle.truncated"));
}

TEST(PickleImportTest, MethodCallsOnObjects) {
  // APPENDS / SETITEMS / ADDITEMS on a call result are method calls.
  const std::string s = kP4 + "ccollections\nOrderedDict\n)R(" + Su("a") + "K\x01u" + "(K\x02" "e";
  PickleProgram p = Decode(s + ".");
  ASSERT_THAT(p.status, IsOk());
  ASSERT_EQ(p.calls.size(), 3u);
  EXPECT_EQ(p.calls[1].opcode, 'u');
  EXPECT_EQ(p.calls[1].callable, p.root);
  EXPECT_EQ(p.calls[2].opcode, 'e');
  const PickleObjectExtras* ex = p.ExtrasOf(p.root);
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ(ex->dict_items.size(), 2u);
  EXPECT_EQ(ex->list_items.size(), 1u);
  // With nothing to add CPython calls nothing, whatever the target.
  PickleProgram q = Decode("K\x05(u(e(\x90.");
  ASSERT_THAT(q.status, IsOk());
  EXPECT_TRUE(q.calls.empty());
  EXPECT_EQ(RenderRoot(q), "5");
  // bytearray.extend and list item assignment exist; CPython runs them.
  PickleProgram r = Decode("\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00x(K\x01K\x02" "e."s);
  ASSERT_THAT(r.status, IsOk());
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].opcode, 'e');
  PickleProgram l = Decode("](K\x01K\x02" "eK\x00K\x07s."s);
  ASSERT_THAT(l.status, IsOk());
  ASSERT_EQ(l.calls.size(), 1u);
  EXPECT_EQ(l.calls[0].opcode, 's');
  // No such method: CPython raises.
  EXPECT_THAT(Decode("K\x01K\x02K\x03s.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode(")K\x02" "a.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("](K\x01\x90.").status, HasRule("pickle.value"));
}

TEST(PickleMemoTest, MemoizeAfterPopUsesTheEntryCount) {
  // memo[0] = 'a', memo[1] = 'b', POP, MEMOIZE: memo[2] = 'c' (the memo has
  // two entries), not memo[1] as a walker counting stack pushes would say.
  // CPython: ('b', 'c').
  const std::string s = kP4 + Su("a") + "\x94" + Su("b") + "\x94" "0" + Su("c") + "\x94" "h\x01h\x02\x86.";
  PickleProgram p = Decode(s);
  ASSERT_THAT(p.status, IsOk());
  EXPECT_EQ(RenderRoot(p), "('b', 'c')");
  // BINPUT 5 then MEMOIZE: one entry, so memo[1]. CPython: ('b', 'a').
  PickleProgram q = Decode(kP4 + Su("a") + "q\x05" + Su("b") + "\x94" "h\x01h\x05\x86.");
  ASSERT_THAT(q.status, IsOk());
  EXPECT_EQ(RenderRoot(q), "('b', 'a')");
  // Overwriting key 0 keeps one entry: MEMOIZE stores at 1. CPython: ('b', 'c').
  PickleProgram r = Decode(kP4 + Su("a") + "q\x00"s + Su("b") + "q\x00"s + Su("c") + "\x94" "h\x00h\x01\x86."s);
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(RenderRoot(r), "('b', 'c')");
}

TEST(PickleMemoTest, TextKeysFollowPythonInt) {
  // int(line, 10): whitespace, sign, underscores. CPython: all load fine.
  PickleProgram q = Decode("Np 1\n0K\x07p+2\n0S'x'\np0_3\n0(g1\ng 2 \ng3\nt.");
  ASSERT_THAT(q.status, IsOk());
  EXPECT_EQ(RenderRoot(q), "(None, 7, 'x')");
  EXPECT_THAT(Decode("Np-1\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("Np0x1\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("Np99999999999999999999999\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("Np\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("Ng-1\n.").status, HasRule("pickle.memo_missing"));
}

TEST(PickleMemoTest, MissingKeyStopsWithOffset) {
  for (const std::string& get : {"h\x05"s, "j\x05\x00\x00\x00"s, "g5\n"s}) {
    const std::string s = kP2 + "K\x01q\x04" + get + ".";
    PickleProgram p = Decode(s, 10);
    EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kInvalidArgument, "pickle.memo_missing")) << get;
    EXPECT_EQ(ErrorOffset(p.status), 10 + s.find(get[0])) << get;
    EXPECT_EQ(p.root, kNoNode);
    EXPECT_EQ(p.nodes.size(), 1u);  // what came before is kept
  }
  // PUT needs a value.
  EXPECT_THAT(Decode("q\x00N."s).status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("(\x94N.").status, HasRule("pickle.stack"));
}

TEST(PickleStackTest, PopAndMarks) {
  // POP with nothing above the mark pops the mark (CPython: None).
  PickleProgram p = Decode("N(0.");
  ASSERT_THAT(p.status, IsOk());
  EXPECT_EQ(RenderRoot(p), "None");
  // ... so a second POP pops None and STOP finds nothing.
  EXPECT_THAT(Decode("N(00.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("0.").status, HasRule("pickle.stack"));
  // POP_MARK drops everything above the mark.
  PickleProgram q = Decode("K\x01(K\x02K\x03" "1.");
  ASSERT_THAT(q.status, IsOk());
  EXPECT_EQ(RenderRoot(q), "1");
  EXPECT_THAT(Decode("(N1.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("1.").status, HasRule("pickle.stack"));
  // DUP copies the top; it does not reach below a mark.
  PickleProgram d = Decode("K\x01" "2\x86.");
  ASSERT_THAT(d.status, IsOk());
  EXPECT_EQ(RenderRoot(d), "(1, 1)");
  EXPECT_THAT(Decode("K\x01(2.").status, HasRule("pickle.stack"));
  // TUPLE2 does not reach below a mark either; DICT needs pairs.
  EXPECT_THAT(Decode("K\x01(K\x02\x86.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("(K\x01" "d.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("}(K\x01u.").status, HasRule("pickle.stack"));
  EXPECT_THAT(Decode("t.").status, HasRule("pickle.stack"));
  // STOP with the value under a mark.
  EXPECT_THAT(Decode("N(.").status, HasRule("pickle.stack"));
}

TEST(PickleFrameTest, FrameCuttingAnOpcodeIsAnAnomaly) {
  // The frame ends inside SHORT_BINUNICODE: pickle.py refuses, the C
  // unpickler (loads) reads on.
  const std::string s = kP4 + Frame(3) + Su("hello") + ".";
  PickleProgram p = Decode(s, 7);
  ASSERT_THAT(p.status, IsOk());
  EXPECT_EQ(RenderRoot(p), "'hello'");
  ASSERT_EQ(p.anomalies.size(), 1u);
  EXPECT_EQ(p.anomalies[0].rule, "pickle.frame_mismatch");
  EXPECT_EQ(p.anomalies[0].offset, 7 + 11u);
  // A new FRAME before the previous one is used up.
  PickleProgram q = Decode(kP4 + Frame(10) + Frame(1) + "N.");
  ASSERT_THAT(q.status, IsOk());
  ASSERT_EQ(q.anomalies.size(), 1u);
  EXPECT_EQ(q.anomalies[0].rule, "pickle.frame_mismatch");
  // Frames that fit the opcodes, including a FRAME that is the last bytes of
  // the previous frame, and an empty frame: no anomaly.
  for (const std::string& ok : {kP4 + Frame(2) + "N.", kP4 + Frame(1) + "N" + Frame(1) + ".",
                                kP4 + Frame(10) + "N" + Frame(1) + ".", kP4 + Frame(0) + "N."}) {
    PickleProgram r = Decode(ok);
    ASSERT_THAT(r.status, IsOk());
    EXPECT_TRUE(r.anomalies.empty());
  }
}

TEST(PickleFrameTest, FrameLongerThanTheData) {
  const std::string s = kP4 + Frame(100) + "N.";
  PickleProgram p = Decode(s);
  EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kInvalidArgument, "pickle.truncated"));
  EXPECT_EQ(ErrorOffset(p.status), 2u);
  EXPECT_THAT(Decode(kP4 + Frame(~uint64_t{0}) + "N.").status, HasRule("pickle.truncated"));
}

TEST(PickleErrorTest, OpcodeAndProtocol) {
  PickleProgram p = Decode(kP2 + "N\xff.");
  EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kInvalidArgument, "pickle.opcode"));
  EXPECT_EQ(ErrorOffset(p.status), 3u);
  EXPECT_THAT(Decode("N\x00."s).status, HasRule("pickle.opcode"));
  PickleProgram q = Decode("\x80\x06N."s, 50);
  EXPECT_THAT(q.status, StatusIs(absl::StatusCode::kInvalidArgument, "pickle.protocol"));
  EXPECT_EQ(ErrorOffset(q.status), 50u);
  // PROTO 0..5 are fine; the highest one seen is reported.
  PickleProgram r = Decode("\x80\x00\x80\x05\x80\x01N."s);
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.protocol, 5);
  EXPECT_THAT(Decode("").status, HasRule("pickle.truncated"));
  EXPECT_THAT(Decode("N").status, HasRule("pickle.truncated"));
}

TEST(PickleErrorTest, Limits) {
  const std::string s = "(K\x01K\x02K\x03K\x04t.";
  PickleLimits ops;
  ops.max_opcodes = 3;
  PickleProgram p = Decode(s, 0, ops);
  EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kResourceExhausted, "pickle.limit"));
  EXPECT_EQ(ErrorOffset(p.status), 5u);
  ops.max_opcodes = 7;
  EXPECT_THAT(Decode(s, 0, ops).status, IsOk());
  PickleLimits nodes;
  nodes.max_nodes = 2;
  PickleProgram q = Decode(s, 0, nodes);
  EXPECT_THAT(q.status, StatusIs(absl::StatusCode::kResourceExhausted, "pickle.limit"));
  EXPECT_EQ(ErrorOffset(q.status), 5u);
  EXPECT_EQ(q.nodes.size(), 2u);
  nodes.max_nodes = 5;
  EXPECT_THAT(Decode(s, 0, nodes).status, IsOk());
}

// ---- values, following the C unpickler -----------------------------------

std::string Value(const std::string& s) {
  PickleProgram p = Decode(s);
  if (!p.complete()) return "error " + ErrorRule(p.status);
  return RenderRoot(p);
}

TEST(PickleValueTest, TextIntegers) {
  // INT is strtol(line, 0) first: "010" is octal. A 2-character line read
  // as 0 or 1 is a bool. Each expected value is what CPython 3.11 returns.
  EXPECT_EQ(Value("I010\n."), "8");
  EXPECT_EQ(Value("I01\n."), "True");
  EXPECT_EQ(Value("I00\n."), "False");
  EXPECT_EQ(Value("I 1\n."), "True");
  EXPECT_EQ(Value("I-0\n."), "False");
  EXPECT_EQ(Value("I1\0\n."s), "True");
  EXPECT_EQ(Value("I1\n."), "1");
  EXPECT_EQ(Value("I1_0\n."), "10");
  EXPECT_EQ(Value("I 12 \n."), "12");
  EXPECT_EQ(Value("I0x10\n."), "16");
  EXPECT_EQ(Value("I-0x1f\n."), "-31");
  EXPECT_EQ(Value("I0b11\n."), "3");
  EXPECT_EQ(Value("I-9223372036854775808\n."), "-9223372036854775808");
  EXPECT_EQ(Value("I-9223372036854775809\n."), "-9223372036854775809");
  EXPECT_EQ(Value("I9223372036854775808\n."), "9223372036854775808");
  EXPECT_EQ(Value("I09\n."), "error pickle.value");
  EXPECT_EQ(Value("I0x\n."), "error pickle.value");
  EXPECT_EQ(Value("I00x1\n."), "error pickle.value");
  EXPECT_EQ(Value("I0777777777777777777777777\n."), "error pickle.value");
  EXPECT_EQ(Value("I\n."), "error pickle.value");
  // LONG is int(line, 0) without one trailing L.
  EXPECT_EQ(Value("L010L\n."), "error pickle.value");
  EXPECT_EQ(Value("L0x10L\n."), "16");
  EXPECT_EQ(Value("L10\n."), "10");
  EXPECT_EQ(Value("L 5 L\n."), "5");
  EXPECT_EQ(Value("L0x_1L\n."), "1");
  EXPECT_EQ(Value("L0x__1L\n."), "error pickle.value");
  EXPECT_EQ(Value("L0_0L\n."), "0");
  EXPECT_EQ(Value("L0_L\n."), "error pickle.value");
  EXPECT_EQ(Value("L-0L\n."), "0");
  EXPECT_EQ(Value("L-000123456789012345678901234567890L\n."), "error pickle.value");  // base 0: no leading 0
  EXPECT_EQ(Value("L-123456789012345678901234567890L\n."), "-123456789012345678901234567890");
  EXPECT_EQ(Value("L0x10000000000000000L\n."), "18446744073709551616");
  EXPECT_EQ(Value("L-0x8000000000000001L\n."), "-9223372036854775809");
  EXPECT_EQ(Value("L-0o1777777777777777777777L\n."), "-18446744073709551615");
  PickleProgram big = Decode("L +1_23456789012345678901234567890 L\n.");
  ASSERT_THAT(big.status, IsOk());
  EXPECT_EQ(big.node(big.root).kind, PickleKind::kBigInt);
  EXPECT_EQ(big.node(big.root).text, "123456789012345678901234567890");
  EXPECT_FALSE(big.node(big.root).big_binary);
}

TEST(PickleValueTest, BinaryIntegers) {
  EXPECT_EQ(Value("J\xff\xff\xff\xff."), "-1");
  EXPECT_EQ(Value("M\xff\xff."), "65535");
  EXPECT_EQ(Value(kP2 + "\x8a\x00."s), "0");
  EXPECT_EQ(Value(kP2 + "\x8a\x01\xff."), "-1");
  EXPECT_EQ(Value(kP2 + "\x8a\x02\xff\x00."s), "255");
  EXPECT_EQ(Value(kP2 + "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."s), "-9223372036854775808");
  EXPECT_EQ(Value(kP2 + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00."s), "9223372036854775808");
  // More bytes than needed: still an int64 (CPython: 1 and -2).
  PickleProgram p = Decode(kP2 + "\x8a\x0a\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00."s);
  ASSERT_THAT(p.status, IsOk());
  EXPECT_EQ(p.node(p.root).kind, PickleKind::kInt);
  EXPECT_EQ(p.node(p.root).int_value, 1);
  EXPECT_EQ(Value(kP2 + "\x8a\x09\xfe\xff\xff\xff\xff\xff\xff\xff\xff."), "-2");
  EXPECT_EQ(Value(kP2 + "\x8b\x02\x00\x00\x00\x00\x01."s), "256");
  EXPECT_EQ(Value(kP2 + "\x8b\xff\xff\xff\xff."), "error pickle.value");
}

TEST(PickleValueTest, TextFloats) {
  EXPECT_EQ(Value("F1.5\n."), "f3ff8000000000000");
  EXPECT_EQ(Value("F1.\n."), "f3ff0000000000000");
  EXPECT_EQ(Value("F.5\n."), "f3fe0000000000000");
  EXPECT_EQ(Value("F1.5e+3\n."), "f4097700000000000");
  EXPECT_EQ(Value("F1e-500\n."), "f0000000000000000");
  EXPECT_EQ(Value("Finfinity\n."), "f7ff0000000000000");
  EXPECT_EQ(Value("F-inf\n."), "ffff0000000000000");
  EXPECT_EQ(Value("F1.5\0x\n."s), "f3ff8000000000000");
  for (const char* bad : {"F 1.5\n.", "F1.5 \n.", "F1e500\n.", "F0x1p3\n.", "F1_0\n.", "F1e\n.", "Finfin\n.",
                          "F\n.", "F.\n."}) {
    EXPECT_EQ(Value(bad), "error pickle.value") << bad;
  }
  PickleProgram nan = Decode("Fnan\n.");
  ASSERT_THAT(nan.status, IsOk());
  EXPECT_TRUE(std::isnan(nan.node(nan.root).float_value));
  EXPECT_EQ(Value("G\x3f\xf8\x00\x00\x00\x00\x00\x00."s), "f3ff8000000000000");
}

TEST(PickleValueTest, Strings) {
  EXPECT_EQ(Value("S'abc'\n."), "'abc'");
  EXPECT_EQ(Value("S\"a\"\n."), "'a'");
  EXPECT_EQ(Value("S''\n."), "''");
  EXPECT_EQ(Value("S'\\x41\\101\\n\\q'\n."), "'AA\\x0a\\x5cq'");
  EXPECT_EQ(Value("S'\\xff'\n."), "b'\\xff'");  // non-ASCII: bytes (an error with encoding ASCII)
  EXPECT_EQ(Value("S'abc' \n."), "error pickle.value");
  EXPECT_EQ(Value("S'ab\\'\n."), "error pickle.value");
  EXPECT_EQ(Value("S'\\x4'\n."), "error pickle.value");
  EXPECT_EQ(Value("S'\n."), "error pickle.value");
  // raw-unicode-escape: \u escapes only after an odd run of backslashes.
  EXPECT_EQ(Value("V\\u0041\\\\u0041\\\\\\u0041\n."), "'A\\x5c\\x5cu0041\\x5c\\x5cA'");
  EXPECT_EQ(Value("V\\\n."), "'\\x5c'");
  EXPECT_EQ(Value("V\\x\n."), "'\\x5cx'");
  EXPECT_EQ(Value("V\xe9\\ud800\n."), "'\\xc3\\xa9\\xed\\xa0\\x80'");
  EXPECT_EQ(Value("V\\U00110000\n."), "error pickle.value");
  EXPECT_EQ(Value("V\\u12\n."), "error pickle.value");
  EXPECT_EQ(Value("V\\u12g4\n."), "error pickle.value");
  // BINUNICODE is UTF-8 with surrogatepass.
  EXPECT_EQ(Value("X\x03\x00\x00\x00\xed\xa0\x80."s), "'\\xed\\xa0\\x80'");
  EXPECT_EQ(Value("X\x04\x00\x00\x00\xf0\x90\x80\x80."s), "'\\xf0\\x90\\x80\\x80'");
  for (const std::string& bad : {"X\x01\x00\x00\x00\xff."s, "X\x02\x00\x00\x00\xc0\x80."s,
                                 "X\x04\x00\x00\x00\xf4\x90\x80\x80."s,
                                 kP4 + "\x8c\x02\xe0\x80.", "X\x01\x00\x00\x00\x80."s}) {
    EXPECT_EQ(Value(bad), "error pickle.value");
  }
  // BINSTRING's length is unsigned to the C unpickler: 2^31 is truncated.
  EXPECT_EQ(Value("T\x03\x00\x00\x80" "abc."s), "error pickle.truncated");
  EXPECT_EQ(Value("T\x03\x00\x00\x00" "abc."s), "b'abc'");
}

TEST(PickleValueTest, GlobalLines) {
  EXPECT_THAT(Decode("c\nfoo\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("cmod\n\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("cm\xff\nn\n.").status, HasRule("pickle.value"));
  EXPECT_THAT(Decode("cm\xed\xa0\x80\nn\n.").status, HasRule("pickle.value"));  // strict UTF-8
  EXPECT_THAT(Decode("(imod\nn\xc3\xa9\n.").status, HasRule("pickle.value"));  // INST: ASCII
  PickleProgram p = Decode("cm\r\nn\xc3\xa9\n.");  // kept as written
  ASSERT_THAT(p.status, IsOk());
  EXPECT_TRUE(p.IsGlobal(p.root, "m\r", "n\xc3\xa9"));
  EXPECT_THAT(Decode("cos\n").status, HasRule("pickle.truncated"));
}

TEST(PickleValueTest, Containers) {
  EXPECT_EQ(Value("(K\x01K\x02l."), "[1, 2]");
  EXPECT_EQ(Value("(K\x01K\x02\x91."), "frozenset({1, 2})");
  EXPECT_EQ(Value("\x8f(K\x01K\x02\x90."), "{1, 2}");
  EXPECT_EQ(Value("(K\x01K\x02" "d."), "{1: 2}");
  EXPECT_EQ(Value("}K\x01K\x02s."), "{1: 2}");
  EXPECT_EQ(Value("]q\x00(h\x00h\x00"s "e."), "[..., ...]");
  EXPECT_EQ(Value(")K\x01\x86\x87."), "error pickle.stack");
  EXPECT_EQ(Value("\x80\x05\x97N\x86."s), "(<buffer>, None)");
  PickleProgram p = Decode("\x80\x05\x97."s);
  ASSERT_THAT(p.status, IsOk());
  ASSERT_EQ(p.anomalies.size(), 1u);
  EXPECT_EQ(p.anomalies[0].rule, "pickle.buffer");
  EXPECT_EQ(Value("\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00x\x98."s), "bytearray(b'x')");
  EXPECT_EQ(Value("\x98."), "error pickle.stack");
}

TEST(PickleNamesTest, OpcodeNames) {
  EXPECT_EQ(PickleOpcodeName('c'), "GLOBAL");
  EXPECT_EQ(PickleOpcodeName(0x93), "STACK_GLOBAL");
  EXPECT_EQ(PickleOpcodeName(0x95), "FRAME");
  EXPECT_EQ(PickleOpcodeName(0xff), "");
  int named = 0;
  for (int op = 0; op < 256; ++op) named += !PickleOpcodeName(static_cast<uint8_t>(op)).empty();
  EXPECT_EQ(named, 68);  // pickletools.opcodes
}

}  // namespace
}  // namespace ckpt
