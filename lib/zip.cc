// Zip reader: end record (and ZIP64), central directory, local headers, and
// the places where zip readers disagree (see include/ckpt/zip.h). Every
// length, offset and count comes from a hostile file: each is checked
// against the bytes, with checked arithmetic, before it is used.
#include "ckpt/zip.h"

#include "absl/strings/ascii.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "ckpt/checked_math.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;       // PK\3\4
constexpr uint32_t kCentralSig = 0x02014b50;     // PK\1\2
constexpr uint32_t kEndSig = 0x06054b50;         // PK\5\6
constexpr uint32_t kEnd64Sig = 0x06064b50;       // PK\6\6
constexpr uint32_t kLocatorSig = 0x07064b50;     // PK\6\7
constexpr uint32_t kDescriptorSig = 0x08074b50;  // PK\7\8

constexpr uint64_t kLocalSize = 30;
constexpr uint64_t kCentralSize = 46;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kLocatorSize = 20;
constexpr uint64_t kEnd64MinSize = 56;  // fixed part, up to the CD offset
// The end record plus the longest comment: where the search looks.
constexpr uint64_t kEndSearch = kEndSize + 65535;

constexpr uint32_t kNo32 = 0xFFFFFFFF;  // "see the ZIP64 field"
constexpr uint16_t kNo16 = 0xFFFF;
constexpr uint16_t kZip64ExtraId = 0x0001;

constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagDescriptor = 0x0008;
constexpr uint16_t kFlagPatched = 0x0020;
constexpr uint16_t kFlagStrong = 0x0040;
constexpr uint16_t kRefusedFlags = kFlagEncrypted | kFlagPatched | kFlagStrong;

// Deflate emits at most 258 bytes per 2 bits (a 1-bit length code and a
// 1-bit distance code): 1032 output bytes per input byte, plus slack for a
// stream that is only block headers.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kZlibChunk = uint64_t{1} << 30;  // zlib counts in uInt

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t Le64(const uint8_t* p) { return uint64_t{Le32(p)} | uint64_t{Le32(p + 4)} << 32; }

// True when [offset, offset + n) lies inside `size` bytes (no wrap).
bool Fits(uint64_t offset, uint64_t n, uint64_t size) { return offset <= size && n <= size - offset; }

// The data of the first extra field with id `id` in `extra`, or nullopt.
// A malformed tail (a header or field running past the block) ends the
// search, as in zipfile and miniz.
std::optional<absl::Span<const uint8_t>> FindExtra(absl::Span<const uint8_t> extra, uint16_t id) {
  size_t pos = 0;
  while (extra.size() - pos >= 4) {
    const uint16_t field = Le16(extra.data() + pos);
    const uint16_t len = Le16(extra.data() + pos + 2);
    if (len > extra.size() - pos - 4) return std::nullopt;
    if (field == id) return extra.subspan(pos + 4, len);
    pos += 4 + size_t{len};
  }
  return std::nullopt;
}

std::string Quoted(std::string_view name) { return StrCat("'", EscapeForDisplay(name), "'"); }

// Absolute paths, drive letters, `..` components (either slash), backslashes
// and NULs: names that escape an extraction directory or that readers split
// differently. Returns what is wrong, or nullptr.
const char* UnsafeName(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (name.find('\\') != std::string_view::npos) return "contains a backslash";
  if (!name.empty() && name[0] == '/') return "is an absolute path";
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'))) {
    return "starts with a drive letter";
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    if (name.substr(start, slash - start) == "..") return "has a `..` component";
    start = slash + 1;
  }
  return nullptr;
}

// A byte range some record claims, for the overlap and gap sweep.
struct Region {
  uint64_t begin = 0;
  uint64_t end = 0;
  int entry = -1;  // index into entries, or -1 for the directory and end records
};

}  // namespace

absl::StatusOr<ZipArchive> ZipArchive::Open(absl::Span<const uint8_t> bytes, const ZipLimits& limits) {
  ZipArchive z;
  z.bytes_ = bytes;
  z.limits_ = limits;
  const uint8_t* b = bytes.data();
  const uint64_t size = bytes.size();
  auto issue = [&z](std::string_view rule, std::string message, uint64_t offset, int entry) {
    z.issues_.push_back(ZipIssue{std::string(rule), std::move(message), offset, entry});
  };

  // ---- end of central directory ------------------------------------------
  // The last signature followed by a whole record (miniz and zipfile both
  // take the last one).
  const uint64_t search_begin = size > kEndSearch ? size - kEndSearch : 0;
  std::optional<uint64_t> eocd, cut_eocd;
  for (uint64_t pos = size >= 4 ? size - 4 : 0; size >= 4 && pos + 1 > search_begin; --pos) {
    if (Le32(b + pos) == kEndSig) {
      if (pos + kEndSize <= size) {
        eocd = pos;
        break;
      }
      if (!cut_eocd) cut_eocd = pos;
    }
    if (pos == 0) break;
  }
  if (!eocd) {
    if (cut_eocd) {
      return Error("zip.truncated", StrCat("the file ends ", size - *cut_eocd,
                                           " bytes into the 22-byte end-of-central-directory record"))
          .At(*cut_eocd);
    }
    return Error("zip.eocd_missing", "no end-of-central-directory record in the last 65,557 bytes (not a zip archive "
                                     "or truncated)")
        .At(search_begin);
  }
  const uint8_t* e = b + *eocd;
  const uint64_t comment_len = Le16(e + 20);
  const uint64_t comment_end = *eocd + kEndSize + comment_len;
  if (comment_end != size) {
    issue("zip.comment_trailer",
          comment_end > size
              ? StrCat("the end record's comment (", comment_len, " bytes) runs ", comment_end - size,
                       " bytes past the end of the file")
              : StrCat(size - comment_end, " bytes follow the end record and its comment"),
          std::min(comment_end, size), -1);
  } else if (comment_len >= 4) {
    const std::string_view comment(reinterpret_cast<const char*>(e + kEndSize), comment_len);
    if (comment.find(std::string_view("PK\x05\x06", 4)) != std::string_view::npos) {
      issue("zip.comment_trailer", "the end record's comment holds another end-record signature", *eocd + kEndSize,
            -1);
    }
  }
  // An earlier end record whose comment swallows this one: a reader that
  // checks comment lengths takes it and sees another archive.
  for (uint64_t pos = *eocd; pos > search_begin;) {
    --pos;
    if (pos + kEndSize <= size && Le32(b + pos) == kEndSig && pos + kEndSize + Le16(b + pos + 20) == size) {
      issue("zip.comment_trailer",
            StrCat("the comment of an earlier end record at offset ", pos,
                   " ends at the end of the file and hides the end record read here"),
            pos, -1);
      break;
    }
  }
  uint64_t disk = Le16(e + 4), cd_disk = Le16(e + 6), count_disk = Le16(e + 8), count = Le16(e + 10);
  uint64_t cd_size = Le32(e + 12), cd_offset = Le32(e + 16);

  // ---- ZIP64 locator and record --------------------------------------------
  std::vector<Region> records;  // end records (and the directory), for the sweep
  records.push_back({*eocd, std::max(size, *eocd + kEndSize), -1});
  uint64_t dir_end = *eocd;  // where the central directory should end
  if (*eocd >= kLocatorSize && Le32(e - kLocatorSize) == kLocatorSig) {
    const uint64_t locator = *eocd - kLocatorSize;
    const uint8_t* l = b + locator;
    const uint64_t rec = Le64(l + 8);
    if (Le32(l + 4) != 0 || Le32(l + 16) > 1) {
      return Error("zip.multi_disk", StrCat("the ZIP64 locator names disk ", Le32(l + 4), " of ", Le32(l + 16),
                                            "; multi-disk archives are not supported"))
          .At(locator)
          .Code(absl::StatusCode::kUnimplemented);
    }
    if (!Fits(rec, kEnd64MinSize, locator)) {
      return Error("zip.eocd64", StrCat("the ZIP64 locator points at offset ", rec,
                                        ", which leaves no room for a ZIP64 end record before the locator"))
          .At(locator);
    }
    const uint8_t* r = b + rec;
    if (Le32(r) != kEnd64Sig) {
      return Error("zip.eocd64", "no ZIP64 end-record signature where the locator points").At(rec);
    }
    const uint64_t rec_size = Le64(r + 4);
    if (rec_size < kEnd64MinSize - 12 || rec_size > locator - rec - 12) {
      return Error("zip.eocd64", StrCat("the ZIP64 end record declares ", rec_size, " bytes; ", kEnd64MinSize - 12,
                                        " to ", locator - rec - 12, " fit before the locator"))
          .At(rec + 4);
    }
    const uint64_t disk64 = Le32(r + 16), cd_disk64 = Le32(r + 20), count_disk64 = Le64(r + 24),
                   count64 = Le64(r + 32), cd_size64 = Le64(r + 40), cd_offset64 = Le64(r + 48);
    // Readers that ignore ZIP64 use the 32-bit values.
    if ((count != kNo16 && count != count64) || (count_disk != kNo16 && count_disk != count_disk64) ||
        (cd_size != kNo32 && cd_size != cd_size64) || (cd_offset != kNo32 && cd_offset != cd_offset64) ||
        (disk != kNo16 && disk != disk64) || (cd_disk != kNo16 && cd_disk != cd_disk64)) {
      issue("zip.eocd_mismatch",
            StrCat("the end record (", count, " entries, directory of ", cd_size, " bytes at ", cd_offset,
                   ") and the ZIP64 end record (", count64, " entries, ", cd_size64, " bytes at ", cd_offset64,
                   ") disagree"),
            *eocd, -1);
    }
    disk = disk64, cd_disk = cd_disk64, count_disk = count_disk64, count = count64;
    cd_size = cd_size64, cd_offset = cd_offset64;
    records.push_back({locator, *eocd, -1});
    records.push_back({rec, rec + 12 + rec_size, -1});
    dir_end = rec;
  }
  if (disk != 0 || cd_disk != 0 || count_disk != count) {
    return Error("zip.multi_disk", StrCat("the end record names disk ", disk, " (directory on disk ", cd_disk, ", ",
                                          count_disk, " of ", count,
                                          " entries there); multi-disk archives are not supported"))
        .At(*eocd)
        .Code(absl::StatusCode::kUnimplemented);
  }
  if (count > limits.max_entries) {
    return Error("zip.too_many_entries",
                 StrCat("the central directory declares ", count, " entries; the limit is ", limits.max_entries))
        .At(*eocd)
        .Code(absl::StatusCode::kResourceExhausted);
  }
  if (!Fits(cd_offset, cd_size, dir_end)) {
    return Error("zip.cd_out_of_file", StrCat("the central directory (", cd_size, " bytes at offset ", cd_offset,
                                              ") runs past the end records at offset ", dir_end))
        .At(*eocd);
  }
  const uint64_t cd_end = cd_offset + cd_size;
  // Checked before anything is reserved: every record takes ≥ 46 bytes.
  if (count > cd_size / kCentralSize) {
    return Error("zip.cd_count", StrCat("the end record declares ", count, " entries, but a central directory of ",
                                        cd_size, " bytes holds at most ", cd_size / kCentralSize))
        .At(*eocd);
  }
  if (cd_size > 0) records.push_back({cd_offset, cd_end, -1});

  // ---- central directory ------------------------------------------------------
  z.entries_.reserve(count);
  z.index_.reserve(count);
  // Names folded to lower case: torch's miniz lookup ignores case, so
  // "data.pkl" and "DATA.PKL" are one name to torch and two to zipfile.
  absl::flat_hash_map<std::string, int> folded;
  folded.reserve(count);
  uint64_t pos = cd_offset;
  for (uint64_t k = 0; k < count; ++k) {
    if (!Fits(pos, kCentralSize, cd_end)) {
      return Error("zip.cd_count", StrCat("central record ", k, " of ", count, " runs past the end of the ",
                                          cd_size, "-byte central directory"))
          .At(pos);
    }
    const uint8_t* c = b + pos;
    if (Le32(c) != kCentralSig) {
      return Error("zip.cd_record", StrCat("central record ", k, " of ", count, " has no PK\\1\\2 signature")).At(pos);
    }
    const uint64_t name_len = Le16(c + 28), extra_len = Le16(c + 30), comment = Le16(c + 32);
    if (!Fits(pos + kCentralSize, name_len + extra_len + comment, cd_end)) {
      return Error("zip.cd_record", StrCat("the name, extra field and comment of central record ", k, " (",
                                           name_len + extra_len + comment,
                                           " bytes) run past the end of the central directory"))
          .At(pos);
    }
    ZipEntry en;
    en.central_offset = pos;
    en.flags = Le16(c + 8);
    en.method = Le16(c + 10);
    en.crc32 = Le32(c + 16);
    en.compressed_size = Le32(c + 20);
    en.uncompressed_size = Le32(c + 24);
    en.local_offset = Le32(c + 42);
    en.name = std::string_view(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    const int index = static_cast<int>(z.entries_.size());
    // ZIP64: only the fields that hold 0xFFFFFFFF, in this order.
    if (en.uncompressed_size == kNo32 || en.compressed_size == kNo32 || en.local_offset == kNo32) {
      std::optional<absl::Span<const uint8_t>> x =
          FindExtra(absl::MakeConstSpan(c + kCentralSize + name_len, extra_len), kZip64ExtraId);
      size_t at = 0;
      for (uint64_t* field : {&en.uncompressed_size, &en.compressed_size, &en.local_offset}) {
        if (*field != kNo32) continue;
        if (!x || x->size() - at < 8) {
          return Error("zip.cd_record", StrCat("entry ", Quoted(en.name),
                                               " has a 0xFFFFFFFF size or offset and no ZIP64 extra field holding it"))
              .At(pos);
        }
        *field = Le64(x->data() + at);
        at += 8;
      }
      en.zip64 = true;
    }

    // ---- local header ----------------------------------------------------
    if (!Fits(en.local_offset, kLocalSize, size)) {
      return Error("zip.local_header", StrCat("entry ", Quoted(en.name), ": local header offset ", en.local_offset,
                                              " leaves no room for a 30-byte header in the ", size, "-byte file"))
          .At(pos);
    }
    const uint8_t* h = b + en.local_offset;
    if (Le32(h) != kLocalSig) {
      return Error("zip.local_header", StrCat("entry ", Quoted(en.name), ": no PK\\3\\4 local header signature at ",
                                              "the offset the central directory gives"))
          .At(en.local_offset);
    }
    const uint64_t lname_len = Le16(h + 26), lextra_len = Le16(h + 28);
    if (!Fits(en.local_offset + kLocalSize, lname_len + lextra_len, size)) {
      return Error("zip.local_header", StrCat("entry ", Quoted(en.name),
                                              ": the local header's name and extra field run past the end of the file"))
          .At(en.local_offset);
    }
    en.local_name = std::string_view(reinterpret_cast<const char*>(h + kLocalSize), lname_len);
    en.data_offset = en.local_offset + kLocalSize + lname_len + lextra_len;
    if (!Fits(en.data_offset, en.compressed_size, size)) {
      return Error("zip.data_out_of_file", StrCat("entry ", Quoted(en.name), ": ", en.compressed_size,
                                                  " payload bytes at offset ", en.data_offset,
                                                  " run past the end of the ", size, "-byte file"))
          .At(en.data_offset);
    }
    const uint64_t data_end = en.data_offset + en.compressed_size;

    // What other readers would see differently.
    if (en.local_name != en.name) {
      issue("zip.local_name_mismatch",
            StrCat("entry ", Quoted(en.name), " is named ", Quoted(en.local_name),
                   " in its local header (CVE-2025-1944: readers that trust either see other names)"),
            en.local_offset, index);
    }
    const uint16_t lflags = Le16(h + 6), lmethod = Le16(h + 8);
    uint64_t lcrc = Le32(h + 14), lcsize = Le32(h + 18), lusize = Le32(h + 22);
    if (lcsize == kNo32 || lusize == kNo32) {
      // The local ZIP64 extra holds both sizes (usize, csize) when present.
      std::optional<absl::Span<const uint8_t>> x =
          FindExtra(absl::MakeConstSpan(h + kLocalSize + lname_len, lextra_len), kZip64ExtraId);
      if (x && x->size() >= 16) {
        lusize = Le64(x->data());
        lcsize = Le64(x->data() + 8);
      } else if (x && x->size() >= 8) {
        (lusize == kNo32 ? lusize : lcsize) = Le64(x->data());
      }
    }
    const bool descriptor = (lflags & kFlagDescriptor) != 0;
    auto differs = [descriptor](uint64_t local, uint64_t central) {
      return local != central && !(descriptor && local == 0);  // a descriptor gives it later
    };
    if (lflags != en.flags || lmethod != en.method || differs(lcrc, en.crc32) ||
        differs(lcsize, en.compressed_size) || differs(lusize, en.uncompressed_size)) {
      issue("zip.local_header_mismatch",
            StrCat("entry ", Quoted(en.name), ": the local header (flags 0x", absl::Hex(lflags), ", method ", lmethod,
                   ", CRC ", absl::Hex(lcrc, absl::kZeroPad8), ", sizes ", lcsize, "/", lusize,
                   ") differs from the central record (flags 0x", absl::Hex(en.flags), ", method ", en.method,
                   ", CRC ", absl::Hex(en.crc32, absl::kZeroPad8), ", sizes ", en.compressed_size, "/",
                   en.uncompressed_size, ")"),
            en.local_offset, index);
    }
    if ((en.flags | lflags) & kRefusedFlags) {
      issue("zip.flags",
            StrCat("entry ", Quoted(en.name), " has flag bits 0x", absl::Hex((en.flags | lflags) & kRefusedFlags),
                   " (encrypted or patched data; CVE-2025-1945: torch refuses it, other readers do not)"),
            pos, index);
    }
    if (en.method != 0 && en.method != 8) {
      issue("zip.method",
            StrCat("entry ", Quoted(en.name), " uses compression method ", en.method, " (only stored and deflate "
                                                                                    "are read)"),
            pos, index);
    }
    if (en.method == 0 && en.compressed_size != en.uncompressed_size) {
      issue("zip.stored_size",
            StrCat("stored entry ", Quoted(en.name), " has ", en.compressed_size, " payload bytes but declares ",
                   en.uncompressed_size, " uncompressed (readers return different lengths)"),
            pos, index);
    }
    if (const char* why = UnsafeName(en.name)) {
      issue("zip.unsafe_name", StrCat("entry ", Quoted(en.name), " ", why), pos, index);
    }
    auto [it, inserted] = z.index_.emplace(AbslView(en.name), index);
    if (!inserted) {
      issue("zip.duplicate_name",
            StrCat("entry ", index, " repeats the name ", Quoted(en.name), " of entry ", it->second,
                   " (torch reads the first, Python's zipfile the last)"),
            pos, index);
    } else {
      auto [fit, finserted] = folded.emplace(absl::AsciiStrToLower(AbslView(en.name)), index);
      if (!finserted) {
        issue("zip.case_duplicate",
              StrCat("entry ", index, " has the name ", Quoted(en.name), " which differs only in case from entry ",
                     fit->second, " (torch's lookup ignores case, Python's zipfile does not)"),
              pos, index);
      }
    }

    // A data descriptor after the payload (flag 0x8): optional signature,
    // CRC, then 4- or 8-byte sizes; recognised by the sizes it repeats.
    uint64_t covered_end = data_end;
    if ((lflags | en.flags) & kFlagDescriptor) {
      uint64_t d = data_end;
      if (Fits(d, 4, size) && Le32(b + d) == kDescriptorSig) d += 4;
      const bool wide_first = en.zip64 || lcsize == kNo32 || lusize == kNo32;
      for (int pass = 0; pass < 2; ++pass) {
        const bool wide = (pass == 0) == wide_first;
        if (wide && Fits(d, 20, size) && Le64(b + d + 4) == en.compressed_size &&
            Le64(b + d + 12) == en.uncompressed_size) {
          covered_end = d + 20;
          break;
        }
        if (!wide && Fits(d, 12, size) && Le32(b + d + 4) == en.compressed_size &&
            Le32(b + d + 8) == en.uncompressed_size) {
          covered_end = d + 12;
          break;
        }
      }
    }
    records.push_back({en.local_offset, covered_end, index});
    z.entries_.push_back(en);
    pos += kCentralSize + name_len + extra_len + comment;
  }
  if (pos != cd_end) {
    return Error("zip.cd_count", StrCat("the ", count, " central records end at offset ", pos,
                                        ", but the central directory ends at ", cd_end))
        .At(pos);
  }

  // ---- overlaps and gaps: one sweep over the sorted regions -----------------
  std::sort(records.begin(), records.end(), [](const Region& x, const Region& y) {
    if (x.begin != y.begin) return x.begin < y.begin;
    return x.end != y.end ? x.end < y.end : x.entry < y.entry;
  });
  if (records.front().begin > 0) {
    issue("zip.prefix_data", StrCat(records.front().begin, " bytes precede the first record (",
                                    records.front().entry >= 0 ? "a local header" : "a directory or end record",
                                    "); readers that adjust offsets for them see other entries"),
          0, -1);
  }
  uint64_t reach = records.front().begin;  // end of everything covered so far
  int reach_entry = -1;                    // who covers it (-1: a directory or end record)
  for (const Region& r : records) {
    if (r.begin < reach) {
      if (r.entry >= 0 || reach_entry >= 0) {
        const int who = r.entry >= 0 ? r.entry : reach_entry;
        const int other = r.entry >= 0 ? reach_entry : r.entry;
        const std::string_view name = z.entries_[who].name;
        issue("zip.overlap",
              StrCat("entry ", Quoted(name), " shares bytes [", r.begin, ", ", std::min(reach, r.end), ") with ",
                     other >= 0 ? StrCat("entry ", Quoted(z.entries_[other].name)) : std::string("the central "
                                                                                              "directory or end "
                                                                                              "records")),
              r.begin, who);
      }
    } else if (r.begin > reach) {
      issue("zip.gap",
            StrCat("bytes [", reach, ", ", r.begin, ") belong to no local header, payload, data descriptor or ",
                   "directory record", r.entry < 0 && reach == cd_end && cd_size > 0
                                           ? " (Python's zipfile shifts every offset by their length)"
                                           : ""),
            reach, -1);
    }
    if (r.end > reach) {
      reach = r.end;
      reach_entry = r.entry;
    }
  }
  return z;
}

int ZipArchive::Find(std::string_view name) const {
  auto it = index_.find(AbslView(name));
  return it == index_.end() ? -1 : it->second;
}

absl::Span<const uint8_t> ZipArchive::Payload(int i) const {
  if (i < 0 || static_cast<size_t>(i) >= entries_.size()) return {};
  const ZipEntry& e = entries_[i];
  return bytes_.subspan(e.data_offset, e.compressed_size);
}

absl::StatusOr<absl::Span<const uint8_t>> ZipArchive::Read(int i, std::vector<uint8_t>* storage) const {
  if (i < 0 || static_cast<size_t>(i) >= entries_.size()) {
    return Error("zip.index", StrCat("entry index ", i, " is out of range (", entries_.size(), " entries)"))
        .Code(absl::StatusCode::kInternal);
  }
  const ZipEntry& e = entries_[i];
  if (e.flags & kRefusedFlags) {
    return Error("zip.flags", StrCat("entry ", Quoted(e.name), " has flag bits 0x", absl::Hex(e.flags & kRefusedFlags),
                                     " (encrypted or patched data) and cannot be read"))
        .At(e.central_offset)
        .Code(absl::StatusCode::kUnimplemented);
  }
  const absl::Span<const uint8_t> payload = Payload(i);
  if (e.method == 0) {
    if (e.compressed_size != e.uncompressed_size) {
      return Error("zip.stored_size", StrCat("stored entry ", Quoted(e.name), " has ", e.compressed_size,
                                             " payload bytes but declares ", e.uncompressed_size, " uncompressed"))
          .At(e.central_offset);
    }
    return payload;
  }
  if (e.method != 8) {
    return Error("zip.method", StrCat("entry ", Quoted(e.name), " uses compression method ", e.method,
                                      "; only stored (0) and deflate (8) are read"))
        .At(e.central_offset)
        .Code(absl::StatusCode::kUnimplemented);
  }
  const uint64_t n = e.uncompressed_size;
  if (n > limits_.max_inflated) {
    return Error("zip.inflate", StrCat("entry ", Quoted(e.name), " inflates to ", n, " bytes; the limit is ",
                                       limits_.max_inflated))
        .At(e.data_offset)
        .Code(absl::StatusCode::kResourceExhausted);
  }
  const std::optional<uint64_t> reachable = CheckedMul(e.compressed_size + 1, kMaxDeflateRatio);
  if (reachable && n > *reachable) {
    return Error("zip.inflate", StrCat("entry ", Quoted(e.name), " declares ", n, " uncompressed bytes, more than ",
                                       e.compressed_size, " deflate bytes can produce"))
        .At(e.data_offset);
  }
  storage->resize(n);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
    return Error("zip.inflate", "zlib could not start inflating").Code(absl::StatusCode::kInternal);
  }
  const uint8_t* in = payload.data();
  uint64_t in_left = payload.size();
  uint8_t* out = storage->data();
  uint64_t out_left = n;
  uint8_t probe = 0;
  bool probing = false;  // the declared size is full: does the stream go on?
  int rc = Z_OK;
  for (;;) {
    if (zs.avail_in == 0 && in_left > 0) {
      const uInt k = static_cast<uInt>(std::min(in_left, kZlibChunk));
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = k;
      in += k;
      in_left -= k;
    }
    if (zs.avail_out == 0) {
      if (out_left > 0) {
        const uInt k = static_cast<uInt>(std::min(out_left, kZlibChunk));
        zs.next_out = out;
        zs.avail_out = k;
        out += k;
        out_left -= k;
      } else {
        zs.next_out = &probe;
        zs.avail_out = 1;
        probing = true;
      }
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (probing && zs.avail_out == 0) break;  // one byte more than declared
    if (rc != Z_OK) break;  // Z_STREAM_END, an error, or Z_BUF_ERROR: input exhausted
  }
  const uint64_t produced = n - out_left - zs.avail_out + (probing ? 1 : 0);
  const std::string zmsg = zs.msg != nullptr ? zs.msg : "";
  inflateEnd(&zs);
  if (probing && produced > n) {
    return Error("zip.inflate", StrCat("entry ", Quoted(e.name), " inflates to more than the declared ", n, " bytes"))
        .At(e.data_offset);
  }
  if (rc != Z_STREAM_END) {
    return Error("zip.inflate",
                 StrCat("entry ", Quoted(e.name), ": ",
                        rc == Z_BUF_ERROR ? std::string("the deflate stream ends before its last block")
                                          : StrCat("broken deflate stream (", zmsg.empty() ? "zlib error" : zmsg, ")"),
                        " after ", produced, " of ", n, " bytes"))
        .At(e.data_offset);
  }
  if (produced != n) {
    return Error("zip.inflate", StrCat("entry ", Quoted(e.name), " inflates to ", produced, " bytes, not the declared ",
                                       n))
        .At(e.data_offset);
  }
  return absl::Span<const uint8_t>(storage->data(), n);
}

absl::Status ZipArchive::VerifyCrc(int i, bool record) {
  std::vector<uint8_t> storage;
  CKPT_ASSIGN_OR_RETURN(absl::Span<const uint8_t> content, Read(i, &storage));
  const ZipEntry& e = entries_[i];
  const uint32_t crc = Crc32(content);
  if (crc == e.crc32) return absl::OkStatus();
  std::string message = StrCat("entry ", Quoted(e.name), ": the content's CRC-32 is ", absl::Hex(crc, absl::kZeroPad8),
                               ", the central directory records ", absl::Hex(e.crc32, absl::kZeroPad8),
                               " (CVE-2025-10156: torch ignores it, Python's zipfile refuses the entry)");
  if (record) {
    const bool known = std::any_of(issues_.begin(), issues_.end(),
                                   [i](const ZipIssue& x) { return x.entry == i && x.rule == "zip.crc"; });
    if (!known) issues_.push_back(ZipIssue{"zip.crc", message, e.data_offset, i});
  }
  return Error("zip.crc", std::move(message)).At(e.data_offset);
}

uint32_t Crc32(absl::Span<const uint8_t> data, uint32_t crc) {
  uLong c = crc;
  while (!data.empty()) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(data.size(), kZlibChunk));
    c = crc32(c, data.data(), static_cast<uInt>(k));
    data.remove_prefix(k);
  }
  return static_cast<uint32_t>(c);
}

bool LooksLikeZip(absl::Span<const uint8_t> head) {
  if (head.size() < 4) return false;
  const uint32_t sig = Le32(head.data());
  return sig == kLocalSig || sig == kEndSig;
}

}  // namespace ckpt
