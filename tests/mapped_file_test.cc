#include "ckpt/mapped_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "ckpt/atomic_file.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;

TEST(MappedFile, MapsRegularFiles) {
  ScratchDir dir;
  WriteFile(dir / "f", "hello");
  absl::StatusOr<MappedFile> f = MappedFile::Open(dir / "f");
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->bytes().data()), 5), "hello");
  MappedFile copy = *f;  // copies share the mapping
  EXPECT_EQ(copy.bytes().data(), f->bytes().data());
  EXPECT_THAT(f->CheckUnchanged(), IsOk());
}

TEST(MappedFile, ClearErrors) {
  ScratchDir dir;
  WriteFile(dir / "empty", "");
  EXPECT_THAT(MappedFile::Open(dir / "empty"), HasRule("file.empty"));
  EXPECT_THAT(MappedFile::Open(dir / "missing"), HasRule("file.not_found"));
  EXPECT_THAT(MappedFile::Open(dir.path().string()), HasRule("file.not_regular"));
  EXPECT_THAT(MappedFile::Open("/dev/null"), HasRule("file.not_regular"));
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_THAT(MappedFile::Open(dir / "fifo"), HasRule("file.not_regular"));  // and does not block
  absl::StatusOr<MappedFile> m = MappedFile::Open(dir / "missing");
  EXPECT_EQ(ErrorFile(m.status()), dir / "missing");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
}

TEST(MappedFile, NoticesShrinking) {
  ScratchDir dir;
  WriteFile(dir / "f", std::string(10000, 'x'));
  absl::StatusOr<MappedFile> f = MappedFile::Open(dir / "f");
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(truncate((dir / "f").c_str(), 10), 0);
  EXPECT_THAT(f->CheckUnchanged(), HasRule("file.changed"));
}

TEST(MappedFileDeathTest, TouchingTruncatedPagesIsACleanErrorNotACrash) {
  ScratchDir dir;
  const std::string path = dir / "f";
  WriteFile(path, std::string(1 << 20, 'x'));
  EXPECT_EXIT(
      {
        InstallMappedFileSignalHandler();
        absl::StatusOr<MappedFile> f = MappedFile::Open(path);
        if (!f.ok() || truncate(path.c_str(), 0) != 0) _exit(99);
        volatile uint8_t sink = f->bytes()[f->size() - 1];  // SIGBUS here
        (void)sink;
        _exit(98);
      },
      ::testing::ExitedWithCode(2), "changed size while being read");
}

TEST(MappedFileDeathTest, ShrinkingInputRemovesUncommittedOutputs) {
  ScratchDir dir;
  const std::string in = dir / "in", out = dir / "out";
  WriteFile(in, std::string(1 << 20, 'x'));
  EXPECT_EXIT(
      {
        InstallMappedFileSignalHandler();
        absl::StatusOr<MappedFile> f = MappedFile::Open(in);
        absl::StatusOr<std::unique_ptr<AtomicOutputFile>> o = AtomicOutputFile::Create(out);
        if (!f.ok() || !o.ok() || !(*o)->Write("partial").ok() || !(*o)->Finish().ok()) _exit(99);
        if (truncate(in.c_str(), 0) != 0) _exit(99);
        volatile uint8_t sink = f->bytes()[f->size() / 2];  // SIGBUS here
        (void)sink;
        _exit(98);
      },
      ::testing::ExitedWithCode(2), "changed size while being read");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename(), "in");
    ++files;
  }
  EXPECT_EQ(files, 1);  // the temporary for `out` is gone
}

}  // namespace
}  // namespace ckpt
