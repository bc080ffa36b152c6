#include "cli/common.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"
#include "ckpt/text.h"

namespace ckpt::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
      return kExitInvalid;
    default:
      return kExitError;
  }
}

void PrintError(const absl::Status& status) {
  std::fprintf(stderr, "ckpt: %s\n", std::string(status.message()).c_str());
}

std::string DumpJson(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool ShowProgress(bool quiet) { return !quiet && isatty(STDERR_FILENO); }

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Update(uint64_t done, uint64_t total, std::string_view detail) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? done / secs : 0;
  const double pct = total ? 100.0 * done / total : 100.0;
  std::string eta = "";
  if (rate > 0 && done < total) eta = absl::StrFormat(" ETA %.0fs", (total - done) / rate);
  std::fprintf(stderr, "\r%s: %5.1f%% %s / %s  %s/s%s%s%.*s\033[K", label_.c_str(), pct, HumanBytes(done).c_str(),
               HumanBytes(total).c_str(), HumanBytes(static_cast<uint64_t>(rate)).c_str(), eta.c_str(),
               detail.empty() ? "" : "  ", static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\n");
    drawn_ = false;
  }
}

}  // namespace ckpt::cli
