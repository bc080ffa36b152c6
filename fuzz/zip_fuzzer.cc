// Protects: ZipArchive::Open never crashes or reads outside its input, every
// view it hands out lies inside the input where the records say, Read and
// VerifyCrc either fail with a rule or return exactly the declared content,
// and Find agrees with a plain first-match search.
//
// Checks, each an abort() with a message on stderr:
//   1. Open returns; an error carries a zip.* rule and, when it gives an
//      offset, one inside the input.
//   2. On success, for every entry: the central record lies inside the
//      input; its name is a view of the bytes just after it; the local name
//      is a view of the bytes 30 past the local offset; the payload
//      [data_offset, data_offset + compressed_size) lies inside the input,
//      after the local header, and Payload(i) is exactly that view.
//   3. Read(i) (inflate limit 1 MiB) fails with a zip.* rule or returns
//      exactly uncompressed_size bytes (a view of the payload when stored).
//      VerifyCrc(i, true) fails with zip.crc exactly when the CRC-32 of the
//      content differs from the recorded one (else with Read's error), and
//      records the zip.crc issue once.
//   4. Find(name) returns the first entry with that name; Find of a name no
//      entry has returns -1. There is one zip.duplicate_name issue per entry
//      whose name an earlier entry already has.
//   5. Every issue has a zip.* rule, an entry index in range (or -1) and an
//      offset inside the input.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/status.h"
#include "ckpt/zip.h"
#include "fuzz/fuzz_check.h"

namespace {

using Bytes = absl::Span<const uint8_t>;

bool IsZipRule(std::string_view rule) { return rule.size() > 4 && rule.substr(0, 4) == "zip."; }

void CheckError(const absl::Status& s, uint64_t size, const char* what) {
  CHECK(!s.ok(), what, std::string_view("error expected"));
  CHECK(IsZipRule(ckpt::ErrorRule(s)), "error without a zip.* rule", s.message());
  const std::optional<uint64_t> at = ckpt::ErrorOffset(s);
  CHECK(!at || *at <= size, "error offset past the end of the input", s.message());
}

bool Inside(const char* p, size_t n, Bytes in) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return b >= in.data() && b <= in.data() + in.size() && n <= static_cast<size_t>(in.data() + in.size() - b);
}

size_t CountRule(const ckpt::ZipArchive& z, std::string_view rule, int entry) {
  size_t n = 0;
  for (const ckpt::ZipIssue& i : z.issues()) n += i.rule == rule && i.entry == entry;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  ckpt::ZipLimits limits;
  limits.max_inflated = 1 << 20;
  absl::StatusOr<ckpt::ZipArchive> opened = ckpt::ZipArchive::Open(in, limits);
  if (!opened.ok()) {
    CheckError(opened.status(), size, "Open");
    return 0;
  }
  ckpt::ZipArchive& z = *opened;
  const std::vector<ckpt::ZipEntry>& entries = z.entries();

  // Property 2.
  for (const ckpt::ZipEntry& e : entries) {
    CHECK(e.central_offset <= size && size - e.central_offset >= 46, "central record outside the input", e.name);
    CHECK(e.name.data() == reinterpret_cast<const char*>(data + e.central_offset + 46),
          "name is not the bytes after its central record", e.name);
    CHECK(Inside(e.name.data(), e.name.size(), in), "name runs past the input", e.name);
    CHECK(e.local_offset <= size && size - e.local_offset >= 30, "local header outside the input", e.name);
    CHECK(e.local_name.data() == reinterpret_cast<const char*>(data + e.local_offset + 30) &&
              Inside(e.local_name.data(), e.local_name.size(), in),
          "local name is not the bytes after the local header", e.name);
    CHECK(e.data_offset >= e.local_offset + 30 + e.local_name.size(), "payload starts inside the local header",
          e.name);
    CHECK(e.data_offset <= size && e.compressed_size <= size - e.data_offset, "payload runs past the input", e.name);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const Bytes p = z.Payload(static_cast<int>(i));
    CHECK(p.data() == data + entries[i].data_offset && p.size() == entries[i].compressed_size,
          "Payload is not [data_offset, data_offset + compressed_size)", entries[i].name);
  }
  CHECK(z.Payload(-1).empty() && z.Payload(static_cast<int>(entries.size())).empty(),
        "Payload of an index out of range is not empty");

  // Property 4.
  std::unordered_map<std::string_view, int> first;
  size_t duplicates = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool fresh = first.emplace(entries[i].name, static_cast<int>(i)).second;
    duplicates += !fresh;
    CHECK(CountRule(z, "zip.duplicate_name", static_cast<int>(i)) == (fresh ? 0u : 1u),
          "zip.duplicate_name not reported exactly for later duplicates", entries[i].name);
  }
  for (const auto& [name, index] : first) {
    CHECK(z.Find(name) == index, "Find does not return the first entry with the name", name);
  }
  std::string absent = "\xff absent";
  while (first.count(absent)) absent += "!";
  CHECK(z.Find(absent) == -1, "Find of an absent name is not -1");
  (void)duplicates;

  // Property 5 (before VerifyCrc adds zip.crc issues).
  for (const ckpt::ZipIssue& i : z.issues()) {
    CHECK(IsZipRule(i.rule) && i.rule != "zip.crc", "issue with an unexpected rule", i.rule);
    CHECK(i.entry >= -1 && i.entry < static_cast<int>(entries.size()), "issue entry out of range", i.rule);
    CHECK(i.offset <= size, "issue offset past the input", i.rule);
    CHECK(!i.message.empty(), "issue without a message", i.rule);
  }

  // Property 3.
  for (size_t k = 0; k < entries.size(); ++k) {
    const int i = static_cast<int>(k);
    const ckpt::ZipEntry& e = entries[k];
    std::vector<uint8_t> storage;
    absl::StatusOr<Bytes> r = z.Read(i, &storage);
    const absl::Status crc = z.VerifyCrc(i, true);
    if (!r.ok()) {
      CheckError(r.status(), size, "Read");
      CHECK(crc == r.status(), "VerifyCrc fails differently from Read", crc.message());
      CHECK(CountRule(z, "zip.crc", i) == 0, "zip.crc recorded for an entry that cannot be read", e.name);
      continue;
    }
    CHECK(r->size() == e.uncompressed_size, "Read returned another size than uncompressed_size", e.name);
    if (e.is_stored()) CHECK(r->data() == data + e.data_offset, "stored Read is not a view of the payload", e.name);
    const bool match = ckpt::Crc32(*r) == e.crc32;
    if (match) {
      CHECK(crc.ok(), "VerifyCrc fails for a matching CRC", crc.message());
    } else {
      CHECK(ckpt::ErrorRule(crc) == "zip.crc", "VerifyCrc misses a CRC mismatch", e.name);
    }
    CHECK(CountRule(z, "zip.crc", i) == (match ? 0u : 1u), "zip.crc not recorded exactly once", e.name);
    (void)z.VerifyCrc(i, true);
    CHECK(CountRule(z, "zip.crc", i) == (match ? 0u : 1u), "zip.crc recorded twice", e.name);
  }
  std::vector<uint8_t> storage;
  CHECK(ckpt::ErrorRule(z.Read(static_cast<int>(entries.size()), &storage).status()) == "zip.index",
        "Read of an index out of range is not zip.index");
  return 0;
}
