// formats/hf/vocab.h — the tokenizer of a Hugging Face model directory as
// GGUF tokenizer.* KVs, the way convert_hf_to_gguf.py writes them, and back.
#ifndef CKPT_FORMATS_HF_VOCAB_H_
#define CKPT_FORMATS_HF_VOCAB_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/gguf.h"
#include "nlohmann/json.hpp"

namespace ckpt::hf {

// Which set_vocab path of the converter an architecture takes.
enum class VocabStyle {
  kLlama,  // LlamaModel: add_space_prefix from tokenizer_config; SentencePiece, else BPE
  kQwen2,  // Qwen2Model / Qwen3Model: SentencePiece, else BPE
  kGemma,  // GemmaModel: SentencePiece; eot 107; add_space_prefix false
};

// TokenizerKvs
//
// The tokenizer.* KVs the converter writes for model directory `dir`
// (config = parsed config.json), in its order:
//   - SentencePiece (`tokenizer.model`): model "llama", pre "default",
//     tokens/scores/token_type with added_tokens.json and tokenizer_config's
//     added_tokens_decoder applied and [PAD{i}] padding to vocab_size;
//   - BPE (`tokenizer.json`, model.type "BPE"): model "gpt2", pre from the
//     pre-tokenizer configuration (see BpePreTokenizer), tokens and types,
//     merges;
//   - then gguf-py's SpecialVocab: special token ids, add_*_token flags,
//     chat_template.
// Errors: hf.tokenizer.missing (no tokenizer.model / tokenizer.json),
// hf.tokenizer.sentencepiece, hf.tokenizer.json, hf.tokenizer.unknown_pre,
// hf.tokenizer.unsupported (kUnimplemented: tokenizer kinds the converter
// handles with code ckpt does not have), and file errors, naming the file.
absl::StatusOr<std::vector<GgufKvToWrite>> TokenizerKvs(const std::string& dir, const nlohmann::json& config,
                                                        VocabStyle style);

// WriteHfTokenizerFiles
//
// The inverse for GGUF → Hugging Face: tokenizer.model (model "llama") or
// tokenizer.json (model "gpt2"), tokenizer_config.json and
// special_tokens_map.json, each written atomically into `dir`, such that
// TokenizerKvs on them gives the GGUF's tokenizer KVs again. Returns the
// file names written (none when the GGUF has no tokenizer.ggml.model).
// Errors: hf.export.tokenizer for vocabularies it cannot express.
absl::StatusOr<std::vector<std::string>> WriteHfTokenizerFiles(const GgufFile& gguf, const std::string& dir);

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_VOCAB_H_
