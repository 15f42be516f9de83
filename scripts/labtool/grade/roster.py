"""`--roster FILE`: the batch's grades under the students' IDs, for an LMS gradebook import.

The roster is a CSV file with a header row; two columns are required:
  submission   the name of the student's folder or archive in the batch folder (as handed in,
               or as it appears in grades.csv)
  id           what the LMS knows the student by (a student number, an e-mail, a login)
Every other column (a name, a section) is carried over as it is.

OUT/grades-lms.csv then has one row per roster row, in the roster's order: the roster's columns,
then score, max_score, percent and status ("graded", "error", "not graded", or "no submission"
for a student the batch folder has nothing from). Submissions no roster row names are listed
at the end with an empty id, so nobody's grade is dropped without a trace. Cells are neutralised
for spreadsheets as grades.csv's are.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from ..console import LabError

REQUIRED = ("submission", "id")


def read_roster(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The roster's columns and rows; a clear error for a file that is not one."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabError(f"--roster {path}: cannot read it as a UTF-8 CSV file ({exc})") from exc
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise LabError(f"--roster {path}: the header row needs the columns "
                       f"{', '.join(REQUIRED)} (it has: {', '.join(columns) or 'none'}); e.g.\n"
                       "  submission,id,name\n  alice-repo,s1234567,Alice Example")
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, 2):
        key = row["submission"]
        if not key:
            raise LabError(f"--roster {path}, line {i}: no submission name")
        if key in seen:
            raise LabError(f"--roster {path}, lines {seen[key]} and {i}: the submission "
                           f"'{key}' is named twice")
        seen[key] = i
    return columns, rows


def write_lms_csv(out: Path, roster: Path, entries: list[tuple[Path, str]],
                  cell=str) -> tuple[Path, list[str]]:
    """OUT/grades-lms.csv from OUT/grades.csv and the roster; returns it and the names of the
    submissions no roster row named. `entries` are the batch's (submission, name in OUT)."""
    columns, rows = read_roster(roster)
    grades: dict[str, dict[str, str]] = {}
    with open(out / "grades.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            grades[row["submission"]] = row
    by_handed_in = {entry.name: name for entry, name in entries}
    by_handed_in.update({name: name for _entry, name in entries})
    used: set[str] = set()
    fields = columns + ["score", "max_score", "percent", "status"]
    fd, tmp = tempfile.mkstemp(prefix=".grades-lms-", suffix=".csv.tmp", dir=out)
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([cell(c) for c in fields])
        for row in rows:
            name = by_handed_in.get(row["submission"])
            graded = grades.get(name) if name else None
            if name:
                used.add(name)
            values = [row.get(c, "") for c in columns]
            if graded is None:
                values += ["", "", "", "no submission" if name is None else "not graded"]
            else:
                values += [graded.get("score", ""), graded.get("max_score", ""),
                           graded.get("percent", ""), graded.get("status", "")]
            writer.writerow([cell(v) for v in values])
        unmatched = [name for _entry, name in entries if name not in used]
        for name in unmatched:
            graded = grades.get(name, {})
            values = ["" for _ in columns]
            values[columns.index("submission")] = name
            values += [graded.get("score", ""), graded.get("max_score", ""),
                       graded.get("percent", ""), "not in the roster"]
            writer.writerow([cell(v) for v in values])
        fh.flush()
        os.fsync(fh.fileno())
    Path(tmp).replace(out / "grades-lms.csv")
    return out / "grades-lms.csv", unmatched
