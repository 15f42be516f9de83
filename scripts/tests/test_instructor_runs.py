"""The self-test's worker pool and the stress command's counting of one run."""

import sys
import tempfile
import threading
import unittest
from pathlib import Path

from labtool.course import CTestEntry
from labtool.instructor.pool import in_parallel
from labtool.instructor.stress import Tally, _run_counted


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
