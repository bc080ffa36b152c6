// File types, the mix policy and importance matrices (ckpt/quantize.h).
// The whole-file byte identity with llama-quantize is checked by the
// `quant_golden` test (../shared/golden/quant/check.py).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "absl/strings/str_format.h"
#include "ckpt/quant.h"
#include "ckpt/quantize.h"
#include "ckpt/status.h"
#include "gtest/gtest.h"
#include "lib/quant/mix.h"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using quant::MixPolicy;

TEST(QuantFileTypes, NamesAliasesAndNumbers) {
  EXPECT_EQ(FindQuantFileType("Q4_K_M")->ftype, 15u);
  EXPECT_EQ(FindQuantFileType("q4_k_m")->name, "Q4_K_M");
  EXPECT_EQ(FindQuantFileType("Q4_K")->ftype, 15u);  // alias of Q4_K_M
  EXPECT_EQ(FindQuantFileType("Q3_K")->ftype, 12u);
  EXPECT_EQ(FindQuantFileType("IQ2_S")->default_type, DType::kIQ2_XS);  // sic, as llama.cpp
  EXPECT_EQ(FindQuantFileType("MXFP4_MOE")->default_type, DType::kMXFP4);
  // The first entry with that ftype in llama-quantize's list is the alias.
  EXPECT_EQ(FindQuantFileType("15")->name, "Q4_K");
  EXPECT_EQ(FindQuantFileType("15")->ftype, 15u);
  EXPECT_EQ(FindQuantFileType("0")->name, "F32");  // not COPY
  EXPECT_TRUE(FindQuantFileType("COPY")->copy);
  EXPECT_FALSE(FindQuantFileType("Q4_2").has_value());
  EXPECT_FALSE(FindQuantFileType("99").has_value());
  EXPECT_FALSE(FindQuantFileType("").has_value());
}

TEST(QuantOrder, LayerNumberThenName) {
  EXPECT_EQ(quant::LayerOf("blk.10.attn_q.weight"), 10);
  EXPECT_EQ(quant::LayerOf("blk.007.x"), 7);
  EXPECT_EQ(quant::LayerOf("blk.+3.x"), 3);
  EXPECT_EQ(quant::LayerOf("blk.x"), -1);
  EXPECT_EQ(quant::LayerOf("output.weight"), -1);
  EXPECT_TRUE(quant::QuantizeOrderLess("token_embd.weight", "blk.0.attn_q.weight"));
  EXPECT_TRUE(quant::QuantizeOrderLess("blk.9.ffn_up.weight", "blk.10.attn_k.weight"));
  EXPECT_TRUE(quant::QuantizeOrderLess("blk.1.attn_k.weight", "blk.1.attn_q.weight"));
  EXPECT_TRUE(quant::QuantizeOrderLess("output.weight", "output_norm.weight"));
}

struct FakeTensor {
  std::string name;
  std::vector<uint64_t> ne;
};

// A Llama-shaped model: names and shapes only, in llama-quantize's order.
std::vector<FakeTensor> LlamaTensors(int n_layer, uint64_t embd, uint64_t ff, uint64_t kv, uint64_t vocab, bool tied) {
  std::vector<FakeTensor> t;
  if (!tied) t.push_back({"output.weight", {embd, vocab}});
  t.push_back({"output_norm.weight", {embd}});
  t.push_back({"token_embd.weight", {embd, vocab}});
  for (int i = 0; i < n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const FakeTensor& x : std::vector<FakeTensor>{{b + "attn_k.weight", {embd, kv}},
                                                       {b + "attn_norm.weight", {embd}},
                                                       {b + "attn_output.weight", {embd, embd}},
                                                       {b + "attn_q.weight", {embd, embd}},
                                                       {b + "attn_v.weight", {embd, kv}},
                                                       {b + "ffn_down.weight", {ff, embd}},
                                                       {b + "ffn_gate.weight", {embd, ff}},
                                                       {b + "ffn_norm.weight", {embd}},
                                                       {b + "ffn_up.weight", {embd, ff}}}) {
      t.push_back(x);
    }
  }
  return t;
}

struct PlanResult {
  std::map<std::string, DType> types;
  std::map<DType, int> counts;
  uint64_t bytes = 0;
};

PlanResult Plan(const std::vector<FakeTensor>& tensors, const QuantModelFacts& facts, const QuantizeOptions& o) {
  std::vector<std::string> names;
  for (const FakeTensor& t : tensors) names.push_back(t.name);
  absl::StatusOr<MixPolicy> policy = MixPolicy::Create(facts, o, names);
  EXPECT_TRUE(policy.ok()) << policy.status();
  PlanResult r;
  for (const FakeTensor& t : tensors) {
    bool fallback = false;
    const absl::StatusOr<DType> type = policy->Choose(t.name, static_cast<int>(t.ne.size()), t.ne[0],
                                                      t.ne.size() > 2 ? t.ne[2] : 1, DType::kF32, &fallback);
    EXPECT_TRUE(type.ok()) << type.status();
    r.types[t.name] = *type;
    ++r.counts[*type];
    uint64_t rows = 1;
    for (size_t i = 1; i < t.ne.size(); ++i) rows *= t.ne[i];
    const DTypeInfo& info = GetDTypeInfo(*type);
    r.bytes += rows * (t.ne[0] / info.block_elems * info.block_bytes);
  }
  return r;
}

QuantizeOptions Options(std::string_view type) {
  QuantizeOptions o;
  o.file_type = *FindQuantFileType(type);
  return o;
}

const QuantModelFacts kLlama3_8B{"llama", 32, 32, 8, 0};

// The spec's reference: llama-quantize --dry-run on Llama-3-8B shapes.
TEST(MixPolicy, Llama3_8B_Q4_K_M) {
  const PlanResult r = Plan(LlamaTensors(32, 4096, 14336, 1024, 128256, false), kLlama3_8B, Options("Q4_K_M"));
  EXPECT_EQ(r.counts.at(DType::kQ4_K), 193);
  EXPECT_EQ(r.counts.at(DType::kQ6_K), 33);
  EXPECT_EQ(r.counts.at(DType::kF32), 65);
  EXPECT_EQ(absl::StrFormat("%.2f", r.bytes / 1048576.0), "4685.30");
  EXPECT_EQ(r.types.at("output.weight"), DType::kQ6_K);
  EXPECT_EQ(r.types.at("token_embd.weight"), DType::kQ4_K);
  // use_more_bits(i, 32) = {0-3, 6, 9, ..., 27, 28-31}
  for (int i = 0; i < 32; ++i) {
    const bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
    const std::string b = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(r.types.at(b + "attn_v.weight"), more ? DType::kQ6_K : DType::kQ4_K) << i;
    EXPECT_EQ(r.types.at(b + "ffn_down.weight"), more ? DType::kQ6_K : DType::kQ4_K) << i;
    EXPECT_EQ(r.types.at(b + "attn_q.weight"), DType::kQ4_K);
  }
}

TEST(MixPolicy, Llama3_8B_OtherMixes) {
  const auto tensors = LlamaTensors(32, 4096, 14336, 1024, 128256, false);
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("Q4_K_S"));
    EXPECT_EQ(r.types.at("blk.3.attn_v.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.4.attn_v.weight"), DType::kQ4_K);
    EXPECT_EQ(r.types.at("blk.3.ffn_down.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.4.ffn_down.weight"), DType::kQ4_K);
  }
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("Q3_K_M"));
    EXPECT_EQ(r.types.at("token_embd.weight"), DType::kQ3_K);
    EXPECT_EQ(r.types.at("blk.1.attn_v.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.2.attn_v.weight"), DType::kQ4_K);
    EXPECT_EQ(r.types.at("blk.1.ffn_down.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.2.ffn_down.weight"), DType::kQ4_K);
    EXPECT_EQ(r.types.at("blk.5.attn_output.weight"), DType::kQ4_K);
    EXPECT_EQ(r.types.at("blk.5.ffn_up.weight"), DType::kQ3_K);
  }
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("Q2_K"));
    EXPECT_EQ(r.types.at("blk.5.attn_v.weight"), DType::kQ4_K);  // n_gqa = 4
    EXPECT_EQ(r.types.at("blk.5.ffn_down.weight"), DType::kQ3_K);
    EXPECT_EQ(r.types.at("blk.5.attn_output.weight"), DType::kQ3_K);
    EXPECT_EQ(r.types.at("blk.5.attn_q.weight"), DType::kQ2_K);
  }
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("IQ4_XS"));
    EXPECT_EQ(r.types.at("output.weight"), DType::kQ6_K);
    EXPECT_EQ(r.types.at("token_embd.weight"), DType::kIQ4_XS);
    EXPECT_EQ(r.types.at("blk.9.attn_v.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.3.ffn_down.weight"), DType::kQ5_K);
    EXPECT_EQ(r.types.at("blk.4.ffn_down.weight"), DType::kIQ4_XS);
  }
  {
    QuantizeOptions o = Options("Q4_K_M");
    o.pure = true;
    const PlanResult r = Plan(tensors, kLlama3_8B, o);
    EXPECT_EQ(r.counts.at(DType::kQ4_K), 226);
    EXPECT_EQ(r.counts.count(DType::kQ6_K), 0u);
  }
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("Q8_0"));
    EXPECT_EQ(r.types.at("output.weight"), DType::kQ8_0);
    EXPECT_EQ(r.counts.at(DType::kQ8_0), 226);
  }
  {
    const PlanResult r = Plan(tensors, kLlama3_8B, Options("Q4_0"));
    EXPECT_EQ(r.types.at("output.weight"), DType::kQ6_K);  // even Q4_0 files get a Q6_K output
  }
}

TEST(MixPolicy, TiedEmbeddingsGetTheOutputRule) {
  const PlanResult r =
      Plan(LlamaTensors(28, 3072, 8192, 1024, 128256, true), QuantModelFacts{"llama", 28, 24, 8, 0}, Options("Q4_K_M"));
  EXPECT_EQ(r.types.at("token_embd.weight"), DType::kQ6_K);
  // use_more_bits(i, 28) = {0-2, 5, 8, ..., 23, 24-27}
  EXPECT_EQ(r.types.at("blk.5.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(r.types.at("blk.6.attn_v.weight"), DType::kQ4_K);
}

TEST(MixPolicy, FourLayersGetNoFirstLayerBonus) {
  const PlanResult r = Plan(LlamaTensors(4, 256, 512, 128, 512, false), QuantModelFacts{"llama", 4, 4, 2, 0},
                            Options("Q4_K_M"));
  // 4/8 = 0: only i >= 7*4/8 = 3 and (i - 0) % 3 == 2 get more bits.
  EXPECT_EQ(r.types.at("blk.0.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(r.types.at("blk.2.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(r.types.at("blk.3.attn_v.weight"), DType::kQ6_K);
}

TEST(MixPolicy, SeventyBBumpsAttnV) {
  const PlanResult r = Plan(LlamaTensors(80, 256, 512, 32, 512, false), QuantModelFacts{"llama", 80, 64, 8, 0},
                            Options("Q4_K_M"));
  EXPECT_EQ(r.types.at("blk.0.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(r.types.at("blk.10.attn_v.weight"), DType::kQ5_K);  // Q4_K → Q5_K for 70B
  EXPECT_EQ(r.types.at("blk.10.attn_q.weight"), DType::kQ4_K);
}

TEST(MixPolicy, RowLengthFallbacks) {
  const std::vector<FakeTensor> t = {{"blk.0.attn_q.weight", {3200, 64}},   // 100 blocks of 32
                                     {"blk.0.ffn_up.weight", {100, 64}},    // not even 32
                                     {"blk.0.attn_output.weight", {256, 64}}};
  std::vector<std::string> names = {t[0].name, t[1].name, t[2].name};
  const QuantizeOptions q4 = Options("Q4_K_S"), q6 = Options("Q6_K"), q4_0 = Options("Q4_0");
  for (const auto& [opt, expect0, expect1] : {std::tuple{&q4, DType::kQ5_0, DType::kF16},
                                               std::tuple{&q6, DType::kQ8_0, DType::kF16}}) {
    absl::StatusOr<MixPolicy> p = MixPolicy::Create({"llama", 1, 4, 4, 0}, *opt, names);
    ASSERT_TRUE(p.ok());
    bool fb = false;
    EXPECT_EQ(*p->Choose(t[0].name, 2, 3200, 1, DType::kF32, &fb), expect0);
    EXPECT_TRUE(fb);
    EXPECT_EQ(*p->Choose(t[1].name, 2, 100, 1, DType::kF32, &fb), expect1);
    EXPECT_EQ(*p->Choose(t[2].name, 2, 256, 1, DType::kF32, &fb), opt->file_type.default_type);
    EXPECT_FALSE(fb);
  }
  absl::StatusOr<MixPolicy> p = MixPolicy::Create({"llama", 1, 4, 4, 0}, q4_0, names);
  bool fb = false;
  const absl::StatusOr<DType> no_fallback = p->Choose(t[1].name, 2, 100, 1, DType::kF32, &fb);
  EXPECT_FALSE(no_fallback.ok());  // Q4_0 has no fallback
}

TEST(MixPolicy, ManualOverrideDoesNotAdvanceCounters) {
  const auto tensors = LlamaTensors(32, 4096, 14336, 1024, 128256, false);
  QuantizeOptions o = Options("Q3_K_M");
  o.tensor_types = {{"blk\\.0\\.attn_v", DType::kQ8_0}};
  const PlanResult r = Plan(tensors, kLlama3_8B, o);
  EXPECT_EQ(r.types.at("blk.0.attn_v.weight"), DType::kQ8_0);
  // The counter did not move for layer 0, so layers 1 and 2 are the "first two".
  EXPECT_EQ(r.types.at("blk.1.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(r.types.at("blk.2.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(r.types.at("blk.3.attn_v.weight"), DType::kQ4_K);
}

TEST(MixPolicy, OptionsAndKeptTensors) {
  QuantizeOptions o = Options("Q4_K_M");
  o.output_tensor_type = DType::kQ8_0;
  o.token_embedding_type = DType::kQ8_0;
  const PlanResult r = Plan(LlamaTensors(2, 256, 512, 128, 512, false), {"llama", 2, 4, 2, 0}, o);
  EXPECT_EQ(r.types.at("output.weight"), DType::kQ8_0);
  EXPECT_EQ(r.types.at("token_embd.weight"), DType::kQ8_0);
  EXPECT_EQ(r.types.at("blk.0.attn_norm.weight"), DType::kF32);

  QuantizeOptions leave = Options("Q4_K_M");
  leave.leave_output_tensor = true;
  EXPECT_FALSE(quant::AllowsQuantization("output.weight", 2, leave));
  EXPECT_TRUE(quant::AllowsQuantization("output.weight", 2, Options("Q4_K_M")));
  EXPECT_FALSE(quant::AllowsQuantization("blk.0.ffn_gate_inp.weight", 2, leave));
  EXPECT_FALSE(quant::AllowsQuantization("blk.0.attn_q.bias", 2, leave));
  EXPECT_FALSE(quant::AllowsQuantization("blk.0.attn_q.weight", 1, leave));
  EXPECT_FALSE(quant::AllowsQuantization("blk.0.attn_q.weight", 2, Options("COPY")));
}

TEST(MixPolicy, MoeUsesLayerFromName) {
  QuantizeOptions o = Options("MXFP4_MOE");
  const std::vector<std::string> names = {"blk.0.ffn_down_exps.weight", "blk.0.attn_q.weight"};
  absl::StatusOr<MixPolicy> p = MixPolicy::Create({"llama", 1, 4, 4, 8}, o, names);
  ASSERT_TRUE(p.ok());
  bool fb = false;
  EXPECT_EQ(*p->Choose(names[0], 3, 256, 8, DType::kF32, &fb), DType::kMXFP4);
  EXPECT_EQ(*p->Choose(names[1], 2, 256, 1, DType::kF32, &fb), DType::kQ8_0);
}

// ---- imatrix -----------------------------------------------------------------

TEST(Imatrix, GoldenGgufImatrix) {
  const std::string path = std::string(CKPT_SHARED_DIR) + "/golden/quant/imatrix.gguf";
  absl::StatusOr<Imatrix> m = LoadImatrix(path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->legacy);
  EXPECT_EQ(m->entries.size(), 57u);
  EXPECT_EQ(m->chunk_count, 10);
  ASSERT_EQ(m->datasets.size(), 1u);
  EXPECT_EQ(m->datasets[0], "calibration.txt");
  EXPECT_EQ(m->entries.count("token_embd.weight"), 0u);
  const std::vector<float>& up = m->entries.at("blk.0.ffn_up.weight");
  ASSERT_EQ(up.size(), 256u);
  // in_sum2 / 5120, read back from the file itself.
  absl::StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok());
  const TensorView sums = f->tensor(*f->Find("blk.0.ffn_up.weight.in_sum2"));
  for (size_t i = 0; i < 256; ++i) {
    float s;
    std::memcpy(&s, sums.data.data() + 4 * i, 4);
    EXPECT_EQ(up[i], s / 5120.0f) << i;
  }
}

std::string LegacyImatrix(int32_t ncall, const std::vector<float>& values, bool trailer) {
  std::string b;
  auto i32 = [&](int32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  i32(1);
  i32(5);
  b += "w.abc";
  i32(ncall);
  i32(static_cast<int32_t>(values.size()));
  b.append(reinterpret_cast<const char*>(values.data()), 4 * values.size());
  if (trailer) {
    i32(7);
    i32(4);
    b += "data";
  }
  return b;
}

TEST(Imatrix, LegacyDat) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/legacy.dat";
  {
    std::ofstream(path, std::ios::binary) << LegacyImatrix(4, {8.0f, 2.0f, 1.0f}, true);
  }
  absl::StatusOr<Imatrix> m = LoadImatrix(path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->legacy);
  EXPECT_EQ(m->entries.at("w.abc"), (std::vector<float>{2.0f, 0.5f, 0.25f}));
  EXPECT_EQ(m->chunk_count, 7);
  EXPECT_EQ(m->datasets, std::vector<std::string>{"data"});

  const std::string full = LegacyImatrix(4, {8.0f, 2.0f, 1.0f}, false);
  for (size_t cut : {size_t{3}, size_t{10}, full.size() - 1}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << full.substr(0, cut);
    EXPECT_FALSE(LoadImatrix(path).ok()) << cut;
  }
}

}  // namespace
}  // namespace ckpt

namespace ckpt {
namespace {

// ---- whole pipeline on small generated files ----------------------------------

TEST(QuantRows, F16AndBF16RoundTripEveryValue) {
  for (DType t : {DType::kF16, DType::kBF16}) {
    std::vector<uint16_t> all(65536);
    for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
    std::vector<float> f(65536);
    DequantizeRow(t, reinterpret_cast<const uint8_t*>(all.data()), f.data(), 65536);
    std::vector<uint16_t> back(65536);
    QuantizeRows(t, f.data(), reinterpret_cast<uint8_t*>(back.data()), 1, 65536, nullptr);
    for (uint32_t i = 0; i < 65536; ++i) {
      const bool nan = t == DType::kF16 ? (i & 0x7C00) == 0x7C00 && (i & 0x3FF) : (i & 0x7F80) == 0x7F80 && (i & 0x7F);
      if (!nan) {
        ASSERT_EQ(back[i], all[i]) << DTypeName(t) << " " << i;
      }
    }
  }
}

// A 2-layer llama GGUF (F32) whose first attn_q row is `row0`.
std::string WriteSmallModel(const std::string& name, const std::vector<float>& row0, uint64_t extra_dims = 0,
                            std::optional<uint32_t> alignment = std::nullopt) {
  std::vector<GgufKvToWrite> kvs = {
      {"general.architecture", GgufOwnedValue::String("llama")},
      {"llama.block_count", GgufOwnedValue::Unsigned(GgufType::kU32, 2)},
      {"llama.attention.head_count", GgufOwnedValue::Unsigned(GgufType::kU32, 4)},
      {"llama.attention.head_count_kv", GgufOwnedValue::Unsigned(GgufType::kU32, 4)},
  };
  if (alignment) kvs.push_back({"general.alignment", GgufOwnedValue::Unsigned(GgufType::kU32, *alignment)});
  static std::vector<std::vector<float>> storage;
  std::vector<GgufTensorToWrite> tensors;
  auto add = [&](std::string n, std::vector<uint64_t> ne) {
    uint64_t count = 1;
    for (uint64_t d : ne) count *= d;
    std::vector<float> v(count);
    for (uint64_t i = 0; i < count; ++i) v[i] = std::sin(static_cast<float>(i) * 0.37f) * 0.02f;
    if (n == "blk.0.attn_q.weight") std::copy(row0.begin(), row0.end(), v.begin());
    storage.push_back(std::move(v));
    GgufTensorToWrite t;
    t.name = std::move(n);
    t.dtype = t.source_dtype = DType::kF32;
    t.ne = std::move(ne);
    t.data = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(storage.back().data()), 4 * count);
    tensors.push_back(std::move(t));
  };
  add("token_embd.weight", {256, 8});
  for (int l = 0; l < 2; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_q.weight", {256, 4});
    add(b + "attn_norm.weight", {256});
    if (extra_dims && l == 1) add(b + "ffn_up.weight", {256, 2, 1, extra_dims});
  }
  add("output.weight", {256, 8});
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteGguf(path, kvs, tensors).ok());
  return path;
}

absl::Status Quantize(const std::string& in_path, std::string_view type, const std::string& out) {
  absl::StatusOr<GgufFile> in = GgufFile::Open(in_path);
  if (!in.ok()) return in.status();
  QuantizeOptions o;
  o.file_type = *FindQuantFileType(type);
  o.threads = 2;
  absl::StatusOr<QuantizePlan> plan = PlanQuantize(*in, o);
  if (!plan.ok()) return plan.status();
  return QuantizeGguf(*in, out, o, *plan);
}

TEST(QuantizeGguf, BytesAreTheKernelsAndLayoutIsLlamaQuantizes) {
  const std::string in = WriteSmallModel("ok.gguf", {});
  const std::string out = ::testing::TempDir() + "/ok-q8.gguf";
  ASSERT_TRUE(Quantize(in, "Q8_0", out).ok());
  absl::StatusOr<GgufFile> a = GgufFile::Open(in), b = GgufFile::Open(out);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->alignment(), 32u);
  EXPECT_EQ(b->GetInt("general.file_type"), 7);
  EXPECT_EQ(b->GetInt("general.quantization_version"), 2);
  EXPECT_EQ(b->kvs().back().key, "general.file_type");
  // Order: non-layer tensors by name, then layer by layer by name.
  std::vector<std::string> names;
  for (const GgufTensorInfo& t : b->infos()) names.emplace_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.0.attn_norm.weight",
                                             "blk.0.attn_q.weight", "blk.1.attn_norm.weight",
                                             "blk.1.attn_q.weight"}));
  const TensorView q = b->tensor(*b->Find("blk.0.attn_q.weight"));
  EXPECT_EQ(q.dtype, DType::kQ8_0);
  const TensorView f = a->tensor(*a->Find("blk.0.attn_q.weight"));
  std::vector<uint8_t> expect(q.data.size());
  QuantizeRows(DType::kQ8_0, reinterpret_cast<const float*>(f.data.data()), expect.data(), 4, 256, nullptr);
  EXPECT_TRUE(std::equal(expect.begin(), expect.end(), q.data.begin()));
  EXPECT_EQ(b->tensor(*b->Find("blk.0.attn_norm.weight")).dtype, DType::kF32);
}

TEST(QuantizeGguf, RejectsNonFiniteInputNamingTheRow) {
  std::vector<float> row(256, 0.01f);
  row[100] = std::numeric_limits<float>::quiet_NaN();
  const std::string in = WriteSmallModel("nan.gguf", row);
  const absl::Status s = Quantize(in, "Q4_K_M", ::testing::TempDir() + "/nan-out.gguf");
  EXPECT_EQ(ErrorRule(s), "quantize.non_finite") << s;
  EXPECT_EQ(ErrorTensor(s), "blk.0.attn_q.weight");
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "/nan-out.gguf"));
}

TEST(QuantizeGguf, ScaleOverflowIsAnError) {
  // 1e30 fits F32 but no f16 block scale can represent it.
  std::vector<float> row(256, 1e30f);
  const std::string in = WriteSmallModel("huge.gguf", row);
  EXPECT_EQ(ErrorRule(Quantize(in, "Q8_0", ::testing::TempDir() + "/huge-out.gguf")), "quantize.scale_overflow");
  EXPECT_EQ(ErrorRule(Quantize(in, "F16", ::testing::TempDir() + "/huge-out.gguf")), "quantize.scale_overflow");
  EXPECT_TRUE(Quantize(in, "BF16", ::testing::TempDir() + "/huge-out.gguf").ok());
}

TEST(QuantizeGguf, FourDimensionalTensorsAreRefused) {
  const std::string in = WriteSmallModel("4d.gguf", {}, 3);
  EXPECT_EQ(ErrorRule(Quantize(in, "Q8_0", ::testing::TempDir() + "/4d-out.gguf")), "quantize.shape");
}

TEST(QuantizeGguf, HonoursInputAlignment) {
  const std::string in = WriteSmallModel("align.gguf", {}, 0, 64);
  const std::string out = ::testing::TempDir() + "/align-out.gguf";
  ASSERT_TRUE(Quantize(in, "Q6_K", out).ok());
  absl::StatusOr<GgufFile> b = GgufFile::Open(out);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->alignment(), 64u);
  for (const GgufTensorInfo& t : b->infos()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
}

TEST(QuantizeGguf, ImatrixOfTheWrongSizeIsAnError) {
  const std::string in_path = WriteSmallModel("im.gguf", {});
  absl::StatusOr<GgufFile> in = GgufFile::Open(in_path);
  ASSERT_TRUE(in.ok());
  Imatrix m;
  m.entries["blk.0.attn_q.weight"] = std::vector<float>(100, 1.0f);
  QuantizeOptions o;
  o.file_type = *FindQuantFileType("Q4_K_M");
  o.imatrix = &m;
  EXPECT_EQ(ErrorRule(PlanQuantize(*in, o).status()), "quantize.imatrix_size");
  m.entries["blk.0.attn_q.weight"] = std::vector<float>(256, 1.0f);
  absl::StatusOr<QuantizePlan> plan = PlanQuantize(*in, o);
  ASSERT_TRUE(plan.ok());
  for (const QuantizePlanEntry& e : plan->tensors) {
    EXPECT_EQ(e.imatrix != nullptr, e.name == "blk.0.attn_q.weight") << e.name;
  }
}

}  // namespace
}  // namespace ckpt
