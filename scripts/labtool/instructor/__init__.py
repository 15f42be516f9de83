"""The instructor's commands, absent from the student release (export-student drops this
whole folder). cli.py calls register() when the folder is present."""

from __future__ import annotations

from . import export, grading_cases, selftest

# name, help, add-arguments, run
COMMANDS = [
    ("selftest", "Instructor: prove solutions pass, starters fail, mutants die.",
     selftest.add_selftest_arguments, selftest.run_selftest),
    ("grade-selftest", "Instructor: grade the adversarial submissions; each score must be exact.",
     grading_cases.add_grade_selftest_arguments, grading_cases.run_grade_selftest),
    ("export-student", "Instructor: write the student repository (no solutions).",
     export.add_export_arguments, export.run_export),
]


def register(subparsers) -> None:
    """Adds the instructor's commands to the lab tool's argparse subparsers."""
    for name, help_text, add_arguments, run in COMMANDS:
        p = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(func=run)
