// lib/fs_util.h — directory listing without exceptions (internal).
#ifndef CKPT_LIB_FS_UTIL_H_
#define CKPT_LIB_FS_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ckpt {

// File names (not paths) of the entries of directory `dir`, sorted. Errors:
// file.unreadable (kUnavailable), naming `dir`.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir);

}  // namespace ckpt

#endif  // CKPT_LIB_FS_UTIL_H_
