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

#include "lab_todo.hpp"

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

inline void write_textfile([[maybe_unused]] const std::filesystem::path& path,
                           [[maybe_unused]] std::string_view text) {
  // TODO: keep the contract of write_textfile() above: a reader of `path` sees the complete old
  // content or the complete new one, never a part; concurrent calls never share a temporary
  // file; every failure is a std::system_error and leaves no temporary file behind (the banner
  // says where such a file may live and how it may be named; the TempFile and throw_errno
  // helpers in namespace detail are there to help). Lesson 5, "Part 4: publishing a file
  // atomically". Questions: which file-system operation replaces a name in one atomic step,
  // and why can it not cross directories on different file systems? Must the data be on disk
  // before or after the name points at it? Does one write() always write everything?
  LAB_TODO("write_textfile(): replace the file so that a reader sees the old or the new content, "
           "never a part (lesson 5, \"Part 4: publishing a file atomically\"). Which operation "
           "publishes a whole file in one step?");
}

}  // namespace metrics
