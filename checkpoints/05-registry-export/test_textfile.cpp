// Checkpoints for milestone 5: the atomic textfile writer (textfile_writer.hpp).
// Each TEST_CASE names the mistake it exists to catch; mutants.json keeps a wrong
// implementation that it must fail.
#include <textfile_writer.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>

#include "lab_test.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh, empty directory for one test, removed again at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("m5-" + tag + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Version `v` of writer `w`: 1,000 lines naming both, then an end marker. A reader can tell a
// complete version from a truncated or mixed one.
std::string version_text(std::size_t w, int v) {
  const std::string tag = std::to_string(w) + " " + std::to_string(v);
  std::string text;
  text.reserve(24'000);
  for (int line = 0; line < 1000; ++line) text += "writer_version " + tag + "\n";
  text += "# end " + tag + "\n";
  return text;
}

// Every version the writers of a test produce, to compare reads with.
class Versions {
 public:
  Versions(std::size_t writers, int versions) {
    for (std::size_t w = 0; w < writers; ++w) {
      for (int v = 0; v <= versions; ++v) texts_.insert(version_text(w, v));
    }
  }
  // True when `text` is exactly one complete version.
  [[nodiscard]] bool complete(const std::string& text) const { return texts_.count(text) == 1; }

 private:
  std::set<std::string> texts_;
};

}  // namespace

TEST_CASE("write_textfile replaces the file atomically") {
  // Catches: writing the target in place (std::ofstream on the path itself): a scrape that
  // reads during the write sees an empty or truncated file. Readers must only ever see a
  // complete old or complete new version, while two writers replace the file concurrently.
  const TempDir dir("atomic");
  const fs::path path = dir.path() / "app.prom";
  metrics::write_textfile(path, version_text(0, 0));
  constexpr int kVersions = 25;
  const Versions versions(2, kVersions);
  std::uint64_t torn = 0;
  const auto report = lab::run_writers_and_reader(
      2,
      [&](std::size_t w) {
        for (int v = 1; v <= kVersions; ++v) metrics::write_textfile(path, version_text(w, v));
      },
      [&] { torn += !versions.complete(read_file(path)); });
  REQUIRE(report.run.overlapped);
  INFO("reads while the writers ran: " << report.reader_steps);
  CHECK(report.reader_steps > 100);
  CHECK(torn == 0);
  const std::string last = read_file(path);
  CHECK((last == version_text(0, kVersions) || last == version_text(1, kVersions)));
  CHECK(dir.entries() == std::set<std::string>{"app.prom"});
}

TEST_CASE("write_textfile leaves no temporary file and reports errors as system_error") {
  // Catches: a failure reported by a return value nobody checks (the exporter would keep
  // serving a stale file silently), the wrong exception type, and temporary files left
  // behind: node_exporter would read a leftover "*.prom" temp file as a second source.
  const TempDir dir("errors");
  const fs::path path = dir.path() / "job.prom";
  metrics::write_textfile(path, "a 1\n");
  CHECK(read_file(path) == "a 1\n");
  metrics::write_textfile(path, "a 2\n");
  CHECK(read_file(path) == "a 2\n");
  metrics::write_textfile(path, "");
  CHECK(read_file(path).empty());
  CHECK(dir.entries() == std::set<std::string>{"job.prom"});
  // The directory does not exist: the temporary file cannot even be created.
  CHECK_THROWS_AS(metrics::write_textfile(dir.path() / "missing" / "job.prom", "a 1\n"),
                  std::system_error);
  // The target is a directory: everything works until rename(), which must fail cleanly.
  fs::create_directory(dir.path() / "taken.prom");
  CHECK_THROWS_AS(metrics::write_textfile(dir.path() / "taken.prom", "a 1\n"),
                  std::system_error);
  CHECK(dir.entries() == std::set<std::string>{"job.prom", "taken.prom"});
  CHECK(read_file(path).empty());
}
