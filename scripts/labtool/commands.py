"""How a command is declared and added to the command line, for cli.py (the student's
commands) and instructor/__init__.py (the instructor's)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def no_arguments(_parser: argparse.ArgumentParser) -> None:
    """For commands without options."""


def add_commands(subparsers, commands: list[Command]) -> None:
    """One subparser per command, bound to its function (args.func)."""
    for c in commands:
        p = subparsers.add_parser(c.name, help=c.help, description=c.help)
        c.add_arguments(p)
        p.set_defaults(func=c.run)
