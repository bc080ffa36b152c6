// lib/fs_util.h — directory listing without exceptions (internal).
#ifndef CKPT_LIB_FS_UTIL_H_
#define CKPT_LIB_FS_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ckpt {

// File names (not paths) of the entries of directory `dir`, sorted. Errors:
// file.unreadable (kUnavailable), naming `dir`.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir);

// The whole of a small file (configuration, tokenizer, index). Errors:
// file.not_found, file.unreadable, file.too_large (more than `max_bytes`;
// kFailedPrecondition), each naming `path`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes);

// ReadSmallFile then JSON parsing (exceptions stay inside). Errors: those
// above and json.invalid with the byte offset of the syntax error.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path, uint64_t max_bytes = 64ull << 20);

// Whether `path` is an existing regular file (following symlinks).
bool IsRegularFile(const std::string& path);

}  // namespace ckpt

#endif  // CKPT_LIB_FS_UTIL_H_
