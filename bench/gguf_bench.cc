// GGUF benchmarks (part of ckpt_bench; Google Benchmark).
//
// They read a real-looking GGUF named by the environment, so that the numbers
// are about a 256k-token vocabulary rather than a toy; bench/run.sh generates
// one with bench/make_gguf_vocab.py and sets the variable. Without it the
// benchmarks report an error and are skipped.
//
//   CKPT_BENCH_GGUF       the vocabulary GGUF (e.g. /tmp/gguf-vocab.gguf,
//                         256,000 tokens + 250,000 merges, 13.8 MB)
//   CKPT_BENCH_HASH_GGUF  a GGUF with much tensor data for BM_GgufXXH64
//                         (default: CKPT_BENCH_GGUF); bench/compare_gguf.sh
//                         makes a 1 GiB one
//
//   BM_GgufOpen            GgufFile::Open: mmap + full header validation +
//                          the KV and tensor indexes (what every command pays)
//   BM_GgufOpenReference   the same with reference_compatible (`ckpt validate`)
//   BM_GgufParse           GgufFile::Parse of the file already in memory
//   BM_GgufParseStrict     the same in strict mode
//   BM_GgufForEachToken    ForEachElement over tokenizer.ggml.tokens, reading
//                          every token (ReadString); items = tokens
//   BM_GgufForEachMerge    the same over tokenizer.ggml.merges
//   BM_GgufToJson          ToJson of every KV (no cut) into one object
//   BM_GgufToJsonDump      ... and dump() of that object to text
//   BM_GgufXXH64           XXH64 (streaming) over every tensor's mapped data;
//                          bytes/s counts tensor bytes, page cache warm
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "ckpt/gguf.h"
#include "xxhash.h"

namespace {

using ckpt::GgufFile;

std::optional<std::string> EnvPath(const char* name) {
  const char* p = std::getenv(name);
  if (p == nullptr || *p == '\0') return std::nullopt;
  return std::string(p);
}

std::optional<std::string> VocabPath() { return EnvPath("CKPT_BENCH_GGUF"); }

// The file's bytes, read once.
const std::vector<uint8_t>* VocabBytes() {
  static const std::optional<std::vector<uint8_t>> bytes = []() -> std::optional<std::vector<uint8_t>> {
    const std::optional<std::string> path = VocabPath();
    if (!path) return std::nullopt;
    std::ifstream in(*path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  return bytes ? &*bytes : nullptr;
}

// The vocabulary file, opened once (for the benchmarks of what comes after Open).
const GgufFile* VocabFile() {
  static const std::optional<GgufFile> f = []() -> std::optional<GgufFile> {
    const std::optional<std::string> path = VocabPath();
    if (!path) return std::nullopt;
    absl::StatusOr<GgufFile> g = GgufFile::Open(*path);
    if (!g.ok()) {
      std::fprintf(stderr, "gguf_bench: %s\n", std::string(g.status().message()).c_str());
      return std::nullopt;
    }
    return std::move(*g);
  }();
  return f ? &*f : nullptr;
}

constexpr const char* kNoFile =
    "CKPT_BENCH_GGUF is not set or not a valid GGUF (bench/run.sh generates one with bench/make_gguf_vocab.py)";

void OpenBench(benchmark::State& state, ckpt::GgufOptions options) {
  const std::optional<std::string> path = VocabPath();
  if (!path) {
    state.SkipWithError(kNoFile);
    return;
  }
  uint64_t size = 0;
  for (auto _ : state) {
    absl::StatusOr<GgufFile> f = GgufFile::Open(*path, options);
    if (!f.ok()) {
      state.SkipWithError(std::string(f.status().message()).c_str());
      return;
    }
    size = f->file_nbytes();
    benchmark::DoNotOptimize(f->kvs().data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}

void BM_GgufOpen(benchmark::State& state) { OpenBench(state, {}); }
void BM_GgufOpenReference(benchmark::State& state) {
  ckpt::GgufOptions o;
  o.reference_compatible = true;
  OpenBench(state, o);
}
BENCHMARK(BM_GgufOpen)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GgufOpenReference)->Unit(benchmark::kMillisecond);

void ParseBench(benchmark::State& state, bool strict) {
  const std::vector<uint8_t>* bytes = VocabBytes();
  if (bytes == nullptr) {
    state.SkipWithError(kNoFile);
    return;
  }
  ckpt::GgufOptions options;
  options.strict = strict;
  for (auto _ : state) {
    absl::StatusOr<GgufFile> f = GgufFile::Parse(absl::MakeConstSpan(*bytes), options);
    if (!f.ok()) {
      state.SkipWithError(std::string(f.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(f->kvs().data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes->size()));
}
void BM_GgufParse(benchmark::State& state) { ParseBench(state, false); }
void BM_GgufParseStrict(benchmark::State& state) { ParseBench(state, true); }
BENCHMARK(BM_GgufParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GgufParseStrict)->Unit(benchmark::kMillisecond);

void ForEachBench(benchmark::State& state, const char* key) {
  const GgufFile* f = VocabFile();
  if (f == nullptr) {
    state.SkipWithError(kNoFile);
    return;
  }
  const ckpt::GgufKv* kv = f->FindKv(key);
  if (kv == nullptr || kv->value.type != ckpt::GgufType::kArray) {
    state.SkipWithError("the file has no such array");
    return;
  }
  for (auto _ : state) {
    uint64_t n = 0, chars = 0;
    f->ForEachElement(kv->value, [&](const ckpt::GgufValue& e) {
      chars += f->ReadString(e).size();
      ++n;
      return true;
    });
    benchmark::DoNotOptimize(chars);
    if (n != kv->value.count) {
      state.SkipWithError("ForEachElement did not visit every element");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kv->value.count));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kv->value.nbytes));
}
void BM_GgufForEachToken(benchmark::State& state) { ForEachBench(state, "tokenizer.ggml.tokens"); }
void BM_GgufForEachMerge(benchmark::State& state) { ForEachBench(state, "tokenizer.ggml.merges"); }
BENCHMARK(BM_GgufForEachToken)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GgufForEachMerge)->Unit(benchmark::kMillisecond);

void ToJsonBench(benchmark::State& state, bool dump) {
  const GgufFile* f = VocabFile();
  if (f == nullptr) {
    state.SkipWithError(kNoFile);
    return;
  }
  uint64_t elements = 0;
  for (const ckpt::GgufKv& kv : f->kvs()) elements += kv.value.type == ckpt::GgufType::kArray ? kv.value.count : 1;
  size_t text = 0;
  for (auto _ : state) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const ckpt::GgufKv& kv : f->kvs()) j[std::string(kv.key)] = f->ToJson(kv.value);
    if (dump) {
      const std::string s = j.dump();
      text = s.size();
      benchmark::DoNotOptimize(s.data());
    } else {
      benchmark::DoNotOptimize(j.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(elements));
  if (dump) state.counters["json_bytes"] = static_cast<double>(text);
}
void BM_GgufToJson(benchmark::State& state) { ToJsonBench(state, false); }
void BM_GgufToJsonDump(benchmark::State& state) { ToJsonBench(state, true); }
BENCHMARK(BM_GgufToJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GgufToJsonDump)->Unit(benchmark::kMillisecond);

// The in-process baseline for `ckpt hash` (bench/compare_gguf.sh times both).
void BM_GgufXXH64(benchmark::State& state) {
  const std::optional<std::string> path = EnvPath("CKPT_BENCH_HASH_GGUF") ? EnvPath("CKPT_BENCH_HASH_GGUF") : VocabPath();
  if (!path) {
    state.SkipWithError(kNoFile);
    return;
  }
  absl::StatusOr<GgufFile> f = GgufFile::Open(*path);
  if (!f.ok()) {
    state.SkipWithError(std::string(f.status().message()).c_str());
    return;
  }
  uint64_t total = 0;
  for (size_t i = 0; i < f->size(); ++i) total += f->tensor(i).nbytes();
  XXH64_state_t* h = XXH64_createState();
  for (auto _ : state) {
    XXH64_reset(h, 0);
    for (size_t i = 0; i < f->size(); ++i) {
      const absl::Span<const uint8_t> d = f->tensor(i).data;
      XXH64_update(h, d.data(), d.size());
    }
    benchmark::DoNotOptimize(XXH64_digest(h));
  }
  XXH64_freeState(h);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(total));
  state.counters["tensor_bytes"] = static_cast<double>(total);
}
BENCHMARK(BM_GgufXXH64)->Unit(benchmark::kMillisecond);

}  // namespace
