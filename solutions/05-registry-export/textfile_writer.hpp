// textfile_writer.hpp: milestone 5, publish a metrics file that no reader sees half-written.
//
// node_exporter's textfile collector (--collector.textfile.directory) reads every *.prom file
// of a directory at each scrape and serves its samples with the machine's own metrics: the way
// a batch job or a program without an HTTP server gets its metrics into Prometheus. If we
// rewrote such a file in place, a scrape that runs during the write would read an empty or
// truncated file, and Prometheus would record wrong values or a failed scrape.
//
// write_textfile() promises that a reader who opens the path gets either the complete old
// file or the complete new one, never a part, even if the program dies in the middle, and that
// the collector never reads a file that is not the target. How can content become visible in
// one step, when writing it takes many? Which system call changes what a path names
// atomically, and what does it require of where the new content lies (man 2 rename: EXDEV)?
// What must reach the disk before that step, so that a crash right after it cannot leave an
// empty file (man 2 fsync)? And what name may a file have while the collector might list the
// directory (--collector.textfile.directory reads every *.prom)?
//
// It is the file-system cousin of publishing with a release store: build everything where
// nobody looks, then make it visible with one atomic operation.
//
// Example:
//   registry.start_export([](const metrics::FullSnapshot& s) {
//     metrics::write_textfile("/var/lib/prometheus/node-exporter/myjob.prom", s.to_prometheus());
//   });
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace metrics {

// Replaces the file at `path` with `text`, atomically: a reader sees the old content or the
// new, never a mix or a part. Any thread; concurrent calls for the same path are safe (each
// writes its own temporary file; the last rename wins). Creates the file if it does not exist.
// Throws std::system_error (with the errno) when the temporary file cannot be created,
// written, synced or renamed; the temporary file is then removed and the target is untouched.
void write_textfile(const std::filesystem::path& path, std::string_view text);

namespace detail {

[[noreturn]] inline void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// The temporary file being written: closed and removed on every exit unless committed.
class TempFile {
 public:
  TempFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Closes the descriptor; returns false (errno set) if close() reported a write error.
  [[nodiscard]] bool close() noexcept {
    const int descriptor = fd_;
    fd_ = -1;
    return ::close(descriptor) == 0;
  }
  void commit() noexcept { committed_ = true; }

 private:
  int fd_;
  std::filesystem::path path_;
  bool committed_ = false;
};

}  // namespace detail

inline void write_textfile(const std::filesystem::path& path, std::string_view text) {
  // Solution: temp file in the target's directory + write everything + fsync + rename.
  static std::atomic<std::uint64_t> sequence{0};
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  // A hidden name unique per process and call: concurrent writers never share a temp file.
  // order: relaxed: only the uniqueness of the number matters; nothing is published with it.
  const std::uint64_t n = sequence.fetch_add(1, std::memory_order_relaxed);
  std::filesystem::path temp_path =
      dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
             std::to_string(n));
  // O_EXCL: never reuse (and truncate) a file someone else created under that name.
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) detail::throw_errno(errno, "write_textfile: cannot create " + temp_path.string());
  detail::TempFile temp(fd, std::move(temp_path));

  // write() may write less than asked (or be interrupted by a signal): loop until all is out.
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n_written = ::write(temp.fd(), text.data() + written, text.size() - written);
    if (n_written < 0) {
      if (errno == EINTR) continue;
      detail::throw_errno(errno, "write_textfile: cannot write " + temp.path().string());
    }
    written += static_cast<std::size_t>(n_written);
  }
  // The data must be on disk BEFORE the rename makes it visible: after a crash, the name must
  // not point at a file whose content never made it.
  if (::fsync(temp.fd()) != 0) {
    detail::throw_errno(errno, "write_textfile: cannot sync " + temp.path().string());
  }
  if (!temp.close()) {
    detail::throw_errno(errno, "write_textfile: cannot close " + temp.path().string());
  }
  // The publication: one atomic replacement of the directory entry.
  if (::rename(temp.path().c_str(), path.c_str()) != 0) {
    detail::throw_errno(errno, "write_textfile: cannot rename " + temp.path().string() +
                                   " to " + path.string());
  }
  temp.commit();
  // Make the rename itself durable (best effort: some file systems refuse to sync a directory).
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    static_cast<void>(::fsync(dir_fd));
    ::close(dir_fd);
  }
}

}  // namespace metrics
