"""The self-test's worker pool, the retry rule of inconclusive runs, and the stress command's
counting of one run and its argument errors."""

import argparse
import sys
import tempfile
import threading
import unittest
from pathlib import Path

from labtool.console import LabError
from labtool.course import CTestEntry
from labtool.pool import in_parallel
from labtool.instructor.stress import Tally, _run_counted, add_stress_arguments, run_stress
from labtool.results import Status, until_conclusive


class InParallel(unittest.TestCase):
    def test_every_job_once_results_in_job_order(self):
        seen, lock = [], threading.Lock()

        def fn(context, job):
            with lock:
                seen.append(job)
            return (job * 10, context)

        results = in_parallel(["a", "b"], list(range(20)), fn)
        self.assertEqual(sorted(seen), list(range(20)))
        self.assertEqual([r[0] for r in results], [j * 10 for j in range(20)])
        self.assertLessEqual({r[1] for r in results}, {"a", "b"})

    def test_an_exception_reaches_the_caller(self):
        def fn(_context, job):
            if job == 3:
                raise ValueError("job 3")
            return job

        with self.assertRaisesRegex(ValueError, "job 3"):
            in_parallel([1, 2], list(range(6)), fn)


def _entry(script: str, folder: Path) -> CTestEntry:
    return CTestEntry(name="t", command=[sys.executable, "-c", script], cwd=folder,
                      timeout=30, labels=[])


class StressCounting(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.folder = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def test_inconclusive_then_passed_counts_as_a_pass_after_rerun(self):
        # The first run leaves a marker and says inconclusive; the rerun passes.
        script = ("import pathlib, sys\n"
                  "m = pathlib.Path('marker')\n"
                  "if not m.exists():\n"
                  "    m.write_text('x'); print('inconclusive: no overlap'); sys.exit(77)\n")
        tally = Tally()
        _run_counted(_entry(script, self.folder), tally)
        self.assertEqual((tally.passed, tally.rescued, tally.failed), (0, 1, 0))

    def test_always_inconclusive_is_no_failure(self):
        tally = Tally()
        _run_counted(_entry("print('inconclusive: no overlap'); raise SystemExit(77)",
                            self.folder), tally)
        self.assertEqual((tally.inconclusive, tally.failed), (1, 0))

    def test_a_failure_is_counted_and_kept(self):
        tally = Tally()
        _run_counted(_entry("print('ERROR: CHECK( a == b ) is NOT correct!'); "
                            "raise SystemExit(1)", self.folder), tally)
        self.assertEqual(tally.failed, 1)
        self.assertIn("NOT correct", tally.first_failure)

    def test_skipped_is_not_inconclusive(self):
        tally = Tally()
        _run_counted(_entry("print('skipped: needs 2 CPUs'); raise SystemExit(77)",
                            self.folder), tally)
        self.assertEqual((tally.skipped, tally.inconclusive, tally.runs), (1, 0, 1))


if __name__ == "__main__":
    unittest.main()


class UntilConclusive(unittest.TestCase):
    """The one retry rule: only an inconclusive run is run again, at most twice."""

    def test_reruns_only_the_inconclusive_and_counts_tries(self):
        script = {"a": [Status.INCONCLUSIVE, Status.PASSED], "b": [Status.FAILED],
                  "c": [Status.INCONCLUSIVE] * 5}
        batches = []

        def run(names):
            batches.append(list(names))
            return {n: script[n].pop(0) for n in names}

        last, tries = until_conclusive(run, ["a", "b", "c"], lambda s: s)
        self.assertEqual(batches, [["a", "b", "c"], ["a", "c"], ["c"]])
        self.assertEqual(last, {"a": Status.PASSED, "b": Status.FAILED,
                                "c": Status.INCONCLUSIVE})
        self.assertEqual(tries, {"a": 2, "b": 1, "c": 3})

    def test_a_test_the_batch_did_not_report_is_absent_and_not_rerun(self):
        last, tries = until_conclusive(lambda names: {}, ["gone"], lambda s: s)
        self.assertEqual((last, tries), ({}, {"gone": 1}))


class StressArguments(unittest.TestCase):
    """Bad input to `scripts/lab stress` is refused with a message, before anything builds."""

    def _stress(self, *argv):
        parser = argparse.ArgumentParser()
        add_stress_arguments(parser)
        return run_stress(parser.parse_args(list(argv)))

    def test_runs_below_one_is_refused(self):
        with self.assertRaisesRegex(LabError, "--runs must be at least 1"):
            self._stress("--runs", "0")

    def test_negative_hogs_is_refused(self):
        with self.assertRaisesRegex(LabError, "--hogs at least 0"):
            self._stress("--hogs", "-1")

    def test_a_pattern_that_matches_no_test_says_where_to_look(self):
        with self.assertRaisesRegex(LabError, "no concurrency checkpoint matches"):
            self._stress("--test", "no such test, surely")

    def test_an_unknown_milestone_is_refused(self):
        with self.assertRaises(LabError):
            self._stress("--only", "99")

    def test_a_bad_regex_is_refused_with_a_message(self):
        with self.assertRaisesRegex(LabError, "--test"):
            self._stress("--test", "(unclosed")


class MutantTargets(unittest.TestCase):
    """A mutant (or a weakening of `lab orders`) rebuilds only the executables of the tests
    that judge it (mutation.py)."""

    def setUp(self):
        from labtool.course import load_milestones
        self.m5 = next(m for m in load_milestones() if m.number == 5)

    def _worker(self, runner_of):
        from labtool.mutation import MutationTree

        class FakeTree:
            def milestone_targets(self, m, known):
                return [f"{m.label}_checkpoints"]

        known = {"m5_checkpoints", "m5_test_registry", "m5_test_exporter"}
        return MutationTree(FakeTree(), Path("."), known, runner_of)

    def test_the_killing_tests_executables_only(self):
        a, b = (t.name for t in self.m5.tests[:2])
        w = self._worker({f"m5/{a}": "m5_test_registry", f"m5/{b}": "m5_test_registry"})
        self.assertEqual(w.targets_for(self.m5, [a, b]), ["m5_test_registry"])

    def test_an_unknown_runner_falls_back_to_the_whole_milestone(self):
        a = self.m5.tests[0].name
        self.assertEqual(self._worker({}).targets_for(self.m5, [a]),
                         ["m5_checkpoints"])
        w = self._worker({f"m5/{a}": "m5_not_built"})
        self.assertEqual(w.targets_for(self.m5, [a]), ["m5_checkpoints"])
