#include "lib/str_util.h"
#include "ckpt/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>

#include "absl/strings/str_cat.h"
#include "boost/iostreams/device/mapped_file.hpp"
#include "ckpt/atomic_file.h"
#include "ckpt/status.h"
#include "ckpt/text.h"

namespace ckpt {
namespace {

// A fixed table of live mappings for the SIGBUS handler, which may only use
// async-signal-safe operations: no allocation, no locks. Each slot points at
// a message owned by its Mapping, which outlives the slot's registration.
constexpr int kMaxTracked = 4096;
struct TrackedRange {
  std::atomic<uintptr_t> begin{0};  // 0 free, 1 being claimed, else live
  std::atomic<uintptr_t> end{0};
  std::atomic<const char*> message{nullptr};
};
TrackedRange g_ranges[kMaxTracked];

int Track(const uint8_t* data, uint64_t size, const char* message) {
  for (int i = 0; i < kMaxTracked; ++i) {
    uintptr_t expected = 0;
    if (g_ranges[i].begin.compare_exchange_strong(expected, 1)) {  // claim the slot
      g_ranges[i].message.store(message);
      g_ranges[i].end.store(reinterpret_cast<uintptr_t>(data) + size);
      g_ranges[i].begin.store(reinterpret_cast<uintptr_t>(data));
      return i;
    }
  }
  return -1;  // untracked: a SIGBUS there keeps the default action
}

void Untrack(int slot) {
  if (slot < 0) return;
  g_ranges[slot].end.store(0);
  g_ranges[slot].message.store(nullptr);
  g_ranges[slot].begin.store(0);
}

void OnSigbus(int sig, siginfo_t* info, void*) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (int i = 0; i < kMaxTracked; ++i) {
    const uintptr_t b = g_ranges[i].begin.load(), e = g_ranges[i].end.load();
    const char* m = g_ranges[i].message.load();
    if (b > 1 && m != nullptr && addr >= b && addr < e) {
      ssize_t ignored = write(STDERR_FILENO, m, strlen(m));
      (void)ignored;
      RemoveUncommittedOutputs();  // an output being written from this input is incomplete
      _exit(2);
    }
  }
  signal(sig, SIG_DFL);  // not ours: re-raise with the default action
  raise(sig);
}

absl::Status StatError(const std::string& path, int err) {
  if (err == ENOENT || err == ENOTDIR) {
    return Error("file.not_found", "no such file").File(path).Code(absl::StatusCode::kNotFound);
  }
  if (err == EACCES || err == EPERM) {
    return Error("file.permission", "permission denied").File(path).Code(absl::StatusCode::kPermissionDenied);
  }
  return Error("file.unreadable", std::strerror(err)).File(path).Code(absl::StatusCode::kUnavailable);
}

}  // namespace

struct MappedFile::Mapping {
  boost::iostreams::mapped_file_source source;
  std::string sigbus_message;  // what the SIGBUS handler prints for this file
  int slot = -1;
  ~Mapping() { Untrack(slot); }
};

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return StatError(path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Error("file.not_regular", "is a directory, not a file").File(path).Code(absl::StatusCode::kFailedPrecondition);
  }
  if (!S_ISREG(st.st_mode)) {
    return Error("file.not_regular", "not a regular file (device, FIFO or socket)")
        .File(path)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  if (st.st_size == 0) {
    return Error("file.empty", "file is empty (0 bytes)").File(path).Code(absl::StatusCode::kFailedPrecondition);
  }
  // Check readability up front for a clean permission error (Boost's message
  // would not say which rule).
  if (::access(path.c_str(), R_OK) != 0) return StatError(path, errno);

  auto mapping = std::make_shared<Mapping>();
  try {
    mapping->source.open(path);
  } catch (const std::exception& e) {
    return Error("file.map_failed", StrCat("cannot map file: ", e.what()))
        .File(path)
        .Code(absl::StatusCode::kUnavailable);
  }
  if (!mapping->source.is_open()) {
    return Error("file.map_failed", "cannot map file").File(path).Code(absl::StatusCode::kUnavailable);
  }
  MappedFile f;
  f.data_ = reinterpret_cast<const uint8_t*>(mapping->source.data());
  f.size_ = mapping->source.size();
  f.path_ = path;
  if (f.size_ == 0) {
    return Error("file.empty", "file is empty (0 bytes)").File(path).Code(absl::StatusCode::kFailedPrecondition);
  }
  mapping->sigbus_message = StrCat("ckpt: ", EscapeForDisplay(path),
                                   ": changed size while being read (mapped bytes are no longer backed by "
                                   "the file) [file.changed]\n");
  mapping->slot = Track(f.data_, f.size_, mapping->sigbus_message.c_str());
  f.mapping_ = std::move(mapping);
  return f;
}

void MappedFile::Prefault(uint64_t offset, uint64_t nbytes) const {
  if (offset >= size_) return;
  PrefaultRange(absl::MakeConstSpan(data_ + offset, std::min(nbytes, size_ - offset)));
}

void PrefaultRange(absl::Span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(bytes.data() + bytes.size());
#ifdef MADV_POPULATE_READ
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return;
#endif
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);  // older kernels
}

absl::Status MappedFile::CheckUnchanged() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return StatError(path_, errno);
  if (static_cast<uint64_t>(st.st_size) < size_) {
    return Error("file.changed",
                 StrCat("file shrank from ", size_, " to ", st.st_size, " bytes while being read"))
        .File(path_)
        .Code(absl::StatusCode::kUnavailable);
  }
  return absl::OkStatus();
}

void InstallMappedFileSignalHandler() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace ckpt
