"""The rule for fences ThreadSanitizer does not model (labtool/fences.py): when a race report
becomes a skip, and when it stays a failure.

Run: python3 -m unittest discover -s scripts/tests -t scripts -p 'test_fences.py'

The race outputs are the real ones of tests/fixtures/feedback/ (test_feedback.py says how they
were made): tsan_m3_payload_race.txt races on the checkpoint's own payload only;
tsan_m1_increment_race.txt races inside the student's header.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from labtool import feedback as fb  # noqa: E402
from labtool.build import BuildResult, Tree  # noqa: E402
from labtool.course import Milestone, Test, load_milestones  # noqa: E402
from labtool.fences import FENCE_NAMES, first_fence, skip_fence_races  # noqa: E402
from labtool.fencescan import fence_in_tree  # noqa: E402
from labtool.flow import run_flow  # noqa: E402
from labtool.grade import cxxscan  # noqa: E402
from labtool.results import Status, TestResult, score  # noqa: E402

FIXTURES = HERE / "fixtures" / "feedback"
ROOT = HERE.parents[1]
TSAN = fb.Paths(Path("/work/main"), Path("/tmp/G/tree"), "starter")
PAYLOAD_RACE = (FIXTURES / "tsan_m3_payload_race.txt").read_text()
STUDENT_RACE = (FIXTURES / "tsan_m1_increment_race.txt").read_text()
ASSERTION = ("checkpoints/03-histogram/test_atomic_histogram.cpp:480: ERROR: CHECK( wrong == 0 ) "
             "is NOT correct!\n  values: CHECK( 3 == 0 )\n")
MODELS = ("model: a snapshot sees it", "model: no snapshot shows more")
WHERE = "starter/03-histogram/atomic_histogram.hpp:41"


def _milestone() -> Milestone:
    tests = [Test("payload", 3, concurrency=True, fence_models=MODELS), Test("plain", 1),
             Test(MODELS[0], 3, model=True), Test(MODELS[1], 3, model=True)]
    return Milestone(number=3, slug="03-histogram", title="", files=["atomic_histogram.hpp"],
                     depends=[], tests=tests)


def _result(m: Milestone, name: str, status: Status, output: str) -> TestResult:
    r = TestResult(m, next(t for t in m.tests if t.name == name), status, output)
    r.tsan_race_only = status in (Status.FAILED, Status.SANITIZER) and fb.race_only(output, TSAN)
    return r


class RaceOnlyTest(unittest.TestCase):
    def test_a_race_on_the_checkpoints_payload_is_race_only(self):
        self.assertTrue(fb.race_only(PAYLOAD_RACE, TSAN))

    def test_a_race_in_the_students_own_code_is_not(self):
        self.assertFalse(fb.race_only(STUDENT_RACE, TSAN))

    def test_a_failed_assertion_beside_the_race_is_not(self):
        self.assertFalse(fb.race_only(ASSERTION + PAYLOAD_RACE, TSAN))

    def test_other_reports_are_not(self):
        for head in ("WARNING: ThreadSanitizer: data race on vptr (ctor/dtor vs virtual call) "
                     "(pid=1)", "WARNING: ThreadSanitizer: heap-use-after-free (pid=1)",
                     "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"):
            self.assertFalse(fb.race_only(PAYLOAD_RACE.replace(
                "WARNING: ThreadSanitizer: data race (pid=9309)", head), TSAN), head)
        self.assertFalse(fb.race_only(PAYLOAD_RACE + "\n==1==ERROR: LeakSanitizer: detected "
                                      "memory leaks\n", TSAN))

    def test_no_report_is_not(self):
        self.assertFalse(fb.race_only(ASSERTION, TSAN))
        self.assertFalse(fb.race_only("", TSAN))


class StatusRuleTest(unittest.TestCase):
    def setUp(self):
        self.m = _milestone()
        self.asked: list[int] = []

    def fence(self, where):
        def fence_in(m):
            self.asked.append(m.number)
            return where
        return fence_in

    def test_race_report_and_a_fence_is_skipped(self):
        for status in (Status.FAILED, Status.SANITIZER):     # check's and grade's words
            r = _result(self.m, "payload", status, PAYLOAD_RACE)
            self.assertEqual(skip_fence_races([r], self.fence(WHERE)), [r])
            self.assertIs(r.status, Status.SKIPPED)
            first = r.output.splitlines()[0]
            self.assertTrue(first.startswith("skipped: ThreadSanitizer does not model "
                                             "std::atomic_thread_fence, which your code calls"))
            self.assertIn(WHERE, first)
            self.assertIn("cannot tell a missing order from a fence TSan ignores", r.output)
            self.assertIn("judge your orders under Relacy's model of C++", r.output)
            self.assertIn("points are left out", r.output)
            for name in MODELS:
                self.assertIn(f'"{name}"', r.output)
            self.assertNotIn("memory_order", r.output.split("\n\n")[0])
            self.assertEqual(r.possible, 0)

    def test_race_report_without_a_fence_stays_a_sanitizer_failure(self):
        r = _result(self.m, "payload", Status.SANITIZER, PAYLOAD_RACE)
        self.assertEqual(skip_fence_races([r], self.fence(None)), [])
        self.assertIs(r.status, Status.SANITIZER)
        self.assertEqual(r.possible, 3)

    def test_assertion_failure_with_a_fence_stays_failed(self):
        for output in (ASSERTION, ASSERTION + PAYLOAD_RACE):
            r = _result(self.m, "payload", Status.FAILED, output)
            skip_fence_races([r], self.fence(WHERE))
            self.assertIs(r.status, Status.FAILED)
        self.assertEqual(self.asked, [], "no candidate: the code is not even scanned")

    def test_a_race_in_the_students_code_with_a_fence_stays_failed(self):
        r = _result(self.m, "payload", Status.FAILED, STUDENT_RACE)
        skip_fence_races([r], self.fence(WHERE))
        self.assertIs(r.status, Status.FAILED)

    def test_a_test_without_fence_models_is_never_skipped(self):
        r = _result(self.m, "plain", Status.FAILED, PAYLOAD_RACE)
        skip_fence_races([r], self.fence(WHERE))
        self.assertIs(r.status, Status.FAILED)

    def test_timeouts_and_crashes_stay(self):
        for status in (Status.TIMEOUT, Status.CRASH):
            r = _result(self.m, "payload", status, PAYLOAD_RACE)
            r.tsan_race_only = True      # whatever a strategy said: only failures qualify
            skip_fence_races([r], self.fence(WHERE))
            self.assertIs(r.status, status)

    def test_the_milestone_is_scanned_once(self):
        rs = [_result(self.m, "payload", Status.FAILED, PAYLOAD_RACE) for _ in range(3)]
        skip_fence_races(rs, self.fence(WHERE))
        self.assertEqual(self.asked, [3])

    def test_check_lists_the_whole_skip_message(self):
        r = _result(self.m, "payload", Status.FAILED, PAYLOAD_RACE)
        skip_fence_races([r], self.fence(WHERE))
        reason = fb.not_run_reason(r.output, str(r.status))
        self.assertEqual(len(reason.splitlines()), 4 + len(MODELS))
        self.assertTrue(all(len(line) < 160 for line in reason.splitlines()))
        shown = fb.not_run_tests([(r.name, str(r.status), reason)])
        for name in MODELS:
            self.assertIn(name, shown)
        self.assertNotIn("WARNING: ThreadSanitizer", shown)


class FlowTest(unittest.TestCase):
    """run_flow applies the rule after any run strategy, asking it where the fence is."""

    class Tree:
        def build_milestones(self, milestones, all_ms, jobs=None, progress=None,
                             compile_only=frozenset()):
            return {m.number: BuildResult(True, "") for m in milestones}

    class Runner:
        def __init__(self, where):
            self.where = where

        def run(self, tree, results):
            for r in results:
                if r.test.name == "payload":
                    r.status, r.output, r.tsan_race_only = Status.FAILED, PAYLOAD_RACE, True
                else:
                    r.status = Status.PASSED

        def fence_in(self, tree, m):
            return self.where

    def test_fenced_code_gets_full_marks_of_what_counts(self):
        m = _milestone()
        outcome = run_flow(self.Tree(), [m], [m], self.Runner(WHERE))
        s = score(outcome.all_results())
        self.assertEqual((s.earned, s.possible, s.skipped), (m.max_points - 3,) * 2 + (1,))
        self.assertTrue(s.complete)

    def test_without_a_fence_the_race_costs_its_points(self):
        m = _milestone()
        s = score(run_flow(self.Tree(), [m], [m], self.Runner(None)).all_results())
        self.assertEqual((s.earned, s.possible), (m.max_points - 3, m.max_points))


class Tok:
    def __init__(self, kind, text, line=1):
        self.kind, self.text, self.file, self.line = kind, text, "f.hpp", line


class FirstFenceTest(unittest.TestCase):
    def test_only_identifiers_count(self):
        self.assertIsNone(first_fence([Tok("str", '"std::atomic_thread_fence"'),
                                       Tok("id", "atomic_signal_fence")]))
        for name in sorted(FENCE_NAMES):
            self.assertEqual(first_fence([Tok("id", "x"), Tok("id", name, 7)]), ("f.hpp", 7))


@unittest.skipUnless(shutil.which("clang++"), "needs clang++")
class FenceScanTest(unittest.TestCase):
    """fencescan.fence_in_tree on a real -E of a checkpoint-like unit: what the compiler sees."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-fences-test-"))
        self.track = self.tmp / "starter"
        (self.track / "03-histogram").mkdir(parents=True)
        self.header = self.track / "03-histogram" / "atomic_histogram.hpp"
        (self.track / "03-histogram" / "other.hpp").write_text(
            "#pragma once\n#include <atomic>\n"
            "inline void elsewhere() { std::atomic_thread_fence(std::memory_order_seq_cst); }\n")
        tu = self.tmp / "test.cpp"
        tu.write_text('#include "other.hpp"\n#include <atomic_histogram.hpp>\nint main() {}\n')
        build = self.tmp / "build"
        build.mkdir()
        command = ["/usr/bin/clang++", f"-I{self.track / '03-histogram'}", "-std=c++20",
                   "-o", "checkpoints/03-histogram/CMakeFiles/m3_checkpoints.dir/test.cpp.o",
                   "-c", str(tu)]
        (build / "compile_commands.json").write_text(json.dumps([{
            "directory": str(build), "file": str(tu), "arguments": command,
            "output": command[command.index("-o") + 1]}]))
        self.tree = Tree("student", build, track_dir=self.track)
        self.m = Milestone(number=3, slug="03-histogram", title="", depends=[], tests=[],
                           files=["atomic_histogram.hpp"])

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def where(self, body: str) -> str | None:
        self.header.write_text("#pragma once\n#include <atomic>\n" + body)
        return fence_in_tree(self.tree, self.m)

    def test_a_call_counts_with_its_line(self):
        self.assertEqual(self.where(
            "inline void f() {\n  std::atomic_thread_fence(std::memory_order_release);\n}\n"),
            "starter/03-histogram/atomic_histogram.hpp:4")

    def test_a_fence_only_in_a_comment_or_a_string_does_not_count(self):
        self.assertIsNone(self.where(
            "// std::atomic_thread_fence(std::memory_order_release);\n"
            "/* std::atomic_thread_fence(std::memory_order_acquire); */\n"
            "inline const char* s = \"std::atomic_thread_fence\";\n"
            "#if 0\ninline void g() { std::atomic_thread_fence(std::memory_order_seq_cst); }\n"
            "#endif\n"))

    def test_a_macro_that_expands_to_a_fence_counts_where_it_is_used(self):
        self.assertEqual(self.where(
            "#define PUBLISH std::atomic_thread_fence\n\n"
            "inline void f() { PUBLISH(std::memory_order_release); }\n"),
            "starter/03-histogram/atomic_histogram.hpp:5")

    def test_a_macro_never_used_does_not_count(self):
        self.assertIsNone(self.where("#define PUBLISH std::atomic_thread_fence\n"))

    def test_a_fence_in_a_file_of_another_milestone_does_not_count(self):
        self.assertIsNone(self.where("inline int nothing() { return 0; }\n"))

    def test_the_scanner_is_the_graders(self):
        self.header.write_text("#pragma once\n#include <atomic>\n"
                               "inline void f() { std::atomic_thread_fence("
                               "std::memory_order_release); }\n")
        argv = ["/usr/bin/clang++", f"-I{self.track / '03-histogram'}", "-std=c++20", "-E",
                "-dD", str(self.tmp / "test.cpp")]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        scan = cxxscan.walk(out, cxxscan.Policy(self.track, {str(self.header)}, set()))
        found = first_fence(scan.tokens[str(self.header.resolve())])
        self.assertEqual(found[1], 3)


class ManifestTest(unittest.TestCase):
    """Which checkpoints carry "fence_models": only payload checkpoints of milestones whose
    model checks catch every mutant those payload checkpoints catch (docs/grading.md)."""

    def test_fence_models_name_model_checks_of_the_same_milestone(self):
        carriers = {}
        for m in load_milestones():
            models = {t.name for t in m.tests if t.model}
            for t in m.tests:
                if t.fence_models:
                    carriers.setdefault(m.number, []).append(t.name)
                    self.assertTrue(set(t.fence_models) <= models, t.name)
                    self.assertFalse(t.model, t.name)
                    mutants = [mu for mu in m.mutants() if t.name in mu["killed_by"]]
                    self.assertTrue(mutants, t.name)
                    for mu in mutants:
                        self.assertTrue(set(mu["killed_by"]) & set(t.fence_models),
                                        f"{mu['name']}: no model check of {t.name} kills it")
        self.assertEqual(sorted(carriers), [2, 3])


if __name__ == "__main__":
    unittest.main()
