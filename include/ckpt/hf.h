// ckpt/hf.h — Hugging Face model directories ⇄ GGUF.
//
// ConvertHfToGguf(dir, out, options) writes what llama.cpp's
// `convert_hf_to_gguf.py DIR --outtype T` writes (config.json read as
// written, without transformers' AutoConfig defaults): the same KVs in the
// same order with the same types and values, the same tensors (names,
// order, ggml types, shapes, bytes). Tensors are streamed from the mapped
// Safetensors shards (or PyTorch pytorch_model*.bin files, read without
// running pickle) through the Q/K row permutation and dtype conversion, on
// all threads, into a temporary file renamed into place at the end.
//
// Everything is checked before the first byte is written: config.json
// fields, the architecture (hf/architectures.h), the shard set against its
// index, each tensor's name, shape and dtype against the configuration, and
// the tokenizer files.
//
// ConvertGgufToHf(in, dir, dtype) goes back: config.json from the GGUF
// hyperparameters, HF tensor names with the inverse permutation, weights as
// `dtype`, and tokenizer files, so that HF → GGUF → HF gives the same
// tensors for f32/f16/bf16.
#ifndef CKPT_HF_H_
#define CKPT_HF_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ckpt/dtype.h"
#include "ckpt/gguf.h"
#include "ckpt/quantize.h"

namespace ckpt {

struct HfToGgufOptions {
  // f32, f16, bf16, q8_0 (the converter's --outtype), auto (bf16 or f16 by
  // the first 2-D tensor, f16 otherwise) or any ckpt quantize file type
  // (Q4_K_M, ...). A quantize type gives the bytes `ckpt quantize` writes
  // for the GGUF converted with the source's own float type (bf16 → BF16,
  // f16 → F16, f32 → F32; all exact, so quantizing sees the original
  // values). Case-insensitive.
  std::string dtype = "auto";
  // Options of the quantize step (file_type is set from `dtype`).
  QuantizeOptions quantize;
  int threads = 0;  // 0 = all cores
};

// Whether `path` is a directory holding a config.json (a model directory).
bool IsHfModelDirectory(const std::string& path);

using HfProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// ConvertHfToGguf
//
// Errors (nothing is written): hf.config.* (config.json missing, invalid,
// or a required field absent or of the wrong type), hf.architecture
// (unsupported; the message lists the supported ones), hf.shards.* (no
// weights, a shard listed by the index missing, names disagreeing with the
// index), hf.tensor.* (a tensor the architecture does not map, a shape or
// dtype that disagrees with config.json), hf.tokenizer.*, the shard
// readers' own errors (safetensors.*, pytorch.*), quantize.* for quantize
// types, and I/O errors.
absl::Status ConvertHfToGguf(const std::string& dir, const std::string& out, const HfToGgufOptions& options,
                             const HfProgressFn& progress = nullptr);

// ConvertGgufToHf
//
// Writes `dir` (created when missing): config.json, model.safetensors with
// every tensor as `dtype` (F32, F16 or BF16; 1-D tensors keep F32),
// generation_config.json and the tokenizer files. Errors: hf.export.* for
// GGUF architectures the table does not hold, tensors it cannot map back or
// metadata it lacks; I/O errors. Returns notes on what could not be carried
// exactly (a rope_freqs recipe it cannot recover, Gemma's shifted norms).
absl::StatusOr<std::vector<std::string>> ConvertGgufToHf(const GgufFile& in, const std::string& dir, std::optional<DType> dtype,
                             const HfProgressFn& progress = nullptr);

}  // namespace ckpt

#endif  // CKPT_HF_H_
