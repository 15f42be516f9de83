"""`scripts/lab orders [N] --solutions`: the instructor's side of `lab orders`. The same
weakenings, tried on the solutions: every explicit order stronger than relaxed must be caught
by some checkpoint (so the solutions use the weakest orders the checkpoints can justify, and
the checkpoints judge each order), unless checkpoints/NN-name/orders.json allows the survivor
with a reason (course.Milestone.order_allowances). An allowance that no survivor uses is stale.

register() in this package adds --solutions to the student's `orders` command; without it,
the command is the student's.
"""

from __future__ import annotations

import argparse
import time

from .. import orders
from ..console import LabError, info, paint
from ..course import ROOT, Milestone, load_milestones, select_milestones
from ..packages import INSTRUCTOR_PACKAGES, ensure_packages
from .mutants import solution_workers
from .report import StepReport


def extend(parser: argparse.ArgumentParser) -> None:
    """Adds --solutions to the `orders` command's parser and binds it to run()."""
    parser.add_argument("--solutions", action="store_true",
                        help="instructor: judge the solutions (every milestone when N is "
                             "omitted); each weakening must be caught by a checkpoint or "
                             "allowed, with its reason, in checkpoints/NN-name/orders.json")
    parser.set_defaults(func=run)


def _key(m: Milestone, v: orders.Verdict, texts: dict[str, str]) -> tuple[str, str, str]:
    c = v.candidate
    line = texts[c.file].splitlines()[c.site.line - 1].strip()
    return c.file, line, f"{c.site.order} -> {c.new}"


def milestone_problems(m: Milestone, verdicts: list[orders.Verdict],
                       texts: dict[str, str]) -> list[str]:
    """Survivors that orders.json does not allow, allowances no survivor uses, weakenings
    that could not be judged."""
    allowed = {(a["file"], a["code"], a["weakening"]): a for a in m.order_allowances()}
    used, problems = set(), []
    for v in verdicts:
        where = f"solutions/{m.slug}/{v.candidate.where}"
        what = f"{v.candidate.site.describe} {v.candidate.site.order} -> {v.candidate.new}"
        if v.problem:
            problems.append(f"{where} {what}: {v.problem}")
        elif not v.caught_by:
            key = _key(m, v, texts)
            if key in allowed:
                used.add(key)
            else:
                problems.append(f"{where} {what}: SURVIVES every checkpoint of milestone "
                                f"{m.number}; add a checkpoint that needs the order, or allow "
                                f"it with a reason in checkpoints/{m.slug}/orders.json")
    for key in allowed.keys() - used:
        problems.append(f"checkpoints/{m.slug}/orders.json allows {key[2]} on `{key[1]}` in "
                        f"{key[0]}, but no such weakening survives: remove the entry")
    return problems


def check_milestone(m: Milestone) -> tuple[list[orders.Verdict], list[str]]:
    folder = ROOT / "solutions" / m.slug
    texts = orders.workspace_texts(m, folder)
    s, verdicts = orders.run_orders(
        m, ROOT / "solutions", "solutions", texts, orders.starter_texts(m),
        lambda count: solution_workers(ROOT / "build", count, {}, [m]), "the solution")
    if verdicts:
        orders.print_report(m, s, verdicts, f"solutions/{m.slug}", explain=False)
    return verdicts, milestone_problems(m, verdicts, texts)


def orders_run(selected: list[Milestone], report: StepReport) -> None:
    """The self-test's step (and --solutions): every milestone's solution judged."""
    start = time.monotonic()
    problems, tried = [], 0
    for m in selected:
        info(f"orders: milestone {m.number}")
        verdicts, found = check_milestone(m)
        tried += len(verdicts)
        problems += found
    report.add("orders", not problems,
               f"{tried} weakenings of the solutions' orders: each caught or allowed, "
               f"{time.monotonic() - start:.0f} s" if not problems else
               f"{len(problems)} weakening(s) neither caught nor allowed", problems)


def run(args) -> int:
    if not args.solutions:
        return orders.run(args)
    if args.track:
        raise LabError("--solutions judges solutions/: leave out --track")
    if not (ROOT / "solutions").is_dir():
        raise LabError("--solutions needs solutions/, which the student release does not ship")
    ensure_packages(INSTRUCTOR_PACKAGES)
    all_ms = load_milestones()
    selected = select_milestones(all_ms, args.milestone)
    report = StepReport()
    orders_run(selected, report)
    if report.failures:
        print(paint("\norders --solutions FAILED:", "red"))
        for f in report.failures:
            print("- " + f.replace("\n", "\n    "))
        return 1
    print(paint("\norders --solutions passed", "green"))
    return 0
