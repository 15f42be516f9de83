"""Tests of scripts/labtool/feedback.py on real outputs.

Run: python3 -m unittest discover -s scripts/tests -t scripts -p 'test_feedback.py'

The fixtures in fixtures/feedback/ are the real outputs of broken trees, trimmed only where
said, built from a copy of solutions/ with one mistake planted per milestone:
  tsan_m1_*        student preset (clang, TSan), 01: a plain uint64_t count (load + store race)
  tsan_m3_*        03: the bucket's fetch_add relaxed (the test's payload races)
  doctest_m5_*     05: the gauge typed "counter" (the exposition tests compare texts)
  doctest_m6_invalid_load_order
                   06: load_order() returning Order itself (solutions preset,
                   m6_checkpoints -tc="OrderedCounter load order*"): CHECK_MESSAGE with INFO
  doctest_xml_*    the same failure in doctest's XML report (what the grader reads)
  ctest_m4_*       04: try_increment's CAS never refreshes its expected value (CTest console)
  junit_m4_*       the JUnit entry CTest writes for that timeout (nothing says "timeout")
  asan_m3_*        asan preset (gcc), 03: counts_[bucket + 3] (stack frame object list cut
                   to its first lines)
  ubsan_m1_*       asan preset, 01: a signed fixed-point overflow in add()
  lsan_m1_*        asan preset, 01: get() allocates a copy it never deletes
The broken trees were /tmp/G/tree (TSan) and /tmp/G/tree-asan (ASan), the repository
/work/main: those are the paths the tests give as Paths.
"""

from __future__ import annotations

import json
import re
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from labtool import feedback as fb  # noqa: E402

FIXTURES = HERE / "fixtures" / "feedback"
TSAN = fb.Paths(Path("/work/main"), Path("/tmp/G/tree"), "starter")
ASAN = fb.Paths(Path("/work/main"), Path("/tmp/G/tree-asan"), "starter")
NOISE = re.compile(r"BuildId|\+0x[0-9a-f]+|0x[0-9a-f]{6,}|/tmp/G|/work/main|LLVMSymbolizer|"
                   r"pthread_create|created by|Shadow byte|\[\d+, \d+\)")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def frames(excerpt: str) -> list[str]:
    return [l for l in excerpt.splitlines() if re.match(r"^\s+(>>)?\s*#\d+ ", l)]


class SanitizerExcerptTest(unittest.TestCase):
    def test_tsan_race_shows_both_stacks_with_the_students_frames_marked(self):
        text = fb.sanitizer_excerpt(fixture("tsan_m1_increment_race.txt"), TSAN)
        self.assertTrue(text.startswith("ThreadSanitizer: data race"))
        self.assertIn("  Write of size 8 by thread T4:", text)
        self.assertIn("  Previous write of size 8 by thread T3:", text)
        mine = [l for l in frames(text) if l.strip().startswith(fb.MARK)]
        self.assertEqual(len(mine), 2, text)
        for line in mine:
            self.assertIn("metrics::AtomicCounter::increment()  "
                          "starter/01-seq-cst-counter/atomic_counter.hpp:33", line)
        self.assertNotRegex(text, NOISE)
        self.assertIn("checkpoints/01-seq-cst-counter/test_atomic_counter.cpp:73", text)
        self.assertLess(len(text.splitlines()), 20)

    def test_each_stack_lists_the_students_frames_first(self):
        text = fb.sanitizer_excerpt(fixture("tsan_m1_reset_race.txt"), TSAN)
        stacks = re.split(r"\n  (?=\S)", text)
        with_frames = [s for s in stacks if frames(s)]
        self.assertEqual(len(with_frames), 2)
        for stack in with_frames:
            self.assertTrue(frames(stack)[0].strip().startswith(fb.MARK), stack)
        self.assertIn("metrics::AtomicCounter::reset()  "
                      "starter/01-seq-cst-counter/atomic_counter.hpp:56", text)

    def test_source_lines_of_the_students_frames(self):
        seen = []

        def read_line(path, number):
            seen.append((path, number))
            return "    count_ = count_ + 1;"
        paths = fb.Paths(TSAN.root, TSAN.track, "starter", read_line)
        text = fb.sanitizer_excerpt(fixture("tsan_m1_increment_race.txt"), paths)
        self.assertIn("33 | count_ = count_ + 1;", text)
        self.assertIn(("starter/01-seq-cst-counter/atomic_counter.hpp", 33), seen)

    def test_without_headline(self):
        text = fb.sanitizer_excerpt(fixture("tsan_m1_increment_race.txt"), TSAN, headline=False)
        self.assertTrue(text.startswith("  (two threads accessed"), text)

    def test_source_reader_reads_only_files_in_the_tree(self):
        root = Path(__file__).resolve().parents[2]
        read = fb.source_reader(root, root / "starter")
        self.assertIsNotNone(read("scripts/tests/test_feedback.py", 1))
        self.assertIsNone(read("scripts/../../etc/passwd", 1))
        self.assertIsNone(read("starter/no-such-file.hpp", 1))

    def test_a_race_on_the_tests_payload_says_no_frame_is_the_students(self):
        text = fb.sanitizer_excerpt(fixture("tsan_m3_payload_race.txt"), TSAN)
        self.assertNotIn(fb.MARK, text)
        self.assertIn("None of these frames is in your files", text)
        self.assertIn("Read of size 8 by thread T4:", text)
        self.assertIn("Previous write of size 8 by thread T2:", text)
        self.assertIn("checkpoints/03-histogram/test_atomic_histogram.cpp:474", text)
        self.assertIn("checkpoints/03-histogram/test_atomic_histogram.cpp:463", text)
        self.assertNotRegex(text, NOISE)

    def test_asan_report(self):
        text = fb.sanitizer_excerpt(fixture("asan_m3_stack_overflow.txt"), ASAN)
        self.assertTrue(text.startswith("AddressSanitizer: stack-buffer-overflow"), text)
        first = frames(text)[0]
        self.assertTrue(first.strip().startswith(fb.MARK), text)
        self.assertIn("starter/03-histogram/atomic_histogram.hpp:132", first)
        self.assertIn("WRITE of size 8", text)
        self.assertNotRegex(text, NOISE)

    def test_ubsan_report_names_the_line(self):
        output = fixture("ubsan_m1_signed_overflow.txt")
        text = fb.sanitizer_excerpt(output, ASAN)
        self.assertIn("signed integer overflow", text.splitlines()[0])
        self.assertIn("at starter/01-seq-cst-counter/atomic_counter.hpp:39", text.splitlines()[0])
        self.assertTrue(frames(text)[0].strip().startswith(fb.MARK))
        self.assertNotRegex(text, NOISE)

    def test_leak_report(self):
        text = fb.sanitizer_excerpt(fixture("lsan_m1_leak.txt"), ASAN)
        self.assertTrue(text.startswith("LeakSanitizer: detected memory leaks"), text)
        self.assertEqual(text.count("Direct leak of 8 byte(s) in 1 object(s) allocated from:"), 2)
        self.assertEqual(text.count(">> #1 metrics::AtomicCounter::get() const  "
                                    "starter/01-seq-cst-counter/atomic_counter.hpp:47"), 2)
        self.assertNotRegex(text, NOISE)

    def test_asan_thread_creation_stacks_are_left_out(self):
        report = fixture("asan_m3_stack_overflow.txt").replace(
            "SUMMARY:", "Thread T4 created by T0 here:\n"
            "    #0 0x7f5931a49726 in __interceptor_pthread_create x.cpp:207\n\nSUMMARY:", 1)
        text = fb.sanitizer_excerpt(report, ASAN)
        self.assertNotIn("created by", text)
        self.assertNotIn("pthread_create", text)

    def test_headline(self):
        self.assertEqual(fb.sanitizer_headline(fixture("tsan_m1_increment_race.txt"), 66),
                         "ThreadSanitizer: data race (exit code 66)")
        self.assertEqual(fb.sanitizer_headline(fixture("asan_m3_stack_overflow.txt")),
                         "AddressSanitizer: stack-buffer-overflow")
        self.assertEqual(fb.sanitizer_headline("no report"), "a sanitizer reported a problem")

    def test_no_report(self):
        self.assertEqual(fb.sanitizer_excerpt(fixture("doctest_m5_prometheus_text.txt"), TSAN), "")
        self.assertFalse(fb.has_sanitizer_report(fixture("doctest_m5_prometheus_text.txt")))

    def test_later_reports_are_counted(self):
        once = fixture("tsan_m1_increment_race.txt")
        text = fb.sanitizer_excerpt(once + once, TSAN)
        self.assertIn("1 more report after this one", text)


class TextDiffTest(unittest.TestCase):
    def test_console_values_become_a_unified_diff(self):
        text = fb.doctest_failure(fixture("doctest_m5_prometheus_text.txt"), TSAN)
        self.assertIn("test_exposition.cpp:143: ERROR: CHECK( fixed_snapshot().to_prometheus() "
                      "== expected ) is NOT correct!", text)
        self.assertIn("--- expected", text)
        self.assertIn("+++ yours: fixed_snapshot().to_prometheus()", text)
        self.assertIn("    -# TYPE db_active_connections gauge", text)
        self.assertIn("    +# TYPE db_active_connections counter", text)
        self.assertIn("    +# TYPE http_active_connections counter", text)
        self.assertNotIn("rpc_size_bytes_count", text)   # far from any change
        self.assertLess(len(text.splitlines()), 25)

    def test_xml_expanded_values_give_the_same_diff(self):
        expanded = fixture("doctest_xml_m5_expanded.txt").strip()
        diff = fb.text_diff(expanded, "fixed_snapshot().to_prometheus() == expected")
        self.assertEqual([l for l in diff.splitlines() if l[:1] in "+-" and l[:3] not in
                          ("---", "+++")],
                         ["-# TYPE db_active_connections gauge",
                          "+# TYPE db_active_connections counter",
                          "-# TYPE http_active_connections gauge",
                          "+# TYPE http_active_connections counter"])

    def test_expected_on_the_left(self):
        diff = fb.text_diff("  values: CHECK( a\nb\n == a\nc\n )", "CHECK( expected == text )")
        self.assertIn("--- expected", diff)
        self.assertIn("+++ yours: text", diff)
        self.assertIn("-b", diff)
        self.assertIn("+c", diff)

    def test_not_a_text_comparison(self):
        self.assertEqual(fb.text_diff("  values: CHECK( 7 == 8 )", "CHECK( a == b )"), "")
        self.assertEqual(fb.text_diff("  values: CHECK( 1 != 1 )", "CHECK( a != b )"), "")

    def test_ambiguous_split_gives_no_diff(self):
        self.assertEqual(fb.text_diff("  values: CHECK( a\n == b\nc\n == d\nf\n )"), "")

    def test_logged_text_is_kept(self):
        text = fb.doctest_failure(fixture("doctest_m5_logged_text.txt"), TSAN)
        self.assertIn("test_exposition.cpp:258: ERROR:", text)
        self.assertIn("# TYPE api_active_connections counter", text)


class TimeoutTest(unittest.TestCase):
    def test_ctest_console_names_the_timeouts(self):
        found = fb.ctest_timeouts(fixture("ctest_m4_timeouts.txt"))
        self.assertEqual(set(found), {
            "m4/concurrent try_increment succeeds exactly limit times",
            "m4/try_increment below the limit never fails under contention",
            "m4/get never exceeds the limit while threads take and release slots"})
        self.assertAlmostEqual(found["m4/concurrent try_increment succeeds exactly limit times"],
                               30.06)

    def test_junit_alone_cannot_tell(self):
        # Why ctest_timeouts() exists: CTest's JUnit entry of a timeout is an empty failure.
        self.assertIn('<failure message=""/>', fixture("junit_m4_timeout.xml"))
        self.assertNotIn("imeout", fixture("junit_m4_timeout.xml"))

    def test_note_names_the_limit_and_the_tests_causes(self):
        cause = "a CAS loop whose expected value is never refreshed spins forever."
        note = fb.timeout_note(30, cause)
        self.assertIn("timed out", note)
        self.assertIn("after 30 s", note)
        self.assertIn(cause, note)
        self.assertIn("Likely causes", fb.timeout_note(None))

    def test_detail_of_a_timeout(self):
        detail = fb.failure_detail("", TSAN, timed_out=True, limit=30, on_timeout="x spins.")
        self.assertTrue(detail.startswith("The test timed out"))
        self.assertEqual(fb.one_line("", TSAN, timed_out=True, limit=30), "timed out after 30 s")


class ListingTest(unittest.TestCase):
    def test_one_line_per_kind(self):
        self.assertEqual(fb.one_line(fixture("tsan_m1_increment_race.txt"), TSAN),
                         "ThreadSanitizer: data race in "
                         "starter/01-seq-cst-counter/atomic_counter.hpp:33")
        self.assertEqual(fb.one_line(fixture("tsan_m3_payload_race.txt"), TSAN),
                         "ThreadSanitizer: data race at "
                         "checkpoints/03-histogram/test_atomic_histogram.cpp:474")
        self.assertEqual(fb.one_line(fixture("doctest_m5_prometheus_text.txt"), TSAN),
                         "checkpoints/05-registry-export/test_exposition.cpp:143: "
                         "CHECK( fixed_snapshot().to_prometheus() == expected )")
        # A CHECK_MESSAGE's logged text (INFO and message) says more than the expression.
        self.assertEqual(fb.one_line(fixture("doctest_m6_invalid_load_order.txt"), TSAN),
                         "checkpoints/06-ordering-benchmarks/test_ordered_counter.cpp:74: "
                         "OrderedCounter<memory_order::release>::load_order() returned "
                         "memory_order::release; a load may not take this order: [atomics.types."
                         "operations], load, Preconditions. Which half of an order can a load "
                         "never have?")
        todo = "starter/01-seq-cst-counter/atomic_counter.hpp:56: TODO: get(): what makes a read " \
            "well defined?"
        self.assertEqual(fb.one_line(f"t.cpp:24: ERROR: CHECK( c.get() == 0 ) THREW exception: "
                                     f'"{todo}"', TSAN), todo)
        self.assertEqual(fb.one_line(f"t.cpp:27: ERROR: test case THREW exception: {todo}",
                                     TSAN), todo)

    def test_failing_tests_lists_every_one(self):
        text = fb.failing_tests([("m4/a", "timeout", "timed out after 30 s"),
                                 ("m4/b", "failed", "x.cpp:3: CHECK( a == b )")], total=13)
        self.assertEqual(text.splitlines(), [
            "2 of 13 tests not passing:",
            "  timeout  m4/a",
            "             timed out after 30 s",
            "  failed   m4/b",
            "             x.cpp:3: CHECK( a == b )"])


class TidyTest(unittest.TestCase):
    def test_paths_and_noise(self):
        text = ("/tmp/G/tree/01-seq-cst-counter/atomic_counter.hpp:33:12: error: x\n"
                "/work/main/checkpoints/common/lab_test.hpp:5: note: y\n"
                "#0 f() /usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/"
                "bits/invoke.h:61:14 (m1_checkpoints+0x1066e9) (BuildId: 823f4b)")
        self.assertEqual(fb.tidy(text, TSAN).splitlines(), [
            "starter/01-seq-cst-counter/atomic_counter.hpp:33:12: error: x",
            "checkpoints/common/lab_test.hpp:5: note: y",
            "#0 f() <libstdc++>/bits/invoke.h:61:14"])


    def test_a_track_inside_the_repository_in_any_spelling(self):
        paths = fb.Paths(Path("/r"), Path("/r/build/grade/overlay"), "starter")
        self.assertEqual(fb.tidy("build/grade/overlay/01-x/a.hpp:3: TODO: what? and "
                                 "/r/build/grade/overlay/01-x/a.hpp:4 and /r/docs/x.md", paths),
                         "starter/01-x/a.hpp:3: TODO: what? and starter/01-x/a.hpp:4 and "
                         "docs/x.md")
        self.assertEqual(fb.show_path("/r/build/grade/overlay/01-x/../01-x/a.hpp", paths),
                         ("starter/01-x/a.hpp", True))
        self.assertEqual(fb.show_path("/r/checkpoints/01-x/t.cpp", paths),
                         ("checkpoints/01-x/t.cpp", False))

    def test_tail(self):
        self.assertEqual(fb.tail("a\n\nb\nc\n", 2), "b\nc")


class CheckReportTest(unittest.TestCase):
    """What `scripts/lab check` prints below its table (student._report_failures)."""

    def report(self, results_by_milestone) -> str:
        import contextlib
        import io
        from labtool import student
        from labtool.flow import Outcome
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            student._report_failures(Outcome(results=results_by_milestone), TSAN)
        return out.getvalue()

    def test_every_failing_test_listed_the_first_in_full(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        cause = "try_increment() never returns: a CAS loop never refreshes its expected value."
        tests = [Test("hangs", 3, True, on_timeout=cause), Test("prometheus text", 2),
                 Test("passes", 1), Test("needs two CPUs", 1, needs_cpus=2),
                 Test("stretch", 1, stretch=True)]
        m = Milestone(4, "04-cas-min-max", "CAS", [], [], tests)
        results = [TestResult(m, tests[0], Status.TIMEOUT),
                   TestResult(m, tests[1], Status.FAILED,
                              fixture("doctest_m5_prometheus_text.txt")),
                   TestResult(m, tests[2], Status.PASSED),
                   TestResult(m, tests[3], Status.SKIPPED, "skipped: needs 2 CPUs"),
                   TestResult(m, tests[4], Status.FAILED, "x.cpp:1: ERROR: CHECK( a ) is NOT "
                                                          "correct!")]
        m3 = Milestone(5, "05-x", "Y", [], [], [Test("race", 3, True)])
        race = TestResult(m3, m3.tests[0], Status.FAILED, fixture("tsan_m1_increment_race.txt"))
        text = self.report({4: results, 5: [race]})
        # The skipped test counts neither way.
        self.assertIn("Milestone 4: 2 of 3 tests not passing:", text)
        self.assertIn("  timeout  m4/hangs\n             timed out after 30 s", text)
        self.assertIn("  failed   m4/prometheus text\n", text)
        # The failing stretch test is listed apart, as stretch, after the main ones.
        self.assertNotIn("m4/stretch", text[:text.index("Stretch (optional")])
        self.assertIn("1 of 1 stretch tests not passing:\n  failed  m4/stretch\n"
                      "            x.cpp:1: CHECK( a )", text)
        # ... and is listed apart, as not run, with its reason.
        self.assertIn("1 test not run (not failures):\n  skipped  m4/needs two CPUs\n"
                      "             skipped: needs 2 CPUs", text)
        self.assertLess(text.index("m4/prometheus text"), text.index("not run"))
        self.assertIn("First failure, in full: m4/hangs  (timeout)", text)
        self.assertIn("  The test timed out after 30 s: it was still running", text)
        self.assertIn(cause, text)
        self.assertIn("Also not passing: milestone 5 (scripts/lab check 5)", text)
        self.assertIn("Re-run:  scripts/lab check 4", text)

    def test_inconclusive_and_skipped_tests_are_not_run_never_failures(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        tests = [Test("overlap", 2, True), Test("plain", 1), Test("two cpus", 1, needs_cpus=2),
                 Test("bad", 1)]
        m = Milestone(3, "03-histogram", "H", [], [], tests)
        said = "inconclusive: the writers never overlapped after 3 tries"
        results = [TestResult(m, tests[0], Status.INCONCLUSIVE, "[doctest] x\n" + said),
                   TestResult(m, tests[1], Status.PASSED),
                   TestResult(m, tests[2], Status.SKIPPED, "")]
        text = self.report({3: results})
        self.assertNotIn("not passing", text)
        self.assertNotIn("First failure", text)
        self.assertIn("Milestone 3: 2 tests not run (not failures):", text)
        self.assertIn(f"  inconclusive  m3/overlap\n                  {said} (re-run the check)",
                      text)
        self.assertIn("  skipped       m3/two cpus\n                  skipped: cannot run on "
                      "this machine", text)
        # With a real failure: only it counts as not passing; the others stay apart.
        text = self.report({3: results + [TestResult(m, tests[3], Status.FAILED, "boom")]})
        self.assertIn("Milestone 3: 1 of 3 tests not passing:\n  failed  m3/bad", text)
        self.assertIn("2 tests not run (not failures):", text)
        self.assertIn("First failure, in full: m3/bad  (failed)", text)

    def test_a_failure_says_first_what_it_catches(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        t = Test("concurrent increments lose nothing", 3, True,
                 catches="load() then store(count + 1). TSan does not report it.")
        m = Milestone(1, "01-seq-cst-counter", "C", [], [], [t])
        text = self.report({1: [TestResult(m, t, Status.FAILED, "t.cpp:75: ERROR: CHECK( 680081 "
                                           "== 1092352 ) is NOT correct!")]})
        self.assertIn("  failed  m1/concurrent increments lose nothing\n"
                      "            likely mistake: load() then store(count + 1).\n"
                      "            t.cpp:75: CHECK( 680081 == 1092352 )", text)
        full = text[text.index("First failure, in full"):].splitlines()
        self.assertEqual(full[1], "  Checks: concurrent increments lose nothing. Likely "
                                  "mistake: load() then store(count + 1).")
        self.assertIn("680081", full[2] + full[3])

    def test_only_stretch_failing_is_listed_with_evidence(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        tests = [Test("main", 1), Test("merges race", 2, True, stretch=True, catches="a load "
                                                                               "plus a store.")]
        m = Milestone(6, "06-x", "X", [], [], tests)
        text = self.report({6: [TestResult(m, tests[0], Status.PASSED),
                                TestResult(m, tests[1], Status.FAILED,
                                           "t.cpp:9: ERROR: CHECK( 3 == 4 ) is NOT correct!")]})
        self.assertIn("1 of 1 stretch tests not passing:\n  failed  m6/merges race\n"
                      "            likely mistake: a load plus a store.", text)
        self.assertIn("First stretch failure, in full: m6/merges race", text)
        self.assertIn("CHECK( 3 == 4 )", text)

    def test_a_race_is_named_a_sanitizer_failure_and_shown_whole(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        m = Milestone(1, "01-seq-cst-counter", "C", [], [], [Test("race", 3, True)])
        text = self.report({1: [TestResult(m, m.tests[0], Status.FAILED,
                                           fixture("tsan_m1_increment_race.txt"))]})
        self.assertIn("  sanitizer  m1/race\n               ThreadSanitizer: data race in "
                      "starter/01-seq-cst-counter/atomic_counter.hpp:33", text)
        self.assertIn("(sanitizer)", text)
        self.assertIn("Previous write of size 8 by thread T3:", text)


class ManifestTest(unittest.TestCase):
    def test_every_concurrency_test_says_why_it_might_hang(self):
        root = HERE.parents[1] / "checkpoints"
        missing = []
        for path in sorted(root.glob("[0-9][0-9]-*/manifest.json")):
            for test in json.loads(path.read_text())["tests"]:
                why = test.get("on_timeout")
                if why is not None:
                    self.assertIsInstance(why, str)
                    self.assertTrue(why.strip().endswith("."), why)
                    self.assertLess(len(why), 400, why)
                elif test.get("concurrency"):
                    missing.append(f"{path.parent.name}: {test['name']}")
        self.assertEqual(missing, [], "concurrency tests without \"on_timeout\"")


if __name__ == "__main__":
    unittest.main()


class CheckVerdictTest(unittest.TestCase):
    """run_check's last words: never "All selected checkpoints pass." while a stretch test
    fails."""

    def run_check(self, stretch_status) -> tuple[int, str]:
        import argparse
        import contextlib
        import io
        from unittest import mock
        from labtool import student
        from labtool.course import Milestone, Test
        from labtool.flow import Outcome
        from labtool.results import Status, TestResult
        tests = [Test("main", 1), Test("merge race", 2, True, stretch=True,
                                       catches="fetch_max as a load and a store.")]
        m = Milestone(6, "06-ordering-benchmarks", "X", [], [], tests)
        outcome = Outcome(results={6: [
            TestResult(m, tests[0], Status.PASSED),
            TestResult(m, tests[1], stretch_status, "t.cpp:9: ERROR: CHECK( 3 == 4 ) is NOT "
                                                    "correct!")]})
        tree = mock.Mock(track_dir=None, build_dir=student.ROOT / "build" / "student")
        tree.configure.return_value = mock.Mock(ok=True)
        out = io.StringIO()
        with mock.patch.object(student, "ensure_packages"), \
                mock.patch.object(student, "load_milestones", return_value=[m]), \
                mock.patch.object(student, "student_tree", return_value=tree), \
                mock.patch.object(student, "grading_rule_findings", return_value=[]), \
                mock.patch.object(student, "run_flow", return_value=outcome), \
                mock.patch.object(student, "_remember"), contextlib.redirect_stdout(out):
            code = student.run_check(argparse.Namespace(milestone="6", track=None))
        return code, out.getvalue()

    def test_a_failing_stretch_test_is_never_all_pass(self):
        from labtool.results import Status
        code, text = self.run_check(Status.FAILED)
        self.assertNotIn("All selected checkpoints pass.", text)
        self.assertIn("Every main checkpoint passes; some stretch checkpoints do not", text)
        self.assertIn("m6/merge race", text)
        self.assertIn("likely mistake: fetch_max as a load and a store.", text)
        self.assertEqual(code, 0)      # stretch never lowers the main verdict

    def test_all_pass_when_everything_passes(self):
        from labtool.results import Status
        code, text = self.run_check(Status.PASSED)
        self.assertIn("All selected checkpoints pass.", text)
        self.assertEqual(code, 0)


class CatchesTest(unittest.TestCase):
    """Every checkpoint says what it catches, kept once (the `// Catches:` comment of its test),
    and every function a student writes is named by the first line of some checkpoint."""

    def test_every_checkpoint_has_its_catches_text_in_the_test_only(self):
        import re
        from labtool.course import load_milestones
        missing = [f"{m.slug}: {t.name}" for m in load_milestones() for t in m.tests
                   if not t.catches]
        self.assertEqual(missing, [], "tests without a `// Catches:` comment")
        root = HERE.parents[1] / "checkpoints"
        for path in root.glob("[0-9][0-9]-*/manifest.json"):
            self.assertIsNone(re.search(r'"catches"\s*:', path.read_text()),
                              f"{path}: the catches text lives in the test's comment")

    def test_every_student_function_is_named_by_a_checkpoint(self):
        import re
        from labtool.course import ROOT, load_milestones
        unnamed = []
        for m in load_milestones():
            said = " ".join(f"{t.name} {fb.likely_mistake(t.catches)}" for t in m.tests)
            for name in m.code_files():
                path = ROOT / "starter" / m.slug / name
                for function in re.findall(r'LAB_TODO\(\s*"([\w:~]+)\(', path.read_text()):
                    short = function.split("::")[-1]
                    if not re.search(rf"\b{re.escape(short)}\b", said):
                        unnamed.append(f"{m.slug}/{name}: {function}()")
        self.assertEqual(unnamed, [], "no checkpoint's first line names these functions")

    def test_memory_orders_are_compared_by_name(self):
        import re
        root = HERE.parents[1] / "checkpoints"
        bare = [f"{p.relative_to(root)}:{i}" for p in sorted(root.rglob("test_*.cpp"))
                for i, line in enumerate(p.read_text().splitlines(), 1)
                if re.search(r"CHECK\w*\(.*(==|!=)\s*std::memory_order_\w+\s*\)", line)]
        self.assertEqual(bare, [], "compare lab::named(a) == lab::named(b): doctest prints a "
                                   "bare enum as a number")

    def test_the_first_sentence_is_the_mistake(self):
        self.assertEqual(fb.likely_mistake("load() then store(count + 1). TSan does not see "
                                           "it, e.g. here."), "load() then store(count + 1).")
        self.assertEqual(fb.likely_mistake("a check, e.g. the natural one. Then more."),
                         "a check, e.g. the natural one.")
        self.assertTrue(fb.likely_mistake("x" * 500).endswith("..."))
        self.assertEqual(fb.headline("p", ""), "Checks: p.")
