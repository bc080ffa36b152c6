// lib/tar.h — reading tar archives in place (internal; used by the PyTorch
// reader for torch's legacy tar checkpoints and by the scanner).
#ifndef CKPT_LIB_TAR_H_
#define CKPT_LIB_TAR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ckpt {

struct TarMember {
  std::string name;                // after GNU long-name / PAX path records
  char type = '0';                 // typeflag ('0' file, '5' directory, ...)
  uint64_t header_offset = 0;      // absolute offset of the 512-byte header
  absl::Span<const uint8_t> data;  // the member's bytes (in the archive)
  uint64_t data_offset = 0;
};

// True when `b` starts with a tar header: "ustar" magic at 257, or an old
// (v7) header whose checksum matches.
bool LooksLikeTar(absl::Span<const uint8_t> b);

// ReadTar
//
// Every member up to the end-of-archive blocks (or the end of the data).
// PAX ('x': path, size) and GNU long-name ('L') records apply to the next
// member as in Python's tarfile and are not returned themselves. Errors, with the header offset: tar.checksum (a
// header whose checksum or size field is invalid), tar.truncated (a member
// running past the end), tar.pax (a malformed PAX record). Sizes are checked before use; nothing is copied.
absl::StatusOr<std::vector<TarMember>> ReadTar(absl::Span<const uint8_t> b);

}  // namespace ckpt

#endif  // CKPT_LIB_TAR_H_
