// ckpt/mapped_file.h — read-only memory-mapped input files.
//
// Lifetime: bytes() points into the mapping and stays valid while any copy of
// the MappedFile lives (copies share one mapping). Every TensorView handed
// out by a reader borrows these bytes.
//
// Files that change while mapped: if a mapped file is truncated by another
// process, touching the lost pages raises SIGBUS. A program that wants a
// clear error instead of a crash calls InstallMappedFileSignalHandler() once;
// the handler then prints "FILE: changed size while being read" and exits
// with status 2. CheckUnchanged() lets callers notice a shrink that has not
// (yet) been touched.
#ifndef CKPT_MAPPED_FILE_H_
#define CKPT_MAPPED_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ckpt {

class MappedFile {
 public:
  // Open
  //
  // Maps the regular file at `path` read-only. Errors (each names the path):
  //   file.not_found, file.permission (kNotFound / kPermissionDenied),
  //   file.not_regular (directory, device, FIFO, socket: never opened, so a
  //   FIFO cannot block), file.empty (0 bytes: nothing to map),
  //   file.map_failed (kUnavailable).
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  absl::Span<const uint8_t> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Prefault
  //
  // Asks the kernel to map [offset, offset + nbytes) in one go (readers call
  // it for the header they are about to parse: one call instead of a page
  // fault every few pages). Only a hint; clamped to the file.
  void Prefault(uint64_t offset, uint64_t nbytes) const;

  // CheckUnchanged
  //
  // Returns file.changed if the file on disk is now shorter than the mapping.
  absl::Status CheckUnchanged() const;

 private:
  struct Mapping;
  std::shared_ptr<Mapping> mapping_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

// InstallMappedFileSignalHandler
//
// Turns SIGBUS inside a live mapping into a one-line error and exit status 2
// (see above). Idempotent. Other SIGBUS causes keep the default action.
void InstallMappedFileSignalHandler();

// PrefaultRange
//
// Maps in the pages of `bytes` (part of a MappedFile) in one system call
// (MADV_POPULATE_READ; a read-ahead hint on older kernels), which is much
// cheaper than one page fault per 4 KiB — and lets several threads read the
// range without contending on faults.
void PrefaultRange(absl::Span<const uint8_t> bytes);

}  // namespace ckpt

#endif  // CKPT_MAPPED_FILE_H_
