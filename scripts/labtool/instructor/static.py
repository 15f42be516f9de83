"""Selftest step 1, static: manifests, starters, solutions, mutants and the checkpoint sources
agree, the rules hold on the solutions, and the lab tool's own unit tests pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from ..course import ROOT, Milestone, is_code
from ..grade.rules import forbidden_violations
from .leaks import find_leaks
from .ta_guide import guide_problems
from .report import StepReport
from .standalone import check_tree

# doctest's --test-case filter treats these specially (CTest passes manifest names to it), and
# CMake splits lists at ';'. Lab.cmake refuses them too.
FILTER_SPECIAL = ",*?[]\\;"
_TEST_CASE = re.compile(r'^[ \t]*TEST_CASE[ \t]*\([ \t]*"((?:[^"\\]|\\.)*)"', re.M)


def source_test_names(m: Milestone) -> list[str]:
    """The TEST_CASE names written in the milestone's checkpoint sources."""
    names = []
    for path in sorted(m.directory.glob("*.cpp")):
        names += _TEST_CASE.findall(path.read_text(errors="replace"))
    return names


def drift(m: Milestone) -> list[str]:
    """TEST_CASEs the manifest does not list (no points, never run by CTest) and manifest tests
    no source defines (they would fail for everyone)."""
    in_sources = source_test_names(m)
    in_manifest = [t.name for t in m.tests]
    problems = [f"{m.slug}: TEST_CASE \"{n}\" is in the sources but not in manifest.json"
                for n in in_sources if n not in in_manifest]
    problems += [f"{m.slug}: manifest test \"{n}\" has no TEST_CASE in the sources"
                 for n in in_manifest if n not in in_sources]
    return problems


def manifest_problems(m: Milestone) -> list[str]:
    problems = []
    names = [t.name for t in m.tests]
    if len(set(n.lower() for n in names)) != len(names):
        problems.append(f"{m.slug}: two tests share a name (doctest names are case-insensitive)")
    for n in names:
        if any(c in n for c in FILTER_SPECIAL):
            problems.append(f"{m.slug}: test name '{n}' has a character doctest filters treat "
                            "specially (, * ? [ ] \\ ;)")
    if len(m.hints) < 3:
        problems.append(f"{m.slug}: fewer than three hints")
    for name in m.stretch_files:      # a stretch exercise climbs the full four-rung ladder
        if len(m.stretch_hints.get(name, [])) != 4:
            problems.append(f"{m.slug}: stretch exercise {name} has "
                            f"{len(m.stretch_hints.get(name, []))} stretch hints, not 4")
    for t in m.tests:
        if t.needs_cpus < 1 or t.points < 0:
            problems.append(f"{m.slug}: test '{t.name}' has points < 0 or needs_cpus < 1")
    return problems + drift(m)


def track_problems(m: Milestone) -> list[str]:
    problems = []
    for f in m.files:
        for track in ("starter", "solutions"):
            if not (ROOT / track / m.slug / f).exists():
                problems.append(f"{track}/{m.slug}/{f} is listed in the manifest but missing")
        sol = ROOT / "solutions" / m.slug / f
        if sol.exists() and "TODO" in sol.read_text(errors="replace"):
            problems.append(f"solutions/{m.slug}/{f} still says TODO")
    starters = [ROOT / "starter" / m.slug / f for f in m.files if is_code(f)]
    if starters and not any("LAB_TODO" in p.read_text() for p in starters if p.exists()):
        problems.append(f"starter/{m.slug}: no LAB_TODO: a starter must fail loudly")
    return problems + [f"solution breaks a rule: {v}"
                       for v in forbidden_violations(m, ROOT / "solutions")]


def mutant_problems(m: Milestone) -> list[str]:
    problems = []
    names = {t.name for t in m.tests}
    claimed = {k for mut in m.mutants() for k in mut["killed_by"]}
    for n in sorted(names - claimed):
        problems.append(f"{m.slug}: checkpoint '{n}' has no mutant that it must kill "
                        "(add one to mutants.json)")
    seen = set()
    for mut in m.mutants():
        if mut["name"] in seen:
            problems.append(f"{m.slug}: two mutants named {mut['name']}")
        seen.add(mut["name"])
        for k in mut["killed_by"]:
            if k not in names:
                problems.append(f"{m.slug}: mutant {mut['name']} names unknown test '{k}'")
    return problems


OLDEST_PYTHON = (3, 10)   # Gradescope's default image (Ubuntu 22.04) has 3.10


def oldest_python() -> list[str] | None:
    """A command that runs the oldest Python the tool supports, or None when there is none:
    `python3.10` on PATH (not a pyenv shim), else pyenv's newest 3.10.x."""
    major, minor = OLDEST_PYTHON
    exe = shutil.which(f"python{major}.{minor}")
    if exe and "/shims/" not in exe:        # a pyenv shim fails unless that version is selected
        return [exe]
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return None
    proc = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
    found = [v.strip() for v in proc.stdout.split()
             if v.strip().startswith(f"{major}.{minor}.")]
    if proc.returncode != 0 or not found:
        return None
    best = max(found, key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")])
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
    exe = os.path.join(root, "versions", best, "bin", "python3")
    return [exe] if os.access(exe, os.X_OK) else None


def unit_tests(notes: list[str]) -> list[str]:
    """The lab tool's own tests (scripts/tests/, standard-library unittest), under this Python
    and under the oldest supported one when the machine has it (a note says when it has not)."""
    pythons = [("", [sys.executable])]
    oldest = oldest_python()
    if oldest is None:
        notes.append("no Python %d.%d found (python3.%d or pyenv): the unit tests ran under "
                     "this Python only" % (*OLDEST_PYTHON, OLDEST_PYTHON[1]))
    else:
        pythons.append((" (Python %d.%d)" % OLDEST_PYTHON, oldest))
    problems = []
    for label, cmd in pythons:
        proc = subprocess.run(cmd + ["-m", "unittest", "discover", "-s", "scripts/tests",
                                     "-t", "scripts", "-q"], cwd=ROOT, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            problems.append(f"scripts/tests failed{label}:\n" + (proc.stdout + proc.stderr)[-3000:])
    return problems


def static_checks(milestones: list[Milestone], report: StepReport) -> None:
    problems = []
    for m in milestones:
        problems += manifest_problems(m) + track_problems(m) + mutant_problems(m)
    notes: list[str] = []
    problems += unit_tests(notes)
    problems += [str(f) for f in check_tree(ROOT)]  # the repository stands alone
    problems += [str(leak) for leak in find_leaks(ROOT)]  # TODOs and early hints ask, never tell
    problems += guide_problems()          # docs/ta-guide.md lists every mutant and checkpoint
    n_mutants = sum(len(m.mutants()) for m in milestones)
    report.add("static", not problems,
               f"{len(milestones)} manifests, {sum(len(m.tests) for m in milestones)} tests, "
               f"{n_mutants} mutants; rules hold on solutions; unit tests pass"
               + "".join(f"; {n}" for n in notes) if not problems
               else f"{len(problems)} problem(s)", problems)
