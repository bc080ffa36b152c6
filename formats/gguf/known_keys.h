// formats/gguf/known_keys.h — value types of the keys llama.cpp reads.
#ifndef CKPT_FORMATS_GGUF_KNOWN_KEYS_H_
#define CKPT_FORMATS_GGUF_KNOWN_KEYS_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"

namespace ckpt {

// CheckKnownKeys
//
// Rejects well-known keys whose value type differs from what llama.cpp's
// loader requires (it refuses such files, or worse, reads them anyway: a u8
// `scores` array is read as f32, a 4× over-read) and vocabulary arrays
// shorter than the token list (gguf.key.type, gguf.vocab.length). Reports
// special-token ids outside the vocabulary as hazards.
absl::Status CheckKnownKeys(const GgufFile& f, absl::FunctionRef<void(ErrorBuilder)> hazard);

}  // namespace ckpt

#endif  // CKPT_FORMATS_GGUF_KNOWN_KEYS_H_
