#include "ckpt/status.h"

#include <gtest/gtest.h>

#include "ckpt/text.h"

namespace ckpt {
namespace {

TEST(Status, RendersFieldsInOneWay) {
  absl::Status s = Error("gguf.tensor.offset", "data offset 4096, expected 2048").At(1032).Tensor("blk.0.w");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "offset 1032: tensor 'blk.0.w': data offset 4096, expected 2048 [gguf.tensor.offset]");
  s = WithFile(s, "model.gguf");
  EXPECT_EQ(s.message(),
            "model.gguf: offset 1032: tensor 'blk.0.w': data offset 4096, expected 2048 [gguf.tensor.offset]");
  EXPECT_EQ(ErrorRule(s), "gguf.tensor.offset");
  EXPECT_EQ(ErrorOffset(s), 1032u);
  EXPECT_EQ(ErrorTensor(s), "blk.0.w");
  EXPECT_EQ(ErrorFile(s), "model.gguf");
  EXPECT_EQ(ErrorDetail(s), "data offset 4096, expected 2048");
  // A file is set once: the innermost (most specific) one wins.
  EXPECT_EQ(ErrorFile(WithFile(s, "other")), "model.gguf");
  EXPECT_TRUE(WithFile(absl::OkStatus(), "x").ok());
}

TEST(Status, TensorNamesAreEscapedInMessages) {
  absl::Status s = Error("r", "bad").Tensor(std::string("a\0b\n\x1b[31m", 9));
  EXPECT_EQ(s.message(), "tensor 'a\\x00b\\n\\x1b[31m': bad [r]");
  EXPECT_EQ(ErrorTensor(s), std::string("a\0b\n\x1b[31m", 9));  // the field keeps the raw bytes
}

TEST(Status, MacrosPropagate) {
  const auto fail = []() -> absl::StatusOr<int> { return Error("x.y", "no"); };
  const auto ok = []() -> absl::StatusOr<int> { return 7; };
  const auto use = [&](bool good) -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(int v, good ? ok() : fail());
    CKPT_RETURN_IF_ERROR(v == 7 ? absl::OkStatus() : absl::InternalError("v"));
    return absl::OkStatus();
  };
  EXPECT_TRUE(use(true).ok());
  EXPECT_EQ(ErrorRule(use(false)), "x.y");
}

TEST(Status, AnnotateKeepsFields) {
  absl::Status s = Annotate(Error("r.s", "detail").At(5).File("f"), "shard 2: ");
  EXPECT_EQ(s.message(), "f: offset 5: shard 2: detail [r.s]");
  EXPECT_EQ(ErrorRule(s), "r.s");
}

TEST(Text, DisplayEscapesBidiAndC1Controls) {
  EXPECT_EQ(EscapeForDisplay("a\xe2\x80\xae" "b\xc2\x85" "c\xc3\xa9"), "a\\u{202e}b\\u{0085}c\xc3\xa9");
  EXPECT_EQ(EscapeForDisplay("\xff\x01'"), "\\xff\\x01\\'");
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii and more than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_EQ(FirstInvalidUtf8("abcdefghij\xff"), 10u);
  EXPECT_EQ(FirstInvalidUtf8("\xc0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(FirstInvalidUtf8("a\xed\xa0\x80"), 1u);     // surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xe2\x82"), 0u);          // truncated
}

TEST(Text, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.50 KiB");
  EXPECT_EQ(HumanBytes(300 * 1024), "300 KiB");
  EXPECT_EQ(HumanBytes(uint64_t{5} << 30), "5.00 GiB");
}

}  // namespace
}  // namespace ckpt
