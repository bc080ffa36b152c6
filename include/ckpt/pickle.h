// ckpt/pickle.h — decodes Python pickles without running anything.
//
// DecodePickle() runs the pickle virtual machine symbolically: every opcode
// of protocols 0–5 is decoded, but imports are kept as names (a kGlobal
// node), calls as records (a kObject node holding callable and arguments),
// and persistent ids as kPersistentId nodes. Nothing is imported or called,
// so decoding is safe on any bytes. The result is a graph of nodes plus the
// list of every import and every call with its byte offset, which is what
// both users need:
//   - the PyTorch/NumPy readers walk the graph from the root and accept only
//     the constructs torch.save writes (formats/pytorch);
//   - the scanner classifies every import and call (lib/scan).
//
// The decoder follows CPython's C unpickler where parsers disagree: FRAME
// lengths are only checked to fit in the input (opcode boundaries that do not
// match are recorded as an anomaly), MEMOIZE uses the memo's entry count, POP
// on an empty mark frame pops the mark, a missing memo key stops decoding.
//
// Memory is bounded by the input: each opcode makes at most one node, strings
// and bytes are views into the input (only protocol-0 text forms are decoded
// into owned storage), and PickleLimits caps opcodes and nodes. Decoding is
// iterative; nothing recurses. The graph may contain cycles (a list appended
// to itself via the memo): walkers must bound their depth.
#ifndef CKPT_PICKLE_H_
#define CKPT_PICKLE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ckpt {

inline constexpr uint32_t kNoNode = 0xFFFFFFFFu;

enum class PickleKind : uint8_t {
  kNone,
  kBool,          // int_value 0/1
  kInt,           // int_value
  kBigInt,        // does not fit int64: text is the canonical decimal
                  // (base-10 text forms: "-123", no '+', zeros or '_') or
                  // two's-complement little-endian bytes (LONG1/LONG4, and
                  // 0x/0o/0b text forms), see `big_binary`
  kFloat,         // float_value
  kString,        // Python str; text is UTF-8 (surrogates kept as encoded)
  kBytes,         // Python bytes, or a Python-2 str (BINSTRING forms)
  kByteArray,
  kTuple,         // items
  kList,          // items
  kDict,          // items = key0, value0, key1, value1, ...
  kSet,           // items
  kFrozenSet,     // items
  kGlobal,        // text = module, name = qualified name, as written;
                  // empty when STACK_GLOBAL took it from a value only known
                  // at run time (anomaly pickle.dynamic_global)
  kObject,        // a call result: items = callable, args[, kwargs]; more in
                  // PickleProgram::extras
  kPersistentId,  // items = pid (BINPERSID) or text (PERSID)
  kBuffer,        // out-of-band buffer (NEXT_BUFFER)
  kExt,           // an EXT1/2/4 extension code (int_value): an import by code
};

std::string_view PickleKindName(PickleKind kind);

struct PickleNode {
  PickleKind kind = PickleKind::kNone;
  uint8_t opcode = 0;        // the opcode that made the node
  bool big_binary = false;   // kBigInt: text holds LE two's-complement bytes
  uint64_t offset = 0;       // absolute offset of that opcode
  int64_t int_value = 0;
  double float_value = 0;
  std::string_view text;
  std::string_view name;
  std::vector<uint32_t> items;
};

// What later opcodes did to a kObject (or other non-container) node:
// SETITEM(S)/APPEND(S)/ADDITEMS on it, BUILD with a state.
struct PickleObjectExtras {
  std::vector<uint32_t> dict_items;  // key, value, ...
  std::vector<uint32_t> list_items;
  std::vector<uint32_t> states;      // each BUILD's state, in order
};

// An opcode that imports: GLOBAL, STACK_GLOBAL, INST, EXT1/2/4.
struct PickleImport {
  uint64_t offset = 0;
  uint8_t opcode = 0;
  std::string_view module;  // as written (no remapping); empty for EXT
  std::string_view name;
  uint32_t node = kNoNode;  // the kGlobal / kExt node
};

// An opcode that calls something: REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST
// (callable = the class), BUILD (callable = the object built), PERSID /
// BINPERSID (persistent_load), and APPEND(S)/SETITEM(S)/ADDITEMS when their
// target is not a plain list/dict/set (a method call on an object).
struct PickleCall {
  uint64_t offset = 0;
  uint8_t opcode = 0;
  uint32_t callable = kNoNode;  // node called, built or appended to
  uint32_t args = kNoNode;      // argument/state node where there is one
  uint32_t result = kNoNode;    // node made (kObject, kPersistentId)
};

// Something parsers could disagree about, or a loader would trip on.
// Rules: pickle.frame_mismatch, pickle.buffer (out-of-band data),
// pickle.dynamic_global (STACK_GLOBAL names a call result: a str only at run
// time, so the import is recorded with an empty module and/or name).
struct PickleAnomaly {
  std::string_view rule;
  std::string message;
  uint64_t offset = 0;
};

struct PickleLimits {
  uint64_t max_opcodes = 1ull << 28;
  uint64_t max_nodes = 1ull << 27;
  // Values plus marks on the stack at once (a MARK costs no node).
  uint64_t max_stack = 1ull << 24;
  // false: containers do not record their items (the scanner does not need
  // them); imports, calls and their direct operands are still recorded.
  // Scalars and containers may then share one node per kind, so their
  // values (int_value, float_value, items) mean nothing; strings, bytes,
  // globals, objects, persistent ids and extensions keep their own nodes.
  bool record_items = true;
};

struct PickleProgram {
  uint64_t offset = 0;   // absolute offset of the first byte
  uint64_t end = 0;      // one past STOP, or where decoding stopped
  int protocol = -1;     // highest PROTO seen; -1 when there was none
  uint64_t opcode_count = 0;
  uint32_t root = kNoNode;   // the value STOP returned
  std::vector<PickleNode> nodes;
  absl::flat_hash_map<uint32_t, PickleObjectExtras> extras;
  std::vector<PickleImport> imports;
  std::vector<PickleCall> calls;
  std::vector<PickleAnomaly> anomalies;
  // Absolute offset of the first use of each opcode byte, UINT64_MAX if
  // unused.
  std::array<uint64_t, 256> first_use;
  // OK when STOP was reached. Otherwise why decoding stopped, with rule
  // (pickle.truncated, pickle.opcode, pickle.stack, pickle.memo_missing,
  // pickle.value, pickle.protocol, pickle.limit) and offset; everything
  // decoded before the error is kept.
  absl::Status status;
  std::deque<std::string> owned;  // decoded text the views point into

  const PickleNode& node(uint32_t i) const { return nodes[i]; }
  bool complete() const { return status.ok(); }
  // The extras of node `i`, or nullptr.
  const PickleObjectExtras* ExtrasOf(uint32_t i) const;
  // True when node `i` is a kGlobal named exactly `module`.`name`.
  bool IsGlobal(uint32_t i, std::string_view module, std::string_view name) const;
};

// DecodePickle
//
// Decodes one pickle starting at bytes[0], up to and including its STOP.
// `base_offset` is the absolute offset of bytes[0] (for messages). Never
// fails as a function: errors are in PickleProgram::status.
PickleProgram DecodePickle(absl::Span<const uint8_t> bytes, uint64_t base_offset = 0,
                           const PickleLimits& limits = {});

// The opcode's name in pickletools spelling ("BINUNICODE", ...), or "" if
// the byte is no opcode.
std::string_view PickleOpcodeName(uint8_t opcode);

// True when the bytes start like a pickle: PROTO 2..5, or PROTO 0/1 or a
// protocol-0/1 opcode that can begin a pickle, followed by plausible content
// (the first opcodes, up to 1 MiB, decode without error).
bool LooksLikePickle(absl::Span<const uint8_t> head);

}  // namespace ckpt

#endif  // CKPT_PICKLE_H_
