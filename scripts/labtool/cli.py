"""Command line of the lab tool: every command bound explicitly to its function.

The student's commands are here; the instructor's (selftest, export-student, ...) are added by
the instructor package's register() when this copy of the course has it (the student release
drops the whole scripts/labtool/instructor/ folder).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

from . import bench, hints, orders, student
from .commands import Command, add_commands, no_arguments
from .console import LabError, paint
from .grade import args as grade_args
from .grade import command as grade_command
from .packages import add_packages_arguments, run_packages


STUDENT_COMMANDS = [
    Command("check", "Build your code under ThreadSanitizer, run the checkpoints, show progress.",
            student.add_check_arguments, student.run_check),
    Command("status", "Show the progress table of the last check without building.",
            no_arguments, student.run_status),
    Command("list", "List the milestones, their lessons and the files you edit.",
            no_arguments, student.run_list),
    Command("hint", "Show the next hint for a milestone (each call unlocks one more).",
            hints.add_hint_arguments, hints.run_hint),
    Command("orders", "Weaken each memory order you wrote, one at a time, and show which "
            "checkpoint catches it (advice: which orders can you justify?).",
            orders.add_arguments, orders.run),
    Command("reset", "Restore a milestone's starter files (your version is backed up).",
            student.add_reset_arguments, student.run_reset),
    Command("watch", "Re-run the checks of a milestone every time you save a file.",
            student.add_watch_arguments, student.run_watch),
    Command("bench", "Run the Google Benchmark programs and plot ns/op against threads.",
            bench.add_arguments, bench.run),
    Command("grade", "CI: grade a submission; writes results.json, junit.xml, summary.md.",
            grade_args.add_grade_arguments, grade_command.run_grade),
    Command("packages", "Print (or install) the Debian packages the course needs.",
            add_packages_arguments, run_packages),
]


def has_instructor_commands() -> bool:
    return importlib.util.find_spec(f"{__package__}.instructor") is not None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/lab",
        description="Lock-free metrics in C++: check your work, get hints, and (instructors) "
                    "verify, grade and release the course.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(sub, STUDENT_COMMANDS)
    if has_instructor_commands():
        from . import instructor
        instructor.register(sub)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except LabError as exc:
        print(paint("error: ", "red", sys.stderr) + str(exc), file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as exc:
        print(paint("error: ", "red", sys.stderr) + f"timed out: {exc.cmd}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
