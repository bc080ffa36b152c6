// GGUF writer: byte-identical reproduction of the gguf-py golden files (from
// the sidecars' values and from a parsed file), byte order conversion, block
// swapping, the writer's own errors, re-parsing, padding and atomicity.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ckpt/gguf.h"
#include "nlohmann/json.hpp"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::StatusIs;
using ::ckpt::testing::WriteFile;
using ::testing::ElementsAre;
using json = nlohmann::json;

const std::string kGoldenDir = CKPT_TEST_DATA_DIR "/gguf/golden";

// ---- helpers ---------------------------------------------------------------------

// Where two byte strings first differ (for readable failures).
std::string FirstDifference(const std::string& got, const std::string& want) {
  if (got == want) return "identical";
  const size_t n = std::min(got.size(), want.size());
  size_t i = 0;
  while (i < n && got[i] == want[i]) ++i;
  return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(want.size()) + ", first difference at " +
         std::to_string(i);
}

#define EXPECT_SAME_BYTES(got, want) EXPECT_TRUE((got) == (want)) << FirstDifference((got), (want))

GgufType TypeFromTag(const std::string& tag) {
  static const char* kTags[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
  for (uint32_t i = 0; i < 13; ++i) {
    if (tag == kTags[i]) return static_cast<GgufType>(i);
  }
  ADD_FAILURE() << "unknown type tag " << tag;
  return GgufType::kU8;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A sidecar value (see tests/fixtures/make_gguf_golden.py) as an owned value.
GgufOwnedValue Owned(GgufType t, const json& value, const json* bits, const json* hex) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      return GgufOwnedValue::Unsigned(t, value.get<uint64_t>());
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return GgufOwnedValue::Signed(t, value.get<int64_t>());
    case GgufType::kBool:
      return GgufOwnedValue::Bool(value.get<bool>());
    case GgufType::kF32:
      return GgufOwnedValue::F32(std::bit_cast<float>(static_cast<uint32_t>(std::stoull(bits->get<std::string>(), nullptr, 16))));
    case GgufType::kF64:
      return GgufOwnedValue::F64(std::bit_cast<double>(static_cast<uint64_t>(std::stoull(bits->get<std::string>(), nullptr, 16))));
    case GgufType::kString:
      return GgufOwnedValue::String(Unhex(hex->get<std::string>()));
    case GgufType::kArray:
      break;
  }
  ADD_FAILURE() << "array passed to Owned";
  return {};
}

// {"elem_type", "value": [...], "bits"/"hex": [...]}
GgufOwnedValue OwnedArray(const json& node) {
  const GgufType elem = TypeFromTag(node["elem_type"].get<std::string>());
  std::vector<GgufOwnedValue> elements;
  for (size_t i = 0; i < node["value"].size(); ++i) {
    if (elem == GgufType::kArray) {
      elements.push_back(OwnedArray(node["value"][i]));
    } else {
      elements.push_back(Owned(elem, node["value"][i], node.contains("bits") ? &node["bits"][i] : nullptr,
                               node.contains("hex") ? &node["hex"][i] : nullptr));
    }
  }
  return GgufOwnedValue::Array(elem, std::move(elements));
}

struct Golden {
  json want;
  std::string bytes;
  bool big_endian = false;
  std::vector<GgufKvToWrite> kvs;          // from the sidecar
  std::vector<GgufTensorToWrite> tensors;  // data borrowed from `bytes`
};

// Loads NAME.gguf and NAME.expect.json. The result must stay where it is
// (tensors borrow its bytes): hold it by unique_ptr.
std::unique_ptr<Golden> LoadGolden(const std::string& name) {
  auto g = std::make_unique<Golden>();
  g->want = json::parse(ReadFile(kGoldenDir + "/" + name + ".expect.json"));
  g->bytes = ReadFile(kGoldenDir + "/" + name + ".gguf");
  g->big_endian = g->want["endian"] == "big";
  for (const json& kv : g->want["kvs"]) {
    const GgufType t = TypeFromTag(kv["type"].get<std::string>());
    g->kvs.push_back({kv["key"].get<std::string>(),
                      t == GgufType::kArray ? OwnedArray(kv)
                                            : Owned(t, kv["value"], kv.contains("bits") ? &kv["bits"] : nullptr,
                                                    kv.contains("hex") ? &kv["hex"] : nullptr)});
  }
  const uint64_t data_offset = g->want["data_offset"].get<uint64_t>();
  for (const json& t : g->want["tensors"]) {
    GgufTensorToWrite w;
    w.name = t["name"].get<std::string>();
    const std::optional<DType> dtype = DTypeFromGgmlId(t["type_id"].get<uint32_t>());
    EXPECT_TRUE(dtype.has_value()) << w.name;
    w.dtype = w.source_dtype = dtype.value_or(DType::kF32);
    w.ne = t["ne"].get<std::vector<uint64_t>>();
    w.data = AsBytes(g->bytes).subspan(data_offset + t["offset"].get<uint64_t>(), t["nbytes"].get<uint64_t>());
    w.source_big_endian = g->big_endian;
    g->tensors.push_back(std::move(w));
  }
  return g;
}

std::string WriteToString(absl::Span<const GgufKvToWrite> kvs, absl::Span<const GgufTensorToWrite> tensors,
                          GgufWriteOptions options = {}) {
  ScratchDir dir;
  const std::string path = dir / "out.gguf";
  const absl::Status s = WriteGguf(path, kvs, tensors, options);
  EXPECT_THAT(s, IsOk());
  return ReadFile(path);
}

GgufWriteOptions BigEndian(bool be = true) {
  GgufWriteOptions o;
  o.big_endian = be;
  return o;
}

// KVs copied from an open file (the {file, value} variant).
std::vector<GgufKvToWrite> CopiedKvs(const GgufFile& f) {
  std::vector<GgufKvToWrite> kvs;
  for (const GgufKv& kv : f.kvs()) kvs.push_back({std::string(kv.key), std::make_pair(&f, kv.value)});
  return kvs;
}

// Tensors of an open file as they are stored (its byte order).
std::vector<GgufTensorToWrite> CopiedTensors(const GgufFile& f) {
  std::vector<GgufTensorToWrite> out;
  for (size_t i = 0; i < f.size(); ++i) {
    const GgufTensorInfo& t = f.info(i);
    GgufTensorToWrite w;
    w.name = std::string(t.name);
    w.dtype = w.source_dtype = t.dtype;
    w.ne.assign(t.ne.begin(), t.ne.begin() + t.n_dims);
    w.data = f.tensor(i).data;
    w.source_big_endian = f.big_endian();
    out.push_back(std::move(w));
  }
  return out;
}

// Reverses each `width`-byte group.
std::string SwapEach(std::string_view s, size_t width) {
  std::string out(s);
  for (size_t i = 0; i + width <= out.size(); i += width) std::reverse(out.begin() + i, out.begin() + i + width);
  return out;
}

std::string Str(absl::Span<const uint8_t> s) { return std::string(reinterpret_cast<const char*>(s.data()), s.size()); }

// `data` is borrowed: pass a named string or a literal, never a temporary.
GgufTensorToWrite T(std::string name, DType dtype, std::vector<uint64_t> ne, std::string_view data) {
  GgufTensorToWrite t;
  t.name = std::move(name);
  t.dtype = t.source_dtype = dtype;
  t.ne = std::move(ne);
  t.data = absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return t;
}

GgufKvToWrite Kv(std::string key, GgufOwnedValue v) { return {std::move(key), std::move(v)}; }

// ---- golden files ----------------------------------------------------------------

// gguf-py wrote all of them; none uses anything our writer cannot express
// (n_dims 0, empty strings, non-UTF-8 and NUL-holding strings, nested arrays,
// big-endian, alignment 64 are all reproducible).
const std::vector<std::string>& GoldenNames() {
  static const std::vector<std::string> kNames = {"scalars", "arrays",  "nested_arrays", "tensors",   "align64",
                                                  "bigendian", "empty", "kv_only",       "edge_cases"};
  return kNames;
}

class GgufWriterGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufWriterGolden, OwnedValuesFromTheSidecarReproduceTheFile) {
  const std::unique_ptr<Golden> g = LoadGolden(GetParam());
  ASSERT_EQ(g->kvs.size(), g->want["n_kv"].get<size_t>());
  const GgufWriteOptions options = BigEndian(g->big_endian);
  absl::StatusOr<std::string> header = GgufHeader(g->kvs, g->tensors, options);
  ASSERT_THAT(header, IsOk());
  EXPECT_SAME_BYTES(*header, g->bytes.substr(0, g->want["data_offset"].get<uint64_t>()));
  EXPECT_SAME_BYTES(WriteToString(g->kvs, g->tensors, options), g->bytes);
}

TEST_P(GgufWriterGolden, CopyingTheParsedFileReproducesIt) {
  const std::string bytes = ReadFile(kGoldenDir + "/" + GetParam() + ".gguf");
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*f), CopiedTensors(*f), BigEndian(f->big_endian())), bytes);
}

TEST_P(GgufWriterGolden, OtherByteOrderAndBackIsIdentity) {
  // Every golden tensor type can be swapped (F32, F16, BF16, I8..I64, F64,
  // Q8_0, Q4_K): to the other byte order and back gives the file again.
  const std::string bytes = ReadFile(kGoldenDir + "/" + GetParam() + ".gguf");
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  const std::string other = WriteToString(CopiedKvs(*f), CopiedTensors(*f), BigEndian(!f->big_endian()));
  absl::StatusOr<GgufFile> o = GgufFile::Parse(AsBytes(other));
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->big_endian(), !f->big_endian());
  ASSERT_EQ(o->kvs().size(), f->kvs().size());
  for (size_t i = 0; i < f->kvs().size(); ++i) {
    EXPECT_EQ(o->kvs()[i].key, f->kvs()[i].key);
    EXPECT_EQ(o->ToJson(o->kvs()[i].value), f->ToJson(f->kvs()[i].value)) << f->kvs()[i].key;
  }
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*o), CopiedTensors(*o), BigEndian(f->big_endian())), bytes);
}

INSTANTIATE_TEST_SUITE_P(gguf_writer_golden, GgufWriterGolden, ::testing::ValuesIn(GoldenNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(gguf_writer, BigEndianFromLittleEndianContentReproducesBigendianGguf) {
  // bigendian.gguf holds the same logical values as its sidecar, and tensors
  // that gguf-py byte-swapped per element (F32, F16, I32): give the writer
  // the little-endian bytes and ask for big-endian output.
  const std::unique_ptr<Golden> g = LoadGolden("bigendian");
  std::vector<std::string> le_data;
  for (const GgufTensorToWrite& t : g->tensors) le_data.push_back(SwapEach(Str(t.data), GetDTypeInfo(t.dtype).block_bytes));
  std::vector<GgufTensorToWrite> tensors = g->tensors;
  for (size_t i = 0; i < tensors.size(); ++i) {
    tensors[i].data = AsBytes(le_data[i]);
    tensors[i].source_big_endian = false;
  }
  EXPECT_SAME_BYTES(WriteToString(g->kvs, tensors, BigEndian()), g->bytes);
  // be.i32 = [1, -2, 0x01020304]: the little-endian bytes are what we think.
  EXPECT_EQ(le_data[2], std::string("\1\0\0\0\xfe\xff\xff\xff\4\3\2\1", 12));

  // The little-endian file: same values, tensors in host order; and from it,
  // big-endian again gives the golden bytes.
  const std::string le = WriteToString(g->kvs, tensors);
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(le), [] {
    GgufOptions o;
    o.strict = true;
    return o;
  }());
  ASSERT_THAT(f, IsOk());
  EXPECT_FALSE(f->big_endian());
  EXPECT_EQ(f->ReadUnsigned(f->FindKv("test.u64")->value), 0x0102030405060708u);
  EXPECT_EQ(Str(f->tensor(2).data), le_data[2]);
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*f), CopiedTensors(*f), BigEndian()), g->bytes);
}

TEST(gguf_writer, TensorBytesSwapPerTypeLayout) {
  // tensors.gguf → big-endian: which bytes moved, per type.
  const std::string bytes = ReadFile(kGoldenDir + "/tensors.gguf");
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  const std::string be = WriteToString(CopiedKvs(*f), CopiedTensors(*f), BigEndian());
  absl::StatusOr<GgufFile> b = GgufFile::Parse(AsBytes(be));
  ASSERT_THAT(b, IsOk());
  const auto data = [](const GgufFile& file, std::string_view name) { return Str(file.tensor(*file.Find(name)).data); };
  EXPECT_EQ(data(*b, "f32.2d"), SwapEach(data(*f, "f32.2d"), 4));
  EXPECT_EQ(data(*b, "f16.2d"), SwapEach(data(*f, "f16.2d"), 2));
  EXPECT_EQ(data(*b, "bf16.2d"), SwapEach(data(*f, "bf16.2d"), 2));
  EXPECT_EQ(data(*b, "i8.1d"), data(*f, "i8.1d"));
  EXPECT_EQ(data(*b, "i64.2d"), SwapEach(data(*f, "i64.2d"), 8));
  // Q8_0 (34-byte blocks): only the f16 scale d at bytes 0-1.
  std::string q8 = data(*f, "q8_0.2d");
  ASSERT_EQ(q8.size(), 4u * 34);
  for (size_t blk = 0; blk < q8.size(); blk += 34) std::swap(q8[blk], q8[blk + 1]);
  EXPECT_EQ(data(*b, "q8_0.2d"), q8);
  // Q4_K (144-byte block): d and dmin at bytes 0-1 and 2-3.
  std::string q4k = data(*f, "q4_k.2d");
  ASSERT_EQ(q4k.size(), 144u);
  std::swap(q4k[0], q4k[1]);
  std::swap(q4k[2], q4k[3]);
  EXPECT_EQ(data(*b, "q4_k.2d"), q4k);
}

TEST(gguf_writer, CopyFromABigEndianFileWithNestedArraysToLittleEndian) {
  // nested_arrays.gguf written big-endian, read back and copied element by
  // element to little-endian, is nested_arrays.gguf again.
  const std::unique_ptr<Golden> g = LoadGolden("nested_arrays");
  const std::string be = WriteToString(g->kvs, {}, BigEndian());
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(be));
  ASSERT_THAT(f, IsOk());
  EXPECT_TRUE(f->big_endian());
  EXPECT_EQ(f->ToJson(f->FindKv("test.nested_3")->value).dump(), "[[[1],[2,3]],[[4]]]");
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*f), {}), g->bytes);
}

TEST(gguf_writer, CopyFromAVersion1File) {
  // A hand-made v1 file (u32 counts and lengths): its KVs copied into a v3
  // file equal the same values written from scratch.
  std::string v1("GGUF\1\0\0\0\0\0\0\0\3\0\0\0", 16);
  const auto u32 = [&](uint32_t v) { v1.append(reinterpret_cast<const char*>(&v), 4); };
  const auto str = [&](std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    v1.append(s);
  };
  str("test.s");
  u32(8);
  str("hello");
  str("test.strs");
  u32(9);
  u32(8);
  u32(2);
  str("ab");
  str("");
  str("test.nested");
  u32(9);
  u32(9);
  u32(2);
  u32(5);
  u32(1);
  u32(0xFFFFFFFF);
  u32(8);
  u32(1);
  str("x");
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(v1));
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->version(), 1u);
  const std::vector<GgufKvToWrite> owned = {
      Kv("test.s", GgufOwnedValue::String("hello")),
      Kv("test.strs", GgufOwnedValue::Array(GgufType::kString, {GgufOwnedValue::String("ab"), GgufOwnedValue::String("")})),
      Kv("test.nested",
         GgufOwnedValue::Array(GgufType::kArray,
                               {GgufOwnedValue::Array(GgufType::kI32, {GgufOwnedValue::Signed(GgufType::kI32, -1)}),
                                GgufOwnedValue::Array(GgufType::kString, {GgufOwnedValue::String("x")})})),
  };
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*f), {}), WriteToString(owned, {}));
}

// ---- byte swapping -----------------------------------------------------------------

std::vector<uint8_t> Iota(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(gguf_swap, Q4_0SwapsOnlyTheScaleOfEachBlock) {
  std::vector<uint8_t> b = Iota(3 * 18);
  ASSERT_THAT(SwapGgmlBlocks(DType::kQ4_0, absl::MakeSpan(b)), IsOk());
  std::vector<uint8_t> want = Iota(3 * 18);
  for (size_t blk = 0; blk < want.size(); blk += 18) std::swap(want[blk], want[blk + 1]);
  EXPECT_EQ(b, want);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(b[2], 2);
  EXPECT_EQ(b[18], 19);
  EXPECT_EQ(b[19], 18);
}

TEST(gguf_swap, BlockLayoutsMatchGgmlCommon) {
  // (type, block bytes, the 2-byte fields at these offsets, 4-byte fields)
  struct Row {
    DType type;
    size_t block;
    std::vector<size_t> f16;
    std::vector<size_t> f32;
  };
  const std::vector<Row> rows = {
      {DType::kQ4_1, 20, {0, 2}, {}},
      {DType::kQ8_0, 34, {0}, {}},
      {DType::kQ2_K, 84, {80, 82}, {}},            // scales[16], qs[64], d, dmin
      {DType::kQ4_K, 144, {0, 2}, {}},
      {DType::kQ6_K, 210, {208}, {}},              // ql[128], qh[64], scales[16], d
      {DType::kQ8_K, 292, {260, 262, 264, 266, 268, 270, 272, 274, 276, 278, 280, 282, 284, 286, 288, 290}, {0}},
      {DType::kTQ2_0, 66, {64}, {}},               // qs[64], d
      {DType::kMXFP4, 17, {}, {}},                 // all bytes
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(DTypeName(r.type));
    std::vector<uint8_t> b = Iota(2 * r.block);
    ASSERT_THAT(SwapGgmlBlocks(r.type, absl::MakeSpan(b)), IsOk());
    std::vector<uint8_t> want = Iota(2 * r.block);
    for (size_t blk = 0; blk < want.size(); blk += r.block) {
      for (size_t o : r.f16) std::swap(want[blk + o], want[blk + o + 1]);
      for (size_t o : r.f32) std::reverse(want.begin() + blk + o, want.begin() + blk + o + 4);
    }
    EXPECT_EQ(b, want);
  }
}

TEST(gguf_swap, PlainTypesSwapWholeElements) {
  std::vector<uint8_t> b = Iota(16);
  ASSERT_THAT(SwapGgmlBlocks(DType::kF64, absl::MakeSpan(b)), IsOk());
  EXPECT_THAT(b, ElementsAre(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8));
  b = Iota(4);
  ASSERT_THAT(SwapGgmlBlocks(DType::kI8, absl::MakeSpan(b)), IsOk());
  EXPECT_THAT(b, ElementsAre(0, 1, 2, 3));
}

TEST(gguf_swap, UnknownLayoutsAndPartialBlocksAreErrors) {
  std::vector<uint8_t> b = Iota(66);
  EXPECT_THAT(SwapGgmlBlocks(DType::kIQ2_XXS, absl::MakeSpan(b)),
              StatusIs(absl::StatusCode::kUnimplemented, "gguf.endian.type"));
  EXPECT_EQ(b, Iota(66));  // untouched
  EXPECT_FALSE(CanSwapGgmlType(DType::kIQ2_XXS));
  EXPECT_FALSE(CanSwapGgmlType(DType::kQ5_0));  // qh read as a u32 through memcpy: no agreed form
  EXPECT_TRUE(CanSwapGgmlType(DType::kQ4_0));
  EXPECT_TRUE(CanSwapGgmlType(DType::kF32));
  std::vector<uint8_t> partial = Iota(20);
  EXPECT_THAT(SwapGgmlBlocks(DType::kQ4_0, absl::MakeSpan(partial)), HasRule("gguf.endian.size"));
}

TEST(gguf_swap, WritingAnUnswappableTypeInTheOtherByteOrderIsUnimplemented) {
  ScratchDir dir;
  const std::string path = dir / "out.gguf";
  const std::string data(66, 'x');
  const std::vector<GgufTensorToWrite> tensors = {T("a", DType::kF32, {1}, "abcd"),
                                                  T("iq", DType::kIQ2_XXS, {256}, data)};
  EXPECT_THAT(WriteGguf(path, {}, tensors, BigEndian()),
              StatusIs(absl::StatusCode::kUnimplemented, "gguf.write.endian"));
  EXPECT_FALSE(std::filesystem::exists(path));
  // Same byte order: no swapping needed, so it is written.
  EXPECT_THAT(WriteGguf(path, {}, tensors), IsOk());
}

// ---- the writer's own errors -----------------------------------------------------------

TEST(gguf_writer_errors, EachIsReportedWithItsRule) {
  const std::string f4(4, 'f');
  const std::vector<GgufKvToWrite> dup_key = {Kv("a.b", GgufOwnedValue::Bool(true)),
                                              Kv("a.b", GgufOwnedValue::Bool(false))};
  EXPECT_THAT(GgufHeader(dup_key, {}), HasRule("gguf.write.key"));
  EXPECT_THAT(GgufHeader({Kv("", GgufOwnedValue::Bool(true))}, {}), HasRule("gguf.write.key"));

  const std::vector<GgufTensorToWrite> dup_name = {T("a", DType::kF32, {1}, f4), T("a", DType::kF32, {1}, f4)};
  EXPECT_THAT(GgufHeader({}, dup_name), HasRule("gguf.write.name"));
  EXPECT_THAT(GgufHeader({}, {T(std::string(64, 'n'), DType::kF32, {1}, f4)}), HasRule("gguf.write.name"));
  EXPECT_THAT(GgufHeader({}, {T(std::string(63, 'n'), DType::kF32, {1}, f4)}), IsOk());
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kF32, {1, 1, 1, 1, 1}, f4)}), HasRule("gguf.write.shape"));
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kF32, {1, 1, 1, 1}, f4)}), IsOk());
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kF32, {2}, f4)}), HasRule("gguf.write.size"));
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kQ4_0, {33}, std::string(18, 'q'))}), HasRule("gguf.write.shape"));
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kF32, {uint64_t{1} << 62, 4}, "")}), HasRule("gguf.write.shape"));
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kU8, {4}, f4)}),
              StatusIs(absl::StatusCode::kUnimplemented, "gguf.write.dtype"));
  GgufTensorToWrite convert = T("a", DType::kF32, {1}, f4);
  convert.source_dtype = DType::kI32;
  EXPECT_THAT(GgufHeader({}, {convert}), StatusIs(absl::StatusCode::kUnimplemented, "gguf.write.convert"));

  EXPECT_THAT(GgufHeader({Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU64, 64))}, {}),
              HasRule("gguf.write.alignment"));
  EXPECT_THAT(GgufHeader({Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, 48))}, {}),
              HasRule("gguf.write.alignment"));
  EXPECT_THAT(GgufHeader({Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, 0))}, {}),
              HasRule("gguf.write.alignment"));
  EXPECT_THAT(GgufHeader({Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, 1))}, {}), IsOk());
}

TEST(gguf_writer_errors, WriteGgufNamesTheFile) {
  ScratchDir dir;
  const std::string path = dir / "out.gguf";
  const std::string f4(4, 'f');
  const absl::Status s = WriteGguf(path, {}, {T("a", DType::kF32, {2}, f4)});
  EXPECT_THAT(s, HasRule("gguf.write.size"));
  EXPECT_EQ(ErrorFile(s), path);
  EXPECT_EQ(ErrorTensor(s), "a");
}

// What the writer emits, the reader must accept: names and keys it cannot
// tell apart, or dims it would call negative, are refused when writing.
TEST(gguf_writer_errors, RefusesWhatItsReaderWouldReject) {
  const std::string f4(4, 'f');
  EXPECT_THAT(GgufHeader({Kv(std::string("general.alignment\0x", 19), GgufOwnedValue::Unsigned(GgufType::kU32, 64))},
                         {}),
              HasRule("gguf.write.key"));
  const std::vector<GgufTensorToWrite> nul_names = {T(std::string("t0\0a", 4), DType::kF32, {1}, f4),
                                                    T(std::string("t0\0b", 4), DType::kF32, {1}, f4)};
  EXPECT_THAT(GgufHeader({}, nul_names), HasRule("gguf.write.name"));
  EXPECT_THAT(GgufHeader({}, {T("a", DType::kF32, {0, uint64_t{1} << 63}, "")}), HasRule("gguf.write.shape"));
}

// Owned values are written as given, so ones the file cannot hold faithfully
// (an element of another type would be misparsed) are refused.
TEST(gguf_writer_errors, RefusesValuesTheFileCannotHold) {
  using V = GgufOwnedValue;
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Array(GgufType::kU32, {V::String("x")}))}, {}), HasRule("gguf.write.value"));
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Array(GgufType::kArray, {V::Array(GgufType::kI32, {V::Bool(true)})}))}, {}),
              HasRule("gguf.write.value"));
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Unsigned(GgufType::kBool, 2))}, {}), HasRule("gguf.write.value"));
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Unsigned(GgufType::kU8, 256))}, {}), HasRule("gguf.write.value"));
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Unsigned(GgufType::kU8, 255))}, {}), IsOk());
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Signed(GgufType::kI8, -128))}, {}), IsOk());
  EXPECT_THAT(GgufHeader({Kv("a.b", V::Array(GgufType::kArray, {V::Array(GgufType::kI32, {V::Signed(GgufType::kI32, -1)})}))},
                         {}),
              IsOk());
}

// ---- round trips, padding, atomicity -------------------------------------------------

TEST(gguf_writer, WrittenFileReparsesWithTheSameKvsAndTensors) {
  std::string f32(4 * 6, '\0');
  for (int i = 0; i < 6; ++i) {
    const float v = 0.5f * static_cast<float>(i) - 1.0f;
    std::memcpy(f32.data() + 4 * i, &v, 4);
  }
  const std::string q8(2 * 34, 'q');
  const std::string scalar = f32.substr(0, 4);
  const std::vector<GgufKvToWrite> kvs = {
      Kv("general.architecture", GgufOwnedValue::String("llama")),
      Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, 64)),
      Kv("t.u8", GgufOwnedValue::Unsigned(GgufType::kU8, 200)),
      Kv("t.i8", GgufOwnedValue::Signed(GgufType::kI8, -100)),
      Kv("t.u16", GgufOwnedValue::Unsigned(GgufType::kU16, 65535)),
      Kv("t.i16", GgufOwnedValue::Signed(GgufType::kI16, -2)),
      Kv("t.i32", GgufOwnedValue::Signed(GgufType::kI32, INT32_MIN)),
      Kv("t.u64", GgufOwnedValue::Unsigned(GgufType::kU64, ~uint64_t{0})),
      Kv("t.i64", GgufOwnedValue::Signed(GgufType::kI64, INT64_MIN)),
      Kv("t.f32", GgufOwnedValue::F32(0.1f)),
      Kv("t.f64", GgufOwnedValue::F64(-0.0)),
      Kv("t.bool", GgufOwnedValue::Bool(true)),
      Kv("t.str", GgufOwnedValue::String(std::string("a\0b", 3))),
      Kv("t.empty_arr", GgufOwnedValue::Array(GgufType::kU32, {})),  // gguf-py cannot write this; ggml can
      Kv("t.nested", GgufOwnedValue::Array(GgufType::kArray,
                                           {GgufOwnedValue::Array(GgufType::kString, {GgufOwnedValue::String("x")}),
                                            GgufOwnedValue::Array(GgufType::kU8, {})})),
  };
  GgufTensorToWrite to_f16 = T("w.f16", DType::kF16, {3, 2}, f32);
  to_f16.source_dtype = DType::kF32;  // converted while writing
  const std::vector<GgufTensorToWrite> tensors = {T("w.f32", DType::kF32, {3, 2}, f32), to_f16,
                                                  T("w.q8", DType::kQ8_0, {32, 2}, q8),
                                                  T("w.scalar", DType::kF32, {}, scalar)};
  const std::string bytes = WriteToString(kvs, tensors);
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  ASSERT_EQ(f->kvs().size(), kvs.size());
  std::vector<std::string> dumped;
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(f->kvs()[i].key, kvs[i].key);
    EXPECT_EQ(f->kvs()[i].value.type, std::get<GgufOwnedValue>(kvs[i].value).type) << kvs[i].key;
    dumped.push_back(f->ToJson(f->kvs()[i].value).dump());
  }
  EXPECT_THAT(dumped, ElementsAre("\"llama\"", "64", "200", "-100", "65535", "-2", "-2147483648",
                                  "18446744073709551615", "-9223372036854775808", "0.1", "-0.0", "true",
                                  "\"a\\u0000b\"", "[]", "[[\"x\"],[]]"));
  EXPECT_EQ(f->FindKv("t.empty_arr")->value.elem_type, GgufType::kU32);
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ(Str(f->tensor(0).data), f32);
  EXPECT_EQ(f->info(1).dtype, DType::kF16);
  EXPECT_EQ(f->info(1).nbytes, 12u);
  // -1, -0.5, 0, 0.5, 1, 1.5 as F16
  EXPECT_EQ(Str(f->tensor(1).data), std::string("\x00\xbc\x00\xb8\x00\x00\x00\x38\x00\x3c\x00\x3e", 12));
  EXPECT_EQ(Str(f->tensor(2).data), q8);
  EXPECT_EQ(f->info(2).ne[0], 32u);
  EXPECT_EQ(f->info(3).n_dims, 0u);
  EXPECT_EQ(f->info(1).offset, 64u);
  EXPECT_EQ(f->info(2).offset, 128u);
  EXPECT_EQ(f->info(3).offset, 256u);
  // Copy it again: same bytes.
  EXPECT_SAME_BYTES(WriteToString(CopiedKvs(*f), CopiedTensors(*f)), bytes);
}

TEST(gguf_writer, PaddingIsZeroAndTheLastTensorIsPadded) {
  const std::string a(20, '\xff'), b(84, '\xff'), c(65, '\xff');
  const std::vector<GgufKvToWrite> kvs = {Kv("general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, 64))};
  const std::vector<GgufTensorToWrite> tensors = {T("a", DType::kF32, {5}, a), T("b", DType::kF32, {7, 3}, b),
                                                  T("c", DType::kI8, {65}, c)};
  const std::string bytes = WriteToString(kvs, tensors);
  absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes), [] {
    GgufOptions o;
    o.strict = true;  // no unpadded_end, no trailing_data
    return o;
  }());
  ASSERT_THAT(f, IsOk());
  const uint64_t d = f->data_offset();
  EXPECT_EQ(d % 64, 0u);
  EXPECT_EQ(bytes.size(), d + 64 + 128 + 128);
  // Everything between the tensor infos and the data, and after each
  // tensor's bytes, is zero; the data itself is all 0xff.
  std::string want(bytes.size() - f->header_end(), '\0');
  for (size_t i = 0; i < f->size(); ++i) {
    const GgufTensorInfo& t = f->info(i);
    std::fill_n(want.begin() + (d - f->header_end()) + t.offset, t.nbytes, '\xff');
  }
  EXPECT_EQ(bytes.substr(f->header_end()), want);
  EXPECT_EQ(f->info(2).offset, 192u);
}

TEST(gguf_writer, ProgressReportsEveryTensor) {
  const std::string a(12, 'a'), b(8, 'b');
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  ScratchDir dir;
  ASSERT_THAT(WriteGguf(dir / "out.gguf", {}, {T("a", DType::kF32, {3}, a), T("b", DType::kF16, {4}, b)}, {},
                        [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); }),
              IsOk());
  EXPECT_THAT(calls, ElementsAre(std::pair<uint64_t, uint64_t>{12, 20}, std::pair<uint64_t, uint64_t>{20, 20}));
}

TEST(gguf_writer, TargetIsUntouchedWhenWritingFails) {
  ScratchDir dir;
  const std::string path = dir / "model.gguf";
  WriteFile(path, "old contents");
  const std::string a(12, 'a'), short_b(7, 'b');
  // The second tensor's data is one byte short.
  const absl::Status s =
      WriteGguf(path, {Kv("general.name", GgufOwnedValue::String("x"))},
                {T("a", DType::kF32, {3}, a), T("b", DType::kF32, {2}, short_b)});
  EXPECT_THAT(s, HasRule("gguf.write.size"));
  EXPECT_EQ(ErrorTensor(s), "b");
  EXPECT_EQ(ReadFile(path), "old contents");
  // A type that cannot be swapped, second: refused before anything is written.
  const std::string iq(66, 'i');
  EXPECT_THAT(WriteGguf(path, {}, {T("a", DType::kF32, {3}, a), T("iq", DType::kIQ2_XXS, {256}, iq)}, BigEndian()),
              StatusIs(absl::StatusCode::kUnimplemented, "gguf.write.endian"));
  EXPECT_EQ(ReadFile(path), "old contents");
  // A missing directory.
  EXPECT_THAT(WriteGguf(dir / "no/such/dir.gguf", {}, {}), HasRule("file.create"));
  // No temporary files left behind.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
  EXPECT_THAT(names, ElementsAre("model.gguf"));
  // And a successful write replaces it.
  ASSERT_THAT(WriteGguf(path, {}, {T("a", DType::kF32, {3}, a)}), IsOk());
  absl::StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(Str(f->tensor(0).data), a);
}

}  // namespace
}  // namespace ckpt
