// fuzz/fuzz_check.h — property checks for the fuzz targets: print what broke
// and abort, so libFuzzer (and the replay tests) report the input.
#ifndef CKPT_FUZZ_FUZZ_CHECK_H_
#define CKPT_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ckpt_fuzz {

// `detail` is any string-like type (std::string_view, absl::string_view,
// which Debian's Abseil keeps distinct, std::string).
template <typename Text = std::string_view>
[[noreturn]] void Fail(const char* what, const Text& detail = {}) {
  std::fprintf(stderr, "property violated: %s%s%.*s\n", what, detail.empty() ? "" : ": ",
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace ckpt_fuzz

#define CHECK(cond, ...)                         \
  do {                                           \
    if (!(cond)) ::ckpt_fuzz::Fail(__VA_ARGS__); \
  } while (0)

#endif  // CKPT_FUZZ_FUZZ_CHECK_H_
