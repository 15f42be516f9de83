"""The grader's view of the test process: the harness's record (records.py), the linked-symbol
rule (imports.py) and the sanitizer reports it symbolizes itself (symbolize.py)."""

import os
import tempfile
import unittest
from pathlib import Path

from labtool.course import Milestone, load_milestones
from labtool.grade import imports, records
from labtool.grade.runner import _judge
from labtool.grade.symbolize import symbolize
from labtool.results import Status

NONCE = 12345


def _line(**fields) -> bytes:
    f = dict(nonce=NONCE, verdict="ran", kind="-", filter="on", started=1, ended=1, cases=1,
             cases_failed=0, asserts=3, asserts_failed=0, exception=0, result=0,
             name="a test".encode().hex(), file="checkpoints/01-x/t.cpp".encode().hex())
    f.update(fields)
    return ("lab-record 1 " + " ".join(f"{k}={v}" for k, v in f.items()) + "\n").encode()


class Record(unittest.TestCase):
    def test_one_record_of_a_passing_run_passes(self):
        rec, why = records.parse(_line(), NONCE)
        self.assertEqual(why, "")
        self.assertEqual(records.verdict(rec, "a test", "01-x"), (True, ""))

    def test_a_second_line_is_tampering(self):
        rec, why = records.parse(_line() + _line(), NONCE)
        self.assertIsNone(rec)
        self.assertIn("2 lines", why)

    def test_no_record_another_nonce_an_early_end_or_no_filter_fail(self):
        for data, expected in ((b"", "left no record"),
                               (_line(nonce=1), "does not belong to this run"),
                               (_line(verdict="ended-early"), "ended before"),
                               (_line(filter="off"), "seccomp"),
                               (b"lab-record 1 nonce=12345 verdict=ran\n", "malformed")):
            rec, why = records.parse(data, NONCE)
            self.assertIsNone(rec)
            self.assertIn(expected, why)

    def test_the_record_decides_what_passed(self):
        for fields, expected in ((dict(asserts_failed=1), "failed"),
                                 (dict(asserts=0), "no assertion"),
                                 (dict(exception=1), "exception"),
                                 (dict(started=2, cases=2), "test case"),
                                 (dict(name="other".encode().hex()), "test case"),
                                 (dict(file="x.cpp".encode().hex()), "not the course's"),
                                 (dict(result=1), "failed")):
            rec, _ = records.parse(_line(**fields), NONCE)
            ok, why = records.verdict(rec, "a test", "01-x")
            self.assertFalse(ok)
            self.assertIn(expected, why)

    def test_the_fifo_keeps_every_line_written_after_the_writers_are_gone(self):
        with tempfile.TemporaryDirectory() as folder:
            fifo = records.RecordFifo(Path(folder), Path(folder))
            try:
                for _ in range(2):
                    fd = os.open(fifo.env["LAB_RECORD"], os.O_WRONLY | os.O_NONBLOCK)
                    os.write(fd, _line())
                    os.close(fd)
                self.assertEqual(fifo.drain(), _line() * 2)
                self.assertEqual(fifo.drain(), b"")
            finally:
                fifo.close()


class Judge(unittest.TestCase):
    """What the process printed never decides a run; the harness's record does."""
    XML_OK = (True, "", [])

    def judge(self, code, output, data):
        return _judge(code, output, 1.0, self.XML_OK, None, records.parse(data, NONCE),
                      "a test", "01-x")

    def test_printed_sanitizer_or_tsan_start_text_relabels_nothing(self):
        for text in ("WARNING: ThreadSanitizer: data race\n",
                     "==1==ThreadSanitizer: unexpected memory mapping 0x1-0x2\n"):
            self.assertIs(self.judge(0, text, _line()).status, Status.PASSED)

    def test_inconclusive_needs_the_harness_record(self):
        out = "inconclusive: the threads did not overlap\n"
        claimed = self.judge(77, out, b"")
        self.assertIs(claimed.status, Status.FAILED)
        self.assertIn("did not record it", claimed.reason)
        recorded = self.judge(77, out, _line(verdict="not-run", kind="inconclusive",
                                             result=77, ended=0))
        self.assertIs(recorded.status, Status.INCONCLUSIVE)

    def test_a_forged_line_beside_the_harness_record_fails_the_run(self):
        run = self.judge(0, "", _line() + _line())
        self.assertIs(run.status, Status.NO_REPORT)


class Imports(unittest.TestCase):
    def setUp(self):
        self.allow = imports.allow_list()
        self.m1 = next(m for m in load_milestones() if m.label == "m1")

    def test_honest_code_links_against_the_standard_library_and_cmath(self):
        needed = {"_ZNSt6thread4joinEv", "sqrt", "memcpy", "__tsan_read8", "_Znwm",
                  "__cxa_guard_acquire", "_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE"
                  "7compareEPKc"}
        self.assertEqual(imports.findings(self.m1, needed, {}, self.allow), [])

    def test_exits_processes_locks_and_libatomic_are_refused_with_the_file(self):
        with tempfile.TemporaryDirectory() as folder:
            header = Path(folder) / "atomic_counter.hpp"
            header.write_text("inline void f() { errx(0, \"x\"); }\n")
            own = {str(header): "starter/01-seq-cst-counter/atomic_counter.hpp"}
            found = imports.findings(self.m1, {"errx", "wordexp", "fork", "sem_wait",
                                               "mtx_lock", "pthread_rwlock_wrlock",
                                               "__atomic_load"}, own, self.allow)
        self.assertEqual(len(found), 7)
        self.assertTrue(any(f.startswith("starter/01-seq-cst-counter/atomic_counter.hpp: "
                                         "'errx' (linked)") for f in found))
        self.assertTrue(any("'sem_wait'" in f and "lock-free" in f for f in found))

    def test_a_lock_is_accepted_where_the_milestone_is_not_lock_free(self):
        m = Milestone(number=5, slug="05-x", title="", files=[], depends=[], tests=[])
        self.assertFalse(imports.lock_free(m))
        self.assertTrue(self.allow.allowed("m5", "_ZNSt18condition_variable10notify_allEv",
                                           lock_free=False))
        self.assertFalse(self.allow.allowed("m1", "_ZNSt18condition_variable10notify_allEv",
                                            lock_free=True))

    def test_nm_output_is_read_per_object(self):
        table = imports.symbols("a.o: foo U\na.o: bar T 10 4\nb.o: bar U\nb.o: baz w\n"
                                "b.o: qux W 20 4\n")
        self.assertEqual(table["a.o"], ({"foo"}, {"bar"}))
        self.assertEqual(table["b.o"], ({"bar", "baz"}, {"qux"}))
        self.assertEqual(imports.undefined_symbols([Path("a.o"), Path("b.o")],
                                                   lambda argv: "a.o: foo U\na.o: bar T 1 1\n"
                                                   "b.o: bar U\n"), {"foo"})


class Symbolize(unittest.TestCase):
    REPORT = ("WARNING: ThreadSanitizer: data race (pid=1)\n"
              "  Write of size 8 at 0x1 by thread T2:\n"
              "    #0 <null> <null> (m1_checkpoints+0xd47e0) (BuildId: ab)\n"
              "    #1 <null> <null> (libc.so.6+0x27249) (BuildId: cd)\n")

    def test_frames_of_the_executable_are_resolved_with_inlined_frames_expanded(self):
        calls = []

        def run(argv):
            calls.append(argv)
            return ("metrics::AtomicCounter::increment()\n/t/a.hpp:33:5\n"
                    "operator()\n/c/test.cpp:74:9\n\n")
        out = symbolize(self.REPORT, Path("/b/m1_checkpoints"), run)
        self.assertIn("--obj=/b/m1_checkpoints", calls[0])
        self.assertIn("    #0 metrics::AtomicCounter::increment() /t/a.hpp:33:5 "
                      "(m1_checkpoints+0xd47e0) (BuildId: ab)", out)
        self.assertIn("    #1 operator() /c/test.cpp:74:9 (m1_checkpoints+0xd47e0)", out)
        self.assertIn("    #2 <null> <null> (libc.so.6+0x27249)", out)

    def test_globals_are_named_and_stack_artifacts_dropped(self):
        report = (self.REPORT + "  Location is global '<null>' at 0x000000000000 "
                  "(m1_checkpoints+0x14fe6a8)\n  Location is stack of main thread.\n"
                  "  Location is global '<null>' at 0x000000000000 ([stack]+0x1f5b8)\n")

        def run(argv):
            self.assertEqual(argv[-1], "DATA 0x14fe6a8")
            return "f()\n/t/a.hpp:3:1\n\nrace_target\n22304192 8\n\n"
        out = symbolize(report, Path("/b/m1_checkpoints"), run)
        self.assertIn("Location is global 'race_target' (m1_checkpoints+0x14fe6a8)", out)
        self.assertNotIn("[stack]", out)

    def test_a_failed_symbolizer_leaves_the_report_as_it_was(self):
        self.assertEqual(symbolize(self.REPORT, Path("/b/m1_checkpoints"), lambda argv: None),
                         self.REPORT)


if __name__ == "__main__":
    unittest.main()
