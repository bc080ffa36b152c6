#include "lib/fs_util.h"

#include <algorithm>
#include <filesystem>

#include "ckpt/status.h"
#include "lib/str_util.h"

namespace ckpt {

absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> names;
  // Explicit increments with an error_code: the range-for form throws.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return Error("file.unreadable", StrCat("cannot list directory: ", ec.message()))
        .File(dir)
        .Code(absl::StatusCode::kUnavailable);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ckpt
