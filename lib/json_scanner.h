// lib/json_scanner.h — a strict, zero-copy JSON pull scanner (internal).
//
// Why not nlohmann/json here: the Safetensors header must be accepted or
// rejected exactly as the reference (serde_json) does, the parser must see
// duplicate keys, and a 20,000-tensor header must parse in a few
// milliseconds. This scanner gives the caller each token in document order,
// as a view into the input where possible, with serde_json's rules:
//   - whitespace is exactly space, \t, \n, \r;
//   - strings: raw bytes 0x00–0x1F are errors; escapes \" \\ \/ \b \f \n \r \t
//     \uXXXX; UTF-16 surrogates must pair (a lone one is an error);
//   - numbers: RFC 8259 grammar (no leading zeros, no '+', no bare '.');
//     a number whose value overflows an IEEE double is an error (serde's
//     "number out of range"); plain non-negative integers ≤ 2^64−1 are
//     reported as unsigned;
//   - nesting: at most 127 levels of arrays/objects (serde_json's recursion
//     limit of 128 counts the opening bracket that fails).
// The input must already be valid UTF-8 (checked separately, as the reference
// does before parsing). Offsets in errors are relative to the input start.
#ifndef CKPT_LIB_JSON_SCANNER_H_
#define CKPT_LIB_JSON_SCANNER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt::json {

// serde_json's recursion limit: the 128th nested bracket is an error.
inline constexpr int kMaxDepth = 127;

enum class Kind { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  // Position of the next unread byte (after SkipWs, the next token).
  size_t pos() const { return pos_; }
  // The whole input, and a way back to an earlier position (for callers
  // that try a fast path over the raw bytes and fall back to tokens).
  std::string_view text() const { return s_; }
  void Seek(size_t pos) { pos_ = pos; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  size_t error_pos() const { return error_pos_; }

  void SkipWs() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r') break;
      ++pos_;
    }
  }
  // Kind of the next value after whitespace, or sets an error ("expected
  // value") and returns nullopt-like kNull with failed() set.
  bool PeekKind(Kind* kind);
  // Consumes `c` after whitespace or fails with `what`.
  bool Expect(char c, const char* what);
  // After whitespace: consumes `c` and returns true if it is next.
  bool Consume(char c) {
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == c) { ++pos_; return true; }
    return false;
  }

  // Reads a string. `*out` views the input when the string has no escapes,
  // otherwise the decoded text in `*storage`. Sets `*had_escape`.
  bool ReadString(std::string_view* out, std::string* storage, bool* had_escape = nullptr);

  // Reads a number. `*is_u64` tells whether it is a plain non-negative
  // integer that fits 64 bits (then `*u` holds it); `*raw` views the text.
  bool ReadNumber(bool* is_u64, uint64_t* u, std::string_view* raw);

  // Skips any value (validating it). `depth` is the nesting depth of the
  // enclosing container (0 at top level).
  bool SkipValue(int depth);

  // Records an error at `at` (the first error wins). Always returns false.
  bool Fail(size_t at, std::string message);

  // True when only whitespace remains.
  bool AtEnd() {
    SkipWs();
    return pos_ == s_.size();
  }

 private:
  bool ReadLiteral(std::string_view word);
  bool ReadHex4(uint32_t* v);

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
};

}  // namespace ckpt::json

#endif  // CKPT_LIB_JSON_SCANNER_H_
