"""The command line of `scripts/lab grade` and the options it turns into."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..console import LabError
from .deadline import parse_deadline

DEFAULT_BUDGET = 1500                        # seconds for one submission's test runs


def add_grade_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", nargs="?",
                   help="a student repository, a directory of NN-name/ folders or of the bare "
                        "files, or a .zip/.tar.gz of one")
    p.add_argument("--out", help="where results.json, junit.xml and summary.md go")
    p.add_argument("--batch", metavar="DIR",
                   help="grade every submission (folder or archive) in DIR: OUT/<name>/ each, "
                        "plus OUT/grades.csv; resumable")
    p.add_argument("--force", action="store_true",
                   help="batch: grade again the submissions that already have results.json")
    p.add_argument("--only", metavar="N[,N]",
                   help="grade only these milestones (e.g. 3 or 1,2); all by default")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of every concurrency checkpoint; all must pass (default 3)")
    p.add_argument("--test-timeout", type=float, default=None, metavar="S",
                   help="cap on each checkpoint run's time limit (default: the CTest TIMEOUT)")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET, metavar="S",
                   help=f"time for all test runs of one submission (default {DEFAULT_BUDGET})")
    p.add_argument("--jobs", type=int, default=2, help="compile jobs (default 2)")
    p.add_argument("--test-jobs", type=int, default=1,
                   help="checkpoint processes at once (default 1: concurrency tests need cores)")
    p.add_argument("--format", choices=("gradescope", "classroom"), default="gradescope",
                   help="classroom: also write classroom.json and the GitHub Classroom "
                        "reporter's `result` output (results.json etc. are always written)")
    p.add_argument("--work", metavar="DIR",
                   help="build tree and overlay (default build/grade; reused, so re-grading "
                        "is incremental)")
    p.add_argument("--hidden", action="store_true",
                   help="Gradescope: hide test output until grades are published")
    p.add_argument("--sandbox", choices=("auto", "bubblewrap", "setpriv", "none"),
                   default="auto",
                   help="how student code is contained (default auto: bubblewrap, else setpriv, "
                        "else a clear error; `none` only when asked for: never for untrusted "
                        "code; docs/grading.md, 'The sandbox')")
    p.add_argument("--build-timeout", type=float, default=600, metavar="S",
                   help="time for configuring, and for building each milestone (default 600); "
                        "a milestone whose build takes longer does not compile")
    p.add_argument("--jobs-submissions", type=int, default=1, metavar="N",
                   help="batch: grade N submissions at once, each in its own process, work "
                        "tree and sandbox uid (default 1; give a bigger machine 2 CPUs per "
                        "submission)")
    p.add_argument("--deadline", metavar="DATE",
                   help="grade a git submission at its last commit before DATE (2026-12-01 or "
                        "2026-12-01T23:59, UTC unless a zone is given); committer dates are the "
                        "student's, see docs/grading.md")
    p.add_argument("--roster", metavar="FILE",
                   help="batch: a CSV with the columns submission,id (and any others): also "
                        "writes OUT/grades-lms.csv, one row per student under their id")
    p.add_argument("--no-tamper-rules", action="store_true", help=argparse.SUPPRESS)
    # A batch's child processes: more paths their sandbox must not read (other submissions).
    p.add_argument("--private", action="append", default=[], help=argparse.SUPPRESS)


@dataclass
class Options:
    repeat: int = 3
    test_timeout: float | None = None
    budget: float = DEFAULT_BUDGET
    jobs: int = 2
    test_jobs: int = 1
    only: list[int] | None = None
    classroom: bool = False
    hidden: bool = False
    tamper_rules: bool = True   # off only in the self-test, to prove the run-time checks alone
    sandbox: str = "auto"       # auto, bubblewrap, setpriv or none (grade/sandbox.py)
    build_timeout: float = 600  # seconds for configure, and for each milestone's build
    ccache: Path | None = None  # the sandbox's compiler cache (default WORK/ccache)
    private: tuple[Path, ...] = ()  # more paths no sandboxed process may read (--out, batch)
    deadline: str | None = None     # grade a git submission at its last commit before this
    jobs_submissions: int = 1       # batch: submissions graded at once (child processes)


def options_from_args(args) -> Options:
    only = None
    if args.only:
        try:
            only = sorted({int(x.strip().lower().lstrip("m")) for x in args.only.split(",")
                           if x.strip()})
        except ValueError as exc:
            raise LabError(f"--only {args.only}: give milestone numbers, e.g. --only 1,3") from exc
    if args.repeat < 1:
        raise LabError("--repeat must be at least 1")
    if args.jobs_submissions < 1:
        raise LabError("--jobs-submissions must be at least 1")
    if args.deadline:
        parse_deadline(args.deadline)            # a bad date is a clear error before anything
    return Options(repeat=args.repeat, test_timeout=args.test_timeout, budget=args.budget,
                   jobs=max(1, args.jobs), test_jobs=max(1, args.test_jobs), only=only,
                   classroom=args.format == "classroom", hidden=args.hidden,
                   tamper_rules=not args.no_tamper_rules, sandbox=args.sandbox,
                   build_timeout=args.build_timeout, deadline=args.deadline,
                   jobs_submissions=args.jobs_submissions,
                   private=tuple(Path(p).resolve() for p in args.private))


def option_arguments(opts: Options) -> list[str]:
    """The command-line arguments that give a child `scripts/lab grade` the same options (a
    batch's --jobs-submissions runs each submission in a process of its own)."""
    args = ["--repeat", str(opts.repeat), "--budget", str(opts.budget), "--jobs",
            str(opts.jobs), "--test-jobs", str(opts.test_jobs), "--sandbox", opts.sandbox,
            "--build-timeout", str(opts.build_timeout)]
    if opts.test_timeout is not None:
        args += ["--test-timeout", str(opts.test_timeout)]
    if opts.only:
        args += ["--only", ",".join(map(str, opts.only))]
    if opts.classroom:
        args += ["--format", "classroom"]
    if opts.hidden:
        args.append("--hidden")
    if not opts.tamper_rules:
        args.append("--no-tamper-rules")
    if opts.deadline:
        args += ["--deadline", opts.deadline]
    for path in opts.private:
        args += ["--private", str(path)]
    return args

