// ckpt — inspect, validate and convert model checkpoints.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>

#include "CLI/CLI.hpp"
#include "cli/common.h"
#include "ckpt/atomic_file.h"
#include "ckpt/mapped_file.h"

int main(int argc, char** argv) {
  // A mapped input that shrinks under us becomes an error, not a crash; an
  // interrupted write leaves no temporary behind.
  ckpt::InstallMappedFileSignalHandler();
  ckpt::InstallOutputCleanupOnSignal();
  // `ckpt inspect | head` must end quietly, not by a signal.
  std::signal(SIGPIPE, SIG_IGN);
  // Shard directories map one file per shard: allow as many as the system does.
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  CLI::App app{"ckpt: inspect, validate, scan, convert and quantize model checkpoints (Safetensors, GGUF, PyTorch, NumPy)"};
  app.set_version_flag("--version", "ckpt " CKPT_VERSION);
  app.require_subcommand(1);
  int exit_code = ckpt::cli::kExitOk;
  ckpt::cli::RegisterInspect(app, &exit_code);
  ckpt::cli::RegisterValidate(app, &exit_code);
  ckpt::cli::RegisterConvert(app, &exit_code);
  ckpt::cli::RegisterEdit(app, &exit_code);
  ckpt::cli::RegisterHash(app, &exit_code);
  ckpt::cli::RegisterSplit(app, &exit_code);
  ckpt::cli::RegisterScan(app, &exit_code);
  ckpt::cli::RegisterQuantize(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : ckpt::cli::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt: internal error: %s\n", e.what());
    return ckpt::cli::kExitError;
  }
  return exit_code;
}
