// Importance matrices as llama-quantize reads them (common/imatrix-loader.cpp
// and tools/quantize/quantize.cpp): the GGUF form llama-imatrix writes and the
// legacy .dat form. Every count and length is checked against the file.
#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"
#include "ckpt/gguf.h"
#include "ckpt/mapped_file.h"
#include "ckpt/quantize.h"
#include "ckpt/status.h"

namespace ckpt {
namespace {

absl::StatusOr<Imatrix> LoadGgufImatrix(const std::string& path, absl::Span<const uint8_t> bytes) {
  CKPT_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Parse(bytes));
  if (f.size() == 0) return Error("imatrix.empty", "the imatrix holds no tensors").File(path);
  Imatrix m;
  const GgufKv* datasets = f.FindKv("imatrix.datasets");
  const GgufKv* chunk_count = f.FindKv("imatrix.chunk_count");
  const GgufKv* chunk_size = f.FindKv("imatrix.chunk_size");
  // llama-quantize refuses a GGUF imatrix without these three keys.
  if (!datasets || !chunk_count || !chunk_size) {
    return Error("imatrix.metadata",
                 "imatrix.datasets, imatrix.chunk_count and imatrix.chunk_size are all required (llama-quantize "
                 "refuses the file without them)")
        .File(path);
  }
  if (datasets->value.type == GgufType::kArray) {
    f.ForEachElement(datasets->value, [&](const GgufValue& v) {
      if (v.type == GgufType::kString) m.datasets.emplace_back(f.ReadString(v));
      return true;
    });
  }
  if (chunk_count->value.type != GgufType::kU32) {
    return Error("imatrix.metadata", "imatrix.chunk_count must be a u32").File(path).Key("imatrix.chunk_count");
  }
  // llama-quantize keeps it in an int: 2^31 and above turn negative.
  m.chunk_count = static_cast<int32_t>(static_cast<uint32_t>(f.ReadUnsigned(chunk_count->value)));

  struct Pair { int sums = -1, counts = -1; };
  std::map<std::string, Pair> pairs;
  for (size_t i = 0; i < f.size(); ++i) {
    const std::string_view name = f.info(i).name;
    if (name.ends_with(".in_sum2")) {
      pairs[std::string(name.substr(0, name.size() - 8))].sums = static_cast<int>(i);
    } else if (name.ends_with(".counts")) {
      pairs[std::string(name.substr(0, name.size() - 7))].counts = static_cast<int>(i);
    }
  }
  for (const auto& [name, p] : pairs) {
    if (p.sums < 0 || p.counts < 0) {
      return Error("imatrix.unpaired", "an entry needs both <name>.in_sum2 and <name>.counts").File(path).Tensor(name);
    }
    const TensorView sums = f.tensor(p.sums), counts = f.tensor(p.counts);
    if (sums.dtype != DType::kF32 || counts.dtype != DType::kF32 || f.big_endian()) {
      return Error("imatrix.type", "in_sum2 and counts must be little-endian F32 tensors").File(path).Tensor(name);
    }
    const uint64_t nval = sums.data.size() / 4, ncounts = counts.data.size() / 4;
    if (ncounts == 0 || nval % ncounts != 0) {
      return Error("imatrix.shape",
                   absl::StrFormat("%d sums do not split into %d equal per-expert parts", nval, ncounts))
          .File(path)
          .Tensor(name);
    }
    const uint64_t ne0 = nval / ncounts;
    std::vector<float> e(nval);
    for (uint64_t j = 0; j < ncounts; ++j) {
      float c;
      std::memcpy(&c, counts.data.data() + 4 * j, 4);
      // Stored as floats, rounded to an integer count (lround; out of range
      // and NaN give LONG_MIN on x86-64), then used as a float.
      const float count = std::isfinite(c) && std::fabs(c) < 9.2e18f ? static_cast<float>(std::lround(c))
                                                                      : static_cast<float>(INT64_MIN);
      for (uint64_t i = 0; i < ne0; ++i) {
        float s;
        std::memcpy(&s, sums.data.data() + 4 * (j * ne0 + i), 4);
        e[j * ne0 + i] = count > 0.0f ? s / count : 1.0f;
      }
    }
    m.entries.emplace(name, std::move(e));
  }
  return m;
}

// int32 n; n × (int32 len, name, int32 ncall, int32 nval, float[nval]);
// optional int32 chunk_count, int32 len, dataset.
absl::StatusOr<Imatrix> LoadLegacyImatrix(const std::string& path, absl::Span<const uint8_t> b) {
  uint64_t pos = 0;
  auto read_i32 = [&](int32_t* v) {
    if (b.size() - pos < 4) return false;
    std::memcpy(v, b.data() + pos, 4);
    pos += 4;
    return true;
  };
  int32_t n = 0;
  if (!read_i32(&n) || n < 1) return Error("imatrix.empty", "no entries (legacy .dat imatrix)").File(path).At(0);
  Imatrix m;
  m.legacy = true;
  for (int32_t k = 0; k < n; ++k) {
    const uint64_t at = pos;
    int32_t len = 0, ncall = 0, nval = 0;
    if (!read_i32(&len) || len < 0 || static_cast<uint64_t>(len) > b.size() - pos) {
      return Error("imatrix.truncated", absl::StrFormat("entry %d: name length runs past the end", k)).File(path).At(at);
    }
    // Used as a C string: a NUL ends the name.
    std::string name(reinterpret_cast<const char*>(b.data() + pos), len);
    name.resize(std::strlen(name.c_str()));
    pos += len;
    if (!read_i32(&ncall) || !read_i32(&nval) || nval < 1) {
      return Error("imatrix.truncated", absl::StrFormat("entry %d: missing or bad value count", k)).File(path).At(at);
    }
    if (static_cast<uint64_t>(nval) > (b.size() - pos) / 4) {
      return Error("imatrix.truncated", absl::StrFormat("entry %d: %d values run past the end", k, nval))
          .File(path)
          .At(pos);
    }
    std::vector<float> e(nval);
    std::memcpy(e.data(), b.data() + pos, 4 * static_cast<uint64_t>(nval));
    pos += 4 * static_cast<uint64_t>(nval);
    // Stored as (sum/count)*ncall; llama-quantize divides by ncall again.
    if (ncall > 0) {
      for (float& v : e) v = v / static_cast<float>(static_cast<int64_t>(ncall));
    }
    m.entries[std::move(name)] = std::move(e);
  }
  // The trailer is read as an std::istream does: a short read still fills
  // the bytes it got (into a zeroed int) and is used.
  if (pos < b.size()) {
    int32_t chunks = 0, len = 0;
    const uint64_t got = std::min<uint64_t>(4, b.size() - pos);
    std::memcpy(&chunks, b.data() + pos, got);
    pos += got;
    m.chunk_count = chunks;
    if (got == 4 && read_i32(&len) && len > 0 && static_cast<uint64_t>(len) <= b.size() - pos) {
      std::string d(reinterpret_cast<const char*>(b.data() + pos), len);
      d.resize(std::strlen(d.c_str()));
      m.datasets.push_back(std::move(d));
    }
  }
  return m;
}

}  // namespace

absl::StatusOr<Imatrix> ParseImatrix(absl::Span<const uint8_t> bytes, const std::string& name) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) return LoadGgufImatrix(name, bytes);
  return LoadLegacyImatrix(name, bytes);
}

absl::StatusOr<Imatrix> LoadImatrix(const std::string& path) {
  CKPT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  absl::StatusOr<Imatrix> m = ParseImatrix(file.bytes(), path);
  if (!m.ok()) return WithFile(m.status(), path);
  return m;
}

}  // namespace ckpt
