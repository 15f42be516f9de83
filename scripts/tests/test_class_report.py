"""class_report.py: the class at a glance from a graded batch."""

import json
import tempfile
import unittest
from pathlib import Path

from labtool.course import Milestone, Test
from labtool.grade import class_report as cr

CODE = """
#include <atomic>
class Counter {
 public:
  void increment() { value_.fetch_add(1, std::memory_order_relaxed); }  // one RMW
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }
  std::uint64_t reset() { return value_.exchange(0); }
 private:
  std::atomic<std::uint64_t> value_{0};
};
"""


def results(m1: float, failing: list[tuple[str, str]] = ()) -> dict:
    tests = [{"name": n, "number": "1.1", "status": "failed", "output": o, "tags": ["m1"]}
             for n, o in failing] or [{"name": "m1/t", "number": "1.1", "status": "passed",
                                       "output": "passed", "tags": ["m1"]}]
    return {"score": m1, "max_score": 10, "tests": tests,
            "extra_data": {"milestones": [{"number": 1, "score": m1, "max_score": 10}]}}


class ClassReportTest(unittest.TestCase):
    def test_renaming_and_comments_do_not_hide_a_copy(self):
        renamed = CODE.replace("value_", "n_").replace("Counter", "C").replace("// one RMW", "")
        a, b = cr.fingerprints(CODE), cr.fingerprints(renamed)
        self.assertEqual(cr.similarity(a, b), 1.0)

    def test_a_different_order_is_a_different_program(self):
        other = CODE.replace("memory_order_relaxed", "memory_order_seq_cst")
        self.assertLess(cr.similarity(cr.fingerprints(CODE), cr.fingerprints(other)), 0.5)

    def test_starter_code_does_not_make_pairs(self):
        a = cr.Student("a", files={"01-x/c.hpp": CODE})
        b = cr.Student("b", files={"01-x/c.hpp": CODE})
        self.assertEqual(len(cr.similar_pairs([a, b], {})), 1)
        self.assertEqual(cr.similar_pairs([a, b], {"01-x/c.hpp": CODE}), [])

    def test_failure_lines_fold_counts(self):
        self.assertEqual(cr._failure_line("the checkpoint failed\nt.cpp:75: values: 4751 == 91744"),
                         "t.cpp:N: values: N == N")
        self.assertEqual(cr._failure_line("starter/01-seq-cst-counter/a.hpp:56: TODO"),
                         "starter/01-seq-cst-counter/a.hpp:N: TODO")

    def test_report(self):
        m = Milestone(number=1, slug="01-x", title="X", files=["c.hpp"], depends=[],
                      tests=[Test("t", 10)])
        out = Path(tempfile.mkdtemp())
        students = [cr.Student("s1", results(10)),
                    cr.Student("s2", results(0, [("m1/t", "failed\nlost 12 updates")])),
                    cr.Student("s3", results(0, [("m1/t", "failed\nlost 99 updates")])),
                    cr.Student("s4", None)]
        text = cr.class_report(out, students, [m], starter_root=out / "none")
        self.assertIn("3 of 4 submissions graded", text)
        self.assertIn("| m1/t | 2/3 (67 %) | `lost N updates` (2x) |", text)
        self.assertIn("| 01 | X | 0 / 10 | 1 | 2 |", text)
        self.assertTrue((out / "class-scores.svg").read_text().startswith("<svg"))
        self.assertIn("No submission", (out / "ordering-review.md").read_text())


if __name__ == "__main__":
    unittest.main()
