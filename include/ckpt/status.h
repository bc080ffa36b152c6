// ckpt/status.h — errors that say where and which rule.
//
// Every error ckpt returns is an absl::Status whose message is rendered one
// way from fields that stay machine-readable:
//
//   FILE: offset N: tensor 'NAME': DETAIL [RULE]
//
// FILE, offset and tensor appear only when known. RULE is a stable id such as
// `safetensors.offsets.contiguous` (all ids are listed in docs/rules.md); tests
// and tools match on it with ErrorRule(), never by parsing the message.
//
// Status codes follow one table: malformed input → kInvalidArgument, a
// feature ckpt does not handle → kUnimplemented, over a fixed limit →
// kResourceExhausted, I/O failures → kNotFound / kPermissionDenied /
// kUnavailable / kDataLoss, ckpt's own bug → kInternal.
#ifndef CKPT_STATUS_H_
#define CKPT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ckpt {

// ErrorBuilder
//
// Collects the fields of one error and converts to absl::Status. Typical use:
//
//   return Error("safetensors.header.too_large", "header length 2^40 exceeds ...")
//       .At(0);
class ErrorBuilder {
 public:
  ErrorBuilder(std::string_view rule, std::string detail)
      : rule_(rule), detail_(std::move(detail)) {}

  // Absolute byte offset in the file where the problem is.
  ErrorBuilder& At(uint64_t offset) & { offset_ = offset; return *this; }
  ErrorBuilder&& At(uint64_t offset) && { offset_ = offset; return std::move(*this); }
  // Name of the tensor (or metadata key) concerned; rendered escaped.
  ErrorBuilder& Tensor(std::string_view name) & { tensor_ = std::string(name); return *this; }
  ErrorBuilder&& Tensor(std::string_view name) && { tensor_ = std::string(name); return std::move(*this); }
  // Name of the metadata key concerned (rendered "key '...'").
  ErrorBuilder& Key(std::string_view name) & { key_ = std::string(name); return *this; }
  ErrorBuilder&& Key(std::string_view name) && { key_ = std::string(name); return std::move(*this); }
  // The file concerned. Usually added later by WithFile().
  ErrorBuilder& File(std::string_view path) & { file_ = std::string(path); return *this; }
  ErrorBuilder&& File(std::string_view path) && { file_ = std::string(path); return std::move(*this); }
  // Defaults to kInvalidArgument (malformed input).
  ErrorBuilder& Code(absl::StatusCode code) & { code_ = code; return *this; }
  ErrorBuilder&& Code(absl::StatusCode code) && { code_ = code; return std::move(*this); }

  absl::Status Build() const;
  operator absl::Status() const { return Build(); }  // NOLINT: builder idiom
  template <typename T>
  operator absl::StatusOr<T>() const { return Build(); }  // NOLINT

 private:
  std::string rule_;
  std::string detail_;
  std::optional<uint64_t> offset_;
  std::optional<std::string> tensor_;
  std::optional<std::string> key_;
  std::string file_;
  absl::StatusCode code_ = absl::StatusCode::kInvalidArgument;
};

// Error
//
// Starts an error for `rule` (a stable id from docs/rules.md) with a detail
// sentence (what was found and what was expected).
inline ErrorBuilder Error(std::string_view rule, std::string detail) {
  return ErrorBuilder(rule, std::move(detail));
}

// ErrorRule / ErrorOffset / ErrorTensor / ErrorFile / ErrorDetail
//
// The fields of an error made by ErrorBuilder. Empty / nullopt when absent
// (for example on an absl::Status made elsewhere).
std::string ErrorRule(const absl::Status& status);
std::optional<uint64_t> ErrorOffset(const absl::Status& status);
std::optional<std::string> ErrorTensor(const absl::Status& status);
std::optional<std::string> ErrorKey(const absl::Status& status);
std::string ErrorFile(const absl::Status& status);
std::string ErrorDetail(const absl::Status& status);

// WithFile
//
// Returns `status` with its file set to `path` (and the message re-rendered)
// unless it already names a file. OK stays OK.
absl::Status WithFile(absl::Status status, std::string_view path);

// WithCode
//
// Returns `status` with its code replaced (fields kept). OK stays OK.
absl::Status WithCode(absl::Status status, absl::StatusCode code);

// Annotate
//
// Returns `status` with `prefix` prepended to its detail (for example the
// shard that referred to a broken file). OK stays OK.
absl::Status Annotate(absl::Status status, std::string_view prefix);

}  // namespace ckpt

// CKPT_RETURN_IF_ERROR(expr): returns the status of `expr` when it is not OK.
#define CKPT_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    ::absl::Status ckpt_status_ = (expr);                 \
    if (!ckpt_status_.ok()) return ckpt_status_;          \
  } while (0)

#define CKPT_INTERNAL_CONCAT2(a, b) a##b
#define CKPT_INTERNAL_CONCAT(a, b) CKPT_INTERNAL_CONCAT2(a, b)
#define CKPT_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()

// CKPT_ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its
// status when not OK, otherwise moves its value into `lhs` (which may be a
// declaration such as `auto x`).
#define CKPT_ASSIGN_OR_RETURN(lhs, expr) \
  CKPT_INTERNAL_ASSIGN_OR_RETURN(CKPT_INTERNAL_CONCAT(ckpt_statusor_, __LINE__), lhs, expr)

#endif  // CKPT_STATUS_H_
