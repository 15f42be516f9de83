"""The one scorer and the status words."""

import unittest

from labtool.course import Milestone, Test
from labtool.results import Status, TestResult, milestone_status, not_run_status, score

M = Milestone(number=1, slug="01-x", title="", files=[], depends=[], tests=[])


def r(status: Status, points: int = 2, stretch: bool = False) -> TestResult:
    return TestResult(M, Test("t", points, stretch=stretch), status)


class Scorer(unittest.TestCase):
    def test_skipped_leaves_earned_and_possible_points(self):
        s = score([r(Status.PASSED), r(Status.SKIPPED, 5)])
        self.assertEqual((s.earned, s.possible, s.tests, s.skipped), (2, 2, 1, 1))
        self.assertTrue(s.complete)

    def test_inconclusive_earns_zero_but_counts(self):
        s = score([r(Status.PASSED), r(Status.INCONCLUSIVE, 3)])
        self.assertEqual((s.earned, s.possible, s.inconclusive), (2, 5, 1))
        self.assertFalse(s.complete)

    def test_stretch_is_apart_and_never_lowers_the_main_score(self):
        s = score([r(Status.PASSED), r(Status.FAILED, 4, stretch=True)])
        self.assertEqual((s.earned, s.possible), (2, 2))
        self.assertEqual((s.stretch_earned, s.stretch_possible), (0, 4))
        self.assertTrue(s.complete)

    def test_milestone_status_words(self):
        rs = [r(Status.PASSED), r(Status.SKIPPED)]
        self.assertEqual(milestone_status(score(rs), rs), "done, 1 skipped")
        rs = [r(Status.NOT_BUILT)]
        self.assertEqual(milestone_status(score(rs), rs), "does not compile")
        rs = [r(Status.FAILED), r(Status.INCONCLUSIVE)]
        self.assertEqual(milestone_status(score(rs), rs), "1 failing, 1 inconclusive")

    def test_exit_77_is_inconclusive_only_when_it_says_so(self):
        self.assertIs(not_run_status("x\ninconclusive: no overlap\n"), Status.INCONCLUSIVE)
        self.assertIs(not_run_status("skipped: needs 2 CPUs"), Status.SKIPPED)

    def test_every_status_is_a_string(self):
        self.assertEqual(str(Status.NOT_BUILT), "not built")
        self.assertEqual(Status("inconclusive"), Status.INCONCLUSIVE)


if __name__ == "__main__":
    unittest.main()


class GradeReportsExplainFailures(unittest.TestCase):
    """The grader's reports open a failed test's output with the property and the mistake it
    catches; a passed or skipped test's output is left alone."""

    def test_failed_output_starts_with_what_it_catches(self):
        import json
        import xml.etree.ElementTree as ET
        from labtool.course import Milestone, Test
        from labtool.grade import reports
        from labtool.results import Status, TestResult
        tests = [Test("concurrent increments lose nothing", 3, True,
                      catches="load() then store(count + 1). TSan is silent."),
                 Test("needs two CPUs", 1, needs_cpus=2, catches="x.")]
        m = Milestone(1, "01-seq-cst-counter", "C", [], [], tests)
        report = reports.Report("s", [m], [
            TestResult(m, tests[0], Status.FAILED, "t.cpp:75: CHECK( 680081 == 1092352 )"),
            TestResult(m, tests[1], Status.SKIPPED, "skipped: needs 2 CPUs")])
        head = ("Checks: concurrent increments lose nothing. Likely mistake: load() then "
                "store(count + 1).")
        out = reports.results_json(report)["tests"]
        self.assertEqual(out[0]["output"].splitlines(), [head, "t.cpp:75: CHECK( 680081 == "
                                                               "1092352 )"])
        self.assertEqual(out[1]["output"], "skipped: needs 2 CPUs")
        self.assertIn(head, reports.summary_md(report))
        failure = ET.fromstring(reports.junit_xml(report).split("\n", 1)[1]).find(".//failure")
        self.assertEqual(failure.get("message"), head)
        self.assertTrue(json.dumps(reports.classroom_json(report)).count("Likely mistake"))
