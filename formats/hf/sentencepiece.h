// formats/hf/sentencepiece.h — SentencePiece `tokenizer.model` files
// (sentencepiece_model.proto's ModelProto), read and written without
// libprotobuf: only the fields the GGUF vocabulary needs.
#ifndef CKPT_FORMATS_HF_SENTENCEPIECE_H_
#define CKPT_FORMATS_HF_SENTENCEPIECE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ckpt::hf {

// ModelProto.SentencePiece.Type.
enum class PieceType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SentencePieceModel {
  struct Piece {
    std::string text;
    float score = 0;
    PieceType type = PieceType::kNormal;
  };
  std::vector<Piece> pieces;
  int32_t model_type = 1;            // TrainerSpec.model_type: 1 unigram, 2 BPE
  bool byte_fallback = false;        // TrainerSpec.byte_fallback
  bool add_dummy_prefix = true;      // NormalizerSpec.add_dummy_prefix
  bool remove_extra_whitespaces = true;
};

// ParseSentencePiece
//
// Decodes a ModelProto. Every length is checked against the input; unknown
// fields are skipped by wire type. Errors: hf.tokenizer.sentencepiece with
// the byte offset (truncated varint or field, bad wire type, a piece
// without text, an unknown piece type), naming `path`.
absl::StatusOr<SentencePieceModel> ParseSentencePiece(absl::Span<const uint8_t> bytes, const std::string& path);

// The ModelProto bytes for `model` (pieces, trainer and normalizer
// fields above), readable by the sentencepiece library.
std::string SerializeSentencePiece(const SentencePieceModel& model);

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_SENTENCEPIECE_H_
