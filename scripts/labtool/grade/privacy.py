"""What a sandbox uid must not read in the setpriv mode, where file permissions are the only
wall (the bubblewrap mode does not even mount these): the course's private files, the other
submissions and every report.

  private_paths(...)  the course's solutions, mutants, instructor-only folders, its git
                      history and its other build trees; the batch folder (every other
                      student's submission) and the reports' folder (--out);
  shield(private, needed)
                      makes each of them unreadable to others (chmod o-rwx); a private folder
                      that holds a folder the sandbox needs (the default work folder is under
                      build/) keeps only o+x, and everything in it but that path is closed.

Sandbox.detect then proves it: the setpriv probe runs as the sandbox uid and refuses the mode
when it can still read one of them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..course import ROOT

# Inside the course tree: what neither a build nor a checkpoint run needs.
PRIVATE_DIRS = ("solutions", "build", ".git", ".lab")
PRIVATE_FILES = ("docs/instructor-guide.md",)
PRIVATE_NAMES = ("mutants.json", "orders.json")
PRIVATE_FOLDER_NAMES = ("instructor",)          # checkpoints/NN-name/instructor/


def private_paths(extra: list[Path]) -> list[Path]:
    """Every path the sandbox uid must not read (those that exist)."""
    found = [ROOT / d for d in PRIVATE_DIRS] + [ROOT / f for f in PRIVATE_FILES]
    for folder in sorted((ROOT / "checkpoints").glob("*")):
        found += [folder / n for n in PRIVATE_NAMES + PRIVATE_FOLDER_NAMES]
    found += extra
    return [p for p in found if os.path.lexists(p)]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _close(path: Path, keep_x: bool) -> None:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return
    mode = st.st_mode & 0o7777 & ~0o007
    if keep_x and stat.S_ISDIR(st.st_mode):
        mode |= 0o001
    if mode != st.st_mode & 0o7777:
        os.chmod(path, mode)


def shield(private: list[Path], needed: list[Path]) -> None:
    """chmod o-rwx on each private path; on the way to a needed path inside one, o=x only,
    and everything beside that way closed."""
    needed = [Path(os.path.abspath(n)) for n in needed]
    todo = [Path(os.path.abspath(p)) for p in private]
    while todo:
        path = todo.pop()
        if not os.path.lexists(path):
            continue
        below = [n for n in needed if _inside(n, path)]
        if not below:
            _close(path, keep_x=False)
        elif path not in below:
            _close(path, keep_x=True)
            if path.is_dir() and not path.is_symlink():
                todo += [path / c for c in os.listdir(path)]


def samples(private: list[Path]) -> list[Path]:
    """The private paths, plus one file inside each private folder: what the probe tries."""
    found = list(private)
    for path in private:
        if path.is_dir() and not path.is_symlink():
            for folder, _, files in os.walk(path):
                if files:
                    found.append(Path(folder) / files[0])
                    break
    return found
