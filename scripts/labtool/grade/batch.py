"""`scripts/lab grade --batch DIR`: every submission (folder or archive) of DIR graded into
OUT/<name>/, and OUT/grades.csv; resumable (a submission with results.json is skipped).

Any submission name is safe: the per-submission folders are OUT/<name>/ with names capped,
made unique and never one of the batch's own files (grades.csv and its temporary file);
grades.csv is written atomically, its cells are neutralised for spreadsheets (a leading =, +,
-, @, tab or carriage return is quoted with '), and the batch ends with exit 0 or 2."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..console import LabError, info, paint, warn
from ..course import ROOT, Milestone, load_milestones
from .archive import write_atomic
from .args import Options, option_arguments
from .class_report import class_report, read_student
from .pipeline import grade_submission
from .roster import write_lms_csv
from .submission import walk_submission


_ARCHIVE = re.compile(r"\.(zip|tar|tar\.gz|tgz|tar\.bz2|tar\.xz)$", re.I)
MAX_NAME = 80                                   # characters of an output folder's name
RESERVED = {"grades.csv", "grades.csv.tmp"}     # the batch's own files in OUT
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _batch_name(path: Path) -> str:
    """A folder name for OUT/: letters, digits and ._-, at most MAX_NAME characters (a long
    name keeps a hash of the whole), never starting with '.' or '-', never a batch file."""
    name = _ARCHIVE.sub("", path.name) if path.is_file() else path.name
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".-") or "submission"
    if len(safe) > MAX_NAME or safe != name:
        digest = hashlib.sha256(os.fsencode(path.name)).hexdigest()[:8]
        safe = f"{safe[:MAX_NAME - 9]}-{digest}" if len(safe) > MAX_NAME else safe
    if safe.lower() in RESERVED:
        safe += "_submission"
    return safe


def unique_names(entries: list[Path]) -> list[str]:
    names, seen = [], set()
    for entry in entries:
        name = base = _batch_name(entry)
        n = 1
        while name.lower() in seen:
            n += 1
            name = f"{base[:MAX_NAME - 6]}_{n}"
        seen.add(name.lower())
        names.append(name)
    return names


def cell(value) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


class _NeutralWriter:
    """csv.writer whose every cell goes through cell()."""

    def __init__(self, fh) -> None:
        self._rows = csv.writer(fh)

    def writerow(self, row) -> None:
        self._rows.writerow([cell(v) for v in row])


def batch_entries(folder: Path) -> list[tuple[Path, str]]:
    """(submission, its name in OUT) for every folder or archive of a batch folder."""
    entries = sorted(p for p in folder.iterdir()
                     if not p.name.startswith(".") and (p.is_dir() or _ARCHIVE.search(p.name)))
    return list(zip(entries, unique_names(entries)))


def write_class_report(folder: Path, out: Path, milestones: list[Milestone]) -> Path:
    """OUT/class-report.md (and its chart and the ORDERING.md review) of a graded batch."""
    students = [read_student(name, out, entry, milestones)
                for entry, name in batch_entries(folder)]
    class_report(out, students, milestones)
    return out / "class-report.md"


def write_grades_csv(out: Path, names: list[str], milestones: list[Milestone]) -> Path:
    path = out / "grades.csv"
    fd, tmp_name = tempfile.mkstemp(prefix=".grades-", suffix=".csv.tmp", dir=out)
    tmp = Path(tmp_name)
    with os.fdopen(fd, "w", newline="") as fh:
        writer = _NeutralWriter(fh)
        writer.writerow(["submission", "score", "max_score", "percent"]
                        + [m.label for m in milestones]
                        + ["inconclusive", "skipped", "status", "seconds", "results"])
        for name in names:
            results = out / name / "results.json"
            if not results.exists():
                writer.writerow([name, "", "", ""] + [""] * len(milestones)
                                + ["", "", "not graded", "", ""])
                continue
            try:
                data = json.loads(results.read_text())
            except (OSError, json.JSONDecodeError):
                writer.writerow([name, "", "", ""] + [""] * len(milestones)
                                + ["", "", "unreadable results.json", "", str(results)])
                continue
            per = {d["number"]: d["score"] for d in data.get("extra_data", {}).get("milestones", [])}
            score, max_score = data.get("score", 0), data.get("max_score", 0)
            percent = f"{100 * score / max_score:.1f}" if max_score else ""
            status = "error" if data.get("extra_data", {}).get("error") else "graded"
            tags = [t.get("tags", []) for t in data.get("tests", [])]
            # Checkpoints that gave no verdict: re-grade them on a quieter (inconclusive) or
            # bigger (skipped) machine; they earned nothing and cost nothing.
            inconclusive = sum("inconclusive" in t for t in tags)
            skipped = sum("skipped" in t for t in tags)
            writer.writerow([name, f"{score:g}", f"{max_score:g}", percent]
                            + [per.get(m.number, "") for m in milestones]
                            + [inconclusive, skipped, status, data.get("execution_time", ""),
                               str(results.relative_to(out))])
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def run_batch(folder: Path, out: Path, work: Path, opts: Options, force: bool,
              roster: Path | None = None) -> int:
    """Grades the batch; 0 when every submission was graded, 2 otherwise (never a crash)."""
    try:
        return _run_batch(folder, out, work, opts, force, roster)
    except (LabError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - a batch ends with 0 or 2, and says why
        raise LabError(f"the batch stopped: {type(exc).__name__}: {exc}\n"
                       + traceback.format_exc()) from exc


def _run_batch(folder: Path, out: Path, work: Path, opts: Options, force: bool,
               roster: Path | None) -> int:
    if not folder.is_dir():
        raise LabError(f"--batch {folder}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    pairs = batch_entries(folder)
    entries = [e for e, _ in pairs]
    names = [n for _, n in pairs]
    # Other students' submissions and reports: never readable by a sandboxed process.
    opts = replace(opts, private=(*opts.private, folder.resolve(), out.resolve()))
    all_ms = load_milestones()
    graded = [m for m in all_ms if opts.only is None or m.number in opts.only]
    errors = 0
    todo = []
    for i, (entry, name) in enumerate(zip(entries, names), 1):
        key = grading_key(entry, opts)
        done = _graded_key(out / name)
        if done == key and not force:
            info(f"[{i}/{len(entries)}] {name}: already graded, unchanged (use --force to grade "
                 "again)")
            continue
        if done is not None and not force:
            info(f"[{i}/{len(entries)}] {name}: graded before, but the submission or the "
                 "options (--only, --repeat, --deadline, ...) changed since: grading again")
        todo.append((i, entry, name, key))

    def one(job) -> tuple[str, float | None, bool]:
        """Grades one submission; (name, score or None, grader error?)."""
        i, entry, name, key = job
        target = out / name
        _forget_key(target)
        # Its own work tree (overlay and build), removed afterwards: nothing one submission
        # leaves behind reaches the next. The compiler cache is shared (only the compiler
        # writes it, never while student code runs).
        tree = work / "batch" / name
        try:
            if opts.jobs_submissions > 1:
                ok, score, max_score = _grade_in_child(entry, target, tree, opts)
                line = f"[{i}/{len(entries)}] {name}: " + (
                    f"{score:g}/{max_score:g}" if ok else "grader error")
                print(line if ok else paint(line, "red"), flush=True)
            else:
                info(f"[{i}/{len(entries)}] {name}")
                report = grade_submission(entry, target, tree,
                                          replace(opts, ccache=opts.ccache or work / "ccache"),
                                          all_ms)
                ok, score = not report.error, report.score
                print(f"    {report.score:g}/{report.max_score:g}"
                      + (paint("  grader error", "red") if report.error else ""))
            if ok:
                _remember_key(target, key)
            return name, score, not ok
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
            warn(f"{name}: {exc}\n{traceback.format_exc()}")
            return name, None, True
        finally:
            shutil.rmtree(tree, ignore_errors=True)

    if opts.jobs_submissions > 1 and len(todo) > 1:
        info(f"grading {len(todo)} submission(s), {opts.jobs_submissions} at a time")
        with ThreadPoolExecutor(max_workers=opts.jobs_submissions) as pool:
            for _name, _score, failed in pool.map(one, todo):
                errors += failed
    else:
        for job in todo:
            _name, _score, failed = one(job)
            errors += failed
            if opts.sandbox == "auto":
                # The mode chosen for the first submission is kept: a later failure of it is
                # a grader error, never a quiet step down to a weaker one.
                mode = _sandbox_of(out / _name)
                if mode:
                    opts = replace(opts, sandbox=mode)
            try:
                write_grades_csv(out, names, graded)
            except OSError as exc:
                errors += 1
                warn(f"cannot write {out / 'grades.csv'} yet: {exc}")
    try:
        path = write_grades_csv(out, names, graded)
    except OSError as exc:
        raise LabError(f"cannot write {out / 'grades.csv'}: {exc}") from exc
    if roster is not None:
        lms, unmatched = write_lms_csv(out, roster, pairs, cell)
        path = f"{path} and {lms}"
        if unmatched:
            warn(f"{len(unmatched)} submission(s) no roster row names (listed at the end of "
                 f"{lms.name}): " + ", ".join(unmatched[:10]))
    try:
        glance = f", the class at a glance in {write_class_report(folder, out, graded)}"
    except Exception as exc:  # noqa: BLE001 - the grades are written; the report is a summary
        errors += 1
        glance = ""
        warn(f"the class report failed: {exc}\n{traceback.format_exc()}")
    print(f"\n{len(entries)} submission(s); grades in {path}{glance}"
          + (f"; {errors} with grader errors" if errors else ""))
    return 2 if errors else 0



# --- what was graded, and when to grade again --------------------------------------------------

KEY_FILE = "graded-key.txt"


def grading_key(entry: Path, opts: Options) -> str:
    """A hash of what decides a grade: the submission's content (every regular file a grader
    reads, git's HEAD commit for a repository) and the options that change the verdict. A
    submission graded with the same key is not graded again."""
    h = hashlib.sha256()
    settings = {"only": opts.only, "repeat": opts.repeat, "deadline": opts.deadline,
                "test_timeout": opts.test_timeout, "tamper_rules": opts.tamper_rules}
    h.update(json.dumps(settings, sort_keys=True).encode())
    if entry.is_file():
        with open(entry, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    for path in sorted(walk_submission(entry)):
        rel = path.relative_to(entry).as_posix()
        h.update(b"\0" + os.fsencode(rel) + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
    head = _git_head(entry / ".git")
    if head:
        h.update(b"\0HEAD\0" + head.encode())
    return h.hexdigest()


def _git_head(git: Path) -> str:
    """The commit HEAD names, read from the files (git itself never runs in a submission)."""
    try:
        text = (git / "HEAD").read_text(errors="replace").strip()
        if text.startswith("ref: "):
            ref = text[5:].strip()
            loose = git / ref
            if loose.is_file() and not loose.is_symlink():
                return loose.read_text(errors="replace").strip()
            packed = git / "packed-refs"
            for line in packed.read_text(errors="replace").splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
            return ""
        return text
    except OSError:
        return ""


def _graded_key(target: Path) -> str | None:
    if not (target / "results.json").exists():
        return None
    try:
        return (target / KEY_FILE).read_text().strip()
    except OSError:
        return ""          # graded by an older grader: its key is unknown, so grade again


def _remember_key(target: Path, key: str) -> None:
    write_atomic(target / KEY_FILE, key + "\n")


def _forget_key(target: Path) -> None:
    try:
        (target / KEY_FILE).unlink()
    except OSError:
        pass


def _sandbox_of(target: Path) -> str | None:
    try:
        data = json.loads((target / "results.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data.get("extra_data", {}).get("sandbox")


def _grade_in_child(entry: Path, target: Path, tree: Path, opts: Options) -> tuple[bool, float, float]:
    """`scripts/lab grade` for one submission in a process of its own (--jobs-submissions):
    the grader's process-wide state (its reaper, its sandbox uid lock) is then its own."""
    cmd = [sys.executable, str(ROOT / "scripts" / "lab"), "grade", str(entry), "--out",
           str(target), "--work", str(tree), *option_arguments(opts)]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                          env=dict(os.environ, NO_COLOR="1"))
    try:
        data = json.loads((target / "results.json").read_text())
    except (OSError, json.JSONDecodeError):
        warn(f"{target.name}: the grader wrote no results.json (exit {proc.returncode}):\n"
             + (proc.stdout + proc.stderr)[-1500:])
        return False, 0.0, 0.0
    ok = proc.returncode == 0 and not data.get("extra_data", {}).get("error")
    return ok, float(data.get("score", 0)), float(data.get("max_score", 0))


# --- `scripts/lab class-report` ------------------------------------------------------------------

def add_class_report_arguments(p) -> None:
    p.add_argument("out", help="the --out folder of a `scripts/lab grade --batch` run")
    p.add_argument("--submissions", required=True, metavar="DIR",
                   help="the batch's submissions folder (the --batch DIR), for the files")


def run_class_report(args) -> int:
    out, folder = Path(args.out), Path(args.submissions)
    if not (out / "grades.csv").is_file():
        raise LabError(f"{out} has no grades.csv: give the --out folder of a "
                       "`scripts/lab grade --batch DIR --out OUT` run")
    if not folder.is_dir():
        raise LabError(f"--submissions {folder}: not a directory")
    path = write_class_report(folder, out, load_milestones())
    info(f"the class at a glance: {path} (chart: {out / 'class-scores.svg'}, written work: "
         f"{out / 'ordering-review.md'})")
    return 0
