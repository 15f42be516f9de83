"""The harness's record of one checkpoint run: the only thing the grader believes about how
the test itself went (docs/grading.md, "When a checkpoint passes").

The grader makes a FIFO in the run's private /tmp and keeps its own end open for reading and
writing (so the harness's non-blocking open always finds a reader, and nothing is lost when
every writer has gone). The course's test main (checkpoints/common/main.cpp) writes ONE line
into it: after the last test, or from lab_test.hpp's end_not_run for a test that ends
inconclusive, or from an exit handler when the process ends before main returned. After the
sandbox is gone the grader reads everything the FIFO holds. A run counts only when that is
exactly one well-formed line with this run's nonce: a line forged by the code under test,
before or after the harness's, makes two; replacing the FIFO by another file leaves none.

Nothing in the record is secret, and nothing needs to be: its value is that only the harness
is in a position to write the only line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

NAME = "lab-record"
MAX_RECORDS = 64 << 10      # a pipe's buffer: the harness writes about 300 bytes
_LINE = re.compile(r"lab-record 1 nonce=(\d+) verdict=(ran|not-run|ended-early) "
                   r"kind=([a-z-]+) filter=(on|off) started=(\d+) ended=([01]) cases=(\d+) "
                   r"cases_failed=(\d+) asserts=(\d+) asserts_failed=(\d+) exception=([01]) "
                   r"result=(-?\d+) name=([0-9a-f]*) file=([0-9a-f]*)\n")


class RecordFifo:
    """The FIFO of one run, in `tmp` (seen by the run as `inside`)."""

    def __init__(self, tmp: Path, inside: Path):
        path = tmp / NAME
        os.mkfifo(path, 0o600)
        st = os.stat(tmp)               # the sandbox's owner and group (Sandbox.writable)
        os.chown(path, st.st_uid, st.st_gid)
        # Writable by whoever the run is (the sandbox may hand the folder to a uid of its own
        # later): only the run can reach its private /tmp, and the grader reads every line.
        os.chmod(path, 0o622)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self.env = {"LAB_RECORD": str(inside / NAME)}

    def drain(self) -> bytes:
        """Everything written into the FIFO (call it when every process of the run is gone)."""
        data = b""
        while len(data) < MAX_RECORDS:
            try:
                chunk = os.read(self.fd, MAX_RECORDS)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class Record:
    verdict: str                # ran, not-run, ended-early
    kind: str                   # not-run: inconclusive or skipped
    filter_on: bool
    started: int                # test cases that started
    cases: int                  # test cases that passed the filters
    cases_failed: int
    asserts: int
    asserts_failed: int
    exception: bool
    result: int                 # the doctest run's result (main's return value)
    name: str
    file: str


def parse(data: bytes, nonce: int) -> tuple[Record | None, str]:
    """(the record, "") or (None, why the FIFO's content is not exactly one record of this
    run)."""
    if not data:
        return None, ("the test harness left no record: the process ended before the harness "
                      "could write it (an exit from the code under test, a crash or a kill)")
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if len(lines) != 1:
        return None, (f"the harness's record channel holds {len(lines)} lines where the "
                      "harness writes exactly one: something in the test process wrote to it")
    m = _LINE.fullmatch(lines[0])
    if m is None:
        return None, "the harness's record is malformed: something in the test process wrote it"
    if int(m.group(1)) != nonce:
        return None, "the harness's record does not belong to this run"
    g = m.groups()
    record = Record(verdict=g[1], kind=g[2], filter_on=g[3] == "on", started=int(g[4]),
                    cases=int(g[6]), cases_failed=int(g[7]), asserts=int(g[8]),
                    asserts_failed=int(g[9]), exception=g[10] == "1", result=int(g[11]),
                    name=bytes.fromhex(g[12]).decode("utf-8", errors="replace"),
                    file=bytes.fromhex(g[13]).decode("utf-8", errors="replace"))
    if record.verdict == "ended-early":
        return None, ("the process ended before the test harness finished (an exit from the "
                      "code under test): a test must end by returning")
    if not record.filter_on:
        return None, ("the test ran without the harness's seccomp filter (is libseccomp-dev "
                      "installed on the grading machine?)")
    return record, ""


def verdict(record: Record, test_name: str, slug: str) -> tuple[bool, str]:
    """Whether a record of a run that ended ("ran") says this checkpoint passed, and why not."""
    if record.verdict != "ran":
        return False, f"the harness recorded '{record.verdict}', not a finished run"
    if record.started != 1 or record.cases != 1 or record.name != test_name:
        return False, (f"the harness recorded {record.started} test case(s) started, not "
                       f"exactly '{test_name}'")
    if not record.file.startswith(f"checkpoints/{slug}/"):
        return False, "the test case that ran is not the course's checkpoint"
    if record.exception:
        return False, "an exception escaped the test case"
    if record.asserts_failed or record.cases_failed or record.result != 0:
        return False, "the checkpoint failed"
    if record.asserts < 1:
        return False, ("no assertion ran (a checkpoint always checks something: were the test "
                       "macros disabled?)")
    return True, ""
