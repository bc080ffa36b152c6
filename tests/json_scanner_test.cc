// The JSON scanner's accept set is serde_json's (see lib/json_scanner.h).
#include "lib/json_scanner.h"

#include <gtest/gtest.h>

namespace ckpt::json {
namespace {

bool Accepts(std::string_view text) {
  Scanner s(text);
  return s.SkipValue(0) && s.AtEnd();
}

TEST(JsonScanner, Grammar) {
  for (const char* ok : {"{}", "[]", " [1, 2.5e-3, -0, 0.0, 1E+2, true, false, null, \"x\"] ", "{\"a\":{\"b\":[]}}",
                         "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"", "18446744073709551616", "1e308", "0e99999"}) {
    EXPECT_TRUE(Accepts(ok)) << ok;
  }
  for (const char* bad : {"", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "+1", ".5", "1.", "1e", "-",
                          "tru", "nul", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"",
                          "1e309", "-1e400", "[1 2]", "{\"a\" 1}", "{} {}", "\xef\xbb\xbf{}", "\"\\u12\""}) {
    EXPECT_FALSE(Accepts(bad)) << bad;
  }
}

TEST(JsonScanner, DepthLimitIs127) {
  EXPECT_TRUE(Accepts(std::string(127, '[') + std::string(127, ']')));
  EXPECT_FALSE(Accepts(std::string(128, '[') + std::string(128, ']')));
  // Deeply nested hostile input fails fast, without recursing further.
  EXPECT_FALSE(Accepts(std::string(1'000'000, '[')));
}

TEST(JsonScanner, StringsAreViewsUnlessEscaped) {
  const std::string text = R"("plain" "esc\"aped")";
  Scanner s(text);
  std::string_view v;
  std::string storage;
  bool escaped = true;
  ASSERT_TRUE(s.ReadString(&v, &storage, &escaped));
  EXPECT_EQ(v, "plain");
  EXPECT_FALSE(escaped);
  EXPECT_EQ(v.data(), text.data() + 1);
  ASSERT_TRUE(s.ReadString(&v, &storage, &escaped));
  EXPECT_EQ(v, "esc\"aped");
  EXPECT_TRUE(escaped);
}

TEST(JsonScanner, NumbersReportU64) {
  Scanner s("18446744073709551615 18446744073709551616 -0 7.0");
  bool is_u64;
  uint64_t u;
  std::string_view raw;
  ASSERT_TRUE(s.ReadNumber(&is_u64, &u, &raw));
  EXPECT_TRUE(is_u64);
  EXPECT_EQ(u, ~uint64_t{0});
  for (const char* r : {"18446744073709551616", "-0", "7.0"}) {
    ASSERT_TRUE(s.ReadNumber(&is_u64, &u, &raw));
    EXPECT_FALSE(is_u64) << r;
    EXPECT_EQ(raw, r);
  }
}

TEST(JsonScanner, ErrorPositions) {
  Scanner s("[1, x]");
  EXPECT_FALSE(s.SkipValue(0));
  EXPECT_EQ(s.error_pos(), 4u);
  EXPECT_EQ(s.error(), "expected value");
}

}  // namespace
}  // namespace ckpt::json
