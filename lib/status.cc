#include "lib/str_util.h"
#include "ckpt/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/text.h"

namespace ckpt {
namespace {

// Hostile names can be megabytes long: messages show the first 200 bytes
// (the full name stays in the status payload).
std::string ShortName(std::string_view name) {
  constexpr size_t kMax = 200;
  if (name.size() <= kMax) return EscapeForDisplay(name);
  return StrCat(EscapeForDisplay(name.substr(0, kMax)), "... (", name.size(), " bytes)");
}

}  // namespace
namespace {

// Payload keys. The fields live in payloads so that they survive copies and
// can be re-rendered when context (the file) is added later.
constexpr char kRuleKey[] = "ckpt/rule";
constexpr char kDetailKey[] = "ckpt/detail";
constexpr char kOffsetKey[] = "ckpt/offset";
constexpr char kTensorKey[] = "ckpt/tensor";
constexpr char kKeyKey[] = "ckpt/key";
constexpr char kFileKey[] = "ckpt/file";

std::optional<std::string> Payload(const absl::Status& s, const char* key) {
  auto c = s.GetPayload(key);
  if (!c) return std::nullopt;
  return std::string(*c);
}

struct Fields {
  std::string rule, detail, file;
  std::optional<uint64_t> offset;
  std::optional<std::string> tensor, key;
};

std::string Render(const Fields& f) {
  std::string out;
  if (!f.file.empty()) StrAppend(&out, EscapeForDisplay(f.file), ": ");
  if (f.offset) StrAppend(&out, "offset ", *f.offset, ": ");
  if (f.tensor) StrAppend(&out, "tensor '", ShortName(*f.tensor), "': ");
  if (f.key) StrAppend(&out, "key '", ShortName(*f.key), "': ");
  StrAppend(&out, f.detail);
  if (!f.rule.empty()) StrAppend(&out, " [", f.rule, "]");
  return out;
}

absl::Status Make(absl::StatusCode code, const Fields& f) {
  absl::Status s(code, Render(f));
  s.SetPayload(kRuleKey, absl::Cord(f.rule));
  s.SetPayload(kDetailKey, absl::Cord(f.detail));
  if (f.offset) s.SetPayload(kOffsetKey, absl::Cord(StrCat(*f.offset)));
  if (f.tensor) s.SetPayload(kTensorKey, absl::Cord(*f.tensor));
  if (f.key) s.SetPayload(kKeyKey, absl::Cord(*f.key));
  if (!f.file.empty()) s.SetPayload(kFileKey, absl::Cord(f.file));
  return s;
}

Fields FieldsOf(const absl::Status& s) {
  return {ErrorRule(s), ErrorDetail(s), ErrorFile(s), ErrorOffset(s), ErrorTensor(s), ErrorKey(s)};
}

}  // namespace

absl::Status ErrorBuilder::Build() const {
  return Make(code_, {rule_, detail_, file_, offset_, tensor_, key_});
}

std::string ErrorRule(const absl::Status& s) { return Payload(s, kRuleKey).value_or(""); }
std::string ErrorDetail(const absl::Status& s) {
  return Payload(s, kDetailKey).value_or(std::string(s.message()));
}
std::optional<std::string> ErrorTensor(const absl::Status& s) { return Payload(s, kTensorKey); }
std::optional<std::string> ErrorKey(const absl::Status& s) { return Payload(s, kKeyKey); }
std::string ErrorFile(const absl::Status& s) { return Payload(s, kFileKey).value_or(""); }
std::optional<uint64_t> ErrorOffset(const absl::Status& s) {
  std::optional<std::string> v = Payload(s, kOffsetKey);
  uint64_t n;
  if (!v || !absl::SimpleAtoi(*v, &n)) return std::nullopt;
  return n;
}

absl::Status WithFile(absl::Status status, std::string_view path) {
  if (status.ok() || !ErrorFile(status).empty()) return status;
  Fields f = FieldsOf(status);
  f.file = std::string(path);
  return Make(status.code(), f);
}

absl::Status WithCode(absl::Status status, absl::StatusCode code) {
  if (status.ok()) return status;
  absl::Status out(code, status.message());
  status.ForEachPayload([&](absl::string_view key, const absl::Cord& value) { out.SetPayload(key, value); });
  return out;
}

absl::Status Annotate(absl::Status status, std::string_view prefix) {
  if (status.ok()) return status;
  Fields f = FieldsOf(status);
  f.detail = StrCat(prefix, f.detail);
  return Make(status.code(), f);
}

}  // namespace ckpt
