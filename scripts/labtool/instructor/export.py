"""`scripts/lab export-student DIR`: the students' repository, with nothing that reveals an answer.

    scripts/lab export-student DIR [--force] [--verify] [--no-git]

What goes in: the lessons, the starters, the checkpoints with their manifests (points, hints,
rules), the build files, the student's commands of scripts/lab (check, status, list, hint,
reset, watch, bench) and the grader (the shipped workflow runs it), the student-facing docs,
a README for students (scripts/templates/student-README.md) and a GitHub Actions workflow that
grades every push under ThreadSanitizer (scripts/templates/github-workflow-grade.yml).

What stays out: solutions/, every mutants.json and orders.json, the instructor-only checks (checkpoints/*/
instructor/, checkpoints/*/models/, and anything else used only inside `if(LAB_INSTRUCTOR)`),
the whole instructor package (scripts/labtool/instructor/: self-tests, this exporter), the
lab tool's unit tests, the fixtures and templates, the instructor docs, the repository's own
CI (.ci/). The exported CMakeLists.txt
turns LAB_INSTRUCTOR off by default.

Checks, always: no exported file has the content of a file of solutions/ (SHA-256), and no
exported line is a distinctive line of a solution (a line of solutions/ that no starter or
checkpoint file has). Then DIR becomes a git repository with one commit (so `scripts/lab reset`
works). With --verify: a clean clone of DIR configures, builds and runs `scripts/lab check`
(every checkpoint must fail: the starters are unsolved), `hint`, `reset`, and `grade` (the
workflow's command) -- all inside the clone.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from ..console import LabError, info, paint, table, warn
from ..course import ROOT
from ..release import release_overrides
from .leaks import INSTRUCTOR_DOCS, INSTRUCTOR_FOLDERS, find_leaks
from .verify_export import verify

# Paths (relative, POSIX) that never leave the instructor's repository.
DROP_PREFIXES = ("solutions/", ".ci/", ".github/", "scripts/templates/", "scripts/fixtures/",
                 "scripts/tests/", "scripts/labtool/instructor/", "build/", ".lab/", ".git/")
DROP_FILES = {
    "README.md",                              # replaced by the students' README
    *INSTRUCTOR_DOCS,                         # the instructor guide, design notes, order key
}
DROP_NAMES = {"mutants.json", "orders.json"}
# And checkpoints/NN-name/<INSTRUCTOR_FOLDERS>/ (the set is leaks.py's: the leak check skips
# exactly what the release leaves out).


def add_export_arguments(p):
    p.add_argument("dir", help="where to write the student repository (must not exist, or be "
                               "empty, unless --force)")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--no-git", action="store_true",
                   help="do not make DIR a git repository (scripts/lab reset needs one)")
    p.add_argument("--verify", action="store_true",
                   help="clone the export and run scripts/lab check, hint, reset and grade in "
                        "the clone (builds every starter under TSan: a few minutes)")
    p.add_argument("--keep", action="store_true", help="--verify: keep the clone")


# --- what is exported ------------------------------------------------------------------------

def _candidate_files() -> list[str]:
    """Every file of the working tree that git would commit (tracked or new, not ignored)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                           "--exclude-standard"], capture_output=True)
    if proc.returncode == 0:
        names = {n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n}
    else:
        names = set()
        for path in ROOT.rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and not rel.startswith(("build/", ".git/", ".lab/")) \
                    and "__pycache__" not in path.parts:
                names.add(rel)
    return sorted(n for n in names if (ROOT / n).is_file() and not (ROOT / n).is_symlink())


def _instructor_block_paths(checkpoint_dir: Path) -> set[str]:
    """Files and folders of a checkpoint folder that its CMakeLists.txt uses only inside
    `if(LAB_INSTRUCTOR ...)` blocks (relative to the checkpoint folder)."""
    cmake = checkpoint_dir / "CMakeLists.txt"
    if not cmake.exists():
        return set()
    lines = cmake.read_text(errors="replace").splitlines()
    inside, outside, depth = [], [], 0
    for line in lines:
        code = line.split("#", 1)[0]
        opens = len(re.findall(r"^\s*if\s*\(", code))
        closes = len(re.findall(r"^\s*endif\s*\(", code))
        if depth == 0 and opens and re.search(r"\bLAB_INSTRUCTOR\b", code) and \
                not re.search(r"NOT\s+LAB_INSTRUCTOR", code):
            depth = 1
            inside.append(code)
            continue
        if depth:
            depth += opens - closes
            inside.append(code)
            if depth <= 0:
                depth = 0
        else:
            outside.append(code)

    def tokens(text: str) -> set[str]:
        found = set()
        for token in re.findall(r"[\w${}./+-]+", text):
            token = re.sub(r"^\$\{CMAKE_CURRENT_(SOURCE|LIST)_DIR\}/", "", token)
            if token and not token.startswith("$") and (checkpoint_dir / token).exists():
                found.add(token.split("/")[0] if "/" in token else token)
        return found

    return tokens("\n".join(inside)) - tokens("\n".join(outside))


def exported_paths() -> list[str]:
    """The repository paths (relative) that the student release copies as they are."""
    dropped_in_checkpoints: set[str] = set()
    for folder in sorted((ROOT / "checkpoints").glob("[0-9][0-9]-*")):
        rel = folder.relative_to(ROOT).as_posix()
        for name in INSTRUCTOR_FOLDERS | _instructor_block_paths(folder):
            dropped_in_checkpoints.add(f"{rel}/{name}")
    result = []
    for rel in _candidate_files():
        if rel.startswith(DROP_PREFIXES) or rel in DROP_FILES:
            continue
        if Path(rel).name in DROP_NAMES or "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        if any(rel == d or rel.startswith(d + "/") for d in dropped_in_checkpoints):
            continue
        result.append(rel)
    return result


# --- leak checks -------------------------------------------------------------------------------

def _normalize(line: str) -> str:
    return " ".join(line.split())


def _text_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if b"\0" in data[:4096]:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


def distinctive_solution_lines() -> dict[str, str]:
    """Normalized lines of solutions/ that no starter, checkpoint or common file has, with
    where they come from. A line that short or that generic (braces, includes) is skipped."""
    public: set[str] = set()
    for folder in ("starter", "checkpoints"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                public.update(_normalize(l) for l in _text_lines(path))
    found: dict[str, str] = {}
    for path in sorted((ROOT / "solutions").rglob("*")):
        if not path.is_file():
            continue
        for i, line in enumerate(_text_lines(path), 1):
            norm = _normalize(line)
            if len(norm) < 24 or norm in public or not re.search(r"[A-Za-z]{3}", norm):
                continue
            if re.fullmatch(r"(#include|//|/\*|\*|-|\||#+)\s*\S{0,30}", norm):
                continue
            found.setdefault(norm, f"{path.relative_to(ROOT).as_posix()}:{i}")
    return found


def leak_problems(export_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings): exported files that are, or copy lines of, a file of solutions/.

    A problem: a file with the content of a solution file; outside lessons/, any line that is
    a distinctive line of a solution; in lessons/, a block of three or more consecutive such
    lines, or a solution's `Solution:` explanation. A single shared line in a lesson (a lesson
    shows the technique, e.g. `std::lower_bound` over the bounds) is a warning to review."""
    problems, warnings = [], []
    solution_hashes = {}
    for path in (ROOT / "solutions").rglob("*"):
        if path.is_file():
            solution_hashes[hashlib.sha256(path.read_bytes()).hexdigest()] = \
                path.relative_to(ROOT).as_posix()
    lines = distinctive_solution_lines()
    for path in sorted(export_dir.rglob("*")):
        if not path.is_file() or ".git" in path.relative_to(export_dir).parts:
            continue
        rel = path.relative_to(export_dir).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in solution_hashes:
            problems.append(f"{rel} has the content of {solution_hashes[digest]}")
            continue
        matches = []
        for i, line in enumerate(_text_lines(path), 1):
            source = lines.get(_normalize(line))
            if source:
                matches.append((i, source, _normalize(line)))
        numbers = {i for i, _, _ in matches}
        for i, source, text in matches:
            what = f"{rel}:{i} is the solution's line ({source}): {text[:100]}"
            in_block = {i - 2, i - 1} <= numbers or {i - 1, i + 1} <= numbers or \
                {i + 1, i + 2} <= numbers
            if not rel.startswith("lessons/") or in_block or "Solution:" in text:
                problems.append(what)
            else:
                warnings.append(what)
    # Solution code in the exported starter's comments, strings, Markdown or early hints.
    problems += [str(leak) for leak in find_leaks(ROOT, export_dir)]
    return problems, warnings


def link_warnings(export_dir: Path) -> list[str]:
    """Relative Markdown links of the export that point at files it does not have."""
    warnings = []
    for path in sorted(export_dir.rglob("*.md")):
        if ".git" in path.relative_to(export_dir).parts:
            continue
        fenced = False  # inside a ``` block: code, where `data[1](RL_INFO)` is no link
        for i, line in enumerate(_text_lines(path), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            if fenced:
                continue
            for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", line):
                if re.match(r"[a-z]+:", target) or target.startswith("/"):
                    continue
                if not (path.parent / target).exists():
                    warnings.append(f"{path.relative_to(export_dir)}:{i}: link to {target}, "
                                    "which the student release does not have")
    return warnings


# --- writing ----------------------------------------------------------------------------------

def _prepare(dest: Path, force: bool) -> None:
    dest = dest.resolve()
    if dest == ROOT or ROOT.is_relative_to(dest) or dest == Path(dest.anchor):
        raise LabError(f"refusing to write the export to {dest}: it contains the course")
    if dest.is_relative_to(ROOT) and not dest.is_relative_to(ROOT / "build"):
        raise LabError(f"{dest} is inside the course repository; write the export outside it "
                       "(or under build/)")
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise LabError(f"{dest} exists and is not empty; use --force to replace it")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)


def write_export(dest: Path, force: bool = False) -> list[str]:
    """Writes the student release to dest; returns the relative paths written."""
    _prepare(dest, force)
    dest = dest.resolve()
    overrides = release_overrides()
    written = []
    for rel in exported_paths():
        if rel in overrides:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
        written.append(rel)
    for rel, data in overrides.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(rel)
    (dest / "scripts" / "lab").chmod(0o755)
    return sorted(written)


def git_commit(dest: Path) -> None:
    def git(*args):
        proc = subprocess.run(["git", "-C", str(dest), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise LabError(f"git {' '.join(args)} failed in {dest}:\n{proc.stderr}")
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.name=Lab export", "-c", "user.email=lab-export@localhost", "commit", "-q",
        "-m", "Student release of the lock-free metrics course")


# --- entry ------------------------------------------------------------------------------------

def run_export(args) -> int:
    if not (ROOT / "solutions").is_dir():
        raise LabError("export-student runs in the instructor's repository (it has solutions/)")
    dest = Path(args.dir)
    info(f"writing the student release to {dest}")
    written = write_export(dest, args.force)
    dest = dest.resolve()
    print(f"  {len(written)} files")
    problems, shared = leak_problems(dest)
    for w in link_warnings(dest):
        warn(w)
    if shared:
        warn(f"{len(shared)} line(s) of the lessons also appear in a solution; review that "
             "none gives an exercise away:")
        for line in shared[:40]:
            print("  " + line)
    if problems:
        print(paint(f"\nThe export reveals solutions ({len(problems)} finding(s)):", "red"))
        for p in problems[:60]:
            print("- " + p)
        print("\nFix the files above (or the checks in scripts/labtool/instructor/export.py); the export in "
              f"{dest} must not be published.")
        return 1
    info("no exported file is a reference solution or copies its code"
         + (" (review the lesson lines above)" if shared else ""))
    if not args.no_git:
        git_commit(dest)
        info("committed as a new git repository (branch main)")
    if args.verify:
        if args.no_git:
            raise LabError("--verify clones the export: drop --no-git")
        info("verifying in a clean clone: check, hint, reset, grade (builds every starter "
             "under TSan)")
        steps = verify(dest, args.keep)
        print()
        print(table(["Step", "Result", "Detail"],
                    [[n, paint("ok", "green") if ok else paint("FAIL", "red"),
                      d.splitlines()[0][:100] if d else ""] for n, ok, d in steps]))
        failed = [s for s in steps if not s[1]]
        for name, _, detail in failed:
            print(f"\n{name}:\n{detail}")
        if failed:
            return 1
    print(paint(f"\nStudent release ready in {dest}", "green"))
    return 0
