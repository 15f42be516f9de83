"""The student's tools do what they say: `reset` restores the starter as shipped (not git's
HEAD), backs up what it replaces and takes an answer without a terminal; `hint --again` never
unlocks; `watch` never loses a save made while a check runs."""

import argparse
import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from labtool import hints, release, student
from labtool.console import LabError
from labtool.course import ROOT, load_milestones

M1 = load_milestones()[0]
REL = f"starter/{M1.slug}/{M1.files[0]}"


class Reset(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="lab-reset-"))
        self.shipped = (ROOT / REL).read_bytes()
        (self.root / REL).parent.mkdir(parents=True)
        (self.root / REL).write_bytes(b"// my committed solution\n")
        (self.root / release.SHIPPED_STARTER).parent.mkdir(parents=True)
        data = json.loads(release.shipped_starter_json())
        (self.root / release.SHIPPED_STARTER).write_text(json.dumps(data))
        for target in (mock.patch.object(student, "ROOT", self.root),
                       mock.patch.object(release, "ROOT", self.root),
                       mock.patch.object(student, "STATE_DIR", self.root / ".lab")):
            target.start()
            self.addCleanup(target.stop)

    def reset(self, yes=False, stdin="") -> tuple[int, str]:
        out = io.StringIO()
        fake_in = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), mock.patch("sys.stdin", fake_in):
            code = student.run_reset(argparse.Namespace(milestone="1", yes=yes))
        return code, out.getvalue()

    def test_restores_the_shipped_starter_not_git_head(self):
        # No git repository at all here: what the student committed is not "as shipped".
        code, text = self.reset(yes=True)
        self.assertEqual(code, 0, text)
        self.assertEqual((self.root / REL).read_bytes(), self.shipped)
        backups = list((self.root / ".lab" / "backup").rglob(Path(REL).name))
        self.assertEqual([b.read_bytes() for b in backups], [b"// my committed solution\n"])
        self.assertIn("already as shipped", self.reset(yes=True)[1])

    def test_two_resets_in_one_second_keep_both_backups(self):
        self.reset(yes=True)
        (self.root / REL).write_bytes(b"// second attempt\n")
        self.reset(yes=True)
        kept = sorted(b.read_bytes() for b in (self.root / ".lab" / "backup").rglob("*.hpp"))
        self.assertEqual(kept, [b"// my committed solution\n", b"// second attempt\n"])

    def test_without_a_terminal_an_answer_on_the_input_is_enough(self):
        code, _ = self.reset(stdin="y\n")
        self.assertEqual(code, 0)
        self.assertEqual((self.root / REL).read_bytes(), self.shipped)

    def test_without_a_terminal_and_without_an_answer_nothing_changes(self):
        with self.assertRaisesRegex(LabError, "--yes"):
            self.reset(stdin="")
        self.assertEqual((self.root / REL).read_bytes(), b"// my committed solution\n")
        code, _ = self.reset(stdin="n\n")
        self.assertEqual(code, 1)
        self.assertEqual((self.root / REL).read_bytes(), b"// my committed solution\n")

    def test_a_damaged_or_missing_shipped_copy_is_a_clear_error(self):
        path = self.root / release.SHIPPED_STARTER
        data = json.loads(path.read_text())
        data["files"][REL]["text"] += "// tampered\n"
        path.write_text(json.dumps(data))
        with self.assertRaisesRegex(LabError, "no intact copy"):
            self.reset(yes=True)
        path.unlink()
        with self.assertRaisesRegex(LabError, "missing"):
            self.reset(yes=True)
        self.assertEqual((self.root / REL).read_bytes(), b"// my committed solution\n")


class Release(unittest.TestCase):
    def test_the_release_ships_every_student_file_and_marks_stretch_files(self):
        overrides = release.release_overrides()
        files = json.loads(overrides[release.SHIPPED_STARTER])["files"]
        expected = {f"starter/{m.slug}/{f}" for m in load_milestones() for f in m.files}
        self.assertEqual(set(files), expected)
        readme = overrides["README.md"].decode()
        for m in load_milestones():
            for f in m.stretch_files:
                self.assertIn(f"`starter/{m.slug}/{f}` (stretch, optional)", readme)


class HintAgain(unittest.TestCase):
    def run_hint(self, state: dict, again: bool) -> str:
        out = io.StringIO()
        with mock.patch.object(hints, "load_state", return_value=state), \
                mock.patch.object(hints, "save_state") as save, contextlib.redirect_stdout(out):
            hints.run_hint(argparse.Namespace(milestone="1", again=again, stretch=None))
        self.saved = save.call_args[0][0] if save.called else None
        return out.getvalue()

    def test_again_with_nothing_unlocked_unlocks_nothing(self):
        text = self.run_hint({}, again=True)
        self.assertNotIn("Hint 1", text)
        self.assertIn("No hint unlocked yet", text)
        self.assertIsNone(self.saved)

    def test_again_shows_what_is_unlocked_and_no_more(self):
        text = self.run_hint({"hints": {M1.slug: 2}}, again=True)
        self.assertIn("Hint 2/", text)
        self.assertNotIn("Hint 3/", text)
        self.assertIsNone(self.saved)
        self.run_hint({"hints": {M1.slug: 2}}, again=False)
        self.assertEqual(self.saved["hints"][M1.slug], 3)


class Watch(unittest.TestCase):
    def test_a_save_during_a_run_starts_another_run(self):
        root = Path(tempfile.mkdtemp(prefix="lab-watch-"))
        folder = root / "starter" / M1.slug
        folder.mkdir(parents=True)
        (folder / M1.files[0]).write_text("v1")
        runs = []

        def check(_args):
            runs.append(1)
            if len(runs) == 1:      # the student saves while the first check runs
                (folder / M1.files[0]).write_text("v2, saved during the run")
            return 1

        def no_waiting(_seconds):
            raise AssertionError("watch waited although a save was pending")

        with mock.patch.object(student, "ROOT", root), \
                mock.patch.object(student, "run_check", side_effect=check), \
                mock.patch.object(student.shutil, "which", return_value=None), \
                mock.patch.object(student.time, "sleep", side_effect=no_waiting), \
                contextlib.redirect_stdout(io.StringIO()):
            code = student.run_watch(argparse.Namespace(milestone="1", interval=0.01,
                                                        max_runs=2, track=None))
        self.assertEqual((code, len(runs)), (0, 2))


class PackageInstall(unittest.TestCase):
    """A missing package is installed with one line of output, apt's own only on failure."""

    def install(self, returncode: int) -> tuple[str, list]:
        from labtool import packages
        calls = []

        def run(cmd, **kw):
            calls.append((cmd, kw))
            return mock.Mock(returncode=returncode if "install" in cmd else 0,
                             stdout="Reading package lists...\n", stderr="E: no such package")
        err = io.StringIO()
        with mock.patch.object(packages, "missing_packages", return_value=["doctest-dev"]), \
                mock.patch.object(packages.os, "geteuid", return_value=0), \
                mock.patch.object(packages.subprocess, "run", side_effect=run), \
                contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
            try:
                packages.ensure_packages({"doctest-dev": None})
            except LabError as exc:
                err.write(f"LabError: {exc}")
        return err.getvalue(), calls

    def test_one_line_and_no_apt_output(self):
        text, calls = self.install(0)
        self.assertEqual(len(text.strip().splitlines()), 1, text)
        self.assertTrue(all(kw.get("capture_output") for _, kw in calls), calls)

    def test_apt_output_when_it_fails(self):
        text, _ = self.install(100)
        self.assertIn("could not install doctest-dev", text)
        self.assertIn("E: no such package", text)


class CheckRunner(unittest.TestCase):
    def test_single_threaded_checkpoints_run_side_by_side_concurrency_ones_alone(self):
        from labtool import ctest
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult
        tests = [Test("quick", 1), Test("race", 2, True), Test("quick too", 1)]
        m = Milestone(1, "01-x", "X", [], [], tests)
        results = [TestResult(m, t) for t in tests]
        calls = []

        def fake(tree, names, timeout=3600, parallel=1):
            calls.append((sorted(names), parallel))
            return {n: ctest.CTestRun(Status.PASSED, 0.1, "") for n in names}
        with mock.patch.object(ctest, "run_ctest", side_effect=fake), \
                mock.patch.object(ctest, "side_by_side", return_value=2):
            ctest.CTestRunner().run(mock.Mock(), results)
        self.assertEqual(calls, [(["m1/quick", "m1/quick too"], 2), (["m1/race"], 1)])
        self.assertTrue(all(r.status is Status.PASSED for r in results))
