// Safetensors writer: golden bytes from the reference crate's own tests, the
// reference's ordering and escaping, round trips for every dtype, and atomic
// replacement.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ckpt/dtype_convert.h"
#include "ckpt/safetensors.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;

TensorToWrite T(std::string name, DType dtype, std::vector<uint64_t> shape, const std::string& data) {
  TensorToWrite t;
  t.name = std::move(name);
  t.dtype = t.source_dtype = dtype;
  t.shape = std::move(shape);
  t.data = AsBytes(data);
  return t;
}

std::string WriteToString(std::vector<TensorToWrite> tensors, const SafetensorsMetadata& metadata,
                          SafetensorsWriteOptions options = {}) {
  ScratchDir dir;
  const std::string path = dir / "out.safetensors";
  const absl::Status s = WriteSafetensors(path, std::move(tensors), metadata, options);
  EXPECT_THAT(s, IsOk());
  return ReadFile(path);
}

SafetensorsMetadata Md(std::vector<std::pair<std::string, std::string>> pairs) { return pairs; }

std::string Prefix(uint64_t n) {
  std::string p(8, '\0');
  std::memcpy(p.data(), &n, 8);
  return p;
}

// Golden vectors from the reference crate's tests (see docs/formats/safetensors.md).
TEST(SafetensorsWriter, GoldenEmpty) {
  EXPECT_EQ(WriteToString({}, std::nullopt), Prefix(8) + "{}      ");
}

TEST(SafetensorsWriter, GoldenEmptyWithMetadata) {
  EXPECT_EQ(WriteToString({}, Md({{"framework", "pt"}})),
            Prefix(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST(SafetensorsWriter, GoldenEmptyMetadataIsValidJson) {
  // The reference writes `{},"__metadata__":{}}` here, which its own reader
  // rejects; ckpt writes a well-formed header.
  const std::string out = WriteToString({}, SafetensorsMetadata(std::vector<std::pair<std::string, std::string>>{}));
  EXPECT_EQ(out, Prefix(24) + R"({"__metadata__":{}})" + "     ");
  EXPECT_THAT(SafetensorsFile::Parse(AsBytes(out)), IsOk());
}

TEST(SafetensorsWriter, GoldenOneTensorExactly64) {
  std::string data(24, '\0');
  for (int i = 0; i < 6; ++i) {
    const float f = static_cast<float>(i);
    std::memcpy(data.data() + 4 * i, &f, 4);
  }
  EXPECT_EQ(WriteToString({T("attn.0", DType::kF32, {1, 2, 3}, data)}, std::nullopt),
            Prefix(64) + R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" + data);
}

TEST(SafetensorsWriter, GoldenPaddingToEight) {
  const std::string data(24, '\x07');
  EXPECT_EQ(WriteToString({T("attn0", DType::kF32, {1, 1, 2, 3}, data)}, std::nullopt),
            Prefix(72) + R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + "       " + data);
}

TEST(SafetensorsWriter, GoldenF4) {
  EXPECT_EQ(WriteToString({T("attn.0", DType::kF4, {1, 2}, "\x21")}, std::nullopt),
            Prefix(64) + R"({"attn.0":{"dtype":"F4","shape":[1,2],"data_offsets":[0,1]}})" + "    " + "\x21");
}

TEST(SafetensorsWriter, OrderIsDtypeRankDescendingThenNameBytes) {
  const std::string b1(1, 'x'), b4(4, 'x'), b8(8, 'x');
  const std::string out = WriteToString(
      {T("scalar", DType::kF32, {}, b4), T("u8", DType::kU8, {1}, b1), T("a_f32", DType::kF32, {1}, b4),
       T("i8", DType::kI8, {1}, b1), T("B_f32", DType::kF32, {1}, b4), T("u64", DType::kU64, {1}, b8),
       T("bool", DType::kBool, {1}, b1)},
      std::nullopt);
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(out));
  ASSERT_THAT(f, IsOk());
  std::vector<std::string> names;
  for (size_t i = 0; i < f->size(); ++i) names.emplace_back(f->tensor(i).name);
  EXPECT_THAT(names, ::testing::ElementsAre("u64", "B_f32", "a_f32", "scalar", "i8", "u8", "bool"));
}

TEST(SafetensorsWriter, EscapingMatchesSerdeJson) {
  const std::string name = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8";
  const std::string out = WriteToString({T(name, DType::kU8, {1}, "z")}, std::nullopt);
  const std::string json =
      "{\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xe2\x80\xa8\":{\"dtype\":\"U8\",\"shape\":[1],"
      "\"data_offsets\":[0,1]}}";
  std::string header = json + std::string((8 - json.size() % 8) % 8, ' ');
  EXPECT_EQ(out, Prefix(header.size()) + header + "z");
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(out));
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->tensor(0).name, name);
}

TEST(SafetensorsWriter, MetadataIsSortedByKey) {
  const std::string out = WriteToString({}, Md({{"z", "1"}, {"a", "2"}, {"format", "pt"}}));
  EXPECT_EQ(out, Prefix(48) + R"({"__metadata__":{"a":"2","format":"pt","z":"1"}})");
}

TEST(SafetensorsWriter, DataAlignmentPadsTheHeader) {
  SafetensorsWriteOptions options;
  options.data_alignment = 64;
  const std::string out = WriteToString({T("x", DType::kU8, {3}, "abc")}, std::nullopt, options);
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(out));
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->data_offset() % 64, 0u);
  options.data_alignment = 12;
  EXPECT_THAT(SafetensorsHeader({}, std::nullopt, options), HasRule("safetensors.write.alignment"));
}

TEST(SafetensorsWriter, EveryDtypeRoundTrips) {
  std::vector<std::string> storage;
  std::vector<TensorToWrite> tensors;
  for (int t = 0; t < kSafetensorsDTypeCount; ++t) {
    const DType dtype = static_cast<DType>(t);
    const DTypeInfo& info = GetDTypeInfo(dtype);
    const uint64_t n = 4 * info.block_elems;  // whole blocks for F4 / F6
    std::string data(*DTypeByteSize(dtype, n), '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 37 + t);
    storage.push_back(data);
  }
  for (int t = 0; t < kSafetensorsDTypeCount; ++t) {
    const DType dtype = static_cast<DType>(t);
    tensors.push_back(T(std::string("t_") + std::string(DTypeName(dtype)), dtype,
                        {2, 2 * GetDTypeInfo(dtype).block_elems}, storage[t]));
  }
  const std::string out = WriteToString(tensors, Md({{"format", "pt"}}));
  SafetensorsOptions strict;
  strict.strict = true;
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(out), strict);
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->size(), tensors.size());
  for (const TensorToWrite& t : tensors) {
    std::optional<size_t> i = f->Find(t.name);
    ASSERT_TRUE(i.has_value()) << t.name;
    const TensorView v = f->tensor(*i);
    EXPECT_EQ(v.dtype, t.dtype) << t.name;
    EXPECT_EQ(std::vector<uint64_t>(v.shape.begin(), v.shape.end()), t.shape) << t.name;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.nbytes()),
              std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()))
        << t.name;
  }
  // Writing what was read gives the same bytes (the canonical form is a fixed point).
  std::vector<TensorToWrite> again;
  for (size_t i = 0; i < f->size(); ++i) again.push_back(TensorToWrite::From(f->tensor(i)));
  EXPECT_EQ(WriteToString(std::move(again), f->metadata()), out);
}

TEST(SafetensorsWriter, ConvertsWhileStreaming) {
  const float values[] = {1.0f, -2.5f, 3.14159274f, 65504.0f, 1e-8f};
  std::string data(sizeof(values), '\0');
  std::memcpy(data.data(), values, sizeof(values));
  TensorToWrite t = T("w", DType::kF32, {5}, data);
  t.dtype = DType::kBF16;
  const std::string out = WriteToString({t}, std::nullopt);
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(out));
  ASSERT_THAT(f, IsOk());
  const TensorView v = f->tensor(0);
  ASSERT_EQ(v.dtype, DType::kBF16);
  ASSERT_EQ(v.nbytes(), 10u);
  const uint16_t expected[] = {0x3F80, 0xC020, 0x4049, 0x4780, 0x322C};
  for (int i = 0; i < 5; ++i) {
    uint16_t got;
    std::memcpy(&got, v.data.data() + 2 * i, 2);
    EXPECT_EQ(got, expected[i]) << i;
  }
}

TEST(SafetensorsWriter, RejectsWhatReadersCannotRead) {
  const std::string four(4, 'x');
  EXPECT_THAT(SafetensorsHeader({T("a", DType::kF32, {1}, four), T("a", DType::kF32, {1}, four)}, std::nullopt),
              HasRule("safetensors.write.duplicate_name"));
  EXPECT_THAT(SafetensorsHeader({T("__metadata__", DType::kF32, {1}, four)}, std::nullopt),
              HasRule("safetensors.write.reserved_name"));
  EXPECT_THAT(SafetensorsHeader({T("a", DType::kF32, {2}, four)}, std::nullopt), HasRule("safetensors.write.size"));
  EXPECT_THAT(SafetensorsHeader({T("\xff", DType::kF32, {1}, four)}, std::nullopt),
              HasRule("safetensors.write.name_utf8"));
  EXPECT_THAT(SafetensorsHeader({T("f4", DType::kF4, {3}, "xx")}, std::nullopt), HasRule("safetensors.write.size"));
  TensorToWrite bad = T("i", DType::kI32, {1}, four);
  bad.dtype = DType::kF16;
  EXPECT_THAT(SafetensorsHeader({bad}, std::nullopt), HasRule("safetensors.write.convert"));
  EXPECT_THAT(SafetensorsHeader({}, Md({{"k", "1"}, {"k", "2"}})),
              HasRule("safetensors.write.duplicate_metadata_key"));
}

TEST(SafetensorsWriter, FailedWriteLeavesTargetUntouched) {
  ScratchDir dir;
  const std::string path = dir / "model.safetensors";
  ckpt::testing::WriteFile(path, "old contents");
  const std::string four(4, 'x');
  EXPECT_THAT(WriteSafetensors(path, {T("a", DType::kF32, {2}, four)}, std::nullopt),
              HasRule("safetensors.write.size"));
  EXPECT_EQ(ReadFile(path), "old contents");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);  // no temporary left behind
}

TEST(SafetensorsWriter, OverwritingTheMappedInputIsSafe) {
  ScratchDir dir;
  const std::string path = dir / "model.safetensors";
  const std::string data(16, '\x42');
  ASSERT_THAT(WriteSafetensors(path, {T("w", DType::kF32, {4}, data)}, std::nullopt), IsOk());
  absl::StatusOr<SafetensorsFile> in = SafetensorsFile::Open(path);
  ASSERT_THAT(in, IsOk());
  // Rewrite the file from its own mapping, converting to F16.
  const TensorView v = in->tensor(0);
  ASSERT_THAT(WriteSafetensors(path, {TensorToWrite::From(v, DType::kF16)}, std::nullopt), IsOk());
  // The old mapping still sees the old bytes; the new file is complete.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.nbytes()), data);
  absl::StatusOr<SafetensorsFile> out = SafetensorsFile::Open(path);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->tensor(0).dtype, DType::kF16);
}

// A file written by Hugging Face's safetensors (Python) is a fixed point of
// ckpt's canonical writer, and so is its round trip through F32.
TEST(SafetensorsWriter, ReferenceWrittenFileIsReproducedByteForByte) {
  const std::string ref = std::string(CKPT_SHARED_DIR) + "/golden/convert/tiny-llama/model.safetensors";
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Open(ref);
  ASSERT_THAT(f, IsOk());
  std::vector<TensorToWrite> same, wide;
  for (size_t i = 0; i < f->size(); ++i) {
    same.push_back(TensorToWrite::From(f->tensor(i)));
    wide.push_back(TensorToWrite::From(f->tensor(i), DType::kF32));
  }
  EXPECT_TRUE(WriteToString(same, f->metadata()) == ReadFile(ref));
  // BF16 → F32 → BF16 is exact.
  ScratchDir dir;
  ASSERT_THAT(WriteSafetensors(dir / "f32.safetensors", wide, f->metadata()), IsOk());
  absl::StatusOr<SafetensorsFile> g = SafetensorsFile::Open(dir / "f32.safetensors");
  ASSERT_THAT(g, IsOk());
  std::vector<TensorToWrite> back;
  for (size_t i = 0; i < g->size(); ++i) back.push_back(TensorToWrite::From(g->tensor(i), DType::kBF16));
  EXPECT_TRUE(WriteToString(back, g->metadata()) == ReadFile(ref));
}

}  // namespace
}  // namespace ckpt
