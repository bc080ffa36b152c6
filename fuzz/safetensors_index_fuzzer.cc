// Protects: ShardedSafetensors::Open never crashes on any index file, never
// opens a shard outside the checkpoint directory, and on success every tensor
// the index lists resolves, in the shard the index names, to a view inside
// that shard's bytes.
//
// The input is written as model.safetensors.index.json into a scratch
// directory (on tmpfs when there is one) that also holds two small valid
// shards, made once per process with WriteSafetensors:
//   model-00001-of-00002.safetensors: model.embed_tokens.weight F32 [2,2],
//                                     model.layers.0.self_attn.q_proj.weight BF16 [2,2]
//   model-00002-of-00002.safetensors: model.layers.0.mlp.down_proj.weight F16 [2,2],
//                                     lm_head.weight F32 [2]
// (fuzz/make_seeds.py writes its index seeds against these names; keep them
// in sync). Only the index is rewritten per input.
//
// Checks, each an abort() with a message on stderr:
//   1. Open (default and strict) returns; errors carry a rule id;
//      strict OK  =>  default OK.
//   2. On success: every shard opened is one of the two files above; every
//      tensor reference is in range and its view lies inside its shard; the
//      weight_map, read independently with nlohmann::json (duplicate keys:
//      the last wins, as in Python), has exactly one entry per tensor, and
//      each entry names the shard the tensor was found in.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/dtype.h"
#include "ckpt/safetensors.h"
#include "ckpt/safetensors_sharded.h"
#include "ckpt/status.h"
#include "fuzz/fuzz_check.h"
#include "nlohmann/json.hpp"

namespace {

namespace fs = std::filesystem;

using ckpt_fuzz::Fail;

struct Fixture {
  std::string dir;
  std::string index_path;
  std::vector<std::string> shard_paths;  // the two valid shards
};

std::vector<ckpt::TensorToWrite> MakeTensors(std::vector<std::pair<std::string, ckpt::DType>> specs,
                                             std::vector<std::vector<uint64_t>> shapes,
                                             std::vector<std::vector<uint8_t>>& storage) {
  std::vector<ckpt::TensorToWrite> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = 1;
    for (uint64_t d : shapes[i]) n *= d;
    const uint64_t nbytes = *ckpt::DTypeByteSize(specs[i].second, n);
    std::vector<uint8_t>& buf = storage.emplace_back(nbytes);
    for (size_t k = 0; k < nbytes; ++k) buf[k] = static_cast<uint8_t>(0x3C + 7 * k + 13 * i);
    ckpt::TensorToWrite t;
    t.name = specs[i].first;
    t.dtype = t.source_dtype = specs[i].second;
    t.shape = shapes[i];
    t.data = absl::MakeConstSpan(buf);
    out.push_back(std::move(t));
  }
  return out;
}

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    struct stat st;
    std::string base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) ? "/dev/shm" : "";
    if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string tmpl = base + "/ckpt_index_fuzz_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    f->dir = tmpl;
    f->index_path = f->dir + "/" + ckpt::kSafetensorsIndexName;
    std::vector<std::vector<uint8_t>> storage;
    storage.reserve(8);
    const ckpt::SafetensorsMetadata md =
        std::vector<std::pair<std::string, std::string>>{{"format", "pt"}};
    struct Shard {
      const char* name;
      std::vector<ckpt::TensorToWrite> tensors;
    };
    using ckpt::DType;
    Shard shards[] = {
        {"model-00001-of-00002.safetensors",
         MakeTensors({{"model.embed_tokens.weight", DType::kF32},
                      {"model.layers.0.self_attn.q_proj.weight", DType::kBF16}},
                     {{2, 2}, {2, 2}}, storage)},
        {"model-00002-of-00002.safetensors",
         MakeTensors({{"model.layers.0.mlp.down_proj.weight", DType::kF16}, {"lm_head.weight", DType::kF32}},
                     {{2, 2}, {2}}, storage)},
    };
    for (Shard& s : shards) {
      const std::string path = f->dir + "/" + s.name;
      const absl::Status w = ckpt::WriteSafetensors(path, std::move(s.tensors), md);
      if (!w.ok()) {
        std::fprintf(stderr, "cannot write fuzz shard: %s\n", std::string(w.message()).c_str());
        std::abort();
      }
      f->shard_paths.push_back(path);
    }
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fixture->dir, ec);
    });
    return f;
  }();
  return *fixture;
}

void WriteIndex(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("open index");
    std::abort();
  }
  while (size > 0) {
    const ssize_t w = ::write(fd, data, size);
    if (w < 0) {
      std::perror("write index");
      std::abort();
    }
    data += w;
    size -= static_cast<size_t>(w);
  }
  ::close(fd);
}

bool Inside(absl::Span<const uint8_t> inner, absl::Span<const uint8_t> outer) {
  return inner.data() >= outer.data() && inner.size() <= outer.size() &&
         static_cast<size_t>(inner.data() - outer.data()) <= outer.size() - inner.size();
}

void CheckOpened(const ckpt::ShardedSafetensors& s, const Fixture& fx, const uint8_t* data, size_t size) {
  CHECK(s.shards().size() == s.shard_names().size(), "shard count differs from shard name count");
  for (size_t i = 0; i < s.shards().size(); ++i) {
    const fs::path p = fs::path(fx.dir) / s.shard_names()[i];
    std::error_code ec;
    bool known = false;
    for (const std::string& k : fx.shard_paths) known |= fs::equivalent(p, k, ec);
    CHECK(known, "opened a shard that is not one of the directory's shard files", s.shard_names()[i]);
  }
  size_t total = 0;
  for (const ckpt::SafetensorsFile& f : s.shards()) total += f.size();
  CHECK(s.tensors().size() == total, "tensors() does not list every tensor of every shard once");
  for (size_t i = 0; i < s.tensors().size(); ++i) {
    const auto ref = s.tensors()[i];
    CHECK(ref.shard < s.shards().size(), "tensor reference to a shard out of range");
    const ckpt::SafetensorsFile& f = s.shards()[ref.shard];
    CHECK(ref.index < f.size(), "tensor reference to an index out of range");
    const ckpt::TensorView v = s.tensor(i);
    CHECK(Inside(v.data, f.bytes()), "tensor view outside its shard", v.name);
    CHECK(v.offset >= f.data_offset(), "tensor view inside the shard header", v.name);
  }

  // Every weight_map entry resolves in the shard it names. The library reads
  // the index with its own serde-compatible scanner; nlohmann is an
  // independent reader of the same RFC 8259 grammar. Where the two disagree
  // on syntax alone (nlohmann skips a UTF-8 BOM and has no nesting limit)
  // there is nothing to compare.
  const nlohmann::json index = nlohmann::json::parse(data, data + size, nullptr, false);
  if (index.is_discarded()) return;
  CHECK(index.is_object(), "Open accepted an index that is not a JSON object");
  const auto wm = index.find("weight_map");
  CHECK(wm != index.end() && wm->is_object(), "Open accepted an index without a weight_map object");
  CHECK(wm->size() == s.tensors().size(), "weight_map and the shards hold different tensor counts");
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    CHECK(it.value().is_string(), "Open accepted a weight_map value that is not a string", it.key());
    const std::string& shard = it.value().get_ref<const std::string&>();
    size_t k = 0;
    while (k < s.shard_names().size() && s.shard_names()[k] != shard) ++k;
    CHECK(k < s.shard_names().size(), "a weight_map shard is missing from shard_names()", shard);
    const std::optional<size_t> j = s.shards()[k].Find(it.key());
    CHECK(j.has_value(), "a listed tensor is not in the shard the index names", it.key());
    const ckpt::TensorView v = s.shards()[k].tensor(*j);
    CHECK(Inside(v.data, s.shards()[k].bytes()), "listed tensor's view outside its shard", it.key());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = GetFixture();
  WriteIndex(fx.index_path, data, size);

  absl::StatusOr<ckpt::ShardedSafetensors> loose = ckpt::ShardedSafetensors::Open(fx.dir);
  ckpt::SafetensorsOptions strict_options;
  strict_options.strict = true;
  absl::StatusOr<ckpt::ShardedSafetensors> strict = ckpt::ShardedSafetensors::Open(fx.dir, strict_options);

  if (!loose.ok()) CHECK(!ckpt::ErrorRule(loose.status()).empty(), "error without a rule id", loose.status().message());
  if (!strict.ok()) CHECK(!ckpt::ErrorRule(strict.status()).empty(), "error without a rule id", strict.status().message());
  CHECK(!strict.ok() || loose.ok(), "strict accepts an index that default mode rejects", loose.status().message());
  if (loose.ok()) CheckOpened(*loose, fx, data, size);
  if (strict.ok()) CheckOpened(*strict, fx, data, size);
  return 0;
}
