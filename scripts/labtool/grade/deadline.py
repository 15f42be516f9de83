"""`--deadline DATE`: a git submission as it was at its last commit before the date.

The student's repository is hostile input, and git runs what a repository's own configuration
names (core.fsmonitor, hooks, filters). So git never runs *inside* it: a bare clone is made
with every such setting off and no checkout (clone reads only objects and refs), and the tree
of the chosen commit is written with `git archive` from that clone, whose configuration is ours.

The date compared is the committer date, which whoever makes the commit sets: a deadline
taken from commit dates is a convenience for honest histories, not a proof. Where it matters,
grade what a platform recorded at its cut-off (GitHub Classroom's deadline, Gradescope's
submission time).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
from datetime import datetime, timezone
from pathlib import Path

from ..console import LabError

# Every git call here: nothing from the student's repository or the machine's git config runs.
_SAFE = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
         "-c", "protocol.file.allow=always", "-c", "safe.directory=*",
         "-c", "uploadpack.allowFilter=false", "-c", "core.sshCommand=false"]
_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
        "HOME": "/nonexistent", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
MAX_ARCHIVE = 64 * 1024 * 1024


def parse_deadline(text: str) -> datetime:
    """An ISO date or date and time ('2026-12-01', '2026-12-01 23:59', '...T23:59:00+01:00');
    without a zone, UTC. A clear error otherwise."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T23:59:59"
    try:
        when = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError as exc:
        raise LabError(f"--deadline {text!r}: give a date as 2026-12-01 or 2026-12-01T23:59 "
                       "(UTC unless a zone is given, e.g. +01:00)") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def is_git_submission(path: Path) -> bool:
    """A folder with a .git folder of its own: not a link, not a `gitdir:` file, no alternates
    (each of which would make git read another repository than the one handed in)."""
    git = path / ".git"
    return (path.is_dir() and not path.is_symlink() and git.is_dir() and not git.is_symlink()
            and not (git / "objects" / "info" / "alternates").exists()
            and not (git / "commondir").exists())


def _git(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *_SAFE, *args], cwd=cwd, env=_ENV, capture_output=True,
                          timeout=timeout)


def snapshot_before(repo: Path, deadline: datetime, scratch: Path) -> tuple[Path, str]:
    """The tree of `repo`'s last commit (on its checked-out branch) committed at or before
    `deadline`, written to scratch/at-deadline; returns that folder and a note for the report."""
    bare = scratch / "deadline-clone.git"
    proc = _git("clone", "--bare", "--quiet", "--no-local", "--no-tags", str(repo.resolve()),
                str(bare))
    if proc.returncode != 0:
        raise LabError(f"--deadline: {repo.name} is not a readable git repository "
                       f"({proc.stderr.decode(errors='replace').strip()[:200]})")
    stamp = deadline.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc = _git("rev-list", "-1", f"--before={stamp}", "HEAD", cwd=bare)
    commit = proc.stdout.decode().strip()
    if proc.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", commit):
        raise LabError(f"--deadline: {repo.name} has no commit before {stamp}")
    proc = _git("log", "-1", "--format=%cI %s", commit, cwd=bare)
    described = proc.stdout.decode(errors="replace").strip()[:120]
    proc = _git("archive", "--format=tar", commit, cwd=bare, timeout=300)
    if proc.returncode != 0 or len(proc.stdout) > MAX_ARCHIVE:
        raise LabError(f"--deadline: could not write {repo.name} at {commit[:12]}")
    dest = scratch / "at-deadline"
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        for member in tar.getmembers():
            # Regular files and folders only, every path inside dest (git archive writes no
            # absolute paths, but the commit is the student's).
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest.resolve()) or not (member.isfile() or member.isdir()):
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member)
            target.write_bytes(data.read() if data else b"")
    return dest, f"graded at commit {commit[:12]} ({described}), the last before {stamp}"
