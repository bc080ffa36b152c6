// The scanner against the fixture set made by
// tests/fixtures/make_scan_fixtures.py: every malicious file (one per
// technique and public advisory) must be reported with its rule, every benign
// file must be safe. Plus hand-built cases for the differentials.
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "ckpt/scan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

namespace ckpt {
namespace {

const std::string kDir = std::string(CKPT_TEST_DATA_DIR) + "/scan/";

nlohmann::json Manifest() {
  // A missing or broken manifest yields one entry that fails (never zero
  // tests that pass).
  nlohmann::json all = nlohmann::json::array();
  for (const char* name : {"manifest.json", "review/manifest.json"}) {
    std::ifstream f(kDir + name);
    nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_array()) return nlohmann::json::array({{{"file", std::string(name) + " is missing"}}});
    for (auto& e : j) all.push_back(std::move(e));
  }
  return all;
}

std::string Describe(const ScanReport& r) {
  std::string s = std::string(VerdictName(r.verdict)) + " (" + r.format + ")";
  for (const Finding& f : r.findings) {
    s += "\n  " + std::string(SeverityName(f.severity)) + " " + f.rule + " " + f.location + ": " + f.message;
  }
  return s;
}

bool HasFinding(const ScanReport& r, const std::string& rule) {
  for (const Finding& f : r.findings) {
    if (f.rule == rule) return true;
  }
  return false;
}

class ManifestTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ManifestTest, VerdictAndRule) {
  nlohmann::json e;
  for (const auto& x : Manifest()) {
    if (x["file"] == GetParam()) e = x;
  }
  ASSERT_TRUE(e.contains("verdict")) << GetParam();
  const ScanReport r = ScanPath(kDir + GetParam());
  SCOPED_TRACE(Describe(r));
  const std::string want = e["verdict"].get<std::string>();
  // Verdicts the manifest accepts instead (e.g. "error" for a stream ckpt
  // has no decoder for); then any rule in rules or also must be reported.
  bool alternative = false;
  for (const auto& v : e.value("also_accept", nlohmann::json::array())) {
    alternative |= VerdictName(r.verdict) == v.get<std::string>();
  }
  if (want == "safe") {
    EXPECT_EQ(r.verdict, Verdict::kSafe);
    return;
  }
  if (!alternative) {
    if (want == "unsafe") {
      EXPECT_EQ(r.verdict, Verdict::kUnsafe);
    } else {
      EXPECT_NE(r.verdict, Verdict::kSafe);
    }
  }
  nlohmann::json rules = e["rules"];
  if (alternative) {
    for (const auto& a : e.value("also", nlohmann::json::array())) rules.push_back(a);
  }
  bool any = rules.empty();
  for (const auto& rule : rules) any |= HasFinding(r, rule.get<std::string>());
  EXPECT_TRUE(any) << "none of " << rules.dump() << " reported; technique: " << e.value("technique", "");
}

std::vector<std::string> ManifestFiles() {
  std::vector<std::string> names;
  for (const auto& x : Manifest()) names.push_back(x["file"].get<std::string>());
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, ManifestTest, ::testing::ValuesIn(ManifestFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

ScanReport Scan(const std::string& bytes) { return ScanBytes(ckpt::testing::AsBytes(bytes), "mem"); }

TEST(Scan, ProtocolZeroGlobalWithoutProto) {
  // GHSA-9gvj-pp9x-gcfr: text STRING operands at offset 0, no PROTO.
  const ScanReport r = Scan("cos\nsystem\n(S'touch /tmp/ckpt_scan_marker'\ntR.");
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.dangerous_import")) << Describe(r);
}

TEST(Scan, DottedNameThroughAllowlistedModule) {
  // STACK_GLOBAL ("torch", "os.system"): the allowlisted prefix must not hide it.
  std::string p("\x80\x04\x8c\x05torch\x94\x8c\x09os.system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94.", 36);
  const ScanReport r = Scan(p);
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.dangerous_import")) << Describe(r);
}

TEST(Scan, ComputedGlobalNameIsUnsafe) {
  // STACK_GLOBAL(str('o' 's'-like call result), 'system'): the module name is
  // the result of builtins.str(...) — allowlisted itself, but what the
  // STACK_GLOBAL imports is decided only at load time.
  std::string p("\x80\x04\x8c\x08" "builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93\x8c\x04true\x85R.", 42);
  const ScanReport r = Scan(p);
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.dynamic_global")) << Describe(r);
}

TEST(Scan, UnknownGlobalIsUnsafeNotSuspicious) {
  const ScanReport r = Scan("\x80\x02" "cmylib.helpers\nrun\n)R.");
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.unknown_import")) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.unknown_call")) << Describe(r);
}

TEST(Scan, PayloadBeforeCorruptionIsStillUnsafe) {
  // nullifAI: the call runs, then the stream breaks.
  const ScanReport r = Scan(std::string("\x80\x02" "cos\nsystem\nX\x04\x00\x00\x00true\x85R\xff\xff", 26));
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.malformed")) << Describe(r);
}

TEST(Scan, TruncatedBenignPickleIsNeverSafe) {
  const ScanReport r = Scan(std::string("\x80\x02}q\x00(X\x01\x00\x00\x00" "a", 12));
  EXPECT_EQ(r.verdict, Verdict::kError) << Describe(r);
}

TEST(Scan, PlainDataPickleIsSafe) {
  const ScanReport r = Scan(std::string("\x80\x02}q\x00X\x01\x00\x00\x00" "aK\x01s.", 15));
  EXPECT_EQ(r.verdict, Verdict::kSafe) << Describe(r);
}

TEST(Scan, SecondPickleIsScanned) {
  const ScanReport r = Scan(std::string("\x80\x02}.") + std::string("\x80\x02" "cos\nsystem\nX\x01\x00\x00\x00x\x85R.", 22));
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.multiple")) << Describe(r);
}

TEST(Scan, NestedPickleInBytes) {
  const std::string inner("\x80\x02" "cos\nsystem\nX\x01\x00\x00\x00x\x85R.", 22);
  std::string p = "\x80\x03" "cpickle\nloads\nC";
  p += static_cast<char>(inner.size());
  p += inner + "\x85R.";
  const ScanReport r = Scan(p);
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.nested")) << Describe(r);
}

TEST(Scan, SevenZipIsNotSafe) {
  const ScanReport r = Scan(std::string("7z\xbc\xaf\x27\x1c\x00\x04", 8) + std::string(100, 'x'));
  EXPECT_NE(r.verdict, Verdict::kSafe);
  EXPECT_TRUE(HasFinding(r, "scan.archive.unscannable")) << Describe(r);
}

std::string Unhex(std::string_view hex) { return absl::HexStringToBytes(absl::string_view(hex.data(), hex.size())); }

TEST(Scan, LzmaAlonePickle) {
  // joblib's "lzma" compressor: an LZMA_alone stream of os.system(...).
  const ScanReport r = Scan(Unhex(
      "5d00008000ffffffffffffffff0040008803bc30bd34de2f5e26d069fb3617fd87458b5573345395fcfa71ffffdd470000"));
  EXPECT_EQ(r.format, "lzma");
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.dangerous_import")) << Describe(r);
}

TEST(Scan, TruncatedGzipKeepsWhatItYields) {
  // The gzip trailer (CRC, size) is cut off: the pickle inside still decodes.
  const ScanReport r = Scan(Unhex("1f8b08000000000002036b604ace2fe62aae2c2e49cde58a6061606028292a4d6d0dd20300eb09"));
  EXPECT_EQ(r.verdict, Verdict::kUnsafe) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.archive.malformed")) << Describe(r);
  EXPECT_TRUE(HasFinding(r, "scan.pickle.dangerous_import")) << Describe(r);
}

TEST(Scan, TextIsSafe) {
  EXPECT_EQ(Scan("# README\nA model.\n").verdict, Verdict::kSafe);
}

}  // namespace
}  // namespace ckpt
