"""What a student sees on Gradescope: stretch outside the totals, milestone.k numbers, --hidden
hides every score, and a missing or misnamed file is a visible test of its own."""

import tempfile
import unittest
from pathlib import Path

from labtool.course import Milestone, Test
from labtool.grade.args import Options
from labtool.grade.reports import Report, results_json
from labtool.grade.submission import _near_names
from labtool.results import Status, TestResult


def milestone(number: int, tests: list[Test]) -> Milestone:
    return Milestone(number=number, slug=f"{number:02d}-demo", title="Demo",
                     files=["demo.hpp"], depends=[], tests=tests)


def report(hidden: bool = False, notes: list[str] | None = None) -> Report:
    m1 = milestone(1, [Test("a", 2), Test("b", 3)])
    m2 = milestone(2, [Test("c", 4), Test("s", 5, stretch=True)])
    results = [TestResult(m1, m1.tests[0], Status.PASSED), TestResult(m1, m1.tests[1], Status.FAILED),
               TestResult(m2, m2.tests[0], Status.PASSED), TestResult(m2, m2.tests[1], Status.PASSED)]
    return Report(submission="x", milestones=[m1, m2], results=results, notes=notes or [],
                  options=Options(hidden=hidden))


class GradescopeTest(unittest.TestCase):
    def test_stretch_adds_nothing_to_the_visible_totals(self):
        data = results_json(report())
        self.assertEqual(data["score"], 6)
        self.assertEqual(data["max_score"], 9)
        self.assertEqual(sum(t["max_score"] for t in data["tests"]), data["max_score"])
        stretch = [t for t in data["tests"] if "stretch" in t["tags"]]
        self.assertEqual(len(stretch), 1)
        self.assertEqual((stretch[0]["score"], stretch[0]["max_score"]), (0, 0))
        self.assertIn("5/5 pt", stretch[0]["name"])

    def test_numbers_count_within_each_milestone(self):
        numbers = [t["number"] for t in results_json(report())["tests"]]
        self.assertEqual(numbers, ["1.1", "1.2", "2.1", "2.2"])

    def test_hidden_hides_every_score(self):
        data = results_json(report(hidden=True))
        self.assertEqual(data["visibility"], "after_published")
        self.assertTrue(all(t["visibility"] == "after_published" for t in data["tests"]))
        self.assertNotRegex(data["output"], r"\d+/\d+")

    def test_a_missing_file_is_a_visible_test(self):
        note = "01-demo/demo.hpp: not in the submission (found `demo (1).hpp`: rename it to " \
               "`demo.hpp`); the starter version was used"
        for hidden in (False, True):
            data = results_json(report(hidden=hidden, notes=[note]))
            first = data["tests"][0]
            self.assertEqual(first["name"], "Hand-in: starter/01-demo/demo.hpp")
            self.assertEqual(first["visibility"], "visible")
            self.assertIn("demo (1).hpp", first["output"])
            self.assertIn("starter/01-demo/demo.hpp", data["output"])

    def test_near_names(self):
        files = {Path("/s/atomic_counter (1).hpp"), Path("/s/other.hpp")}
        self.assertIn("`atomic_counter (1).hpp`", _near_names("atomic_counter.hpp", files))
        self.assertIn("Atomic-Counter.hpp",
                      _near_names("atomic_counter.hpp", {Path("/s/Atomic-Counter.hpp")}))
        self.assertEqual(_near_names("atomic_counter.hpp", {Path("/s/readme.md")}), "")


if __name__ == "__main__":
    unittest.main()
