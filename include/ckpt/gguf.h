// ckpt/gguf.h — GGUF reader, validator and writer.
//
// File layout (v2/v3; v1 has u32 where this says u64 for counts, string and
// array lengths and dims):
//
//   offset 0   "GGUF"  u32 version  u64 n_tensors  u64 n_kv
//   offset 24  n_kv × (string key, u32 value type, value)
//              n_tensors × (string name, u32 n_dims, u64 ne[n_dims],
//                           u32 ggml type, u64 offset)
//              zero padding up to a multiple of ALIGNMENT
//   data       tensor i at data_offset + offset_i, each padded to ALIGNMENT
//
// string = u64 length + bytes; array = u32 element type, u64 count, elements.
// ALIGNMENT is the u32 `general.alignment`, 32 when absent. A file written on
// a big-endian machine has every number byte-swapped and nothing saying so;
// the version field tells (its low 16 bits are 0 when read the wrong way).
//
// Reading: Open() walks the whole header once, checking everything ggml's
// gguf.cpp checks plus what it misses (64-bit overflow of element counts and
// byte sizes, padding that wraps, data outside the file, NUL bytes in keys,
// wrongly typed well-known keys, ...), every error naming the byte offset and
// rule (docs/rules.md, gguf.*). Nothing is copied: keys, names and values are
// views into the mapping; arrays are (type, count, offset) and are decoded only
// when asked for, so a 256k-token vocabulary costs one pass over its lengths.
//
// Lifetime: everything returned borrows from the GgufFile (which shares
// ownership of the mapping); valid while it, or a copy or move of it, lives.
#ifndef CKPT_GGUF_H_
#define CKPT_GGUF_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/mapped_file.h"
#include "ckpt/tensor.h"
#include "nlohmann/json.hpp"

namespace ckpt {

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint64_t kGgufMaxStringBytes = uint64_t{1} << 30;    // ggml's GGUF_MAX_STRING_LENGTH
inline constexpr uint64_t kGgufMaxArrayElements = uint64_t{1} << 30;  // GGUF_MAX_ARRAY_ELEMENTS
inline constexpr uint64_t kGgufMaxTensorName = 63;                    // GGML_MAX_NAME - 1
inline constexpr uint32_t kGgufMaxDims = 4;
// The writer refuses to pad to more than this (readers accept any power of two).
inline constexpr uint64_t kGgufMaxWriteAlignment = uint64_t{1} << 20;
// Arrays of arrays deeper than this are refused (no reader uses more than 2).
inline constexpr int kGgufMaxArrayDepth = 16;

// Metadata value types, with their ids in the file.
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
inline constexpr uint32_t kGgufTypeCount = 13;

// ggml's short names: u8 i8 u16 i16 u32 i32 f32 bool str arr u64 i64 f64.
std::string_view GgufTypeName(GgufType t);
std::optional<GgufType> GgufTypeFromName(std::string_view name);
// Bytes of one value of a fixed-size type; 0 for kString and kArray.
uint32_t GgufTypeSize(GgufType t);

// A value where it lies in the file.
//   scalar: `offset` is the value's first byte, `nbytes` its size;
//   string: `offset` is the first byte of the text (after the length field),
//           `nbytes` its length;
//   array:  `elem_type`, `count` elements starting at `offset`, `nbytes` in
//           all (string lengths and nested headers included).
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType elem_type = GgufType::kU8;  // arrays only
  uint64_t count = 0;                  // arrays only
  uint64_t offset = 0;
  uint64_t nbytes = 0;
};

struct GgufKv {
  std::string_view key;   // raw bytes (may hold NULs in hostile files)
  uint64_t key_offset;    // absolute offset of the key's length field
  uint64_t end_offset;    // one past the value's last byte
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  uint32_t ggml_type;     // id as stored
  DType dtype;
  uint32_t n_dims;        // as stored (trailing 1s kept)
  std::array<uint64_t, kGgufMaxDims> ne;  // ggml order, innermost first; 1 past n_dims
  uint64_t offset;        // relative to the data section
  uint64_t nbytes;
  uint64_t info_offset;   // absolute offset of the tensor-info record
};

struct GgufOptions {
  // Also reject the hazards ggml tolerates: keys that break the spec's naming
  // rules or are not ASCII, NUL or invalid UTF-8 in tensor names, bool bytes
  // other than 0/1, strings that are not UTF-8, alignment not a multiple of 8
  // or over 1 MiB, special-token ids outside the vocabulary, an unpadded
  // last tensor, bytes after the data section, GGUF v1, a big-endian file,
  // arrays of arrays.
  bool strict = false;
  // Reject what ckpt reads but ggml refuses — version 1, a foreign byte
  // order, arrays of arrays — as errors (validate does; readers need not).
  bool reference_compatible = false;
};

class GgufFile {
 public:
  // Open / Parse
  //
  // As SafetensorsFile: maps `path` (or takes a mapping, or borrows `bytes`,
  // which must then outlive the result) and validates the whole header.
  static absl::StatusOr<GgufFile> Open(const std::string& path, GgufOptions options = {});
  static absl::StatusOr<GgufFile> Open(MappedFile file, GgufOptions options = {});
  static absl::StatusOr<GgufFile> Parse(absl::Span<const uint8_t> bytes, GgufOptions options = {});

  uint32_t version() const { return version_; }
  bool big_endian() const { return big_endian_; }
  uint64_t alignment() const { return alignment_; }
  // Where tensor data starts: the end of the tensor infos padded to alignment.
  uint64_t data_offset() const { return data_offset_; }
  // End of the tensor infos (before padding).
  uint64_t header_end() const { return header_end_; }
  uint64_t file_nbytes() const { return bytes_.size(); }
  absl::Span<const uint8_t> bytes() const { return bytes_; }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // ---- metadata
  const std::vector<GgufKv>& kvs() const { return kvs_; }
  // The KV whose key equals `key` byte for byte, or nullptr.
  const GgufKv* FindKv(std::string_view key) const;

  // Decoding (byte-swapped for big-endian files). REQUIRES: `v` came from
  // this file and is of a type the function reads:
  //   ReadUnsigned: u8 u16 u32 u64 bool; ReadSigned: i8 i16 i32 i64;
  //   ReadFloat: f32 f64; ReadString: str.
  uint64_t ReadUnsigned(const GgufValue& v) const;
  int64_t ReadSigned(const GgufValue& v) const;
  double ReadFloat(const GgufValue& v) const;
  std::string_view ReadString(const GgufValue& v) const;
  // Calls fn for the elements of array `v` in order while it returns true.
  void ForEachElement(const GgufValue& v, absl::FunctionRef<bool(const GgufValue&)> fn) const;
  // The scalar key `key` as an integer of any integer type, or nullopt when
  // absent, not an integer, or out of int64 range.
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<std::string_view> GetString(std::string_view key) const;

  // `v` as JSON: integers exact, floats shortest round-trip (NaN and
  // infinities as the strings "NaN", "Infinity", "-Infinity"), strings with
  // invalid UTF-8 bytes written as \xNN text, arrays as arrays. Arrays longer
  // than `max_elements` are cut there.
  nlohmann::ordered_json ToJson(const GgufValue& v, uint64_t max_elements = UINT64_MAX) const;

  // ---- tensors, in file order
  size_t size() const { return infos_.size(); }
  const GgufTensorInfo& info(size_t i) const { return infos_[i]; }
  const std::vector<GgufTensorInfo>& infos() const { return infos_; }
  // The view of tensor i: shape is ne reversed (outermost first).
  TensorView tensor(size_t i) const;
  std::optional<size_t> Find(std::string_view name) const;

 private:
  friend class GgufParser;

  std::string path_;
  std::optional<MappedFile> file_;
  absl::Span<const uint8_t> bytes_;
  uint32_t version_ = 3;
  bool big_endian_ = false;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t header_end_ = 0;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  absl::flat_hash_map<absl::string_view, uint32_t> kv_index_;
  std::vector<GgufTensorInfo> infos_;
  std::vector<uint64_t> shapes_;  // 4 per tensor, outermost first; tensor i uses the last n_dims
  absl::flat_hash_map<absl::string_view, uint32_t> tensor_index_;
  std::vector<std::string> warnings_;
};

// ---- split sets (llama-gguf-split) ------------------------------------------

// A model split by llama-gguf-split: PREFIX-00001-of-0000N.gguf ... with
// split.no (u16, 0-based), split.count (u16) and split.tensors.count (i32);
// all KVs in the first file.
struct GgufSplitSet {
  std::vector<std::string> paths;                    // in split order
  std::vector<std::shared_ptr<const GgufFile>> files;
};

// OpenGgufSplits
//
// Opens `path`; when it is the first file of a split set (split.count > 1)
// opens the others too and checks the set as llama.cpp does: every file
// present, split.no matching its position, the same split.count everywhere,
// tensor names unique across files, and split.tensors.count the total
// (gguf.split.*). A single file gives a set of one.
absl::StatusOr<GgufSplitSet> OpenGgufSplits(const std::string& path, GgufOptions options = {});

struct GgufSplitOptions {
  // A new file starts before tensor i when i is a multiple of max_tensors
  // (llama-gguf-split's --split-max-tensors; 0 = no limit) ...
  uint64_t max_tensors = 0;
  // ... or when the file's padded tensor bytes would exceed max_bytes (its
  // --split-max-size, header not counted; 0 = no limit). A tensor larger
  // than max_bytes gets a file of its own (llama-gguf-split gives up when
  // it is the first one).
  uint64_t max_bytes = 0;
  // The first file holds only the metadata (--no-tensor-first-split).
  bool no_tensors_in_first = false;
  // Keep each tensor's stored dimension count. By default trailing 1s are
  // dropped as ggml's writer does, so the files are byte-identical to
  // llama-gguf-split's (the shape means the same to ggml).
  bool keep_dims = false;
};

// PlanGgufSplits
//
// The number of tensors in each output file, in order.
std::vector<size_t> PlanGgufSplits(const GgufFile& in, const GgufSplitOptions& options);

// WriteGgufSplits
//
// Writes `in` as PREFIX-00001-of-0000N.gguf ... in llama-gguf-split's
// layout: the first file has every KV of `in` (old split.* keys dropped)
// then split.no (u16), split.tensors.count (i32), split.count (u16); the
// others only those three. Tensor data is copied untouched, each file laid
// out with its own alignment (llama-gguf-split always uses 32, which breaks
// inputs with another general.alignment). All files appear together at the
// end or not at all. Returns the paths written.
absl::StatusOr<std::vector<std::string>> WriteGgufSplits(const GgufFile& in, std::string_view prefix,
                                                         const GgufSplitOptions& options,
                                                         const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

// MergeGgufSplits
//
// Writes the set as one file, as `llama-gguf-split --merge` does: the first
// file's KVs in order with split.count moved last and set to 0 (split.no and
// split.tensors.count kept), then every file's tensors in order; dims as in
// GgufSplitOptions::keep_dims.
absl::Status MergeGgufSplits(const GgufSplitSet& set, const std::string& out, bool keep_dims = false,
                             const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

// The name of split `index` (0-based) of `count`: PREFIX-00001-of-00003.gguf.
std::string GgufSplitPath(std::string_view prefix, uint32_t index, uint32_t count);
// PREFIX of a split file name, or nullopt when `path` is not named like one.
std::optional<std::string> GgufSplitPrefix(std::string_view path);

// ---- writing ---------------------------------------------------------------

// A metadata value owned by the writer's caller.
struct GgufOwnedValue {
  GgufType type = GgufType::kU8;
  uint64_t bits = 0;            // scalars: the value's bits, zero-extended (f32 as its u32 bits)
  std::string str;              // kString
  GgufType elem_type = GgufType::kU8;   // kArray
  std::vector<GgufOwnedValue> elements; // kArray

  static GgufOwnedValue Unsigned(GgufType t, uint64_t v);
  static GgufOwnedValue Signed(GgufType t, int64_t v);
  static GgufOwnedValue F32(float v);
  static GgufOwnedValue F64(double v);
  static GgufOwnedValue Bool(bool v);
  static GgufOwnedValue String(std::string s);
  static GgufOwnedValue Array(GgufType elem_type, std::vector<GgufOwnedValue> elements);
};

// A KV to write: an owned value, or a value copied from an open file.
struct GgufKvToWrite {
  std::string key;
  std::variant<GgufOwnedValue, std::pair<const GgufFile*, GgufValue>> value;
};

// One tensor to write. `data` holds the bytes as `source_dtype` in the
// source's byte order (`source_big_endian`); the writer converts float types
// (dtype_convert.h) and swaps byte order while streaming.
struct GgufTensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> ne;       // ggml order; ne.size() is n_dims as written
  absl::Span<const uint8_t> data;
  DType source_dtype = DType::kF32;
  bool source_big_endian = false;

  std::optional<uint64_t> nbytes() const;  // in the output; nullopt on overflow or partial blocks
};

struct GgufWriteOptions {
  bool big_endian = false;
};

// GgufHeader
//
// The header bytes (magic to the end of the padding before the data) for
// these KVs, in order, and tensors, in order. The alignment is the u32
// `general.alignment` among `kvs` (32 when absent). Errors: gguf.write.*.
absl::StatusOr<std::string> GgufHeader(absl::Span<const GgufKvToWrite> kvs,
                                       absl::Span<const GgufTensorToWrite> tensors,
                                       GgufWriteOptions options = {});

// WriteGguf
//
// Writes a version 3 GGUF to `path` atomically: the header as above, then
// each tensor padded with zeros to the alignment (the last one too), the
// bytes gguf-py's GGUFWriter produces for the same KVs and tensors.
using GgufProgressFn = std::function<void(uint64_t done, uint64_t total)>;
absl::Status WriteGguf(const std::string& path, absl::Span<const GgufKvToWrite> kvs,
                       absl::Span<const GgufTensorToWrite> tensors, GgufWriteOptions options = {},
                       const GgufProgressFn& progress = nullptr);

// Byte-swaps `n_blocks` blocks of `t` in place: whole elements for plain
// types, the f16/f32/u16 fields inside ggml blocks. Errors (kUnimplemented)
// for block types whose layout ckpt does not know.
absl::Status SwapGgmlBlocks(DType t, absl::Span<uint8_t> bytes);
bool CanSwapGgmlType(DType t);

}  // namespace ckpt

#endif  // CKPT_GGUF_H_
