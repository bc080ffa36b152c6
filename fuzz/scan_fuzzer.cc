// Fuzz target: ScanBytes (content sniffing, archives, compressed streams,
// pickles, nested payloads). Properties: never crashes or hangs; the verdict
// follows the findings (critical/high → unsafe; safe only without medium
// findings and with everything parsed); every finding has a rule in scan.*.
#include <cstdint>

#include "ckpt/scan.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ckpt::ScanOptions options;
  options.max_depth = 4;
  options.max_inflate = 8u << 20;
  options.max_pickle_opcodes = 1 << 20;
  const ckpt::ScanReport r = ckpt::ScanBytes(absl::Span<const uint8_t>(data, size), "fuzz", options);
  ckpt::Severity worst = ckpt::Severity::kInfo;
  for (const ckpt::Finding& f : r.findings) {
    CHECK(f.rule.rfind("scan.", 0) == 0, "f.rule.rfind('scan.', 0) == 0");
    CHECK(f.count >= 1, "f.count >= 1");
    if (f.severity > worst) worst = f.severity;
  }
  if (worst >= ckpt::Severity::kHigh) CHECK(r.verdict == ckpt::Verdict::kUnsafe, "r.verdict == ckpt::Verdict::kUnsafe");
  if (r.verdict == ckpt::Verdict::kSafe) {
    CHECK(!r.incomplete, "!r.incomplete");
    CHECK(worst < ckpt::Severity::kMedium, "worst < ckpt::Severity::kMedium");
  }
  return 0;
}
