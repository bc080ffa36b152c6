// ckpt/zip.h — a strict, zero-copy zip reader that also reports what a
// lenient reader would see.
//
// PyTorch checkpoints, NumPy .npz files and many model uploads are zip
// archives. Two readers of one archive can disagree: torch (miniz) finds
// entries through the central directory, takes the first of duplicate names,
// ignores CRCs and local file names; Python's zipfile takes the last
// duplicate and checks CRCs. ZipArchive parses the central directory once,
// checks every entry against its local header and the file, and records every
// place where such readers could disagree as a ZipIssue. Readers that load
// data (formats/pytorch, formats/numpy) refuse an archive with issues;
// the scanner reports them as findings.
//
// Lifetime: a ZipArchive borrows `bytes` (names and payloads are views into
// them); keep the mapping alive while it is used.
#ifndef CKPT_ZIP_H_
#define CKPT_ZIP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ckpt {

struct ZipEntry {
  std::string_view name;        // central-directory name, as stored (bytes)
  std::string_view local_name;  // the name in the local header
  uint64_t central_offset = 0;  // offset of the central-directory record
  uint64_t local_offset = 0;    // offset of the local header
  uint64_t data_offset = 0;     // offset of the payload (after local header,
                                // name and extra field)
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint32_t crc32 = 0;           // from the central directory
  uint16_t method = 0;          // 0 stored, 8 deflate, others refused to read
  uint16_t flags = 0;           // general-purpose bit flags (central)
  bool zip64 = false;           // sizes or offset came from a ZIP64 extra

  bool is_stored() const { return method == 0; }
  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// Where two zip readers could disagree, or what a loader should not accept.
// Rules (docs/rules.md): zip.duplicate_name (one issue per later duplicate),
// zip.local_name_mismatch (CVE-2025-1944), zip.local_header_mismatch
// (method/flags differ, or CRC/sizes differ where the local header gives
// them: with data-descriptor flag 0x8 a zero there is accepted),
// zip.flags (encryption 0x1, patched data 0x20, strong encryption 0x40:
// CVE-2025-1945), zip.unsafe_name (absolute, drive letter, `..` component,
// backslash or NUL), zip.overlap (two entries share bytes, or an entry runs
// into the central directory), zip.prefix_data (bytes before the first
// record), zip.gap (bytes not covered by any local header, payload, data
// descriptor or end record, including between the central directory and the
// end records, where Python's zipfile would shift every offset),
// zip.method (compression other than stored/deflate), zip.stored_size (a
// stored entry whose compressed and uncompressed sizes differ),
// zip.eocd_mismatch (the 32-bit end record and the ZIP64 one disagree),
// zip.crc (payload CRC differs: only found by VerifyCrc, CVE-2025-10156),
// zip.comment_trailer (data after the end record's comment, a comment that
// runs past the end of the file, a comment holding another end-record
// signature, or an earlier end record whose comment reaches the end of the
// file and so hides the one read).
struct ZipIssue {
  std::string rule;
  std::string message;   // one sentence naming the entry
  uint64_t offset = 0;   // absolute offset of the record concerned
  int entry = -1;        // index into entries(), -1 for the archive
};

struct ZipLimits {
  uint64_t max_entries = 1u << 20;     // refuse directories declaring more
  uint64_t max_inflated = 1ull << 32;  // Read() refuses larger outputs
};

class ZipArchive {
 public:
  // Open
  //
  // Finds the end-of-central-directory record (the last signature in the
  // final 65,557 bytes followed by a whole 22-byte record, as miniz and
  // Python's zipfile do; ZIP64 locator and record when present), then reads
  // every central record and its local header. Fails only when no central
  // directory can be read at all: zip.eocd_missing, zip.truncated (the file
  // ends inside the end record), zip.eocd64 (a ZIP64 locator whose record is
  // missing or malformed), zip.multi_disk, zip.too_many_entries,
  // zip.cd_out_of_file, zip.cd_count (record count disagrees with the
  // directory size), zip.cd_record (a central record with a bad signature,
  // fields past the directory, or a missing ZIP64 field), zip.local_header (a
  // local header missing or out of the file), zip.data_out_of_file. Errors
  // carry the byte offset. Everything weaker is an issue. Cost: O(n log n) in
  // the number of entries, no allocation per entry; nothing proportional to a
  // declared count is allocated before the count is known to fit the bytes.
  static absl::StatusOr<ZipArchive> Open(absl::Span<const uint8_t> bytes,
                                         const ZipLimits& limits = {});

  // Entries in central-directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const std::vector<ZipIssue>& issues() const { return issues_; }

  // Index of the first entry named `name` (torch's choice), or -1. O(1).
  int Find(std::string_view name) const;

  // The stored payload of entry `i` (compressed bytes for deflate), inside
  // the input by construction. Empty for an index out of range.
  absl::Span<const uint8_t> Payload(int i) const;

  // Read
  //
  // The uncompressed content of entry `i`: a view of the payload when
  // stored (zip.stored_size when its two sizes differ); inflated into
  // `*storage` when deflated (at most limits.max_inflated bytes and exactly
  // uncompressed_size, else zip.inflate; a declared size that deflate cannot
  // reach from the payload is refused before anything is allocated).
  // zip.method for other methods; zip.flags for entries with flag 0x1, 0x20
  // or 0x40; zip.index (kInternal) for an index out of range.
  absl::StatusOr<absl::Span<const uint8_t>> Read(int i, std::vector<uint8_t>* storage) const;

  // VerifyCrc
  //
  // Computes the CRC-32 of entry `i`'s content (reads every byte) and
  // returns zip.crc with the entry name when it differs from the recorded
  // one. Also appends the issue to issues() when `record` is set.
  absl::Status VerifyCrc(int i, bool record = false);

 private:
  absl::Span<const uint8_t> bytes_;
  ZipLimits limits_;
  std::vector<ZipEntry> entries_;
  std::vector<ZipIssue> issues_;
  absl::flat_hash_map<absl::string_view, int> index_;  // first entry per name
};

// Crc32 (zlib's): continues `crc` over `data`.
uint32_t Crc32(absl::Span<const uint8_t> data, uint32_t crc = 0);

// LooksLikeZip: a local header or end record signature at offset 0.
bool LooksLikeZip(absl::Span<const uint8_t> head);

}  // namespace ckpt

#endif  // CKPT_ZIP_H_
