// Runs every file of tests/data/<format>/ through the reader; the file name
// carries the verdict (y_ valid, i_ valid by default but not --strict, n_RULE
// invalid with that rule, '.' written as '-').
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "ckpt/checkpoint.h"
#include "tests/status_matchers.h"

namespace ckpt {
namespace {

using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(CKPT_TEST_DATA_DIR "/safetensors")) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Corpus, IsNotEmpty) { EXPECT_GE(CorpusFiles().size(), 10u); }

class CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, VerdictMatchesName) {
  const std::string path = GetParam();
  const std::string name = std::filesystem::path(path).stem().string();
  OpenOptions strict;
  strict.strict = true;
  const absl::StatusOr<Checkpoint> def = Checkpoint::Open(path);
  const absl::StatusOr<Checkpoint> st = Checkpoint::Open(path, strict);
  if (name.starts_with("y_")) {
    EXPECT_THAT(def, IsOk());
    EXPECT_THAT(st, IsOk());
  } else if (name.starts_with("i_")) {
    EXPECT_THAT(def, IsOk());
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(ErrorRule(st.status()).starts_with("safetensors.strict.")) << st.status().message();
  } else {
    ASSERT_TRUE(name.starts_with("n_")) << "corpus file names start with y_, i_ or n_: " << name;
    std::string rule = name.substr(2);
    std::replace(rule.begin(), rule.end(), '-', '.');
    EXPECT_THAT(def, HasRule(rule));
    EXPECT_THAT(st, HasRule(rule));
  }
}

INSTANTIATE_TEST_SUITE_P(Safetensors, CorpusTest, ::testing::ValuesIn(CorpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace ckpt
