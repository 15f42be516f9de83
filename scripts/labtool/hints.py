"""`scripts/lab hint N [--stretch [FILE]]`: a milestone's hint ladder, one rung per call.

Each ladder (the main one, "hints", and each stretch exercise's, "stretch_hints") keeps how
many rungs the student has unlocked in .lab/state.json; --again shows them without a new one.
The same counts go to hints-unlocked.json at the repository's root, which the student commits
and `grade` reports to the instructor (informational, never scored: hintlog.py).
"""

from __future__ import annotations

from .console import LabError, paint, warn
from . import state as state_files
from .course import Milestone, load_milestones, select_milestones
from .hintlog import LOG_NAME, write_log
from .state import load_state, save_state


def add_hint_arguments(p):
    p.add_argument("milestone", help="milestone number, e.g. 2")
    p.add_argument("--again", action="store_true",
                   help="show the hints unlocked so far, no new one")
    p.add_argument("--stretch", nargs="?", const="", default=None, metavar="FILE",
                   help="the hints of the milestone's stretch exercise (its file, when it has "
                        "more than one) instead of the main ones")


def ladder(m: Milestone, stretch: str | None) -> tuple[str, str, list[str]]:
    """(state key, heading, hints) of the ladder asked for; LabError saying what exists."""
    if stretch is None:
        if not m.hints:
            raise LabError(f"milestone {m.number} has no hints; read lessons/{m.slug}/README.md")
        return m.slug, f"Milestone {m.number}: {m.title}", m.hints
    files = [f for f in m.stretch_files if m.stretch_hints.get(f)]
    if not files:
        have = [str(o.number) for o in load_milestones() if o.stretch_hints]
        raise LabError(f"milestone {m.number} has no stretch exercise"
                       + (f"; milestones with one: {', '.join(have)}" if have else ""))
    if stretch:
        chosen = [f for f in files if stretch in (f, f.rsplit(".", 1)[0])]
        if not chosen:
            raise LabError(f"milestone {m.number} has no stretch exercise '{stretch}'; "
                           f"choose one of: {', '.join(files)}")
    elif len(files) > 1:
        raise LabError(f"milestone {m.number} has {len(files)} stretch exercises: name one, "
                       f"e.g. scripts/lab hint {m.number} --stretch {files[0]}")
    else:
        chosen = files
    name = chosen[0]
    return (f"{m.slug}/{name}", f"Milestone {m.number}, stretch exercise {name} "
            f"({m.stretch_lesson(name)})", m.stretch_hints[name])


def run_hint(args) -> int:
    m = select_milestones(load_milestones(), args.milestone)[0]
    stretch = getattr(args, "stretch", None)
    key, heading, hints = ladder(m, stretch)
    state = load_state()
    book = state.setdefault("stretch_hints" if stretch is not None else "hints", {})
    shown = book.get(key, 0)
    if args.again:          # shows what is unlocked, never unlocks
        if shown == 0:
            again = f"scripts/lab hint {m.number}" + ("" if stretch is None else
                                                        f" --stretch {stretch}".rstrip())
            print(f"No hint unlocked yet for this ladder; '{again}' unlocks the first.")
            return 0
    else:
        shown = min(shown + 1, len(hints))
        book[key] = shown
        save_state(state)
        try:
            # For the instructor, next to .lab/: commit it with your code (hintlog.py).
            write_log(state_files.STATE_DIR.parent, state)
        except OSError as exc:
            warn(f"could not write {LOG_NAME} ({exc}); your hints are still saved in .lab/")
    print(paint(heading, "bold"))
    for i, hint in enumerate(hints[:shown], 1):
        marker = paint(f"Hint {i}/{len(hints)}", "yellow" if i == shown else "dim")
        print(f"\n{marker}\n{hint}")
    again = f"scripts/lab hint {m.number}" + ("" if stretch is None else
                                                f" --stretch {stretch}".rstrip())
    if shown < len(hints):
        print(paint(f"\nRun '{again}' again for the next hint.", "dim"))
    else:
        print(paint("\nThat was the last hint. The lesson's exercise section walks through it.",
                    "dim"))
    return 0
