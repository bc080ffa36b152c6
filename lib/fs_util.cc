#include "lib/fs_util.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

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

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return Error("file.not_found", "no such file").File(path).Code(absl::StatusCode::kNotFound);
  }
  if (!fs::is_regular_file(st)) {
    return Error("file.unreadable", "not a regular file").File(path).Code(absl::StatusCode::kUnavailable);
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return Error("file.unreadable", ec.message()).File(path).Code(absl::StatusCode::kUnavailable);
  if (size > max_bytes) {
    return Error("file.too_large", StrCat(size, " bytes; at most ", max_bytes, " are read for this kind of file"))
        .File(path)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Error("file.unreadable", "read failed").File(path).Code(absl::StatusCode::kUnavailable);
  }
  return bytes;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path, uint64_t max_bytes) {
  CKPT_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, max_bytes));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Error("json.invalid", e.what()).File(path).At(e.byte > 0 ? e.byte - 1 : 0);
  } catch (const std::exception& e) {
    return Error("json.invalid", e.what()).File(path);
  }
}

bool IsRegularFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace ckpt
