"""Command line of the lab tool: argparse subcommands with a dispatch table."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from .common import LabError, paint

# name -> (module, one-line help). Each module defines add_arguments(parser) and run(args).
COMMANDS = {
    "check": ("student", "Build your code under ThreadSanitizer, run the checkpoints, show progress."),
    "status": ("student", "Show the progress table of the last check without building."),
    "list": ("student", "List the milestones, their lessons and the files you edit."),
    "hint": ("student", "Show the next hint for a milestone (each call unlocks one more)."),
    "reset": ("student", "Restore a milestone's starter files (your version is backed up)."),
    "watch": ("student", "Re-run the checks of a milestone every time you save a file."),
    "selftest": ("selftest", "Instructor: prove solutions pass, starters fail, mutants die."),
    "grade": ("grade", "CI: grade a submission; writes results.json, junit.xml, summary.md."),
    "export-student": ("export", "Instructor: write the student repository (no solutions)."),
    "bench": ("bench", "Run the Google Benchmark programs and plot ns/op against threads."),
}


class _Unavailable:
    """Stands in for a command whose module this copy of the course does not ship."""

    def __init__(self, name: str):
        self.name = name

    def run(self, _args) -> int:
        raise LabError(f"'{self.name}' is not part of this copy of the course "
                       "(the student release ships only the student's commands)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/lab",
        description="Lock-free metrics in C++: check your work, get hints, and (instructors) "
                    "verify, grade and release the course.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            mod = importlib.import_module(f".{module}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{module}":
                raise
            p.set_defaults(module=_Unavailable(name), command=name)
            continue
        adder = getattr(mod, f"add_{name.replace('-', '_')}_arguments", None) or \
            getattr(mod, "add_arguments")
        adder(p)
        p.set_defaults(module=mod, command=name)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    runner = getattr(args.module, f"run_{args.command.replace('-', '_')}", None) or \
        getattr(args.module, "run")
    try:
        return runner(args)
    except LabError as exc:
        print(paint("error: ", "red", sys.stderr) + str(exc), file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as exc:
        print(paint("error: ", "red", sys.stderr) + f"timed out: {exc.cmd}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
