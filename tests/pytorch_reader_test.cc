// PyTorch and NumPy files read without pickle: every fixture made by
// tests/fixtures/make_pytorch_fixtures.py (real torch.save / numpy output)
// must give exactly the tensors torch gave when the fixture was made.
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "ckpt/checkpoint.h"
#include "ckpt/numpy.h"
#include "ckpt/pytorch.h"
#include "ckpt/status.h"
#include "ckpt/zip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using namespace std::string_literals;

const std::string kDir = std::string(CKPT_TEST_DATA_DIR) + "/pytorch/";

nlohmann::json Expected() {
  std::ifstream f(kDir + "expected.json");
  return nlohmann::json::parse(f)["files"];
}

std::string Hex(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

class FixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureTest, TensorsEqualTorch) {
  nlohmann::json e;
  for (const auto& x : Expected()) {
    if (x["file"] == GetParam()) e = x;
  }
  ASSERT_FALSE(e.is_null());
  const std::string path = std::string(CKPT_TEST_DATA_DIR) + "/" + GetParam();
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(path);
  if (e.contains("error_rule") && !e["error_rule"].is_null()) {
    EXPECT_THAT(c.status(), HasRule(e["error_rule"].get<std::string>())) << path;
    return;
  }
  ASSERT_THAT(c.status(), IsOk()) << path;
  const auto& want = e["tensors"];
  ASSERT_EQ(c->tensors().size(), want.size()) << path;
  for (size_t i = 0; i < want.size(); ++i) {
    // Order: as the saved object lists them.
    const TensorView& t = c->tensors()[i];
    SCOPED_TRACE(want[i]["name"].get<std::string>());
    EXPECT_EQ(std::string(t.name), want[i]["name"].get<std::string>());
    EXPECT_EQ(std::string(DTypeName(t.dtype)), want[i]["dtype"].get<std::string>());
    std::vector<uint64_t> shape(t.shape.begin(), t.shape.end());
    EXPECT_EQ(shape, want[i]["shape"].get<std::vector<uint64_t>>());
    EXPECT_EQ(Hex(t.data), want[i]["hex"].get<std::string>());
  }
}

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& x : Expected()) names.push_back(x["file"].get<std::string>());
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, FixtureTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// ---- hand-built checkpoints for the rules ------------------------------------

// A minimal torch zip: root/data.pkl (given pickle), root/data/0 (given
// bytes), root/byteorder, all stored, via Python-free bytes.
std::string Le16(uint16_t v) { return std::string{static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string Le32(uint32_t v) { return Le16(v) + Le16(v >> 16); }

struct ZipFile {
  std::string name, data;
};
std::string MakeZip(const std::vector<ZipFile>& files) {
  std::string out, cd;
  for (const ZipFile& f : files) {
    const uint32_t off = out.size();
    const uint32_t c = Crc32(ckpt::testing::AsBytes(f.data));
    out += "PK\x03\x04"s + Le16(20) + Le16(0) + Le16(0) + Le16(0) + Le16(0) + Le32(c) + Le32(f.data.size()) +
           Le32(f.data.size()) + Le16(f.name.size()) + Le16(0) + f.name + f.data;
    cd += "PK\x01\x02"s + Le16(20) + Le16(20) + Le16(0) + Le16(0) + Le16(0) + Le16(0) + Le32(c) +
          Le32(f.data.size()) + Le32(f.data.size()) + Le16(f.name.size()) + Le16(0) + Le16(0) + Le16(0) + Le16(0) +
          Le32(0) + Le32(off) + f.name;
  }
  const uint32_t cd_off = out.size();
  out += cd + "PK\x05\x06"s + Le16(0) + Le16(0) + Le16(files.size()) + Le16(files.size()) + Le32(cd.size()) +
         Le32(cd_off) + Le16(0);
  return out;
}

// protocol-2 pickle of {'w': _rebuild_tensor_v2(('storage', FloatStorage,
// '0', 'cpu', NUMEL), OFFSET, (SIZE,), (STRIDE,), False, OrderedDict())}
// with the global in the REDUCE replaced by `global` when given.
std::string TensorPickle(int numel, int offset, int size, int stride,
                         const std::string& global = "torch._utils\n_rebuild_tensor_v2\n") {
  std::string p = "\x80\x02}X\x01\x00\x00\x00w"s;
  p += "c" + global;
  p += "((X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n" "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "K"s;
  p += static_cast<char>(numel);
  p += "tQK";
  p += static_cast<char>(offset);
  p += "K";
  p += static_cast<char>(size);
  p += "\x85K";
  p += static_cast<char>(stride);
  p += "\x85\x89" "ccollections\nOrderedDict\n)R";
  p += "tRs.";
  return p;
}

std::string Floats(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    float f = static_cast<float>(i);
    s.append(reinterpret_cast<const char*>(&f), 4);
  }
  return s;
}

TEST(PyTorchReader, ReadsHandBuiltZipAndStridedView) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 1, 3, 2)},
                                          {"m/byteorder", "little"},
                                          {"m/data/0", Floats(8)}}));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(path);
  ASSERT_THAT(c.status(), IsOk());
  ASSERT_EQ(c->tensors().size(), 1u);
  EXPECT_EQ(c->format(), "pytorch");
  // elements 1, 3, 5 of 0..7
  std::vector<float> got(3);
  ASSERT_EQ(c->tensors()[0].data.size(), 12u);
  std::memcpy(got.data(), c->tensors()[0].data.data(), 12);
  EXPECT_EQ(got, (std::vector<float>{1, 3, 5}));
}

TEST(PyTorchReader, RejectsViewPastStorage) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 4, 3, 2)}, {"m/data/0", Floats(8)}}));
  EXPECT_THAT(Checkpoint::Open(path).status(), HasRule("pytorch.view"));
}

TEST(PyTorchReader, RejectsStorageSmallerThanDeclared) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 0, 2, 1)}, {"m/data/0", Floats(7)}}));
  EXPECT_THAT(Checkpoint::Open(path).status(), HasRule("pytorch.storage"));
}

TEST(PyTorchReader, RefusesGlobalOffTheAllowlistWithOffset) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 0, 2, 1, "os\nsystem\n")},
                                          {"m/data/0", Floats(8)}}));
  absl::StatusOr<Checkpoint> c = Checkpoint::Open(path);
  EXPECT_THAT(c.status(), HasRule("pytorch.global"));
  EXPECT_NE(std::string(c.status().message()).find("os.system"), std::string::npos);
  // The GLOBAL opcode is at pickle offset 9, inside the zip after the
  // 30-byte local header and the 10-byte name.
  EXPECT_EQ(ErrorOffset(c.status()), std::optional<uint64_t>(30 + 10 + 9));
}

TEST(PyTorchReader, MissingStorageEntry) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 0, 2, 1)}}));
  EXPECT_THAT(Checkpoint::Open(path).status(), HasRule("pytorch.storage"));
}

TEST(PyTorchReader, DuplicateEntriesRefused) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 0, 2, 1)},
                                          {"m/data.pkl", TensorPickle(8, 0, 2, 1)},
                                          {"m/data/0", Floats(8)}}));
  EXPECT_THAT(Checkpoint::Open(path).status(), HasRule("pytorch.zip"));
}

TEST(PyTorchReader, TorchScriptRefused) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "m.pt";
  ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", TensorPickle(8, 0, 2, 1)},
                                          {"m/code/__torch__.py", "def f(): pass\n"},
                                          {"m/data/0", Floats(8)}}));
  EXPECT_THAT(Checkpoint::Open(path).status(), HasRule("pytorch.torchscript"));
}

TEST(PyTorchReader, EveryPrefixOfAPickleFailsCleanly) {
  const std::string pkl = TensorPickle(8, 0, 2, 1);
  for (size_t n = 0; n < pkl.size(); ++n) {
    ckpt::testing::ScratchDir dir;
    const std::string path = dir / "m.pt";
    ckpt::testing::WriteFile(path, MakeZip({{"m/data.pkl", pkl.substr(0, n)}, {"m/data/0", Floats(8)}}));
    absl::StatusOr<Checkpoint> c = Checkpoint::Open(path);
    EXPECT_FALSE(c.ok()) << n;
  }
}

// Reproducers of the internal review (tests/data/scan/review/README.md,
// generators in tests/fixtures/review/):
// each is something torch refuses or loads differently.
TEST(PyTorchReader, ReviewReproducers) {
  const std::string dir = std::string(CKPT_TEST_DATA_DIR) + "/pytorch/review/";
  const std::pair<const char*, const char*> cases[] = {
      {"build_set_tensor.pt", "pytorch.structure"},        // BUILD on a tensor: torch loads other weights
      {"zip_case_lower_first.pt", "pytorch.zip"},          // names differing in case: torch reads another
      {"numel_smaller_than_record.pt", "pytorch.storage"}, // record larger than numel: torch refuses
      {"legacy_bad_magic_value.pt", "pytorch.container"},  // magic pickle returns another value
      {"legacy_view_key_is_root.pt", "pytorch.storage"},   // legacy storage views: torch's cache decides
  };
  for (const auto& [file, rule] : cases) {
    EXPECT_THAT(Checkpoint::Open(dir + file).status(), HasRule(rule)) << file;
  }
}

TEST(NumpyReader, HeaderGrammar) {
  auto npy = [](std::string dict) {
    std::string h = "\x93NUMPY\x01\x00"s;
    dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
    dict += "\n";
    return h + Le16(dict.size()) + dict;
  };
  EXPECT_THAT(ParseNpyHeader(ckpt::testing::AsBytes(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")))
                  .status(),
              IsOk());
  EXPECT_THAT(ParseNpyHeader(ckpt::testing::AsBytes(npy("{'descr': '<f4', 'shape': (2, 3), }"))).status(),
              HasRule("numpy.header"));
  EXPECT_THAT(ParseNpyHeader(ckpt::testing::AsBytes(npy("{'descr': '<f4', 'fortran_order': 1, 'shape': (2,)}")))
                  .status(),
              HasRule("numpy.header"));
  EXPECT_THAT(ParseNpyHeader(ckpt::testing::AsBytes(
                                 npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}")))
                  .status(),
              HasRule("numpy.header"));
  EXPECT_THAT(ParseNpyHeader(ckpt::testing::AsBytes(
                                 npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '__import__': 1}")))
                  .status(),
              HasRule("numpy.header"));
  absl::StatusOr<NpyHeader> h =
      ParseNpyHeader(ckpt::testing::AsBytes(npy("{'descr': '>i8', 'fortran_order': True, 'shape': (4, 5, 6), }")));
  ASSERT_THAT(h.status(), IsOk());
  EXPECT_EQ(h->descr, ">i8");
  EXPECT_TRUE(h->fortran_order);
  EXPECT_EQ(h->shape, (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(h->data_offset % 64, 0u);
}

}  // namespace
}  // namespace ckpt
