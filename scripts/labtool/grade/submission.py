"""What a submission is: where the student's files are in it (a repository, a bare track of
NN-name/ folders, or the bare files, plain or archived), which of them are taken, what else
was changed (listed, never used), and the overlay of the taken files on our starter tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..console import LabError
from ..course import ROOT, Milestone, mirror, read_tree
from . import archive
from .archive import SubmissionRejected, read_inside, shown

MAX_STUDENT_FILE = 2 * 1024 * 1024          # bytes; a bigger "source file" is not taken
# Folders of a submission that are never looked at (build products, tool state, CI scratch).
SKIP_DIRS = {".git", "build", ".lab", "__pycache__", "node_modules", "grade-report",
             ".lab-course", ".cache"}


@dataclass
class Submission:
    given: Path
    root: Path
    layout: str                                   # repository, track, flat or empty
    files: dict[tuple[str, str], Path] = field(default_factory=dict)   # (slug, name) -> file
    notes: list[str] = field(default_factory=list)                     # what was not taken
    ignored: list[str] = field(default_factory=list)                   # changed, not used
    repo: Path | None = None                      # the repository's root (layout repository)


def unpack(path: Path, scratch: Path) -> Path:
    """A directory as is (never a link to one); an archive unpacked into scratch with caps on
    entries and size, regular files only, every path inside (archive.py)."""
    if path.is_symlink():
        raise SubmissionRejected(f"{shown(str(path))} is a symbolic link; hand in the folder "
                                 "or archive itself")
    if path.is_dir():
        return path
    if not path.exists():
        raise LabError(f"submission {path} does not exist")
    return archive.unpack(path, scratch / "unpacked")


def _walk(root: Path, limit: int = 20000):
    """Regular files under root, skipping build products and tool state; never follows links."""
    count = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name in SKIP_DIRS or (entry.name.startswith(".") and folder == root
                                               and entry.name != ".github"):
                    continue
                stack.append(entry)
            elif entry.is_file():
                count += 1
                if count > limit:
                    return
                yield entry


def _find_root(root: Path, milestones: list[Milestone]) -> tuple[Path, str]:
    """Where the student's files are: a repository (starter/NN-name/), a track (NN-name/) or
    the bare files; descends into a single wrapping folder (GitHub's zip downloads)."""
    slugs = {m.slug for m in milestones}
    for _ in range(3):
        if (root / "starter").is_dir() and any((root / "starter" / s).is_dir() for s in slugs):
            return root / "starter", "repository"
        if any((root / s).is_dir() for s in slugs):
            return root, "track"
        children = [c for c in root.iterdir() if not c.name.startswith(".")] \
            if root.is_dir() else []
        if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
            root = children[0]
            continue
        break
    return root, "flat"


def locate(given: Path, root: Path, milestones: list[Milestone],
           release_files: dict[str, bytes] | None = None) -> Submission:
    """Finds the student's files; `release_files` are the student release's own versions of
    files that differ from ours (they do not count as the student's changes)."""
    index = archive.walk(root)        # every regular file, no link followed anywhere
    track, layout = _find_root(root, milestones)
    sub = Submission(given=given, root=root, layout=layout,
                     repo=track.parent if layout == "repository" else None)
    sub.notes += index.notes
    taken = set(index.files.values())
    by_name: dict[str, list[tuple[str, str]]] = {}
    for m in milestones:
        for name in m.files:
            by_name.setdefault(name, []).append((m.slug, name))
    flat_candidates: dict[str, list[Path]] = {}
    if layout == "flat":
        for path in sorted(p for p in taken if track in p.parents):
            if path.name in by_name and len(path.relative_to(track).parts) <= 2:
                flat_candidates.setdefault(path.name, []).append(path)
    for m in milestones:
        for name in m.files:
            if layout == "flat":
                paths = flat_candidates.get(name, [])
                if len(by_name[name]) > 1 or len(paths) > 1:
                    sub.notes.append(f"{m.slug}/{name}: ambiguous in a flat submission; "
                                     "the starter version was used")
                    continue
                path = paths[0] if paths else None
            else:
                path = track / m.slug / name
            if path is None or not path.exists():
                sub.notes.append(f"{m.slug}/{name}: not in the submission; the starter "
                                 "version was used")
                continue
            if path not in taken:
                sub.notes.append(f"{m.slug}/{name}: not a regular file inside the submission "
                                 "(a link, or in a linked folder?); the starter version was "
                                 "used")
                continue
            if path.stat().st_size > MAX_STUDENT_FILE:
                sub.notes.append(f"{m.slug}/{name}: larger than {MAX_STUDENT_FILE} bytes; the "
                                 "starter version was used")
                continue
            sub.files[(m.slug, name)] = path
    if layout == "flat" and not sub.files:
        sub.layout = "empty"
    if layout == "repository":
        sub.ignored = changed_files(track.parent, {p.resolve() for p in sub.files.values()},
                                    release_files or {})
    return sub


def changed_files(repo: Path, taken: set[Path], overrides: dict[str, bytes]) -> list[str]:
    """Files of a student repository that differ from the course's copy and are not graded."""
    changed = []
    for path in _walk(repo):
        if path.resolve() in taken:
            continue
        rel = path.relative_to(repo).as_posix()
        ours = ROOT / rel
        try:
            data = path.read_bytes() if path.stat().st_size <= MAX_STUDENT_FILE * 8 else None
        except OSError:
            continue
        if rel in overrides:
            if data != overrides[rel]:
                changed.append(f"{rel} (changed)")
        elif not ours.is_file():
            changed.append(f"{rel} (added)")
        elif data is None or data != ours.read_bytes():
            changed.append(f"{rel} (changed)")
    return sorted(changed)


def overlay(sub: Submission, milestones: list[Milestone], track: Path,
            use_starter_for: set[int]) -> None:
    """track := our starter/ tree with the student's files on top (except for milestones whose
    code is excluded from the build: those keep the starter)."""
    files = read_tree(ROOT / "starter")
    for m in milestones:
        if m.number in use_starter_for:
            continue
        for name in m.files:
            path = sub.files.get((m.slug, name))
            if path is not None:
                files[f"{m.slug}/{name}"] = read_inside(sub.root, path, MAX_STUDENT_FILE)
    mirror(files, track)


