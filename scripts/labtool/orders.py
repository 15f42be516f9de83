"""`scripts/lab orders N`: is each memory order you wrote needed? Every order written out on a
line you wrote is weakened one step, one at a time, in a copy of your workspace; the copy is
built and run against every checkpoint of the milestone (mutation.py, as the self-test's
mutants). A weakening a checkpoint catches names that checkpoint; one that passes them all is
turned into a question. Advice only: nothing here touches your files or your score.

order_scan.py finds the orders and their weakenings; this module runs them and words the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .console import LabError, info, paint
from .course import ROOT, Milestone, load_milestones, select_milestones, with_dependencies
from .mutation import MutationTree, course_sources, make_tree
from .order_scan import OrderSite, default_order_calls, find_orders, weakened, weakenings
from .packages import STUDENT_PACKAGES, ensure_packages
from .pool import in_parallel, worker_count
from .release import shipped_starter


def add_arguments(p):
    p.add_argument("milestone", nargs="?", help="milestone number (e.g. 2)")
    p.add_argument("--track", default=None,
                   help="judge another tree of NN-name/ folders instead of starter/")


@dataclass(frozen=True)
class Candidate:
    file: str            # the file's name in the milestone's folder
    site: OrderSite
    new: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.site.line}"


@dataclass
class Verdict:
    candidate: Candidate
    caught_by: list[str] = field(default_factory=list)     # manifest test names
    problem: str = ""      # "" when judged; else why it could not be (did not compile, ...)


@dataclass
class Scan:
    """What the files of a milestone offer to judge."""
    candidates: list[Candidate]
    not_judged: list[tuple[str, OrderSite]]      # (file, site) with site.why_not
    weakest: int                                 # orders written that are relaxed already
    default_calls: int                           # calls that name no order (seq_cst)


def scan(texts: dict[str, str], givens: dict[str, str]) -> Scan:
    """The candidates of every file (name -> text), given code (name -> starter text) left out."""
    result = Scan([], [], 0, 0)
    for name, text in texts.items():
        given = givens.get(name, "")
        for site in find_orders(text, given):
            if site.why_not:
                result.not_judged.append((name, site))
            elif not weakenings(site):
                result.weakest += 1
            result.candidates += [Candidate(name, site, new) for new in weakenings(site)]
        result.default_calls += default_order_calls(text, given)
    return result


# --- running the weakenings ------------------------------------------------------------------

def judge(m: Milestone, texts: dict[str, str], candidates: list[Candidate],
          workers: list[MutationTree], track_name: str) -> list[Verdict]:
    """Each candidate built and run against every checkpoint of the milestone, in the workers'
    copies (track_name/NN-name/file), side by side."""
    tests = [t.name for t in m.tests]
    total = len(candidates)

    def one(w: MutationTree, job: tuple[int, Candidate]) -> Verdict:
        i, c = job
        rel = f"{track_name}/{m.slug}/{c.file}"
        trial = w.trial(m, rel, weakened(texts[c.file], c.site, c.new), tests)
        if not trial.built:
            return Verdict(c, problem="the weakened code does not compile:\n" + trial.errors)
        caught = [n.split("/", 1)[1] for n in trial.failing]
        if not caught and trial.missing:
            return Verdict(c, problem=f"checkpoints did not run: {', '.join(trial.missing)}")
        info(f"  {i}/{total} {c.where} {c.site.order} -> {c.new}: "
             + (f"caught ({trial.build_seconds + trial.test_seconds:.0f} s)" if caught
                else f"passes ({trial.build_seconds + trial.test_seconds:.0f} s)"))
        return Verdict(c, caught)

    return in_parallel(workers, list(enumerate(candidates, 1)), one)


def baseline_failures(m: Milestone, worker: MutationTree) -> list[str]:
    """The checkpoints that fail on the code as it stands (manifest names)."""
    failing, missing, _ = worker.run_tests(m, [t.name for t in m.tests])
    return [n.split("/", 1)[1] for n in failing + missing]


# --- the report ------------------------------------------------------------------------------

def verdict_lines(m: Milestone, verdicts: list[Verdict], shown: str) -> list[str]:
    """One entry per weakening: where, the operation, old -> new, and what caught it or the
    question it raises (`shown`: how the milestone's folder is named to the reader)."""
    lines = []
    for v in verdicts:
        c = v.candidate
        head = f"{shown}/{c.where}  {c.site.describe}  {c.site.order} -> {c.new}"
        lines.append(paint(head, "bold"))
        if v.problem:
            lines.append("    not judged: " + v.problem.replace("\n", "\n    "))
        elif v.caught_by:
            lines.append("    " + paint("caught by: ", "green") + "; ".join(v.caught_by))
        else:
            lines.append("    " + paint(f"no checkpoint of milestone {m.number} fails: ", "yellow")
                         + f"which guarantee in the contract needs {c.site.order} here?")
            if c.file in m.unjudged_orders:
                lines.append(f"    beware: {m.unjudged_orders[c.file]}")
    return lines


def not_judged_lines(s: Scan, shown: str) -> list[str]:
    return [f"  {shown}/{name}:{site.line}  {site.token}: {site.why_not}"
            for name, site in s.not_judged]


def footer(m: Milestone, s: Scan) -> list[str]:
    """What a verdict proves and what it does not; what the tool did not look at."""
    lines = [
        "What this means (advice, never a deduction):",
        "  - A weakening that a checkpoint catches proves that something needs the stronger "
        "order there: read that checkpoint's failure (make the change yourself and run "
        f"scripts/lab check {m.number}) to learn what.",
        "  - A weakening that passes every checkpoint is a question, not proof that the weaker "
        "order is correct: the ThreadSanitizer checkpoints run on this machine's hardware "
        "(x86-64 hides most weak outcomes), and the model checks are exact only for what their "
        "models cover. Answer it from the contract and the lesson's happens-before rules.",
        "  - Your files were not changed: every weakening was tried in a copy.",
    ]
    if s.weakest:
        lines.append(f"  - {s.weakest} order(s) you wrote are relaxed already: nothing weaker "
                     "to try.")
    lines.append(f"  - {s.default_calls} atomic call(s) on lines you wrote name no order and so "
                 "take the default (seq_cst), as operators (++, +=, =, a plain read) do: this "
                 "tool judges only the orders written out.")
    return lines


# --- the command -----------------------------------------------------------------------------

def starter_texts(m: Milestone) -> dict[str, str]:
    """The milestone's starter files as shipped (given code is what they hold): from the
    release's record, or in the instructor's repository (which has none) from starter/."""
    rels = [f"starter/{m.slug}/{name}" for name in m.code_files()]
    try:
        shipped = shipped_starter(rels)
    except LabError:
        if not (ROOT / "scripts" / "templates").is_dir():     # not the instructor's repository
            raise
        shipped = {rel: (ROOT / rel).read_bytes() for rel in rels if (ROOT / rel).is_file()}
    return {rel.rsplit("/", 1)[1]: data.decode("utf-8", "replace")
            for rel, data in shipped.items()}


def workspace_texts(m: Milestone, folder: Path) -> dict[str, str]:
    texts = {}
    for name in m.code_files():
        path = folder / name
        if not path.is_file():
            raise LabError(f"{path} is missing: restore it with scripts/lab reset {m.number}")
        texts[name] = path.read_text(errors="replace")
    return texts


def _shown(folder: Path) -> str:
    try:
        return folder.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(folder)


def _has_todo(texts: dict[str, str]) -> bool:
    return any("LAB_TODO(" in t for t in texts.values())


def run_orders(m: Milestone, track: Path, track_name: str, texts: dict[str, str],
               givens: dict[str, str], make_workers, who: str) -> tuple[Scan, list[Verdict]]:
    """Scans, then (when there is something to judge) builds the workers, checks the code as
    it stands passes, and judges every candidate. `make_workers(count)` returns the workers or
    the problem as text; `who` names the code in messages ("your code", "the solution")."""
    s = scan(texts, givens)
    if not s.candidates:
        return s, []
    count = min(worker_count(), len(s.candidates))
    info(f"building {who} for milestone {m.number} in {count} private cop"
         f"{'y' if count == 1 else 'ies'}")
    workers = make_workers(count)
    if isinstance(workers, str):
        raise LabError(f"milestone {m.number} does not build yet, so there is nothing to weaken: "
                       f"make `scripts/lab check {m.number}` build first.\n{workers}")
    failing = baseline_failures(m, workers[0])
    if failing:
        todo = (" The files still have TODOs (LAB_TODO): finish them first."
                if _has_todo(texts) else "")
        raise LabError(
            f"{len(failing)} checkpoint(s) of milestone {m.number} fail on {who} as it stands "
            f"({'; '.join(failing)}): make `scripts/lab check {m.number}` pass first. A "
            f"weakening is judged by checkpoints that pass before it.{todo}")
    info(f"trying {len(s.candidates)} weakening(s), each against every checkpoint of "
         f"milestone {m.number}")
    return s, judge(m, texts, s.candidates, workers, track_name)


def print_report(m: Milestone, s: Scan, verdicts: list[Verdict], shown: str,
                 explain: bool = True) -> None:
    """The report; `explain`: end with what a verdict means (the footer)."""
    print()
    if s.not_judged:
        print(paint(f"Not judged ({len(s.not_judged)}):", "bold"))
        print("\n".join(not_judged_lines(s, shown)))
        print()
    if verdicts:
        print("\n".join(verdict_lines(m, verdicts, shown)))
        caught = sum(bool(v.caught_by) for v in verdicts)
        passing = sum(not v.caught_by and not v.problem for v in verdicts)
        print(f"\n{len(verdicts)} weakening(s): {caught} caught by a checkpoint, "
              f"{passing} pass every checkpoint (questions for you).")
        print()
    if explain:
        print("\n".join(footer(m, s)))


def student_workers(m: Milestone, track: Path, all_ms: list[Milestone]):
    needed = with_dependencies([m], all_ms)
    cache = {"LAB_MILESTONES": ";".join(f"{d.number:02d}" for d in needed)}
    files = course_sources(track, "starter")

    def make(count: int) -> list[MutationTree] | str:
        workers = []
        for i in range(count):
            w = make_tree(ROOT / "build" / "orders" / f"w{i}", files, "student", "orders",
                          cache, [m])
            if isinstance(w, str):
                return w
            workers.append(w)
        return workers
    return make


def run(args) -> int:
    if args.milestone is None:
        raise LabError("name a milestone, e.g. scripts/lab orders 2 (scripts/lab list shows "
                       "them)")
    all_ms = load_milestones()
    m = select_milestones(all_ms, args.milestone)[0]
    track = Path(args.track).resolve() if args.track else ROOT / "starter"
    if not track.is_dir():
        raise LabError(f"--track {args.track}: no such directory")
    folder = track / m.slug
    texts = workspace_texts(m, folder)
    shown = _shown(folder)
    s = scan(texts, starter_texts(m))
    if not s.candidates:
        print(f"Nothing to judge in milestone {m.number}: no memory order on a line you wrote "
              f"in {shown}/ can be weakened.")
        if _has_todo(texts):
            print(f"Your files still have TODOs (LAB_TODO): finish them, make "
                  f"`scripts/lab check {m.number}` pass, then run this again.")
        if s.not_judged:
            print(paint(f"\nNot judged ({len(s.not_judged)}):", "bold"))
            print("\n".join(not_judged_lines(s, shown)))
        print("\n" + footer(m, s)[-1].lstrip(" -"))
        return 0
    ensure_packages(STUDENT_PACKAGES)
    start = time.monotonic()
    s, verdicts = run_orders(m, track, "starter", texts, starter_texts(m),
                             student_workers(m, track, all_ms), "your code")
    print_report(m, s, verdicts, shown)
    print(paint(f"({time.monotonic() - start:.0f} s)", "dim"))
    return 0
