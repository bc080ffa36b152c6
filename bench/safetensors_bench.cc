// ckpt_bench — microbenchmarks of the Safetensors hot paths (Google Benchmark).
//
//   BM_Parse/N          SafetensorsFile::Parse of an in-memory file with N
//                       tensors (header parse + every structural check); the
//                       files are almost all header: 2-D tensors of 1-4
//                       elements with names like model.layers.17.mlp.up_proj.weight.
//   BM_ParseStrict/N    the same in strict mode.
//   BM_SafetensorsOpen/N  SafetensorsFile::Open of such a file on disk (mmap + validate).
//   BM_CheckpointOpen/N Checkpoint::Open of the same file (content sniffing,
//                       mmap, validate, views): what every CLI command pays.
//   BM_WriterHeader/N   SafetensorsHeader for N tensors (already sorted).
//   BM_SortAndHeader/N  SortForSafetensors + SafetensorsHeader, as WriteSafetensors.
//   BM_Convert_A_to_B/N ConvertElements of N elements; bytes/s counts source bytes.
//
// items_per_second is tensors (parse/open/header) or elements (convert).
// Files for the *Open benchmarks go to $TMPDIR (default /tmp) and are removed at exit.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "ckpt/checkpoint.h"
#include "ckpt/dtype.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/safetensors.h"

namespace {

using ckpt::DType;

// N tensors of a decoder-only model: per layer the usual 9 projections and
// norms, numbered like real checkpoints; 2-D shapes of 1-4 elements.
struct TensorSet {
  std::vector<ckpt::TensorToWrite> tensors;  // sorted for the writer
  std::vector<std::vector<uint8_t>> storage;
  std::string file;                          // the complete .safetensors bytes
  uint64_t header_nbytes = 0;
};

const TensorSet& GetTensorSet(int n) {
  static std::map<int, std::unique_ptr<TensorSet>> cache;
  auto& slot = cache[n];
  if (slot) return *slot;
  slot = std::make_unique<TensorSet>();
  TensorSet& s = *slot;
  static const char* kSuffixes[] = {
      "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
      "self_attn.o_proj.weight", "mlp.gate_proj.weight",    "mlp.up_proj.weight",
      "mlp.down_proj.weight",    "input_layernorm.weight",  "post_attention_layernorm.weight",
  };
  static const uint64_t kShapes[][2] = {{1, 1}, {1, 2}, {2, 2}, {1, 4}, {2, 1}, {1, 3}};
  s.storage.reserve(n);
  for (int i = 0; i < n; ++i) {
    ckpt::TensorToWrite t;
    if (i == 0) {
      t.name = "model.embed_tokens.weight";
    } else if (i == n - 1 && n > 2) {
      t.name = "lm_head.weight";
    } else {
      t.name = "model.layers." + std::to_string((i - 1) / 9) + "." + kSuffixes[(i - 1) % 9];
    }
    const bool norm = t.name.find("norm") != std::string::npos;
    t.dtype = t.source_dtype = norm ? DType::kF32 : DType::kBF16;
    const auto& shape = kShapes[i % 6];
    t.shape = {shape[0], shape[1]};
    const uint64_t nbytes = *ckpt::DTypeByteSize(t.dtype, shape[0] * shape[1]);
    std::vector<uint8_t>& buf = s.storage.emplace_back(nbytes);
    for (uint64_t k = 0; k < nbytes; ++k) buf[k] = static_cast<uint8_t>(i * 31 + k * 7);
    t.data = absl::MakeConstSpan(buf);
    s.tensors.push_back(std::move(t));
  }
  ckpt::SortForSafetensors(s.tensors);
  const ckpt::SafetensorsMetadata md = std::vector<std::pair<std::string, std::string>>{{"format", "pt"}};
  absl::StatusOr<std::string> header = ckpt::SafetensorsHeader(s.tensors, md);
  if (!header.ok()) {
    std::fprintf(stderr, "SafetensorsHeader: %s\n", std::string(header.status().message()).c_str());
    std::abort();
  }
  s.header_nbytes = header->size();
  s.file.resize(8);
  std::memcpy(s.file.data(), &s.header_nbytes, 8);
  s.file += *header;
  for (const auto& t : s.tensors) s.file.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  return s;
}

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void ParseBench(benchmark::State& state, bool strict) {
  const TensorSet& s = GetTensorSet(static_cast<int>(state.range(0)));
  ckpt::SafetensorsOptions options;
  options.strict = strict;
  for (auto _ : state) {
    absl::StatusOr<ckpt::SafetensorsFile> f = ckpt::SafetensorsFile::Parse(AsBytes(s.file), options);
    if (!f.ok()) {
      state.SkipWithError(std::string(f.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(f->size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(s.file.size()));
  state.counters["file_bytes"] = static_cast<double>(s.file.size());
}

void BM_Parse(benchmark::State& state) { ParseBench(state, false); }
void BM_ParseStrict(benchmark::State& state) { ParseBench(state, true); }
BENCHMARK(BM_Parse)->Arg(1)->Arg(1000)->Arg(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseStrict)->Arg(20000)->Unit(benchmark::kMicrosecond);

// The on-disk copy of GetTensorSet(n), written once with WriteSafetensors.
const std::string& OnDisk(int n) {
  static std::map<int, std::string> paths;
  auto it = paths.find(n);
  if (it != paths.end()) return it->second;
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/ckpt_bench_" + std::to_string(getpid()) + "_" +
                     std::to_string(n) + ".safetensors";
  const TensorSet& s = GetTensorSet(n);
  const absl::Status w = ckpt::WriteSafetensors(
      path, s.tensors, std::vector<std::pair<std::string, std::string>>{{"format", "pt"}});
  if (!w.ok()) {
    std::fprintf(stderr, "WriteSafetensors: %s\n", std::string(w.message()).c_str());
    std::abort();
  }
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit([] {
      for (const auto& [k, p] : paths) std::remove(p.c_str());
    });
  }
  return paths[n] = path;
}

void BM_SafetensorsOpen(benchmark::State& state) {
  const std::string& path = OnDisk(static_cast<int>(state.range(0)));
  uint64_t size = 0;
  for (auto _ : state) {
    absl::StatusOr<ckpt::SafetensorsFile> f = ckpt::SafetensorsFile::Open(path);
    if (!f.ok()) {
      state.SkipWithError(std::string(f.status().message()).c_str());
      break;
    }
    size = f->file_nbytes();
    benchmark::DoNotOptimize(f->size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_SafetensorsOpen)->Arg(20000)->Unit(benchmark::kMicrosecond);

void BM_CheckpointOpen(benchmark::State& state) {
  const std::string& path = OnDisk(static_cast<int>(state.range(0)));
  uint64_t size = GetTensorSet(static_cast<int>(state.range(0))).file.size();
  for (auto _ : state) {
    absl::StatusOr<ckpt::Checkpoint> c = ckpt::Checkpoint::Open(path);
    if (!c.ok()) {
      state.SkipWithError(std::string(c.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(c->tensors().size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_CheckpointOpen)->Arg(1)->Arg(20000)->Unit(benchmark::kMicrosecond);

void HeaderBench(benchmark::State& state, bool sort) {
  const TensorSet& s = GetTensorSet(static_cast<int>(state.range(0)));
  const ckpt::SafetensorsMetadata md = std::vector<std::pair<std::string, std::string>>{{"format", "pt"}};
  std::vector<ckpt::TensorToWrite> tensors = s.tensors;
  if (sort) std::reverse(tensors.begin(), tensors.end());
  const std::vector<ckpt::TensorToWrite> unsorted = tensors;
  for (auto _ : state) {
    if (sort) {
      state.PauseTiming();
      tensors = unsorted;
      state.ResumeTiming();
      ckpt::SortForSafetensors(tensors);
    }
    absl::StatusOr<std::string> h = ckpt::SafetensorsHeader(tensors, md);
    if (!h.ok()) {
      state.SkipWithError(std::string(h.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(h->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(s.header_nbytes));
}
void BM_WriterHeader(benchmark::State& state) { HeaderBench(state, false); }
void BM_SortAndHeader(benchmark::State& state) { HeaderBench(state, true); }
BENCHMARK(BM_WriterHeader)->Arg(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SortAndHeader)->Arg(20000)->Unit(benchmark::kMicrosecond);

// Source buffers of weight-like values (normal, sigma 0.02), in each dtype.
const std::vector<uint8_t>& Source(DType t, uint64_t n) {
  static std::map<std::pair<DType, uint64_t>, std::vector<uint8_t>> cache;
  auto& buf = cache[{t, n}];
  if (!buf.empty()) return buf;
  std::vector<float> f(n);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  for (float& v : f) v = dist(rng);
  buf.resize(n * ckpt::GetDTypeInfo(t).block_bytes);
  const absl::Status s = ckpt::ConvertElements(
      DType::kF32, {reinterpret_cast<const uint8_t*>(f.data()), n * 4}, t, absl::MakeSpan(buf), n);
  if (!s.ok()) std::abort();
  return buf;
}

void ConvertBench(benchmark::State& state, DType from, DType to) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const std::vector<uint8_t>& src = Source(from, n);
  std::vector<uint8_t> dst(n * ckpt::GetDTypeInfo(to).block_bytes);
  for (auto _ : state) {
    const absl::Status s = ckpt::ConvertElements(from, absl::MakeConstSpan(src), to, absl::MakeSpan(dst), n);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.size()));
}

// 64 Ki elements stay in L2; 16 Mi elements (64 MiB of F32) stream from memory.
#define CKPT_CONVERT_BENCH(NAME, FROM, TO)                                              \
  void BM_Convert_##NAME(benchmark::State& state) { ConvertBench(state, FROM, TO); } \
  BENCHMARK(BM_Convert_##NAME)->Arg(1 << 16)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)

CKPT_CONVERT_BENCH(F32_to_BF16, DType::kF32, DType::kBF16);
CKPT_CONVERT_BENCH(F32_to_F16, DType::kF32, DType::kF16);
CKPT_CONVERT_BENCH(BF16_to_F32, DType::kBF16, DType::kF32);
CKPT_CONVERT_BENCH(F16_to_F32, DType::kF16, DType::kF32);
CKPT_CONVERT_BENCH(BF16_to_F16, DType::kBF16, DType::kF16);

}  // namespace

BENCHMARK_MAIN();
