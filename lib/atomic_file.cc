#include "lib/str_util.h"
#include "ckpt/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ckpt/status.h"

namespace ckpt {
namespace {

constexpr size_t kBufferBytes = 4 << 20;

// Temporaries to remove if the process is interrupted; read by the signal
// handler, so fixed-size and lock-free.
constexpr int kMaxTemps = 64;
constexpr size_t kPathBytes = 4096;
struct TempSlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
  char path[kPathBytes];
};
TempSlot g_temps[kMaxTemps];

int Register(const std::string& path) {
  if (path.size() >= kPathBytes) return -1;
  for (int i = 0; i < kMaxTemps; ++i) {
    int expected = 0;
    if (g_temps[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_temps[i].path, path.c_str(), path.size() + 1);
      g_temps[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void Unregister(int slot) {
  if (slot >= 0) g_temps[slot].state.store(0);
}

void OnInterrupt(int sig) {
  RemoveUncommittedOutputs();
  _exit(128 + sig);
}

absl::Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& target) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error("file.write", StrCat("cannot write: ", std::strerror(errno)))
          .File(target)
          .Code(absl::StatusCode::kUnavailable);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

}  // namespace

void RemoveUncommittedOutputs() {
  for (auto& t : g_temps) {
    if (t.state.load() == 2) unlink(t.path);
  }
}

absl::StatusOr<std::unique_ptr<AtomicOutputFile>> AtomicOutputFile::Create(const std::string& target_arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A symlink is written through (its target is replaced, the link stays);
  // anything else that is not a regular file (a device, a FIFO) is refused
  // rather than replaced by a regular file.
  std::string target = target_arg;
  if (fs::is_symlink(target, ec)) {
    const fs::path resolved = fs::weakly_canonical(target, ec);
    if (ec) {
      return Error("file.create", StrCat("cannot resolve the symbolic link: ", ec.message()))
          .File(target_arg)
          .Code(absl::StatusCode::kFailedPrecondition);
    }
    target = resolved.string();
  }
  const fs::file_status st = fs::status(target, ec);
  if (fs::exists(st) && !fs::is_regular_file(st) && !fs::is_directory(st)) {
    return Error("file.create", "output path exists and is not a regular file (a device, FIFO or socket); ckpt only "
                                "replaces regular files")
        .File(target_arg)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  fs::path t(target);
  fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  std::string name = t.filename().string();
  if (name.empty()) {
    return Error("file.create", "output path names a directory").File(target).Code(absl::StatusCode::kFailedPrecondition);
  }
  if (fs::is_directory(t, ec)) {
    return Error("file.create", "output path is a directory").File(target).Code(absl::StatusCode::kFailedPrecondition);
  }
  std::string temp = (dir / ("." + name + ".ckpt-tmp-XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return Error("file.create", StrCat("cannot create a file in ", dir.string(), ": ",
                                             std::strerror(errno)))
        .File(target)
        .Code(absl::StatusCode::kPermissionDenied);
  }
  // mkstemp makes 0600; give the result the usual 0666 & ~umask (read once:
  // umask can only be read by setting it).
  static const mode_t mask = [] {
    const mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }();
  ::fchmod(fd, 0666 & ~mask);
  std::unique_ptr<AtomicOutputFile> f(new AtomicOutputFile());
  f->target_ = target;
  f->temp_ = temp;
  f->fd_ = fd;
  f->slot_ = Register(temp);
  f->buffer_.reserve(kBufferBytes);
  return f;
}

AtomicOutputFile::~AtomicOutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  Unregister(slot_);
}

absl::Status AtomicOutputFile::Flush() {
  absl::Status s = WriteAll(fd_, buffer_.data(), buffer_.size(), target_);
  buffer_.clear();
  return s;
}

absl::Status AtomicOutputFile::Write(absl::Span<const uint8_t> bytes) {
  if (fd_ < 0) return Error("file.write", "write after commit or failure").File(target_).Code(absl::StatusCode::kInternal);
  written_ += bytes.size();
  if (buffer_.size() + bytes.size() <= kBufferBytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return absl::OkStatus();
  }
  CKPT_RETURN_IF_ERROR(Flush());
  if (bytes.size() >= kBufferBytes) return WriteAll(fd_, bytes.data(), bytes.size(), target_);
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::CopyFromFile(const std::string& path, uint64_t offset, uint64_t n) {
  if (fd_ < 0) return Error("file.write", "write after commit or failure").File(target_).Code(absl::StatusCode::kInternal);
  CKPT_RETURN_IF_ERROR(Flush());
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return Error("file.unreadable", std::strerror(errno)).File(path).Code(absl::StatusCode::kUnavailable);
  }
  absl::Status status;
  loff_t off = static_cast<loff_t>(offset);
  uint64_t left = n;
  bool kernel_copy = true;
  std::vector<uint8_t> chunk;
  while (left > 0 && status.ok()) {
    if (kernel_copy) {
      const ssize_t r = ::copy_file_range(in, &off, fd_, nullptr, std::min<uint64_t>(left, 1ull << 30), 0);
      if (r > 0) {
        left -= static_cast<uint64_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        status = Error("file.truncated", StrCat("ends before byte ", offset + n)).File(path);
        break;
      }
      kernel_copy = false;  // EXDEV, EINVAL, ENOSYS, ...: copy through memory
      chunk.resize(kBufferBytes);
    }
    const ssize_t r = ::pread(in, chunk.data(), std::min<uint64_t>(left, chunk.size()), off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      status = r == 0 ? Error("file.truncated", StrCat("ends before byte ", offset + n)).File(path)
                      : Error("file.unreadable", std::strerror(errno)).File(path).Code(absl::StatusCode::kUnavailable);
      break;
    }
    status = WriteAll(fd_, chunk.data(), static_cast<size_t>(r), target_);
    off += r;
    left -= static_cast<uint64_t>(r);
  }
  ::close(in);
  if (status.ok()) written_ += n;
  return status;
}

absl::Status AtomicOutputFile::Finish() {
  if (fd_ < 0) return Error("file.write", "finish after commit or failure").File(target_).Code(absl::StatusCode::kInternal);
  CKPT_RETURN_IF_ERROR(Flush());
  std::vector<uint8_t>().swap(buffer_);
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::Commit() {
  if (fd_ < 0) return Error("file.write", "commit after commit or failure").File(target_).Code(absl::StatusCode::kInternal);
  absl::Status s = Flush();
  if (s.ok() && ::fsync(fd_) != 0) {
    s = Error("file.write", StrCat("fsync failed: ", std::strerror(errno))).File(target_).Code(absl::StatusCode::kUnavailable);
  }
  if (::close(fd_) != 0 && s.ok()) {
    s = Error("file.write", StrCat("close failed: ", std::strerror(errno))).File(target_).Code(absl::StatusCode::kUnavailable);
  }
  fd_ = -1;
  if (!s.ok()) return s;  // destructor removes the temporary
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    return Error("file.write", StrCat("cannot rename into place: ", std::strerror(errno)))
        .File(target_)
        .Code(absl::StatusCode::kUnavailable);
  }
  committed_ = true;
  Unregister(slot_);
  slot_ = -1;
  // Make the rename itself durable.
  std::filesystem::path dir = std::filesystem::path(target_).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

void InstallOutputCleanupOnSignal() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace ckpt
