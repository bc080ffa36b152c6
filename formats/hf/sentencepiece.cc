// A minimal protobuf wire-format reader/writer for ModelProto.
#include "formats/hf/sentencepiece.h"

#include <cstring>

#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt::hf {
namespace {

class Reader {
 public:
  Reader(absl::Span<const uint8_t> b, uint64_t base, const std::string& path) : b_(b), base_(base), path_(path) {}
  bool done() const { return pos_ >= b_.size(); }
  uint64_t offset() const { return base_ + pos_; }

  absl::StatusOr<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return Fail("truncated varint");
      const uint8_t c = b_[pos_++];
      v |= static_cast<uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    return Fail("varint longer than 10 bytes");
  }
  absl::StatusOr<absl::Span<const uint8_t>> Bytes() {
    CKPT_ASSIGN_OR_RETURN(uint64_t n, Varint());
    if (n > b_.size() - pos_) return Fail(StrCat("field of ", n, " bytes runs past the end"));
    absl::Span<const uint8_t> s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  absl::StatusOr<uint32_t> Fixed32() {
    if (b_.size() - pos_ < 4) return Fail("truncated fixed32");
    uint32_t v;
    std::memcpy(&v, b_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  absl::Status Skip(uint32_t wire) {
    switch (wire) {
      case 0: return Varint().status();
      case 1:
        if (b_.size() - pos_ < 8) return Fail("truncated fixed64");
        pos_ += 8;
        return absl::OkStatus();
      case 2: return Bytes().status();
      case 5: return Fixed32().status();
      default: return Fail(StrCat("wire type ", wire, " is not valid here"));
    }
  }
  absl::Status Fail(std::string detail) const {
    return Error("hf.tokenizer.sentencepiece", std::move(detail)).File(path_).At(base_ + pos_);
  }

 private:
  absl::Span<const uint8_t> b_;
  uint64_t pos_ = 0, base_;
  const std::string& path_;
};

// Decodes the message in `r`, calling `field(number, wire, r)` for each
// field; `field` returns false to skip it.
template <typename Fn>
absl::Status ForEachField(Reader& r, Fn field) {
  while (!r.done()) {
    CKPT_ASSIGN_OR_RETURN(uint64_t key, r.Varint());
    const uint32_t number = static_cast<uint32_t>(key >> 3), wire = key & 7;
    CKPT_ASSIGN_OR_RETURN(bool handled, field(number, wire));
    if (!handled) CKPT_RETURN_IF_ERROR(r.Skip(wire));
  }
  return absl::OkStatus();
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void PutBytes(std::string& out, uint32_t number, std::string_view s) {
  PutVarint(out, (number << 3) | 2);
  PutVarint(out, s.size());
  out.append(s);
}
void PutVarintField(std::string& out, uint32_t number, uint64_t v) {
  PutVarint(out, number << 3);
  PutVarint(out, v);
}

}  // namespace

absl::StatusOr<SentencePieceModel> ParseSentencePiece(absl::Span<const uint8_t> bytes, const std::string& path) {
  SentencePieceModel m;
  Reader r(bytes, 0, path);
  auto sub = [&](absl::Span<const uint8_t> s) { return Reader(s, static_cast<uint64_t>(s.data() - bytes.data()), path); };
  CKPT_RETURN_IF_ERROR(ForEachField(r, [&](uint32_t number, uint32_t wire) -> absl::StatusOr<bool> {
    if (wire != 2 || number < 1 || number > 3) return false;
    CKPT_ASSIGN_OR_RETURN(absl::Span<const uint8_t> msg, r.Bytes());
    Reader in = sub(msg);
    if (number == 1) {  // SentencePiece
      SentencePieceModel::Piece p;
      bool has_text = false;
      CKPT_RETURN_IF_ERROR(ForEachField(in, [&](uint32_t n, uint32_t w) -> absl::StatusOr<bool> {
        if (n == 1 && w == 2) {
          CKPT_ASSIGN_OR_RETURN(absl::Span<const uint8_t> t, in.Bytes());
          p.text.assign(reinterpret_cast<const char*>(t.data()), t.size());
          has_text = true;
          return true;
        }
        if (n == 2 && w == 5) {
          CKPT_ASSIGN_OR_RETURN(uint32_t bits, in.Fixed32());
          std::memcpy(&p.score, &bits, 4);
          return true;
        }
        if (n == 3 && w == 0) {
          CKPT_ASSIGN_OR_RETURN(uint64_t t, in.Varint());
          if (t < 1 || t > 6) return in.Fail(StrCat("piece type ", t, " is not one of 1..6"));
          p.type = static_cast<PieceType>(t);
          return true;
        }
        return false;
      }));
      if (!has_text) return in.Fail(StrCat("piece ", m.pieces.size(), " has no text"));
      m.pieces.push_back(std::move(p));
    } else if (number == 2) {  // TrainerSpec
      CKPT_RETURN_IF_ERROR(ForEachField(in, [&](uint32_t n, uint32_t w) -> absl::StatusOr<bool> {
        if (w != 0 || (n != 3 && n != 35)) return false;
        CKPT_ASSIGN_OR_RETURN(uint64_t v, in.Varint());
        if (n == 3) m.model_type = static_cast<int32_t>(v);
        if (n == 35) m.byte_fallback = v != 0;
        return true;
      }));
    } else {  // NormalizerSpec
      CKPT_RETURN_IF_ERROR(ForEachField(in, [&](uint32_t n, uint32_t w) -> absl::StatusOr<bool> {
        if (w != 0 || (n != 3 && n != 4)) return false;
        CKPT_ASSIGN_OR_RETURN(uint64_t v, in.Varint());
        if (n == 3) m.add_dummy_prefix = v != 0;
        if (n == 4) m.remove_extra_whitespaces = v != 0;
        return true;
      }));
    }
    return true;
  }));
  return m;
}

std::string SerializeSentencePiece(const SentencePieceModel& m) {
  std::string out;
  for (const SentencePieceModel::Piece& p : m.pieces) {
    std::string piece;
    PutBytes(piece, 1, p.text);
    uint32_t bits;
    std::memcpy(&bits, &p.score, 4);
    PutVarint(piece, (2 << 3) | 5);
    for (int i = 0; i < 4; ++i) piece.push_back(static_cast<char>(bits >> (8 * i)));
    if (p.type != PieceType::kNormal) PutVarintField(piece, 3, static_cast<uint64_t>(p.type));
    PutBytes(out, 1, piece);
  }
  std::string trainer;
  PutVarintField(trainer, 3, static_cast<uint64_t>(m.model_type));
  PutVarintField(trainer, 35, m.byte_fallback ? 1 : 0);
  PutBytes(out, 2, trainer);
  std::string normalizer;
  PutBytes(normalizer, 1, "identity");
  PutVarintField(normalizer, 3, m.add_dummy_prefix ? 1 : 0);
  PutVarintField(normalizer, 4, m.remove_extra_whitespaces ? 1 : 0);
  PutBytes(out, 3, normalizer);
  return out;
}

}  // namespace ckpt::hf
