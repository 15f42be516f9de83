"""Process helpers of the sandbox (sandbox.py): capped output capture, bwrap's info pipe,
and killing what a sandboxed command left behind."""

from __future__ import annotations

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
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def pids_of_uid(uid: int) -> list[int]:
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid and alive(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found
