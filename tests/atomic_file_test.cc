#include "ckpt/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;

int CountFiles(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(AtomicOutputFile, CommitReplacesTarget) {
  ScratchDir dir;
  WriteFile(dir / "t", "old");
  absl::StatusOr<std::unique_ptr<AtomicOutputFile>> f = AtomicOutputFile::Create(dir / "t");
  ASSERT_THAT(f, IsOk());
  ASSERT_THAT((*f)->Write(std::string(5 << 20, 'n')), IsOk());  // larger than the buffer
  ASSERT_THAT((*f)->Write("tail"), IsOk());
  EXPECT_EQ(ReadFile(dir / "t"), "old");  // untouched until commit
  EXPECT_EQ(CountFiles(dir.path()), 2);
  ASSERT_THAT((*f)->Commit(), IsOk());
  EXPECT_EQ(ReadFile(dir / "t"), std::string(5 << 20, 'n') + "tail");
  EXPECT_EQ((*f)->bytes_written(), (5u << 20) + 4);
  EXPECT_EQ(CountFiles(dir.path()), 1);
}

TEST(AtomicOutputFile, CopyFromFileAppendsTheRangeInOrder) {
  ScratchDir dir;
  std::string src(3 << 20, '\0');
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>(i * 7 + i / 4096);
  WriteFile(dir / "src", src);
  absl::StatusOr<std::unique_ptr<AtomicOutputFile>> f = AtomicOutputFile::Create(dir / "t");
  ASSERT_THAT(f, IsOk());
  ASSERT_THAT((*f)->Write("head"), IsOk());  // buffered bytes go first
  ASSERT_THAT((*f)->CopyFromFile((dir / "src"), 12345, 2 << 20), IsOk());
  ASSERT_THAT((*f)->Write("tail"), IsOk());
  ASSERT_THAT((*f)->Commit(), IsOk());
  EXPECT_TRUE(ReadFile(dir / "t") == "head" + src.substr(12345, 2 << 20) + "tail");
  absl::StatusOr<std::unique_ptr<AtomicOutputFile>> g = AtomicOutputFile::Create(dir / "u");
  ASSERT_THAT(g, IsOk());
  EXPECT_THAT((*g)->CopyFromFile((dir / "src"), (3 << 20) - 10, 11), HasRule("file.truncated"));
  EXPECT_THAT((*g)->CopyFromFile((dir / "missing"), 0, 1), HasRule("file.unreadable"));
}

TEST(AtomicOutputFile, AbandonedWriteRemovesTemporary) {
  ScratchDir dir;
  WriteFile(dir / "t", "old");
  {
    absl::StatusOr<std::unique_ptr<AtomicOutputFile>> f = AtomicOutputFile::Create(dir / "t");
    ASSERT_THAT(f, IsOk());
    ASSERT_THAT((*f)->Write("partial"), IsOk());
  }
  EXPECT_EQ(ReadFile(dir / "t"), "old");
  EXPECT_EQ(CountFiles(dir.path()), 1);
}

TEST(AtomicOutputFile, Errors) {
  ScratchDir dir;
  EXPECT_THAT(AtomicOutputFile::Create(dir / "no/such/dir/t"), HasRule("file.create"));
  absl::StatusOr<std::unique_ptr<AtomicOutputFile>> d = AtomicOutputFile::Create(dir.path().string());
  EXPECT_THAT(d, HasRule("file.create"));
  EXPECT_NE(d.status().code(), absl::StatusCode::kInvalidArgument);  // not "bad input" (exit 1)
}

TEST(AtomicOutputFileDeathTest, InterruptRemovesTemporary) {
  ScratchDir dir;
  const std::string target = dir / "t";
  EXPECT_EXIT(
      {
        InstallOutputCleanupOnSignal();
        absl::StatusOr<std::unique_ptr<AtomicOutputFile>> f = AtomicOutputFile::Create(target);
        if (!f.ok()) _exit(99);
        (void)(*f)->Write("partial");
        raise(SIGINT);
        _exit(98);
      },
      ::testing::ExitedWithCode(128 + SIGINT), "");
  EXPECT_EQ(CountFiles(dir.path()), 0);
}

}  // namespace
}  // namespace ckpt
