// tests/status_matchers.h — assertions on ckpt errors (Debian's Abseil has no
// status matchers). There is deliberately no "is not OK" matcher: tests name
// the rule they expect.
#ifndef CKPT_TESTS_STATUS_MATCHERS_H_
#define CKPT_TESTS_STATUS_MATCHERS_H_

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ckpt/status.h"

namespace ckpt::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s.message();
  return s.ok();
}

// Matches an error with the given rule id (and, with a code, that code).
MATCHER_P(HasRule, rule, std::string("fails with rule ") + rule) {
  const absl::Status& s = GetStatus(arg);
  if (s.ok()) {
    *result_listener << "status is OK";
    return false;
  }
  *result_listener << "status: " << s.message();
  return ErrorRule(s) == rule;
}

MATCHER_P2(StatusIs, code, rule, std::string("fails with rule ") + rule) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << (s.ok() ? "OK" : std::string(s.message()));
  return !s.ok() && s.code() == code && ErrorRule(s) == rule;
}

}  // namespace ckpt::testing

#endif  // CKPT_TESTS_STATUS_MATCHERS_H_
