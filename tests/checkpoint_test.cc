// Checkpoint::Open dispatches on content, never on the file name.
#include "ckpt/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ckpt/safetensors_sharded.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::SafetensorsBytes;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;
using ::testing::HasSubstr;

const std::string kFile = SafetensorsBytes(
    R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}})", "abcdefgh");

TEST(Checkpoint, SafetensorsWhateverTheName) {
  ScratchDir dir;
  WriteFile(dir / "weights.bin", kFile);
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "weights.bin");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->format(), "safetensors");
  ASSERT_EQ(c->tensors().size(), 1u);
  EXPECT_EQ(c->tensors()[0].name, "w");
  EXPECT_EQ(c->tensors()[0].offset, c->details()["data_offset"].get<uint64_t>());
  EXPECT_EQ(c->metadata()["format"], "pt");
  EXPECT_EQ(c->tensor_file(0), dir / "weights.bin");
}

TEST(Checkpoint, SaysWhatUnknownContentLooksLike) {
  ScratchDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {std::string("\x80\x02}q\x00(X\x05\x00\x00\x00", 12), "pickle (protocol 2)"},
      {"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS pointer"},
      {"<!DOCTYPE html><html></html>", "HTML"},
      {"abc", "too short (3 bytes)"},
      {std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08", 9), "first bytes 00 01 02 03 04 05 06 07"},
  };
  for (const auto& [bytes, phrase] : cases) {
    WriteFile(dir / "model.safetensors", bytes);
    absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "model.safetensors");
    EXPECT_THAT(c, HasRule("format.unrecognized")) << phrase;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(phrase));
  }
}

TEST(Checkpoint, ZipIsOpenedAsPyTorchAndABrokenOneIsInvalid) {
  // A zip signature makes it a PyTorch checkpoint candidate; without an end
  // record it is a broken one (exit 1), not unrecognised.
  ScratchDir dir;
  WriteFile(dir / "model.safetensors", std::string("PK\x03\x04\x00\x00\x00\x00\x00\x00", 10));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "model.safetensors");
  EXPECT_THAT(c, HasRule("zip.eocd_missing"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Checkpoint, GgufIsDetectedByMagicWhateverTheName) {
  ScratchDir dir;
  // Truncated after the version: a GGUF, broken (exit 1), not unrecognised.
  WriteFile(dir / "model.safetensors", std::string("GGUF\x03\x00\x00\x00\x00\x00\x00\x00", 12));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "model.safetensors");
  EXPECT_THAT(c, HasRule("gguf.truncated"));
  EXPECT_EQ(ErrorOffset(c.status()), 8u);
}

TEST(Checkpoint, BrokenSafetensorsIsInvalidNotUnrecognized) {
  ScratchDir dir;
  WriteFile(dir / "x", kFile.substr(0, kFile.size() - 1));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "x");
  EXPECT_THAT(c, HasRule("safetensors.data.coverage"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Checkpoint, Directories) {
  ScratchDir dir;
  EXPECT_THAT(Checkpoint::Open(dir.path().string()), HasRule("format.unrecognized"));
  // A single model file and no index: that file.
  WriteFile(dir / "model.safetensors", kFile);
  absl::StatusOr<Checkpoint> one = Checkpoint::Open(dir.path().string());
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->tensors().size(), 1u);
  // Shards with an index: one checkpoint, through the directory or the index.
  std::string data(40, 'z');
  std::vector<TensorToWrite> tensors;
  for (int i = 0; i < 4; ++i) {
    TensorToWrite t;
    t.name = "t" + std::to_string(i);
    t.dtype = t.source_dtype = DType::kU8;
    t.shape = {10};
    t.data = AsBytes(data).subspan(10 * i, 10);
    tensors.push_back(t);
  }
  ShardOptions options;
  options.max_shard_bytes = 20;
  ASSERT_THAT(WriteShardedSafetensors(dir / "sharded", tensors, std::nullopt, options), IsOk());
  for (const std::string& path : {dir / "sharded", dir / "sharded/model.safetensors.index.json"}) {
    absl::StatusOr<Checkpoint> c = Checkpoint::Open(path);
    ASSERT_THAT(c, IsOk()) << path;
    EXPECT_EQ(c->tensors().size(), 4u);
    EXPECT_EQ(c->files().size(), 2u);
    EXPECT_EQ(c->tensor_file(3), dir / "sharded/model-00002-of-00002.safetensors");
    EXPECT_EQ(c->metadata()["format"], "pt");
  }
}

TEST(Checkpoint, FrontPaddedHeaderIsSafetensors) {
  // Writers may pad the front of the header (to page-align the data); any
  // amount of JSON whitespace before the object is fine for the reference.
  ScratchDir dir;
  WriteFile(dir / "padded",
            SafetensorsBytes(std::string(5000, ' ') + R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"));
  EXPECT_THAT(Checkpoint::Open(dir / "padded"), IsOk());
}

TEST(Checkpoint, ManyMetadataKeysOpenInLinearTime) {
  ScratchDir dir;
  std::string md;
  for (int i = 0; i < 200000; ++i) md += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  WriteFile(dir / "md", SafetensorsBytes("{\"__metadata__\":{" + md + "}}"));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(dir / "md");  // was quadratic: minutes
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->metadata().size(), 200000u);
  EXPECT_EQ(c->metadata()["k199999"], "v");
}

TEST(Checkpoint, StrictIsPassedThrough) {
  ScratchDir dir;
  WriteFile(dir / "dup", SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                                          "x"));
  EXPECT_THAT(Checkpoint::Open(dir / "dup"), IsOk());
  OpenOptions strict;
  strict.strict = true;
  EXPECT_THAT(Checkpoint::Open(dir / "dup", strict), HasRule("safetensors.strict.duplicate_name"));
}

}  // namespace
}  // namespace ckpt
