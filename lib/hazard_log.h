// lib/hazard_log.h — strict-mode hazards, shared by the format readers.
//
// A hazard is something the reference reader accepts but strict mode
// rejects. Readers record each one here: it becomes a warning (only the
// first kMaxWarnings, so a hostile file cannot grow the list without bound)
// and the first one is kept as the error strict mode returns.
#ifndef CKPT_LIB_HAZARD_LOG_H_
#define CKPT_LIB_HAZARD_LOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {

class HazardLog {
 public:
  static constexpr size_t kMaxWarnings = 20;

  explicit HazardLog(std::vector<std::string>* warnings) : warnings_(warnings) {}

  void Record(const ErrorBuilder& b) {
    if (++count_ > kMaxWarnings) return;
    absl::Status s = b;
    warnings_->push_back(std::string(s.message()));
    if (first_.ok()) first_ = std::move(s);
  }
  // The first hazard recorded (OK when none).
  const absl::Status& first() const { return first_; }
  size_t count() const { return count_; }
  // Adds "... and N more" when hazards were dropped.
  void Finish() const {
    if (count_ > kMaxWarnings) {
      warnings_->push_back(StrCat("... and ", count_ - kMaxWarnings, " more hazards like these"));
    }
  }

 private:
  std::vector<std::string>* warnings_;
  absl::Status first_;
  size_t count_ = 0;
};

}  // namespace ckpt

#endif  // CKPT_LIB_HAZARD_LOG_H_
