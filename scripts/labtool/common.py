"""Shared pieces of the lab tool: paths, output, manifests, rules and system packages.

Everything here is standard library only, so `scripts/lab` runs on a fresh Debian 12 with
nothing but python3 installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = ROOT / "checkpoints"
STATE_DIR = ROOT / ".lab"


# --- output -----------------------------------------------------------------------------

def _use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


_COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}


def paint(text: str, colour: str, stream=sys.stdout) -> str:
    """Wraps text in an ANSI colour when `stream` is a terminal and NO_COLOR is unset."""
    if not _use_colour(stream):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def info(msg: str) -> None:
    print(paint("==> ", "blue") + msg, flush=True)


def warn(msg: str) -> None:
    print(paint("warning: ", "yellow", sys.stderr) + msg, file=sys.stderr, flush=True)


class LabError(Exception):
    """An error the user can fix; the message says how. Exit code 2."""


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Renders a plain-text table (colour codes inside cells are allowed)."""
    strip = re.compile(r"\033\[[0-9;]*m")
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(strip.sub("", cell)))

    def line(cells):
        out = []
        for i, cell in enumerate(cells):
            pad = widths[i] - len(strip.sub("", cell))
            out.append(cell + " " * pad)
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


# --- manifests --------------------------------------------------------------------------

@dataclass
class Test:
    name: str
    points: int
    concurrency: bool = False


@dataclass
class Milestone:
    number: int
    slug: str
    title: str
    files: list[str]
    depends: list[int]
    tests: list[Test]
    hints: list[str]
    forbidden: list[dict]
    directory: Path = field(repr=False, default=Path())

    @property
    def label(self) -> str:
        return f"m{self.number}"

    @property
    def max_points(self) -> int:
        return sum(t.points for t in self.tests)

    def ctest_name(self, test: Test | str) -> str:
        name = test.name if isinstance(test, Test) else test
        return f"{self.label}/{name}"

    def mutants(self) -> list[dict]:
        path = self.directory / "mutants.json"
        if not path.exists():
            return []
        return json.loads(path.read_text())


def load_milestones(checkpoints: Path = CHECKPOINTS) -> list[Milestone]:
    """Reads every checkpoints/NN-name/manifest.json, in milestone order."""
    result = []
    for path in sorted(checkpoints.glob("[0-9][0-9]-*/manifest.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise LabError(f"{path.relative_to(ROOT)} is not valid JSON: {exc}") from exc
        result.append(Milestone(
            number=int(data["number"]),
            slug=data["slug"],
            title=data["title"],
            files=list(data["files"]),
            depends=[int(d) for d in data.get("depends", [])],
            tests=[Test(t["name"], int(t["points"]), bool(t.get("concurrency", False)))
                   for t in data["tests"]],
            hints=list(data.get("hints", [])),
            forbidden=list(data.get("forbidden", [])),
            directory=path.parent,
        ))
    return result


def select_milestones(milestones: list[Milestone], which: str | None) -> list[Milestone]:
    """Picks milestones by '3', '03', 'm3' or '03-histogram'; all when `which` is None."""
    if which is None:
        return milestones
    key = which.lower().lstrip("m")
    for m in milestones:
        if key in (str(m.number), f"{m.number:02d}", m.slug) or m.slug.startswith(key + "-"):
            return [m]
    names = ", ".join(f"{m.number} ({m.slug})" for m in milestones)
    raise LabError(f"no milestone '{which}'. Choose one of: {names}")


# --- rules on student files --------------------------------------------------------------

_CODE_NOISE = re.compile(
    r"//[^\n]*|/\*.*?\*/|R\"(?P<d>[^(]*)\(.*?\)(?P=d)\"|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
    re.S)


def strip_comments_and_strings(source: str) -> str:
    """Blanks out comments and string literals, keeping line numbers."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))
    return _CODE_NOISE.sub(blank, source)


def forbidden_violations(milestone: Milestone, track_dir: Path) -> list[str]:
    """Returns 'file:line: why' for every forbidden construct in the milestone's files."""
    found = []
    for name in milestone.files:
        path = track_dir / milestone.slug / name
        if not path.exists() or path.suffix not in (".hpp", ".cpp", ".h", ".cc"):
            continue
        code = strip_comments_and_strings(path.read_text(errors="replace"))
        for rule in milestone.forbidden:
            for match in re.finditer(rule["regex"], code):
                line = code.count("\n", 0, match.start()) + 1
                found.append(f"{milestone.slug}/{name}:{line}: '{match.group(0)}': {rule['why']}")
    return found


# --- system packages ---------------------------------------------------------------------

# Debian packages and one file each that proves it is installed.
STUDENT_PACKAGES = {
    "cmake": "/usr/bin/cmake",
    "ninja-build": "/usr/bin/ninja",
    "clang": "/usr/bin/clang++",
    "libclang-rt-dev": None,  # TSan runtime; checked with dpkg below
    "doctest-dev": "/usr/include/doctest/doctest.h",
    "ccache": "/usr/bin/ccache",
    "git": "/usr/bin/git",
}
INSTRUCTOR_PACKAGES = {
    **STUDENT_PACKAGES,
    "g++": "/usr/bin/g++",
    "libbenchmark-dev": "/usr/include/benchmark/benchmark.h",
    "relacy-dev": "/usr/include/relacy/relacy.hpp",
    "prometheus": "/usr/bin/prometheus",
    "libcpp-httplib-dev": "/usr/include/httplib.h",
    "python3-prometheus-client": None,
}


def _dpkg_installed(package: str) -> bool:
    if not shutil.which("dpkg-query"):
        return True  # not Debian: we cannot tell, the build will say
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                         capture_output=True, text=True)
    return out.returncode == 0 and "install ok installed" in out.stdout


def missing_packages(packages: dict[str, str | None]) -> list[str]:
    """Packages whose proof file is absent (or, without one, that dpkg says are not installed)."""
    missing = []
    for package, proof in packages.items():
        present = Path(proof).exists() if proof is not None else _dpkg_installed(package)
        if not present:
            missing.append(package)
    return missing


def ensure_packages(packages: dict[str, str | None]) -> None:
    """Installs missing Debian packages when we may (root or passwordless sudo), else says how."""
    missing = missing_packages(packages)
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"],
                                                 capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        raise LabError("missing packages: " + " ".join(missing) + "\nInstall them with:\n  sudo "
                       + "apt-get update && sudo " + " ".join(command))
    info("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(prefix + ["apt-get", "update", "-qq"], env=env, check=False)
    result = subprocess.run(prefix + command, env=env)
    if result.returncode != 0:
        raise LabError("apt-get could not install " + " ".join(missing)
                       + "; run it by hand to see why:\n  " + " ".join(prefix + command))


# --- state (hints shown, last results) -----------------------------------------------------

def load_state() -> dict:
    path = STATE_DIR / "state.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            warn(f"{path} is damaged; starting a fresh one")
    return {}


def save_state(state: dict) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    tmp = STATE_DIR / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(STATE_DIR / "state.json")
