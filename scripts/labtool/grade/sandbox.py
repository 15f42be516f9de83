"""Runs the processes that student code can influence (configure, build, checkpoint runs) in a
sandbox, with limits, and makes sure every one of them is gone before the grader goes on.

Three modes, strongest first; `Sandbox.detect()` picks the strongest that works here and
`Sandbox.mode` / `Sandbox.describe()` say which (the reports record it):

  bubblewrap  bwrap(1): its own user, PID, network, IPC and mount namespaces. Only the paths
              given are visible (read-only unless named writable), /tmp is private, there is
              no network, and when the command ends (or is killed) its PID namespace dies with
              everything it started (setsid children included). As root the grader first
              switches to a sandbox uid (setpriv), so the sandboxed processes are another user
              outside the namespace too.
  setpriv     no namespaces (an unprivileged container, e.g. Docker's default seccomp profile),
              but root: the command runs as a sandbox uid and gid of its own with rlimits;
              file permissions keep it out of the course's private files (privacy.py makes
              them unreadable to it, and the probe proves it, or the mode refuses), and
              afterwards every process of that uid is killed and everything it left in the
              shared writable folders and in System V IPC is removed (leftovers.py). The
              network and the world-readable files of the machine stay visible.
  none        neither (a student grading their own code): rlimits and a process group only.
              Never chosen by `auto`: only `--sandbox none` asks for it.

Limits: a cgroup per run (cgroups.py: memory, processes, killed whole) where the machine
allows it; RLIMIT_CPU, RLIMIT_AS (not for TSan runs, which reserve terabytes of address space),
RLIMIT_FSIZE, RLIMIT_NPROC (sandbox uid only: the fallback without cgroups), RLIMIT_NOFILE,
RLIMIT_MSGQUEUE 0, no core files, and a wall-clock timeout that kills the whole sandbox. A
writable folder is the run's uid's only while the run lasts (leftovers.py).
"""

from __future__ import annotations

import fcntl
import os
import resource
import select
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .bwrap import bwrap_args, make_reachable
from .cgroups import CgroupLayout, RunCgroup
from .leftovers import hand_over, remove_leftovers, take_back
from .reaping import (Capture, alive, become_subreaper, child_pid, kill_group, kill_uid,
                      pids_of_uid, read_ready, reap_orphans)

BUBBLEWRAP, SETPRIV, NONE = "bubblewrap", "setpriv", "none"
MODES = (BUBBLEWRAP, SETPRIV, NONE)
# Sandbox uids: one per concurrent run, also across grader processes on one machine (a lock
# file per uid), so that "kill every process of the uid" never hits a neighbour. Unnamed uids,
# far from Debian's system and user ranges.
UID_BASE = int(os.environ.get("LAB_SANDBOX_UID", "62000"))
UID_SLOTS = 64
LOCK_DIR = Path("/run/lab-sandbox")


class SandboxError(Exception):
    """The sandbox itself cannot work here (not the submission's fault); says how to fix."""


@dataclass
class Limits:
    wall: float                         # seconds; the whole sandbox is killed after this
    cpu: int | None = None              # seconds of CPU per process (RLIMIT_CPU)
    memory: int | None = None           # bytes of address space per process (RLIMIT_AS)
    fsize: int = 512 << 20              # bytes of the largest file a process may write
    nproc: int = 512                    # processes and threads of the sandbox uid (and the
                                        # run's cgroup: pids.max)
    nofile: int = 1024
    ram: int = 4 << 30                  # bytes of memory of the whole run (cgroup memory cap)


@dataclass
class Result:
    returncode: int                     # negative: killed by that signal (in every mode)
    output: str                         # stdout + stderr, capped, decoded with replacement
    seconds: float
    timed_out: bool = False
    mode: str = NONE
    oom: bool = False                   # the kernel killed part of it at its memory cap

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass
class Sandbox:
    mode: str = NONE
    reason: str = ""                    # why this mode (the stronger ones failed because ...)
    uid_base: int = UID_BASE
    cgroups: CgroupLayout | None = None     # None: no cgroups here (why: cgroups_why)
    cgroups_why: str = ""
    _held: dict[int, int] = field(default_factory=dict)     # uid -> its lock file's fd
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- choosing a mode -------------------------------------------------------------------

    @classmethod
    def detect(cls, wanted: str = "auto", probe_paths: list[Path] | None = None,
               private: list[Path] | None = None,
               before_setpriv: Callable[[], None] | None = None) -> "Sandbox":
        """The strongest mode that works (or exactly `wanted`; SandboxError if it cannot).
        `auto` never picks `none`: grading without a sandbox must be asked for. private:
        paths the sandbox uid must not be able to read (the setpriv mode refuses otherwise);
        before_setpriv, called just before that mode is tried, makes them unreadable."""
        if wanted not in ("auto", *MODES):
            raise SandboxError(f"--sandbox {wanted}: choose auto, {', '.join(MODES)}")
        paths = [Path(p) for p in (probe_paths or [])]
        reasons = []
        layout, why_not = CgroupLayout.detect()
        for mode in (BUBBLEWRAP, SETPRIV, NONE):
            if wanted not in ("auto", mode) or (wanted == "auto" and mode == NONE):
                continue
            box = cls(mode=mode, cgroups=layout, cgroups_why=why_not)
            if mode == SETPRIV and before_setpriv is not None and os.geteuid() == 0:
                before_setpriv()
            why = box._probe(paths, [Path(p) for p in private or []])
            if not why:
                box.reason = "; ".join(reasons)
                return box
            reasons.append(f"{mode}: {why}")
            if wanted == mode:
                raise SandboxError(f"the {mode} sandbox does not work here: {why}")
        raise SandboxError("no sandbox works here (" + "; ".join(reasons) + "). Grading "
                           "untrusted code needs one; to grade your own code without it, "
                           "pass --sandbox none")

    def _probe(self, paths: list[Path], private: list[Path]) -> str:
        """'' when this mode works here; otherwise why not."""
        if self.mode == NONE:
            return ""
        if self.mode == SETPRIV and os.geteuid() != 0:
            return "needs root (to run as another uid)"
        if self.mode == SETPRIV and not shutil.which("setpriv"):
            return "setpriv is not installed (apt-get install util-linux)"
        if self.mode == BUBBLEWRAP and not shutil.which("bwrap"):
            return "bwrap is not installed (apt-get install bubblewrap)"
        if os.geteuid() == 0 and not shutil.which("setpriv"):
            return "setpriv is not installed (apt-get install util-linux)"
        # The sandboxed user must reach every path it will be given (a course tree under a
        # private home folder is not).
        # In the setpriv mode it must not read any private path (permissions are its only wall).
        check = ('while [ "$1" != -- ]; do [ -r "$1" ] && [ -x "$1" ] || '
                 '{ echo "the sandbox user cannot read $1 (make it world-readable)"; exit 1; }; '
                 'shift; done; shift; for p in "$@"; do ! [ -r "$p" ] || { echo "the sandbox '
                 'user can read $p, which must stay private (make it unreadable to others: '
                 'chmod o-rwx)"; exit 1; }; done')
        hidden = private if self.mode == SETPRIV else []
        try:
            res = self.run(["/bin/sh", "-c", check, "sh", *map(str, paths), "--",
                            *map(str, hidden)], ro=paths, rw=[],
                           cwd=Path("/"),
                           limits=Limits(wall=20, cpu=10, nproc=64), env={"PATH": "/usr/bin:/bin"})
        except (OSError, SandboxError) as exc:
            return str(exc)
        if not res.ok:
            return (res.output.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
        return ""

    def describe(self) -> str:
        """One line for the reports: the mode and what it means."""
        text = {
            BUBBLEWRAP: "bubblewrap (own user, PID, mount and network namespaces; another uid; "
                        "course tree read-only; rlimits)" if os.geteuid() == 0 else
                        "bubblewrap (own user, PID, mount and network namespaces, same uid "
                        "outside; course tree read-only; rlimits)",
            SETPRIV: "setpriv (a uid and gid of its own, rlimits, the course's private files "
                     "unreadable to it, every process and file of that uid removed after each "
                     "step; no namespaces, so the network is reachable)",
            NONE: "none (rlimits only: NOT safe for untrusted code)",
        }[self.mode]
        if self.cgroups is not None:
            return text + "; memory and processes capped by a cgroup per run"
        return text + (f"; no cgroups ({self.cgroups_why}): processes capped by RLIMIT_NPROC"
                       " (another uid only), memory NOT capped")

    # --- uids ------------------------------------------------------------------------------

    @property
    def switches_uid(self) -> bool:
        return self.mode in (BUBBLEWRAP, SETPRIV) and os.geteuid() == 0

    def _take_uid(self) -> int | None:
        """A sandbox uid no other run (of this or another grader process) is using: the first
        whose lock file this process can lock. Leftovers of a crashed run of it are killed."""
        if not self.switches_uid:
            return None
        LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + 600
        while True:
            for uid in range(self.uid_base, self.uid_base + UID_SLOTS):
                with self._lock:
                    if uid in self._held:
                        continue
                    fd = os.open(LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        os.close(fd)
                        continue
                    self._held[uid] = fd
                self._reap(uid, None)
                return uid
            if time.monotonic() > deadline:
                raise SandboxError(f"all {UID_SLOTS} sandbox uids are busy (other graders?)")
            time.sleep(0.2)

    def _give_uid(self, uid: int | None) -> None:
        if uid is not None:
            with self._lock:
                fd = self._held.pop(uid)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def writable(self, path: Path) -> Path:
        """Creates `path` (if needed). It is the run's only while a run that names it writable
        lasts (hand_over / take_back in _run)."""
        path.mkdir(parents=True, exist_ok=True)
        return path

    def seal(self, path: Path, private: bool = False) -> None:
        """Makes a folder root's again, not writable by any sandbox uid (private: not even
        readable); for folders a grader wrote itself (_run does it after each run)."""
        if self.switches_uid:
            take_back(path, private)

    # --- running ---------------------------------------------------------------------------

    def run(self, argv: list[str], *, ro: list[Path], rw: list[Path], cwd: Path,
            limits: Limits, env: dict[str, str], hide: list[Path] | None = None,
            tmp: Path | None = None) -> Result:
        """Runs argv in the sandbox and returns only after every process it started is gone.

        ro / rw: host paths visible to the command (read-only / writable), at the same path.
        hide: folders under an ro path that stay invisible (an empty folder in their place).
        tmp: a host folder that is the command's /tmp (default: a private empty one). Outside
        bubblewrap, ro/rw/hide are not mounts: the sandbox uid's file permissions protect the
        rest (see seal() and writable())."""
        uid = self._take_uid()
        try:
            return self._run(argv, ro, rw, cwd, limits, dict(env), hide or [], tmp, uid)
        finally:
            self._give_uid(uid)

    def _run(self, argv, ro, rw, cwd, limits, env, hide, tmp, uid) -> Result:
        info_r = info_w = None
        prefix: list[str] = []
        if uid is not None:
            # A gid of its own too: no file of the machine is the run's group's.
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                      "--inh-caps=-all", "--"]
        if self.mode == BUBBLEWRAP:
            make_reachable([*ro, *rw, cwd, tmp] if uid is not None else [])
            info_r, info_w = os.pipe()
            cmd = prefix + bwrap_args(ro, rw, cwd, hide, tmp, info_w) + ["--", *argv]
            env.setdefault("TMPDIR", "/tmp")
        else:
            cmd = prefix + list(argv)
            if tmp is not None:
                env["TMPDIR"] = str(tmp)
        env.setdefault("HOME", env.get("TMPDIR", "/tmp"))
        env.setdefault("PATH", "/usr/bin:/bin")
        nproc = limits.nproc if uid is not None else None
        if self.mode != NONE:
            become_subreaper()
        group = None
        if self.cgroups is not None:
            try:
                group = RunCgroup(self.cgroups, limits.ram, limits.nproc)
            except OSError as exc:
                raise SandboxError(f"cannot create the run's cgroup: {exc}") from exc
        mine = [*rw, *([tmp] if tmp is not None else [])]
        for path in mine if uid is not None else []:
            hand_over(path, uid)

        def limit_child() -> None:
            if group is not None:
                group.join()
            os.umask(0o022)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if uid is not None:
                resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.fsize, limits.fsize))
            resource.setrlimit(resource.RLIMIT_NOFILE, (limits.nofile, limits.nofile))
            if limits.cpu:
                resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu, limits.cpu + 5))
            if limits.memory:
                resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
            if nproc:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

        start = time.monotonic()
        timed_out = False
        chunks = Capture()
        try:
            proc = subprocess.Popen(
                cmd, cwd=str(cwd) if self.mode != BUBBLEWRAP else "/",
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                preexec_fn=limit_child, pass_fds=(info_w,) if info_w is not None else ())
        except (OSError, subprocess.SubprocessError) as exc:
            for fd in (info_r, info_w):
                if fd is not None:
                    os.close(fd)
            self._after(uid, group, mine)
            raise SandboxError(f"cannot start {cmd[0]}: {exc}") from exc
        if info_w is not None:
            os.close(info_w)
        inner_pid = None
        info_buf = b""
        out_fd = proc.stdout.fileno()
        deadline = start + limits.wall
        try:
            while proc.poll() is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                streams = [out_fd] + ([info_r] if info_r is not None and inner_pid is None
                                      else [])
                ready, _, _ = select.select(streams, [], [], min(left, 0.2))
                for fd in ready:
                    data = os.read(fd, 65536)
                    if fd == info_r:
                        info_buf += data
                        inner_pid = child_pid(info_buf) if data else -1
                    else:
                        chunks.add(data)
        finally:
            kill_group(proc)
            if group is not None and not group.kill():
                raise SandboxError("processes of the run's cgroup survived SIGKILL for 10 s")
            proc.wait()
            if inner_pid is None and info_r is not None:
                inner_pid = child_pid(read_ready(info_r, 0.5))
            # Everything the command left behind dies before its output is read to the end
            # (a background process could otherwise hold the pipe open, or write later).
            self._reap(uid, inner_pid if inner_pid and inner_pid > 0 else None)
            end = time.monotonic() + 2
            while time.monotonic() < end:
                ready, _, _ = select.select([out_fd], [], [], max(0.0, end - time.monotonic()))
                if not ready:
                    break
                data = os.read(out_fd, 65536)
                if not data:
                    break
                chunks.add(data)
            proc.stdout.close()
            if info_r is not None:
                os.close(info_r)
            oom = group is not None and group.oom_killed()
            self._after(uid, group, mine)
        code = proc.returncode
        if self.mode == BUBBLEWRAP and 128 < code <= 128 + 64:
            code = 128 - code     # bwrap reports a child killed by signal N as 128 + N
        return Result(code if not timed_out else -signal.SIGKILL, chunks.text(),
                      time.monotonic() - start, timed_out, self.mode, oom)

    def _after(self, uid: int | None, group: RunCgroup | None, mine: list[Path]) -> None:
        """After a run: its cgroup gone, its folders root's again, and (with a uid of its own)
        nothing it left in the machine's shared folders or System V IPC."""
        if group is not None:
            group.remove()
        if uid is None:
            return
        for path in mine:
            take_back(path)
        if self.mode == BUBBLEWRAP:
            return      # its /tmp, /dev and IPC were its own; it saw no other writable folder
        failed = remove_leftovers(uid)
        if failed:
            raise SandboxError("cannot remove what the sandbox uid left: " + "; ".join(failed[:3]))

    def _reap(self, uid: int | None, inner_pid: int | None) -> None:
        """Returns when no process of this run is left: every process of the sandbox uid is
        killed (setpriv, and bubblewrap as root), or the PID namespace's init is gone, and
        the zombies this process adopted are reaped (they would count against the next run's
        RLIMIT_NPROC)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            zombies = reap_orphans(uid, inner_pid)
            left = pids_of_uid(uid) if uid is not None else []
            if inner_pid is not None and alive(inner_pid):
                left.append(inner_pid)
            if not left and not zombies:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if uid is not None and left:
                kill_uid(uid)       # kill -9 -1 as that uid: whatever /proc did not show
            time.sleep(0.02)
        raise SandboxError("processes of the sandbox survived SIGKILL for 10 s")
