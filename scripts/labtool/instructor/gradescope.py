"""`scripts/lab gradescope-package OUT.zip`: the Gradescope autograder of one assignment.

    scripts/lab gradescope-package OUT.zip [--only N[,N]] [--hidden] [--repeat K]

The zip holds what Gradescope asks for (its autograder specification: `setup.sh` and
`run_autograder` at the top, unpacked to /autograder/source, the submission in
/autograder/submission, the results written to /autograder/results/results.json) and the
course as students get it (`course/`: the student release, never this repository: no
solutions, no mutants, no instructor files for a submission to read).

- setup.sh (once, when Gradescope builds the image, as root): installs the packages for the
  image's distribution (`scripts/lab packages --install`), makes the course root's and
  read-only for everyone else, and grades the starter once, so that the grader's build tree and
  compiler cache hold everything that does not depend on a submission.
- run_autograder (per submission): `scripts/lab grade /autograder/submission --out
  /autograder/results` for the assignment's milestones, with the options given here.

Both scripts take AUTOGRADER_ROOT (default /autograder), so the self-test runs them end to end
in a folder of its own (test_package() below), never in the machine's real root.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from ..console import LabError, info, paint
from ..course import ROOT, load_milestones
from . import export

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Written by `scripts/lab gradescope-package`; the settings are in assignment.json.
set -euo pipefail
AG="${AUTOGRADER_ROOT:-/autograder}"
COURSE="$AG/source/course"
export DEBIAN_FRONTEND=noninteractive
if ! command -v python3 >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 >/dev/null
fi
cd "$COURSE"
python3 scripts/lab packages --install
# The course belongs to root and nobody else may write it: the grader runs each submission
# as another user, which must not be able to change what later submissions are graded with.
chown -R 0:0 "$AG/source" 2>/dev/null || true
chmod -R go-w "$AG/source"
# Grade the starter once: the grader's build tree and compiler cache then hold everything that
# does not depend on a submission, and the first real submission builds only the student's code.
python3 scripts/lab grade "$COURSE/starter" --out "$AG/setup-warm" {grade_args} >/dev/null 2>&1 \\
  || echo "setup: the warm-up grade did not finish; the first submission builds from scratch"
rm -rf "$AG/setup-warm"
echo "setup: the course's autograder is ready"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. Written by `scripts/lab gradescope-package`.
set -uo pipefail
AG="${AUTOGRADER_ROOT:-/autograder}"
cd "$AG/source/course"
mkdir -p "$AG/results"
# grade writes results.json, junit.xml and summary.md whatever happens (a submission that
# does not compile, a rule it breaks, a grader error): Gradescope shows results.json.
python3 scripts/lab grade "$AG/submission" --out "$AG/results" {grade_args}
"""


def add_arguments(p) -> None:
    p.add_argument("out", help="the zip to write (e.g. m1-autograder.zip)")
    p.add_argument("--only", metavar="N[,N]",
                   help="the assignment's milestones (e.g. 1 or 2,3); all by default")
    p.add_argument("--hidden", action="store_true",
                   help="students see their results only when you publish the grades")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of every concurrency checkpoint; all must pass (default 3)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")


def _milestones(only: str | None) -> list[int]:
    numbers = [m.number for m in load_milestones()]
    if not only:
        return numbers
    try:
        chosen = sorted({int(x.strip().lower().lstrip("m")) for x in only.split(",") if x.strip()})
    except ValueError as exc:
        raise LabError(f"--only {only}: give milestone numbers, e.g. --only 1 or --only 2,3") from exc
    unknown = [n for n in chosen if n not in numbers]
    if unknown or not chosen:
        raise LabError(f"--only {only}: the course has milestones "
                       f"{', '.join(map(str, numbers))}")
    return chosen


def grade_arguments(milestones: list[int], hidden: bool, repeat: int) -> list[str]:
    args = ["--only", ",".join(map(str, milestones)), "--repeat", str(repeat)]
    return args + (["--hidden"] if hidden else [])


def write_package(out: Path, milestones: list[int], hidden: bool = False, repeat: int = 3,
                  force: bool = False) -> dict:
    """Writes the zip; returns what assignment.json says."""
    if repeat < 1:
        raise LabError("--repeat must be at least 1")
    if out.suffix != ".zip":
        raise LabError(f"{out}: the autograder is a .zip (Gradescope asks for one)")
    if out.exists() and not force:
        raise LabError(f"{out} exists; use --force to replace it")
    if not (ROOT / "solutions").is_dir():
        raise LabError("gradescope-package runs in the instructor's repository (it builds the "
                       "package from the student release it exports)")
    settings = {"milestones": milestones, "hidden": hidden, "repeat": repeat,
                "made": time.strftime("%Y-%m-%d %H:%M:%S")}
    args = " ".join(shlex.quote(a) for a in grade_arguments(milestones, hidden, repeat))
    with tempfile.TemporaryDirectory(prefix="lab-gradescope-") as tmp:
        course = Path(tmp) / "course"
        export.write_export(course)
        problems, _shared = export.leak_problems(course)
        if problems:
            raise LabError("the student release reveals solutions; fix that first "
                           "(scripts/lab export-student DIR lists the findings):\n- "
                           + "\n- ".join(problems[:20]))
        files = {
            "setup.sh": SETUP_SH.replace("{grade_args}", args),
            "run_autograder": RUN_AUTOGRADER.replace("{grade_args}", args),
            "assignment.json": json.dumps(settings, indent=2) + "\n",
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                info_ = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info_.external_attr = (0o100755 if name != "assignment.json" else 0o100644) << 16
                info_.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info_, text)
            for path in sorted(course.rglob("*")):
                if path.is_file():
                    z.write(path, "course/" + path.relative_to(course).as_posix())
        os.replace(part, out)
    return settings


def unpack(package: Path, root: Path) -> Path:
    """Unpacks the zip as Gradescope does (to ROOT/source, modes kept); returns that folder."""
    source = root / "source"
    with zipfile.ZipFile(package) as z:
        for member in z.infolist():
            z.extract(member, source)
            mode = member.external_attr >> 16
            if mode:
                (source / member.filename).chmod(mode & 0o7777)
    return source


def test_package(package: Path, submissions: dict[str, Path], timeout: float = 3600,
                 setup: bool = True) -> dict[str, dict]:
    """Runs setup.sh once and run_autograder for each submission in a folder laid out like
    /autograder (AUTOGRADER_ROOT), never the machine's root; returns each results.json."""
    root = Path(tempfile.mkdtemp(prefix="lab-autograder-"))
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), NO_COLOR="1")
    results = {}
    try:
        source = unpack(package, root)
        if setup:
            proc = subprocess.run(["bash", str(source / "setup.sh")], env=env,
                                  capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                raise LabError("setup.sh failed:\n" + (proc.stdout + proc.stderr)[-2000:])
        for name, submission in submissions.items():
            shutil.rmtree(root / "submission", ignore_errors=True)
            shutil.rmtree(root / "results", ignore_errors=True)
            shutil.copytree(submission, root / "submission", symlinks=True)
            proc = subprocess.run([str(source / "run_autograder")], env=env, cwd=root,
                                  capture_output=True, text=True, timeout=timeout)
            data_file = root / "results" / "results.json"
            if not data_file.exists():
                raise LabError(f"run_autograder wrote no results.json for {name} "
                               f"(exit {proc.returncode}):\n" + (proc.stdout + proc.stderr)[-2000:])
            results[name] = json.loads(data_file.read_text())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def run(args) -> int:
    out = Path(args.out).resolve()
    milestones = _milestones(args.only)
    info(f"writing the Gradescope autograder for milestone(s) {', '.join(map(str, milestones))} "
         f"to {out}")
    write_package(out, milestones, hidden=args.hidden, repeat=args.repeat, force=args.force)
    size = out.stat().st_size
    print(paint(f"\n{out} ({size // 1024} KiB)", "green"))
    print("Upload it as the assignment's autograder (Configure Autograder > Zip file upload),\n"
          "base image Ubuntu 22.04 or 24.04; see docs/instructor-guide.md, 'Gradescope'.")
    return 0


def selftest_problems(work: Path) -> list[str]:
    """The self-test's export step: the package of milestone 1, set up and run like Gradescope
    would (test_package) on a GitHub-style upload of the solved repository, on a file upload of
    the bare file, and on a file upload whose name a browser changed. Each score must be exact
    and the misnamed file a visible test that names the path to hand in."""
    m = next(x for x in load_milestones() if x.number == 1)
    solved = ROOT / "solutions" / m.slug / m.files[0]
    shutil.rmtree(work, ignore_errors=True)
    subs = work / "submissions"
    package = work / "m1-autograder.zip"
    write_package(package, [1], repeat=1)
    with zipfile.ZipFile(package) as z:
        z.extractall(work / "unzipped")
    github = subs / "github"
    shutil.copytree(work / "unzipped" / "course", github)
    shutil.copy2(solved, github / "starter" / m.slug / m.files[0])
    (subs / "upload").mkdir(parents=True)
    shutil.copy2(solved, subs / "upload" / m.files[0])
    misnamed = Path(m.files[0]).stem + " (1)" + Path(m.files[0]).suffix
    (subs / "misnamed").mkdir(parents=True)
    shutil.copy2(solved, subs / "misnamed" / misnamed)
    try:
        results = test_package(package, {n: subs / n for n in ("github", "upload", "misnamed")})
    except LabError as exc:
        return [f"gradescope package: {exc}"]
    problems = []
    full = float(m.max_points)
    for name, expected in (("github", full), ("upload", full), ("misnamed", 0.0)):
        data = results[name]
        if (data.get("score"), data.get("max_score")) != (expected, full):
            problems.append(f"gradescope package, {name} upload: {data.get('score')}/"
                            f"{data.get('max_score')}, expected {expected:g}/{full:g}")
    handin = [t for t in results["misnamed"]["tests"] if t["name"].startswith("Hand-in:")]
    if not handin or misnamed not in handin[0]["output"] or handin[0]["visibility"] != "visible":
        problems.append("gradescope package, misnamed upload: no visible 'Hand-in' test naming "
                        f"{misnamed!r}")
    if any(t["name"].startswith("Hand-in:") for t in results["upload"]["tests"]):
        problems.append("gradescope package, file upload: a 'Hand-in' test for a file of a "
                        "milestone the assignment does not grade")
    if not problems:
        shutil.rmtree(work, ignore_errors=True)
    return problems
