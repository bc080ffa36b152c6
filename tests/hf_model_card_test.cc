// The general.* metadata of convert_hf_to_gguf.py (formats/hf/model_card.h):
// byte identity with the reference GGUF, gguf-py's name heuristics, the
// model card's YAML typed as yaml.safe_load types it, generation_config.json,
// size labels, and hostile inputs. Expected values were produced by running
// gguf-py 0.19.0's Metadata on the same directories.
#include "formats/hf/model_card.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ckpt/gguf.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt::hf {
namespace {

namespace fs = std::filesystem;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::StatusIs;
using ::ckpt::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Pair;

const std::string kGolden = std::string(CKPT_SHARED_DIR) + "/golden/convert";

// A KV as "key" → "type:value": strings as they are, f32 as hex bits,
// arrays as [elem,elem].
std::string Show(const GgufOwnedValue& v) {
  switch (v.type) {
    case GgufType::kString: return "str:" + v.str;
    case GgufType::kU32: return absl::StrCat("u32:", static_cast<uint32_t>(v.bits));
    case GgufType::kI32: return absl::StrCat("i32:", static_cast<int32_t>(static_cast<uint32_t>(v.bits)));
    case GgufType::kF32: return absl::StrCat("f32:0x", absl::Hex(v.bits, absl::kZeroPad8));
    case GgufType::kBool: return absl::StrCat("bool:", v.bits);
    case GgufType::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.elements.size(); ++i) absl::StrAppend(&out, i ? "," : "", Show(v.elements[i]));
      return out + "]";
    }
    default: return "?";
  }
}

std::vector<std::pair<std::string, std::string>> Shown(const std::vector<GgufKvToWrite>& kvs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const GgufKvToWrite& kv : kvs) out.emplace_back(kv.key, Show(std::get<GgufOwnedValue>(kv.value)));
  return out;
}

// A model directory named `name` (general.name comes from it) in a fresh
// scratch directory, holding `files` (name → bytes).
class ModelDirFixture {
 public:
  explicit ModelDirFixture(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files = {})
      : dir_((scratch_.path() / name).string()) {
    fs::create_directories(dir_);
    for (const auto& [file, bytes] : files) WriteFile(fs::path(dir_) / file, bytes);
  }
  const std::string& dir() const { return dir_; }

 private:
  ScratchDir scratch_;
  std::string dir_;
};

ParamCounts Dense(uint64_t n) { return ParamCounts{n, n, 0, 0}; }

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Kvs(const std::string& dir, const ParamCounts& p,
                                                                     const nlohmann::json& config = nlohmann::json::object()) {
  absl::StatusOr<std::vector<GgufKvToWrite>> kvs = ModelCardKvs(dir, config, p);
  if (!kvs.ok()) return kvs.status();
  return Shown(*kvs);
}

// The raw bytes of each KV record (key length to the value's end).
std::vector<std::pair<std::string, std::string>> Records(const GgufFile& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const GgufKv& kv : f.kvs()) {
    const auto* p = reinterpret_cast<const char*>(f.bytes().data());
    out.emplace_back(std::string(kv.key), std::string(p + kv.key_offset, kv.end_offset - kv.key_offset));
  }
  return out;
}

TEST(hf_model_card, GoldenTinyLlamaByteForByte) {
  ScratchDir scratch;
  const fs::path dir = scratch.path() / "tiny-llama";
  fs::copy(kGolden + "/tiny-llama", dir, fs::copy_options::recursive);
  absl::StatusOr<GgufFile> golden = GgufFile::Open(kGolden + "/ref/tiny-llama.f16.gguf");
  ASSERT_THAT(golden, IsOk());

  std::vector<std::pair<std::string, std::vector<uint64_t>>> tensors;
  for (const GgufTensorInfo& t : golden->infos()) {
    std::vector<uint64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
    std::reverse(shape.begin(), shape.end());
    tensors.emplace_back(std::string(t.name), shape);
  }
  const ParamCounts params = CountParams(tensors);
  EXPECT_EQ(params.total, 1488128u);
  EXPECT_EQ(params.shared, 1488128u);
  EXPECT_EQ(params.expert_count, 0u);

  const nlohmann::json config = nlohmann::json::parse(testing::ReadFile(dir / "config.json"));
  absl::StatusOr<std::vector<GgufKvToWrite>> kvs = ModelCardKvs(dir.string(), config, params);
  ASSERT_THAT(kvs, IsOk());
  EXPECT_THAT(Shown(*kvs), ElementsAre(Pair("general.type", "str:model"), Pair("general.name", "str:Tiny Llama"),
                                        Pair("general.size_label", "str:1.5M")));

  // Written by ckpt's GGUF writer, the records equal the golden's byte for
  // byte, in the golden's order (general.architecture, written first by the
  // caller, and the later general.file_type / quantization_version aside).
  const std::string out = scratch / "kvs.gguf";
  ASSERT_THAT(WriteGguf(out, *kvs, {}), IsOk());
  absl::StatusOr<GgufFile> ours = GgufFile::Open(out);
  ASSERT_THAT(ours, IsOk());
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& r : Records(*golden)) {
    if (r.first.rfind("general.", 0) == 0 && r.first != "general.architecture" && r.first != "general.file_type" &&
        r.first != "general.quantization_version") {
      want.push_back(r);
    }
  }
  EXPECT_EQ(Records(*ours), want);
  // general.type comes right after general.architecture in the golden.
  ASSERT_GE(golden->kvs().size(), 2u);
  EXPECT_EQ(golden->kvs()[0].key, "general.architecture");
  EXPECT_EQ(golden->kvs()[1].key, "general.type");
}

struct IdCase {
  std::string id;
  uint64_t total;
  std::optional<std::string> full_name, organization, basename, finetune, version, size_label;
};

TEST(hf_model_card, GetModelIdComponentsMatchesGgufPy) {
  const std::optional<std::string> none;
  const IdCase cases[] = {
      {"Meta-Llama-3-8B-Instruct", 8030261248, "Meta-Llama-3-8B-Instruct", none, "Meta-Llama-3", "Instruct", none, "8B"},
      // Far from the model size: "8B" is taken for a finetune tag, lower-cased.
      {"Meta-Llama-3-8B-Instruct", 1488128, "Meta-Llama-3-8B-Instruct", none, "Meta-Llama-3", "8b-Instruct", none, none},
      {"Mistral-7B-Instruct-v0.3", 7248023552, "Mistral-7B-Instruct-v0.3", none, "Mistral", "Instruct", "v0.3", "7B"},
      {"Qwen2.5-0.5B-Instruct", 494032768, "Qwen2.5-0.5B-Instruct", none, "Qwen2.5", "Instruct", none, "0.5B"},
      {"gemma-2b-it", 2506172416, "gemma-2b-it", none, "gemma", "it", none, "2B"},
      {"tiny-llama", 1488128, "tiny-llama", none, none, none, none, none},
      {"TinyLlama-1.1B-Chat-v1.0", 1100048384, "TinyLlama-1.1B-Chat-v1.0", none, "TinyLlama", "Chat", "v1.0", "1.1B"},
      {"Mixtral-8x7B-v0.1", 46702792704, "Mixtral-8x7B-v0.1", none, "Mixtral", none, "v0.1", "8x7B"},
      {"meta-llama/Llama-2-7b-chat-hf", 6738415616, "Llama-2-7b-chat-hf", "meta-llama", "Llama-2", "chat-hf", none, "7B"},
      {"bloom-7b1", 7069016064, "bloom-7b1", none, "bloom", none, none, "7.1B"},
      {"Mistral-Nemo-Instruct-2407-128k", 12247782400, "Mistral-Nemo-Instruct-2407-128k", none, "Mistral-Nemo",
       "Instruct-128k", "2407", none},
      {"Qwen3-30B-A3B-Instruct-2507", 30532122624, "Qwen3-30B-A3B-Instruct-2507", none, "Qwen3", "Instruct", "2507",
       "30B-A3B"},
      {"gpt2-xl", 1557611200, "gpt2-xl", none, "gpt2", none, none, "xl"},
      {"Phi-3-mini-4k-instruct", 3821079552, "Phi-3-mini-4k-instruct", none, "Phi-3", "4k-instruct", none, "mini"},
      {"llama-3.2-1b-q4_K_M", 1235814400, "llama-3.2-1b-q4_K_M", none, "llama-3.2", none, none, "1B"},
      {"./local/Model-7B", 7000000000, "local/Model-7B", none, "local/Model", none, none, "7B"},
      {"my model", 1000, "my model", none, none, none, none, none},
  };
  for (const IdCase& c : cases) {
    SCOPED_TRACE(c.id);
    const ModelIdComponents r = GetModelIdComponents(c.id, c.total);
    EXPECT_EQ(r.full_name, c.full_name);
    EXPECT_EQ(r.organization, c.organization);
    EXPECT_EQ(r.basename, c.basename);
    EXPECT_EQ(r.finetune, c.finetune);
    EXPECT_EQ(r.version, c.version);
    EXPECT_EQ(r.size_label, c.size_label);
  }
  EXPECT_EQ(IdToTitle("tiny-llama"), "Tiny Llama");
  EXPECT_EQ(IdToTitle("meta-llama/Llama-3.1-8B"), "Meta llama/Llama 3.1 8B");
  EXPECT_EQ(IdToTitle("gemma-2b-it"), "Gemma 2b It");
  EXPECT_EQ(IdToTitle("v0.3-x"), "v0.3 X");
  EXPECT_EQ(IdToTitle("deepseek r1"), "Deepseek R1");
  EXPECT_EQ(IdToTitle("ultrachat_200k"), "Ultrachat_200K");
}

TEST(hf_model_card, DirectoryNames) {
  using KV = std::vector<std::pair<std::string, std::string>>;
  const struct {
    std::string name;
    uint64_t total;
    KV want;
  } cases[] = {
      {"Meta-Llama-3-8B-Instruct", 8030261248,
       {{"general.type", "str:model"}, {"general.name", "str:Meta Llama 3 8B Instruct"},
        {"general.finetune", "str:Instruct"}, {"general.basename", "str:Meta-Llama-3"},
        {"general.size_label", "str:8B"}}},
      {"Mistral-7B-Instruct-v0.3", 7248023552,
       {{"general.type", "str:model"}, {"general.name", "str:Mistral 7B Instruct v0.3"},
        {"general.version", "str:v0.3"}, {"general.finetune", "str:Instruct"}, {"general.basename", "str:Mistral"},
        {"general.size_label", "str:7B"}}},
      {"Qwen2.5-0.5B-Instruct", 494032768,
       {{"general.type", "str:model"}, {"general.name", "str:Qwen2.5 0.5B Instruct"},
        {"general.finetune", "str:Instruct"}, {"general.basename", "str:Qwen2.5"},
        {"general.size_label", "str:0.5B"}}},
      {"gemma-2b-it", 2506172416,
       {{"general.type", "str:model"}, {"general.name", "str:Gemma 2b It"}, {"general.finetune", "str:it"},
        {"general.basename", "str:gemma"}, {"general.size_label", "str:2B"}}},
      {"tiny-llama", 1488128,
       {{"general.type", "str:model"}, {"general.name", "str:Tiny Llama"}, {"general.size_label", "str:1.5M"}}},
      {"TinyLlama-1.1B-Chat-v1.0", 1100048384,
       {{"general.type", "str:model"}, {"general.name", "str:TinyLlama 1.1B Chat v1.0"},
        {"general.version", "str:v1.0"}, {"general.finetune", "str:Chat"}, {"general.basename", "str:TinyLlama"},
        {"general.size_label", "str:1.1B"}}},
      {"Mixtral-8x7B-v0.1", 46702792704,
       {{"general.type", "str:model"}, {"general.name", "str:Mixtral 8x7B v0.1"}, {"general.version", "str:v0.1"},
        {"general.basename", "str:Mixtral"}, {"general.size_label", "str:8x7B"}}},
      {"Mistral-Nemo-Instruct-2407-128k", 12247782400,
       {{"general.type", "str:model"}, {"general.name", "str:Mistral Nemo Instruct 2407 128k"},
        {"general.version", "str:2407"}, {"general.finetune", "str:Instruct-128k"},
        {"general.basename", "str:Mistral-Nemo"}, {"general.size_label", "str:12B"}}},
      // The name's "8B" is far from 1.5M parameters: a finetune, and the
      // size label is computed.
      {"Meta-Llama-3-8B-Instruct", 1488128,
       {{"general.type", "str:model"}, {"general.name", "str:Meta Llama 3 8B Instruct"},
        {"general.finetune", "str:8b-Instruct"}, {"general.basename", "str:Meta-Llama-3"},
        {"general.size_label", "str:1.5M"}}},
      {"bloom-7b1", 7069016064,
       {{"general.type", "str:model"}, {"general.name", "str:Bloom 7b1"}, {"general.basename", "str:bloom"},
        {"general.size_label", "str:7.1B"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ModelDirFixture m(c.name);
    EXPECT_EQ(Kvs(m.dir(), Dense(c.total)).value_or(KV{{"error", ""}}), c.want);
  }
}

TEST(hf_model_card, FrontMatterGenerationConfigAndNameOrPath) {
  ModelDirFixture m("My-Model-7B-Chat-v2",
                    {{"README.md",
                      "---\n"
                      "license: apache-2.0\n"
                      "language:\n- en\n- no\n- fr\n"  // "- no" stays a string (the converter's Norway fix)
                      "tags:\n- text-generation\n- chat\n"
                      "pipeline_tag: text-generation\n"
                      "base_model:\n"
                      "- mistralai/Mistral-7B-Instruct-v0.3\n"
                      "- https://huggingface.co/Qwen/Qwen2.5-7B\n"
                      "datasets: HuggingFaceH4/ultrachat_200k\n"
                      "model_creator: Some Lab\n"
                      "version: v2.1\n"
                      "---\n"
                      "# My Model\n\nBody text is never read.\n"},
                     {"generation_config.json",
                      R"({"bos_token_id": 1, "do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20,)"
                      R"( "repetition_penalty": 1.05})"}});
  // A _name_or_path with more than one '/' is a local path: ignored.
  const nlohmann::json config = {{"_name_or_path", "/data/checkpoints/run-17"}};
  EXPECT_THAT(Kvs(m.dir(), Dense(7241732096), config).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.sampling.top_k", "i32:20"),
                          Pair("general.sampling.top_p", "f32:0x3f4ccccd"),
                          Pair("general.sampling.temp", "f32:0x3f333333"),
                          Pair("general.name", "str:My Model 7B Chat v2"), Pair("general.author", "str:Some Lab"),
                          Pair("general.version", "str:v2.1"), Pair("general.finetune", "str:Chat"),
                          Pair("general.basename", "str:My-Model"), Pair("general.size_label", "str:7B"),
                          Pair("general.license", "str:apache-2.0"), Pair("general.base_model.count", "u32:2"),
                          Pair("general.base_model.0.name", "str:Mistral 7B Instruct v0.3"),
                          Pair("general.base_model.0.version", "str:v0.3"),
                          Pair("general.base_model.0.organization", "str:Mistralai"),
                          Pair("general.base_model.0.repo_url",
                               "str:https://huggingface.co/mistralai/Mistral-7B-Instruct-v0.3"),
                          Pair("general.base_model.1.name", "str:Qwen2.5 7B"),
                          Pair("general.base_model.1.organization", "str:Qwen"),
                          Pair("general.base_model.1.repo_url", "str:https://huggingface.co/Qwen/Qwen2.5-7B"),
                          Pair("general.dataset.count", "u32:1"),
                          Pair("general.dataset.0.name", "str:Ultrachat_200K"),
                          Pair("general.dataset.0.organization", "str:HuggingFaceH4"),
                          Pair("general.dataset.0.repo_url",
                               "str:https://huggingface.co/HuggingFaceH4/ultrachat_200k"),
                          Pair("general.tags", "[str:text-generation,str:chat,str:text-generation]"),
                          Pair("general.languages", "[str:en,str:no,str:fr]")));

  // A Hub id in _name_or_path names the model before the directory does.
  ModelDirFixture plain("checkpoint-dir");
  EXPECT_THAT(Kvs(plain.dir(), Dense(6738415616), {{"_name_or_path", "meta-llama/Llama-2-7b-chat-hf"}}).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.name", "str:Llama 2 7b Chat Hf"),
                          Pair("general.organization", "str:Meta Llama"), Pair("general.finetune", "str:chat-hf"),
                          Pair("general.basename", "str:Llama-2"), Pair("general.size_label", "str:7B")));
}

TEST(hf_model_card, YamlTypedLikeSafeLoad) {
  // Ints (0x, underscores) and YAML 1.1 booleans give i32 / bool arrays; an
  // empty name drops general.name entirely; a null base_model still writes a
  // count of 0; a dataset entry of unknown shape counts, empty.
  ModelDirFixture a("tiny-llama", {{"README.md",
                                    "---\n"
                                    "name: \"\"\n"
                                    "tags: [1, 0x10, 1_000, -7]\n"
                                    "language: [yes, off, On]\n"
                                    "license: [mit, apache-2.0]\n"
                                    "base_model: null\n"
                                    "datasets:\n"
                                    "  - {name: Custom Set, url: \"https://example.com/set\", version: \"3\"}\n"
                                    "  - 42\n"
                                    "description: \"\"\n"
                                    "model_description: not used, description is set\n"
                                    "---\n"}});
  EXPECT_THAT(Kvs(a.dir(), Dense(1488128)).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.size_label", "str:1.5M"),
                          Pair("general.license", "str:mit,apache-2.0"), Pair("general.base_model.count", "u32:0"),
                          Pair("general.dataset.count", "u32:2"), Pair("general.dataset.0.name", "str:Custom Set"),
                          Pair("general.dataset.0.version", "str:3"),
                          Pair("general.dataset.0.url", "str:https://example.com/set"),
                          Pair("general.tags", "[i32:1,i32:16,i32:1000,i32:-7]"),
                          Pair("general.languages", "[bool:1,bool:0,bool:1]")));

  // Floats need a dot (YAML 1.1), base 60 works, !!binary is bytes, a merge
  // key brings a mapping's pairs, an empty size_label blocks the computed one.
  ModelDirFixture b("tiny-llama", {{"README.md",
                                    "---\n"
                                    "name: The Name\n"
                                    "size_label: \"\"\n"
                                    "tags: [1.5, .inf, 190:20:30.15, 1.0e+3]\n"
                                    "language:\n- no\n- \"yes\"\n- en\n"
                                    "doi: !!binary aGVsbG8=\n"
                                    "merged: &m {author: Merged Author, license: mit}\n"
                                    "<<: *m\n"
                                    "---\n"}});
  EXPECT_THAT(Kvs(b.dir(), Dense(1488128)).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.name", "str:The Name"),
                          Pair("general.author", "str:Merged Author"), Pair("general.license", "str:mit"),
                          Pair("general.source.doi", "str:hello"),
                          Pair("general.tags", "[f32:0x3fc00000,f32:0x7f800000,f32:0x49274ae2,f32:0x447a0000]"),
                          Pair("general.languages", "[str:no,str:yes,str:en]")));

  // .nan is PyYAML's -inf/inf: the x86 NaN with its sign bit set.
  ModelDirFixture c("tiny-llama", {{"README.md", "---\ntags: [.nan, -.inf, 0.1]\n---\n"}});
  EXPECT_EQ(Kvs(c.dir(), Dense(1488128)).value().back(),
            std::make_pair(std::string("general.tags"),
                           std::string("[f32:0xffc00000,f32:0xff800000,f32:0x3dcccccd]")));

  // Where the reference converter fails, so does ckpt, naming the key.
  const struct {
    std::string yaml, rule;
  } failing[] = {
      {"version: 1.0\n", "hf.model_card.type"},           // a float where a string goes
      {"tags: [a, 1]\n", "hf.model_card.type"},           // one array, two types
      {"license: [mit, 2]\n", "hf.model_card.type"},      // ",".join of an int
      {"tags: [2147483648]\n", "hf.model_card.type"},     // outside int32
      {"date: 2024-13-01\n", "hf.model_card.value"},      // datetime.date refuses month 13
      {"x: !custom foo\n", "hf.model_card.value"},        // no constructor in safe_load
      {"x: !!python/object:os.system {}\n", "hf.model_card.value"},
      {"a: *undefined\n", "hf.model_card.value"},
      {"? [a, b]\n: c\n", "hf.model_card.value"},         // unhashable key
      {"key: [unclosed\n", "hf.model_card.yaml"},
      {"name: first\n--- second\n", "hf.model_card.yaml"},  // two documents
  };
  for (const auto& f : failing) {
    SCOPED_TRACE(f.yaml);
    ModelDirFixture m("tiny-llama", {{"README.md", "---\n" + f.yaml + "---\n"}});
    EXPECT_THAT(ModelCardKvs(m.dir(), nlohmann::json::object(), Dense(1488128)), HasRule(f.rule));
  }
  ModelDirFixture v("tiny-llama", {{"README.md", "---\nlicense: mit\nversion: 1.0\n---\n"}});
  const absl::Status s = ModelCardKvs(v.dir(), nlohmann::json::object(), Dense(1)).status();
  EXPECT_EQ(ErrorKey(s), "general.version");
  EXPECT_EQ(ErrorFile(s), v.dir() + "/README.md");
}

TEST(hf_model_card, CardsTheReferenceIgnores) {
  const std::vector<std::pair<std::string, std::string>> want = {{"general.type", "str:model"},
                                                                 {"general.name", "str:Tiny Llama"},
                                                                 {"general.size_label", "str:1.5M"}};
  for (const std::string readme : {"# No front matter\nname: x\n", "", "--- \nname: trailing space\n---\n",
                                   "\xEF\xBB\xBF---\nname: bom\n---\n", "---\n- a list\n---\n", "---\n---\n",
                                   "---\njust a string\n---\n"}) {
    SCOPED_TRACE(readme);
    ModelDirFixture m("tiny-llama", {{"README.md", readme}});
    EXPECT_EQ(Kvs(m.dir(), Dense(1488128)).value(), want);
  }
  // Line breaks are str.splitlines()'s: CRLF, CR, and the Unicode ones.
  ModelDirFixture crlf("tiny-llama", {{"README.md", "---\r\nname: crlf\r\n---\r\nbody"}});
  EXPECT_EQ(Kvs(crlf.dir(), Dense(1488128)).value()[1].second, "str:crlf");
  ModelDirFixture nel("tiny-llama", {{"README.md", "---\xC2\x85name: nel\xE2\x80\xA8license: mit\xE2\x80\xA9---"}});
  EXPECT_THAT(Kvs(nel.dir(), Dense(1488128)).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.name", "str:nel"),
                          Pair("general.size_label", "str:1.5M"), Pair("general.license", "str:mit")));
}

TEST(hf_model_card, GenerationConfigValues) {
  auto sampling = [](const std::string& json) {
    ModelDirFixture m("tiny-llama", {{"generation_config.json", json}});
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> kvs = Kvs(m.dir(), Dense(1488128));
    if (!kvs.ok()) return std::vector<std::pair<std::string, std::string>>{{"error", ErrorRule(kvs.status())}};
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& kv : *kvs) {
      if (kv.first.rfind("general.sampling.", 0) == 0) out.push_back(kv);
    }
    return out;
  };
  EXPECT_THAT(sampling(R"({"temperature": 1, "top_k": true, "top_p": false, "min_p": 0.05, "sequence": "edkypmxt",)"
                       R"( "mirostat": 2, "mirostat_tau": 5.0, "mirostat_eta": 0.1, "penalty_last_n": 64,)"
                       R"( "penalty_repeat": 1.1, "xtc_probability": 0.5, "xtc_threshold": 0.1})"),
              ElementsAre(Pair("general.sampling.sequence", "str:edkypmxt"), Pair("general.sampling.top_k", "i32:1"),
                          Pair("general.sampling.top_p", "f32:0x00000000"),
                          Pair("general.sampling.min_p", "f32:0x3d4ccccd"),
                          Pair("general.sampling.xtc_probability", "f32:0x3f000000"),
                          Pair("general.sampling.xtc_threshold", "f32:0x3dcccccd"),
                          Pair("general.sampling.temp", "f32:0x3f800000"),
                          Pair("general.sampling.penalty_last_n", "i32:64"),
                          Pair("general.sampling.penalty_repeat", "f32:0x3f8ccccd"),
                          Pair("general.sampling.mirostat", "i32:2"),
                          Pair("general.sampling.mirostat_tau", "f32:0x40a00000"),
                          Pair("general.sampling.mirostat_eta", "f32:0x3dcccccd")));
  // Python's json takes NaN and Infinity.
  EXPECT_THAT(sampling(R"({"temperature": NaN, "top_p": -Infinity})"),
              ElementsAre(Pair("general.sampling.top_p", "f32:0xff800000"),
                          Pair("general.sampling.temp", "f32:0x7fc00000")));
  // Ignored as the reference ignores them: not JSON, a BOM, null values,
  // an empty sequence, an empty list.
  for (const std::string json : {"not json", "\xEF\xBB\xBF{\"top_k\": 1}", R"({"top_k": null, "sequence": ""})", "[]",
                                 "0", "null"}) {
    EXPECT_TRUE(sampling(json).empty()) << json;
  }
  // Values gguf-py cannot pack fail, as the reference does.
  EXPECT_THAT(sampling(R"({"top_k": 40.0})"), ElementsAre(Pair("error", "hf.generation_config.type")));
  EXPECT_THAT(sampling(R"({"top_k": 2147483648})"), ElementsAre(Pair("error", "hf.generation_config.type")));
  EXPECT_THAT(sampling(R"({"temperature": 1e39})"), ElementsAre(Pair("error", "hf.generation_config.type")));
  EXPECT_THAT(sampling(R"({"sequence": 5})"), ElementsAre(Pair("error", "hf.generation_config.type")));
  EXPECT_THAT(sampling(R"([1])"), ElementsAre(Pair("error", "hf.generation_config.type")));
  EXPECT_THAT(sampling("{\"x\": \"\xFF\"}"), ElementsAre(Pair("error", "hf.generation_config.utf8")));
}

TEST(hf_model_card, SizeLabelsAndParameterCounts) {
  EXPECT_EQ(SizeLabel({1488128, 1488128, 0, 0}), "1.5M");
  EXPECT_EQ(SizeLabel({7241732096, 7241732096, 0, 0}), "7.2B");
  EXPECT_EQ(SizeLabel({999, 999, 0, 0}), "1.0K");
  EXPECT_EQ(SizeLabel({1000000, 1000000, 0, 0}), "1000K");
  EXPECT_EQ(SizeLabel({46702792704, 1604390912, 5637275648, 8}), "8x7.2B");
  EXPECT_EQ(SizeLabel({30532122624, 1335000000, 228000000, 128}), "128x1.6B");

  // Expert tensors: size / count each; a ".bias" takes its count from
  // shape[-2]; 2-D "_exps." tensors are shared.
  const std::vector<std::pair<std::string, std::vector<uint64_t>>> moe = {
      {"token_embd.weight", {32000, 4096}},
      {"blk.0.attn_q.weight", {4096, 4096}},
      {"blk.0.ffn_gate_inp.weight", {8, 4096}},
      {"blk.0.ffn_gate_exps.weight", {8, 14336, 4096}},
      {"blk.0.ffn_down_exps.weight", {8, 4096, 14336}},
      {"blk.0.ffn_up_exps.weight", {8, 14336, 4096}},
      {"blk.0.ffn_up_exps.bias", {8, 14336}},
      {"blk.0.ffn_down_exps.bias", {8, 1, 4096}},
      {"output_norm.weight", {4096}},
      {"output.weight", {32000, 4096}},
  };
  const ParamCounts c = CountParams(moe);
  EXPECT_EQ(c.total, 1688391680u);
  EXPECT_EQ(c.shared, 279072768u);
  EXPECT_EQ(c.expert, 176193536u);
  EXPECT_EQ(c.expert_count, 6u);
  EXPECT_EQ(SizeLabel(c), "6x455M");
  // A zero expert count adds nothing (gguf-py would divide by zero).
  EXPECT_EQ(CountParams(std::vector<std::pair<std::string, std::vector<uint64_t>>>{{"a_exps.weight", {0, 2, 3}}}).expert,
            0u);

  ModelDirFixture m("some-moe");
  EXPECT_THAT(Kvs(m.dir(), {46702792704, 1604390912, 5637275648, 8}).value(),
              ElementsAre(Pair("general.type", "str:model"), Pair("general.name", "str:Some Moe"),
                          Pair("general.size_label", "str:8x7.2B")));
}

TEST(hf_model_card, HostileInputs) {
  // Not UTF-8 anywhere in README.md (the body too): Python fails to decode.
  ModelDirFixture bad("tiny-llama", {{"README.md", "---\nname: ok\n---\nbody \xFF"}});
  const absl::Status s = ModelCardKvs(bad.dir(), nlohmann::json::object(), Dense(1)).status();
  EXPECT_THAT(s, HasRule("hf.model_card.utf8"));
  EXPECT_EQ(ErrorOffset(s), 22u);
  // A config.json whose _name_or_path is not a string.
  ModelDirFixture cfg("tiny-llama");
  EXPECT_THAT(ModelCardKvs(cfg.dir(), {{"_name_or_path", 5}}, Dense(1)), HasRule("hf.config.type"));

  // A front matter that does not end within the first 4 MiB.
  ModelDirFixture big("tiny-llama", {{"README.md", "---\nname: x\n" + std::string(5 << 20, '#')}});
  EXPECT_THAT(ModelCardKvs(big.dir(), nlohmann::json::object(), Dense(1)),
              StatusIs(absl::StatusCode::kResourceExhausted, "hf.model_card.too_large"));
  // A long body after a short front matter is fine.
  ModelDirFixture body("tiny-llama", {{"README.md", "---\nname: Long Body\n---\n" + std::string(6 << 20, 'b')}});
  EXPECT_EQ(Kvs(body.dir(), Dense(1488128)).value()[1].second, "str:Long Body");

  // Nesting: deep YAML is refused before it costs anything.
  ModelDirFixture deep("tiny-llama",
                       {{"README.md", "---\nx: " + std::string(5000, '[') + std::string(5000, ']') + "\n---\n"}});
  EXPECT_THAT(ModelCardKvs(deep.dir(), nlohmann::json::object(), Dense(1)),
              StatusIs(absl::StatusCode::kResourceExhausted, "hf.model_card.too_large"));

  // An alias bomb: anchors are shared, never expanded, so loading is cheap;
  // writing it as tags would need 10^9 elements and is refused.
  std::string bomb = "---\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    absl::StrAppend(&bomb, "a", i, ": &a", i, " [");
    for (int k = 0; k < 10; ++k) absl::StrAppend(&bomb, k ? ", " : "", "*a", i - 1);
    absl::StrAppend(&bomb, "]\n");
  }
  const auto start = std::chrono::steady_clock::now();
  ModelDirFixture harmless("tiny-llama", {{"README.md", bomb + "---\n"}});
  EXPECT_EQ(Kvs(harmless.dir(), Dense(1488128)).value().size(), 3u);
  ModelDirFixture tags("tiny-llama", {{"README.md", bomb + "tags: *a8\n---\n"}});
  EXPECT_THAT(ModelCardKvs(tags.dir(), nlohmann::json::object(), Dense(1)),
              StatusIs(absl::StatusCode::kResourceExhausted, "hf.model_card.too_large"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));

  // A list that contains itself.
  ModelDirFixture cycle("tiny-llama", {{"README.md", "---\ntags: &a [*a]\n---\n"}});
  EXPECT_THAT(ModelCardKvs(cycle.dir(), nlohmann::json::object(), Dense(1)), HasRule("hf.model_card.type"));
  // NUL bytes and control characters are YAML errors, not crashes.
  ModelDirFixture nul("tiny-llama", {{"README.md", std::string("---\nname: a\0b\n---\n", 18)}});
  EXPECT_THAT(ModelCardKvs(nul.dir(), nlohmann::json::object(), Dense(1)), HasRule("hf.model_card.yaml"));
}

}  // namespace
}  // namespace ckpt::hf
