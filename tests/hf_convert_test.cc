// Hugging Face directory → GGUF (and back): byte identity with
// convert_hf_to_gguf.py's outputs, the one-pass quantize path, round trips,
// and broken model directories.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "ckpt/gguf.h"
#include "ckpt/hf.h"
#include "ckpt/quantize.h"
#include "ckpt/safetensors.h"
#include "formats/hf/rope.h"
#include "lib/fs_util.h"
#include "lib/str_util.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

namespace fs = std::filesystem;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::WriteFile;

const std::string kGolden = std::string(CKPT_SHARED_DIR) + "/golden/convert";
const std::string kData = std::string(CKPT_TEST_DATA_DIR) + "/hf";

// A copy of `src` named `name` in a fresh temporary directory (general.name
// comes from the folder name).
std::string CopyModel(const std::string& src, const std::string& name) {
  static int n = 0;
  const fs::path dir = fs::path(::testing::TempDir()) / ("hf" + std::to_string(getpid()) + "_" + std::to_string(n++));
  fs::remove_all(dir);  // a leftover of an earlier run with the same pid
  fs::create_directories(dir);
  fs::copy(src, dir / name, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(dir / name)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return (dir / name).string();
}

std::string Out(const std::string& name) { return (fs::path(::testing::TempDir()) / name).string(); }

// Compares two GGUF files field by field, then byte for byte, and says
// where they first differ.
void ExpectSameGguf(const std::string& got_path, const std::string& want_path) {
  absl::StatusOr<GgufFile> got = GgufFile::Open(got_path);
  absl::StatusOr<GgufFile> want = GgufFile::Open(want_path);
  ASSERT_THAT(got, IsOk());
  ASSERT_THAT(want, IsOk());
  const size_t n_kv = std::min(got->kvs().size(), want->kvs().size());
  for (size_t i = 0; i < n_kv; ++i) {
    const GgufKv& g = got->kvs()[i];
    const GgufKv& w = want->kvs()[i];
    ASSERT_EQ(g.key, w.key) << "KV " << i;
    ASSERT_EQ(static_cast<int>(g.value.type), static_cast<int>(w.value.type)) << g.key;
    EXPECT_EQ(got->ToJson(g.value).dump(), want->ToJson(w.value).dump()) << g.key;
  }
  ASSERT_EQ(got->kvs().size(), want->kvs().size());
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < got->size(); ++i) {
    const GgufTensorInfo& g = got->info(i);
    const GgufTensorInfo& w = want->info(i);
    ASSERT_EQ(g.name, w.name) << "tensor " << i;
    ASSERT_EQ(DTypeName(g.dtype), DTypeName(w.dtype)) << g.name;
    ASSERT_EQ(g.n_dims, w.n_dims) << g.name;
    ASSERT_EQ(g.ne, w.ne) << g.name;
    ASSERT_EQ(g.nbytes, w.nbytes) << g.name;
    const uint8_t* gb = got->bytes().data() + got->data_offset() + g.offset;
    const uint8_t* wb = want->bytes().data() + want->data_offset() + w.offset;
    EXPECT_EQ(std::memcmp(gb, wb, g.nbytes), 0) << g.name << ": data differs";
  }
  EXPECT_TRUE(got->bytes() == want->bytes()) << "files differ outside KVs and tensor data (padding/layout)";
}

absl::Status Convert(const std::string& dir, const std::string& out, const std::string& dtype, int threads = 0) {
  HfToGgufOptions o;
  o.dtype = dtype;
  o.threads = threads;
  return ConvertHfToGguf(dir, out, o);
}

// ---- rope_freqs ----------------------------------------------------------

TEST(HfRopeFreqs, BitIdenticalToTorchFloat32) {
  absl::StatusOr<nlohmann::json> j = ReadJsonFile(kData + "/rope_freqs.json");
  ASSERT_THAT(j, IsOk());
  int checked = 0;
  for (const nlohmann::json& c : (*j)["cases"]) {
    hf::Llama3Rope r;
    r.dim = c["dim"].get<int64_t>();
    r.base = c["base"].get<double>();
    r.factor = c["factor"].get<double>();
    r.low_freq_factor = c["low_freq_factor"].get<double>();
    r.high_freq_factor = c["high_freq_factor"].get<double>();
    r.original_context = c["original_max_position_embeddings"].get<double>();
    const std::vector<float> got = hf::Llama3RopeFreqs(r);
    ASSERT_EQ(got.size(), c["bits"].size());
    for (size_t i = 0; i < got.size(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, &got[i], 4);
      EXPECT_EQ(bits, std::stoul(c["bits"][i].get<std::string>(), nullptr, 16))
          << "dim " << r.dim << " base " << r.base << " factor " << r.factor << " i " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

// ---- convert_hf_to_gguf.py's own outputs -----------------------------------

class GoldenConvert : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenConvert, SameFileAsTheReferenceConverter) {
  const std::string dir = CopyModel(kGolden + "/tiny-llama", "tiny-llama");
  const std::string out = Out("golden-" + GetParam() + ".gguf");
  ASSERT_THAT(Convert(dir, out, GetParam()), IsOk());
  ExpectSameGguf(out, kGolden + "/ref/tiny-llama." + GetParam() + ".gguf");
}

INSTANTIATE_TEST_SUITE_P(Outtypes, GoldenConvert, ::testing::Values("f16", "bf16", "q8_0"));

// Generated models (tests/fixtures/gen_hf_models.py) and what the reference
// converter wrote for them (tests/data/hf/ref/NAME.OUTTYPE.gguf).
class GeneratedConvert : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> GeneratedCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kData + "/ref", ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 5 && f.substr(f.size() - 5) == ".gguf") cases.push_back(f.substr(0, f.size() - 5));
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST_P(GeneratedConvert, SameFileAsTheReferenceConverter) {
  const std::string c = GetParam();  // NAME.OUTTYPE
  const std::string name = c.substr(0, c.rfind('.'));
  const std::string outtype = c.substr(c.rfind('.') + 1);
  const std::string dir = CopyModel(kData + "/" + name, name);
  const std::string out = Out("gen-" + c + ".gguf");
  ASSERT_THAT(Convert(dir, out, outtype), IsOk());
  ExpectSameGguf(out, kData + "/ref/" + c + ".gguf");
}

INSTANTIATE_TEST_SUITE_P(Models, GeneratedConvert, ::testing::ValuesIn(GeneratedCases()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

// ---- one pass: convert + quantize ------------------------------------------

TEST(HfConvert, QuantizeTypeEqualsConvertThenQuantize) {
  const std::string dir = CopyModel(kGolden + "/tiny-llama", "tiny-llama");
  for (const std::string t : {"Q4_K_M", "Q6_K", "Q5_0"}) {
    const std::string one_pass = Out("onepass-" + t + ".gguf");
    ASSERT_THAT(Convert(dir, one_pass, t), IsOk()) << t;
    // Two steps: the exact intermediate (bf16 weights stay BF16), then quantize.
    const std::string mid = Out("mid-" + t + ".gguf");
    ASSERT_THAT(Convert(dir, mid, "bf16"), IsOk());
    absl::StatusOr<GgufFile> in = GgufFile::Open(mid);
    ASSERT_THAT(in, IsOk());
    QuantizeOptions o;
    o.file_type = *FindQuantFileType(t);
    absl::StatusOr<QuantizePlan> plan = PlanQuantize(*in, o);
    ASSERT_THAT(plan, IsOk());
    const std::string two_step = Out("twostep-" + t + ".gguf");
    ASSERT_THAT(QuantizeGguf(*in, two_step, o, *plan), IsOk());
    EXPECT_EQ(ReadFile(one_pass), ReadFile(two_step)) << t;
  }
}

TEST(HfConvert, ThreadCountDoesNotChangeTheBytes) {
  const std::string dir = CopyModel(kGolden + "/tiny-llama", "tiny-llama");
  for (const char* type : {"f16", "Q4_K_M"}) {
    ASSERT_THAT(Convert(dir, Out("t1.gguf"), type, 1), IsOk());
    ASSERT_THAT(Convert(dir, Out("t3.gguf"), type, 3), IsOk());
    EXPECT_EQ(ReadFile(Out("t1.gguf")), ReadFile(Out("t3.gguf"))) << type;
  }
}

// ---- and back ---------------------------------------------------------------

TEST(HfConvert, RoundTripGivesIdenticalTensors) {
  const std::string src = kGolden + "/tiny-llama";
  const std::string dir = CopyModel(src, "tiny-llama");
  const std::string gguf = Out("rt.gguf");
  ASSERT_THAT(Convert(dir, gguf, "bf16"), IsOk());
  absl::StatusOr<GgufFile> g = GgufFile::Open(gguf);
  ASSERT_THAT(g, IsOk());
  const std::string back = (fs::path(::testing::TempDir()) / "rt-back" / "tiny-llama").string();
  fs::remove_all(back);
  ASSERT_THAT(ConvertGgufToHf(*g, back, DType::kBF16), IsOk());
  absl::StatusOr<SafetensorsFile> a = SafetensorsFile::Open(src + "/model.safetensors");
  absl::StatusOr<SafetensorsFile> b = SafetensorsFile::Open(back + "/model.safetensors");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const TensorView t = a->tensor(i);
    const std::optional<size_t> j = b->Find(t.name);
    ASSERT_TRUE(j.has_value()) << t.name;
    const TensorView u = b->tensor(*j);
    EXPECT_EQ(DTypeName(t.dtype), DTypeName(u.dtype)) << t.name;
    EXPECT_TRUE(std::equal(t.shape.begin(), t.shape.end(), u.shape.begin(), u.shape.end())) << t.name;
    EXPECT_TRUE(t.data == u.data) << t.name << ": bytes differ";
  }
  // And forward again: the same GGUF.
  ASSERT_THAT(Convert(back, Out("rt2.gguf"), "bf16"), IsOk());
  ExpectSameGguf(Out("rt2.gguf"), gguf);
}

// ---- BPE tokenizers (no reference output exists: the converter needs the HF
// tokenizer to hash a tokenization; see tests/data/hf/README.md) -----------

// The value of `key` in the GGUF at `path` as JSON text.
std::string KvJson(const GgufFile& g, const std::string& key, uint64_t max_elements = 8) {
  const GgufKv* kv = g.FindKv(key);
  return kv ? g.ToJson(kv->value, max_elements).dump() : "absent";
}

TEST(HfConvert, Qwen2ByteLevelBpeVocabulary) {
  const std::string dir = CopyModel(kData + "/tiny-qwen2", "tiny-qwen2");
  ASSERT_THAT(Convert(dir, Out("qwen2.gguf"), "bf16"), IsOk());
  absl::StatusOr<GgufFile> g = GgufFile::Open(Out("qwen2.gguf"));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.model"), "\"gpt2\"");
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.pre"), "\"qwen2\"");
  EXPECT_EQ(g->FindKv("tokenizer.ggml.tokens")->value.count, 352u);  // config vocab_size: 323 tokens + [PAD323..351]
  EXPECT_EQ(g->FindKv("tokenizer.ggml.scores"), nullptr);
  const GgufKv* types = g->FindKv("tokenizer.ggml.token_type");
  std::vector<int64_t> t;
  g->ForEachElement(types->value, [&](const GgufValue& v) {
    t.push_back(g->ReadSigned(v));
    return true;
  });
  ASSERT_EQ(t.size(), 352u);
  EXPECT_EQ(t[0], 1);
  EXPECT_EQ(t[319], 1);
  EXPECT_EQ(t[320], 3);  // <|endoftext|>, <|im_start|>, <|im_end|>: special → CONTROL
  EXPECT_EQ(t[322], 3);
  EXPECT_EQ(t[323], 5);  // [PAD323] → UNUSED
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.merges", 2), "[\"e r\",\"Ġ t\"]");
  EXPECT_EQ(g->FindKv("tokenizer.ggml.merges")->value.count, 64u);
  // SpecialVocab: tokenizer_config's eos/pad texts first, then config.json's bos id.
  std::vector<std::string> special;
  for (const GgufKv& kv : g->kvs()) {
    if (absl::EndsWith(AbslView(kv.key), "_token_id")) special.push_back(StrCat(kv.key, "=", KvJson(*g, std::string(kv.key))));
  }
  EXPECT_THAT(special, ::testing::ElementsAre("tokenizer.ggml.eos_token_id=322", "tokenizer.ggml.padding_token_id=320",
                                              "tokenizer.ggml.bos_token_id=320"));
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.add_bos_token"), "false");
}

TEST(HfConvert, MergePairsAreJoinedLikeStrings) {
  // tiny-qwen3 holds the same merges as ["a", "b"] pairs.
  const std::string q2 = CopyModel(kData + "/tiny-qwen2", "tiny-qwen2");
  const std::string q3 = CopyModel(kData + "/tiny-qwen3", "tiny-qwen3");
  ASSERT_THAT(Convert(q2, Out("q2.gguf"), "bf16"), IsOk());
  ASSERT_THAT(Convert(q3, Out("q3.gguf"), "bf16"), IsOk());
  absl::StatusOr<GgufFile> a = GgufFile::Open(Out("q2.gguf"));
  absl::StatusOr<GgufFile> b = GgufFile::Open(Out("q3.gguf"));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(KvJson(*a, "tokenizer.ggml.merges", 1000), KvJson(*b, "tokenizer.ggml.merges", 1000));
  EXPECT_EQ(KvJson(*b, "qwen3.attention.key_length"), "32");
}

// A Llama 3 style tokenizer.json: llama-bpe split, TemplateProcessing
// post-processor putting BOS first (SpecialVocab's heuristics: add_bos true,
// add_sep false, the template's BOS text resolved to its id).
TEST(HfConvert, Llama3StyleTemplateProcessing) {
  const std::string dir = CopyModel(kData + "/tiny-qwen2", "tiny-llama3ish");
  nlohmann::json tok = nlohmann::json::parse(ReadFile(dir + "/tokenizer.json"));
  tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
      "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  nlohmann::json bos = {{"SpecialToken", {{"id", "<|im_start|>"}, {"type_id", 0}}}};
  nlohmann::json a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
  nlohmann::json b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
  tok["post_processor"] = {{"type", "Sequence"},
                           {"processors",
                            {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
                             {{"type", "TemplateProcessing"},
                              {"single", {bos, a}},
                              {"pair", {bos, a, bos, b}},
                              {"special_tokens", nlohmann::json::object()}}}}};
  WriteFile(dir + "/tokenizer.json", tok.dump());
  nlohmann::json tc = nlohmann::json::parse(ReadFile(dir + "/tokenizer_config.json"));
  tc.erase("add_bos_token");
  tc["bos_token"] = "<|im_start|>";
  WriteFile(dir + "/tokenizer_config.json", tc.dump());
  ASSERT_THAT(Convert(dir, Out("llama3ish.gguf"), "bf16"), IsOk());
  absl::StatusOr<GgufFile> g = GgufFile::Open(Out("llama3ish.gguf"));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.pre"), "\"llama-bpe\"");
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.bos_token_id"), "321");
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.add_bos_token"), "true");
  EXPECT_EQ(KvJson(*g, "tokenizer.ggml.add_sep_token"), "false");
  std::vector<std::string> order;
  for (const GgufKv& kv : g->kvs()) {
    if (absl::StartsWith(AbslView(kv.key), "tokenizer.ggml.add_")) order.emplace_back(kv.key);
  }
  EXPECT_THAT(order, ::testing::ElementsAre("tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_sep_token"));
}

// HF → GGUF → HF → GGUF gives the same file for each tokenizer kind
// (SentencePiece with added tokens and padding, BPE, Gemma).
class TokenizerRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerRoundTrip, SecondConversionIsIdentical) {
  const std::string name = GetParam();
  const std::string dir = CopyModel(kData + "/" + name, name);
  const std::string a = Out("tok-rt-a-" + name + ".gguf");
  ASSERT_THAT(Convert(dir, a, "f32"), IsOk());
  absl::StatusOr<GgufFile> g = GgufFile::Open(a);
  ASSERT_THAT(g, IsOk());
  const std::string back = (fs::path(::testing::TempDir()) / ("tok-rt-" + name) / name).string();
  fs::remove_all(back);
  ASSERT_THAT(ConvertGgufToHf(*g, back, DType::kF32), IsOk());
  const std::string b = Out("tok-rt-b-" + name + ".gguf");
  ASSERT_THAT(Convert(back, b, "f32"), IsOk());
  ExpectSameGguf(b, a);
}

INSTANTIATE_TEST_SUITE_P(Models, TokenizerRoundTrip,
                         ::testing::Values("tiny-llama-tied", "tiny-qwen2", "tiny-qwen3", "tiny-gemma", "tiny-mistral"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

// ---- broken model directories -------------------------------------------------

class BrokenModel : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = CopyModel(kGolden + "/tiny-llama", "tiny-llama"); }
  void Edit(const std::string& file, const std::string& from, const std::string& to) {
    std::string s = ReadFile(dir_ + "/" + file);
    const size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    WriteFile(dir_ + "/" + file, s);
  }
  // Fails with `rule` and leaves no output behind.
  void ExpectFails(const std::string& rule) {
    const std::string out = Out("broken.gguf");
    fs::remove(out);
    EXPECT_THAT(Convert(dir_, out, "f16"), HasRule(rule));
    EXPECT_FALSE(fs::exists(out));
  }
  std::string dir_;
};

TEST_F(BrokenModel, NoConfig) {
  fs::remove(dir_ + "/config.json");
  ExpectFails("hf.config.missing");
}

TEST_F(BrokenModel, ConfigNotJson) {
  WriteFile(dir_ + "/config.json", "{\"architectures\": [\"LlamaForCausalLM\"],");
  ExpectFails("json.invalid");
}

TEST_F(BrokenModel, UnknownArchitecture) {
  Edit("config.json", "LlamaForCausalLM", "FalconForCausalLM");
  ExpectFails("hf.architecture");
}

TEST_F(BrokenModel, HiddenSizeDisagreesWithTensors) {
  Edit("config.json", "\"hidden_size\": 256", "\"hidden_size\": 512");
  ExpectFails("hf.tensor.shape");
}

TEST_F(BrokenModel, HeadsDoNotDivideRows) {
  Edit("config.json", "\"num_attention_heads\": 4", "\"num_attention_heads\": 3");
  ExpectFails("hf.tensor.shape");
}

TEST_F(BrokenModel, WrongTypeInConfig) {
  Edit("config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": \"2\"");
  ExpectFails("hf.config.type");
}

TEST_F(BrokenModel, TooFewLayersInConfig) {
  Edit("config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
  ExpectFails("hf.tensor.unknown");
}

TEST_F(BrokenModel, MissingShardListedByIndex) {
  WriteFile(dir_ + "/model.safetensors.index.json",
            R"({"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}})");
  ExpectFails("hf.shards.missing");
}

TEST_F(BrokenModel, IndexDisagreesWithShards) {
  WriteFile(dir_ + "/model.safetensors.index.json",
            R"({"weight_map": {"lm_head.weight": "model.safetensors", "model.extra.weight": "model.safetensors"}})");
  ExpectFails("hf.shards.mismatch");
}

TEST_F(BrokenModel, NoWeights) {
  fs::remove(dir_ + "/model.safetensors");
  ExpectFails("hf.shards.none");
}

TEST_F(BrokenModel, TruncatedShard) {
  const std::string s = ReadFile(dir_ + "/model.safetensors");
  WriteFile(dir_ + "/model.safetensors", s.substr(0, s.size() / 2));
  const std::string out = Out("broken.gguf");
  fs::remove(out);
  const absl::Status st = Convert(dir_, out, "f16");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(ErrorRule(st).rfind("safetensors.", 0), 0u) << st;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BrokenModel, MissingLayerTensor) {
  // The same weights without one layer's up_proj (still a valid Safetensors file).
  absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Open(kGolden + "/tiny-llama/model.safetensors");
  ASSERT_THAT(f, IsOk());
  std::vector<TensorToWrite> keep;
  for (size_t i = 0; i < f->size(); ++i) {
    if (f->tensor(i).name != "model.layers.1.mlp.up_proj.weight") keep.push_back(TensorToWrite::From(f->tensor(i)));
  }
  ASSERT_THAT(WriteSafetensors(dir_ + "/model.safetensors", keep, std::nullopt), IsOk());
  ExpectFails("hf.tensor.missing");
}

TEST_F(BrokenModel, TruncatedSentencePieceModel) {
  const std::string s = ReadFile(dir_ + "/tokenizer.model");
  WriteFile(dir_ + "/tokenizer.model", s.substr(0, s.size() - 7));
  ExpectFails("hf.tokenizer.sentencepiece");
}

TEST_F(BrokenModel, SentencePieceFieldPastTheEnd) {
  WriteFile(dir_ + "/tokenizer.model", std::string("\x0a\xff\xff\xff\x7f", 5));
  ExpectFails("hf.tokenizer.sentencepiece");
}

TEST_F(BrokenModel, NoTokenizer) {
  fs::remove(dir_ + "/tokenizer.model");
  ExpectFails("hf.tokenizer.missing");
}

TEST(HfConvertBroken, UnknownBpePreTokenizer) {
  const std::string dir = CopyModel(kData + "/tiny-qwen2", "tiny-qwen2");
  std::string s = ReadFile(dir + "/tokenizer.json");
  const size_t at = s.find("\\p{N}|");
  ASSERT_NE(at, std::string::npos);
  s.replace(at, 7, "\\p{N}{1,2}|");
  WriteFile(dir + "/tokenizer.json", s);
  EXPECT_THAT(Convert(dir, Out("unknown-pre.gguf"), "bf16"), HasRule("hf.tokenizer.unknown_pre"));
}

TEST_F(BrokenModel, UnknownDtype) {
  const std::string out = Out("broken.gguf");
  EXPECT_THAT(Convert(dir_, out, "q3_z"), HasRule("hf.dtype"));
}

}  // namespace
}  // namespace ckpt
