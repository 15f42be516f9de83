"""How feedback shows paths: the student's files as `<track label>/NN-name/file`, the
repository's relative to it, the standard library as <libstdc++>/, without symbolizer noise."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

@dataclass(frozen=True)
class Paths:
    """Where the repository and the student's files are, and how to show them."""
    root: Path                       # repository root: paths below it are shown relative
    track: Path | None = None        # the student's NN-name/ folders
    track_label: str = "starter"     # how paths under `track` are shown
    # Reads line `n` (1-based) of a shown path; None to show no source lines.
    read_line: Callable[[str, int], str | None] | None = None


def source_reader(root: Path, track: Path | None, track_label: str = "starter"
                  ) -> Callable[[str, int], str | None]:
    """A Paths.read_line that reads shown paths back from disk (the student's files from
    `track`, the others from `root`); None for anything it cannot read."""
    def read_line(shown: str, number: int) -> str | None:
        if track is not None and shown.startswith(track_label + "/"):
            base, path = Path(track), Path(track) / shown[len(track_label) + 1:]
        else:
            base, path = Path(root), Path(root) / shown
        if ".." in Path(shown).parts or path.is_symlink() or not path.is_file() or \
                not path.resolve().is_relative_to(base.resolve()):
            return None          # only regular files that really are in the tree (no FIFO)
        try:
            with open(path, errors="replace") as fh:
                for i, line in enumerate(fh, 1):
                    if i == number:
                        return line.rstrip("\n")[:160]
        except OSError:
            return None
        return None
    return read_line


def _prefixes(path: Path | None) -> list[str]:
    if path is None:
        return []
    found = []
    for p in (str(path), os.path.realpath(path)):
        p = p.rstrip("/") + "/"
        if p not in found:
            found.append(p)
    return found


def _track_prefixes(paths: Paths) -> list[str]:
    """How the track's files can be spelled: absolute, real, and relative to the repository
    (doctest and LAB_TODO messages print paths relative to it), longest first."""
    found = _prefixes(paths.track)
    for prefix in list(found):
        for root in _prefixes(paths.root):
            if prefix.startswith(root) and prefix[len(root):] not in found:
                found.append(prefix[len(root):])
    return sorted(found, key=len, reverse=True)


_LIBSTDCXX = re.compile(r"(?:/usr(?:/bin/\.\.)?/lib/gcc/[\w.-]+/\d+/(?:\.\./)+include|/usr/include)"
                        r"/c\+\+/\d+/")


def show_path(path: str, paths: Paths) -> tuple[str, bool]:
    """A path as the student should read it, and whether it is one of the student's files."""
    if _LIBSTDCXX.match(path):
        return _LIBSTDCXX.sub("<libstdc++>/", path, count=1), False
    norm = os.path.normpath(path)
    for prefix in _track_prefixes(paths):
        if norm.startswith(prefix):
            return f"{paths.track_label}/{norm[len(prefix):]}", True
    for prefix in _prefixes(paths.root):
        if norm.startswith(prefix):
            rest = norm[len(prefix):]
            label = paths.track_label + "/"
            return rest, rest.startswith(label) and paths.track is None
    return path, False


# --- tidy ---------------------------------------------------------------------------------

_NOISE = [
    (re.compile(r" \((?:[\w./+-]+)\+0x[0-9a-f]+\)(?: \(BuildId: [0-9a-f]+\))?"), ""),
    (re.compile(r" \(BuildId: [0-9a-f]+\)"), ""),
    (_LIBSTDCXX, "<libstdc++>/"),
]


def tidy(text: str, paths: Paths) -> str:
    """Any text (a compiler error, a doctest message) with the student's paths shown as
    `<track label>/...`, repository paths relative, and symbolizer noise removed."""
    for prefix in _track_prefixes(paths):
        text = re.sub(r"(?<![\w./-])" + re.escape(prefix), paths.track_label + "/", text)
    for prefix in sorted(_prefixes(paths.root), key=len, reverse=True):
        text = text.replace(prefix, "")
    for regex, repl in _NOISE:
        text = regex.sub(repl, text)
    return text
