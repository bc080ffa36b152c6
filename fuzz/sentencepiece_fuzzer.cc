// Protects: ParseSentencePiece (tokenizer.model, protobuf wire format)
// never crashes, hangs or allocates beyond its input on any bytes, and what
// it accepts survives SerializeSentencePiece → ParseSentencePiece unchanged.
//
// Checks, each an abort() with a message on stderr:
//   1. An error carries the hf.tokenizer.sentencepiece rule.
//   2. On success there are at most as many pieces as input bytes / 2 (each
//      takes a tag and a length at least).
//   3. Serializing and parsing again gives the same pieces (text, score bits,
//      type) and flags.
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/types/span.h"
#include "ckpt/status.h"
#include "formats/hf/sentencepiece.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::StatusOr<ckpt::hf::SentencePieceModel> m =
      ckpt::hf::ParseSentencePiece(absl::Span<const uint8_t>(data, size), "fuzz.model");
  if (!m.ok()) {
    const std::string rule = ckpt::ErrorRule(m.status());
    CHECK(rule == "hf.tokenizer.sentencepiece", "error without the sentencepiece rule", rule);
    return 0;
  }
  CHECK(m->pieces.size() <= size / 2 + 1, "more pieces than the input can hold");
  const std::string again = ckpt::hf::SerializeSentencePiece(*m);
  const absl::StatusOr<ckpt::hf::SentencePieceModel> n = ckpt::hf::ParseSentencePiece(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(again.data()), again.size()), "again.model");
  CHECK(n.ok(), "serialized model does not parse");
  CHECK(n->pieces.size() == m->pieces.size(), "piece count changed");
  for (size_t i = 0; i < m->pieces.size(); ++i) {
    CHECK(n->pieces[i].text == m->pieces[i].text, "piece text changed");
    CHECK(std::memcmp(&n->pieces[i].score, &m->pieces[i].score, 4) == 0, "piece score changed");
    CHECK(n->pieces[i].type == m->pieces[i].type, "piece type changed");
  }
  CHECK(n->model_type == m->model_type && n->byte_fallback == m->byte_fallback &&
            n->add_dummy_prefix == m->add_dummy_prefix && n->remove_extra_whitespaces == m->remove_extra_whitespaces,
        "flags changed");
  return 0;
}
