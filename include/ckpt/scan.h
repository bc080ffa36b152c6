// ckpt/scan.h — a security scanner for model files that runs nothing.
//
// ScanPath() looks at a file's bytes (never its name) and descends through
// every container it recognises — zip (torch checkpoints, .npz, Keras),
// tar (incl. torch's legacy tar), gzip/zlib/zstd streams, legacy stacked
// torch files, .npy object arrays, pickles nested in byte strings — up to
// ScanOptions::max_depth levels. Every pickle is decoded completely by the
// symbolic decoder (lib/pickle) and judged by allowlist: a global is safe only
// if torch.load(weights_only=True) would accept it (plus numpy array
// reconstruction and plain builtins); known-dangerous globals are critical,
// every other global is high. Container differentials (duplicate zip names,
// local/central name mismatch, CRC mismatch, odd flag bits), Safetensors or
// GGUF files that fail validation, code-executing Jinja chat templates,
// TorchScript code and executables disguised as weights are findings too.
//
// Verdict: "unsafe" with any critical or high finding; otherwise "error"
// when something could not be fully parsed (truncated pickle, 7z, corrupt
// archive: never "safe"); otherwise "suspicious" with a medium finding;
// otherwise "safe". Tensor data is never read: cost is proportional to
// pickle opcodes and archive directories (plus the first bytes of each
// member, to recognise it).
#ifndef CKPT_SCAN_H_
#define CKPT_SCAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace ckpt {

enum class Severity { kInfo, kLow, kMedium, kHigh, kCritical };
enum class Verdict { kSafe, kSuspicious, kUnsafe, kError };

std::string_view SeverityName(Severity s);   // "critical", "high", ...
std::string_view VerdictName(Verdict v);     // "safe", "suspicious", ...

struct Finding {
  Severity severity = Severity::kInfo;
  std::string rule;      // stable id, docs/rules.md (scan.*)
  std::string message;   // one sentence
  // Where: the file, then "!member" per archive level, then "@offset" (the
  // absolute offset inside the innermost member or file).
  std::string location;
  uint64_t count = 1;    // identical findings in one pickle are merged
};

struct ScanReport {
  std::string path;
  Verdict verdict = Verdict::kSafe;
  std::string format;    // what the top level was recognised as
  std::vector<Finding> findings;
  bool incomplete = false;  // something could not be fully parsed
  bool io_error = false;    // the path could not be read at all
};

struct ScanOptions {
  int max_depth = 8;                        // archive/pickle nesting
  uint64_t max_inflate = 1ull << 30;        // per decompressed member
  uint64_t max_inflate_total = 2ull << 30;  // all decompression in one scan
  uint64_t max_pickle_opcodes = 1ull << 28;
  uint64_t max_findings = 1000;             // per file; more are counted
};

// ScanPath: one regular file (directories are expanded by the caller).
ScanReport ScanPath(const std::string& path, const ScanOptions& options = {});

// ScanBytes: the same on bytes in memory; `name` is used in locations.
ScanReport ScanBytes(absl::Span<const uint8_t> bytes, const std::string& name,
                     const ScanOptions& options = {});

}  // namespace ckpt

#endif  // CKPT_SCAN_H_
