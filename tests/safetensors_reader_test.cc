// Safetensors reader: one case per rule, each built from bytes with exactly
// one defect, with the rule ckpt reports and the verdict class of the
// reference Rust crate (docs/formats/safetensors.md lists the mapping).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "ckpt/safetensors.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::SafetensorsBytes;

// Eight bytes of F32 data (two elements).
const std::string k8(8, '\x01');
const std::string kOne = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

struct Case {
  const char* name;
  std::string bytes;
  const char* rule;         // "" = valid in default mode
  const char* strict_rule;  // "" = valid in strict mode too; "=" = same as rule
  const char* reference;    // the reference crate's verdict: "OK" or its error variant
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string Hdr(const std::string& body) { return "{" + body + "}"; }
std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string LengthPrefixOnly(uint64_t n, const std::string& rest) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + rest;
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  const auto add = [&](const char* name, std::string bytes, const char* rule, const char* strict_rule,
                       const char* reference) { c.push_back({name, std::move(bytes), rule, strict_rule, reference}); };
  // --- valid files
  add("one_tensor", SafetensorsBytes(Hdr(kOne), k8), "", "", "OK");
  add("empty_header_object", SafetensorsBytes("{}"), "", "", "OK");
  add("scalar_shape", SafetensorsBytes(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", "abcd"), "",
      "", "OK");
  add("empty_name", SafetensorsBytes(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"), "", "",
      "OK");
  add("leading_trailing_ws", SafetensorsBytes(" \t\r\n" + Hdr(kOne) + "  \n", k8), "", "", "OK");
  add("zero_size_tensors",
      SafetensorsBytes(Hdr(R"("z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},)" + kOne), k8), "", "",
      "OK");
  add("zero_size_at_end",
      SafetensorsBytes(Hdr(kOne + R"(,"z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]})"), k8), "", "", "OK");
  add("json_order_irrelevant",
      SafetensorsBytes(R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                       "xy"),
      "", "", "OK");
  add("metadata", SafetensorsBytes(Hdr(R"("__metadata__":{"format":"pt"},)" + kOne), k8), "", "", "OK");
  add("metadata_null", SafetensorsBytes(Hdr(R"("__metadata__":null,)" + kOne), k8), "", "", "OK");
  add("f4_even", SafetensorsBytes(R"({"q":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}})", "abc"), "", "",
      "OK");
  add("f6_multiple_of_4", SafetensorsBytes(R"({"q":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}})", "abc"),
      "", "", "OK");
  add("escaped_name", SafetensorsBytes(R"({"a\"b\u00e9\n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"),
      "", "", "OK");
  add("surrogate_pair_name",
      SafetensorsBytes(R"({"\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"), "", "", "OK");
  add("unaligned_data_section", SafetensorsBytes(Hdr(kOne) + " ", k8, /*pad=*/false), "", "safetensors.strict.data_alignment",
      "OK");
  add("depth_127_in_unknown_field",
      SafetensorsBytes(Hdr(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":)" + Nested(125) + "}"), k8),
      "", "safetensors.strict.unknown_field", "OK");
  add("twenty_digit_dim",  // past the canonical fast path's 19 digits: the general parser decides
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[18446744073709551615,0],"data_offsets":[0,0]}})"), "", "", "OK");
  add("canonical_then_whitespace",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0, 1]}})", "x"), "", "", "OK");
  add("big_float_in_unknown_field",
      SafetensorsBytes(Hdr(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1e300})"), k8), "",
      "safetensors.strict.unknown_field", "OK");
  // --- hazards the reference tolerates (valid by default, rejected by --strict)
  add("nul_in_name", SafetensorsBytes(R"({"a\u0000b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"), "",
      "safetensors.strict.nul_in_name", "OK");
  add("duplicate_name_identical", SafetensorsBytes(Hdr(kOne + "," + kOne), k8), "",
      "safetensors.strict.duplicate_name", "OK");
  add("duplicate_metadata_key",
      SafetensorsBytes(Hdr(R"("__metadata__":{"k":"1","k":"2"},)" + kOne), k8), "",
      "safetensors.strict.duplicate_metadata_key", "OK");
  add("unknown_field", SafetensorsBytes(Hdr(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":[1]})"), k8),
      "", "safetensors.strict.unknown_field", "OK");
  add("entry_as_array", SafetensorsBytes(R"({"a":["F32",[2],[0,8]]})", k8), "",
      "safetensors.strict.entry_not_object", "OK");
  add("dtype_as_map", SafetensorsBytes(R"({"a":{"dtype":{"F32":null},"shape":[2],"data_offsets":[0,8]}})", k8), "",
      "safetensors.strict.dtype_not_string", "OK");
  // --- header length
  add("too_small", std::string("\x01\x00\x00", 3), "safetensors.header.too_small", "=", "HeaderTooSmall");
  add("too_large", LengthPrefixOnly(100'000'001, "{}"), "safetensors.header.too_large", "=", "HeaderTooLarge");
  add("too_large_max_u64", LengthPrefixOnly(~uint64_t{0}, "{}"), "safetensors.header.too_large", "=",
      "HeaderTooLarge");
  add("cap_exact_but_short", LengthPrefixOnly(100'000'000, "{}"), "safetensors.header.length", "=",
      "InvalidHeaderLength");
  add("length_past_eof", LengthPrefixOnly(3, "{}"), "safetensors.header.length", "=", "InvalidHeaderLength");
  add("zero_length", LengthPrefixOnly(0, ""), "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  // --- UTF-8 and JSON
  add("invalid_utf8", SafetensorsBytes("{\"\xff\":1}"), "safetensors.header.utf8", "=", "InvalidHeader");
  add("overlong_utf8", SafetensorsBytes("{\"\xc0\xaf\":1}"), "safetensors.header.utf8", "=", "InvalidHeader");
  add("utf8_surrogate", SafetensorsBytes("{\"\xed\xa0\x80\":1}"), "safetensors.header.utf8", "=", "InvalidHeader");
  add("bom", SafetensorsBytes("\xef\xbb\xbf{}"), "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("trailing_nul", SafetensorsBytes(std::string("{}\0", 3)), "safetensors.json.syntax", "=",
      "InvalidHeaderDeserialization");
  add("trailing_garbage", SafetensorsBytes("{}x"), "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("header_is_array", SafetensorsBytes("[]"), "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("header_is_string", SafetensorsBytes("\"x\""), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("raw_control_in_string", SafetensorsBytes("{\"a\nb\":{}}"), "safetensors.json.syntax", "=",
      "InvalidHeaderDeserialization");
  add("lone_high_surrogate", SafetensorsBytes(R"({"\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"),
      "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("lone_low_surrogate", SafetensorsBytes(R"({"\udc00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"),
      "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("bad_escape", SafetensorsBytes(R"({"\q":1})"), "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("trailing_comma", SafetensorsBytes(Hdr(kOne + ","), k8), "safetensors.json.syntax", "=",
      "InvalidHeaderDeserialization");
  add("depth_128_in_unknown_field",
      SafetensorsBytes(Hdr(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":)" + Nested(126) + "}"), k8),
      "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("number_out_of_range",
      SafetensorsBytes(Hdr(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1e400})"), k8),
      "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  add("leading_zero", SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}})", "x"),
      "safetensors.json.syntax", "=", "InvalidHeaderDeserialization");
  // --- schema
  add("unknown_dtype", SafetensorsBytes(R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", k8),
      "safetensors.json.dtype", "=", "InvalidHeaderDeserialization");
  add("dtype_f128", SafetensorsBytes(R"({"a":{"dtype":"F128","shape":[],"data_offsets":[0,16]}})", k8 + k8),
      "safetensors.json.dtype", "=", "InvalidHeaderDeserialization");
  add("dtype_number", SafetensorsBytes(R"({"a":{"dtype":17,"shape":[2],"data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("dtype_map_not_null", SafetensorsBytes(R"({"a":{"dtype":{"F32":1},"shape":[2],"data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("missing_dtype", SafetensorsBytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", k8), "safetensors.json.schema",
      "=", "InvalidHeaderDeserialization");
  add("missing_offsets", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2]}})", k8), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("duplicate_field", SafetensorsBytes(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("duplicate_metadata_field",
      SafetensorsBytes(Hdr(R"("__metadata__":{},"__metadata__":{},)" + kOne), k8), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("escaped_metadata_field_duplicate",
      SafetensorsBytes(Hdr(R"("__metadata__":{},"\u005f_metadata__":{},)" + kOne), k8), "safetensors.json.schema",
      "=", "InvalidHeaderDeserialization");
  add("metadata_value_number", SafetensorsBytes(Hdr(R"("__metadata__":{"n":1},)" + kOne), k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("metadata_is_string", SafetensorsBytes(Hdr(R"("__metadata__":"pt",)" + kOne), k8), "safetensors.json.schema",
      "=", "InvalidHeaderDeserialization");
  add("entry_is_null", SafetensorsBytes(R"({"a":null})"), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("entry_array_too_short", SafetensorsBytes(R"({"a":["F32",[2]]})", k8), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("entry_array_too_long", SafetensorsBytes(R"({"a":["F32",[2],[0,8],1]})", k8), "safetensors.json.schema", "=",
      "InvalidHeaderDeserialization");
  add("negative_dim", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("negative_zero_dim", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}})"),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("float_dim", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("exponent_offset", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("dim_2_pow_64", SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}})", "x"),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("offsets_three", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("offsets_object", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":{"b":0}}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  add("shape_string", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", k8),
      "safetensors.json.schema", "=", "InvalidHeaderDeserialization");
  // --- offsets, sizes, coverage
  add("first_not_at_zero", SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xy"),
      "safetensors.offsets.contiguous", "=", "InvalidOffset");
  add("overlap",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                       "xyz"),
      "safetensors.offsets.contiguous", "=", "InvalidOffset");
  add("hole",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})",
                       "xyz"),
      "safetensors.offsets.contiguous", "=", "InvalidOffset");
  add("end_before_begin", SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}})"),
      "safetensors.offsets.contiguous", "=", "InvalidOffset");
  add("duplicate_name_differing",
      SafetensorsBytes(Hdr(R"("a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]})"),
                       k8),
      "safetensors.offsets.contiguous", "=", "InvalidOffset");
  add("size_mismatch", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", k8),
      "safetensors.size.mismatch", "=", "TensorInvalidInfo");
  add("f4_odd", SafetensorsBytes(R"({"q":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", "ab"),
      "safetensors.shape.misaligned", "=", "MisalignedSlice");
  add("f6_not_multiple_of_4", SafetensorsBytes(R"({"q":{"dtype":"F6_E3M2","shape":[2],"data_offsets":[0,2]}})", "ab"),
      "safetensors.shape.misaligned", "=", "MisalignedSlice");
  add("shape_product_overflow",
      SafetensorsBytes(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})"),
      "safetensors.shape.overflow", "=", "ValidationOverflow");
  add("bits_overflow", SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})"),
      "safetensors.shape.overflow", "=", "ValidationOverflow");
  add("truncated", SafetensorsBytes(Hdr(kOne), "1234567"), "safetensors.data.coverage", "=",
      "MetadataIncompleteBuffer");
  add("trailing_data", SafetensorsBytes(Hdr(kOne), k8 + "!"), "safetensors.data.coverage", "=",
      "MetadataIncompleteBuffer");
  add("data_without_tensors", SafetensorsBytes("{}", "x"), "safetensors.data.coverage", "=",
      "MetadataIncompleteBuffer");
  return c;
}

class SafetensorsReaderCase : public ::testing::TestWithParam<Case> {};

TEST_P(SafetensorsReaderCase, DefaultAndStrictVerdicts) {
  const Case& c = GetParam();
  const absl::StatusOr<SafetensorsFile> def = SafetensorsFile::Parse(AsBytes(c.bytes));
  if (std::string(c.rule).empty()) {
    EXPECT_THAT(def, IsOk());
  } else {
    EXPECT_THAT(def, HasRule(c.rule));
  }
  SafetensorsOptions strict;
  strict.strict = true;
  const absl::StatusOr<SafetensorsFile> st = SafetensorsFile::Parse(AsBytes(c.bytes), strict);
  const std::string strict_rule = std::string(c.strict_rule) == "=" ? c.rule : c.strict_rule;
  if (strict_rule.empty()) {
    EXPECT_THAT(st, IsOk());
  } else {
    EXPECT_THAT(st, HasRule(strict_rule));
  }
  // Every error carries an offset inside (or just at the end of) the file.
  if (!def.ok()) {
    ASSERT_TRUE(ErrorOffset(def.status()).has_value()) << def.status().message();
    EXPECT_LE(*ErrorOffset(def.status()), c.bytes.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, SafetensorsReaderCase, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// Our rule ids map onto the reference crate's error variants one way; this
// pins the mapping used by the table above (and by docs/rules.md).
TEST(SafetensorsReader, RuleToReferenceClassIsConsistent) {
  const std::map<std::string, std::string> kClass = {
      {"", "OK"},
      {"safetensors.header.too_small", "HeaderTooSmall"},
      {"safetensors.header.too_large", "HeaderTooLarge"},
      {"safetensors.header.length", "InvalidHeaderLength"},
      {"safetensors.header.utf8", "InvalidHeader"},
      {"safetensors.json.syntax", "InvalidHeaderDeserialization"},
      {"safetensors.json.schema", "InvalidHeaderDeserialization"},
      {"safetensors.json.dtype", "InvalidHeaderDeserialization"},
      {"safetensors.offsets.contiguous", "InvalidOffset"},
      {"safetensors.shape.overflow", "ValidationOverflow"},
      {"safetensors.shape.misaligned", "MisalignedSlice"},
      {"safetensors.size.mismatch", "TensorInvalidInfo"},
      {"safetensors.data.coverage", "MetadataIncompleteBuffer"},
  };
  for (const Case& c : Cases()) {
    auto it = kClass.find(c.rule);
    ASSERT_NE(it, kClass.end()) << c.name;
    EXPECT_EQ(it->second, c.reference) << c.name;
  }
}

TEST(SafetensorsReader, DataSizeNearTwoToTheSixtyFourIsACoverageError) {
  // Nine U8 tensors of up to 2^60 bytes each (every element count × 8 fits
  // 64 bits) whose last end is close to 2^64: 8 + N + end must be computed
  // without wrapping. (The reference adds unchecked, but a wrapped sum can
  // never equal the file size, so it too reports MetadataIncompleteBuffer.)
  const uint64_t kChunk = uint64_t{1} << 60;
  const uint64_t end = ~uint64_t{0} - 100;
  std::string body;
  uint64_t begin = 0;
  for (int i = 0; begin < end; ++i) {
    const uint64_t size = std::min<uint64_t>(kChunk, end - begin);
    body += (i ? "," : "") + std::string("\"t") + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[" +
            std::to_string(size) + "],\"data_offsets\":[" + std::to_string(begin) + "," +
            std::to_string(begin + size) + "]}";
    begin += size;
  }
  const std::string bytes = SafetensorsBytes("{" + body + "}", "abcdefgh");
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, HasRule("safetensors.data.coverage"));
  EXPECT_THAT(std::string(f.status().message()), ::testing::HasSubstr("more than any file can hold"));
}

TEST(SafetensorsReader, ViewsPointIntoTheBufferInDataOrder) {
  const std::string bytes = SafetensorsBytes(
      R"({"__metadata__":{"format":"pt","b":"2"},"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[4,12]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
      "0123456789AB");
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->size(), 2u);
  const TensorView b = f->tensor(0), w = f->tensor(1);
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(w.name, "w");
  EXPECT_EQ(w.dtype, DType::kBF16);
  EXPECT_THAT(std::vector<uint64_t>(w.shape.begin(), w.shape.end()), ::testing::ElementsAre(2, 2));
  EXPECT_EQ(b.offset, f->data_offset());
  EXPECT_EQ(w.offset, f->data_offset() + 4);
  EXPECT_EQ(w.data.data(), reinterpret_cast<const uint8_t*>(bytes.data()) + w.offset);  // no copy
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(w.data.data()), w.nbytes()), "456789AB");
  EXPECT_EQ(w.num_elements(), 4u);
  EXPECT_EQ(f->Find("w"), 1u);
  EXPECT_EQ(f->Find("nope"), std::nullopt);
  ASSERT_TRUE(f->metadata().has_value());
  EXPECT_THAT(*f->metadata(), ::testing::ElementsAre(::testing::Pair("format", "pt"), ::testing::Pair("b", "2")));
}

TEST(SafetensorsReader, DuplicateNameKeepsLastEntryLikeTheReference) {
  // Two entries for "a": the first would leave a hole, the second is right.
  const std::string bytes = SafetensorsBytes(
      Hdr(R"("a":{"dtype":"U8","shape":[1],"data_offsets":[7,8]},"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]})"),
      k8);
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ(f->tensor(0).nbytes(), 8u);
  ASSERT_EQ(f->warnings().size(), 1u);
  EXPECT_THAT(f->warnings()[0], ::testing::HasSubstr("safetensors.strict.duplicate_name"));
}

TEST(SafetensorsReader, HazardWarningsAreCapped) {
  std::string body;
  for (int i = 0; i < 1000; ++i) body += std::string(i ? "," : "") + R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(SafetensorsBytes("{" + body + "}", "x")));
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->warnings().size(), 21u);
  EXPECT_EQ(f->warnings().back(), "... and 979 more hazards like these");
}

TEST(SafetensorsReader, ErrorsNameFileOffsetTensorAndRule) {
  ckpt::testing::ScratchDir dir;
  const std::string path = dir / "bad.safetensors";
  ckpt::testing::WriteFile(path, SafetensorsBytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", k8));
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Open(path);
  ASSERT_THAT(f, HasRule("safetensors.size.mismatch"));
  EXPECT_EQ(ErrorFile(f.status()), path);
  EXPECT_EQ(ErrorOffset(f.status()), 9u);  // the key "w" right after '{'
  EXPECT_EQ(ErrorTensor(f.status()), "w");
  EXPECT_EQ(f.status().message(),
            path + ": offset 9: tensor 'w': data_offsets [0, 8) hold 8 bytes but F32 [3] needs 12 "
                   "[safetensors.size.mismatch]");
}

TEST(SafetensorsReader, TruncationMessageSaysHowManyBytesAreMissing) {
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(SafetensorsBytes(Hdr(kOne), "12345")));
  ASSERT_THAT(f, HasRule("safetensors.data.coverage"));
  EXPECT_THAT(std::string(f.status().message()), ::testing::HasSubstr("truncated"));
  EXPECT_THAT(std::string(f.status().message()), ::testing::HasSubstr("(3 missing)"));
}

TEST(SafetensorsReader, TwentyThousandTensorHeader) {
  std::string body;
  std::string data;
  for (int i = 0; i < 20000; ++i) {
    body += (i ? "," : "") + std::string("\"model.layers.") + std::to_string(i) +
            ".weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + std::to_string(4 * i) + "," +
            std::to_string(4 * i + 4) + "]}";
  }
  data.assign(4 * 20000, '\0');
  const std::string bytes = SafetensorsBytes("{" + body + "}", data);
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(AsBytes(bytes));
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->size(), 20000u);
  EXPECT_EQ(f->Find("model.layers.19999.weight"), 19999u);
}

}  // namespace
}  // namespace ckpt
