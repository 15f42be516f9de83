"""deadline.py: a git submission at its last commit before a date, without running anything
of the student's repository."""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from labtool.console import LabError
from labtool.grade.deadline import is_git_submission, parse_deadline, snapshot_before


def git(repo: Path, *args: str, date: str | None = None) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@x", GIT_COMMITTER_NAME="s",
               GIT_COMMITTER_EMAIL="s@x")
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


class DeadlineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.repo = self.tmp / "alice"
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / "a.hpp").write_text("v1\n")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "first", date="2026-11-30T12:00:00Z")
        (self.repo / "a.hpp").write_text("v2 late\n")
        git(self.repo, "commit", "-q", "-am", "late", date="2026-12-02T12:00:00Z")

    def test_the_last_commit_before_the_deadline(self):
        self.assertTrue(is_git_submission(self.repo))
        scratch = self.tmp / "s1"
        scratch.mkdir()
        dest, note = snapshot_before(self.repo, parse_deadline("2026-12-01"), scratch)
        self.assertEqual((dest / "a.hpp").read_text(), "v1\n")
        self.assertIn("first", note)
        scratch = self.tmp / "s2"
        scratch.mkdir()
        dest, _ = snapshot_before(self.repo, parse_deadline("2026-12-03T00:00+00:00"), scratch)
        self.assertEqual((dest / "a.hpp").read_text(), "v2 late\n")

    def test_no_commit_before(self):
        scratch = self.tmp / "s"
        scratch.mkdir()
        with self.assertRaisesRegex(LabError, "no commit before"):
            snapshot_before(self.repo, parse_deadline("2020-01-01"), scratch)

    def test_the_repository_config_runs_nothing(self):
        marker = self.tmp / "ran"
        hook = self.tmp / "evil.sh"
        hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
        hook.chmod(0o755)
        git(self.repo, "config", "core.fsmonitor", str(hook))
        git(self.repo, "config", "uploadpack.packObjectsHook", str(hook))
        hooks = self.repo / ".git" / "hooks"
        for name in ("post-checkout", "pre-upload", "reference-transaction"):
            (hooks / name).write_text(hook.read_text())
            (hooks / name).chmod(0o755)
        scratch = self.tmp / "s"
        scratch.mkdir()
        snapshot_before(self.repo, parse_deadline("2026-12-01"), scratch)
        self.assertFalse(marker.exists())

    def test_only_a_repository_of_its_own(self):
        other = self.tmp / "bob"
        other.mkdir()
        (other / ".git").write_text(f"gitdir: {self.repo / '.git'}\n")
        self.assertFalse(is_git_submission(other))
        (self.repo / ".git" / "objects" / "info").mkdir(parents=True, exist_ok=True)
        (self.repo / ".git" / "objects" / "info" / "alternates").write_text("/elsewhere\n")
        self.assertFalse(is_git_submission(self.repo))

    def test_bad_dates(self):
        for bad in ("tomorrow", "2026-13-01", "12/01/2026"):
            with self.assertRaisesRegex(LabError, "--deadline"):
                parse_deadline(bad)


if __name__ == "__main__":
    unittest.main()
