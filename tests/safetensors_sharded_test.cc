// Sharded checkpoints: Hugging Face's split and naming, the index, and every
// way a shard directory can be broken.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ckpt/safetensors_sharded.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;
namespace fs = std::filesystem;

TEST(ShardSize, ParsesHubUnits) {
  EXPECT_EQ(ParseShardSize("5GB"), 5'000'000'000u);
  EXPECT_EQ(ParseShardSize("500MB"), 500'000'000u);
  EXPECT_EQ(ParseShardSize("10KB"), 10'000u);
  EXPECT_EQ(ParseShardSize("8Gb"), 1'000'000'000u);  // lower-case b: bits, as in transformers
  EXPECT_EQ(ParseShardSize("2GiB"), 2u << 30);
  EXPECT_EQ(ParseShardSize("1.5GB"), 1'500'000'000u);
  EXPECT_EQ(ParseShardSize("123"), 123u);
  EXPECT_EQ(ParseShardSize(""), std::nullopt);
  EXPECT_EQ(ParseShardSize("GB"), std::nullopt);
  EXPECT_EQ(ParseShardSize("-1GB"), std::nullopt);
  EXPECT_EQ(ParseShardSize("0"), std::nullopt);
  EXPECT_EQ(ParseShardSize("99999999999999TB"), std::nullopt);
}

TEST(PlanShards, GreedyLikeHuggingfaceHub) {
  uint32_t n = 0;
  // Limit 10: [4, 4] | [4, 6] | [10]; a tensor over the limit gets its own
  // shard at once while the open shard continues.
  EXPECT_THAT(PlanShards({4, 4, 4, 6, 10}, 10, &n), ::testing::ElementsAre(0, 0, 1, 1, 2));
  EXPECT_EQ(n, 3u);
  EXPECT_THAT(PlanShards({3, 20, 3, 5}, 10, &n), ::testing::ElementsAre(1, 0, 1, 2));
  EXPECT_EQ(n, 3u);
  EXPECT_THAT(PlanShards({}, 10, &n), ::testing::ElementsAre());
  EXPECT_EQ(n, 0u);
}

class ShardedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 6; ++i) data_.push_back(std::string(100, static_cast<char>('a' + i)));
  }
  std::vector<TensorToWrite> Tensors() {
    std::vector<TensorToWrite> out;
    for (int i = 0; i < 6; ++i) {
      TensorToWrite t;
      t.name = "layers." + std::to_string(i) + ".weight";
      t.dtype = t.source_dtype = DType::kU8;
      t.shape = {10, 10};
      t.data = AsBytes(data_[i]);
      out.push_back(t);
    }
    return out;
  }
  std::string WriteShards(const ScratchDir& dir) {
    ShardOptions options;
    options.max_shard_bytes = 250;
    const std::string out = dir / "sharded";
    EXPECT_THAT(WriteShardedSafetensors(out, Tensors(), std::nullopt, options), IsOk());
    return out;
  }
  std::vector<std::string> data_;
};

TEST_F(ShardedTest, WritesHubNamesAndIndex) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  EXPECT_TRUE(fs::exists(out + "/model-00001-of-00003.safetensors"));
  EXPECT_TRUE(fs::exists(out + "/model-00003-of-00003.safetensors"));
  EXPECT_EQ(ReadFile(out + "/model.safetensors.index.json"),
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 600\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"layers.0.weight\": \"model-00001-of-00003.safetensors\",\n"
            "    \"layers.1.weight\": \"model-00001-of-00003.safetensors\",\n"
            "    \"layers.2.weight\": \"model-00002-of-00003.safetensors\",\n"
            "    \"layers.3.weight\": \"model-00002-of-00003.safetensors\",\n"
            "    \"layers.4.weight\": \"model-00003-of-00003.safetensors\",\n"
            "    \"layers.5.weight\": \"model-00003-of-00003.safetensors\"\n"
            "  }\n"
            "}\n");
  absl::StatusOr<SafetensorsFile> shard = SafetensorsFile::Open(out + "/model-00002-of-00003.safetensors");
  ASSERT_THAT(shard, IsOk());
  ASSERT_TRUE(shard->metadata().has_value());
  EXPECT_THAT(*shard->metadata(), ::testing::ElementsAre(::testing::Pair("format", "pt")));
}

TEST_F(ShardedTest, SavingAgainRemovesStaleShards) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);  // three shards and an index
  ShardOptions one;
  ASSERT_THAT(WriteShardedSafetensors(out, Tensors(), std::nullopt, one), IsOk());
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename().string());
  EXPECT_THAT(files, ::testing::ElementsAre("model.safetensors"));
  // Files that are not the Hub's names are left alone.
  WriteFile(out + "/README.md", "x");
  WriteFile(out + "/model-1-of-2.safetensors", "x");
  ASSERT_THAT(WriteShardedSafetensors(out, Tensors(), std::nullopt, one), IsOk());
  EXPECT_TRUE(fs::exists(out + "/README.md"));
  EXPECT_TRUE(fs::exists(out + "/model-1-of-2.safetensors"));
}

TEST_F(ShardedTest, ShardsGetFormatPtAddedToSourceMetadata) {
  ScratchDir dir;
  ShardOptions options;
  options.max_shard_bytes = 250;
  ASSERT_THAT(WriteShardedSafetensors(dir / "s", Tensors(),
                                      std::vector<std::pair<std::string, std::string>>{{"author", "me"}}, options),
              IsOk());
  absl::StatusOr<SafetensorsFile> shard = SafetensorsFile::Open(dir / "s/model-00001-of-00003.safetensors");
  ASSERT_THAT(shard, IsOk());
  EXPECT_THAT(*shard->metadata(),
              ::testing::ElementsAre(::testing::Pair("author", "me"), ::testing::Pair("format", "pt")));
}

TEST_F(ShardedTest, OneShardIsModelSafetensorsWithoutIndex) {
  ScratchDir dir;
  ShardOptions options;
  ASSERT_THAT(WriteShardedSafetensors(dir / "one", Tensors(), std::nullopt, options), IsOk());
  EXPECT_TRUE(fs::exists(dir / "one/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "one/model.safetensors.index.json"));
}

TEST_F(ShardedTest, OpensAsOneCheckpoint) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(out);
  ASSERT_THAT(s, IsOk());
  ASSERT_EQ(s->tensors().size(), 6u);
  EXPECT_EQ(s->shards().size(), 3u);
  EXPECT_EQ(s->total_size(), 600u);
  for (size_t i = 0; i < 6; ++i) {
    const TensorView v = s->tensor(i);
    EXPECT_EQ(v.name, "layers." + std::to_string(i) + ".weight");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.nbytes()), data_[i]);
  }
  EXPECT_TRUE(s->warnings().empty());
  // The index file itself opens the same checkpoint.
  EXPECT_THAT(ShardedSafetensors::Open(out + "/model.safetensors.index.json"), IsOk());
}

struct BrokenIndex {
  const char* name;
  std::string index;
  const char* rule;
};

class ShardedBrokenTest : public ShardedTest, public ::testing::WithParamInterface<BrokenIndex> {};

TEST_P(ShardedBrokenTest, Rejected) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  WriteFile(out + "/model.safetensors.index.json", GetParam().index);
  EXPECT_THAT(ShardedSafetensors::Open(out), HasRule(GetParam().rule));
}

std::string Index(const std::string& weight_map, const std::string& metadata = R"({"total_size":600})") {
  return R"({"metadata":)" + metadata + R"(,"weight_map":{)" + weight_map + "}}";
}
const std::string kS1 = "model-00001-of-00003.safetensors";
const std::string kS2 = "model-00002-of-00003.safetensors";
const std::string kS3 = "model-00003-of-00003.safetensors";
std::string Entry(int i, const std::string& shard) {
  return "\"layers." + std::to_string(i) + ".weight\":\"" + shard + "\"";
}
std::string AllButLast() {
  return Entry(0, kS1) + "," + Entry(1, kS1) + "," + Entry(2, kS2) + "," + Entry(3, kS2) + "," + Entry(4, kS3);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ShardedBrokenTest,
    ::testing::Values(
        BrokenIndex{"not_json", "{", "safetensors.index.json"},
        BrokenIndex{"not_object", "[]", "safetensors.index.json"},
        BrokenIndex{"no_weight_map", R"({"metadata":{}})", "safetensors.index.weight_map"},
        BrokenIndex{"value_not_string", Index(AllButLast() + R"(,"layers.5.weight":5)"),
                    "safetensors.index.weight_map"},
        BrokenIndex{"dotdot", Index(AllButLast() + R"(,"layers.5.weight":"../model-00003-of-00003.safetensors")"),
                    "safetensors.index.path"},
        BrokenIndex{"absolute", Index(AllButLast() + R"(,"layers.5.weight":"/etc/passwd")"),
                    "safetensors.index.path"},
        BrokenIndex{"backslash_dotdot", Index(AllButLast() + R"(,"layers.5.weight":"x\\..\\..\\y")"),
                    "safetensors.index.path"},
        BrokenIndex{"drive", Index(AllButLast() + R"(,"layers.5.weight":"C:x.safetensors")"),
                    "safetensors.index.path"},
        BrokenIndex{"missing_shard", Index(AllButLast() + R"(,"layers.5.weight":"model-00009-of-00009.safetensors")"),
                    "safetensors.index.missing_shard"},
        BrokenIndex{"unlisted_tensor", Index(AllButLast()), "safetensors.index.unlisted_tensor"},
        BrokenIndex{"wrong_shard", Index(AllButLast() + "," + Entry(5, kS1)), "safetensors.index.wrong_shard"},
        BrokenIndex{"missing_tensor", Index(AllButLast() + "," + Entry(5, kS3) + "," + Entry(9, kS3)),
                    "safetensors.index.missing_tensor"},
        BrokenIndex{"not_safetensors_extension", Index(AllButLast() + R"(,"layers.5.weight":"model.bin")"),
                    "safetensors.index.path"},
        BrokenIndex{"listed_twice_differently", Index(AllButLast() + "," + Entry(5, kS3) + "," + Entry(5, kS1)),
                    "safetensors.index.weight_map"},
        BrokenIndex{"deep_nesting", R"({"weight_map":{},"x":)" + std::string(100000, '['), "safetensors.index.json"},
        BrokenIndex{"invalid_utf8", "{\"weight_map\":{\"\xff\":\"a.safetensors\"}}", "safetensors.index.json"},
        BrokenIndex{"trailing_garbage", Index(AllButLast() + "," + Entry(5, kS3)) + "x", "safetensors.index.json"}),
    [](const ::testing::TestParamInfo<BrokenIndex>& info) { return std::string(info.param.name); });

TEST_F(ShardedTest, TensorInTwoShardsIsRejected) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  // Rewrite shard 2 so it also holds layers.0.weight.
  std::vector<TensorToWrite> t = Tensors();
  std::vector<TensorToWrite> shard2 = {t[0], t[2], t[3]};
  ASSERT_THAT(WriteSafetensors(out + "/" + kS2, shard2, std::nullopt), IsOk());
  EXPECT_THAT(ShardedSafetensors::Open(out), HasRule("safetensors.index.duplicate_tensor"));
}

TEST_F(ShardedTest, BrokenShardErrorNamesTheShard) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  std::string bytes = ReadFile(out + "/" + kS3);
  bytes.pop_back();
  WriteFile(out + "/" + kS3, bytes);
  absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(out);
  ASSERT_THAT(s, HasRule("safetensors.data.coverage"));
  EXPECT_EQ(ErrorFile(s.status()), out + "/" + kS3);
}

TEST_F(ShardedTest, OddTotalSizeIsAWarning) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  WriteFile(out + "/model.safetensors.index.json",
            Index(AllButLast() + "," + Entry(5, kS3), R"({"total_size":-1,"other":[{"x":1}]})"));
  absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(out);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->total_size(), std::nullopt);
  ASSERT_EQ(s->warnings().size(), 1u);
  EXPECT_THAT(s->warnings()[0], ::testing::HasSubstr("not a non-negative integer"));
}

TEST_F(ShardedTest, EmptyShardIsInvalidNotUnrecognized) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  WriteFile(out + "/" + kS2, "");
  absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(out);
  ASSERT_THAT(s, HasRule("file.empty"));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ShardedTest, TotalSizeMismatchIsAWarning) {
  ScratchDir dir;
  const std::string out = WriteShards(dir);
  std::string index = ReadFile(out + "/model.safetensors.index.json");
  index.replace(index.find("600"), 3, "601");
  WriteFile(out + "/model.safetensors.index.json", index);
  absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(out);
  ASSERT_THAT(s, IsOk());
  ASSERT_EQ(s->warnings().size(), 1u);
  EXPECT_THAT(s->warnings()[0], ::testing::HasSubstr("total_size is 601"));
}

TEST(ShardedDirectory, WithoutIndex) {
  ScratchDir dir;
  EXPECT_THAT(ShardedSafetensors::Open(dir.path().string()), HasRule("safetensors.index.missing"));
  WriteFile(dir / "a.safetensors.index.json", "{}");
  WriteFile(dir / "b.safetensors.index.fp16.json", "{}");
  EXPECT_THAT(ShardedSafetensors::Open(dir.path().string()), HasRule("safetensors.index.ambiguous"));
}

}  // namespace
}  // namespace ckpt
