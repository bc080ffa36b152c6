// ckpt/text.h — small text helpers shared by errors, tables and JSON output.
#ifndef CKPT_TEXT_H_
#define CKPT_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt {

// EscapeForDisplay
//
// Returns `s` with control characters, backslash, quote and invalid UTF-8
// written as C-style escapes (\n, \x00, \\, \"), so names that hide NULs or
// terminal sequences are shown as they are. Valid non-ASCII UTF-8 is kept.
std::string EscapeForDisplay(std::string_view s);

// IsValidUtf8
//
// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Offset of the first byte that starts an ill-formed sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s);

// DecodeUtf8At
//
// Length of the well-formed UTF-8 sequence at s[i] (REQUIRES i < s.size()),
// with its code point in `*cp`; 0 when the bytes there are ill-formed
// (overlongs, surrogates and code points past U+10FFFF, as Python's strict
// decoder).
size_t DecodeUtf8At(std::string_view s, size_t i, char32_t* cp);

// HumanBytes
//
// "1.50 MiB"-style size for tables (binary units, 3 significant digits).
std::string HumanBytes(uint64_t n);

}  // namespace ckpt

#endif  // CKPT_TEXT_H_
