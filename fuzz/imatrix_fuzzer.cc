// Protects: ParseImatrix (GGUF and legacy .dat importance matrices) never
// crashes, hangs or allocates beyond its input on any bytes.
//
// Checks, each an abort() with a message on stderr:
//   1. ParseImatrix returns; an error carries an imatrix.* or gguf.* rule.
//   2. On success every entry is non-empty and holds at most as many floats
//      as the input has 4-byte words (nothing is invented or inflated).
#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "ckpt/quantize.h"
#include "ckpt/status.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> bytes(data, size);
  const absl::StatusOr<ckpt::Imatrix> m = ckpt::ParseImatrix(bytes, "fuzz.imatrix");
  if (!m.ok()) {
    const std::string rule = ckpt::ErrorRule(m.status());
    CHECK(rule.rfind("imatrix.", 0) == 0 || rule.rfind("gguf.", 0) == 0, "error without an imatrix/gguf rule", rule);
    return 0;
  }
  uint64_t total = 0;
  for (const auto& [name, values] : m->entries) {
    CHECK(!values.empty() || !m->legacy, "empty legacy entry", name);
    total += values.size();
  }
  CHECK(total <= size / 4 + 1, "more values than the input holds");
  return 0;
}
