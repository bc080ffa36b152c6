// ckpt/atomic_file.h — output files that appear complete or not at all.
//
// Writers never open their target. They write a temporary file beside it
// (same directory, so rename is atomic), fsync it, and rename it over the
// target only in Commit(). Until then the old target is untouched — which
// also matters when the target is the very file being read through a
// mapping: truncating it in place would pull the pages out from under the
// reader (the bug safetensors fixed in its PR #764).
//
// If the object is destroyed without Commit(), the temporary is removed.
// InstallOutputCleanupOnSignal() extends that to SIGINT/SIGTERM/SIGHUP.
#ifndef CKPT_ATOMIC_FILE_H_
#define CKPT_ATOMIC_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ckpt {

class AtomicOutputFile {
 public:
  // Create
  //
  // Creates the temporary file next to `target`. Errors: file.create
  // (directory missing or not writable; names the target).
  static absl::StatusOr<std::unique_ptr<AtomicOutputFile>> Create(const std::string& target);

  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  ~AtomicOutputFile();

  // Appends `bytes` (buffered). Errors: file.write (disk full, I/O error).
  absl::Status Write(absl::Span<const uint8_t> bytes);
  absl::Status Write(std::string_view s) {
    return Write(absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }

  // Appends `n` bytes of the file at `path` starting at `offset`, copied by
  // the kernel (copy_file_range: no trip through user memory, a reflink on
  // filesystems that share extents), else by reads and writes. Errors:
  // file.unreadable for the source, file.write, and file.truncated when the
  // source ends early.
  absl::Status CopyFromFile(const std::string& path, uint64_t offset, uint64_t n);

  // Flushes the buffer and frees it (for writers that keep several files
  // open until they commit them together). Writing after Finish() is fine.
  absl::Status Finish();

  // Flushes, fsyncs and renames the temporary over the target. After an
  // error the temporary is removed and the target left as it was.
  absl::Status Commit();

  uint64_t bytes_written() const { return written_; }
  const std::string& target() const { return target_; }

 private:
  AtomicOutputFile() = default;
  absl::Status Flush();

  std::string target_;
  std::string temp_;
  int fd_ = -1;
  int slot_ = -1;
  bool committed_ = false;
  uint64_t written_ = 0;
  std::vector<uint8_t> buffer_;
};

// RemoveUncommittedOutputs
//
// Unlinks every temporary not yet committed. Async-signal-safe: fatal-signal
// handlers (such as the one for a shrinking input) call it before exiting.
void RemoveUncommittedOutputs();

// InstallOutputCleanupOnSignal
//
// On SIGINT, SIGTERM or SIGHUP, removes every uncommitted temporary file and
// exits with 128 + signal number. Idempotent.
void InstallOutputCleanupOnSignal();

}  // namespace ckpt

#endif  // CKPT_ATOMIC_FILE_H_
