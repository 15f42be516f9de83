"""Pieces of the grader and of selftest that a unit test can catch."""

import argparse
import json
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from labtool.build import Tree
from labtool.console import LabError
from labtool.course import load_milestones
from labtool.ctest import parse_junit
from labtool.grade.args import add_grade_arguments, options_from_args
from labtool.grade.command import run_grade
from labtool.grade.rules import _macro_allowed, tamper_findings
from labtool.grade.runner import _doctest_failures
from labtool.instructor.grading_cases import FIXTURES, Case, fixture_source, score_problems
from labtool.instructor.mutants import apply_edits, mutated_source
from labtool.build import BuildResult
from labtool.instructor.report import StepReport
from labtool.instructor.selftest import instructor_run, manifest_drift
from labtool.instructor.static import drift, manifest_problems
from labtool.course import Milestone, Test
from labtool.instructor.verify_export import keep_clone
from labtool.results import Status

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite tests="4">
  <testcase name="m1/a" time="0.1" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/>
    <system-out>inconclusive: no overlap after 3 tries</system-out></testcase>
  <testcase name="m1/b" time="0.1" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/>
    <system-out>skipped: needs 2 CPUs</system-out></testcase>
  <testcase name="m1/c" time="0.1" status="fail"><failure message="Timeout"/></testcase>
  <testcase name="m1/d" time="0.1" status="run"><system-out>ok</system-out></testcase>
</testsuite>"""


class Rules(unittest.TestCase):
    def test_include_guards_and_numbers_are_allowed_bodies(self):
        self.assertTrue(_macro_allowed(""))
        self.assertTrue(_macro_allowed(" 42u"))
        self.assertFalse(_macro_allowed("return 1;"))

    def test_a_guard_without_ifndef_is_still_harmless(self):
        self.assertEqual(tamper_findings("a.hpp", "#define A_HPP\n"), [])
        self.assertTrue(tamper_findings("a.hpp", "#define CHECK(x) (void)0\n"))


class DoctestReport(unittest.TestCase):
    def test_failed_expressions_and_test_case_exceptions_are_reported_once(self):
        case = ET.fromstring(
            '<TestCase name="t"><Expression success="true" type="CHECK" filename="f" line="1">'
            '<Original>a</Original></Expression>'
            '<Expression success="false" type="CHECK" filename="f" line="2"><Original>g()'
            '</Original><Exception>boom</Exception></Expression>'
            '<Exception crash="true">SIGSEGV</Exception><Exception crash="false">oops</Exception>'
            '</TestCase>')
        self.assertEqual(_doctest_failures(case), ["f:2: CHECK( g() ) failed", "  threw: boom",
                                                   "threw: SIGSEGV", "threw: oops"])


class CTestJUnit(unittest.TestCase):
    def test_statuses(self):
        path = Path(tempfile.mkdtemp()) / "j.xml"
        path.write_text(JUNIT)
        runs = parse_junit(path)
        self.assertEqual({n: r.status for n, r in runs.items()},
                         {"m1/a": Status.INCONCLUSIVE, "m1/b": Status.SKIPPED,
                          "m1/c": Status.TIMEOUT, "m1/d": Status.PASSED})


class SelftestDefects(unittest.TestCase):
    def test_drift_fails_when_ctest_cannot_list(self):
        tree = Tree("solutions", Path(tempfile.mkdtemp()) / "not-configured")
        problems = manifest_drift(tree, [])
        self.assertTrue(problems and "ctest" in problems[0], problems)

    def test_drift_fails_on_an_empty_list(self):
        build = Path(tempfile.mkdtemp())
        (build / "CTestTestfile.cmake").write_text("# no tests\n")
        problems = manifest_drift(Tree("solutions", build), [])
        self.assertTrue(problems and "lists no test" in problems[0], problems)

    def test_instructor_step_configures_its_tree_itself(self):
        class Unconfigured:
            def configure(self):
                return BuildResult(False, "CMake Error: no preset")

            def build(self):
                raise AssertionError("built an unconfigured tree")

        report = StepReport()
        instructor_run(Unconfigured(), report)
        self.assertEqual(report.failed_steps, 1)
        self.assertIn("no preset", report.failures[0])

    def test_source_and_manifest_drift_both_ways(self):
        folder = Path(tempfile.mkdtemp()) / "01-x"
        folder.mkdir()
        (folder / "test_x.cpp").write_text('TEST_CASE("in both") {}\n  TEST_CASE("only in source") {}\n')
        m = Milestone(number=1, slug="01-x", title="", files=[], depends=[], directory=folder,
                      tests=[Test("in both", 1), Test("only in manifest", 1)])
        problems = drift(m)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("only in source", problems[0])
        self.assertIn("only in manifest", problems[1])

    def test_filter_special_names_are_refused(self):
        m = Milestone(number=1, slug="01-x", title="", files=[], depends=[],
                      directory=Path(tempfile.mkdtemp()),
                      tests=[Test("a, b", 1), Test("A, B", 1)], hints=["1", "2", "3"])
        problems = manifest_problems(m)
        self.assertTrue(any("case-insensitive" in p for p in problems), problems)
        self.assertTrue(any("treat specially" in p for p in problems), problems)

    def test_mutant_edits_must_match_exactly_once(self):
        self.assertEqual(apply_edits("a b", [{"old": "a", "new": "c"}], "m", "f"), "c b")
        with self.assertRaisesRegex(LabError, "found 2 times"):
            apply_edits("a a", [{"old": "a", "new": "c"}], "m", "f")
        with self.assertRaisesRegex(LabError, "found 0 times"):
            apply_edits("b", [{"old": "a", "new": "c"}], "m", "f")

    def test_a_failed_clone_is_kept(self):
        self.assertTrue(keep_clone([("git clone", False, "fatal")], keep=False))
        self.assertTrue(keep_clone([], keep=False))
        self.assertFalse(keep_clone([("git clone", True, "")], keep=False))

    def test_error_cases_check_their_scores_too(self):
        case = Case("missing", lambda d, ms: None, lambda ms: {1: 0}, expect_error=True)
        data = {"extra_data": {"milestones": [{"number": 1, "score": 5}]}, "tests": []}
        self.assertTrue(score_problems(case, [], data))
        data["extra_data"]["milestones"][0]["score"] = 0
        self.assertEqual(score_problems(case, [], data), [])


if __name__ == "__main__":
    unittest.main()


class EditsApply(unittest.TestCase):
    """Every mutant and every grading fixture applies to today's solutions (each "old" text
    found exactly once), so a solution edit that breaks one is caught before a long run."""

    def test_mutants_and_fixtures_apply(self):
        milestones = load_milestones()
        for m in milestones:
            for mutant in m.mutants():
                with self.subTest(mutant=mutant["name"]):
                    mutated_source(m, mutant)
        for fx in json.loads(FIXTURES.read_text())["fixtures"]:
            with self.subTest(fixture=fx["name"]):
                fixture_source(fx["name"], milestones)


class GradeArguments(unittest.TestCase):
    def _args(self, *argv):
        p = argparse.ArgumentParser()
        add_grade_arguments(p)
        return p.parse_args(list(argv))

    def test_bad_only_and_repeat_are_clear_errors(self):
        with self.assertRaisesRegex(LabError, "give milestone numbers"):
            options_from_args(self._args("x", "--out", "o", "--only", "one"))
        with self.assertRaisesRegex(LabError, "--repeat must be at least 1"):
            options_from_args(self._args("x", "--out", "o", "--repeat", "0"))
        self.assertEqual(options_from_args(self._args("x", "--only", "m3, 1")).only, [1, 3])

    def test_grade_without_out_says_so(self):
        with self.assertRaisesRegex(LabError, "--out DIR"):
            run_grade(self._args("x"))
