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

    def test_auto_never_picks_none(self) -> None:
        # A stronger mode that fails (here: made to fail) is an error, never a quiet fallback
        # to running student code unconfined.
        original = Sandbox._probe
        try:
            Sandbox._probe = lambda self, paths, private: "" if self.mode == sandbox.NONE \
                else "made to fail"
            with self.assertRaises(SandboxError) as err:
                Sandbox.detect("auto")
            self.assertIn("--sandbox none", str(err.exception))
            self.assertEqual(Sandbox.detect("none").mode, sandbox.NONE)
        finally:
            Sandbox._probe = original

    def test_setpriv_refuses_when_a_private_path_is_readable(self) -> None:
        if os.geteuid() != 0:
            self.skipTest("setpriv mode needs root")
        secret = self.tmp / "solution.hpp"
        secret.write_text("the answer\n")
        os.chmod(secret, 0o644)
        with self.assertRaises(SandboxError) as err:
            Sandbox.detect(sandbox.SETPRIV, [self.tmp], [secret])
        self.assertIn(str(secret), str(err.exception))
        os.chmod(secret, 0o640)
        self.assertEqual(Sandbox.detect(sandbox.SETPRIV, [self.tmp], [secret]).mode,
                         sandbox.SETPRIV)

    def test_memory_cap_is_reported_as_out_of_memory(self) -> None:
        for box in _available():
            if box.cgroups is None:
                continue   # fallback: memory is not capped (documented)
            with self.subTest(mode=box.mode):
                res = box.run(["/usr/bin/python3", "-c", "b = bytearray(400 << 20)"], ro=[], rw=[],
                              cwd=Path("/"), limits=Limits(wall=30, ram=128 << 20), env={})
                self.assertTrue(res.oom, res.output)
                self.assertNotEqual(res.returncode, 0)
                res = box.run(["/usr/bin/python3", "-c", "b = bytearray(16 << 20)"], ro=[], rw=[],
                              cwd=Path("/"), limits=Limits(wall=30, ram=128 << 20), env={})
                self.assertEqual((res.returncode, res.oom), (0, False), res.output)

    def test_uid_leaves_nothing_and_owns_nothing_after_a_run(self) -> None:
        # Files in the shared writable folders, System V IPC, a zombie leader whose thread
        # runs on, and the writable folder handed to the run: all gone or root's afterwards.
        for box in _available():
            if not box.switches_uid:
                continue
            for cgroups in ((box.cgroups, None) if box.cgroups else (None,)):
                with self.subTest(mode=box.mode, cgroups=cgroups is not None):
                    box.cgroups = cgroups
                    out = box.writable(self.tmp / f"rw-{box.mode}-{cgroups is None}")
                    tag = f"lab-test-left-{os.getpid()}"
                    script = (
                        "import contextlib, ctypes, os, threading, time\n"
                        "for d in ('/dev/shm', '/var/tmp'):  # bubblewrap has no /var/tmp\n"
                        f"    with contextlib.suppress(OSError): open(d + '/{tag}', 'w')\n"
                        f"open('{out}/made', 'w')\n"
                        "libc = ctypes.CDLL(None); libc.shmget(0x4c41424d, 4096, 0o1666)\n"
                        "if os.fork() == 0:\n"
                        "    os.setsid()\n"
                        f"    threading.Thread(target=lambda: [open('{out}/late', 'w') if "
                        "time.sleep(1.5) is None else 0]).start()\n"
                        "    libc.syscall(60, 0)\n"
                        "time.sleep(0.5)\n")
                    res = box.run(["/usr/bin/python3", "-c", script], ro=[], rw=[out],
                                  cwd=Path("/"), limits=Limits(wall=20), env={})
                    self.assertEqual(res.returncode, 0, res.output)
                    time.sleep(2)
                    self.assertFalse((out / "late").exists())
                    self.assertFalse(os.path.exists(f"/dev/shm/{tag}"))
                    self.assertFalse(os.path.exists(f"/var/tmp/{tag}"))
                    self.assertNotIn(str(0x4c41424d), Path("/proc/sysvipc/shm").read_text())
                    for path in (out, out / "made"):
                        st = os.stat(path)
                        self.assertEqual((st.st_uid, st.st_mode & 0o022), (0, 0), path)


if __name__ == "__main__":
    unittest.main()
