// lib/str_util.h — StrCat/StrAppend that accept std::string_view (internal).
//
// Debian's Abseil (20220623) has its own absl::string_view, which
// std::string_view does not convert to; these forward to absl::StrCat with
// such arguments adapted, so the rest of ckpt can use std::string_view.
#ifndef CKPT_LIB_STR_UTIL_H_
#define CKPT_LIB_STR_UTIL_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ckpt {
namespace str_internal {

template <typename T>
decltype(auto) Adapt(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return absl::string_view(v.data(), v.size());
  } else {
    return (v);
  }
}

}  // namespace str_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(str_internal::Adapt(args)...);
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, str_internal::Adapt(args)...);
}

inline absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace ckpt

#endif  // CKPT_LIB_STR_UTIL_H_
