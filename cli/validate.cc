// ckpt validate PATH... [--strict] [--json]
#include <cstdio>

#include "lib/str_util.h"
#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "ckpt/checkpoint.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "cli/common.h"

namespace ckpt::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> paths;
  bool strict = false;
  bool json = false;
};

}  // namespace

void RegisterValidate(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check structure without trusting it; exit 1 if any file is invalid");
  cmd->add_option("paths", args->paths, "Checkpoint files or shard directories")->required();
  cmd->add_flag("--strict", args->strict,
                "Also reject hazards the reference reader tolerates (duplicate names, NUL bytes, unpadded data, ...)");
  cmd->add_flag("--json", args->json, "Print a JSON array with one result per path");
  cmd->callback([args, exit_code] {
    OpenOptions options;
    options.strict = args->strict;
    options.reference_compatible = true;
    options.verify_checksums = true;
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    int worst = kExitOk;
    for (const std::string& path : args->paths) {
      absl::StatusOr<Checkpoint> c = Checkpoint::Open(path, options);
      nlohmann::ordered_json r;
      r["path"] = path;
      if (c.ok()) {
        r["valid"] = true;
        r["format"] = c->format();
        r["errors"] = nlohmann::ordered_json::array();
        r["warnings"] = c->warnings();
        if (!args->json) {
          const size_t n = c->tensors().size(), w = c->warnings().size();
          std::printf("%s: valid (%s, %zu tensor%s%s)\n", EscapeForDisplay(path).c_str(), c->format().c_str(), n,
                      n == 1 ? "" : "s", w == 0 ? "" : StrCat(", ", w, w == 1 ? " warning" : " warnings").c_str());
          for (const std::string& w : c->warnings()) {
            std::printf("%s: warning: %s\n", EscapeForDisplay(path).c_str(), w.c_str());
          }
        }
        results.push_back(std::move(r));
        continue;
      }
      const absl::Status& s = c.status();
      const int code = ExitCodeFor(s);
      worst = std::max(worst, code);
      // Unrecognised content has no format; a broken file of a known format does.
      const std::string rule = ErrorRule(s);
      r["valid"] = false;
      const std::string format = rule.substr(0, rule.find('.'));
      r["format"] = format == "safetensors" || format == "gguf" || format == "pytorch" || format == "numpy" ? nlohmann::ordered_json(format) : nlohmann::ordered_json(nullptr);
      const std::string message = ErrorFile(s).empty() ? StrCat(path, ": ", s.message())
                                                       : std::string(s.message());
      r["errors"] = {message};
      r["warnings"] = nlohmann::ordered_json::array();
      nlohmann::ordered_json detail;
      detail["rule"] = rule;
      detail["file"] = ErrorFile(s).empty() ? path : ErrorFile(s);
      if (auto o = ErrorOffset(s)) detail["offset"] = *o;
      if (auto t = ErrorTensor(s)) detail["tensor"] = *t;
      detail["message"] = ErrorDetail(s);
      r["error_details"] = {detail};
      if (!args->json) std::printf("%s\n", message.c_str());
      results.push_back(std::move(r));
    }
    if (args->json) std::printf("%s\n", DumpJson(results).c_str());
    *exit_code = worst;
  });
}

}  // namespace ckpt::cli
