"""`scripts/lab grade`: grade a submission under ThreadSanitizer, fairly and tamper-proof.

    scripts/lab grade SUBMISSION --out DIR          # one student repository, directory or archive
    scripts/lab grade --batch SUBMISSIONS --out DIR  # one result folder each, plus grades.csv

pipeline.py says what grading one submission does; docs/grading.md gives the rules and formats.
"""

from __future__ import annotations

from pathlib import Path

from ..console import LabError
from ..course import ROOT
from ..packages import STUDENT_PACKAGES, ensure_packages
from .args import options_from_args
from .batch import run_batch
from .roster import read_roster
from .pipeline import grade_submission


def run_grade(args) -> int:
    if not args.out:
        raise LabError("say where the reports go: --out DIR")
    opts = options_from_args(args)
    ensure_packages(STUDENT_PACKAGES)
    work = Path(args.work).resolve() if args.work else ROOT / "build" / "grade"
    if args.batch:
        roster = Path(args.roster) if args.roster else None
        if roster is not None:
            read_roster(roster)           # a bad roster is a clear error before any grading
        return run_batch(Path(args.batch), Path(args.out), work, opts, args.force, roster)
    if args.roster:
        raise LabError("--roster goes with --batch (it maps a batch's submissions to ids)")
    if not args.submission:
        raise LabError("give a SUBMISSION to grade (or --batch DIR)")
    report = grade_submission(Path(args.submission), Path(args.out), work, opts)
    print()
    print(report.console_table())
    print(f"\n{report.score:g}/{report.max_score:g} points; reports in {args.out}/")
    return 2 if report.error else 0
