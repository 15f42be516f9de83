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

// True when `text` is exactly one complete version: its end marker names a version, and the
// whole text is that version.
bool complete_version(const std::string& text) {
  const std::string marker = "# end ";
  const std::size_t at = text.rfind(marker);
  if (at == std::string::npos) return false;
  std::istringstream tag(text.substr(at + marker.size()));
  std::size_t w = 0;
  int v = 0;
  if (!(tag >> w >> v) || w > 1 || v < 0) return false;
  return text == version_text(w, v);
}

}  // namespace

TEST_CASE("write_textfile replaces the file atomically") {
  // Catches: writing the target in place (std::ofstream on the path itself): a scrape that
  // reads during the write sees an empty or truncated file. Readers must only ever see a
  // complete old or complete new version, while two writers replace the file concurrently.
  // The writers write at least 25 versions each and keep going until the reader has read the
  // file 100 times while they ran (a write is slow: it syncs to disk).
  const TempDir dir("atomic");
  const fs::path path = dir.path() / "app.prom";
  metrics::write_textfile(path, version_text(0, 0));
  std::uint64_t torn = 0;  // reader thread only; read after the join
  const auto report = lab::hammer(
      2, {.min_ops = 25, .min_reader_steps = 100, .give_up = lab::milliseconds(15'000),
          .check_every = 1},
      [&](std::size_t w, std::uint64_t v) {
        metrics::write_textfile(path, version_text(w, static_cast<int>(v) + 1));
      },
      [&] { torn += !complete_version(read_file(path)); });
  INFO("reads while the writers ran: " << report.reader_steps << ", torn: " << torn);
  CHECK(torn == 0);
  const std::string last = read_file(path);
  CHECK((last == version_text(0, static_cast<int>(report.ops[0])) ||
         last == version_text(1, static_cast<int>(report.ops[1]))));
  CHECK(dir.entries() == std::set<std::string>{"app.prom"});
  lab::conclude(report.missing);
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
