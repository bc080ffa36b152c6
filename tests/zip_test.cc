// Protects: ZipArchive (lib/zip.cc) reads what the central directory says,
// checks every entry against its local header and the file, refuses what
// cannot be read with a rule and an offset, and reports every place where zip
// readers could disagree (duplicate names, CVE-2025-1944/-1945/-10156, ...).
// Archives are built byte by byte below so each case shows its layout.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "ckpt/zip.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---- a minimal zip writer ---------------------------------------------------

void Put16(std::string* s, uint16_t v) {
  for (int i = 0; i < 2; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void Put32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
// Overwrites little-endian fields of a built archive.
void Set16(std::string* s, uint64_t at, uint16_t v) {
  for (int i = 0; i < 2; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
void Set32(std::string* s, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
void Set64(std::string* s, uint64_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}

std::string RawDeflate(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

uint32_t CrcOf(const std::string& s) { return Crc32(AsBytes(s)); }

struct Member {
  Member(std::string n, std::string c, bool d = false) : name(std::move(n)), content(std::move(c)), deflate(d) {}
  std::string name;
  std::string content;
  bool deflate = false;
  uint16_t flags = 0;
  std::optional<std::string> local_name;  // default: name
  bool descriptor = false;  // flag 0x8: zeros in the local header, PK\7\8 record after the payload
  bool zip64 = false;       // central sizes and offset in a ZIP64 extra (and a 24-byte descriptor)
  uint64_t align = 0;       // torch: an 'FB' local extra pads the payload to this boundary
};

struct Options {
  std::string prefix;   // bytes before the first local header
  std::string gap;      // bytes after each member
  std::string comment;  // end-record comment
  std::string trailer;  // bytes after the comment
  bool zip64_end = false;  // ZIP64 end record and locator (torch writes them)
};

Options Zip64End() {
  Options o;
  o.zip64_end = true;
  return o;
}
Options WithPrefix(std::string s) {
  Options o;
  o.prefix = std::move(s);
  return o;
}
Options WithGap(std::string s) {
  Options o;
  o.gap = std::move(s);
  return o;
}
Options WithComment(std::string s, bool zip64_end = false) {
  Options o;
  o.comment = std::move(s);
  o.zip64_end = zip64_end;
  return o;
}
Options WithTrailer(std::string s) {
  Options o;
  o.trailer = std::move(s);
  return o;
}

struct Built {
  std::string bytes;
  std::vector<uint64_t> local, data, central;
  uint64_t cd_offset = 0, cd_size = 0, eocd = 0, eocd64 = 0, locator = 0;
};

Built BuildZip(const std::vector<Member>& members, const Options& o = {}) {
  Built b;
  std::string& s = b.bytes;
  s = o.prefix;
  std::vector<std::string> payloads;
  for (const Member& m : members) {
    const std::string payload = m.deflate ? RawDeflate(m.content) : m.content;
    const std::string& lname = m.local_name ? *m.local_name : m.name;
    const uint16_t flags = m.flags | (m.descriptor ? 0x8 : 0);
    const uint32_t crc = CrcOf(m.content);
    b.local.push_back(s.size());
    Put32(&s, 0x04034b50);
    Put16(&s, m.zip64 ? 45 : 20);
    Put16(&s, flags);
    Put16(&s, m.deflate ? 8 : 0);
    Put32(&s, 0);  // time, date
    Put32(&s, m.descriptor ? 0 : crc);
    Put32(&s, m.descriptor ? 0 : static_cast<uint32_t>(payload.size()));
    Put32(&s, m.descriptor ? 0 : static_cast<uint32_t>(m.content.size()));
    Put16(&s, static_cast<uint16_t>(lname.size()));
    std::string extra;
    if (m.align != 0) {
      const uint64_t base = s.size() + 2 + lname.size() + 4;
      const uint64_t pad = (m.align - base % m.align) % m.align;
      extra = "FB";
      Put16(&extra, static_cast<uint16_t>(pad));
      extra.append(pad, 'Z');
    }
    Put16(&s, static_cast<uint16_t>(extra.size()));
    s += lname + extra;
    b.data.push_back(s.size());
    s += payload;
    if (m.descriptor) {
      Put32(&s, 0x08074b50);
      Put32(&s, crc);
      if (m.zip64) {
        Put64(&s, payload.size());
        Put64(&s, m.content.size());
      } else {
        Put32(&s, static_cast<uint32_t>(payload.size()));
        Put32(&s, static_cast<uint32_t>(m.content.size()));
      }
    }
    s += o.gap;
    payloads.push_back(payload);
  }
  b.cd_offset = s.size();
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    b.central.push_back(s.size());
    Put32(&s, 0x02014b50);
    Put16(&s, m.zip64 ? 45 : 20);
    Put16(&s, m.zip64 ? 45 : 20);
    Put16(&s, m.flags | (m.descriptor ? 0x8 : 0));
    Put16(&s, m.deflate ? 8 : 0);
    Put32(&s, 0);
    Put32(&s, CrcOf(m.content));
    std::string extra;
    if (m.zip64) {
      Put32(&s, 0xFFFFFFFF);
      Put32(&s, 0xFFFFFFFF);
      Put16(&extra, 1);
      Put16(&extra, 24);
      Put64(&extra, m.content.size());
      Put64(&extra, payloads[i].size());
      Put64(&extra, b.local[i]);
    } else {
      Put32(&s, static_cast<uint32_t>(payloads[i].size()));
      Put32(&s, static_cast<uint32_t>(m.content.size()));
    }
    Put16(&s, static_cast<uint16_t>(m.name.size()));
    Put16(&s, static_cast<uint16_t>(extra.size()));
    Put16(&s, 0);  // comment
    Put16(&s, 0);  // disk
    Put16(&s, 0);  // internal attributes
    Put32(&s, 0);  // external attributes
    Put32(&s, m.zip64 ? 0xFFFFFFFF : static_cast<uint32_t>(b.local[i]));
    s += m.name + extra;
  }
  b.cd_size = s.size() - b.cd_offset;
  if (o.zip64_end) {
    b.eocd64 = s.size();
    Put32(&s, 0x06064b50);
    Put64(&s, 44);
    Put16(&s, 45);
    Put16(&s, 45);
    Put32(&s, 0);
    Put32(&s, 0);
    Put64(&s, members.size());
    Put64(&s, members.size());
    Put64(&s, b.cd_size);
    Put64(&s, b.cd_offset);
    b.locator = s.size();
    Put32(&s, 0x07064b50);
    Put32(&s, 0);
    Put64(&s, b.eocd64);
    Put32(&s, 1);
  }
  b.eocd = s.size();
  Put32(&s, 0x06054b50);
  Put32(&s, 0);  // disks
  Put16(&s, static_cast<uint16_t>(members.size()));
  Put16(&s, static_cast<uint16_t>(members.size()));
  Put32(&s, static_cast<uint32_t>(b.cd_size));
  Put32(&s, static_cast<uint32_t>(b.cd_offset));
  Put16(&s, static_cast<uint16_t>(o.comment.size()));
  s += o.comment + o.trailer;
  return b;
}

std::string Str(absl::Span<const uint8_t> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

std::vector<std::string> Rules(const ZipArchive& z) {
  std::vector<std::string> r;
  for (const ZipIssue& i : z.issues()) r.push_back(i.rule);
  return r;
}

// The one issue with `rule` (fails the test when there is not exactly one).
ZipIssue OnlyIssue(const ZipArchive& z, const std::string& rule) {
  std::vector<ZipIssue> found;
  for (const ZipIssue& i : z.issues()) {
    if (i.rule == rule) found.push_back(i);
  }
  EXPECT_EQ(found.size(), 1u) << rule;
  return found.empty() ? ZipIssue{} : found[0];
}

std::string ReadAll(const ZipArchive& z, int i) {
  std::vector<uint8_t> storage;
  absl::StatusOr<absl::Span<const uint8_t>> r = z.Read(i, &storage);
  EXPECT_THAT(r, IsOk());
  return r.ok() ? Str(*r) : "";
}

// ---- small functions ----------------------------------------------------------

TEST(ZipTest, LooksLikeZip) {
  EXPECT_TRUE(LooksLikeZip(AsBytes(std::string("PK\x03\x04rest", 8))));
  EXPECT_TRUE(LooksLikeZip(AsBytes(std::string("PK\x05\x06", 4))));
  EXPECT_FALSE(LooksLikeZip(AsBytes(std::string("PK\x01\x02", 4))));
  EXPECT_FALSE(LooksLikeZip(AsBytes(std::string("PK\x03", 3))));
  EXPECT_FALSE(LooksLikeZip(AsBytes(std::string("PYTORCH1"))));
  EXPECT_FALSE(LooksLikeZip({}));
}

TEST(ZipTest, Crc32) {
  EXPECT_EQ(Crc32(AsBytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32({}), 0u);
  EXPECT_EQ(Crc32(AsBytes("6789"), Crc32(AsBytes("12345"))), 0xCBF43926u);
}

// ---- well-formed archives --------------------------------------------------------

TEST(ZipTest, EmptyArchive) {
  const Built b = BuildZip({});
  ASSERT_EQ(b.bytes.size(), 22u);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->entries(), IsEmpty());
  EXPECT_THAT(z->issues(), IsEmpty());
  EXPECT_EQ(z->Find(""), -1);
  EXPECT_TRUE(LooksLikeZip(AsBytes(b.bytes)));
}

TEST(ZipTest, StoredAndDeflatedEntries) {
  const std::string text(1000, 'x');
  const Built b = BuildZip({{"dir/", ""}, {"dir/a.txt", "hello"}, {"dir/b.txt", text, /*deflate=*/true}});
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  ASSERT_EQ(z->entries().size(), 3u);

  const ZipEntry& d = z->entries()[0];
  EXPECT_EQ(d.name, "dir/");
  EXPECT_TRUE(d.is_directory());
  EXPECT_EQ(d.local_offset, 0u);
  EXPECT_EQ(d.data_offset, 34u);
  EXPECT_EQ(d.compressed_size, 0u);

  const ZipEntry& a = z->entries()[1];
  EXPECT_EQ(a.name, "dir/a.txt");
  EXPECT_EQ(a.local_name, "dir/a.txt");
  EXPECT_FALSE(a.is_directory());
  EXPECT_TRUE(a.is_stored());
  EXPECT_EQ(a.local_offset, 34u);
  EXPECT_EQ(a.data_offset, 34u + 30 + 9);
  EXPECT_EQ(a.compressed_size, 5u);
  EXPECT_EQ(a.uncompressed_size, 5u);
  EXPECT_EQ(a.crc32, CrcOf("hello"));
  EXPECT_EQ(a.central_offset, b.central[1]);
  EXPECT_FALSE(a.zip64);
  EXPECT_EQ(Str(z->Payload(1)), "hello");
  // A stored entry is a view of the input, not a copy.
  std::vector<uint8_t> storage;
  absl::StatusOr<absl::Span<const uint8_t>> r = z->Read(1, &storage);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->data(), AsBytes(b.bytes).data() + a.data_offset);
  EXPECT_TRUE(storage.empty());

  const ZipEntry& c = z->entries()[2];
  EXPECT_EQ(c.method, 8);
  EXPECT_EQ(c.data_offset, b.data[2]);
  EXPECT_EQ(c.uncompressed_size, 1000u);
  EXPECT_EQ(c.compressed_size, RawDeflate(text).size());
  EXPECT_LT(c.compressed_size, 100u);
  EXPECT_EQ(Str(z->Payload(2)), RawDeflate(text));
  EXPECT_EQ(ReadAll(*z, 2), text);

  EXPECT_EQ(z->Find("dir/a.txt"), 1);
  EXPECT_EQ(z->Find("dir/b.txt"), 2);
  EXPECT_EQ(z->Find("dir/c.txt"), -1);
  for (int i = 0; i < 3; ++i) EXPECT_THAT(z->VerifyCrc(i, true), IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
}

// What torch.save writes: flags 0x0808, an 'FB' extra padding each payload
// to 64 bytes, data descriptors, ZIP64 end records.
TEST(ZipTest, TorchLayoutHasNoIssues) {
  Member pkl{"archive/data.pkl", std::string("\x80\x02}q\x00.", 6)};
  Member storage{"archive/data/0", std::string(24, '\x01')};
  Member version{"archive/version", "3\n"};
  for (Member* m : {&pkl, &storage, &version}) {
    m->flags = 0x0800;
    m->descriptor = true;
    m->align = 64;
  }
  const Built b = BuildZip({pkl, storage, version}, Zip64End());
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  ASSERT_EQ(z->entries().size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const ZipEntry& e = z->entries()[i];
    EXPECT_EQ(e.flags, 0x0808);
    EXPECT_EQ(e.data_offset % 64, 0u) << e.name;
    EXPECT_EQ(e.data_offset, b.data[i]);
    EXPECT_THAT(z->VerifyCrc(i), IsOk());
  }
  EXPECT_EQ(ReadAll(*z, 2), "3\n");
  EXPECT_EQ(Str(z->Payload(1)), std::string(24, '\x01'));
  EXPECT_EQ(z->Find("archive/data.pkl"), 0);
}

TEST(ZipTest, Zip64ExtraFieldsAndEndRecord) {
  Member a{"big/a.bin", "zip64 stored payload"};
  a.zip64 = true;
  Member c{"big/c.txt", std::string(300, 'c'), true};
  c.zip64 = true;
  c.descriptor = true;
  Options o;
  o.zip64_end = true;
  Built b = BuildZip({a, c}, o);
  // The 32-bit end record says "see ZIP64" as ZIP64 writers do.
  Set16(&b.bytes, b.eocd + 8, 0xFFFF);
  Set16(&b.bytes, b.eocd + 10, 0xFFFF);
  Set32(&b.bytes, b.eocd + 12, 0xFFFFFFFF);
  Set32(&b.bytes, b.eocd + 16, 0xFFFFFFFF);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  ASSERT_EQ(z->entries().size(), 2u);
  EXPECT_TRUE(z->entries()[0].zip64);
  EXPECT_EQ(z->entries()[0].compressed_size, 20u);
  EXPECT_EQ(z->entries()[0].uncompressed_size, 20u);
  EXPECT_EQ(z->entries()[0].local_offset, 0u);
  EXPECT_EQ(z->entries()[0].data_offset, 30u + 9);
  EXPECT_EQ(Str(z->Payload(0)), "zip64 stored payload");
  EXPECT_TRUE(z->entries()[1].zip64);
  EXPECT_EQ(z->entries()[1].local_offset, b.local[1]);
  EXPECT_EQ(z->entries()[1].uncompressed_size, 300u);
  EXPECT_EQ(ReadAll(*z, 1), std::string(300, 'c'));
  EXPECT_THAT(z->VerifyCrc(1), IsOk());
}

TEST(ZipTest, Zip64FieldsOnlyForSentinels) {
  // Only the offset is 0xFFFFFFFF: the extra holds just that one field.
  Built b = BuildZip({{"x", "payload"}});
  std::string s = b.bytes.substr(0, b.cd_offset);
  const uint64_t cd = s.size();
  std::string rec = b.bytes.substr(b.cd_offset, b.cd_size);
  Set32(&rec, 42, 0xFFFFFFFF);
  std::string extra;
  Put16(&extra, 0x5455);  // an unrelated extra first
  Put16(&extra, 1);
  extra.push_back('\0');
  Put16(&extra, 1);
  Put16(&extra, 8);
  Put64(&extra, 0);
  Set16(&rec, 30, static_cast<uint16_t>(extra.size()));
  s += rec + extra;
  const uint32_t cd_size = static_cast<uint32_t>(s.size() - cd);
  Put32(&s, 0x06054b50);
  Put32(&s, 0);
  Put16(&s, 1);
  Put16(&s, 1);
  Put32(&s, cd_size);
  Put32(&s, static_cast<uint32_t>(cd));
  Put16(&s, 0);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  EXPECT_TRUE(z->entries()[0].zip64);
  EXPECT_EQ(z->entries()[0].local_offset, 0u);
  EXPECT_EQ(z->entries()[0].compressed_size, 7u);
  EXPECT_EQ(Str(z->Payload(0)), "payload");

  // Without the extra field the offset cannot be known.
  Set16(&s, cd + 30, 0);
  EXPECT_THAT(ZipArchive::Open(AsBytes(s)), HasRule("zip.cd_record"));
}

// Written by CPython's zipfile with force_zip64=True: the local headers carry
// 0xFFFFFFFF sizes and a ZIP64 extra, the central records plain sizes.
constexpr char kPythonZip64Hex[] =
    "504b03042d000000000000002100318833d8ffffffffffffffff090014006269672f612e62696e01001000140000000000000014000000"
    "000000007a697036342073746f726564207061796c6f6164504b03042d00000008000000210007d66f90ffffffffffffffff0900140062"
    "69672f622e74787401001000b4000000000000000e000000000000004b494dcb492c494d5148193a0c00504b01022d032d00000000000000"
    "2100318833d814000000140000000900000000000000000000008001000000006269672f612e62696e504b01022d032d0000000800000021"
    "0007d66f900e000000b400000009000000000000000000000080014f0000006269672f622e747874504b050600000000020002006e000000"
    "980000000000";

TEST(ZipTest, PythonForceZip64Archive) {
  const std::string bytes = absl::HexStringToBytes(kPythonZip64Hex);
  ASSERT_EQ(bytes.size(), 284u);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  ASSERT_EQ(z->entries().size(), 2u);
  EXPECT_EQ(z->entries()[0].name, "big/a.bin");
  EXPECT_EQ(z->entries()[0].data_offset, 30u + 9 + 20);
  EXPECT_EQ(z->entries()[0].crc32, 0xd8338831u);
  EXPECT_EQ(Str(z->Payload(0)), "zip64 stored payload");
  EXPECT_EQ(z->entries()[1].local_offset, 79u);
  EXPECT_EQ(z->entries()[1].compressed_size, 14u);
  EXPECT_EQ(z->entries()[1].uncompressed_size, 180u);
  std::string want;
  for (int i = 0; i < 20; ++i) want += "deflated ";
  EXPECT_EQ(ReadAll(*z, 1), want);
  EXPECT_THAT(z->VerifyCrc(0), IsOk());
  EXPECT_THAT(z->VerifyCrc(1), IsOk());
}

// ---- hard errors ------------------------------------------------------------

TEST(ZipTest, NoEndRecord) {
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes("not a zip archive at all"));
  EXPECT_THAT(z, HasRule("zip.eocd_missing"));
  EXPECT_EQ(ErrorOffset(z.status()), 0u);
  EXPECT_THAT(ZipArchive::Open({}), HasRule("zip.eocd_missing"));
  // Only the last 65,557 bytes are searched.
  std::string big = BuildZip({}).bytes + std::string(65536, 'x');
  z = ZipArchive::Open(AsBytes(big));
  EXPECT_THAT(z, HasRule("zip.eocd_missing"));
  EXPECT_EQ(ErrorOffset(z.status()), big.size() - 65557);
  // ... and a maximal comment is still found.
  big = BuildZip({}, WithComment(std::string(65535, 'c'))).bytes;
  EXPECT_THAT(ZipArchive::Open(AsBytes(big)), IsOk());
}

TEST(ZipTest, EndRecordCutShort) {
  const Built b = BuildZip({{"a", "x"}});
  const std::string cut = b.bytes.substr(0, b.eocd + 10);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(cut));
  EXPECT_THAT(z, HasRule("zip.truncated"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd);
}

TEST(ZipTest, BrokenZip64EndRecord) {
  Built b = BuildZip({{"a", "x"}}, Zip64End());
  std::string s = b.bytes;
  Set32(&s, b.eocd64, 0x12345678);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.eocd64"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd64);
  s = b.bytes;
  Set64(&s, b.locator + 8, b.locator - 10);  // no room for the record
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.eocd64"));
  EXPECT_EQ(ErrorOffset(z.status()), b.locator);
  s = b.bytes;
  Set64(&s, b.eocd64 + 4, 1000);  // record longer than the space before the locator
  EXPECT_THAT(ZipArchive::Open(AsBytes(s)), HasRule("zip.eocd64"));
  s = b.bytes;
  Set64(&s, b.locator + 8, ~uint64_t{0});
  EXPECT_THAT(ZipArchive::Open(AsBytes(s)), HasRule("zip.eocd64"));
}

TEST(ZipTest, MultiDisk) {
  Built b = BuildZip({{"a", "x"}});
  Set16(&b.bytes, b.eocd + 4, 1);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  EXPECT_THAT(z, StatusIs(absl::StatusCode::kUnimplemented, "zip.multi_disk"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd);
  Built c = BuildZip({{"a", "x"}}, Zip64End());
  Set32(&c.bytes, c.locator + 16, 2);
  EXPECT_THAT(ZipArchive::Open(AsBytes(c.bytes)), HasRule("zip.multi_disk"));
}

TEST(ZipTest, TooManyEntries) {
  const Built b = BuildZip({{"a", "x"}, {"b", "y"}, {"c", "z"}});
  ZipLimits limits;
  limits.max_entries = 2;
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes), limits);
  EXPECT_THAT(z, StatusIs(absl::StatusCode::kResourceExhausted, "zip.too_many_entries"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd);
  limits.max_entries = 3;
  EXPECT_THAT(ZipArchive::Open(AsBytes(b.bytes), limits), IsOk());
}

TEST(ZipTest, DirectoryOutOfFile) {
  Built b = BuildZip({{"a", "x"}});
  std::string s = b.bytes;
  Set32(&s, b.eocd + 16, 0xFFFFFF00);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_out_of_file"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd);
  s = b.bytes;
  Set32(&s, b.eocd + 12, static_cast<uint32_t>(b.cd_size + 1));  // runs into the end record
  EXPECT_THAT(ZipArchive::Open(AsBytes(s)), HasRule("zip.cd_out_of_file"));
  // ZIP64 sizes that would wrap.
  Built c = BuildZip({{"a", "x"}}, Zip64End());
  Set64(&c.bytes, c.eocd64 + 40, ~uint64_t{0} - 4);
  Set32(&c.bytes, c.eocd + 12, 0xFFFFFFFF);
  EXPECT_THAT(ZipArchive::Open(AsBytes(c.bytes)), HasRule("zip.cd_out_of_file"));
}

TEST(ZipTest, CountDisagreesWithDirectorySize) {
  const std::string long_name(40, 'n');
  const Built b = BuildZip({{long_name + "1", "x"}, {long_name + "2", "y"}});  // 2 × 87-byte records
  // A count that cannot fit 46-byte records: refused before any allocation.
  std::string s = b.bytes;
  Set16(&s, b.eocd + 8, 0xFFFF);
  Set16(&s, b.eocd + 10, 0xFFFF);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_count"));
  EXPECT_EQ(ErrorOffset(z.status()), b.eocd);
  // Three would fit the size, but there are only two records.
  s = b.bytes;
  Set16(&s, b.eocd + 8, 3);
  Set16(&s, b.eocd + 10, 3);
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_count"));
  EXPECT_EQ(ErrorOffset(z.status()), b.cd_offset + b.cd_size);
  // One record leaves the second unread.
  s = b.bytes;
  Set16(&s, b.eocd + 8, 1);
  Set16(&s, b.eocd + 10, 1);
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_count"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[1]);
}

TEST(ZipTest, BrokenCentralRecord) {
  const Built b = BuildZip({{"a", "x"}, {"b", "y"}});
  std::string s = b.bytes;
  s[b.central[1] + 2] = 'X';
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_record"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[1]);
  s = b.bytes;
  Set16(&s, b.central[1] + 28, 100);  // name runs past the directory
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_record"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[1]);
  s = b.bytes;
  Set32(&s, b.central[0] + 20, 0xFFFFFFFF);  // ZIP64 sentinel, no extra field
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.cd_record"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[0]);
}

TEST(ZipTest, ShortZip64Extra) {
  Member m{"a", "xyz"};
  m.zip64 = true;
  Built b = BuildZip({m});
  Set16(&b.bytes, b.central[0] + 46 + 1 + 2, 16);  // ZIP64 extra holds 2 of the 3 fields
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  EXPECT_THAT(z, HasRule("zip.cd_record"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[0]);
}

TEST(ZipTest, BrokenLocalHeader) {
  const Built b = BuildZip({{"a", "x"}, {"bb", "y"}});
  std::string s = b.bytes;
  Set32(&s, b.central[1] + 42, static_cast<uint32_t>(s.size() - 10));
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.local_header"));
  EXPECT_EQ(ErrorOffset(z.status()), b.central[1]);
  s = b.bytes;
  Set32(&s, b.central[1] + 42, 1);  // not at a local header
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.local_header"));
  EXPECT_EQ(ErrorOffset(z.status()), 1u);
  s = b.bytes;
  Set16(&s, b.local[1] + 28, 0xFFFF);  // local extra runs past the file
  z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.local_header"));
  EXPECT_EQ(ErrorOffset(z.status()), b.local[1]);
}

TEST(ZipTest, PayloadOutOfFile) {
  const Built b = BuildZip({{"a", "x"}, {"b", "y"}});
  std::string s = b.bytes;
  Set32(&s, b.central[1] + 20, 100000);
  Set32(&s, b.central[1] + 24, 100000);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
  EXPECT_THAT(z, HasRule("zip.data_out_of_file"));
  EXPECT_EQ(ErrorOffset(z.status()), b.data[1]);
  // A ZIP64 size near 2^64 must not wrap.
  Member m{"a", "x"};
  m.zip64 = true;
  Built c = BuildZip({m});
  Set64(&c.bytes, c.central[0] + 46 + 1 + 4 + 8, ~uint64_t{0} - 10);
  z = ZipArchive::Open(AsBytes(c.bytes));
  EXPECT_THAT(z, HasRule("zip.data_out_of_file"));
  EXPECT_EQ(ErrorOffset(z.status()), c.data[0]);
}

// ---- issues ------------------------------------------------------------------

TEST(ZipTest, DuplicateNames) {
  const Built b = BuildZip({{"a", "first"}, {"b", "other"}, {"a", "second"}, {"a", "third"}});
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.duplicate_name", "zip.duplicate_name"));
  EXPECT_EQ(z->issues()[0].entry, 2);
  EXPECT_EQ(z->issues()[0].offset, b.central[2]);
  EXPECT_EQ(z->issues()[1].entry, 3);
  EXPECT_EQ(z->Find("a"), 0);  // torch's choice
  EXPECT_EQ(ReadAll(*z, z->Find("a")), "first");
}

TEST(ZipTest, LocalNameMismatch) {
  Member m{"archive/data.pkl", "pickle"};
  m.local_name = "archive/evil.pkl";
  const Built b = BuildZip({{"archive/version", "3\n"}, m});
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  const ZipIssue i = OnlyIssue(*z, "zip.local_name_mismatch");
  EXPECT_EQ(i.entry, 1);
  EXPECT_EQ(i.offset, b.local[1]);
  EXPECT_EQ(z->issues().size(), 1u);
  EXPECT_EQ(z->entries()[1].name, "archive/data.pkl");
  EXPECT_EQ(z->entries()[1].local_name, "archive/evil.pkl");
  EXPECT_EQ(ReadAll(*z, 1), "pickle");
}

TEST(ZipTest, LocalHeaderMismatch) {
  const Built b = BuildZip({{"a", "payload"}});
  for (uint64_t field : {6, 8, 14, 18}) {  // flags, method, CRC, compressed size
    std::string s = b.bytes;
    s[b.local[0] + field] ^= 0x10;
    absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
    ASSERT_THAT(z, IsOk());
    const ZipIssue i = OnlyIssue(*z, "zip.local_header_mismatch");
    EXPECT_EQ(i.offset, b.local[0]) << field;
    EXPECT_EQ(i.entry, 0);
  }
  // With a data descriptor the local CRC and sizes may be zero, not wrong.
  Member m{"a", "payload"};
  m.descriptor = true;
  Built d = BuildZip({m});
  ASSERT_THAT(ZipArchive::Open(AsBytes(d.bytes)), IsOk());
  EXPECT_THAT(ZipArchive::Open(AsBytes(d.bytes))->issues(), IsEmpty());
  Set32(&d.bytes, d.local[0] + 22, 99);  // a nonzero size must still agree
  EXPECT_THAT(Rules(*ZipArchive::Open(AsBytes(d.bytes))), ElementsAre("zip.local_header_mismatch"));
}

TEST(ZipTest, RefusedFlags) {
  for (uint16_t flag : {0x1, 0x20, 0x40}) {
    Member m{"a", "secret"};
    m.flags = flag;
    const Built b = BuildZip({{"ok", "fine"}, m});
    absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
    ASSERT_THAT(z, IsOk());
    EXPECT_THAT(Rules(*z), ElementsAre("zip.flags")) << flag;
    EXPECT_EQ(z->issues()[0].offset, b.central[1]);
    EXPECT_EQ(z->issues()[0].entry, 1);
    std::vector<uint8_t> storage;
    EXPECT_THAT(z->Read(1, &storage), StatusIs(absl::StatusCode::kUnimplemented, "zip.flags"));
    EXPECT_THAT(z->Read(0, &storage), IsOk());
  }
  // The UTF-8 (0x800) and descriptor (0x8) flags are fine.
  Member m{"a", "x"};
  m.flags = 0x800;
  m.descriptor = true;
  EXPECT_THAT(ZipArchive::Open(AsBytes(BuildZip({m}).bytes))->issues(), IsEmpty());
}

TEST(ZipTest, UnsafeNames) {
  for (const std::string& bad : {std::string("/etc/passwd"), std::string("../x"), std::string("a/../../b"),
                                 std::string("a/.."), std::string("a\\b"), std::string("C:x"),
                                 std::string("a\0b", 3)}) {
    const Built b = BuildZip({{bad, "x"}});
    absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
    ASSERT_THAT(z, IsOk());
    EXPECT_THAT(Rules(*z), ElementsAre("zip.unsafe_name")) << bad;
    EXPECT_EQ(z->issues()[0].offset, b.central[0]);
  }
  for (const char* good : {"a..b", "..a/b", "a/b..", "x/./y", "dir/"}) {
    EXPECT_THAT(ZipArchive::Open(AsBytes(BuildZip({{good, "x"}}).bytes))->issues(), IsEmpty()) << good;
  }
}

TEST(ZipTest, OverlappingEntries) {
  // Two central records for one local header (the zip-bomb layout).
  Built b = BuildZip({{"a", "shared"}, {"b", "other"}});
  Set32(&b.bytes, b.central[1] + 42, 0);
  Set32(&b.bytes, b.central[1] + 16, CrcOf("shared"));
  Set32(&b.bytes, b.central[1] + 20, 6);
  Set32(&b.bytes, b.central[1] + 24, 6);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  // Entry b's local header is a's (named "a"), and b's own bytes are now a gap.
  EXPECT_THAT(Rules(*z), ElementsAre("zip.local_name_mismatch", "zip.overlap", "zip.gap"));
  const ZipIssue o = OnlyIssue(*z, "zip.overlap");
  EXPECT_EQ(o.offset, 0u);
  EXPECT_EQ(o.entry, 1);
  EXPECT_EQ(OnlyIssue(*z, "zip.gap").offset, b.local[1]);
  EXPECT_EQ(ReadAll(*z, 1), "shared");

  // A payload that runs into the central directory.
  Built c = BuildZip({{"a", "xy"}});
  Set32(&c.bytes, c.central[0] + 20, 10);
  Set32(&c.bytes, c.central[0] + 24, 10);
  Set32(&c.bytes, c.local[0] + 18, 10);
  Set32(&c.bytes, c.local[0] + 22, 10);
  z = ZipArchive::Open(AsBytes(c.bytes));
  ASSERT_THAT(z, IsOk());
  const ZipIssue i = OnlyIssue(*z, "zip.overlap");
  EXPECT_EQ(i.offset, c.cd_offset);
  EXPECT_EQ(i.entry, 0);
}

TEST(ZipTest, PrefixAndGaps) {
  Built b = BuildZip({{"a", "x"}, {"b", "y"}}, WithPrefix("#!/bin/sh\n"));
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.prefix_data"));
  EXPECT_EQ(z->issues()[0].offset, 0u);
  EXPECT_EQ(z->entries()[0].local_offset, 10u);
  EXPECT_EQ(ReadAll(*z, 1), "y");

  b = BuildZip({{"a", "x"}, {"b", "y"}}, WithGap("hidden"));
  z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.gap", "zip.gap"));
  EXPECT_EQ(z->issues()[0].offset, b.data[0] + 1);
  EXPECT_EQ(z->issues()[1].offset, b.data[1] + 1);

  // Bytes between the central directory and the end record: Python's
  // zipfile would shift every offset by their length.
  b = BuildZip({{"a", "x"}});
  std::string s = b.bytes.substr(0, b.eocd) + "JUNK" + b.bytes.substr(b.eocd);
  z = ZipArchive::Open(AsBytes(s));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.gap"));
  EXPECT_EQ(z->issues()[0].offset, b.eocd);
}

TEST(ZipTest, MethodAndStoredSize) {
  Built b = BuildZip({{"a", "abc"}, {"b", "def"}});
  Set16(&b.bytes, b.central[0] + 10, 12);  // bzip2
  Set16(&b.bytes, b.local[0] + 8, 12);
  Set32(&b.bytes, b.central[1] + 24, 4);  // stored, 3 bytes, claims 4
  Set32(&b.bytes, b.local[1] + 22, 4);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.method", "zip.stored_size"));
  EXPECT_EQ(z->issues()[0].offset, b.central[0]);
  EXPECT_EQ(z->issues()[1].entry, 1);
  std::vector<uint8_t> storage;
  EXPECT_THAT(z->Read(0, &storage), StatusIs(absl::StatusCode::kUnimplemented, "zip.method"));
  EXPECT_THAT(z->Read(1, &storage), HasRule("zip.stored_size"));
  EXPECT_EQ(z->Payload(1).size(), 3u);
}

TEST(ZipTest, CrcMismatch) {
  Built b = BuildZip({{"archive/data.pkl", "pickle"}, {"z", std::string(500, 'z'), true}});
  Set32(&b.bytes, b.central[0] + 16, 0xDEADBEEF);
  Set32(&b.bytes, b.local[0] + 14, 0xDEADBEEF);
  Set32(&b.bytes, b.central[1] + 16, 0x12345678);
  Set32(&b.bytes, b.local[1] + 14, 0x12345678);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());  // CRCs are only checked on request
  absl::Status s = z->VerifyCrc(0);
  EXPECT_THAT(s, HasRule("zip.crc"));
  EXPECT_EQ(ErrorOffset(s), b.data[0]);
  EXPECT_THAT(z->issues(), IsEmpty());
  EXPECT_THAT(z->VerifyCrc(0, true), HasRule("zip.crc"));
  EXPECT_THAT(z->VerifyCrc(0, true), HasRule("zip.crc"));  // recorded once
  EXPECT_THAT(z->VerifyCrc(1, true), HasRule("zip.crc"));
  EXPECT_THAT(Rules(*z), ElementsAre("zip.crc", "zip.crc"));
  EXPECT_EQ(z->issues()[0].entry, 0);
  EXPECT_EQ(z->issues()[1].offset, b.data[1]);
  EXPECT_EQ(ReadAll(*z, 0), "pickle");  // torch's view: still readable
}

TEST(ZipTest, CommentAndTrailer) {
  Built b = BuildZip({{"a", "x"}}, WithComment("a comment"));
  EXPECT_THAT(ZipArchive::Open(AsBytes(b.bytes))->issues(), IsEmpty());
  b = BuildZip({{"a", "x"}}, WithTrailer("appended"));
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.comment_trailer"));
  EXPECT_EQ(z->issues()[0].offset, b.eocd + 22);
  // A comment cut short by the end of the file.
  b = BuildZip({{"a", "x"}}, WithComment("a comment"));
  z = ZipArchive::Open(AsBytes(b.bytes.substr(0, b.bytes.size() - 3)));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.comment_trailer"));
  // A comment hiding another end-record signature.
  b = BuildZip({{"a", "x"}}, WithComment(std::string("PK\x05\x06", 4)));
  z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.comment_trailer"));
  // A whole (empty) end record in the comment: it is the last one, so it is
  // read (as miniz and zipfile do), and the real one is reported.
  b = BuildZip({{"a", "x"}}, WithComment(BuildZip({}).bytes));
  z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->entries(), IsEmpty());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.comment_trailer", "zip.prefix_data"));
  EXPECT_EQ(z->issues()[0].offset, b.eocd);
}

TEST(ZipTest, EndRecordsDisagree) {
  Built b = BuildZip({{"a", "x"}, {"b", "y"}}, Zip64End());
  Set16(&b.bytes, b.eocd + 8, 1);  // the 32-bit record claims one entry
  Set16(&b.bytes, b.eocd + 10, 1);
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(Rules(*z), ElementsAre("zip.eocd_mismatch"));
  EXPECT_EQ(z->issues()[0].offset, b.eocd);
  EXPECT_EQ(z->entries().size(), 2u);  // the ZIP64 record wins, as in zipfile and miniz
}

// ---- Read -------------------------------------------------------------------

TEST(ZipTest, InflateErrors) {
  const std::string text = "inflate me, inflate me, inflate me";
  const Built good = BuildZip({{"t", text, true}});
  const uint64_t cd = good.central[0], lh = good.local[0];
  {  // Declared larger than the stream.
    std::string s = good.bytes;
    Set32(&s, cd + 24, static_cast<uint32_t>(text.size() + 1));
    Set32(&s, lh + 22, static_cast<uint32_t>(text.size() + 1));
    absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(s));
    ASSERT_THAT(z, IsOk());
    std::vector<uint8_t> storage;
    absl::StatusOr<absl::Span<const uint8_t>> r = z->Read(0, &storage);
    EXPECT_THAT(r, HasRule("zip.inflate"));
    EXPECT_EQ(ErrorOffset(r.status()), good.data[0]);
  }
  {  // Declared smaller.
    std::string s = good.bytes;
    Set32(&s, cd + 24, static_cast<uint32_t>(text.size() - 1));
    Set32(&s, lh + 22, static_cast<uint32_t>(text.size() - 1));
    std::vector<uint8_t> storage;
    EXPECT_THAT(ZipArchive::Open(AsBytes(s))->Read(0, &storage), HasRule("zip.inflate"));
  }
  {  // A corrupt stream (reserved block type 3).
    std::string s = good.bytes;
    s[good.data[0]] = '\x07';
    std::vector<uint8_t> storage;
    EXPECT_THAT(ZipArchive::Open(AsBytes(s))->Read(0, &storage), HasRule("zip.inflate"));
  }
  {  // A stream cut short.
    std::string s = good.bytes;
    Set32(&s, cd + 20, 3);
    Set32(&s, lh + 18, 3);
    std::vector<uint8_t> storage;
    EXPECT_THAT(ZipArchive::Open(AsBytes(s))->Read(0, &storage), HasRule("zip.inflate"));
  }
  {  // Over the limit.
    ZipLimits limits;
    limits.max_inflated = 10;
    std::vector<uint8_t> storage;
    EXPECT_THAT(ZipArchive::Open(AsBytes(good.bytes), limits)->Read(0, &storage),
                StatusIs(absl::StatusCode::kResourceExhausted, "zip.inflate"));
    EXPECT_TRUE(storage.empty());
  }
  {  // A size no deflate stream of this length reaches: refused before allocating.
    std::string s = good.bytes;
    Set32(&s, cd + 24, 0xF0000000);
    Set32(&s, lh + 22, 0xF0000000);
    std::vector<uint8_t> storage;
    EXPECT_THAT(ZipArchive::Open(AsBytes(s))->Read(0, &storage), HasRule("zip.inflate"));
    EXPECT_TRUE(storage.empty());
  }
  std::vector<uint8_t> storage;
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(good.bytes));
  EXPECT_THAT(z->Read(1, &storage), StatusIs(absl::StatusCode::kInternal, "zip.index"));
  EXPECT_THAT(z->Read(-1, &storage), HasRule("zip.index"));
  EXPECT_TRUE(z->Payload(7).empty());
  EXPECT_THAT(z->VerifyCrc(3), HasRule("zip.index"));
}

TEST(ZipTest, EmptyDeflatedEntry) {
  const Built b = BuildZip({{"e", "", true}});
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(ReadAll(*z, 0), "");
  EXPECT_THAT(z->VerifyCrc(0), IsOk());
}

// ---- robustness -------------------------------------------------------------

// Every prefix of an archive either fails with a rule or (when only the
// comment is cut) reads exactly the original entries.
TEST(ZipTest, EveryPrefix) {
  Member pkl{"archive/data.pkl", "pickle bytes"};
  pkl.descriptor = true;
  pkl.align = 64;
  Member big{"archive/data/0", std::string(700, 'q') + "tail", true};
  big.zip64 = true;
  const Built b = BuildZip({pkl, big, {"archive/version", "3\n"}}, WithComment("comment", /*zip64_end=*/true));
  const absl::StatusOr<ZipArchive> whole = ZipArchive::Open(AsBytes(b.bytes));
  ASSERT_THAT(whole, IsOk());
  ASSERT_THAT(whole->issues(), IsEmpty());
  int opened = 0;
  for (size_t n = 0; n < b.bytes.size(); ++n) {
    const std::string cut = b.bytes.substr(0, n);  // own allocation: ASan sees over-reads
    absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(cut));
    if (!z.ok()) {
      EXPECT_FALSE(ErrorRule(z.status()).empty()) << n;
      continue;
    }
    ++opened;
    EXPECT_THAT(Rules(*z), ElementsAre("zip.comment_trailer")) << n;
    ASSERT_EQ(z->entries().size(), 3u) << n;
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(z->entries()[i].name, whole->entries()[i].name);
      EXPECT_EQ(z->entries()[i].data_offset, whole->entries()[i].data_offset);
      EXPECT_EQ(ReadAll(*z, i), ReadAll(*whole, i));
    }
  }
  EXPECT_EQ(opened, 7);  // cut inside the 7-byte comment
}

TEST(ZipTest, TwentyThousandEntriesOpenFast) {
  std::vector<Member> members;
  for (int i = 0; i < 20000; ++i) {
    Member m{"archive/data/" + std::to_string(i), std::to_string(i * 7)};
    m.flags = 0x800;
    m.descriptor = true;
    m.align = 64;
    members.push_back(m);
  }
  const Built b = BuildZip(members, Zip64End());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ZipArchive> z = ZipArchive::Open(AsBytes(b.bytes));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_THAT(z, IsOk());
  EXPECT_THAT(z->issues(), IsEmpty());
  ASSERT_EQ(z->entries().size(), 20000u);
  RecordProperty("open_ms", static_cast<int>(ms));
  EXPECT_LT(ms, 500);  // a few ms in Release; generous for sanitizer builds
  for (int i = 0; i < 20000; i += 997) {
    const int k = z->Find("archive/data/" + std::to_string(i));
    ASSERT_EQ(k, i);
    EXPECT_EQ(Str(z->Payload(k)), std::to_string(i * 7));
    EXPECT_EQ(z->entries()[k].data_offset, b.data[i]);
  }
}

}  // namespace
}  // namespace ckpt
