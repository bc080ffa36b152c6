// GGUF reader.
//
//  1. Golden files written by gguf-py (tests/data/gguf/golden/): every field
//     of each NAME.expect.json sidecar is checked — header, every KV value
//     bit for bit (nested arrays element by element), every tensor info and
//     the SHA-256 of its data — plus ToJson on a few values.
//  2. A table of hostile files built byte by byte by GgufBuilder, one defect
//     each, with the rule and byte offset ckpt reports in default, strict and
//     reference_compatible mode, and what ggml HEAD's gguf_init_from_file
//     does (../shared/docs/specs/gguf.md §4, §6, §7).
//  3. Truncation at every length of valid files.
//  4. The corpus in tests/data/gguf/corpus/ (tests/fixtures/make_gguf_corpus.py):
//     the verdict and rule are in each file's name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ckpt/gguf.h"
#include "nlohmann/json.hpp"
#include "tests/status_matchers.h"
#include "tests/test_util.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AsBytes;
using ::ckpt::testing::HasRule;
using ::ckpt::testing::IsOk;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using json = nlohmann::json;

const std::string kGoldenDir = CKPT_TEST_DATA_DIR "/gguf/golden";
const std::string kCorpusDir = CKPT_TEST_DATA_DIR "/gguf/corpus";

constexpr uint64_t kU64Max = ~uint64_t{0};

GgufOptions Strict() {
  GgufOptions o;
  o.strict = true;
  return o;
}
GgufOptions Reference() {
  GgufOptions o;
  o.reference_compatible = true;
  return o;
}

// ---- SHA-256 (FIPS 180-4), for the sidecars' data_sha256 ----------------------

std::string Sha256Hex(absl::Span<const uint8_t> data) {
  static constexpr uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<uint8_t> m(data.begin(), data.end());
  const uint64_t bits = uint64_t{data.size()} * 8;
  m.push_back(0x80);
  while (m.size() % 64 != 56) m.push_back(0);
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = uint32_t{m[off + 4 * i]} << 24 | uint32_t{m[off + 4 * i + 1]} << 16 | uint32_t{m[off + 4 * i + 2]} << 8 |
             uint32_t{m[off + 4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = std::rotr(w[i - 15], 7) ^ std::rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = std::rotr(w[i - 2], 17) ^ std::rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint32_t x : h) {
    for (int i = 28; i >= 0; i -= 4) out.push_back(kHex[(x >> i) & 15]);
  }
  return out;
}

TEST(gguf_test_helpers, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(AsBytes("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(AsBytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// ---- a GGUF byte builder ------------------------------------------------------

// Metadata value type ids and ggml tensor type ids, spelled out here rather
// than taken from the library under test.
namespace vt {
constexpr uint32_t kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kStr = 8,
                   kArr = 9, kU64 = 10, kI64 = 11, kF64 = 12;
}  // namespace vt
namespace gt {
constexpr uint32_t kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kQ4_K = 12, kI8 = 24, kI32 = 26, kF64 = 28;
}  // namespace gt

// Appends numbers in the file's byte order (written byte by byte, not with
// the library's swapping).
class Enc {
 public:
  Enc(std::string* out, bool big_endian, bool v1) : out_(out), be_(big_endian), v1_(v1) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Put(v, 2); }
  void U32(uint32_t v) { Put(v, 4); }
  void U64(uint64_t v) { Put(v, 8); }
  void F32(float v) { U32(std::bit_cast<uint32_t>(v)); }
  void F64(double v) { U64(std::bit_cast<uint64_t>(v)); }
  // Counts, string and array lengths, dims: u32 in version 1.
  void Len(uint64_t v) { v1_ ? U32(static_cast<uint32_t>(v)) : U64(v); }
  void Str(std::string_view s) {
    Len(s.size());
    Raw(s);
  }
  void Raw(std::string_view s) { out_->append(s.data(), s.size()); }
  uint64_t pos() const { return out_->size(); }

 private:
  void Put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) U8(static_cast<uint8_t>(v >> (8 * (be_ ? n - 1 - i : i))));
  }
  std::string* out_;
  bool be_;
  bool v1_;
};

// Where the builder put things (absolute offsets).
struct Built {
  std::string bytes;
  std::vector<uint64_t> kv_at;        // key length field
  std::vector<uint64_t> kv_type_at;   // value type field
  std::vector<uint64_t> kv_value_at;  // first byte after the value type
  std::vector<uint64_t> info_at, dims_at, type_at;
  std::vector<std::vector<uint64_t>> ne_at;
  std::vector<uint64_t> data_at;  // where each tensor's bytes were put
  uint64_t header_end = 0;        // end of the tensor infos
  uint64_t data_offset = 0;       // header_end rounded up to the layout alignment
  uint64_t data_end = 0;          // end of the last tensor's bytes (before its padding)
  absl::Span<const uint8_t> span() const { return AsBytes(bytes); }
};

// Bytes of `ne` elements of the ggml types the tests use; nullopt when
// unknown, overflowing or not whole blocks.
std::optional<uint64_t> TestNbytes(uint32_t type, const std::vector<uint64_t>& ne) {
  struct Row {
    uint32_t id, block, size;
  };
  static constexpr Row kRows[] = {{0, 1, 4},   {1, 1, 2},   {2, 32, 18}, {8, 32, 34}, {12, 256, 144},
                                  {24, 1, 1},  {25, 1, 2},  {26, 1, 4},  {27, 1, 8},  {28, 1, 8},
                                  {30, 1, 2}};
  for (const Row& r : kRows) {
    if (r.id != type) continue;
    uint64_t n = 1;
    for (uint64_t d : ne) {
      if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
    }
    if (n % r.block != 0) return std::nullopt;
    uint64_t bytes;
    if (__builtin_mul_overflow(n / r.block, r.size, &bytes)) return std::nullopt;
    return bytes;
  }
  return std::nullopt;
}

uint64_t AlignUp(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

class GgufBuilder {
 public:
  using Body = std::function<void(Enc&)>;

  GgufBuilder& Version(uint32_t v) {
    version_ = v;
    return *this;
  }
  GgufBuilder& BigEndian() {
    be_ = true;
    return *this;
  }
  GgufBuilder& Magic(std::string m) {
    magic_ = std::move(m);
    return *this;
  }
  // Overrides the counts in the header.
  GgufBuilder& Counts(uint64_t n_tensors, uint64_t n_kv) {
    n_tensors_ = n_tensors;
    n_kv_ = n_kv;
    return *this;
  }
  // A u32 general.alignment; the layout follows it when it is a power of two.
  GgufBuilder& Alignment(uint32_t a) {
    U32("general.alignment", a);
    if (a != 0 && (a & (a - 1)) == 0) align_ = a;
    return *this;
  }
  // The alignment of the layout only (default 32).
  GgufBuilder& Layout(uint64_t a) {
    align_ = a;
    return *this;
  }

  // ---- KVs
  GgufBuilder& Kv(std::string key, uint32_t type, Body body) {
    kvs_.push_back({std::move(key), type, std::move(body), false});
    return *this;
  }
  // A whole KV record written by `body` (key included).
  GgufBuilder& RawKv(Body body) {
    kvs_.push_back({"", 0, std::move(body), true});
    return *this;
  }
  GgufBuilder& U8(std::string key, uint8_t v) { return Kv(std::move(key), vt::kU8, [v](Enc& e) { e.U8(v); }); }
  GgufBuilder& Bool(std::string key, uint8_t byte) {
    return Kv(std::move(key), vt::kBool, [byte](Enc& e) { e.U8(byte); });
  }
  GgufBuilder& U16(std::string key, uint16_t v) { return Kv(std::move(key), vt::kU16, [v](Enc& e) { e.U16(v); }); }
  GgufBuilder& U32(std::string key, uint32_t v) { return Kv(std::move(key), vt::kU32, [v](Enc& e) { e.U32(v); }); }
  GgufBuilder& I32(std::string key, int32_t v) {
    return Kv(std::move(key), vt::kI32, [v](Enc& e) { e.U32(static_cast<uint32_t>(v)); });
  }
  GgufBuilder& U64(std::string key, uint64_t v) { return Kv(std::move(key), vt::kU64, [v](Enc& e) { e.U64(v); }); }
  GgufBuilder& I64(std::string key, int64_t v) {
    return Kv(std::move(key), vt::kI64, [v](Enc& e) { e.U64(static_cast<uint64_t>(v)); });
  }
  GgufBuilder& F32(std::string key, float v) { return Kv(std::move(key), vt::kF32, [v](Enc& e) { e.F32(v); }); }
  GgufBuilder& F64(std::string key, double v) { return Kv(std::move(key), vt::kF64, [v](Enc& e) { e.F64(v); }); }
  GgufBuilder& Str(std::string key, std::string v) {
    return Kv(std::move(key), vt::kStr, [v](Enc& e) { e.Str(v); });
  }
  // An array: element type, count, then whatever `elems` writes.
  GgufBuilder& Arr(std::string key, uint32_t elem, uint64_t n, Body elems) {
    return Kv(std::move(key), vt::kArr, [elem, n, elems](Enc& e) {
      e.U32(elem);
      e.Len(n);
      if (elems) elems(e);
    });
  }
  GgufBuilder& StrArr(std::string key, std::vector<std::string> v) {
    return Arr(std::move(key), vt::kStr, v.size(), [v](Enc& e) {
      for (const std::string& s : v) e.Str(s);
    });
  }
  GgufBuilder& U8Arr(std::string key, std::vector<uint8_t> v) {
    return Arr(std::move(key), vt::kU8, v.size(), [v](Enc& e) {
      for (uint8_t x : v) e.U8(x);
    });
  }
  GgufBuilder& I32Arr(std::string key, std::vector<int32_t> v) {
    return Arr(std::move(key), vt::kI32, v.size(), [v](Enc& e) {
      for (int32_t x : v) e.U32(static_cast<uint32_t>(x));
    });
  }
  GgufBuilder& F32Arr(std::string key, std::vector<float> v) {
    return Arr(std::move(key), vt::kF32, v.size(), [v](Enc& e) {
      for (float x : v) e.F32(x);
    });
  }
  // `levels` arrays inside each other (the KV's own array is level 1); the
  // innermost holds one i32, 42.
  GgufBuilder& Nested(std::string key, int levels) {
    return Kv(std::move(key), vt::kArr, [levels](Enc& e) {
      for (int l = 1; l < levels; ++l) {
        e.U32(vt::kArr);
        e.Len(1);
      }
      e.U32(vt::kI32);
      e.Len(1);
      e.U32(42);
    });
  }

  // ---- tensors
  // `offset` defaults to the canonical one (the running padded size of the
  // data actually written); `data` to a byte pattern of the declared size
  // (nothing when that is unknown or huge).
  GgufBuilder& Tensor(std::string name, uint32_t type, std::vector<uint64_t> ne,
                      std::optional<uint64_t> offset = std::nullopt, std::optional<std::string> data = std::nullopt) {
    if (!data) {
      const std::optional<uint64_t> n = TestNbytes(type, ne);
      data = std::string(n && *n <= 4096 ? *n : 0, '\0');
      for (size_t i = 0; i < data->size(); ++i) (*data)[i] = static_cast<char>(0x41 + (tensors_.size() * 7 + i) % 26);
    }
    tensors_.push_back({std::move(name), type, std::move(ne), offset, std::move(*data), std::nullopt});
    return *this;
  }
  // Overrides the n_dims field of the last tensor.
  GgufBuilder& NDims(uint32_t n) {
    tensors_.back().n_dims = n;
    return *this;
  }
  GgufBuilder& NoHeaderPad() {
    header_pad_ = false;
    return *this;
  }
  GgufBuilder& NoPadLast() {
    pad_last_ = false;
    return *this;
  }
  GgufBuilder& Trailing(std::string s) {
    trailing_ = std::move(s);
    return *this;
  }

  Built Build() const {
    Built b;
    Enc e(&b.bytes, be_, version_ == 1);
    e.Raw(magic_);  // never swapped
    e.U32(version_);
    e.Len(n_tensors_.value_or(tensors_.size()));
    e.Len(n_kv_.value_or(kvs_.size()));
    for (const KvSpec& kv : kvs_) {
      b.kv_at.push_back(e.pos());
      if (kv.raw) {
        kv.body(e);
        b.kv_type_at.push_back(0);
        b.kv_value_at.push_back(0);
        continue;
      }
      e.Str(kv.key);
      b.kv_type_at.push_back(e.pos());
      e.U32(kv.type);
      b.kv_value_at.push_back(e.pos());
      kv.body(e);
    }
    uint64_t running = 0;
    for (const TensorSpec& t : tensors_) {
      b.info_at.push_back(e.pos());
      e.Str(t.name);
      b.dims_at.push_back(e.pos());
      e.U32(t.n_dims.value_or(static_cast<uint32_t>(t.ne.size())));
      b.ne_at.emplace_back();
      for (uint64_t d : t.ne) {
        b.ne_at.back().push_back(e.pos());
        e.Len(d);
      }
      b.type_at.push_back(e.pos());
      e.U32(t.type);
      e.U64(t.offset.value_or(running));
      running += AlignUp(t.data.size(), align_);
    }
    b.header_end = e.pos();
    b.data_offset = AlignUp(b.header_end, align_);
    if (header_pad_) b.bytes.resize(b.data_offset, '\0');
    for (size_t i = 0; i < tensors_.size(); ++i) {
      b.data_at.push_back(e.pos());
      e.Raw(tensors_[i].data);
      b.data_end = e.pos();
      if (i + 1 < tensors_.size() || pad_last_) {
        while ((e.pos() - b.data_offset) % align_ != 0) e.U8(0);
      }
    }
    e.Raw(trailing_);
    return b;
  }

 private:
  struct KvSpec {
    std::string key;
    uint32_t type;
    Body body;
    bool raw;
  };
  struct TensorSpec {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> ne;
    std::optional<uint64_t> offset;
    std::string data;
    std::optional<uint32_t> n_dims;
  };
  std::string magic_ = "GGUF";
  uint32_t version_ = 3;
  bool be_ = false;
  std::optional<uint64_t> n_tensors_, n_kv_;
  uint64_t align_ = 32;
  std::vector<KvSpec> kvs_;
  std::vector<TensorSpec> tensors_;
  bool header_pad_ = true;
  bool pad_last_ = true;
  std::string trailing_;
};

// A small valid file: a few KV types and two tensors, the last one exactly 32
// bytes (so no proper prefix of the file is valid).
GgufBuilder Small() {
  GgufBuilder b;
  b.Str("general.architecture", "llama")
      .U32("test.u32", 7)
      .U8Arr("test.arr_u8", {1, 2, 3})
      .StrArr("test.strs", {"a", "", "bc"})
      .F32("test.f32", 0.5f)
      .Tensor("a", gt::kF32, {3})
      .Tensor("b", gt::kF32, {4, 2});
  return b;
}

std::string Str(std::string_view s) { return std::string(s); }
std::string Data(const GgufFile& f, size_t i) {
  const TensorView v = f.tensor(i);
  return std::string(reinterpret_cast<const char*>(v.data.data()), v.data.size());
}

TEST(gguf_test_helpers, BuilderLayout) {
  const Built b = Small().Build();
  // magic, version 3, n_tensors 2, n_kv 5, all little-endian.
  EXPECT_EQ(b.bytes.substr(0, 24), std::string("GGUF\3\0\0\0\2\0\0\0\0\0\0\0\5\0\0\0\0\0\0\0", 24));
  EXPECT_EQ(b.kv_at[0], 24u);
  EXPECT_EQ(b.kv_type_at[0], 24u + 8 + 20);
  EXPECT_EQ(b.data_offset % 32, 0u);
  EXPECT_EQ(b.data_at[1], b.data_offset + 32);
  EXPECT_EQ(b.bytes.size(), b.data_offset + 64);
  const Built be = Small().BigEndian().Build();
  EXPECT_EQ(be.bytes.substr(0, 12), std::string("GGUF\0\0\0\3\0\0\0\0", 12));
  const Built v1 = Small().Version(1).Build();
  EXPECT_EQ(v1.bytes.substr(0, 16), std::string("GGUF\1\0\0\0\2\0\0\0\5\0\0\0", 16));
  EXPECT_EQ(v1.kv_at[0], 16u);
}

// ---- golden files --------------------------------------------------------------

json LoadJson(const std::string& path) {
  const std::string text = ReadFile(path);
  return json::parse(text);
}

GgufType TypeFromTag(const std::string& tag) {
  static const char* kTags[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
  for (uint32_t i = 0; i < 13; ++i) {
    if (tag == kTags[i]) return static_cast<GgufType>(i);
  }
  ADD_FAILURE() << "unknown type tag " << tag;
  return GgufType::kU8;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

uint64_t Bits(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// A float as the sidecar writes it: a number (the exact value), or
// "inf" / "-inf" / "nan".
void ExpectFloatValue(double got, const json& value) {
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    if (s == "nan") {
      EXPECT_TRUE(std::isnan(got));
    } else {
      EXPECT_TRUE(std::isinf(got)) << got;
      EXPECT_EQ(std::signbit(got), s == "-inf");
    }
    return;
  }
  EXPECT_EQ(got, value.get<double>());
  EXPECT_EQ(std::signbit(got), std::signbit(value.get<double>()));
}

// Compares scalar or string `v` with the sidecar: type `t`, `value` and, when
// present, the authoritative `bits` / `hex`.
void CheckScalar(const GgufFile& f, const GgufValue& v, GgufType t, const json& value, const json* bits,
                 const json* hex, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(v.type, t);
  switch (t) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      EXPECT_EQ(f.ReadUnsigned(v), value.get<uint64_t>());
      EXPECT_EQ(v.nbytes, GgufTypeSize(t));
      break;
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      EXPECT_EQ(f.ReadSigned(v), value.get<int64_t>());
      EXPECT_EQ(v.nbytes, GgufTypeSize(t));
      break;
    case GgufType::kBool:
      EXPECT_EQ(f.ReadUnsigned(v), value.get<bool>() ? 1u : 0u);
      break;
    case GgufType::kF32:
      ASSERT_NE(bits, nullptr);
      EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(f.ReadFloat(v))), Bits(*bits));
      ExpectFloatValue(f.ReadFloat(v), value);
      break;
    case GgufType::kF64:
      ASSERT_NE(bits, nullptr);
      EXPECT_EQ(std::bit_cast<uint64_t>(f.ReadFloat(v)), Bits(*bits));
      ExpectFloatValue(f.ReadFloat(v), value);
      break;
    case GgufType::kString:
      ASSERT_NE(hex, nullptr);
      EXPECT_EQ(f.ReadString(v), Unhex(hex->get<std::string>()));
      if (!value.is_null()) {
        EXPECT_EQ(f.ReadString(v), value.get<std::string>());
      }
      EXPECT_EQ(v.nbytes, f.ReadString(v).size());
      break;
    case GgufType::kArray:
      ADD_FAILURE() << "array passed to CheckScalar";
  }
}

// Compares array `v` with a sidecar node {"elem_type", "value": [...],
// "bits"/"hex": [...]}; nested arrays element by element.
void CheckArray(const GgufFile& f, const GgufValue& v, const json& node, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(v.type, GgufType::kArray);
  const GgufType elem = TypeFromTag(node["elem_type"].get<std::string>());
  EXPECT_EQ(v.elem_type, elem);
  const json& values = node["value"];
  ASSERT_EQ(v.count, values.size());
  uint64_t i = 0;
  uint64_t end = v.offset;
  f.ForEachElement(v, [&](const GgufValue& e) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (i >= values.size()) {
      ADD_FAILURE() << at << ": more elements than expected";
      return false;
    }
    // Elements are packed: each starts where the previous one ended (after
    // its length field for strings, its type and count for arrays).
    const uint64_t header = elem == GgufType::kString ? 8 : elem == GgufType::kArray ? 12 : 0;
    EXPECT_EQ(e.offset, end + header) << at;
    end = e.offset + e.nbytes;
    if (elem == GgufType::kArray) {
      CheckArray(f, e, values[i], at);
    } else {
      CheckScalar(f, e, elem, values[i], node.contains("bits") ? &node["bits"][i] : nullptr,
                  node.contains("hex") ? &node["hex"][i] : nullptr, at);
    }
    ++i;
    return true;
  });
  EXPECT_EQ(i, v.count);
  EXPECT_EQ(end, v.offset + v.nbytes);
}

// ToJson of `v` against the sidecar: integers exact, floats equal as floats
// (ToJson prints the shortest text), infinities as strings, arrays nested.
void CheckJson(const json& got, GgufType t, const json& value, const json* bits, const std::string& where) {
  SCOPED_TRACE(where);
  switch (t) {
    case GgufType::kF32:
    case GgufType::kF64:
      if (value.is_string()) {
        EXPECT_EQ(got, value == "inf" ? json("Infinity") : value == "-inf" ? json("-Infinity") : json("NaN"));
      } else {
        ASSERT_TRUE(got.is_number_float()) << got.dump();
        if (t == GgufType::kF32) {
          EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(got.get<double>())), Bits(*bits));
        } else {
          EXPECT_EQ(std::bit_cast<uint64_t>(got.get<double>()), Bits(*bits));
        }
      }
      break;
    case GgufType::kString:
      if (value.is_null()) {
        EXPECT_THAT(got.get<std::string>(), HasSubstr("\\x"));  // invalid bytes as \xNN text
      } else {
        EXPECT_EQ(got, value);
      }
      break;
    case GgufType::kArray:
      ADD_FAILURE() << "use CheckJsonArray";
      break;
    default:
      EXPECT_EQ(got, value) << got.dump();  // integers (all 64 bits) and bools
      EXPECT_EQ(got.dump(), value.dump());
  }
}

void CheckJsonArray(const json& got, const json& node, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_TRUE(got.is_array());
  const GgufType elem = TypeFromTag(node["elem_type"].get<std::string>());
  ASSERT_EQ(got.size(), node["value"].size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (elem == GgufType::kArray) {
      CheckJsonArray(got[i], node["value"][i], where + "[" + std::to_string(i) + "]");
    } else {
      CheckJson(got[i], elem, node["value"][i], node.contains("bits") ? &node["bits"][i] : nullptr,
                where + "[" + std::to_string(i) + "]");
    }
  }
}

const std::vector<std::string>& GoldenNames() {
  static const std::vector<std::string> kNames = {"scalars", "arrays",  "nested_arrays", "tensors",   "align64",
                                                  "bigendian", "empty", "kv_only",       "edge_cases"};
  return kNames;
}

TEST(gguf_golden_files, DirectoryHoldsExactlyTheKnownFiles) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(kGoldenDir)) {
    if (e.path().extension() == ".gguf") found.push_back(e.path().stem().string());
    if (e.path().extension() == ".json") {
      EXPECT_TRUE(std::filesystem::exists(kGoldenDir + "/" + e.path().stem().stem().string() + ".gguf"))
          << e.path();
    }
  }
  std::vector<std::string> want = GoldenNames();
  std::sort(found.begin(), found.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(found, want);
}

class GgufGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufGoldenTest, ReadsEverythingTheSidecarSays) {
  const std::string path = kGoldenDir + "/" + GetParam() + ".gguf";
  const json want = LoadJson(kGoldenDir + "/" + GetParam() + ".expect.json");
  absl::StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_THAT(f, IsOk());
  const std::string bytes = ReadFile(path);

  // ---- header
  EXPECT_EQ(want["file"], GetParam() + ".gguf");
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->version(), want["version"].get<uint32_t>());
  EXPECT_EQ(f->big_endian(), want["endian"] == "big");
  EXPECT_EQ(f->alignment(), want["alignment"].get<uint64_t>());
  EXPECT_EQ(f->header_end(), want["info_end"].get<uint64_t>());
  EXPECT_EQ(f->data_offset(), want["data_offset"].get<uint64_t>());
  EXPECT_EQ(f->file_nbytes(), want["file_size"].get<uint64_t>());
  EXPECT_EQ(bytes.size(), want["file_size"].get<uint64_t>());
  EXPECT_EQ(Sha256Hex(f->bytes()), want["file_sha256"]);

  // ---- KVs, in file order, each record right after the previous one
  const json& kvs = want["kvs"];
  ASSERT_EQ(f->kvs().size(), want["n_kv"].get<size_t>());
  ASSERT_EQ(f->kvs().size(), kvs.size());
  uint64_t pos = 24;
  for (size_t i = 0; i < kvs.size(); ++i) {
    const GgufKv& kv = f->kvs()[i];
    const json& w = kvs[i];
    const std::string key = w["key"].get<std::string>();
    SCOPED_TRACE(key);
    EXPECT_EQ(kv.key, key);
    EXPECT_EQ(f->FindKv(key), &kv);
    EXPECT_EQ(kv.key_offset, pos);
    const GgufType type = TypeFromTag(w["type"].get<std::string>());
    ASSERT_EQ(kv.value.type, type);
    // Key (u64 length + bytes), u32 type, then the value; strings start after
    // their length, arrays after element type and count.
    const uint64_t value_at = pos + 8 + key.size() + 4;
    EXPECT_EQ(kv.value.offset, value_at + (type == GgufType::kString ? 8 : type == GgufType::kArray ? 12 : 0));
    EXPECT_EQ(kv.end_offset, kv.value.offset + kv.value.nbytes);
    if (type == GgufType::kArray) {
      CheckArray(*f, kv.value, w, key);
      CheckJsonArray(f->ToJson(kv.value), w, key);
    } else {
      CheckScalar(*f, kv.value, type, w["value"], w.contains("bits") ? &w["bits"] : nullptr,
                  w.contains("hex") ? &w["hex"] : nullptr, key);
      CheckJson(f->ToJson(kv.value), type, w["value"], w.contains("bits") ? &w["bits"] : nullptr, key);
    }
    pos = kv.end_offset;
  }
  EXPECT_EQ(f->FindKv("no.such.key"), nullptr);

  // ---- tensor infos and data
  const json& tensors = want["tensors"];
  ASSERT_EQ(f->size(), want["n_tensors"].get<size_t>());
  ASSERT_EQ(f->size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = f->info(i);
    const json& w = tensors[i];
    const std::string name = w["name"].get<std::string>();
    SCOPED_TRACE(name);
    EXPECT_EQ(t.name, name);
    EXPECT_EQ(f->Find(name), i);
    EXPECT_EQ(t.info_offset, pos);
    EXPECT_EQ(t.ggml_type, w["type_id"].get<uint32_t>());
    EXPECT_EQ(DTypeName(t.dtype), w["type"].get<std::string>());
    EXPECT_EQ(t.n_dims, w["n_dims"].get<uint32_t>());
    const std::vector<uint64_t> ne = w["ne"].get<std::vector<uint64_t>>();
    ASSERT_EQ(ne.size(), t.n_dims);
    for (uint32_t d = 0; d < kGgufMaxDims; ++d) EXPECT_EQ(t.ne[d], d < ne.size() ? ne[d] : 1) << "ne[" << d << "]";
    EXPECT_EQ(t.offset, w["offset"].get<uint64_t>());
    EXPECT_EQ(t.nbytes, w["nbytes"].get<uint64_t>());
    const TensorView v = f->tensor(i);
    EXPECT_EQ(v.name, name);
    EXPECT_EQ(v.dtype, t.dtype);
    EXPECT_EQ(v.offset, f->data_offset() + t.offset);
    EXPECT_EQ(v.data.data(), f->bytes().data() + v.offset);  // a view, not a copy
    EXPECT_EQ(v.nbytes(), t.nbytes);
    EXPECT_EQ(std::vector<uint64_t>(v.shape.begin(), v.shape.end()), std::vector<uint64_t>(ne.rbegin(), ne.rend()));
    EXPECT_EQ(Sha256Hex(v.data), w["data_sha256"]);
    // name (u64 length + bytes), u32 n_dims, u64 ne[n_dims], u32 type, u64 offset
    pos += 8 + name.size() + 4 + 8 * ne.size() + 4 + 8;
  }
  EXPECT_EQ(pos, want["info_end"].get<uint64_t>());
  EXPECT_EQ(f->Find("no.such.tensor"), std::nullopt);
}

TEST_P(GgufGoldenTest, VerdictPerMode) {
  const std::string path = kGoldenDir + "/" + GetParam() + ".gguf";
  const json want = LoadJson(kGoldenDir + "/" + GetParam() + ".expect.json");
  // What strict mode finds first in each file (the others are clean).
  const std::map<std::string, std::string> kStrict = {
      {"nested_arrays", "gguf.value.nested_array"},  // ggml refuses arrays of arrays
      {"bigendian", "gguf.endian"},                  // ggml refuses foreign byte order
      {"edge_cases", "gguf.strict.string_utf8"},     // "\xff\xfe bad \xc3(" comes before the key "test.kéy 日本"
  };
  const auto it = kStrict.find(GetParam());
  absl::StatusOr<GgufFile> def = GgufFile::Open(path);
  ASSERT_THAT(def, IsOk());
  absl::StatusOr<GgufFile> st = GgufFile::Open(path, Strict());
  absl::StatusOr<GgufFile> ref = GgufFile::Open(path, Reference());
  if (it == kStrict.end()) {
    EXPECT_THAT(st, IsOk());
    EXPECT_THAT(def->warnings(), IsEmpty());
  } else {
    EXPECT_THAT(st, HasRule(it->second));
    EXPECT_THAT(def->warnings(), Contains(HasSubstr("[" + it->second + "]")));
  }
  // reference_compatible rejects exactly what ggml could not load.
  if (want["ggml_loadable"].get<bool>()) {
    EXPECT_THAT(ref, IsOk());
  } else {
    ASSERT_NE(it, kStrict.end());
    EXPECT_THAT(ref, HasRule(it->second));
  }
}

INSTANTIATE_TEST_SUITE_P(gguf_golden, GgufGoldenTest, ::testing::ValuesIn(GoldenNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Every proper prefix of a golden file is rejected, up to the end of the
// last tensor's bytes (or of the KVs); only its trailing padding may go.
TEST_P(GgufGoldenTest, EveryPrefixFailsUpToTheLastByteOfData) {
  const std::string bytes = ReadFile(kGoldenDir + "/" + GetParam() + ".gguf");
  absl::StatusOr<GgufFile> full = GgufFile::Parse(AsBytes(bytes));
  ASSERT_THAT(full, IsOk());
  uint64_t needed = full->header_end();
  if (full->size() > 0) {
    const GgufTensorInfo& last = full->infos().back();
    needed = full->data_offset() + last.offset + last.nbytes;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    const absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes).subspan(0, n));
    if (n < needed) {
      ASSERT_FALSE(f.ok()) << "prefix " << n;
      ASSERT_LE(ErrorOffset(f.status()).value_or(UINT64_MAX), n) << f.status().message();
    } else {
      ASSERT_THAT(f, IsOk()) << "prefix " << n;
    }
  }
}

TEST(gguf_golden_files, ToJsonPrintsFloatsShortAndBytesEscaped) {
  absl::StatusOr<GgufFile> f = GgufFile::Open(kGoldenDir + "/scalars.gguf");
  ASSERT_THAT(f, IsOk());
  const auto dump = [&](std::string_view key) {
    const GgufKv* kv = f->FindKv(key);
    EXPECT_NE(kv, nullptr) << key;
    return kv ? f->ToJson(kv->value).dump() : std::string();
  };
  EXPECT_EQ(dump("test.u64"), "18446744073709551615");
  EXPECT_EQ(dump("test.u64_big"), "9007199254740993");  // 2^53 + 1: not via double
  EXPECT_EQ(dump("test.i64"), "-9223372036854775808");
  EXPECT_EQ(dump("test.i64_max"), "9223372036854775807");
  EXPECT_EQ(dump("test.i8"), "-128");
  EXPECT_EQ(dump("test.f32_tenth"), "0.1");  // not 0.10000000149011612
  EXPECT_EQ(dump("test.f32"), "3.14159");
  EXPECT_EQ(dump("test.f32_max"), "3.4028235e+38");
  EXPECT_EQ(dump("test.f32_min_subnormal"), "1e-45");
  EXPECT_EQ(dump("test.f32_neg_zero"), "-0.0");
  EXPECT_EQ(dump("test.f32_inf"), "\"Infinity\"");
  EXPECT_EQ(dump("test.f32_neg_inf"), "\"-Infinity\"");
  EXPECT_EQ(dump("test.f64_tenth"), "0.1");
  EXPECT_EQ(dump("test.f64_min_subnormal"), "5e-324");
  EXPECT_EQ(dump("test.f64_neg_inf"), "\"-Infinity\"");
  EXPECT_EQ(dump("test.bool_true"), "true");
  EXPECT_EQ(dump("test.str_utf8"), "\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80\"");
  EXPECT_EQ(f->GetInt("test.u64"), std::nullopt);  // above INT64_MAX
  EXPECT_EQ(f->GetInt("test.u64_big"), int64_t{9007199254740993});
  EXPECT_EQ(f->GetInt("test.i64"), INT64_MIN);
  EXPECT_EQ(f->GetInt("test.u8"), 255);
  EXPECT_EQ(f->GetInt("test.i16"), -32768);
  EXPECT_EQ(f->GetInt("test.f32"), std::nullopt);
  EXPECT_EQ(f->GetInt("missing"), std::nullopt);
  EXPECT_EQ(f->GetString("general.architecture"), "llama");
  EXPECT_EQ(f->GetString("test.u8"), std::nullopt);

  absl::StatusOr<GgufFile> e = GgufFile::Open(kGoldenDir + "/edge_cases.gguf");
  ASSERT_THAT(e, IsOk());
  const GgufKv* bad = e->FindKv("test.str_not_utf8");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(e->ToJson(bad->value).get<std::string>(), "\\xff\\xfe bad \\xc3(");
  const GgufKv* nul = e->FindKv("test.str_nul");
  ASSERT_NE(nul, nullptr);
  EXPECT_EQ(e->ToJson(nul->value).get<std::string>(), std::string("a\0b", 3));
  EXPECT_EQ(e->ToJson(nul->value).dump(), "\"a\\u0000b\"");

  absl::StatusOr<GgufFile> a = GgufFile::Open(kGoldenDir + "/arrays.gguf");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->ToJson(a->FindKv("test.arr_f32")->value).dump(), R"([0.5,-1.25,"Infinity",-0.0,1e-45,0.1])");
  EXPECT_EQ(a->ToJson(a->FindKv("test.arr_u64")->value).dump(), "[0,1,18446744073709551615]");
  EXPECT_EQ(a->ToJson(a->FindKv("test.arr_i64")->value).dump(),
            "[-9223372036854775808,-1,0,9223372036854775807]");
  EXPECT_EQ(a->ToJson(a->FindKv("test.arr_bool")->value).dump(), "[true,false,true]");
  const GgufValue& long_arr = a->FindKv("test.arr_long_i32")->value;
  EXPECT_EQ(long_arr.count, 100u);
  EXPECT_EQ(a->ToJson(long_arr, 3).size(), 3u);  // cut at max_elements
  EXPECT_EQ(a->ToJson(long_arr, 3), json::array({a->ToJson(long_arr)[0], a->ToJson(long_arr)[1], a->ToJson(long_arr)[2]}));

  absl::StatusOr<GgufFile> n = GgufFile::Open(kGoldenDir + "/nested_arrays.gguf");
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(n->ToJson(n->FindKv("test.nested_i32")->value).dump(), "[[1,2,3],[4],[5,6]]");
  EXPECT_EQ(n->ToJson(n->FindKv("test.nested_3")->value).dump(), "[[[1],[2,3]],[[4]]]");
  EXPECT_EQ(n->ToJson(n->FindKv("test.nested_str")->value).dump(),
            "[[\"a\",\"b\"],[\"\",\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80\"]]");
  EXPECT_EQ(n->FindKv("test.after_nested")->value.type, GgufType::kU32);
  EXPECT_EQ(n->ReadUnsigned(n->FindKv("test.after_nested")->value), 7u);
}

TEST(gguf_golden_files, BigEndianValuesAndTensorsAreSwapped) {
  absl::StatusOr<GgufFile> f = GgufFile::Open(kGoldenDir + "/bigendian.gguf");
  ASSERT_THAT(f, IsOk());
  EXPECT_TRUE(f->big_endian());
  EXPECT_EQ(f->ReadUnsigned(f->FindKv("test.u16")->value), 0x1234u);
  EXPECT_EQ(f->ReadUnsigned(f->FindKv("test.u64")->value), 0x0102030405060708u);
  EXPECT_EQ(f->ToJson(f->FindKv("test.arr_i32")->value).dump(), "[1,-1,16909060]");
  EXPECT_EQ(f->ToJson(f->FindKv("test.f64")->value).dump(), "-0.1");
  // be.i32 = [1, -2, 0x01020304] stored most significant byte first.
  const std::optional<size_t> i = f->Find("be.i32");
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(Data(*f, *i), std::string("\0\0\0\1\xff\xff\xff\xfe\1\2\3\4", 12));
}

// ---- hostile files, one defect each --------------------------------------------

struct Case {
  std::string name;
  std::string bytes;
  std::string rule;            // default mode; "" = accepted
  std::optional<uint64_t> at;  // ErrorOffset of every error with the case's main rule
  std::string strict;          // "=" same as rule; "" accepted
  std::string ref;             // reference_compatible: "=" same as rule; "" accepted
  std::string ggml;            // ggml HEAD gguf_init_from_file (LE host): "accept ..." / "reject ..."
  std::string message;         // substring of the default (or strict) error's message
  bool warns = true;           // a strict-only rule is also a warning by default
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> HostileCases() {
  std::vector<Case> c;
  const auto add = [&](std::string name, std::string bytes, std::string rule, std::optional<uint64_t> at,
                       std::string strict, std::string ref, std::string ggml, std::string message = "") {
    c.push_back({std::move(name), std::move(bytes), std::move(rule), at, std::move(strict), std::move(ref),
                 std::move(ggml), std::move(message), true});
  };
  const std::nullopt_t any = std::nullopt;
  Built b;

  // ---- valid files
  add("valid_small", Small().Build().bytes, "", any, "", "", "accept");
  add("valid_v2", Small().Version(2).Build().bytes, "", any, "", "", "accept");
  add("valid_header_only", GgufBuilder().Build().bytes, "", any, "", "", "accept");
  add("valid_header_only_unpadded", GgufBuilder().NoHeaderPad().Build().bytes, "", any, "", "",
      "accept (pads only when n_tensors > 0)");
  add("valid_ne_8_0_shares_offset",  // §6: 0.18.1 divides by zero here (SIGFPE); HEAD accepts
      GgufBuilder().Tensor("z", gt::kF32, {8, 0}).Tensor("a", gt::kF32, {8}).Build().bytes, "", any, "", "",
      "accept");
  // A zero dim makes an empty tensor however large the others: ggml skips its
  // overflow check and sizes it 0 (review finding: these were rejected).
  add("valid_zero_dim_with_huge_bytes",
      GgufBuilder().Tensor("z", gt::kF32, {uint64_t{1} << 62, 0}).Tensor("a", gt::kF32, {8}).Build().bytes, "", any,
      "", "", "accept");
  add("valid_zero_dim_with_huge_count",
      GgufBuilder().Tensor("z", gt::kF32, {uint64_t{1} << 40, uint64_t{1} << 40, 0}).Build().bytes, "", any, "", "",
      "accept");
  add("valid_scalar_tensor_n_dims_0", GgufBuilder().Tensor("s", gt::kF32, {}).Build().bytes, "", any, "", "",
      "accept");
  add("valid_name_63", GgufBuilder().Tensor(std::string(63, 'n'), gt::kF32, {1}).Build().bytes, "", any, "", "",
      "accept");
  add("valid_alignment_64", Small().Alignment(64).Build().bytes, "", any, "", "", "accept");
  add("valid_quant_tensors",
      GgufBuilder().Tensor("q4", gt::kQ4_0, {64, 2}).Tensor("q8", gt::kQ8_0, {32}).Tensor("k", gt::kQ4_K, {256})
          .Build().bytes,
      "", any, "", "", "accept");
  add("valid_feed_forward_per_layer",
      GgufBuilder().Str("general.architecture", "llama").I32Arr("llama.feed_forward_length", {1, 2}).Build().bytes,
      "", any, "", "", "accept");
  add("valid_vocab",
      GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a", "b"}).F32Arr("tokenizer.ggml.scores", {0, 1})
          .I32Arr("tokenizer.ggml.token_type", {1, 1}).U32("tokenizer.ggml.bos_token_id", 1).Build().bytes,
      "", any, "", "", "accept");
  b = GgufBuilder().Nested("test.n", 16).Build();
  add("valid_nested_16_deep", b.bytes, "", b.kv_value_at[0],
      "gguf.value.nested_array", "gguf.value.nested_array", "reject (invalid GGUF type 9)");

  // ---- magic, version, byte order
  add("magic_wrong", Small().Magic("GGUX").Build().bytes, "gguf.magic", 0, "=", "=", "reject");
  add("magic_short", "GGU", "gguf.magic", 0, "=", "=", "reject");
  add("magic_lowercase", Small().Magic("gguf").Build().bytes, "gguf.magic", 0, "=", "=", "reject");
  add("truncated_in_version", std::string("GGUF\3\0", 6), "gguf.truncated", 4, "=", "=", "reject");
  add("version_0", Small().Version(0).Build().bytes, "gguf.version", 4, "=", "=", "reject");
  add("version_4", Small().Version(4).Build().bytes, "gguf.version", 4, "=", "=", "reject");
  add("version_0x00010000", Small().Version(0x00010000).Build().bytes, "gguf.version", 4, "=", "=",
      "reject (endianness mismatch)", "256");  // low half zero: read as a byte-swapped 256
  add("version_0xffffffff", Small().Version(0xFFFFFFFF).Build().bytes, "gguf.version", 4, "=", "=", "reject");
  add("v1_u32_counts", Small().Version(1).Build().bytes, "", 4, "gguf.version", "gguf.version",
      "reject (GGUFv1 is no longer supported)");
  add("big_endian", Small().BigEndian().Build().bytes, "", 4, "gguf.endian", "gguf.endian",
      "reject (endianness mismatch)");
  add("big_endian_v1", Small().BigEndian().Version(1).Build().bytes, "", 4, "gguf.endian", "gguf.endian",
      "reject");
  add("big_endian_version_4", Small().BigEndian().Version(4).Build().bytes, "gguf.version", 4, "=", "=", "reject");

  // ---- counts (CVE-2024-25664..25668: malloc(n × sizeof) wrapped in the 2023 parser)
  add("n_tensors_0x1d1d1d1d1d1d1d1d",
      GgufBuilder().Counts(0x1D1D1D1D1D1D1D1D, 1).Str("general.architecture", "llama").Build().bytes, "gguf.count",
      8, "=", "=", "reject (over SIZE_MAX / sizeof)");
  add("n_kv_0x1d1d1d1d1d1d1d1d",
      GgufBuilder().Counts(0, 0x1D1D1D1D1D1D1D1D).Str("general.architecture", "llama").Build().bytes, "gguf.count",
      16, "=", "=", "reject (over SIZE_MAX / sizeof)");
  add("n_kv_0xffffffff", GgufBuilder().Counts(0, 0xFFFFFFFF).Str("general.architecture", "llama").Build().bytes,
      "gguf.count", 16, "=", "=", "reject (runs out of bytes)");
  add("n_tensors_0xffffffff",
      GgufBuilder().Counts(0xFFFFFFFF, 0).Tensor("a", gt::kF32, {1}).Build().bytes, "gguf.count", 8, "=", "=",
      "reject (runs out of bytes)");
  add("n_tensors_2pow63", GgufBuilder().Counts(uint64_t{1} << 63, 0).Tensor("a", gt::kF32, {1}).Build().bytes,
      "gguf.count", 8, "=", "=", "reject (negative as int64)");
  add("n_kv_2pow63", GgufBuilder().Counts(0, uint64_t{1} << 63).Str("general.architecture", "llama").Build().bytes,
      "gguf.count", 16, "=", "=", "reject (negative as int64)");
  add("n_kv_max_u64", GgufBuilder().Counts(0, kU64Max).Build().bytes, "gguf.count", 16, "=", "=", "reject");
  add("v1_n_kv_0xffffffff",
      GgufBuilder().Version(1).Counts(0, 0xFFFFFFFF).Str("general.architecture", "llama").Build().bytes,
      "gguf.count", 12, "=", "gguf.version", "reject (v1)");

  // ---- strings and keys
  add("key_length_2pow64m1",  // calloc(n + 1) allocated 0 bytes in the 2023 parser
      GgufBuilder().RawKv([](Enc& e) { e.U64(kU64Max); e.Raw("general.architecture"); }).Build().bytes,
      "gguf.string.too_long", 24, "=", "=", "reject");
  add("key_length_2pow30p1",
      GgufBuilder().RawKv([](Enc& e) { e.U64((uint64_t{1} << 30) + 1); e.Raw("general.architecture"); })
          .Build().bytes,
      "gguf.string.too_long", 24, "=", "=", "reject (GGUF_MAX_STRING_LENGTH)");
  add("key_length_2pow30_past_eof",
      GgufBuilder().RawKv([](Enc& e) { e.U64(uint64_t{1} << 30); e.Raw("general.architecture"); }).Build().bytes,
      "gguf.truncated", 32, "=", "=", "reject");
  b = GgufBuilder().U32("", 1).U32("test.x", 2).Build();
  add("key_empty", b.bytes, "gguf.key.empty", 24, "=", "=",
      "reject");
  b = GgufBuilder().U32("test.x", 1).U32("test.x", 2).Build();
  add("key_duplicate", b.bytes, "gguf.key.duplicate",
      b.kv_at[1], "=", "=", "reject");
  b = GgufBuilder().U32(std::string("general.alignment\0junk", 22), 64).Tensor("a", gt::kF32, {1}).Build();
  add("key_nul_alignment",  // ggml applies alignment 64, gguf-py sees an unknown key: a parser differential
      b.bytes,
      "gguf.key.nul", b.kv_at[0], "=", "=", "accept (looks the key up as a C string)", "general.alignment");
  b = GgufBuilder().Kv("test.s", vt::kStr, [](Enc& e) { e.U64(kU64Max); e.Raw("abcdefgh"); }).Build();
  add("str_value_length_2pow64m1",
      b.bytes,
      "gguf.string.too_long", b.kv_value_at[0], "=", "=", "reject");
  b = GgufBuilder().Kv("test.s", vt::kStr, [](Enc& e) { e.U64(100); e.Raw("abcde"); }).NoHeaderPad().Build();
  add("str_value_past_eof",
      b.bytes,
      "gguf.truncated", b.kv_value_at[0] + 8, "=", "=", "reject");

  // ---- value types
  b = GgufBuilder().Kv("test.x", 13, [](Enc& e) { e.U32(0); }).Build();
  add("value_type_13", b.bytes,
      "gguf.value.type", b.kv_type_at[0], "=", "=", "reject (invalid GGUF type)");
  b = GgufBuilder().Kv("test.x", 0xFFFFFFFF, [](Enc& e) { e.U32(0); }).Build();
  add("value_type_0xffffffff", b.bytes,
      "gguf.value.type", b.kv_type_at[0], "=", "=", "reject");
  b = GgufBuilder().Str("general.architecture", "llama").Kv("test.x", 99, [](Enc& e) { e.U32(0); }) .Tensor("a", gt::kF32, {1}).Build();
  add("value_type_bad_in_kv_1",  // CVE-2024-32878: failing after KV 0 freed uninitialized pointers
      b.bytes,
      "gguf.value.type", b.kv_type_at[1], "=", "=", "reject");
  b = GgufBuilder().Arr("test.a", 13, 1, [](Enc& e) { e.U32(0); }).Build();
  add("array_elem_type_13", b.bytes,
      "gguf.value.type", b.kv_value_at[0], "=", "=", "reject");
  b = GgufBuilder().Arr("test.a", vt::kU8, (uint64_t{1} << 30) + 1, {}).Build();
  add("array_2pow30p1_elements",
      b.bytes, "gguf.array.too_long",
      b.kv_value_at[0] + 4, "=", "=", "reject (GGUF_MAX_ARRAY_ELEMENTS)");
  b = GgufBuilder().Arr("test.a", vt::kU32, uint64_t{1} << 62, [](Enc& e) { e.U32(1); }).Build();
  add("array_n_times_size_wraps_u32",  // 2^62 × 4 = 2^64 ≡ 0
      b.bytes,
      "gguf.array.too_long", b.kv_value_at[0] + 4, "=", "=", "reject");
  b = GgufBuilder().Arr("test.a", vt::kU64, uint64_t{1} << 61, [](Enc& e) { e.U64(1); }).Build();
  add("array_n_times_size_wraps_u64",  // 2^61 × 8 = 2^64 ≡ 0
      b.bytes,
      "gguf.array.too_long", b.kv_value_at[0] + 4, "=", "=", "reject");
  {
    // ggml PR #1516: a 160-byte file that makes an allocating reader reserve
    // 2^30 elements. ckpt sees the bytes are not there before reserving.
    b = GgufBuilder().Arr("test.a", vt::kU8, uint64_t{1} << 30, {}).Build();
    b.bytes.resize(160, '\0');
    add("array_2pow30_u8_in_160_bytes", b.bytes, "gguf.truncated", b.kv_value_at[0] + 12, "=", "=", "reject");
    b = GgufBuilder().Arr("test.a", vt::kStr, uint64_t{1} << 30, {}).Build();
    b.bytes.resize(160, '\0');
    add("array_2pow30_str_in_160_bytes", b.bytes, "gguf.truncated", b.kv_value_at[0] + 12, "=", "=", "reject");
  }
  b = GgufBuilder().Arr("test.a", vt::kStr, 2, [](Enc& e) { e.U64(kU64Max); e.Raw("xxxxxxxx"); }).Build();
  add("array_string_length_2pow64m1",
      b.bytes,
      "gguf.string.too_long", b.kv_value_at[0] + 12, "=", "=", "reject");
  b = GgufBuilder().Arr("test.n", vt::kArr, 2, [](Enc& e) { e.U32(vt::kI32); e.Len(1); e.U32(5); e.U32(vt::kI32); e.Len(0); }).Build();
  add("nested_array",
      b.bytes,
      "", b.kv_value_at[0], "gguf.value.nested_array", "gguf.value.nested_array", "reject (invalid GGUF type 9)");
  b = GgufBuilder().Nested("test.n", 17).Build();
  add("nested_17_deep", b.bytes, "gguf.value.depth",
      b.kv_value_at[0] + 12 * 15, "=", "gguf.value.nested_array", "reject");
  b = GgufBuilder().Nested("test.n", 200).Build();
  add("nested_200_deep", b.bytes, "gguf.value.depth",
      b.kv_value_at[0] + 12 * 15, "=", "gguf.value.nested_array", "reject");

  // ---- strict hazards (ggml accepts all of them)
  b = GgufBuilder().Bool("test.b", 2).Build();
  add("bool_byte_2", b.bytes, "", b.kv_value_at[0], "gguf.strict.bool",
      "", "accept (any non-zero byte is true)");
  b = GgufBuilder().Arr("test.b", vt::kBool, 3, [](Enc& e) { e.U8(1); e.U8(0); e.U8(2); }).Build();
  add("bool_array_byte_2",
      b.bytes, "",
      b.kv_value_at[0] + 12 + 2, "gguf.strict.bool", "", "accept");
  b = GgufBuilder().Str("test.s", "\xff\xfe").Build();
  add("string_not_utf8", b.bytes, "", b.kv_value_at[0],
      "gguf.strict.string_utf8", "", "accept (no UTF-8 check)");
  b = GgufBuilder().StrArr("test.s", {"ok", "\xc3("}).Build();
  add("string_array_not_utf8", b.bytes, "",
      b.kv_value_at[0] + 12 + 8 + 2, "gguf.strict.string_utf8", "", "accept");
  c.back().warns = false;  // array strings are checked in strict mode only (reader.cc: the cost of a 256k vocab)
  b = GgufBuilder().U32("Bad Key", 1).Build();
  add("key_bad_syntax", b.bytes, "", b.kv_at[0], "gguf.strict.key_syntax",
      "", "accept (no key syntax check)");
  b = GgufBuilder().U32("test.k\xc3\xa9y", 1).Build();
  add("key_non_ascii", b.bytes, "", b.kv_at[0],
      "gguf.strict.key_syntax", "", "accept");
  b = GgufBuilder().U32("test..x", 1).Build();
  add("key_empty_segment", b.bytes, "", b.kv_at[0],
      "gguf.strict.key_syntax", "", "accept");
  b = GgufBuilder().Tensor(std::string("t0\0a", 4), gt::kF32, {1}).Build();
  add("tensor_name_nul", b.bytes, "",
      b.info_at[0], "gguf.strict.tensor_name", "", "accept (stored as \"t0\")");
  b = GgufBuilder().Tensor("t\xff", gt::kF32, {1}).Build();
  add("tensor_name_not_utf8", b.bytes, "", b.info_at[0],
      "gguf.strict.tensor_name", "", "accept");
  b = GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a"}).U32("tokenizer.ggml.bos_token_id", 1).Build();
  add("token_id_out_of_vocab",  // GHSA-g4cc-763q-h9h6: a 1-token vocab with bos = 1 reads out of bounds
      b.bytes,
      "", b.kv_value_at[1], "gguf.strict.token_id", "", "accept (llama.cpp reads out of bounds)");
  b = GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a", "b"}).U32("tokenizer.ggml.eos_token_id", 0xFFFFFFFF) .Build();
  add("token_id_eos_far_out",
      b.bytes,
      "", b.kv_value_at[1], "gguf.strict.token_id", "", "accept");
  {
    b = GgufBuilder().Tensor("a", gt::kF32, {3}).Tensor("b", gt::kF32, {3}).NoPadLast().Build();
    add("last_tensor_unpadded", b.bytes, "", b.bytes.size(), "gguf.strict.unpadded_end", "",
        "accept (no_alloc=true; llama-gguf with no_alloc=false rejects)");
    b = Small().Trailing("junk").Build();
    add("trailing_data", b.bytes, "", b.bytes.size() - 4, "gguf.strict.trailing_data", "", "accept");
    b = GgufBuilder().Str("general.architecture", "llama").Trailing("junk").Build();
    add("trailing_data_no_tensors", b.bytes, "", b.bytes.size() - 4, "gguf.strict.trailing_data", "",
        "accept (pads only when n_tensors > 0: reads nothing after the KVs)");
  }

  // ---- alignment
  b = Small().Alignment(0).Build();
  add("alignment_0", b.bytes, "gguf.alignment", b.kv_value_at[5], "=", "=",
      "reject");
  b = Small().Alignment(48).Build();
  add("alignment_48", b.bytes, "gguf.alignment", b.kv_value_at[5], "=", "=",
      "reject (not a power of two)");
  b = Small().U64("general.alignment", 64).Build();
  add("alignment_u64", b.bytes, "gguf.alignment", b.kv_at[5], "=",
      "=", "reject (HEAD; 0.18.1 asserts)");
  b = Small().I32("general.alignment", 32).Build();
  add("alignment_i32", b.bytes, "gguf.alignment", b.kv_at[5], "=",
      "=", "reject");
  b = Small().Alignment(1).Build();
  add("alignment_1", b.bytes, "", b.kv_value_at[5], "gguf.strict.alignment", "",
      "accept (a power of two)");
  b = Small().Alignment(4).Build();
  add("alignment_4", b.bytes, "", b.kv_value_at[5], "gguf.strict.alignment", "",
      "accept");
  b = GgufBuilder().Alignment(uint32_t{1} << 21).NoHeaderPad().Build();
  add("alignment_2pow21_no_tensors",
      b.bytes, "", b.kv_value_at[0],
      "gguf.strict.alignment", "", "accept");
  b = Small().U32("general.alignment", 64).Build();
  add("alignment_64_over_layout_32",  // §6: what llama-gguf-split's hard-coded 32 can produce
      b.bytes, "gguf.tensor.offset", b.info_at[1], "=", "=",
      "reject (offset 32, expected 64)");

  // ---- tensor infos
  b = GgufBuilder().Tensor(std::string(64, 'n'), gt::kF32, {1}).Build();
  add("tensor_name_64", b.bytes,
      "gguf.tensor.name_too_long", b.info_at[0], "=", "=", "reject (GGML_MAX_NAME)");
  b = GgufBuilder().Tensor("a", gt::kF32, {1}).Tensor("a", gt::kF32, {1}).Build();
  add("tensor_name_duplicate",
      b.bytes,
      "gguf.tensor.duplicate", b.info_at[1], "=", "=", "reject");
  b = GgufBuilder().Tensor(std::string("t0\0a", 4), gt::kF32, {1}).Tensor(std::string("t0\0b", 4), gt::kF32, {1}) .Build();
  add("tensor_names_equal_up_to_nul",  // gguf-py accepts both
      b.bytes,
      "gguf.tensor.duplicate", b.info_at[1], "=", "=", "reject (C-string compare)", "NUL");
  b = GgufBuilder().Tensor("a", gt::kF32, {1, 1, 1, 1, 1}).Build();
  add("tensor_n_dims_5", b.bytes,
      "gguf.tensor.n_dims", b.dims_at[0], "=", "=", "reject (GGML_MAX_DIMS)");
  b = GgufBuilder().Tensor("a", gt::kF32, {1}).NDims(0xFFFFFFFF).Build();
  add("tensor_n_dims_0xffffffff",
      b.bytes, "gguf.tensor.n_dims",
      b.dims_at[0], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", gt::kF32, {1, uint64_t{1} << 63}, 0, "").Build();
  add("tensor_ne_negative", b.bytes,
      "gguf.tensor.shape", b.ne_at[0][1], "=", "=", "reject (ne < 0)");
  b = GgufBuilder().Tensor("a", 43, {1}).Build();
  add("tensor_type_43", b.bytes, "gguf.tensor.type", b.type_at[0],
      "=", "=", "reject (type >= GGML_TYPE_COUNT)");
  b = GgufBuilder().Tensor("a", 0xFFFFFFFF, {1}).Build();
  add("tensor_type_0xffffffff", b.bytes, "gguf.tensor.type",
      b.type_at[0], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", 4, {32}).Build();
  add("tensor_type_4_q4_2", b.bytes, "gguf.tensor.type",
      b.type_at[0], "=", "=", "reject (block size 0)", "Q4_2");
  b = GgufBuilder().Tensor("a", 31, {32}).Build();
  add("tensor_type_31_q4_0_4_4", b.bytes, "gguf.tensor.type",
      b.type_at[0], "=", "=", "reject (block size 0)", "Q4_0_4_4");
  b = GgufBuilder().Tensor("a", gt::kQ4_0, {33}, 0, std::string(32, 'q')).Build();
  add("tensor_q4_0_ne0_33", b.bytes,
      "gguf.tensor.block", b.type_at[0], "=", "=", "reject (ne0 % block)");
  b = GgufBuilder().Tensor("a", gt::kQ4_K, {128, 2}, 0, std::string(144, 'q')).Build();
  add("tensor_q4_k_ne0_128",
      b.bytes,
      "gguf.tensor.block", b.type_at[0], "=", "=", "reject");

  // ---- sizes that wrap (§6, §7)
  b = GgufBuilder().Tensor("w", gt::kF32, {4, 1073741823, 1073741825, 1}, 0, "").Tensor("x", gt::kF32, {4}, 0) .Build();
  add("wrap_nbytes_2pow64m16_then_same_offset",  // §6 row 1; llama.cpp #26978
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "accept (PAD wraps to 0: ggml bug)");
  b = GgufBuilder().Alignment(1).Tensor("w", gt::kF32, {4, 1073741823, 1073741825, 1}, 0, std::string(64, 'w')) .Build();
  add("wrap_nbytes_2pow64m16_alignment_1",  // no padding to wrap: the true size is just not in the file
      b.bytes,
      "gguf.tensor.out_of_file", b.info_at[0], "=", "=", "accept (no_alloc=true: no bounds check)");
  b = GgufBuilder().Tensor("q", gt::kQ4_0, {5124095576030431008u}, 0, std::string(32, 'q')).Build();
  add("wrap_q4_0_ne0_5124095576030431008",  // §6 row 2: ggml_nbytes gives 2 bytes
      b.bytes,
      "gguf.tensor.out_of_file", b.info_at[0], "=", "=", "accept (ne0 × 18 wraps: size 2)");
  b = GgufBuilder().Tensor("a", gt::kF32, {uint64_t{1} << 32, uint64_t{1} << 32}, 0, "").Build();
  add("wrap_elements_2pow32_squared",  // §6 row 3: HEAD regression
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "accept (product wraps to 0)");
  b = GgufBuilder().Tensor("a", gt::kF32, {65536, 65536, 65536, 65536}, 0, "").Build();
  add("wrap_elements_2pow16_x4",
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "accept (product wraps to 0)");
  b = GgufBuilder().Tensor("a", gt::kF32, {uint64_t{1} << 40, uint64_t{1} << 24}, 0, "").Build();
  add("wrap_elements_2pow40_2pow24",
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "accept (product wraps to 0)");
  b = GgufBuilder().Tensor("a", gt::kF32, {uint64_t{1} << 33, (uint64_t{1} << 31) + 1}, 0, "").Build();
  add("wrap_elements_nonzero",  // 2^33 × (2^31 + 1) ≡ 2^33
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "reject (not representable)");
  b = GgufBuilder().Tensor("a", gt::kI8, {uint64_t{1} << 62, 2}, 0, "").Build();
  add("elements_2pow63",
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "reject (over INT64_MAX)");
  b = GgufBuilder().Tensor("a", gt::kF32, {uint64_t{1} << 62}, 0, "").Build();
  add("cve_2026_33298_f32",  // 2^62 elements fit int64, 2^64 bytes do not
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "reject (fixed in b7824)");
  b = GgufBuilder().Tensor("a", gt::kF64, {uint64_t{1} << 61}, 0, "").Build();
  add("cve_2026_33298_f64",
      b.bytes,
      "gguf.tensor.size_overflow", b.type_at[0], "=", "=", "reject");
  {
    // CVE-2025-53630: padded sizes summing past 2^64 (offsets 0, 2^63-32, 2^64-64).
    const uint64_t n = (uint64_t{1} << 63) - 32;
    b = GgufBuilder().Tensor("a", gt::kI8, {n}, 0, "").Tensor("b", gt::kI8, {n}, n, "").Tensor("c", gt::kI8, {n}, 2 * n, "")
            .Build();
    add("cve_2025_53630_sizes_sum_past_2pow64", b.bytes, "gguf.tensor.out_of_file", b.info_at[0], "=", "=",
        "reject (fixed in PR #14595)");
  }

  // ---- data offsets and bounds
  b = GgufBuilder().Tensor("a", gt::kF32, {1024, 1024}, 0, std::string(64, 'x')).Build();
  add("bleeding_llama_dims_larger_than_data",  // CVE-2026-7482 (Ollama): 4 MiB declared, 64 bytes present
      b.bytes,
      "gguf.tensor.out_of_file", b.info_at[0], "=", "=", "accept (no_alloc=true: no bounds check)");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}).Tensor("b", gt::kF32, {4}, std::nullopt, "12345678").NoPadLast() .Build();
  add("data_shorter_than_declared",
      b.bytes,
      "gguf.tensor.out_of_file", b.info_at[1], "=", "=", "accept (no_alloc=true); reject (no_alloc=false)");
  {
    b = Small().Build();
    EXPECT_NE(b.header_end % 32, 0u);
    add("header_padding_cut", b.bytes.substr(0, b.header_end + 3), "gguf.truncated", b.header_end, "=", "=",
        "reject (seek past the end)");
  }
  b = GgufBuilder().Tensor("a", gt::kF32, {3}).Tensor("b", gt::kF32, {4}, 64).Build();
  add("offset_gap", b.bytes,
      "gguf.tensor.offset", b.info_at[1], "=", "=", "reject (offset 64, expected 32)");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}).Tensor("b", gt::kF32, {4}, 0).Build();
  add("offset_overlap", b.bytes,
      "gguf.tensor.offset", b.info_at[1], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}, 32).Tensor("b", gt::kF32, {4}, 0).Build();
  add("offset_reordered",
      b.bytes,
      "gguf.tensor.offset", b.info_at[0], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}, 32).Build();
  add("offset_first_not_0", b.bytes, "gguf.tensor.offset",
      b.info_at[0], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}).Tensor("b", gt::kF32, {4}, 12).Build();
  add("offset_unaligned", b.bytes,
      "gguf.tensor.offset", b.info_at[1], "=", "=", "reject");
  b = GgufBuilder().Tensor("a", gt::kF32, {3}, kU64Max).Build();
  add("offset_max_u64", b.bytes, "gguf.tensor.offset",
      b.info_at[0], "=", "=", "reject");

  // ---- well-known keys (ggml accepts; llama.cpp's loader does not)
  b = GgufBuilder().Str("general.architecture", "llama").U64("llama.context_length", 4096).Build();
  add("context_length_u64",
      b.bytes,
      "gguf.key.type", b.kv_at[1], "=", "=", "accept (llama.cpp: wrong type u64, expected u32)", "u32");
  b = GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a", "b", "c"}).U8Arr("tokenizer.ggml.scores", {1, 2, 3}) .Build();
  add("scores_u8",  // llama.cpp reads the u8 array as f32: a 4× over-read
      b.bytes,
      "gguf.key.type", b.kv_at[1], "=", "=", "accept (llama.cpp over-reads)", "arr[f32]");
  b = GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a", "b", "c"}).F32Arr("tokenizer.ggml.scores", {1, 2}) .Build();
  add("scores_shorter_than_tokens",
      b.bytes,
      "gguf.vocab.length", b.kv_at[1], "=", "=", "accept (llama.cpp rejects)");
  b = GgufBuilder().StrArr("tokenizer.ggml.tokens", {"a", "b"}).I32Arr("tokenizer.ggml.token_type", {1}) .Build();
  add("token_type_shorter_than_tokens",
      b.bytes,
      "gguf.vocab.length", b.kv_at[1], "=", "=", "accept");
  b = GgufBuilder().I32Arr("tokenizer.ggml.tokens", {1, 2}).Build();
  add("tokens_not_strings", b.bytes,
      "gguf.key.type", b.kv_at[0], "=", "=", "accept (llama.cpp asserts)");
  b = GgufBuilder().U32("general.architecture", 1).Build();
  add("architecture_not_string", b.bytes, "gguf.key.type",
      b.kv_at[0], "=", "=", "accept");
  b = GgufBuilder().Str("general.architecture", "llama").F32Arr("llama.feed_forward_length", {1}).Build();
  add("feed_forward_f32_array",
      b.bytes,
      "gguf.key.type", b.kv_at[1], "=", "=", "accept");
  return c;
}

class GgufHostile : public ::testing::TestWithParam<Case> {};

TEST_P(GgufHostile, VerdictRuleAndOffset) {
  const Case& c = GetParam();
  const std::string strict_rule = c.strict == "=" ? c.rule : c.strict;
  const std::string ref_rule = c.ref == "=" ? c.rule : c.ref;
  const std::string main_rule = !c.rule.empty() ? c.rule : !strict_rule.empty() ? strict_rule : ref_rule;
  const auto check = [&](const absl::StatusOr<GgufFile>& r, const std::string& rule, const char* mode) {
    SCOPED_TRACE(mode);
    if (rule.empty()) {
      EXPECT_THAT(r, IsOk());
      return;
    }
    EXPECT_THAT(r, HasRule(rule));
    if (r.ok()) return;
    const std::optional<uint64_t> at = ErrorOffset(r.status());
    ASSERT_TRUE(at.has_value()) << r.status().message();
    EXPECT_LE(*at, c.bytes.size());
    if (c.at && rule == main_rule) {
      EXPECT_EQ(*at, *c.at) << r.status().message();
    }
    if (!c.message.empty() && rule == main_rule) {
      EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
    }
  };
  const absl::StatusOr<GgufFile> def = GgufFile::Parse(AsBytes(c.bytes));
  check(def, c.rule, "default");
  check(GgufFile::Parse(AsBytes(c.bytes), Strict()), strict_rule, "strict");
  check(GgufFile::Parse(AsBytes(c.bytes), Reference()), ref_rule, "reference_compatible");
  if (def.ok()) {
    // What only strict rejects is a warning by default.
    if (strict_rule.empty() || !c.warns) {
      EXPECT_THAT(def->warnings(), IsEmpty());
    } else {
      EXPECT_THAT(def->warnings(), Contains(HasSubstr("[" + strict_rule + "]")));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(gguf_hostile, GgufHostile, ::testing::ValuesIn(HostileCases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(gguf_hostile_table, IsConsistent) {
  std::set<std::string> names;
  for (const Case& c : HostileCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case name";
    ASSERT_TRUE(c.ggml.starts_with("accept") || c.ggml.starts_with("reject")) << c.ggml;
    const std::string ref_rule = c.ref == "=" ? c.rule : c.ref;
    const std::string strict_rule = c.strict == "=" ? c.rule : c.strict;
    // Whatever ggml refuses, reference_compatible refuses too.
    if (c.ggml.starts_with("reject")) {
      EXPECT_FALSE(ref_rule.empty());
    }
    // Hazards are strict-only; strict rejects everything the others reject.
    EXPECT_FALSE(c.rule.starts_with("gguf.strict.") || ref_rule.starts_with("gguf.strict."));
    if (!c.rule.empty() || !ref_rule.empty()) {
      EXPECT_FALSE(strict_rule.empty());
    }
  }
  EXPECT_GE(names.size(), 100u);
}

// Every rule id of the reader appears in the table.
TEST(gguf_hostile_table, CoversEveryRule) {
  std::set<std::string> seen;
  for (const Case& c : HostileCases()) {
    for (const std::string& r : {c.rule, c.strict, c.ref}) {
      if (!r.empty() && r != "=") seen.insert(r);
    }
  }
  for (const char* rule :
       {"gguf.magic", "gguf.version", "gguf.endian", "gguf.truncated", "gguf.count", "gguf.string.too_long",
        "gguf.key.empty", "gguf.key.duplicate", "gguf.key.nul", "gguf.value.type", "gguf.value.nested_array",
        "gguf.value.depth", "gguf.array.too_long", "gguf.alignment", "gguf.tensor.name_too_long",
        "gguf.tensor.duplicate", "gguf.tensor.n_dims", "gguf.tensor.shape", "gguf.tensor.size_overflow",
        "gguf.tensor.type", "gguf.tensor.block", "gguf.tensor.offset", "gguf.tensor.out_of_file", "gguf.key.type",
        "gguf.vocab.length", "gguf.strict.bool", "gguf.strict.key_syntax", "gguf.strict.alignment",
        "gguf.strict.token_id", "gguf.strict.unpadded_end", "gguf.strict.trailing_data",
        "gguf.strict.string_utf8", "gguf.strict.tensor_name"}) {
    EXPECT_TRUE(seen.contains(rule)) << rule;
  }
}

// ---- truncation ----------------------------------------------------------------

// Every proper prefix of a valid file fails (gguf.truncated or another rule,
// never a crash: CVE-2024-32878 / CVE-2024-41130 shapes); the whole file opens.
void ExpectEveryPrefixFails(const std::string& bytes, GgufOptions options) {
  std::map<std::string, int> rules;
  for (size_t n = 0; n < bytes.size(); ++n) {
    const absl::StatusOr<GgufFile> f = GgufFile::Parse(AsBytes(bytes).subspan(0, n), options);
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes was accepted";
    const std::string rule = ErrorRule(f.status());
    ++rules[rule];
    EXPECT_TRUE(rule == "gguf.truncated" || rule == "gguf.magic" || rule == "gguf.count" ||
                rule == "gguf.tensor.out_of_file")
        << n << ": " << f.status().message();
    ASSERT_TRUE(ErrorOffset(f.status()).has_value());
    EXPECT_LE(*ErrorOffset(f.status()), n) << f.status().message();
  }
  EXPECT_THAT(GgufFile::Parse(AsBytes(bytes), options), IsOk());
  EXPECT_EQ(rules["gguf.magic"], 4);
  EXPECT_GT(rules["gguf.truncated"], 0);
  EXPECT_GT(rules["gguf.tensor.out_of_file"], 0);
}

TEST(gguf_truncation, EveryPrefixOfAV3FileFails) { ExpectEveryPrefixFails(Small().Build().bytes, {}); }
TEST(gguf_truncation, EveryPrefixOfAV2FileFails) { ExpectEveryPrefixFails(Small().Version(2).Build().bytes, {}); }
TEST(gguf_truncation, EveryPrefixOfAV1FileFails) { ExpectEveryPrefixFails(Small().Version(1).Build().bytes, {}); }
TEST(gguf_truncation, EveryPrefixOfABigEndianFileFails) {
  ExpectEveryPrefixFails(Small().BigEndian().Build().bytes, {});
}
TEST(gguf_truncation, EveryPrefixOfANestedArrayFileFails) {
  ExpectEveryPrefixFails(GgufBuilder().Nested("test.n", 5).StrArr("test.s", {"x", "yz"}).Tensor("t", gt::kQ8_0, {64})
                             .Tensor("u", gt::kF32, {8}).Build().bytes,
                         {});
}

TEST(gguf_truncation, ReportsWhatIsMissing) {
  const Built b = GgufBuilder().Str("general.architecture", "llama").U32("test.u32", 7).Build();
  // Cut inside the second KV's u32 value (enough bytes left for the KV count
  // to be plausible, so the read itself fails).
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span().subspan(0, b.kv_value_at[1] + 2));
  ASSERT_THAT(f, HasRule("gguf.truncated"));
  EXPECT_EQ(ErrorOffset(f.status()), b.kv_value_at[1]);
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("4 bytes needed, 2 left"));
}

// ---- particular behaviours -------------------------------------------------------

TEST(gguf_reader, V1FileWithU32CountsIsReadCorrectly) {
  const Built b = GgufBuilder()
                      .Version(1)
                      .Str("general.architecture", "llama")
                      .U64("test.u64", 0x0102030405060708)
                      .StrArr("test.strs", {"x", "", "yz"})
                      .Nested("test.nested", 3)
                      .F32Arr("test.f32s", {0.5f, -2.0f})
                      .Tensor("a", gt::kF32, {3})
                      .Tensor("q", gt::kQ8_0, {32, 2})
                      .Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span());
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->version(), 1u);
  EXPECT_FALSE(f->big_endian());
  ASSERT_EQ(f->kvs().size(), 5u);
  EXPECT_EQ(f->kvs()[0].key_offset, 16u);  // u32 counts: the KVs start at 16
  EXPECT_EQ(f->kvs()[0].value.offset, 16u + 4 + 20 + 4 + 4);  // u32 key and string lengths
  EXPECT_EQ(f->GetString("general.architecture"), "llama");
  EXPECT_EQ(f->ReadUnsigned(f->FindKv("test.u64")->value), 0x0102030405060708u);
  const GgufValue& strs = f->FindKv("test.strs")->value;
  EXPECT_EQ(strs.count, 3u);
  EXPECT_EQ(strs.nbytes, 3u * 4 + 3);
  std::vector<std::string> got;
  f->ForEachElement(strs, [&](const GgufValue& e) {
    got.push_back(Str(f->ReadString(e)));
    return true;
  });
  EXPECT_THAT(got, ElementsAre("x", "", "yz"));
  EXPECT_EQ(f->ToJson(f->FindKv("test.nested")->value).dump(), "[[[42]]]");
  EXPECT_EQ(f->ToJson(f->FindKv("test.f32s")->value).dump(), "[0.5,-2.0]");
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ(f->info(0).info_offset, b.info_at[0]);
  EXPECT_THAT(f->info(1).ne, ElementsAre(32, 2, 1, 1));
  EXPECT_EQ(f->info(1).n_dims, 2u);
  EXPECT_EQ(f->info(1).dtype, DType::kQ8_0);
  EXPECT_EQ(f->info(1).nbytes, 68u);
  EXPECT_EQ(f->info(1).offset, 32u);
  EXPECT_EQ(f->header_end(), b.header_end);
  EXPECT_EQ(f->data_offset(), b.data_offset);
  EXPECT_EQ(f->tensor(1).offset, b.data_at[1]);
  EXPECT_EQ(Data(*f, 1), b.bytes.substr(b.data_at[1], 68));
  EXPECT_THAT(f->warnings(), ElementsAre(HasSubstr("[gguf.version]"), HasSubstr("[gguf.value.nested_array]")));
  EXPECT_THAT(GgufFile::Parse(b.span(), Reference()), HasRule("gguf.version"));
  EXPECT_THAT(GgufFile::Parse(b.span(), Strict()), HasRule("gguf.version"));
}

TEST(gguf_reader, BigEndianFileIsReadCorrectly) {
  const Built b = GgufBuilder()
                      .BigEndian()
                      .Str("general.architecture", "llama")
                      .U16("test.u16", 0x1234)
                      .I64("test.i64", -2)
                      .F64("test.f64", -0.1)
                      .F32("test.f32", 1.5f)
                      .Bool("test.bool", 1)
                      .StrArr("test.strs", {"big", "", "endian"})
                      .I32Arr("test.i32s", {1, -1, 0x01020304})
                      .Nested("test.nested", 2)
                      .Tensor("a", gt::kF32, {3, 2})
                      .Tensor("b", gt::kF32, {4})
                      .Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span());
  ASSERT_THAT(f, IsOk());
  EXPECT_TRUE(f->big_endian());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->ReadUnsigned(f->FindKv("test.u16")->value), 0x1234u);
  EXPECT_EQ(f->ReadSigned(f->FindKv("test.i64")->value), -2);
  EXPECT_EQ(f->GetInt("test.i64"), -2);
  EXPECT_EQ(f->ReadFloat(f->FindKv("test.f64")->value), -0.1);
  EXPECT_EQ(f->ReadFloat(f->FindKv("test.f32")->value), 1.5);
  EXPECT_EQ(f->ToJson(f->FindKv("test.bool")->value), json(true));
  EXPECT_EQ(f->ToJson(f->FindKv("test.strs")->value).dump(), R"(["big","","endian"])");
  EXPECT_EQ(f->ToJson(f->FindKv("test.i32s")->value).dump(), "[1,-1,16909060]");
  EXPECT_EQ(f->ToJson(f->FindKv("test.nested")->value).dump(), "[[42]]");
  ASSERT_EQ(f->size(), 2u);
  EXPECT_THAT(f->info(0).ne, ElementsAre(3, 2, 1, 1));
  EXPECT_EQ(f->info(1).offset, 32u);
  EXPECT_EQ(f->tensor(1).offset, b.data_at[1]);
  EXPECT_THAT(GgufFile::Parse(b.span(), Reference()), HasRule("gguf.endian"));
}

TEST(gguf_reader, NanAndNegativeValuesInJson) {
  const Built b = GgufBuilder()
                      .F32("test.nan", std::nanf(""))
                      .F64("test.ninf", -INFINITY)
                      .I32("test.i32", -7)
                      .Kv("test.i8", vt::kI8, [](Enc& e) { e.U8(0x80); })
                      .Kv("test.i16", vt::kI16, [](Enc& e) { e.U16(0xFFFE); })
                      .Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span());
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->ToJson(f->FindKv("test.nan")->value), json("NaN"));
  EXPECT_EQ(f->ToJson(f->FindKv("test.ninf")->value), json("-Infinity"));
  EXPECT_EQ(f->ToJson(f->FindKv("test.i32")->value).dump(), "-7");
  EXPECT_EQ(f->ToJson(f->FindKv("test.i8")->value).dump(), "-128");
  EXPECT_EQ(f->ToJson(f->FindKv("test.i16")->value).dump(), "-2");
}

TEST(gguf_reader, ZeroSizeAndScalarTensors) {
  const Built b = GgufBuilder()
                      .Tensor("s", gt::kF32, {})
                      .Tensor("z", gt::kF32, {8, 0})
                      .Tensor("a", gt::kF32, {2})
                      .Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span(), Strict());
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->info(0).n_dims, 0u);
  EXPECT_THAT(f->info(0).ne, ElementsAre(1, 1, 1, 1));
  EXPECT_EQ(f->info(0).nbytes, 4u);
  EXPECT_TRUE(f->tensor(0).shape.empty());
  EXPECT_EQ(f->tensor(0).num_elements(), 1u);
  EXPECT_EQ(f->info(1).nbytes, 0u);
  EXPECT_EQ(f->info(1).offset, 32u);
  EXPECT_EQ(f->info(2).offset, 32u);  // shares the zero-size tensor's offset
  EXPECT_THAT(std::vector<uint64_t>(f->tensor(1).shape.begin(), f->tensor(1).shape.end()), ElementsAre(0, 8));
  EXPECT_EQ(f->tensor(1).num_elements(), 0u);
  EXPECT_EQ(Data(*f, 2), b.bytes.substr(b.data_at[2], 8));
}

TEST(gguf_reader, AlignmentOneLaysTensorsBackToBack) {
  const Built b = GgufBuilder().Alignment(1).Tensor("a", gt::kF32, {3}).Tensor("b", gt::kI8, {5}).Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span());
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->alignment(), 1u);
  EXPECT_EQ(f->data_offset(), f->header_end());
  EXPECT_EQ(f->info(1).offset, 12u);
  EXPECT_EQ(Data(*f, 1), b.bytes.substr(b.bytes.size() - 5));
}

TEST(gguf_reader, ErrorsNameFileOffsetKeyAndTensor) {
  ScratchDir dir;
  {
    const Built b = GgufBuilder().U32(std::string("general.alignment\0junk", 22), 64).Build();
    const std::string path = dir / "nul.gguf";
    WriteFile(path, b.bytes);
    absl::StatusOr<GgufFile> f = GgufFile::Open(path);
    ASSERT_THAT(f, HasRule("gguf.key.nul"));
    EXPECT_EQ(ErrorFile(f.status()), path);
    EXPECT_EQ(ErrorOffset(f.status()), 24u);
    EXPECT_EQ(ErrorKey(f.status()), std::string("general.alignment\0junk", 22));
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("general.alignment\\x00junk"));
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("ggml would read it as 'general.alignment'"));
  }
  {
    const Built b = GgufBuilder().Tensor("w", gt::kQ4_0, {33}, 0, std::string(18, 'x')).Build();
    const std::string path = dir / "block.gguf";
    WriteFile(path, b.bytes);
    absl::StatusOr<GgufFile> f = GgufFile::Open(path);
    ASSERT_THAT(f, HasRule("gguf.tensor.block"));
    EXPECT_EQ(ErrorTensor(f.status()), "w");
    EXPECT_EQ(f.status().message(), path + ": offset " + std::to_string(b.type_at[0]) +
                                        ": tensor 'w': ne[0] = 33 is not a multiple of Q4_0's block size 32 "
                                        "[gguf.tensor.block]");
  }
}

TEST(gguf_reader, HazardsAreCountedOncePerKind) {
  // Many bad bools and strings: one warning each kind, not one per value.
  GgufBuilder g;
  for (int i = 0; i < 50; ++i) g.Bool("test.b" + std::to_string(i), 7).Str("test.s" + std::to_string(i), "\xff");
  absl::StatusOr<GgufFile> f = GgufFile::Parse(g.Build().span());
  ASSERT_THAT(f, IsOk());
  EXPECT_THAT(f->warnings(), ElementsAre(HasSubstr("[gguf.strict.bool]"), HasSubstr("[gguf.strict.string_utf8]")));
}

TEST(gguf_reader, HazardWarningsAreCapped) {
  GgufBuilder g;
  for (int i = 0; i < 30; ++i) g.U32("Bad.Key" + std::to_string(i), 1);
  absl::StatusOr<GgufFile> f = GgufFile::Parse(g.Build().span());
  ASSERT_THAT(f, IsOk());
  ASSERT_EQ(f->warnings().size(), 21u);
  EXPECT_EQ(f->warnings().back(), "... and 10 more hazards like these");
}

TEST(gguf_reader, ArrayOfSixteenLevelsIsReadBack) {
  const Built b = GgufBuilder().Nested("test.n", 16).Build();
  absl::StatusOr<GgufFile> f = GgufFile::Parse(b.span());
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(f->ToJson(f->kvs()[0].value).dump(), std::string(16, '[') + "42" + std::string(16, ']'));
  EXPECT_EQ(f->kvs()[0].value.nbytes, 15u * 12 + 4);  // levels 2-16 (type + count each), one i32
}

TEST(gguf_reader, HugeCountsFailFastWithoutReading) {
  // Tiny files declaring 2^30-element arrays or ~2^61 records: rejected from
  // the header alone (a reader that reserved first would need gigabytes).
  for (uint64_t n : {uint64_t{0x1D1D1D1D1D1D1D1D}, uint64_t{0xFFFFFFFF}, uint64_t{1} << 63, kU64Max}) {
    const Built b = GgufBuilder().Counts(n, n).Build();
    EXPECT_THAT(GgufFile::Parse(b.span()), HasRule("gguf.count")) << n;
  }
}

// ---- the corpus (tests/fixtures/make_gguf_corpus.py) ---------------------------------

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  if (!std::filesystem::is_directory(kCorpusDir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(kCorpusDir)) {
    if (e.is_regular_file() && e.path().extension() == ".gguf") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(gguf_corpus_dir, HasFilesOfEveryKind) {
  const std::vector<std::string> files = CorpusFiles();
  EXPECT_GE(files.size(), 40u);
  for (const char* prefix : {"y_", "n_", "s_", "r_"}) {
    EXPECT_TRUE(std::any_of(files.begin(), files.end(), [&](const std::string& f) { return f.starts_with(prefix); }))
        << prefix;
  }
}

class GgufCorpusTest : public ::testing::TestWithParam<std::string> {};

// y_NAME: opens in every mode, without warnings. n_RULE__NAME: rejected with
// RULE by default and in strict mode. s_RULE__NAME: opens with a RULE warning, strict rejects
// it. r_RULE__NAME: opens by default, reference_compatible (and strict)
// reject it with RULE.
TEST_P(GgufCorpusTest, VerdictMatchesName) {
  const std::string file = GetParam();
  const std::string path = kCorpusDir + "/" + file;
  const std::string stem = std::filesystem::path(file).stem().string();
  EXPECT_LT(std::filesystem::file_size(path), 2048u);
  ASSERT_GE(stem.size(), 3u);
  ASSERT_EQ(stem[1], '_') << file;
  const char kind = stem[0];
  std::string rule;
  if (kind != 'y') {
    const size_t sep = stem.find("__");
    ASSERT_NE(sep, std::string::npos) << "expected KIND_RULE__NAME: " << file;
    rule = stem.substr(2, sep - 2);
  }
  const absl::StatusOr<GgufFile> def = GgufFile::Open(path);
  const absl::StatusOr<GgufFile> st = GgufFile::Open(path, Strict());
  const absl::StatusOr<GgufFile> ref = GgufFile::Open(path, Reference());
  switch (kind) {
    case 'y':
      ASSERT_THAT(def, IsOk());
      EXPECT_THAT(def->warnings(), IsEmpty());
      EXPECT_THAT(st, IsOk());
      EXPECT_THAT(ref, IsOk());
      break;
    case 'n':
      EXPECT_THAT(def, HasRule(rule));
      EXPECT_THAT(st, HasRule(rule));
      // reference_compatible may stop earlier, at something only ggml refuses.
      ASSERT_FALSE(ref.ok());
      EXPECT_THAT(ErrorRule(ref.status()),
                  ::testing::AnyOf(rule, "gguf.value.nested_array", "gguf.version", "gguf.endian"));
      if (!def.ok()) {
        EXPECT_EQ(ErrorFile(def.status()), path);
      }
      break;
    case 's':
      ASSERT_THAT(def, IsOk());
      EXPECT_THAT(def->warnings(), Contains(HasSubstr("[" + rule + "]")));
      EXPECT_THAT(st, HasRule(rule));
      EXPECT_THAT(ref, IsOk());
      break;
    case 'r':
      EXPECT_THAT(def, IsOk());
      EXPECT_THAT(ref, HasRule(rule));
      EXPECT_THAT(st, HasRule(rule));
      break;
    default:
      FAIL() << "corpus file names start with y_, n_, s_ or r_: " << file;
  }
}

INSTANTIATE_TEST_SUITE_P(gguf_corpus, GgufCorpusTest, ::testing::ValuesIn(CorpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GgufCorpusTest);

}  // namespace
}  // namespace ckpt
