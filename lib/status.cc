#include "lib/str_util.h"
#include "ckpt/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/text.h"

namespace ckpt {
namespace {

// Payload keys. The fields live in payloads so that they survive copies and
// can be re-rendered when context (the file) is added later.
constexpr char kRuleKey[] = "ckpt/rule";
constexpr char kDetailKey[] = "ckpt/detail";
constexpr char kOffsetKey[] = "ckpt/offset";
constexpr char kTensorKey[] = "ckpt/tensor";
constexpr char kFileKey[] = "ckpt/file";

std::optional<std::string> Payload(const absl::Status& s, const char* key) {
  auto c = s.GetPayload(key);
  if (!c) return std::nullopt;
  return std::string(*c);
}

std::string Render(const std::string& file, const std::optional<uint64_t>& offset,
                   const std::optional<std::string>& tensor, const std::string& detail,
                   const std::string& rule) {
  std::string out;
  if (!file.empty()) StrAppend(&out, file, ": ");
  if (offset) StrAppend(&out, "offset ", *offset, ": ");
  if (tensor) StrAppend(&out, "tensor '", EscapeForDisplay(*tensor), "': ");
  StrAppend(&out, detail);
  if (!rule.empty()) StrAppend(&out, " [", rule, "]");
  return out;
}

absl::Status Make(absl::StatusCode code, const std::string& rule, const std::string& detail,
                  const std::optional<uint64_t>& offset, const std::optional<std::string>& tensor,
                  const std::string& file) {
  absl::Status s(code, Render(file, offset, tensor, detail, rule));
  s.SetPayload(kRuleKey, absl::Cord(rule));
  s.SetPayload(kDetailKey, absl::Cord(detail));
  if (offset) s.SetPayload(kOffsetKey, absl::Cord(StrCat(*offset)));
  if (tensor) s.SetPayload(kTensorKey, absl::Cord(*tensor));
  if (!file.empty()) s.SetPayload(kFileKey, absl::Cord(file));
  return s;
}

}  // namespace

absl::Status ErrorBuilder::Build() const {
  return Make(code_, rule_, detail_, offset_, tensor_, file_);
}

std::string ErrorRule(const absl::Status& s) { return Payload(s, kRuleKey).value_or(""); }
std::string ErrorDetail(const absl::Status& s) {
  return Payload(s, kDetailKey).value_or(std::string(s.message()));
}
std::optional<std::string> ErrorTensor(const absl::Status& s) { return Payload(s, kTensorKey); }
std::string ErrorFile(const absl::Status& s) { return Payload(s, kFileKey).value_or(""); }
std::optional<uint64_t> ErrorOffset(const absl::Status& s) {
  std::optional<std::string> v = Payload(s, kOffsetKey);
  uint64_t n;
  if (!v || !absl::SimpleAtoi(*v, &n)) return std::nullopt;
  return n;
}

absl::Status WithFile(absl::Status status, std::string_view path) {
  if (status.ok() || !ErrorFile(status).empty()) return status;
  return Make(status.code(), ErrorRule(status), ErrorDetail(status), ErrorOffset(status),
              ErrorTensor(status), std::string(path));
}

absl::Status Annotate(absl::Status status, std::string_view prefix) {
  if (status.ok()) return status;
  return Make(status.code(), ErrorRule(status), StrCat(prefix, ErrorDetail(status)),
              ErrorOffset(status), ErrorTensor(status), ErrorFile(status));
}

}  // namespace ckpt
