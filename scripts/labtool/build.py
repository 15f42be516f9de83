"""Configures and builds one CMake build tree, one milestone after another.

A milestone is built as its own targets (mN_checkpoints, mN_plain), so a milestone that does
not compile costs only its own tests and those of the milestones that include it (which are
then not even built), and a stale executable from an earlier build is never run.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import feedback
from .console import LabError
from .course import ROOT, Milestone, dependencies


PRESETS_CMAKE = (3, 25)      # CMakePresets.json's version 6 (workflow presets) needs it
OLDEST_CMAKE = (3, 22)       # cmake_minimum_required in CMakeLists.txt: Ubuntu 22.04's


@functools.lru_cache(maxsize=None)
def cmake_version() -> tuple[int, int]:
    """The (major, minor) of the `cmake` on PATH; (0, 0) when it cannot be run."""
    try:
        out = subprocess.run(["cmake", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return (0, 0)
    m = re.search(r"cmake version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def preset_arguments(name: str, source_dir: Path = ROOT) -> list[str]:
    """A configure preset of CMakePresets.json as command-line arguments (-G and -D), with its
    `inherits` chain and the ${sourceDir} and ${presetName} macros resolved: what
    `cmake --preset NAME` would set, for a CMake too old to read the file."""
    data = json.loads((source_dir / "CMakePresets.json").read_text())
    presets = {p["name"]: p for p in data.get("configurePresets", [])}
    if name not in presets:
        raise LabError(f"CMakePresets.json has no configure preset '{name}' "
                       f"(it has: {', '.join(sorted(p for p in presets if not presets[p].get('hidden')))})")

    def chain(n: str, seen: tuple[str, ...] = ()) -> list[dict]:
        if n in seen:
            raise LabError(f"CMakePresets.json: preset '{n}' inherits from itself")
        p = presets[n]
        parents = p.get("inherits", [])
        parents = [parents] if isinstance(parents, str) else parents
        out: list[dict] = []
        for parent in reversed(parents):      # the first parent wins, as in CMake
            out += chain(parent, seen + (n,))
        return out + [p]

    generator, variables = None, {}
    for p in chain(name):
        generator = p.get("generator", generator)
        for key, value in p.get("cacheVariables", {}).items():
            if isinstance(value, dict):
                value = value.get("value", "")
            variables[key] = str(value)

    def expand(text: str) -> str:
        return text.replace("${sourceDir}", str(source_dir)).replace("${presetName}", name)

    args = ["-G", generator] if generator else []
    return args + [f"-D{k}={expand(v)}" for k, v in variables.items()]


@dataclass
class BuildResult:
    ok: bool
    output: str = ""
    blocked_by: list[int] = field(default_factory=list)   # broken dependencies: not built
    # The milestone's model executable (mN_model_checks), built after its other targets compiled;
    # None when the milestone has none (or they did not compile).
    models: "BuildResult | None" = None


@dataclass
class Tree:
    """One CMake build tree made from a preset, optionally against another track."""
    preset: str
    build_dir: Path
    track_dir: Path | None = None
    cache: dict[str, str] = field(default_factory=dict)
    source_dir: Path = ROOT
    # Runs CMake/Ninja instead of a plain subprocess (grade: in the sandbox, with limits).
    runner: Callable[[list[str]], subprocess.CompletedProcess] | None = None
    # ccache sees paths relative to source_dir (CCACHE_BASEDIR): two trees laid out alike
    # (build/NAME inside a copy of the sources) share compiled objects. The self-test's trees.
    share_ccache: bool = False

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess:
        if self.runner is not None:
            return self.runner(cmd)
        env = None
        if self.share_ccache:
            env = {**os.environ, "CCACHE_BASEDIR": str(self.source_dir),
                   "CCACHE_NOHASHDIR": "true"}
        return subprocess.run(cmd, cwd=self.source_dir, capture_output=True, text=True,
                              errors="replace", env=env)

    def configure(self, fresh: bool = False) -> BuildResult:
        """Runs `cmake --preset`; an already configured tree for the same settings only
        re-runs CMake's generate step (it finds new milestone folders and manifest edits)."""
        cache_file = self.build_dir / "CMakeCache.txt"
        wanted = dict(self.cache)
        if self.track_dir is not None:
            wanted["LAB_TRACK_DIR"] = str(Path(self.track_dir).resolve())
        if cache_file.exists() and not fresh:
            text = cache_file.read_text(errors="replace")
            if all(re.search(rf"^{re.escape(k)}:[A-Z]+={re.escape(v)}$", text, re.M)
                   for k, v in wanted.items()):
                proc = self._run(["cmake", "-S", str(self.source_dir), "-B", str(self.build_dir)])
                return BuildResult(proc.returncode == 0, proc.stdout + proc.stderr)
        if cmake_version() >= PRESETS_CMAKE:
            cmd = ["cmake", "--preset", self.preset, "-B", str(self.build_dir)]
            if fresh:
                cmd.append("--fresh")
        else:
            # CMakePresets.json (version 6: workflow presets) needs CMake 3.25; older CMake
            # (Ubuntu 22.04 has 3.22) gets the same settings as arguments.
            if fresh:
                (self.build_dir / "CMakeCache.txt").unlink(missing_ok=True)
                shutil.rmtree(self.build_dir / "CMakeFiles", ignore_errors=True)
            cmd = ["cmake", "-S", str(self.source_dir), "-B", str(self.build_dir),
                   *preset_arguments(self.preset, self.source_dir)]
        cmd += [f"-D{k}={v}" for k, v in wanted.items()]
        proc = self._run(cmd)
        return BuildResult(proc.returncode == 0, proc.stdout + proc.stderr)

    def track(self) -> Path:
        """The folder of the student's NN-name/ files this tree builds: track_dir, else the
        preset's LAB_TRACK_DIR as the configured cache says, else starter/."""
        if self.track_dir is not None:
            return Path(self.track_dir)
        try:
            cache = (self.build_dir / "CMakeCache.txt").read_text(errors="replace")
        except OSError:
            cache = ""
        found = re.search(r"^LAB_TRACK_DIR:[A-Z]+=(.*)$", cache, re.M)
        return Path(found.group(1)) if found else self.source_dir / "starter"

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

    def build_milestones(self, milestones: list[Milestone], all_ms: list[Milestone],
                         jobs: int | None = None, progress=None,
                         compile_only: set[int] | frozenset = frozenset()
                         ) -> dict[int, BuildResult]:
        """Builds each milestone's targets in milestone order. One whose dependency (direct or
        not) did not build is not built: it is blocked by that dependency. A milestone in
        `compile_only` (one that is only depended on) builds just its headers (mN_headers),
        when the tree has that target."""
        known = self.targets()
        results: dict[int, BuildResult] = {}
        for m in sorted(milestones, key=lambda x: x.number):
            broken = [d for d in dependencies(m, all_ms) if d in results and not results[d].ok]
            if broken:
                results[m.number] = BuildResult(False, blocked_by=broken, output=(
                    f"depends on milestone {', '.join(map(str, broken))}, which does not "
                    "compile"))
                continue
            targets = self.milestone_targets(m, known)
            if m.number in compile_only and f"{m.label}_headers" in known:
                targets = [f"{m.label}_headers"]
            if not targets:
                results[m.number] = BuildResult(False, f"{m.slug}: no checkpoint target was "
                                                       "configured (is the track folder missing?)")
                continue
            if progress is not None:
                progress(m)
            results[m.number] = self.build(targets, jobs=jobs)
            # Apart: a header the model cannot compile (a thread_local, say) fails the model
            # tests only, with the compiler's "not modelled" line.
            if results[m.number].ok and f"{m.label}_model_checks" in known:
                results[m.number].models = self.build([f"{m.label}_model_checks"], jobs=jobs)
        return results


_DOCTEST_NOISE = re.compile(r"^\[doctest\]|^=+$")


def failure_summary(output: str, max_lines: int = 14) -> str:
    """The part of a failed test's output a student needs first: the doctest error with its
    context, a sanitizer report's headline and first frames, or the timeout."""
    report = feedback.sanitizer_excerpt(output, feedback.Paths(ROOT))
    if report:
        return report
    lines = output.splitlines()
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


_ERROR = re.compile(r"\berror\b|^CMake Error|undefined reference", re.I)
_STOP = re.compile(r": warning:|^\[\d+/\d+\] |^FAILED: |^ninja: |^In file included from ")
_COMMAND = re.compile(r"^\S*(?:ccache|clang\+\+|clang|g\+\+|gcc|c\+\+|cc|ld)\s")


def compile_errors(output: str, max_lines: int = 12) -> str:
    """The first compiler errors of a failed build, each with what follows it (source line,
    caret, notes); warnings, progress lines and compiler command lines are left out, so they
    never crowd an error out."""
    lines, keep = [], False
    for line in output.splitlines():
        if not line.strip():
            continue
        if _COMMAND.match(line):
            keep = False
        elif _ERROR.search(line):
            keep = True
        elif _STOP.search(line):
            keep = False
        if keep:
            lines.append(line)
    return "\n".join(lines[:max_lines]) or output[-1500:]
