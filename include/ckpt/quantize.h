// ckpt/quantize.h — llama-quantize's file types, mix policy and importance
// matrices, and the GGUF → GGUF quantizer built on them.
//
// QuantizeGguf(in, out, options) writes what `llama-quantize [options] IN
// OUT TYPE` writes for the same input: the same tensors in the same order
// (layer number, then name), the same per-tensor types (PlanQuantize), the
// same bytes (ckpt/quant.h) and the same metadata (input KVs minus split.*,
// then general.quantization_version, general.file_type, quantize.imatrix.*),
// aligned to 32 bytes. Output is identical for any thread count.
#ifndef CKPT_QUANTIZE_H_
#define CKPT_QUANTIZE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/dtype.h"
#include "ckpt/gguf.h"

namespace ckpt {

// ---- file types (llama_ftype) ------------------------------------------------

struct QuantFileType {
  std::string_view name;  // llama-quantize's spelling: "Q4_K_M", "Q3_K" (alias), "COPY"
  uint32_t ftype;         // general.file_type (COPY: the input's)
  DType default_type;     // the type most tensors get
  bool copy = false;      // COPY: keep every tensor as it is
};

// The file type named `name` (case-insensitive) or numbered `name` (as
// llama-quantize's `try_parse_ftype`), or nullopt.
std::optional<QuantFileType> FindQuantFileType(std::string_view name);
// Every named file type, in llama-quantize's listing order.
const std::vector<QuantFileType>& QuantFileTypes();

// ---- importance matrices -----------------------------------------------------

struct Imatrix {
  // Importance per column (per expert: n_expert × ne0), already divided by
  // the counts as llama-quantize does.
  std::map<std::string, std::vector<float>> entries;
  std::vector<std::string> datasets;
  int64_t chunk_count = 0;
  bool legacy = false;  // the .dat format
};

// LoadImatrix
//
// Reads a GGUF imatrix (general.type = "imatrix", `<w>.in_sum2` and
// `<w>.counts` F32 tensors) or the legacy `.dat` format, and normalises it as
// llama-quantize does (GGUF: in_sum2 / (float)lround(count), 1 where the count
// is 0; .dat: value / ncall). Errors (imatrix.*) name the file and the entry;
// non-finite values are errors, as in llama-quantize.
absl::StatusOr<Imatrix> LoadImatrix(const std::string& path);
// The same on bytes in memory (`name` appears in errors).
absl::StatusOr<Imatrix> ParseImatrix(absl::Span<const uint8_t> bytes, const std::string& name);

// ---- mix policy --------------------------------------------------------------

// What the policy needs to know about the model (from the GGUF metadata).
struct QuantModelFacts {
  std::string arch;        // general.architecture
  int64_t n_layer = 0;     // <arch>.block_count
  int64_t n_head = 0;      // <arch>.attention.head_count (layer 0)
  int64_t n_head_kv = 0;   // <arch>.attention.head_count_kv (layer 0; = n_head when absent)
  int64_t n_expert = 0;    // <arch>.expert_count
};

struct QuantizeOptions {
  QuantFileType file_type;
  bool pure = false;                     // --pure
  bool leave_output_tensor = false;      // --leave-output-tensor
  bool allow_requantize = false;         // --allow-requantize
  std::optional<DType> output_tensor_type;    // --output-tensor-type
  std::optional<DType> token_embedding_type;  // --token-embedding-type
  // --tensor-type PATTERN=TYPE, in order; PATTERN is an ECMAScript regex
  // searched in the tensor name (llama-quantize lowercases it).
  std::vector<std::pair<std::string, DType>> tensor_types;
  const Imatrix* imatrix = nullptr;      // after --include/--exclude-weights
  std::string imatrix_file;              // as given on the command line
  int threads = 0;                       // 0 = hardware concurrency
};

struct QuantizePlanEntry {
  size_t input_index;       // tensor index in the input file
  std::string name;
  std::vector<uint64_t> ne; // ggml order, trailing 1s dropped (ggml_n_dims)
  DType from;
  DType to;
  uint64_t from_bytes;
  uint64_t to_bytes;
  bool requires_imatrix;    // tensor_requires_imatrix
  bool fallback;            // the row length did not fit the chosen type
  const std::vector<float>* imatrix = nullptr;  // the entry used, if any
};

struct QuantizePlan {
  std::vector<QuantizePlanEntry> tensors;  // in output order
  QuantModelFacts facts;
  int n_fallback = 0;
  bool needs_imatrix = false;   // some tensor requires one and none was given
};

// A model to quantize, described without its file: the mix policy's facts
// and each tensor as the input holds it.
struct QuantizeInputTensor {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order, as stored (n_dims entries)
  DType dtype;
  uint64_t nbytes;
};
struct QuantizeInput {
  std::string path;  // for errors
  QuantModelFacts facts;
  std::vector<QuantizeInputTensor> tensors;
};

// The facts PlanQuantize needs, from a GGUF's metadata. Errors:
// quantize.metadata (no architecture or block count; expert_count > 512).
absl::StatusOr<QuantModelFacts> QuantModelFactsOf(const GgufFile& in);

// PlanQuantize
//
// The per-tensor types llama-quantize chooses, in its output order. Errors:
// unsupported combinations it refuses (requantizing without
// allow_requantize, a quantized type without a fallback for the row length,
// imatrix entries of the wrong size), with the tensor named; for a GGUF,
// also split sets and big-endian files.
absl::StatusOr<QuantizePlan> PlanQuantize(const QuantizeInput& in, const QuantizeOptions& options);
absl::StatusOr<QuantizePlan> PlanQuantize(const GgufFile& in, const QuantizeOptions& options);

// QuantizedKvs
//
// llama-quantize's output KV list for input KVs `in_kvs` (in order):
// split.* dropped, then general.quantization_version, general.file_type
// (COPY: `input_file_type`, or llama's guess from the plan) and the
// quantize.imatrix.* keys appended, each replacing an input key of that name.
std::vector<GgufKvToWrite> QuantizedKvs(std::vector<GgufKvToWrite> in_kvs, std::optional<int64_t> input_file_type,
                                        const QuantizeOptions& options, const QuantizePlan& plan);

// CheckQuantizePlan
//
// What must hold before writing anything: a required imatrix given, its
// values finite, every target type producible and every source readable.
// `path` names the input in errors.
absl::Status CheckQuantizePlan(const QuantizePlan& plan, const QuantizeOptions& options, const std::string& path);

// QuantizeGguf
//
// Writes `out` atomically following `plan` (from PlanQuantize on the same
// file and options). Errors: a required imatrix missing, non-finite input
// values, a quantized scale that overflowed (as ggml_validate_row_data),
// target types ckpt cannot produce, I/O.
// `progress` gets the plan index of the tensor being written and the input
// bytes consumed so far out of the total.
using QuantizeProgressFn = std::function<void(size_t tensor_index, uint64_t bytes_done, uint64_t bytes_total)>;
absl::Status QuantizeGguf(const GgufFile& in, const std::string& out, const QuantizeOptions& options,
                          const QuantizePlan& plan, const QuantizeProgressFn& progress = nullptr);

}  // namespace ckpt

#endif  // CKPT_QUANTIZE_H_
