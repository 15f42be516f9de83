"""Process helpers of the sandbox (sandbox.py): capped output capture, bwrap's info pipe,
and killing and reaping what a sandboxed command left behind."""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import time

MAX_CAPTURE = 512 * 1024          # bytes of a command's output kept (head and tail)


class Capture:
    """Keeps the first and the last MAX_CAPTURE/2 bytes of a stream."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        half = MAX_CAPTURE // 2
        if len(self.head) < half:
            take = half - len(self.head)
            self.head += data[:take]
            data = data[take:]
        if data:
            self.tail += data
            if len(self.tail) > half:
                self.dropped += len(self.tail) - half
                del self.tail[:len(self.tail) - half]

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes of output cut ...]\n".encode() \
            if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", errors="replace")


def child_pid(info: bytes) -> int | None:
    try:
        return int(json.loads(info.decode() or "{}").get("child-pid"))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def read_ready(fd: int, timeout: float) -> bytes:
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    """Running, or a zombie thread-group leader whose other threads still run (a SIGKILL to
    its pid reaches them; a check of the leader's state alone would let them live)."""
    state = _state(pid)[0]
    if state == b"Z":
        try:
            return any(_state(int(t))[0] not in (b"", b"Z") and int(t) != pid
                       for t in os.listdir(f"/proc/{pid}/task"))
        except OSError:
            return False
    return state != b""


def kill_uid(uid: int) -> None:
    """kill(-1, SIGKILL) as `uid`: every process that uid may signal, which /proc's view
    cannot hide (the fallback when there is no cgroup to kill)."""
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                    "kill", "-KILL", "-1"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)


PR_SET_CHILD_SUBREAPER = 36      # prctl(2)
_subreaper = False


def become_subreaper() -> None:
    """Makes this process the parent of every orphan among its descendants (prctl(2),
    PR_SET_CHILD_SUBREAPER), so that the sandbox can reap them itself.

    Why: bwrap's outer process exits as soon as the sandbox's init has reported its exit code,
    before that init is gone, so the init is orphaned. Left to PID 1 it stays a zombie of the
    sandbox uid for a second or more, and zombies count against RLIMIT_NPROC: 60 quick runs
    in one second under `nproc=16` failed 47 times with "Can't fork ... Resource temporarily
    unavailable". Orphans of other process trees of this process become its zombies too; they
    hold a PID each until it exits, nothing else."""
    global _subreaper
    if not _subreaper:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def reap_orphans(uid: int | None, pid: int | None) -> int:
    """Waits for the zombies among this process's children that are the uid's, or `pid`:
    orphans of a sandboxed run (see become_subreaper). Returns how many are still zombies."""
    me = os.getpid()
    found = pids_of_uid(uid, zombies=True) if uid is not None else []
    if pid is not None and pid not in found:
        found.append(pid)
    left = 0
    for child in found:
        state, parent = _state(child)
        if state != b"Z" or parent != me:
            continue
        try:
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            continue
        left += _state(child)[0] == b"Z"
    return left


def _state(pid: int) -> tuple[bytes, int]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[-1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return b"", 0


def pids_of_uid(uid: int, zombies: bool = False) -> list[int]:
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid and (zombies or alive(int(entry))):
                found.append(int(entry))
        except OSError:
            continue
    return found
