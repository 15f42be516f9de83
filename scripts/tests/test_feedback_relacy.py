"""Tests of scripts/labtool/feedback/relacy.py and model_timeline.py on real Relacy outputs.

Run: python3 -m unittest discover -s scripts/tests -t scripts -p 'test_feedback_relacy.py'

The fixtures fixtures/feedback/relacy_*.txt are the real outputs (untrimmed) of model
executables built with clang 14 and Debian's relacy-dev against a stand-in <atomic> whose
std::atomic wraps rl::atomic and passes the caller's file and line (__builtin_FILE/LINE/
FUNCTION default arguments), full search (rl::sched_full), each on a copy of solutions/ with
one mistake planted:
  relacy_m2_relaxed_error      02: record_error()'s fetch_add relaxed (2 writers, 1 snapshot;
                               "errors <= requests")
  relacy_m2_all_relaxed        02: every operation relaxed
  relacy_m2_loads_swapped      02: snapshot() loads requests_ before errors_
  relacy_m4_max_load_store     04: update()'s maximum as a load and a conditional store
  relacy_m4_spurious_cas       04: try_increment() as one compare_exchange_weak, no loop
  relacy_m6_instructor_message_passing   the instructor model `m6_models
                               message_passing_relaxed` (checkpoints/06-.../models), built
                               in /work/wt/modelfb: no student file in it
  relacy_harness_m2_*          the course's own harness (m2_models, student preset, clang 14)
                               on /tmp/mfb/trk, a copy of solutions/ with record_error()
                               relaxed: both model checkpoints of milestone 2, doctest's
                               output included
  relacy_spin_livelock         a throwaway Relacy test (lessons/common/model_check.hpp): one
                               thread spins on an acquire load of a flag nobody sets
                               (trimmed: steps 37 to 1975 of its 2006, all that same load,
                               and the per-thread listing are cut)
  relacy_harness_m2_thread_local_build
                               not a model run: the real output of the model BUILD
                               (`cmake --build build/student --target m2_model_checks`, as
                               build.py runs it after `scripts/lab check 2`) of a release
                               copied to /tmp/TL/lab whose starter/ holds the solutions, with
                               a `thread_local` added to record_bytes() (metrics_collector.hpp
                               line 83): the compile-time "not modelled" (CompileTimeNotModelled)
  relacy_m6_invalid_load_order the model checkpoint "model: OrderedCounter get() acquires
                               exactly when its order does" (m6_model_checks, solutions preset)
                               on solutions/ whose load_order() returns Order itself: the
                               stand-in <atomic> fails get()'s load(release)
  relacy_lesson*               the lessons' model examples (lessons/NN-name/examples/
                               *_model.cpp, student preset), wrong version: what each
                               lesson's "Checking orders with a model checker" shows
The planted trees were /tmp/GF/tree (the track) and /tmp/GF/main (the repository); the
source lines a test shows are given by SOURCES (the trees were changed between captures).
"""

from __future__ import annotations

import re
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from labtool import feedback as fb  # noqa: E402
from labtool.feedback import model_timeline, relacy  # noqa: E402

FIXTURES = HERE / "fixtures" / "feedback"
M2 = "starter/02-relaxed-metrics/metrics_collector.hpp"
SOURCES = {
    (M2, 67): "    requests_.fetch_add(1, std::memory_order_relaxed);",
    (M2, 78): "    errors_.fetch_add(1, std::memory_order_relaxed);",
    (M2, 117): "    const std::uint64_t errors = errors_.load(std::memory_order_acquire);",
    (M2, 119): "    const std::uint64_t requests = requests_.load(std::memory_order_relaxed);",
    (M2, 121): "    const std::uint64_t bytes_sent = bytes_sent_.load(std::memory_order_relaxed);",
    (M2, 123): "    const std::int64_t active = active_connections_.load("
               "std::memory_order_relaxed);",
    ("checkpoints/02-relaxed-metrics/models/m2_model.cpp", 9):
        "    RL_ASSERT(s.errors <= s.requests);",
}
PATHS = fb.Paths(Path("/tmp/GF/main"), Path("/tmp/GF/tree"), "starter",
                 lambda shown, n: SOURCES.get((shown, n)))
BARE = fb.Paths(Path("/tmp/GF/main"), Path("/tmp/GF/tree"), "starter")   # no source lines
NOISE = re.compile(r"0x[0-9a-f]+|/tmp/GF|/usr/include|CTOR|BEFORE|THREAD FINISHED|"
                   r"fiber_proc_impl|context\.hpp|execution history|iteration:|\[NOT CURRENT\]")
ORDERS = re.compile(r"(?<![-\w])(?:relaxed|acquire|release|acq_rel|seq_cst|consume|memory_order)")


def fixture(name: str) -> str:
    return (FIXTURES / f"relacy_{name}.txt").read_text()


def steps(text: str) -> list[str]:
    return [l for l in text.splitlines() if re.match(r"^(>>|  ) +\d+  thread \d", l)]


class ParseTest(unittest.TestCase):
    def test_detects_only_relacy_reports(self):
        self.assertTrue(fb.has_model_report(fixture("m2_relaxed_error")))
        for other in ("tsan_m1_increment_race.txt", "doctest_m5_prometheus_text.txt",
                      "asan_m3_stack_overflow.txt"):
            self.assertFalse(fb.has_model_report((FIXTURES / other).read_text()), other)
        self.assertFalse(fb.has_model_report("model: x\nholds after 17246 executions\n"))

    def test_reads_the_property_result_and_steps_without_setup_markers(self):
        report = relacy.parse(fixture("m2_relaxed_error"), PATHS)
        self.assertTrue(report.prop.startswith("every snapshot has errors <= requests"))
        self.assertEqual(report.result, "USER ASSERT FAILED")
        self.assertEqual(report.assertion, "s.errors <= s.requests")
        self.assertEqual(report.iteration, 2)
        # 19 entries: 7 markers and the 2 threads' ends are dropped, the 4 constructor stores
        # are setup; the per-thread repetition after the history is not read twice.
        self.assertEqual(len(report.steps), 4 + 9)
        self.assertEqual([s.phase for s in report.steps].count("setup"), 4)
        stale = [s for s in report.steps if s.stale]
        self.assertEqual([(s.path, s.line, s.value) for s in stale], [(M2, 119, "1")])

    def test_the_instructor_format_and_dollar_operands(self):
        report = relacy.parse(fixture("m6_instructor_message_passing"),
                              fb.Paths(Path("/work/wt/modelfb")))
        self.assertEqual(report.prop,
                         "relaxed flag: the reader may see ready == 1 and data == 0")
        self.assertTrue(all(not s.mine for s in report.steps))


class MisuseTest(unittest.TestCase):
    """An order the operation may not take: said as such, never as a failed check."""

    def test_an_invalid_order_is_named_with_its_line_and_the_rule(self):
        text = fixture("m6_invalid_load_order")
        paths = fb.Paths(Path("/work/main"))
        self.assertEqual(relacy.parse(text, paths).misuse,
                         "invalid memory order for a load (undefined behaviour)")
        headline = model_timeline.model_headline(text, paths)
        self.assertIn("invalid memory order for a load (undefined behaviour) at "
                      "solutions/06-ordering-benchmarks/ordered_counter.hpp:74", headline)
        self.assertNotIn("violated", headline)
        detail = fb.failure_detail(text, paths)
        self.assertTrue(detail.startswith("Model check stopped before it could judge"))
        self.assertIn("thread 1  invalid memory order for a load", detail)
        self.assertIn("Preconditions", detail)
        self.assertNotIn("Every load here read the newest value", detail)
        self.assertNotIn("the check fails", detail)


class ExcerptTest(unittest.TestCase):
    def test_relaxed_error_increment_timeline(self):
        text = fb.failure_detail(fixture("m2_relaxed_error"), PATHS)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("Model check failed: every snapshot has errors"))
        self.assertIn("`s.errors <= s.requests` failed "
                      "(checkpoints/02-relaxed-metrics/models/m2_model.cpp:9)", lines[1])
        self.assertIn("start: requests_ = 0, errors_ = 0, bytes_sent_ = 0, "
                      "active_connections_ = 0", text)
        shown = steps(text)
        self.assertEqual(len(shown), 9, text)
        mine = [l for l in shown if l.startswith(fb.MARK)]
        self.assertEqual(len(mine), 8)
        self.assertRegex(shown[1], r"^>>  2  thread 0  fetch_add errors_: 0 -> 1 +"
                                   + re.escape(f"{M2}:78  errors_.fetch_add(1, "
                                               "std::memory_order_relaxed);") + "$")
        self.assertRegex(shown[5], r"^>>  6  thread 2  read requests_ = 1 \(an older value\) +"
                                   + re.escape(f"{M2}:119"))
        self.assertIn("        ^ read 1 although 2 was already stored by thread 1 (step 3): "
                      "nothing orders this load after that store", text)
        self.assertRegex(shown[-1], r"^    9  thread 2  the check fails +checkpoints/02-relaxed"
                                    r"-metrics/models/m2_model.cpp:9  RL_ASSERT")
        self.assertIn("Yet at step 5 thread 2 had already read what thread 1 wrote at step 4, "
                      "AFTER step 3.", text)
        self.assertIn("which of the steps in between would have to synchronize with which, "
                      "and what in your code would make them do it?", text)
        self.assertNotIn("step 4 and step 5", text)  # the pair is the student's to find
        self.assertNotRegex(text, NOISE)
        self.assertLessEqual(len(lines), model_timeline.MAX_LINES)

    def test_no_message_names_an_order(self):
        """The student's own source text may say an order; nothing the tool writes does."""
        for name in ("m2_relaxed_error", "m2_all_relaxed", "m2_loads_swapped",
                     "m4_max_load_store", "m4_spurious_cas"):
            text = fb.model_excerpt(fixture(name), BARE)
            self.assertNotRegex(text, ORDERS, name)
            self.assertNotRegex(fb.model_headline(fixture(name), BARE), ORDERS, name)

    def test_without_source_lines_every_step_still_has_its_place(self):
        text = fb.model_excerpt(fixture("m2_all_relaxed"), BARE)
        self.assertIn(f"{M2}:78", text)
        self.assertIn("read atomic", text)   # names come from the source; else letters
        self.assertIn("^ read 1 although 2 was already stored by thread 1 (step 3)", text)

    def test_loads_in_the_other_order(self):
        text = fb.model_excerpt(fixture("m2_loads_swapped"), PATHS)
        self.assertIn("At step 5 thread 2 read requests_ = 1, although thread 1 had stored 2 "
                      "at step 3.", text)
        self.assertNotIn("Yet at", text)        # nothing thread 2 read before bridges to it
        self.assertIn("Ask: what in thread 2's steps before step 5 observes thread 1's work "
                      "after step 3", text)

    def test_lost_update_from_a_load_and_a_store(self):
        text = fb.model_excerpt(fixture("m4_max_load_store"), BARE)
        self.assertIn("start: atomic A = UINT64_MAX, atomic B = 0", text)
        self.assertIn("Thread 0 read atomic B at step 4 and wrote it at step 8; in between, "
                      "thread 1 wrote it at step 7, and step 8 overwrote that.", text)
        self.assertIn("failed spuriously: read UINT64_MAX, expected UINT64_MAX", text)
        self.assertIn("(every thread has finished; the model checks the result)\n>>  9", text)
        self.assertNotRegex(text, NOISE)

    def test_spurious_failure(self):
        text = fb.model_excerpt(fixture("m4_spurious_cas"), BARE)
        self.assertIn("lessons/04-cas-min-max/README.md", text)
        self.assertIn("At step 2 compare_exchange_weak failed although the value was the "
                      "expected one", text)
        self.assertRegex(text, r">>  2  thread 0  CAS atomic A failed spuriously: read 0, "
                               r"expected 0 +starter/04-cas-min-max/bounded_counter.hpp:48")

    def test_model_steps_are_shown_unmarked_and_named(self):
        root = Path("/work/wt/modelfb")
        lines = {("checkpoints/06-ordering-benchmarks/models/relacy_models.cpp", n): t
                 for n, t in [(82, "      data($).store(42, rl::mo_relaxed);"),
                              (83, "      ready($).store(1, Store);"),
                              (84, "    } else if (ready($).load(Load) == 1) {"),
                              (85, "      RL_ASSERT(data($).load(rl::mo_relaxed) == 42);")]}
        text = fb.model_excerpt(fixture("m6_instructor_message_passing"),
                                    fb.Paths(root, None, "starter",
                                             lambda s, n: lines.get((s, n))))
        self.assertFalse([l for l in steps(text) if l.startswith(fb.MARK)])
        self.assertIn("start: data = 0, ready = 0", text)
        self.assertIn("^ read 0 although 42 was already stored by thread 0 (step 1)", text)

    def test_one_line(self):
        line = fb.one_line(fixture("m2_relaxed_error"), PATHS)
        self.assertTrue(line.startswith("model check: every snapshot has errors <= requests"))
        self.assertTrue(line.endswith(f"(a load at {M2}:119 read an older value)"), line)
        self.assertEqual(fb.one_line(fixture("m4_spurious_cas"), BARE),
                         "model check: try_increment() below the limit succeeds, even when "
                         "compare_exchange_weak fails spuriously: violated")


HARNESS = fb.Paths(Path("/work/main"), Path("/tmp/mfb/trk"), "starter",
                   lambda shown, n: SOURCES.get((shown, n)))


class HarnessTest(unittest.TestCase):
    """The course's model executables: doctest around Relacy's report."""

    def test_errors_above_requests(self):
        raw = fixture("harness_m2_relaxed_error")
        self.assertTrue(fb.has_model_report(raw))
        text = fb.failure_detail(raw, HARNESS)
        self.assertTrue(text.startswith("Model check failed: every snapshot has errors <= "
                                        "requests (2 writers: request then error; 1 reader)"))
        self.assertIn("(checkpoints/02-relaxed-metrics/model_metrics_collector.cpp:24)", text)
        self.assertRegex(text, r">>  2  thread 0  fetch_add errors_: 0 -> 1 +" + re.escape(
            f"{M2}:78  errors_.fetch_add(1, std::memory_order_relaxed);"))
        self.assertIn("^ read 1 although 2 was already stored by thread 1 (step 3): nothing "
                      "orders this load after that store", text)
        self.assertNotRegex(text, NOISE)
        self.assertNotRegex(text, r"doctest|FATAL ERROR|lab_model\.hpp|TEST CASE")
        self.assertIn('(lessons/02-relaxed-metrics/README.md, "Checking orders with a model '
                      'checker")', text)
        self.assertEqual(fb.one_line(raw, HARNESS),
                         "model check: every snapshot has errors <= requests (2 writers: request "
                         f"then error; 1 reader): violated (a load at {M2}:119 read an older "
                         "value)")

    def test_a_data_race_on_the_models_payload(self):
        raw = fixture("harness_m2_relaxed_error_payload")
        text = fb.model_excerpt(raw, HARNESS)
        self.assertIn("What went wrong: a data race on a non-atomic variable", text)
        self.assertIn("start: requests_ = 0, errors_ = 0, bytes_sent_ = 0, "
                      "active_connections_ = 0, variable A = 0", text)
        self.assertRegex(text, r"\n    1  thread 0  write variable A = 42 \(not atomic\)  "
                               r"checkpoints/02-relaxed-metrics/model_metrics_collector.cpp:40")
        self.assertIn("At step 8 thread 1 read variable A, which is not atomic, while thread 0's "
                      "write at step 1 did not happen before it: a data race", text)
        self.assertIn("Ask: which steps between step 1 and step 8 could carry that write to "
                      "thread 1, and what does each of them order?", text)
        self.assertNotRegex(fb.model_excerpt(raw, fb.Paths(Path("/work/main"),
                                                          Path("/tmp/mfb/trk"))), ORDERS)


class GradeTest(unittest.TestCase):
    def test_the_grader_reports_a_violated_model_with_the_same_timeline(self):
        from labtool.grade.runner import _judge
        from labtool.results import Status
        from labtool.grade.records import Record
        raw = fixture("harness_m2_relaxed_error")
        name, slug = "m2/model: no snapshot shows more errors than requests", "02-relaxed-metrics"
        run = _judge(1, raw, 0.2, (False, "the report says a test case failed", []), HARNESS,
                     (None, "no record"), name, slug)
        self.assertIs(run.status, Status.FAILED)
        self.assertEqual(run.reason, fb.one_line(raw, HARNESS))
        self.assertEqual(run.detail, fb.failure_detail(raw, HARNESS))
        # Printed, but the harness recorded a pass: the printed history relabels nothing.
        record = Record(verdict="ran", kind="", filter_on=True, started=1, cases=1,
                        cases_failed=0, asserts=1, asserts_failed=0, exception=False, result=0,
                        name=name, file=f"checkpoints/{slug}/model_metrics_collector.cpp")
        passed = _judge(0, raw, 0.2, (True, "", []), HARNESS, (record, ""), name, slug)
        self.assertIs(passed.status, Status.PASSED)


class CheckTest(unittest.TestCase):
    def test_check_shows_a_models_counterexample_before_a_tests_report(self):
        import contextlib
        import io
        from labtool import student
        from labtool.course import Milestone, Test
        from labtool.flow import Outcome
        from labtool.results import Status, TestResult
        tests = [Test("payload", 3, True), Test("model: errors", 3)]
        m = Milestone(2, "02-relaxed-metrics", "R", [], [], tests)
        results = [TestResult(m, tests[0], Status.FAILED,
                              (FIXTURES / "tsan_m3_payload_race.txt").read_text()),
                   TestResult(m, tests[1], Status.FAILED, fixture("harness_m2_relaxed_error"))]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            student._report_failures(Outcome(results={2: results}), HARNESS)
        text = out.getvalue()
        self.assertIn("A failure, in full: m2/model: errors  (failed)", text)
        self.assertIn("  Model check failed: every snapshot has errors <= requests", text)
        self.assertIn(f"  >>  6  thread 2  read requests_ = 1 (an older value)", text)


ROOT = HERE.parents[1]
LESSONS = {"02-relaxed-metrics": "lesson02_publish", "03-histogram": "lesson03_upload_progress",
           "04-cas-min-max": "lesson04_withdraw", "06-ordering-benchmarks": "lesson06_fence_first"}


class LessonTest(unittest.TestCase):
    """Each lesson's "Checking orders with a model checker" shows its model's real history and
    the feedback rendered from it: the text in the lesson is what this module prints."""

    def test_each_lesson_shows_what_the_feedback_renders(self):
        for lesson, name in LESSONS.items():
            track = ROOT / "lessons" / lesson / "examples"
            label = f"lessons/{lesson}/examples"
            paths = fb.Paths(ROOT, track, label, fb.source_reader(ROOT, track, label))
            rendered = fb.failure_detail(fixture(name), paths)
            readme = (ROOT / "lessons" / lesson / "README.md").read_text()
            self.assertIn("## Checking orders with a model checker", readme)
            self.assertIn("```text\n" + rendered + "\n```", readme, lesson)
            self.assertRegex(readme, r"<details><summary>Answer</summary>", lesson)
            # the raw history shown is the fixture's (addresses and all)
            history = [l for l in fixture(name).splitlines() if l.startswith("[")]
            self.assertIn("\n".join(history[:len(history) // 2]), readme, lesson)


class NoiseAndLimitsTest(unittest.TestCase):
    def test_steps_of_the_stand_in_have_no_place(self):
        raw = fixture("m2_relaxed_error").replace(
            "/tmp/GF/tree/02-relaxed-metrics/metrics_collector.hpp(78)",
            "/tmp/GF/main/checkpoints/common/relacy/atomic(40)")
        text = fb.model_excerpt(raw, PATHS)
        self.assertNotIn("common/relacy", text)
        self.assertRegex(text, r"\n    2  thread 0  fetch_add errors_: 0 -> 1\n")

    def test_a_long_history_is_cut_to_the_steps_that_matter(self):
        raw = fixture("m2_relaxed_error").splitlines()
        at = raw.index("[10] 0: [THREAD FINISHED], in fiber_proc_impl, "
                       "/usr/include/relacy/context.hpp(457)")
        extra = [f"[{n}] 0: <0x5640af17b020> atomic load, value={n}, order=relaxed, in "
                 "snapshot, /tmp/GF/tree/02-relaxed-metrics/metrics_collector.hpp(121)"
                 for n in range(100, 160)]
        text = fb.model_excerpt("\n".join(raw[:at] + extra + raw[at:]), PATHS)
        self.assertLessEqual(len(text.splitlines()), model_timeline.MAX_LINES + 2, text)
        self.assertIn("steps not shown", text)
        self.assertIn("^ read 1 although 2 was already stored by thread 1", text)
        self.assertIn("the check fails", text)

    def test_a_spin_loop_is_one_line(self):
        raw = fixture("spin_livelock")
        text = fb.failure_detail(raw, fb.Paths(Path("/tmp/mfb")))
        self.assertIn("What went wrong: the threads ran thousands of steps without finishing (a livelock", text)
        self.assertRegex(text, r"\n    1  thread 0  read atomic A = 0 \(61 times, to step 61\)"
                               r"  spin.cpp:5\n")
        self.assertIn("Thread 0 repeated the same step (spin.cpp:5) 61 times and the test "
                      "never ended.", text)
        self.assertLess(len(text.splitlines()), 12)

    def test_a_fifo_in_the_submission_is_not_read(self):
        """The grader reads the student's source lines too: a FIFO named like a source file
        must not block it (on the old reader, open() waited for a writer for ever)."""
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "02-x").mkdir()
            os.mkfifo(Path(tmp) / "02-x" / "metrics_collector.hpp")
            (Path(tmp) / "02-x" / "other.hpp").write_text("one\ntwo\n")
            read = fb.source_reader(Path("/nonexistent"), Path(tmp), "starter")
            self.assertIsNone(read("starter/02-x/metrics_collector.hpp", 1))
            self.assertEqual(read("starter/02-x/other.hpp", 2), "two")

    def test_other_results_are_named_in_words(self):
        raw = fixture("m4_spurious_cas").replace("USER ASSERT FAILED (assertion: "
                                                 "c.try_increment())", "LIVELOCK")
        self.assertIn("(a livelock", fb.one_line(raw, BARE))
        self.assertIn("LIVELOCK".lower(), fb.model_excerpt(raw, BARE))

    def test_a_report_without_history_is_not_a_model_report(self):
        self.assertEqual(fb.model_excerpt("USER ASSERT FAILED (assertion: x)\n", BARE), "")


class CompileTimeNotModelled(unittest.TestCase):
    """A `thread_local` in a student's header does not compile in the model build
    (lab_model_student_begin.hpp renames it to LAB_NOT_MODELLED_thread_local_...): the model
    tests of that milestone fail closed with "not modelled: thread_local at file:line", the
    milestone's other tests still run, and nothing about the model passes."""

    ROOT = Path("/tmp/TL/lab")
    WHERE = "starter/02-relaxed-metrics/metrics_collector.hpp:83"

    def setUp(self):
        from labtool.build import compile_errors
        self.build = (FIXTURES / "relacy_harness_m2_thread_local_build.txt").read_text()
        self.errors = compile_errors(self.build)
        self.paths = fb.Paths(self.ROOT, self.ROOT / "starter", "starter")

    def test_the_summary_says_not_modelled_at_the_students_line(self):
        text = fb.tidy(fb.compile_failure(self.errors), self.paths)
        first = text.splitlines()[0]
        self.assertTrue(first.startswith(f"does not compile: not modelled: thread_local at "
                                         f"{self.WHERE}; Relacy runs every modelled thread as "
                                         "a fiber of one OS thread"), first)
        # The compiler's own diagnostics follow, with the student's source line.
        self.assertIn(f"{self.WHERE}:5: error: unknown type name "
                      "'LAB_NOT_MODELLED_thread_local_", text)
        self.assertIn("thread_local std::uint64_t calls_here = 0;", text)

    def test_another_compile_error_keeps_its_own_summary(self):
        other = self.errors.replace("LAB_NOT_MODELLED_thread_local", "some_other_name")
        self.assertNotIn("not modelled", fb.compile_failure(other))

    def test_the_flow_fails_the_model_tests_closed_and_runs_the_others(self):
        from labtool.build import BuildResult
        from labtool.course import Milestone, Test
        from labtool.flow import run_flow
        from labtool.results import Status
        from labtool import student

        m2 = Milestone(number=2, slug="02-relaxed-metrics", title="", files=[], depends=[],
                       tests=[Test("exact counts", 1), Test("model: a", 2, model=True),
                              Test("model: b", 2, model=True, stretch=True)])
        build = self.build

        class Tree:
            def build_milestones(self, milestones, all_ms, **_):
                return {m.number: BuildResult(True, "", models=BuildResult(False, build))
                        for m in milestones}

        class Runner:
            ran: list[str] = []

            def run(self, tree, results):
                for r in results:
                    self.ran.append(r.test.name)
                    r.status = Status.PASSED

        runner = Runner()
        outcome = run_flow(Tree(), [m2], [m2], runner)
        self.assertEqual(runner.ran, ["exact counts"])        # the model tests never ran
        by_name = {r.test.name: r for r in outcome.results[2]}
        self.assertEqual(by_name["exact counts"].status, Status.PASSED)
        for name in ("model: a", "model: b"):
            r = by_name[name]
            self.assertEqual(r.status, Status.NOT_BUILT, name)
            self.assertFalse(r.passed, name)
            # What `scripts/lab check` prints for it (student.py shows a build failure as is).
            shown = student._detail(r, self.paths)
            self.assertIn(f"not modelled: thread_local at {self.WHERE};", shown.splitlines()[0])


if __name__ == "__main__":
    unittest.main()
