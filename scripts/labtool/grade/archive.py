"""Untrusted submissions as files: unpacking archives, walking folders, naming files safely.

Everything a student hands in is hostile until proven otherwise:
  - an archive is unpacked with caps on its entry count and total size (a zip bomb stops at
    the cap, and what was unpacked is removed), regular files only, every path inside the
    destination (no absolute paths, no `..`, no links of any kind, no device files);
  - a folder is walked without following links; a link anywhere is left out and reported;
  - a file name that is not UTF-8, holds control characters, or clashes with another entry
    (a file and a folder of the same name, the same name twice) makes the submission unusable:
    `SubmissionRejected` says which name and why (exit code 2, never a crash);
  - names shown in Markdown go through `md_code()` / `md_text()`, so a name cannot inject
    headings, tables or HTML into summary.md;
  - `write_atomic()` writes a report through a fresh temporary file and a rename, so a reader
    sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..console import LabError

MAX_ENTRIES = 5000                  # files and folders in one submission
MAX_TOTAL = 64 << 20                # bytes, unpacked
MAX_FILE = 16 << 20                 # bytes, one file (bigger ones are left out, reported)
# Folders of a submission that are never looked at (build products, tool state, CI scratch).
SKIP_DIRS = {".git", "build", ".lab", "__pycache__", "node_modules", "grade-report",
             ".lab-course", ".cache"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class SubmissionRejected(LabError):
    """The submission cannot be graded as handed in (its fault, not the grader's); the message
    says what to fix. The grader reports it with exit code 2."""

    def __str__(self) -> str:
        return "submission rejected: " + super().__str__()


@dataclass
class Tree:
    """A submission folder, walked once: its regular files by relative POSIX path."""
    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)      # links and oversized files left out

    def has_dir(self, rel: str) -> bool:
        prefix = rel.rstrip("/") + "/"
        return any(k.startswith(prefix) for k in self.files)


def shown(name: str | bytes) -> str:
    """A file name as text that is safe to print anywhere: undecodable bytes as \\xNN,
    control characters as escapes."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="surrogateescape")
    name = name.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], name)


def check_name(rel: str) -> None:
    """SubmissionRejected unless rel is a relative, UTF-8, printable path inside its root."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise SubmissionRejected(f"bad file name: '{shown(rel)}' is not UTF-8; rename it "
                                 "(letters, digits, '-', '_', '.')") from None
    if _CONTROL.search(rel):
        raise SubmissionRejected(f"bad file name: '{shown(rel)}' contains control characters "
                                 "(a newline?); rename it")
    parts = rel.replace("\\", "/").split("/")
    if rel.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", rel):
        raise SubmissionRejected(f"bad file name: '{shown(rel)}' points outside the "
                                 "submission (absolute path or '..')")


# --- archives ------------------------------------------------------------------------------

def is_archive(path: Path) -> bool:
    return path.is_file() and (zipfile.is_zipfile(path) or tarfile.is_tarfile(path))


def unpack(path: Path, dest: Path, max_entries: int = MAX_ENTRIES,
           max_total: int = MAX_TOTAL) -> Path:
    """Unpacks a .zip or .tar(.gz/.bz2/.xz) into dest (emptied first); returns dest.
    SubmissionRejected for a bad name, a clash, a link, or a cap exceeded."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(path):
            _unpack_zip(path, dest, max_entries, max_total)
        elif tarfile.is_tarfile(path):
            _unpack_tar(path, dest, max_entries, max_total)
        else:
            raise SubmissionRejected(f"{shown(path.name)} is neither a folder nor a .zip/.tar "
                                     "archive")
    except SubmissionRejected:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise SubmissionRejected(f"the archive {shown(path.name)} is damaged: {exc}") from exc
    return dest


class _Budget:
    def __init__(self, max_entries: int, max_total: int) -> None:
        self.entries, self.total = 0, 0
        self.max_entries, self.max_total = max_entries, max_total
        self.kinds: dict[str, str] = {}          # rel -> "file" | "dir"

    def entry(self, rel: str, kind: str) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise SubmissionRejected(f"the archive has more than {self.max_entries} entries; "
                                     "hand in only your source files")
        check_name(rel)
        rel = rel.strip("/")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if self.kinds.get(parent) == "file":
                raise SubmissionRejected(f"name clash in the archive: '{shown(parent)}' is "
                                         "both a file and a folder")
            self.kinds.setdefault(parent, "dir")
        if rel in self.kinds and (kind == "file" or self.kinds[rel] == "file"):
            what = "twice" if self.kinds[rel] == kind else "both a file and a folder"
            raise SubmissionRejected(f"name clash in the archive: '{shown(rel)}' is {what}")
        self.kinds[rel] = kind

    def add(self, size: int) -> None:
        self.total += size
        if self.total > self.max_total:
            raise SubmissionRejected(f"the archive unpacks to more than "
                                     f"{self.max_total >> 20} MiB (a zip bomb?); hand in "
                                     "only your source files")


def _copy_capped(src, target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out:
        while True:
            chunk = src.read(1 << 16)
            if not chunk:
                break
            budget.add(len(chunk))
            out.write(chunk)


def _unpack_zip(path: Path, dest: Path, max_entries: int, max_total: int) -> None:
    budget = _Budget(max_entries, max_total)
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) > max_entries:
            raise SubmissionRejected(f"the archive has {len(members)} entries (at most "
                                     f"{max_entries}); hand in only your source files")
        if sum(m.file_size for m in members) > max_total:
            raise SubmissionRejected(f"the archive unpacks to more than {max_total >> 20} MiB "
                                     "(a zip bomb?); hand in only your source files")
        for member in members:
            name = member.filename
            if not member.flag_bits & 0x800:
                # No UTF-8 flag: zipfile decoded the bytes as cp437. Take them as UTF-8 when
                # they are; otherwise the name is not UTF-8.
                raw = name.encode("cp437", errors="surrogateescape")
                name = raw.decode("utf-8", errors="surrogateescape")
            mode = (member.external_attr >> 16) & 0o170000
            if mode == stat.S_IFLNK:
                raise SubmissionRejected(f"'{shown(name)}' is a symbolic link; hand in the "
                                         "file itself")
            if mode not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise SubmissionRejected(f"'{shown(name)}' is not a regular file")
            is_dir = member.is_dir() or mode == stat.S_IFDIR
            budget.entry(name, "dir" if is_dir else "file")
            target = dest / name.strip("/")
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            with zf.open(member) as src:
                _copy_capped(src, target, budget)


def _unpack_tar(path: Path, dest: Path, max_entries: int, max_total: int) -> None:
    budget = _Budget(max_entries, max_total)
    with tarfile.open(path) as tf:
        for member in tf:
            if member.issym() or member.islnk():
                raise SubmissionRejected(f"'{shown(member.name)}' is a link; hand in the file "
                                         "itself")
            if not (member.isfile() or member.isdir()):
                raise SubmissionRejected(f"'{shown(member.name)}' is not a regular file")
            budget.entry(member.name, "dir" if member.isdir() else "file")
            target = dest / member.name.strip("/")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if member.size > max_total:
                budget.add(member.size)
            src = tf.extractfile(member)
            if src is not None:
                _copy_capped(src, target, budget)


# --- folders -------------------------------------------------------------------------------

def walk(root: Path, max_entries: int = MAX_ENTRIES, max_total: int = MAX_TOTAL,
         skip_dirs: set[str] = SKIP_DIRS) -> Tree:
    """Every regular file under root by relative path, never following a link: a link
    (to a file or a folder, anywhere) and a file over MAX_FILE are left out with a note.
    SubmissionRejected for a bad name or too many entries; files over the total cap are
    left out with a note."""
    if root.is_symlink():
        raise SubmissionRejected(f"{shown(str(root))} is a symbolic link; hand in the folder")
    if not root.is_dir():
        raise SubmissionRejected(f"{shown(str(root))} is not a folder")
    tree = Tree(root=root)
    entries = total = 0
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            tree.notes.append(f"{shown(rel_dir)}: cannot be read ({exc.strerror})")
            continue
        for entry in items:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            entries += 1
            if entries > max_entries:
                raise SubmissionRejected(f"the submission has more than {max_entries} files "
                                         "and folders; hand in only your source files")
            check_name(rel)
            if entry.is_symlink():
                tree.notes.append(f"{rel}: a symbolic link, not followed (hand in the file "
                                  "or folder itself)")
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in skip_dirs or (not rel_dir and entry.name.startswith(".")
                                               and entry.name != ".github"):
                    continue
                stack.append(rel)
            elif entry.is_file(follow_symlinks=False):
                size = entry.stat(follow_symlinks=False).st_size
                if size > MAX_FILE or total + size > max_total:
                    tree.notes.append(f"{rel}: too large ({size} bytes), not taken")
                    continue
                total += size
                tree.files[rel] = root / rel
    return tree


def read_inside(root: Path, path: Path, limit: int = MAX_FILE) -> bytes:
    """The bytes of a regular file that really lies inside root: no link in any component
    (checked at open time, component by component, with O_NOFOLLOW)."""
    rel = path.relative_to(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in rel.parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(rel.parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    with os.fdopen(leaf, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(f"{shown(str(rel))} is not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{shown(str(rel))} is larger than {limit} bytes")
    return data


# --- writing reports -----------------------------------------------------------------------

def write_atomic(path: Path, text: str | bytes) -> None:
    """Writes path via a fresh temporary file in the same folder, fsync and rename."""
    data = text.encode("utf-8", errors="backslashreplace") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def md_code(text: str) -> str:
    """text as one Markdown code span that nothing in it can end early: control characters
    escaped, and a backtick fence longer than any backtick run inside."""
    text = shown(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# What can end a code span, start a link or emphasis, open HTML or split a table cell (a
# heading cannot start: newlines are gone).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&])")


def md_text(text: str) -> str:
    """text for one line of Markdown (a table cell, a list item): one line, Markdown and HTML
    specials escaped."""
    return _MD_SPECIAL.sub(r"\\\1", shown(text).replace("\n", " "))
