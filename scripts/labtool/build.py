"""Configures, builds and runs the checkpoints of one build tree, and reads the results.

A milestone is built as its own targets (mN_checkpoints, mN_plain), one after another, so a
milestone that does not compile costs only its own tests (and those of the milestones that
include it), and a stale executable from an earlier build is never run.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .common import ROOT, LabError, Milestone

PASSED, FAILED, NOT_BUILT, NOT_RUN = "passed", "failed", "not built", "not run"


@dataclass
class TestResult:
    name: str                 # CTest name, "mN/<test case>"
    status: str               # PASSED, FAILED, NOT_BUILT or NOT_RUN
    seconds: float = 0.0
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass
class BuildResult:
    ok: bool
    output: str = ""


@dataclass
class Tree:
    """One CMake build tree made from a preset, optionally against another track."""
    preset: str
    build_dir: Path
    track_dir: Path | None = None
    cache: dict[str, str] = field(default_factory=dict)
    source_dir: Path = ROOT
    quiet: bool = True

    def _run(self, cmd: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=self.source_dir, capture_output=True, text=True,
                              errors="replace", timeout=timeout)

    def configure(self, fresh: bool = False) -> BuildResult:
        """Runs `cmake --preset` unless the tree is already configured for the same track."""
        cache_file = self.build_dir / "CMakeCache.txt"
        wanted = dict(self.cache)
        if self.track_dir is not None:
            wanted["LAB_TRACK_DIR"] = str(Path(self.track_dir).resolve())
        if cache_file.exists() and not fresh:
            text = cache_file.read_text(errors="replace")
            if all(re.search(rf"^{re.escape(k)}:[A-Z]+={re.escape(v)}$", text, re.M)
                   for k, v in wanted.items()):
                return BuildResult(True)
        cmd = ["cmake", "--preset", self.preset, "-B", str(self.build_dir)]
        if fresh:
            cmd.append("--fresh")
        cmd += [f"-D{k}={v}" for k, v in wanted.items()]
        proc = self._run(cmd)
        return BuildResult(proc.returncode == 0, proc.stdout + proc.stderr)

    def targets(self) -> set[str]:
        proc = self._run(["ninja", "-C", str(self.build_dir), "-t", "targets", "all"])
        return {line.split(":")[0] for line in proc.stdout.splitlines()}

    def milestone_targets(self, milestone: Milestone, known: set[str] | None = None) -> list[str]:
        known = self.targets() if known is None else known
        return [t for t in (f"{milestone.label}_checkpoints", f"{milestone.label}_plain")
                if t in known]

    def build(self, targets: list[str] | None = None, jobs: int | None = None) -> BuildResult:
        cmd = ["cmake", "--build", str(self.build_dir)]
        if targets:
            cmd += ["--target", *targets]
        if jobs:
            cmd += ["-j", str(jobs)]
        proc = self._run(cmd)
        return BuildResult(proc.returncode == 0, proc.stdout + proc.stderr)

    def build_milestones(self, milestones: list[Milestone]) -> dict[int, BuildResult]:
        """Builds each milestone's targets in order; returns its result by number."""
        known = self.targets()
        results = {}
        for m in milestones:
            targets = self.milestone_targets(m, known)
            if not targets:
                results[m.number] = BuildResult(False, f"{m.slug}: no checkpoint target was "
                                                       "configured (is the track folder missing?)")
                continue
            results[m.number] = self.build(targets)
        return results

    def run_tests(self, label_regex: str | None = None, name_regex: str | None = None,
                  exclude_label: str | None = None, parallel: int = 1,
                  repeat: int = 1, extra_env: dict[str, str] | None = None,
                  timeout: float = 3600) -> dict[str, TestResult]:
        """Runs CTest and returns every test that it ran, by name, from its JUnit report."""
        with tempfile.TemporaryDirectory(prefix="lab-junit-") as tmp:
            junit = Path(tmp) / "junit.xml"
            cmd = ["ctest", "--test-dir", str(self.build_dir), "--output-junit", str(junit),
                   "-j", str(parallel), "--no-tests=ignore"]
            if label_regex:
                cmd += ["-L", label_regex]
            if exclude_label:
                cmd += ["-LE", exclude_label]
            if name_regex:
                cmd += ["-R", name_regex]
            if repeat > 1:
                cmd += ["--repeat", f"until-fail:{repeat}"]
            env = dict(os.environ, **(extra_env or {}))
            subprocess.run(cmd, cwd=self.source_dir, capture_output=True, text=True,
                           errors="replace", env=env, timeout=timeout)
            if not junit.exists():
                return {}
            return parse_junit(junit)


def parse_junit(path: Path) -> dict[str, TestResult]:
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None or case.get("status") == "notrun"
        out = case.findtext("system-out") or ""
        failure = case.find("failure")
        if failure is not None:
            out = (failure.get("message", "") + "\n" + out).strip()
        status = FAILED if failed else NOT_RUN if skipped else PASSED
        results[name] = TestResult(name, status, float(case.get("time", "0") or 0), out)
    return results


def ctest_regex(names: list[str]) -> str:
    """An anchored CTest -R regex that matches exactly these test names."""
    def esc(name):
        return re.sub(r"([][.*+?^$(){}|\\])", r"\\\1", name)
    return "^(" + "|".join(esc(n) for n in names) + ")$"


_DOCTEST_NOISE = re.compile(r"^\[doctest\]|^=+$")


def failure_summary(output: str, max_lines: int = 14) -> str:
    """The part of a failed test's output a student needs first: the doctest error with its
    context, a sanitizer report's headline and first frames, or the timeout."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "ThreadSanitizer:" in line or "AddressSanitizer:" in line or "runtime error:" in line:
            head = [line]
            frames = [l for l in lines[i + 1:] if re.match(r"\s+#\d", l)][:4]
            summary = [l for l in lines if l.startswith("SUMMARY:")][:1]
            return "\n".join(head + frames + summary)
    picked = []
    for i, line in enumerate(lines):
        if re.search(r"ERROR:|FATAL ERROR|TODO:|threw exception|terminate called", line):
            picked.extend(lines[max(0, i - 1):i + 4])
            if len(picked) >= max_lines:
                break
    if not picked:
        picked = [l for l in lines if not _DOCTEST_NOISE.search(l)][-max_lines:]
    text = "\n".join(dict.fromkeys(l for l in picked
                                     if l.strip() and not _DOCTEST_NOISE.search(l)))
    return "\n".join(text.splitlines()[:max_lines])


def compile_errors(output: str, max_lines: int = 12) -> str:
    """The first compiler diagnostics of a failed build."""
    lines = [l for l in output.splitlines() if re.search(r"error|note:|^\s+\|", l)]
    return "\n".join(lines[:max_lines]) or output[-1500:]
