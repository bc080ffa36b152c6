// Protects: DecodePickle never crashes, hangs or reads outside its input on
// any bytes, with or without recorded items and under small limits; what it
// returns is internally consistent; a complete result is never produced from
// bytes that stop short of the STOP that completed it.
//
// Checks, each an abort() with a message on stderr:
//   1. DecodePickle returns (default limits; record_items=false; small
//      limits). offset is the base offset, end lies in [offset, offset+size],
//      complete() implies root != kNoNode, an error names a rule (pickle.*)
//      and an offset inside the input; the limits hold (nodes <= max_nodes,
//      opcodes <= max_opcodes + 1: the refused one counts).
//   2. Every node index (root, items, extras, imports, calls) is <
//      nodes.size(); every node's offset lies inside the input; every text
//      and name view, of nodes and imports, lies inside the input or inside
//      one string of program.owned.
//   3. Every import's node is a kGlobal (with the import's module and name)
//      or a kExt (with empty module and name); every call's offset lies
//      inside the input; every anomaly has a pickle.* rule and an offset
//      inside the input.
//   4. record_items=false decodes the same program: same status, end,
//      protocol, opcode count, imports (offset, opcode, module, name) and
//      calls (offset, opcode), and no container records items.
//   5. A base offset shifts every offset and nothing else.
//   6. A complete decode ending at E: the first E-1 bytes (an exact-size
//      copy) fail with pickle.truncated; without FRAME (whose length may
//      cover bytes after STOP) the bytes after E change nothing.
//   7. LooksLikePickle returns; it is true for input that decodes completely
//      and starts with PROTO 0-5 or a protocol-0/1 value opcode.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "ckpt/pickle.h"
#include "ckpt/status.h"
#include "fuzz/fuzz_check.h"

namespace {

using ckpt::PickleKind;
using ckpt::PickleProgram;
using Bytes = absl::Span<const uint8_t>;

constexpr uint64_t kBase = 1000;

bool IsPickleRule(std::string_view rule) { return rule.rfind("pickle.", 0) == 0; }

// Ranges of program.owned, sorted, for the view check.
class Owned {
 public:
  explicit Owned(const PickleProgram& p) {
    for (const std::string& s : p.owned) {
      const auto b = reinterpret_cast<uintptr_t>(s.data());
      ranges_.emplace_back(b, b + s.size());
    }
    std::sort(ranges_.begin(), ranges_.end());
  }
  bool Contains(std::string_view v) const {
    const auto b = reinterpret_cast<uintptr_t>(v.data());
    const uintptr_t e = b + v.size();
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(b, UINTPTR_MAX));
    if (it == ranges_.begin()) return false;
    --it;
    return b >= it->first && e <= it->second;
  }

 private:
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges_;
};

bool InInput(std::string_view v, Bytes in) {
  const auto b = reinterpret_cast<uintptr_t>(v.data());
  const auto lo = reinterpret_cast<uintptr_t>(in.data());
  return b >= lo && b <= lo + in.size() && v.size() <= lo + in.size() - b;
}

void CheckView(std::string_view v, Bytes in, const Owned& owned, const char* what) {
  if (v.empty()) return;  // an empty view may point anywhere
  CHECK(InInput(v, in) || owned.Contains(v), what);
}

// Properties 1-3 for one decode of `in` at `base`.
void CheckProgram(const PickleProgram& p, Bytes in, uint64_t base, const ckpt::PickleLimits& limits) {
  const uint64_t size = in.size();
  CHECK(p.offset == base, "offset is not the base offset");
  CHECK(p.end >= p.offset && p.end <= p.offset + size, "end outside [offset, offset + size]");
  if (p.complete()) {
    CHECK(p.root != ckpt::kNoNode, "complete without a root");
  } else {
    const std::string rule = ckpt::ErrorRule(p.status);
    CHECK(IsPickleRule(rule), "error without a pickle.* rule", p.status.ToString());
    const std::optional<uint64_t> at = ckpt::ErrorOffset(p.status);
    CHECK(at && *at >= base && *at <= base + size, "error offset outside the input", p.status.ToString());
    CHECK(p.root == ckpt::kNoNode, "a root without STOP");
  }
  CHECK(p.nodes.size() <= limits.max_nodes, "more nodes than max_nodes");
  CHECK(p.opcode_count <= limits.max_opcodes + 1, "more opcodes than max_opcodes");
  const size_t n = p.nodes.size();
  CHECK(p.root == ckpt::kNoNode || p.root < n, "root out of range");
  const Owned owned(p);
  for (const ckpt::PickleNode& node : p.nodes) {
    CHECK(node.offset >= base && node.offset < base + size, "node offset outside the input");
    for (uint32_t i : node.items) CHECK(i < n, "item index out of range");
    CheckView(node.text, in, owned, "node text outside the input and owned storage");
    CheckView(node.name, in, owned, "node name outside the input and owned storage");
    if (node.kind == PickleKind::kBigInt && node.big_binary) CHECK(node.text.size() > 8, "short binary big int");
  }
  for (const auto& [id, ex] : p.extras) {
    CHECK(id < n, "extras of a node out of range");
    for (const auto* v : {&ex.dict_items, &ex.list_items, &ex.states}) {
      for (uint32_t i : *v) CHECK(i < n, "extras index out of range");
    }
    CHECK(ex.dict_items.size() % 2 == 0, "odd dict items in extras");
  }
  for (const ckpt::PickleImport& imp : p.imports) {
    CHECK(imp.node < n, "import node out of range");
    CHECK(imp.offset >= base && imp.offset < base + size, "import offset outside the input");
    const ckpt::PickleNode& node = p.nodes[imp.node];
    if (node.kind == PickleKind::kGlobal) {
      CHECK(node.text == imp.module && node.name == imp.name, "import names differ from its node");
      CHECK(imp.opcode == 'c' || imp.opcode == 'i' || imp.opcode == 0x93, "kGlobal import by a non-import opcode");
    } else {
      CHECK(node.kind == PickleKind::kExt, "import node is neither kGlobal nor kExt");
      CHECK(imp.module.empty() && imp.name.empty(), "extension import with a name");
      CHECK(imp.opcode >= 0x82 && imp.opcode <= 0x84, "kExt import by a non-EXT opcode");
      CHECK(node.int_value > 0, "extension code not positive");
    }
    CheckView(imp.module, in, owned, "import module outside the input");
    CheckView(imp.name, in, owned, "import name outside the input");
  }
  for (const ckpt::PickleCall& c : p.calls) {
    CHECK(c.offset >= base && c.offset < base + size, "call offset outside the input");
    for (uint32_t i : {c.callable, c.args, c.result}) CHECK(i == ckpt::kNoNode || i < n, "call node out of range");
  }
  for (const ckpt::PickleAnomaly& a : p.anomalies) {
    CHECK(IsPickleRule(a.rule), "anomaly without a pickle.* rule");
    CHECK(a.offset >= base && a.offset < base + size, "anomaly offset outside the input");
  }
  for (int op = 0; op < 256; ++op) {
    const uint64_t f = p.first_use[op];
    CHECK(f == UINT64_MAX || (f >= base && f < base + size), "first_use outside the input");
  }
}

// Property 4 (and 5 with `shift`).
void CheckSame(const PickleProgram& a, const PickleProgram& b, uint64_t shift, bool ids, const char* what) {
  CHECK(a.complete() == b.complete(), what, std::string_view("completeness"));
  CHECK(ckpt::ErrorRule(a.status) == ckpt::ErrorRule(b.status), what, b.status.ToString());
  const std::optional<uint64_t> ea = ckpt::ErrorOffset(a.status), eb = ckpt::ErrorOffset(b.status);
  CHECK(ea.has_value() == eb.has_value() && (!ea || *ea + shift == *eb), what, std::string_view("error offset"));
  CHECK(a.end + shift == b.end && a.protocol == b.protocol && a.opcode_count == b.opcode_count, what,
        std::string_view("end, protocol or opcode count"));
  CHECK(a.imports.size() == b.imports.size() && a.calls.size() == b.calls.size() &&
            a.anomalies.size() == b.anomalies.size(),
        what, std::string_view("import, call or anomaly count"));
  for (size_t i = 0; i < a.imports.size(); ++i) {
    const ckpt::PickleImport &x = a.imports[i], &y = b.imports[i];
    CHECK(x.offset + shift == y.offset && x.opcode == y.opcode && x.module == y.module && x.name == y.name &&
              (!ids || x.node == y.node),
          what, std::string_view("imports"));
  }
  for (size_t i = 0; i < a.calls.size(); ++i) {
    const ckpt::PickleCall &x = a.calls[i], &y = b.calls[i];
    CHECK(x.offset + shift == y.offset && x.opcode == y.opcode &&
              (!ids || (x.callable == y.callable && x.args == y.args && x.result == y.result)),
          what, std::string_view("calls"));
  }
  for (size_t i = 0; i < a.anomalies.size(); ++i) {
    CHECK(a.anomalies[i].rule == b.anomalies[i].rule && a.anomalies[i].offset + shift == b.anomalies[i].offset,
          what, std::string_view("anomalies"));
  }
}

bool StartsLikePickle(Bytes in) {
  if (in.size() < 2) return false;
  if (in[0] == 0x80) return in[1] <= 5;
  return std::string_view("(}])ciILFGSVNJKMXUTP").find(static_cast<char>(in[0])) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);

  // Property 1-3, three ways.
  const ckpt::PickleLimits defaults;
  const PickleProgram full = ckpt::DecodePickle(in, 0, defaults);
  CheckProgram(full, in, 0, defaults);

  ckpt::PickleLimits lean_limits;
  lean_limits.record_items = false;
  const PickleProgram lean = ckpt::DecodePickle(in, 0, lean_limits);
  CheckProgram(lean, in, 0, lean_limits);

  ckpt::PickleLimits small;
  small.max_opcodes = 64;
  small.max_nodes = 16;
  for (bool items : {true, false}) {
    small.record_items = items;
    const PickleProgram p = ckpt::DecodePickle(in, 0, small);
    CheckProgram(p, in, 0, small);
    if (!p.complete()) {
      // The limits only ever stop decoding earlier.
      const std::string rule = ckpt::ErrorRule(p.status);
      CHECK(rule == "pickle.limit" || p.status == full.status, "small limits fail differently",
            p.status.ToString());
    } else {
      CHECK(full.complete() && full.end == p.end, "small limits complete where the defaults do not");
    }
  }

  // Property 4.
  CheckSame(full, lean, 0, /*ids=*/false, "record_items=false decodes differently");
  for (const ckpt::PickleNode& node : lean.nodes) {
    if (node.kind == PickleKind::kList || node.kind == PickleKind::kDict || node.kind == PickleKind::kSet ||
        node.kind == PickleKind::kFrozenSet) {
      CHECK(node.items.empty(), "record_items=false recorded container items");
    }
  }
  CHECK(lean.extras.empty(), "record_items=false recorded extras");

  // Property 5.
  const PickleProgram shifted = ckpt::DecodePickle(in, kBase, defaults);
  CheckProgram(shifted, in, kBase, defaults);
  CheckSame(full, shifted, kBase, /*ids=*/true, "a base offset changes the decode");
  CHECK(shifted.nodes.size() == full.nodes.size(), "a base offset changes the node count");

  // Property 6.
  if (full.complete()) {
    const size_t e = full.end;
    CHECK(e >= 1, "complete with end 0");
    const std::vector<uint8_t> cut(data, data + e - 1);
    const PickleProgram p = ckpt::DecodePickle(cut);
    CHECK(!p.complete(), "bytes before STOP decode completely");
    CHECK(ckpt::ErrorRule(p.status) == "pickle.truncated", "bytes before STOP fail without pickle.truncated",
          p.status.ToString());
    // (A FRAME may cover bytes after STOP: the C unpickler needs them there.)
    if (e < size && full.first_use[0x95] == UINT64_MAX) {
      const std::vector<uint8_t> exact(data, data + e);
      const PickleProgram q = ckpt::DecodePickle(exact);
      CHECK(q.complete(), "the bytes up to STOP do not decode alone", q.status.ToString());
      CheckSame(full, q, 0, /*ids=*/true, "bytes after STOP change the decode");
    }
  }

  // Property 7.
  const bool looks = ckpt::LooksLikePickle(in);
  if (full.complete() && StartsLikePickle(in)) CHECK(looks, "a complete pickle does not look like one");
  return 0;
}
