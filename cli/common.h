// cli/common.h — what every subcommand shares: exit codes, output, progress.
#ifndef CKPT_CLI_COMMON_H_
#define CKPT_CLI_COMMON_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace CLI {
class App;
}

namespace ckpt::cli {

// Exit statuses of the command-line contract.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // examined and invalid / unsafe / different
inline constexpr int kExitError = 2;    // usage, unreadable, unrecognised, internal

// 1 for an input that was recognised but is broken, 2 for everything else
// (unreadable, unrecognised, unsupported, our own failure).
int ExitCodeFor(const absl::Status& status);

// Prints "ckpt: MESSAGE" on stderr.
void PrintError(const absl::Status& status);

// JSON text of `j` on one line; never throws (invalid UTF-8 is replaced).
std::string DumpJson(const nlohmann::ordered_json& j, int indent = -1);

// Progress on stderr when it is a terminal and not --quiet; silent otherwise.
class Progress {
 public:
  Progress(std::string label, bool enabled);
  ~Progress();
  // `detail` (e.g. "tensor 3/75") is shown after the rate.
  void Update(uint64_t done, uint64_t total, std::string_view detail = {});
  void Finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// Whether progress should be shown: stderr is a terminal and !quiet.
bool ShowProgress(bool quiet);

// Subcommands: each adds itself to `app`; its callback sets *exit_code.
void RegisterInspect(CLI::App& app, int* exit_code);
void RegisterValidate(CLI::App& app, int* exit_code);
void RegisterConvert(CLI::App& app, int* exit_code);
void RegisterEdit(CLI::App& app, int* exit_code);
void RegisterHash(CLI::App& app, int* exit_code);
void RegisterSplit(CLI::App& app, int* exit_code);  // split and merge
void RegisterScan(CLI::App& app, int* exit_code);
void RegisterQuantize(CLI::App& app, int* exit_code);

}  // namespace ckpt::cli

#endif  // CKPT_CLI_COMMON_H_
