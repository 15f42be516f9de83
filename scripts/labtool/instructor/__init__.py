"""The instructor's commands, absent from the student release (export-student drops this
whole folder). cli.py calls register() when the folder is present."""

from __future__ import annotations

from ..commands import Command, add_commands
from ..grade import batch
from . import (export, feedback_times, grade_imports, gradescope, grading_cases, orders_check,
               selftest, stress, ta_guide)

COMMANDS = [
    Command("selftest", "Instructor: prove solutions pass, starters fail, mutants die.",
            selftest.add_selftest_arguments, selftest.run_selftest),
    Command("grade-selftest",
            "Instructor: grade the adversarial submissions; each score must be exact.",
            grading_cases.add_grade_selftest_arguments, grading_cases.run_grade_selftest),
    Command("grade-imports", "Instructor: rebuild the grader's per-milestone allow-list of "
            "linked symbols (checkpoints/common/imports.json) from the starter and solutions.",
            grade_imports.add_grade_imports_arguments, grade_imports.run_grade_imports),
    Command("stress", "Instructor: run every concurrency checkpoint of the solutions many "
            "times beside CPU hogs; none may fail.",
            stress.add_stress_arguments, stress.run_stress),
    Command("export-student", "Instructor: write the student repository (no solutions).",
            export.add_export_arguments, export.run_export),
    Command("class-report", "Instructor: the class at a glance from a graded batch (most failed "
            "checkpoints, score distribution, near-identical submissions, ORDERING.md review).",
            batch.add_class_report_arguments, batch.run_class_report),
    Command("ta-guide", "Instructor: check (or --write) the per-milestone tables of "
            "docs/ta-guide.md against the manifests and mutants.", ta_guide.add_arguments,
            ta_guide.run),
    Command("feedback-times", "Instructor: how long a student waits for `check N` (first "
            "check from a fresh clone of the release, re-check after an edit), as a table.",
            feedback_times.add_arguments, feedback_times.run),
    Command("gradescope-package",
            "Instructor: write the Gradescope autograder zip of an assignment (from the "
            "student release).", gradescope.add_arguments, gradescope.run),
]


def register(subparsers) -> None:
    """Adds the instructor's commands to the lab tool's argparse subparsers, and --solutions
    to the student's `orders` command."""
    add_commands(subparsers, COMMANDS)
    orders_check.extend(subparsers.choices["orders"])
