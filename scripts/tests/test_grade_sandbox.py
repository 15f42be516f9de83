"""Unit tests for labtool.grade.sandbox: every mode that works on this machine contains what
it starts, enforces its limits and keeps the course tree read-only."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labtool.grade import sandbox  # noqa: E402
from labtool.grade.sandbox import Limits, Sandbox, SandboxError  # noqa: E402


def _available() -> list[Sandbox]:
    boxes = []
    for mode in sandbox.MODES:
        try:
            boxes.append(Sandbox.detect(mode))
        except SandboxError:
            pass
    return boxes


class SandboxTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-sandbox-test-"))
        os.chmod(self.tmp, 0o755)
        self.course = self.tmp / "course"
        self.course.mkdir()
        (self.course / "checkpoint.cpp").write_text("ours\n")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_auto_picks_a_mode_and_says_which(self) -> None:
        box = Sandbox.detect("auto")
        self.assertIn(box.mode, sandbox.MODES)
        self.assertIn(box.mode, box.describe())
        with self.assertRaises(SandboxError):
            Sandbox.detect("chroot")

    def test_output_exit_code_and_timeout(self) -> None:
        for box in _available():
            with self.subTest(mode=box.mode):
                res = box.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], ro=[], rw=[],
                              cwd=Path("/"), limits=Limits(wall=10), env={})
                self.assertEqual(res.returncode, 3)
                self.assertIn("out", res.output)
                self.assertIn("err", res.output)
                res = box.run(["/bin/sh", "-c", "while :; do :; done"], ro=[], rw=[],
                              cwd=Path("/"), limits=Limits(wall=1), env={})
                self.assertTrue(res.timed_out)
                self.assertLess(res.seconds, 5)

    def test_cpu_and_file_size_limits(self) -> None:
        for box in _available():
            with self.subTest(mode=box.mode):
                res = box.run(["/bin/sh", "-c", "while :; do :; done"], ro=[], rw=[],
                              cwd=Path("/"), limits=Limits(wall=20, cpu=1), env={})
                self.assertFalse(res.timed_out)
                self.assertLess(res.returncode, 0)          # SIGXCPU or SIGKILL
                out = box.writable(self.tmp / f"w-{box.mode}")
                res = box.run(["/bin/sh", "-c", f"head -c 3000000 /dev/zero > {out}/big"],
                              ro=[], rw=[out], cwd=Path("/"),
                              limits=Limits(wall=20, fsize=1 << 20), env={})
                self.assertLessEqual((out / "big").stat().st_size, 1 << 20)

    def test_background_processes_die_with_the_run(self) -> None:
        for box in _available():
            if box.mode == sandbox.NONE:
                continue   # the unsafe mode cannot promise this (documented)
            with self.subTest(mode=box.mode):
                out = box.writable(self.tmp / f"bg-{box.mode}")
                box.run(["/bin/sh", "-c", f"(setsid sh -c 'sleep 1; echo late > {out}/late' &)"
                         "; exit 0"], ro=[], rw=[out], cwd=Path("/"),
                        limits=Limits(wall=10), env={})
                time.sleep(1.5)
                self.assertFalse((out / "late").exists())

    def test_quick_runs_leave_no_zombie_that_counts_against_the_next(self) -> None:
        # bwrap's outer process exits before the sandbox's init is gone; left to PID 1, those
        # orphans stayed zombies of the sandbox uid for a second or more, and a burst of runs
        # with a low process limit failed: "Can't fork for pid 1: Resource temporarily
        # unavailable" (47 of 60 runs here, before the sandbox reaped them itself).
        for box in _available():
            if not box.switches_uid:
                continue   # without a uid of its own a run has no process limit of its own
            with self.subTest(mode=box.mode):
                for i in range(40):
                    res = box.run(["/bin/sh", "-c", "exit 0"], ro=[], rw=[], cwd=Path("/"),
                                  limits=Limits(wall=10, nproc=8), env={})
                    self.assertEqual((res.returncode, i), (0, i), res.output)

    def test_course_tree_is_read_only(self) -> None:
        for box in _available():
            if box.mode == sandbox.NONE or (box.mode == sandbox.BUBBLEWRAP
                                            and not box.switches_uid and os.geteuid() == 0):
                continue
            with self.subTest(mode=box.mode):
                res = box.run(["/bin/sh", "-c", f"echo theirs > {self.course}/checkpoint.cpp"],
                              ro=[self.course], rw=[], cwd=Path("/"), limits=Limits(wall=10),
                              env={})
                self.assertNotEqual(res.returncode, 0)
                self.assertEqual((self.course / "checkpoint.cpp").read_text(), "ours\n")

    def test_bubblewrap_has_no_network_and_hides_what_it_is_not_given(self) -> None:
        try:
            box = Sandbox.detect(sandbox.BUBBLEWRAP)
        except SandboxError:
            self.skipTest("bubblewrap does not work here")
        res = box.run(["/bin/sh", "-c", f"ls {self.course}; cat /sys/class/net/*/operstate"],
                      ro=[], rw=[], cwd=Path("/"), limits=Limits(wall=10), env={})
        self.assertNotIn("checkpoint.cpp", res.output)
        self.assertNotIn("up", res.output.split())

    def test_setpriv_seal_makes_a_folder_read_only_again(self) -> None:
        try:
            box = Sandbox.detect(sandbox.SETPRIV)
        except SandboxError:
            self.skipTest("setpriv mode needs root")
        build = box.writable(self.tmp / "build")
        res = box.run(["/bin/sh", "-c", f"echo x > {build}/exe"], ro=[], rw=[build],
                      cwd=Path("/"), limits=Limits(wall=10), env={})
        self.assertEqual(res.returncode, 0)
        box.seal(build)
        res = box.run(["/bin/sh", "-c", f"echo y > {build}/exe"], ro=[], rw=[],
                      cwd=Path("/"), limits=Limits(wall=10), env={})
        self.assertNotEqual(res.returncode, 0)
        self.assertEqual((build / "exe").read_text(), "x\n")


if __name__ == "__main__":
    unittest.main()
