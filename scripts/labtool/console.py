"""Terminal output of the lab tool: colour (only on a TTY, never with NO_COLOR), messages,
tables, and the one exception type whose message tells the user how to fix the problem."""

from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager


class LabError(Exception):
    """An error the user can fix; the message says how. Exit code 2."""


def _use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


_COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}
_ANSI = re.compile(r"\033\[[0-9;]*m")


def paint(text: str, colour: str, stream=None) -> str:
    """Wraps text in an ANSI colour when `stream` (stdout by default) is a terminal and
    NO_COLOR is unset."""
    if not _use_colour(stream if stream is not None else sys.stdout):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


_thread = threading.local()


@contextmanager
def labelled(label: str):
    """Inside the block, info() lines of this thread start with `[label] ` (nothing for ""):
    for work that runs side by side with other work that prints."""
    before = current_label()
    _thread.label = label
    try:
        yield
    finally:
        _thread.label = before


def current_label() -> str:
    """This thread's label (see labelled()), for threads that work on its behalf."""
    return getattr(_thread, "label", "")


def info(msg: str) -> None:
    label = current_label()
    print(paint("==> ", "blue") + (f"[{label}] " if label else "") + msg, flush=True)


def warn(msg: str) -> None:
    print(paint("warning: ", "yellow", sys.stderr) + msg, file=sys.stderr, flush=True)


def ok_or_fail(ok: bool) -> str:
    return paint("ok", "green") if ok else paint("FAIL", "red")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Renders a plain-text table (colour codes inside cells are allowed)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(_ANSI.sub("", cell)))

    def line(cells):
        out = []
        for i, cell in enumerate(cells):
            pad = widths[i] - len(_ANSI.sub("", cell))
            out.append(cell + " " * pad)
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep] + [line(r) for r in rows])
