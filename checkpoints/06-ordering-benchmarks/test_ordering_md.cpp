// Checkpoints for milestone 6: ORDERING.md, the table that justifies every atomic operation's
// memory order in milestones 1-5. The test cannot judge prose; it checks that every row has a
// valid order and a real reason, and that the rows the contracts fix are right.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifndef LAB_M6_ORDERING_MD
#error "CMake defines LAB_M6_ORDERING_MD, the path of the track's ORDERING.md"
#endif

namespace {

struct Row {
  int line = 0;
  std::string where, operation, order, why;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// An ID like M2.5: 'M', a milestone digit, '.', a number. (No std::regex: GCC 12 with ASan
// reports a false -Wmaybe-uninitialized inside it.)
bool is_row_id(const std::string& cell) {
  if (cell.size() < 4 || cell[0] != 'M' || cell[1] < '1' || cell[1] > '6' || cell[2] != '.') {
    return false;
  }
  for (std::size_t i = 3; i < cell.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(cell[i]))) return false;
  }
  return true;
}

// The table rows whose first cell is an ID like M2.5, by ID.
std::map<std::string, Row> read_rows(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path << ": cannot read ORDERING.md");
  std::map<std::string, Row> rows;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.rfind('|', 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream cut(text.substr(1));
    for (std::string cell; std::getline(cut, cell, '|');) cells.push_back(trim(cell));
    if (cells.size() < 5 || !is_row_id(cells[0])) continue;
    rows[cells[0]] = Row{line, cells[1], cells[2], cells[3], cells[4]};
  }
  return rows;
}

// The memory orders named in an Order cell (words made of letters and '_').
std::set<std::string> orders_in(const std::string& cell) {
  static const std::set<std::string> valid = {"relaxed", "acquire", "release", "acq_rel",
                                              "seq_cst"};
  std::set<std::string> found;
  std::string word;
  for (const char c : cell + " ") {
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
    } else {
      if (valid.count(word)) found.insert(word);
      word.clear();
    }
  }
  return found;
}

const std::vector<std::string> kRequiredRows = {
    "M1.1", "M1.2", "M1.3", "M2.1", "M2.2", "M2.3", "M2.4", "M2.5", "M2.6", "M2.7", "M3.1", "M3.2",
    "M3.3", "M3.4", "M4.1", "M4.2", "M4.3", "M4.4", "M4.5", "M4.6", "M5.1", "M5.2", "M5.3"};

}  // namespace

TEST_CASE("ORDERING.md gives an order and a reason for every atomic operation") {
  // Catches: an ORDERING.md left with TODOs, rows deleted, an order cell that names no memory
  // order, a reason of a few words, and orders that break the contracts: milestone 1 is
  // seq_cst everywhere; milestone 2's errors <= requests needs a release (or stronger) error
  // increment and an acquire (or seq_cst) load of errors.
  const std::string path = LAB_M6_ORDERING_MD;
  const auto rows = read_rows(path);
  int problems = 0;
  for (const std::string& id : kRequiredRows) {
    const auto it = rows.find(id);
    if (it == rows.end()) {
      ++problems;
      FAIL_CHECK(path << ": TODO: row " << id << " is missing; put it back (see the starter)");
      continue;
    }
    const Row& row = it->second;
    const std::string at = path + ":" + std::to_string(row.line) + ": ";
    const auto orders = orders_in(row.order);
    if (row.order.find("TODO") != std::string::npos || row.why.find("TODO") != std::string::npos) {
      ++problems;
      FAIL_CHECK(at << "TODO: " << id << " (" << row.where << "): fill in the order and the reason");
      continue;
    }
    if (orders.empty()) {
      ++problems;
      FAIL_CHECK(at << id << ": the Order cell '" << row.order
                    << "' names no memory order (relaxed, acquire, release, acq_rel, seq_cst)");
    }
    if (row.why.size() < 25) {
      ++problems;
      FAIL_CHECK(at << id << ": give a reason (what it publishes or pairs with, or why it needs "
                    << "only atomicity), not '" << row.why << "'");
    }
    if (id.rfind("M1.", 0) == 0 && orders != std::set<std::string>{"seq_cst"}) {
      ++problems;
      FAIL_CHECK(at << id << ": milestone 1's contract is seq_cst everywhere, not '" << row.order
                    << "'");
    }
    if (id == "M2.2" && !orders.count("release") && !orders.count("acq_rel") &&
        !orders.count("seq_cst")) {
      ++problems;
      FAIL_CHECK(at << id << ": record_error() must publish the request before it: '" << row.order
                    << "' cannot (errors <= requests breaks)");
    }
    if (id == "M2.5" && !orders.count("acquire") && !orders.count("seq_cst")) {
      ++problems;
      FAIL_CHECK(at << id << ": the load of errors must acquire what record_error() released, not '"
                    << row.order << "'");
    }
  }
  CHECK(problems == 0);
}
