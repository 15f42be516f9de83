"""`scripts/lab grade`: grade a submission under ThreadSanitizer, fairly and tamper-proof.

    scripts/lab grade SUBMISSION --out DIR          # one student repository, directory or archive
    scripts/lab grade --batch SUBMISSIONS --out DIR  # one result folder each, plus grades.csv

What it does with one submission:
  1. Takes only the student's files: for every milestone, the files its manifest lists as
     editable (`files`), from `starter/NN-name/` of a repository (or `NN-name/` of a bare track,
     or the bare files). Everything else the student changed (checkpoints, CMake, scripts) is
     ignored and listed in summary.md.
  2. Overlays them on a pristine copy of OUR starter tree and builds them against OUR
     checkpoints and build files (this repository's), with clang + ThreadSanitizer, one
     milestone at a time: a milestone that does not compile costs its own tests and those of
     the milestones that include it ("depends on milestone N"), nothing else.
  3. Checks rules on the student's code before anything of it runs: the manifest's forbidden
     constructs (locks where the milestone must be lock-free, ...) zero that milestone; the
     tamper rules (redefining the test framework's macros, exiting the process, switching off
     the sanitizer, ...) zero that milestone and every milestone that includes it, and its code
     is not even compiled.
  4. Runs every checkpoint as its own process with a time limit, under a global time budget;
     concurrency checkpoints run --repeat times and pass only if every run passes. A run passes
     only when the process exits 0, printed no sanitizer report, AND doctest's own XML report,
     written to a fresh random path, is complete and says that exactly this test case (from our
     checkpoint source) ran, with at least one assertion and no failure, under this run's nonce.
     Printing fake doctest output or exiting early earns nothing.
  5. Writes DIR/results.json (Gradescope), DIR/junit.xml and DIR/summary.md, always: also when
     nothing builds, and on internal errors (with an error entry; the exit code is then 2).
     With --format classroom also DIR/classroom.json and the `result` output GitHub Classroom's
     autograding reporter reads.
docs/grading.md describes the formats and the rules.
"""

from __future__ import annotations

import argparse
import base64
import csv
import fcntl
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import build as b
from .common import (ROOT, STUDENT_PACKAGES, LabError, Milestone, ensure_packages,
                     forbidden_violations, info, load_milestones, paint,
                     strip_comments_and_strings, table, warn)

CODE_SUFFIXES = (".hpp", ".h", ".hh", ".hxx", ".cpp", ".cc", ".cxx")
HEADER_SUFFIXES = (".hpp", ".h", ".hh", ".hxx")
MAX_STUDENT_FILE = 2 * 1024 * 1024          # bytes; a bigger "source file" is not taken
MAX_OUTPUT_KEEP = 256 * 1024                 # bytes of a test's output that are read back
MAX_TEST_OUTPUT = 1800                       # characters of a test's output in the reports
DEFAULT_BUDGET = 1500                        # seconds for one submission's test runs
# The options main.cpp compiles in, set explicitly so that the environment cannot weaken them.
TSAN_OPTIONS = ("halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4:"
                "report_signal_unsafe=0")
SANITIZER_REPORT = re.compile(
    r"WARNING: ThreadSanitizer:|ERROR: ThreadSanitizer:|ThreadSanitizer:DEADLYSIGNAL|"
    r"ERROR: AddressSanitizer:|ERROR: LeakSanitizer:|runtime error:")
# Folders of a submission that are never looked at (build products, tool state, CI scratch).
SKIP_DIRS = {".git", "build", ".lab", "__pycache__", "node_modules", "grade-report",
             ".lab-course", ".cache"}


# --- arguments ------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--selftest", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--build-root", default=str(ROOT / "build"), help=argparse.SUPPRESS)
    p.add_argument("--no-tamper-rules", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)   # --selftest: cases whose name has this


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
    return Options(repeat=args.repeat, test_timeout=args.test_timeout, budget=args.budget,
                   jobs=max(1, args.jobs), test_jobs=max(1, args.test_jobs), only=only,
                   classroom=args.format == "classroom", hidden=args.hidden,
                   tamper_rules=not args.no_tamper_rules)


def run(args) -> int:
    if args.selftest:
        try:
            from . import grade_selftest
        except ImportError as exc:
            raise LabError("the grader's self-test is not part of the student release") from exc
        return grade_selftest.main(Path(args.build_root).resolve(), args.case)
    if not args.out:
        raise LabError("say where the reports go: --out DIR")
    opts = options_from_args(args)
    ensure_packages(STUDENT_PACKAGES)
    work = Path(args.work).resolve() if args.work else ROOT / "build" / "grade"
    if args.batch:
        return run_batch(Path(args.batch), Path(args.out), work, opts, args.force)
    if not args.submission:
        raise LabError("give a SUBMISSION to grade (or --batch DIR)")
    report = grade_submission(Path(args.submission), Path(args.out), work, opts)
    print()
    print(report.console_table())
    print(f"\n{report.score:g}/{report.max_score:g} points; reports in {args.out}/")
    return 2 if report.error else 0


# --- the submission -------------------------------------------------------------------------

@dataclass
class Submission:
    given: Path
    root: Path
    layout: str                                   # repository, track, flat or empty
    files: dict[tuple[str, str], Path] = field(default_factory=dict)   # (slug, name) -> file
    notes: list[str] = field(default_factory=list)                     # what was not taken
    ignored: list[str] = field(default_factory=list)                   # changed, not used


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not name.startswith(("/", "\\")) and ".." not in parts


def unpack(path: Path, scratch: Path) -> Path:
    """A directory as is; an archive unpacked into scratch (regular files only, no escapes)."""
    if path.is_dir():
        return path
    if not path.exists():
        raise LabError(f"submission {path} does not exist")
    dest = scratch / "unpacked"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for member in zf.infolist():
                mode = (member.external_attr >> 16) & 0o170000
                if member.is_dir() or mode == 0o120000 or not _safe_member(member.filename):
                    continue
                if member.file_size > MAX_STUDENT_FILE * 8:
                    continue
                target = dest / member.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
        return dest
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as tf:
            for member in tf.getmembers():
                if not member.isfile() or not _safe_member(member.name):
                    continue
                if member.size > MAX_STUDENT_FILE * 8:
                    continue
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tf.extractfile(member)
                if source is not None:
                    target.write_bytes(source.read())
        return dest
    raise LabError(f"submission {path} is neither a directory nor a .zip/.tar archive")


def _walk(root: Path, limit: int = 20000):
    """Regular files under root, skipping build products and tool state; never follows links."""
    count = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name in SKIP_DIRS or (entry.name.startswith(".") and folder == root
                                               and entry.name != ".github"):
                    continue
                stack.append(entry)
            elif entry.is_file():
                count += 1
                if count > limit:
                    return
                yield entry


def _find_root(root: Path, milestones: list[Milestone]) -> tuple[Path, str]:
    """Where the student's files are: a repository (starter/NN-name/), a track (NN-name/) or
    the bare files; descends into a single wrapping folder (GitHub's zip downloads)."""
    slugs = {m.slug for m in milestones}
    for _ in range(3):
        if (root / "starter").is_dir() and any((root / "starter" / s).is_dir() for s in slugs):
            return root / "starter", "repository"
        if any((root / s).is_dir() for s in slugs):
            return root, "track"
        children = [c for c in root.iterdir() if not c.name.startswith(".")] \
            if root.is_dir() else []
        if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
            root = children[0]
            continue
        break
    return root, "flat"


def locate(given: Path, root: Path, milestones: list[Milestone]) -> Submission:
    track, layout = _find_root(root, milestones)
    sub = Submission(given=given, root=root, layout=layout)
    by_name: dict[str, list[tuple[str, str]]] = {}
    for m in milestones:
        for name in m.files:
            by_name.setdefault(name, []).append((m.slug, name))
    flat_candidates: dict[str, list[Path]] = {}
    if layout == "flat":
        for path in _walk(track, limit=2000):
            if path.name in by_name and len(path.relative_to(track).parts) <= 2:
                flat_candidates.setdefault(path.name, []).append(path)
    for m in milestones:
        for name in m.files:
            if layout == "flat":
                paths = flat_candidates.get(name, [])
                if len(by_name[name]) > 1 or len(paths) > 1:
                    sub.notes.append(f"{m.slug}/{name}: ambiguous in a flat submission; "
                                     "the starter version was used")
                    continue
                path = paths[0] if paths else None
            else:
                path = track / m.slug / name
            if path is None or not path.exists():
                sub.notes.append(f"{m.slug}/{name}: not in the submission; the starter "
                                 "version was used")
                continue
            if path.is_symlink() or not path.is_file():
                sub.notes.append(f"{m.slug}/{name}: not a regular file (a link?); the starter "
                                 "version was used")
                continue
            if path.stat().st_size > MAX_STUDENT_FILE:
                sub.notes.append(f"{m.slug}/{name}: larger than {MAX_STUDENT_FILE} bytes; the "
                                 "starter version was used")
                continue
            sub.files[(m.slug, name)] = path
    if layout == "flat" and not sub.files:
        sub.layout = "empty"
    if layout == "repository":
        sub.ignored = changed_files(track.parent, {p.resolve() for p in sub.files.values()})
    return sub


def _expected_overrides() -> dict[str, bytes]:
    """Files whose student-release content differs from ours (README, workflow, CMake)."""
    try:
        from . import export
    except ImportError:
        return {}
    try:
        return export.release_overrides()
    except Exception:  # noqa: BLE001 - a broken template must not stop grading
        return {}


def changed_files(repo: Path, taken: set[Path]) -> list[str]:
    """Files of a student repository that differ from the course's copy and are not graded."""
    overrides = _expected_overrides()
    changed = []
    for path in _walk(repo):
        if path.resolve() in taken:
            continue
        rel = path.relative_to(repo).as_posix()
        ours = ROOT / rel
        try:
            data = path.read_bytes() if path.stat().st_size <= MAX_STUDENT_FILE * 8 else None
        except OSError:
            continue
        if rel in overrides:
            if data != overrides[rel]:
                changed.append(f"{rel} (changed)")
        elif not ours.is_file():
            changed.append(f"{rel} (added)")
        elif data is None or data != ours.read_bytes():
            changed.append(f"{rel} (changed)")
    return sorted(changed)


def _sync(files: dict[str, bytes], dst: Path) -> None:
    """Makes dst hold exactly `files`; rewrites only what differs, with a fresh mtime, so the
    build tree recompiles exactly what changed."""
    dst.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        target = dst / rel
        if target.is_symlink():
            target.unlink()
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".lab-tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    for path in sorted(dst.rglob("*"), reverse=True):
        rel = path.relative_to(dst).as_posix()
        if path.is_symlink() or (path.is_file() and rel not in files):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def overlay(sub: Submission, milestones: list[Milestone], track: Path,
            use_starter_for: set[int]) -> None:
    """track := our starter/ tree with the student's files on top (except for milestones whose
    code is excluded from the build: those keep the starter)."""
    files = {}
    starter = ROOT / "starter"
    for path in sorted(starter.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            files[path.relative_to(starter).as_posix()] = path.read_bytes()
    for m in milestones:
        if m.number in use_starter_for:
            continue
        for name in m.files:
            path = sub.files.get((m.slug, name))
            if path is not None:
                files[f"{m.slug}/{name}"] = path.read_bytes()
    _sync(files, track)


# --- tamper rules ----------------------------------------------------------------------------

# Short names doctest defines (doctest.h 2.4): redefining one rewrites the checkpoints' asserts.
DOCTEST_MACROS = set("""
ADD_FAIL_AT ADD_FAIL_CHECK_AT ADD_MESSAGE_AT AND_THEN AND_WHEN CAPTURE CHECK CHECK_EQ
CHECK_FALSE CHECK_FALSE_MESSAGE CHECK_GE CHECK_GT CHECK_LE CHECK_LT CHECK_MESSAGE CHECK_NE
CHECK_NOTHROW CHECK_NOTHROW_MESSAGE CHECK_THROWS CHECK_THROWS_AS CHECK_THROWS_AS_MESSAGE
CHECK_THROWS_MESSAGE CHECK_THROWS_WITH CHECK_THROWS_WITH_AS CHECK_THROWS_WITH_AS_MESSAGE
CHECK_THROWS_WITH_MESSAGE CHECK_UNARY CHECK_UNARY_FALSE FAIL FAIL_CHECK FAST_CHECK_EQ
FAST_CHECK_GE FAST_CHECK_GT FAST_CHECK_LE FAST_CHECK_LT FAST_CHECK_NE FAST_CHECK_UNARY
FAST_CHECK_UNARY_FALSE FAST_REQUIRE_EQ FAST_REQUIRE_GE FAST_REQUIRE_GT FAST_REQUIRE_LE
FAST_REQUIRE_LT FAST_REQUIRE_NE FAST_REQUIRE_UNARY FAST_REQUIRE_UNARY_FALSE FAST_WARN_EQ
FAST_WARN_GE FAST_WARN_GT FAST_WARN_LE FAST_WARN_LT FAST_WARN_NE FAST_WARN_UNARY
FAST_WARN_UNARY_FALSE GIVEN INFO MESSAGE REGISTER_EXCEPTION_TRANSLATOR REGISTER_LISTENER
REGISTER_REPORTER REQUIRE REQUIRE_EQ REQUIRE_FALSE REQUIRE_FALSE_MESSAGE REQUIRE_GE REQUIRE_GT
REQUIRE_LE REQUIRE_LT REQUIRE_MESSAGE REQUIRE_NE REQUIRE_NOTHROW REQUIRE_NOTHROW_MESSAGE
REQUIRE_THROWS REQUIRE_THROWS_AS REQUIRE_THROWS_AS_MESSAGE REQUIRE_THROWS_MESSAGE
REQUIRE_THROWS_WITH REQUIRE_THROWS_WITH_AS REQUIRE_THROWS_WITH_AS_MESSAGE
REQUIRE_THROWS_WITH_MESSAGE REQUIRE_UNARY REQUIRE_UNARY_FALSE SCENARIO SCENARIO_CLASS
SCENARIO_TEMPLATE SCENARIO_TEMPLATE_DEFINE SUBCASE TEST_CASE TEST_CASE_CLASS TEST_CASE_FIXTURE
TEST_CASE_TEMPLATE TEST_CASE_TEMPLATE_APPLY TEST_CASE_TEMPLATE_DEFINE
TEST_CASE_TEMPLATE_INSTANTIATE TEST_CASE_TEMPLATE_INVOKE TEST_SUITE TEST_SUITE_BEGIN
TEST_SUITE_END THEN TYPE_TO_STRING TYPE_TO_STRING_AS WARN WARN_EQ WARN_FALSE WARN_FALSE_MESSAGE
WARN_GE WARN_GT WARN_LE WARN_LT WARN_MESSAGE WARN_NE WARN_NOTHROW WARN_NOTHROW_MESSAGE
WARN_THROWS WARN_THROWS_AS WARN_THROWS_AS_MESSAGE WARN_THROWS_MESSAGE WARN_THROWS_WITH
WARN_THROWS_WITH_AS WARN_THROWS_WITH_AS_MESSAGE WARN_THROWS_WITH_MESSAGE WARN_UNARY
WARN_UNARY_FALSE WHEN LAB_TODO
""".split())

# (regex on code without comments and string literals, why). Every rule names a way in which
# code compiled into the checkpoint executables could fake or hide a result. None of them is
# needed to solve any milestone; docs/grading.md lists them for students too.
_ASSERT_CALL = ("TEST_CASE|TEST_CASE_\\w+|TEST_SUITE\\w*|SUBCASE|SCENARIO\\w*|REGISTER_\\w+|"
                "(?:FAST_)?(?:CHECK|REQUIRE|WARN)(?:_\\w+)?|FAIL|FAIL_CHECK|ADD_\\w+_AT")
TAMPER_RULES: list[tuple[str, str]] = [
    (r"\b(?:doctest|DOCTEST_\w*)\b",
     "mentions the test framework (doctest); your code must not touch the test harness"),
    (rf"\b(?:{_ASSERT_CALL})\s*\(",
     "uses a test-framework macro; checkpoints assert, your code does not"),
    (r"\bnamespace\s+(?:lab|doctest)\b|(?<![\w:])lab\s*::",
     "uses the checkpoints' helper namespace lab::"),
    (r"::\s*(?:exit|_Exit|quick_exit|abort)\b|\b(?:_exit|_Exit|quick_exit|at_quick_exit|atexit)\b"
     r"|\b(?:exit|abort)\s*\(|[&=,(]\s*(?:exit|abort)\b",
     "ends the process (exit/_Exit/quick_exit/abort): a test must finish by returning"),
    (r"\bpthread_(?:exit|kill|cancel)\b|\bsyscall\b|\bposix_spawnp?\b|"
     r"(?<![\w.>])(?:fork|vfork|setsid|daemon|system|popen|execl|execlp|execle|execv|execvp|"
     r"execvpe|execve)\s*\(",
     "starts or ends processes or threads behind the test's back"),
    (r"\b(?:sigaction|sigprocmask|pthread_sigmask|setitimer)\b|"
     r"(?<![\w.>])(?:signal|raise|kill|alarm)\s*\(\s*[^)\s]",
     "handles or sends signals (a crash must stay a crash)"),
    (r"\b(?:setjmp|longjmp|sigsetjmp|siglongjmp|_setjmp|_longjmp)\b",
     "jumps out of the test with setjmp/longjmp"),
    (r"\b(?:getenv|secure_getenv|setenv|putenv|unsetenv|clearenv|environ|__environ|"
     r"program_invocation_\w*|__progname\w*|getauxval|dlopen|dlsym|dlvsym|ptrace|prctl|"
     r"mprotect|freopen|dup2|dup3)\b|(?<![\w.>])dup\s*\(",
     "reads the process environment or rewires the process (environ, dlsym, dup2, ...)"),
    (r"\b(?:asm|__asm|__asm__)\b", "inline assembly"),
    (r"\b(?:__tsan|__asan|__lsan|__msan|__ubsan|__sanitizer)\w*|\bAnnotate[A-Z]\w*|"
     r"\bno_sanitize\w*|\bdisable_sanitizer_instrumentation\b|\bno_instrument_function\b",
     "talks to or switches off the sanitizer"),
    (r"\b_Pragma\b", "_Pragma (a pragma can switch off the sanitizer for a whole file)"),
    (r"__attribute__\s*\(\(\s*(?:constructor|destructor|weak|alias|ifunc|section|init_priority)"
     r"|\bgnu\s*::\s*(?:constructor|destructor|weak|alias|ifunc|section|init_priority)\b",
     "load-time hooks or symbol overrides (constructor/destructor/weak/alias attributes)"),
    (r"\bmain\s*\(", "defines or calls main()"),
    (r"##", "token pasting (## can assemble any forbidden name)"),
    (r"%:", "digraph %: (an alternative spelling of #)"),
]
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w+)(.*)$", re.M)
_RAW_PATTERNS = [
    (re.compile(r"/proc/|/dev/fd|/dev/std|\bcmdline\b"),
     "reads the process's own files (/proc, /dev/fd)"),
    (re.compile(r"\bextern\s*\"C"), "declares C symbols (extern \"C\"), e.g. to reach libc or "
     "sanitizer functions under another name"),
]


def _spliced(text: str) -> str:
    """Phase 2 of translation: a backslash-newline joins lines (so e\\<newline>xit is exit).
    Keeps the line count by putting the swallowed newlines after the joined line."""
    out, acc, pending = [], "", 0
    for line in text.split("\n"):
        if line.endswith("\\"):
            acc += line[:-1]
            pending += 1
            continue
        out.append(acc + line + "\n" * pending)
        acc, pending = "", 0
    if acc:
        out.append(acc + "\n" * (pending - 1))
    return "\n".join(out)


def _strip_comments(text: str) -> str:
    """Removes comments, keeps string literals (for #include paths and /proc strings)."""
    pattern = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)

    def repl(match):
        token = match.group(0)
        if token.startswith("/"):
            return re.sub(r"[^\n]", " ", token)
        return token
    return pattern.sub(repl, text)


def _macro_allowed(name: str, rest: str, guards: set[str]) -> bool:
    """An include guard (#define NAME with no body after #ifndef NAME) or a plain number."""
    del guards  # an empty #define is harmless whether or not it guards an include
    body = rest.strip()
    if not body:
        return True
    return bool(re.fullmatch(r"[0-9][0-9'xXa-fA-FuUlL.]*", body))


def tamper_findings(rel: str, text: str) -> list[str]:
    """'file:line: construct: why' for every tamper rule the source breaks."""
    findings = []
    source = _spliced(text)
    code = strip_comments_and_strings(source)
    with_strings = _strip_comments(source)

    def where(pos: int) -> int:
        return code.count("\n", 0, pos) + 1

    guards = set(re.findall(r"^[ \t]*#[ \t]*ifndef[ \t]+(\w+)", code, re.M))
    for match in _DIRECTIVE.finditer(code):
        directive, rest = match.group(1), match.group(2)
        line = where(match.start())
        raw_line = with_strings.splitlines()[line - 1] if line - 1 < len(
            with_strings.splitlines()) else ""
        if directive == "define":
            name_match = re.match(r"[ \t]*(\w+)(\()?", rest)
            name = name_match.group(1) if name_match else ""
            function_like = bool(name_match and name_match.group(2))
            body = rest[name_match.end():] if name_match else rest
            if name in DOCTEST_MACROS or name.startswith("DOCTEST") or name.startswith("LAB_"):
                findings.append(f"{rel}:{line}: '#define {name}': redefines a test-framework "
                                "macro")
            elif function_like or not _macro_allowed(name, body, guards):
                findings.append(f"{rel}:{line}: '#define {name}': a macro with a body can "
                                "rewrite the checkpoint code that includes your file; use "
                                "constexpr or an inline function (only include guards and "
                                "numeric constants are allowed)")
        elif directive == "undef":
            findings.append(f"{rel}:{line}: '#undef': can unmake the test framework's macros")
        elif directive == "pragma":
            if rest.strip() != "once":
                findings.append(f"{rel}:{line}: '#pragma{rest.rstrip()}': only '#pragma once' "
                                "is allowed (a pragma can switch off the sanitizer)")
        elif directive in ("include", "include_next", "import"):
            target = re.search(r"[<\"]([^>\"]*)[>\"]", raw_line)
            path = target.group(1) if target else ""
            if directive != "include":
                findings.append(f"{rel}:{line}: '#{directive}': use #include")
            elif not target:
                findings.append(f"{rel}:{line}: '#include' of a macro: name the header")
            elif "doctest" in path.lower():
                findings.append(f"{rel}:{line}: '#include <{path}>': includes the test "
                                "framework")
            elif path.startswith("/") or ".." in Path(path).parts:
                findings.append(f"{rel}:{line}: '#include \"{path}\"': includes a file outside "
                                "the course's include paths")
            elif path.endswith((".cpp", ".cc", ".c", ".cxx", ".inc", ".ipp")) or \
                    path in ("main.cpp", "lab_test.hpp"):
                findings.append(f"{rel}:{line}: '#include \"{path}\"': includes a source file "
                                "or the checkpoints' helpers")
        elif directive == "line":
            findings.append(f"{rel}:{line}: '#line': would disguise where code comes from")
    for regex, why in TAMPER_RULES:
        for match in re.finditer(regex, code):
            findings.append(f"{rel}:{where(match.start())}: '{match.group(0).strip()}': {why}")
    for regex, why in _RAW_PATTERNS:
        for match in regex.finditer(with_strings):
            findings.append(f"{rel}:{with_strings.count(chr(10), 0, match.start()) + 1}: "
                            f"'{match.group(0)}': {why}")
    return list(dict.fromkeys(findings))


def linked_files(m: Milestone) -> list[str]:
    """The milestone's editable code files that end up inside a checkpoint executable:
    every header, and the .cpp files its checkpoints/NN-name/CMakeLists.txt names."""
    cmake = m.directory / "CMakeLists.txt"
    cmake_text = cmake.read_text(errors="replace") if cmake.exists() else ""
    result = []
    for name in m.files:
        if name.endswith(HEADER_SUFFIXES):
            result.append(name)
        elif name.endswith(CODE_SUFFIXES) and re.search(rf"(?<![\w.]){re.escape(name)}\b",
                                                         cmake_text):
            result.append(name)
    return result


def rule_check(m: Milestone, track: Path, tamper_rules: bool) -> tuple[list[str], list[str]]:
    """(tamper findings, manifest-forbidden findings) on the student's version in track."""
    tamper = []
    if tamper_rules:
        for name in linked_files(m):
            path = track / m.slug / name
            if path.exists():
                tamper += tamper_findings(f"starter/{m.slug}/{name}",
                                          path.read_text(errors="replace"))
    forbidden = [f"starter/{v}" for v in forbidden_violations(m, track)]
    return tamper, forbidden


def dependents(number: int, milestones: list[Milestone]) -> list[int]:
    """Milestones that include `number`'s headers, directly or through another milestone."""
    found: set[int] = set()
    changed = True
    while changed:
        changed = False
        for m in milestones:
            if m.number in found:
                continue
            if number in m.depends or found.intersection(m.depends):
                found.add(m.number)
                changed = True
    return sorted(found)


def closure(numbers: set[int], milestones: list[Milestone]) -> set[int]:
    """numbers plus every milestone they depend on, transitively."""
    by_number = {m.number: m for m in milestones}
    result, todo = set(), list(numbers)
    while todo:
        n = todo.pop()
        if n in result or n not in by_number:
            continue
        result.add(n)
        todo.extend(by_number[n].depends)
    return result


# --- running one checkpoint ------------------------------------------------------------------

@dataclass
class TestSpec:
    command: list[str]
    cwd: Path
    timeout: float


def discover(tree: b.Tree) -> dict[str, TestSpec]:
    """CTest's view of the tests: the doctest command line and TIMEOUT of each."""
    proc = subprocess.run(["ctest", "--test-dir", str(tree.build_dir), "--show-only=json-v1"],
                          capture_output=True, text=True, errors="replace", timeout=120)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {}
    specs = {}
    for test in data.get("tests", []):
        props = {p.get("name"): p.get("value") for p in test.get("properties", [])}
        command = test.get("command") or []
        if not command:
            continue
        specs[test["name"]] = TestSpec(
            command=list(command),
            cwd=Path(props.get("WORKING_DIRECTORY") or Path(command[0]).parent),
            timeout=float(props.get("TIMEOUT") or 60))
    return specs


@dataclass
class Run:
    passed: bool
    reason: str           # one line: why it failed ("" when it passed)
    detail: str = ""      # the evidence: doctest's failures, the sanitizer report
    seconds: float = 0.0
    kind: str = "failed"  # passed, failed, timeout, crash, sanitizer, no-report


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))


def _read_capped(path: Path) -> str:
    size = path.stat().st_size if path.exists() else 0
    with open(path, "rb") as fh:
        if size <= MAX_OUTPUT_KEEP:
            data = fh.read()
        else:
            head = fh.read(MAX_OUTPUT_KEEP // 2)
            fh.seek(size - MAX_OUTPUT_KEEP // 2)
            data = head + b"\n[... output cut ...]\n" + fh.read()
    return data.decode("utf-8", errors="replace")


def _doctest_failures(case: ET.Element) -> list[str]:
    """Readable lines for the failed assertions and exceptions of one doctest TestCase."""
    lines = []
    for el in case.iter():
        if el.tag == "Expression" and el.get("success") == "false":
            original = (el.findtext("Original") or "").strip()
            where = f"{el.get('filename', '?')}:{el.get('line', '?')}"
            lines.append(f"{where}: {el.get('type', 'CHECK')}( {original} ) failed")
            expanded = (el.findtext("Expanded") or "").strip()
            if expanded and expanded != original:
                lines.append(f"  values: {expanded}")
            exc = (el.findtext("Exception") or "").strip().strip('"')
            if exc:
                lines.append(f"  threw: {exc}")
            for info_el in el.iter("Info"):
                if (info_el.text or "").strip():
                    lines.append(f"  info: {info_el.text.strip()}")
        elif el.tag == "Exception" and el is not None and el.get("crash") is not None:
            lines.append(f"threw: {(el.text or '').strip()}")
        elif el.tag == "Message" and el.get("type", "").startswith("FATAL"):
            lines.append(f"{el.get('filename', '?')}:{el.get('line', '?')}: "
                         f"{(el.findtext('Text') or '').strip()}")
    return lines


def verify_report(report: Path, exe: str, test_name: str, slug: str,
                  nonce: int) -> tuple[bool, str, list[str]]:
    """Reads doctest's XML report of one run: (ok, why not, failure lines)."""
    if not report.exists():
        return False, ("the test runner wrote no report: the process ended before the test "
                       "finished (an exit, a crash or a kill)"), []
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError:
        return False, ("the test runner's report is incomplete: the process ended before the "
                       "test finished"), []
    if root.tag != "doctest":
        return False, "the report is not doctest's", []
    if os.path.realpath(root.get("binary", "")) != os.path.realpath(exe):
        return False, "the report names another executable", []
    options = root.find("Options")
    if options is None or options.get("rand_seed") != str(nonce):
        return False, "the report does not belong to this run", []
    ran = [c for c in root.iter("TestCase") if c.get("skipped") != "true"]
    mine = [c for c in ran if c.get("name") == test_name]
    if not mine:
        return False, f"the test case '{test_name}' did not run", []
    if len(ran) != 1:
        return False, (f"{len(ran)} test cases ran where exactly one was selected (is a test "
                       "case defined outside the checkpoints?)"), []
    case = mine[0]
    failures = _doctest_failures(case)
    if not case.get("filename", "").startswith(f"checkpoints/{slug}/"):
        return False, "the test case that ran is not the course's checkpoint", failures
    asserts = case.find("OverallResultsAsserts")
    totals = root.find("OverallResultsTestCases")
    overall = root.find("OverallResultsAsserts")
    if asserts is None or totals is None or overall is None:
        if failures:
            return False, "the test failed and the process stopped before it finished", failures
        return False, "the report is incomplete: the process stopped before the test finished", \
            failures
    try:
        successes = int(asserts.get("successes", "0"))
        failed = int(asserts.get("failures", "0"))
        cases_ok = int(totals.get("successes", "0"))
        cases_failed = int(totals.get("failures", "0"))
        overall_failed = int(overall.get("failures", "0"))
    except ValueError:
        return False, "the report is malformed", failures
    if failed or overall_failed or cases_failed or asserts.get("test_case_success") != "true" \
            or case.find("Exception") is not None:
        return False, "the checkpoint failed", failures
    if cases_ok != 1:
        return False, "the report does not count exactly one passed test case", failures
    if successes < 1:
        return False, ("no assertion ran (a checkpoint always checks something: were the test "
                       "macros disabled?)"), failures
    return True, "", []


def run_once(spec: TestSpec, test_name: str, slug: str, timeout: float) -> Run:
    """Runs one checkpoint once and decides from the exit status, the output and doctest's own
    report whether it really passed."""
    result = _run_once(spec, test_name, slug, timeout, [])
    if result.kind == "environment" and shutil.which("setarch"):
        # TSan (clang < 18) cannot start when the kernel randomizes mmap with more bits than
        # its memory layout allows (vm.mmap_rnd_bits > 28), which a container cannot change:
        # run the test without address-space randomization instead.
        result = _run_once(spec, test_name, slug, timeout,
                           ["setarch", os.uname().machine, "-R"])
    if result.kind == "environment":
        raise LabError("ThreadSanitizer cannot start on this machine (\"unexpected memory "
                       "mapping\"): run `sudo sysctl -w vm.mmap_rnd_bits=28` first")
    return result


def _run_once(spec: TestSpec, test_name: str, slug: str, timeout: float,
              prefix: list[str]) -> Run:
    exe = spec.command[0]
    if not Path(exe).is_file():
        return Run(False, "the checkpoint executable was not built", kind="failed")
    scratch = Path(tempfile.mkdtemp(prefix="lab-grade-run-"))
    try:
        os.chmod(scratch, 0o700)
        report = scratch / f"{secrets.token_hex(12)}.xml"
        nonce = secrets.randbelow(2**31 - 2) + 1
        command = prefix + spec.command + ["--reporters=xml", f"--out={report}",
                                           f"--rand-seed={nonce}", "--no-colors=true",
                                           "--no-breaks=true"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch),
               "TMPDIR": str(scratch), "LANG": "C.UTF-8", "TSAN_OPTIONS": TSAN_OPTIONS,
               "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1",
               "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
        out_path = scratch / "output.txt"
        start = time.monotonic()
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(command, cwd=spec.cwd if spec.cwd.is_dir() else scratch,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                    preexec_fn=_limit_child)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)   # and anything it left behind
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        seconds = time.monotonic() - start
        output = _read_capped(out_path)
        if timed_out:
            return Run(False, f"timed out after {timeout:g} s (an endless loop, a deadlock or a "
                              "thread that never stops?)", _tail(output), seconds, "timeout")
        if "ThreadSanitizer: unexpected memory mapping" in output:
            return Run(False, "ThreadSanitizer could not start", _tail(output), seconds,
                       "environment")
        ok, why, failures = verify_report(report, exe, test_name, slug, nonce)
        code = proc.returncode
        if SANITIZER_REPORT.search(output):
            return Run(False, _sanitizer_headline(output, code), sanitizer_excerpt(output),
                       seconds, "sanitizer")
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ \
                else str(-code)
            return Run(False, f"crashed ({name})", "\n".join(failures) or _tail(output),
                       seconds, "crash")
        if code != 0:
            detail = "\n".join(failures) or b.failure_summary(output)
            return Run(False, why if not ok else f"exit code {code}", detail, seconds,
                       "failed" if failures else "crash")
        if not ok:
            return Run(False, why, "\n".join(failures) or _tail(output), seconds,
                       "no-report" if "report" in why else "failed")
        return Run(True, "", "", seconds, "passed")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sanitizer_headline(output: str, code: int) -> str:
    for line in output.splitlines():
        m = re.search(r"(WARNING|ERROR): (\w+Sanitizer): (.*)", line)
        if m:
            what = re.sub(r"\s*\((?:pid|pc)[= ][^)]*\)", "", m.group(3)).strip()
            return f"{m.group(2)}: {what} (exit code {code})"
        if "runtime error:" in line:
            return "UndefinedBehaviorSanitizer: " + line.split("runtime error:", 1)[1].strip()
    return f"a sanitizer reported a problem (exit code {code})"


_FRAME = re.compile(r"^\s+#\d+ ")


def sanitizer_excerpt(output: str, frames_per_stack: int = 4, max_lines: int = 30) -> str:
    """The first sanitizer report, shortened: every section header (the racing accesses,
    the threads, the location) with the first frames of its stack, and the SUMMARY line."""
    lines = output.splitlines()
    start = next((i for i, l in enumerate(lines) if SANITIZER_REPORT.search(l)), None)
    if start is None:
        return b.failure_summary(output)
    kept, in_stack, skipping = [], 0, False
    for line in lines[start:]:
        if line.startswith("SUMMARY:"):
            kept.append(line)
            break
        if _FRAME.match(line):
            in_stack += 1
            if in_stack <= frames_per_stack and not skipping:
                kept.append(line)
            continue
        in_stack = 0
        # Where the threads were created says little about the bug: leave those stacks out.
        skipping = bool(re.match(r"\s+Thread T\d+ .*created by", line))
        if skipping:
            continue
        if line.strip() and not line.startswith("=="):
            kept.append(line)
        elif line.startswith("==") and "ERROR:" in line:
            kept.append(line)
    return "\n".join(kept[:max_lines])


_NOISE = [
    (re.compile(r" \((?:[\w.+-]+)\+0x[0-9a-f]+\)(?: \(BuildId: [0-9a-f]+\))?"), ""),
    (re.compile(r" \(BuildId: [0-9a-f]+\)"), ""),
    (re.compile(r"/usr/bin/\.\./lib/gcc/x86_64-linux-gnu/\d+/\.\./\.\./\.\./\.\./include/c\+\+/\d+/"),
     "<libstdc++>/"),
]


def tidy(text: str, track: Path | None = None) -> str:
    """Shorter, student-readable paths and frames: the overlay is shown as starter/."""
    if track is not None:
        prefixes = [str(track) + "/"]
        try:
            prefixes.append(track.relative_to(ROOT).as_posix() + "/")
        except ValueError:
            pass
        for prefix in prefixes:
            text = text.replace(prefix, "starter/")
    text = text.replace(str(ROOT) + "/", "")
    for regex, repl in _NOISE:
        text = regex.sub(repl, text)
    return _LONG_FRAME.sub(_shorten_frame, text)


_LONG_FRAME = re.compile(r"^(\s+#\d+ )(.+?)( \S+:\d+(?::\d+)?)?$", re.M)


def _shorten_frame(match: re.Match) -> str:
    function = match.group(2)
    if len(function) > 90:
        function = function[:60] + " ... " + function[-25:]
    return match.group(1) + function + (match.group(3) or "")


def _tail(output: str, lines: int = 12) -> str:
    kept = [l for l in output.splitlines() if l.strip()]
    return "\n".join(kept[-lines:])


# --- scoring and reports ---------------------------------------------------------------------

@dataclass
class Outcome:
    milestone: Milestone
    name: str                 # the manifest's test case name
    points: int
    concurrency: bool
    passed: bool = False
    status: str = "not run"   # passed, failed, timeout, crash, sanitizer, no-report,
    #                           not built, rule, blocked, budget, error
    output: str = ""
    seconds: float = 0.0
    runs: int = 0

    @property
    def ctest_name(self) -> str:
        return f"{self.milestone.label}/{self.name}"

    @property
    def score(self) -> int:
        return self.points if self.passed else 0


@dataclass
class Report:
    submission: str
    milestones: list[Milestone] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    milestone_notes: dict[int, list[str]] = field(default_factory=dict)
    milestone_status: dict[int, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    options: Options = field(default_factory=Options)

    @property
    def score(self) -> float:
        return float(sum(o.score for o in self.outcomes))

    @property
    def max_score(self) -> float:
        return float(sum(o.points for o in self.outcomes))

    def milestone_points(self, m: Milestone) -> tuple[int, int, int, int]:
        mine = [o for o in self.outcomes if o.milestone.number == m.number]
        return (sum(o.score for o in mine), sum(o.points for o in mine),
                sum(o.passed for o in mine), len(mine))

    def console_table(self) -> str:
        rows = []
        for m in self.milestones:
            got, of, passed, total = self.milestone_points(m)
            rows.append([f"{m.number:02d}", m.title, f"{passed}/{total}", f"{got}/{of}",
                         self.milestone_status.get(m.number, "")])
        if self.error:
            rows.append(["--", "grader error", "-", "-", self.error.splitlines()[0][:60]])
        return table(["#", "Milestone", "Tests", "Points", "Status"], rows)


def _trim(text: str, limit: int = MAX_TEST_OUTPUT) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit - 20].rstrip() + "\n[... trimmed ...]"


def _test_output(o: Outcome) -> str:
    if o.passed:
        runs = f" ({o.runs} runs)" if o.runs > 1 else ""
        return f"passed{runs}"
    return _trim(o.output)


def results_json(report: Report) -> dict:
    visibility = "after_published" if report.options.hidden else "visible"
    tests = []
    for i, o in enumerate(report.outcomes, 1):
        tests.append({
            "name": o.ctest_name,
            "number": f"{o.milestone.number}.{i}",
            "score": o.score,
            "max_score": o.points,
            "status": "passed" if o.passed else "failed",
            "output": _test_output(o),
            "visibility": visibility,
            "tags": [o.milestone.label] + (["concurrency"] if o.concurrency else []),
            "execution_time": round(o.seconds, 3),
        })
    if report.error:
        tests.append({"name": "grader error", "score": 0, "max_score": 0, "status": "failed",
                      "output": _trim(report.error, 4000), "visibility": "visible"})
    lines = [f"{report.score:g}/{report.max_score:g} points."]
    for m in report.milestones:
        got, of, passed, total = report.milestone_points(m)
        lines.append(f"Milestone {m.number} ({m.title}): {got}/{of} "
                     f"({passed}/{total} checkpoints) {report.milestone_status.get(m.number, '')}")
    for number, notes in sorted(report.milestone_notes.items()):
        lines += [f"Milestone {number}: {n}" for n in notes]
    if report.ignored:
        lines.append(f"Ignored (not graded) changes: {len(report.ignored)} file(s); see "
                     "summary.md.")
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.seconds, 1),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "milestones": [{"number": m.number, "slug": m.slug,
                            "score": report.milestone_points(m)[0],
                            "max_score": report.milestone_points(m)[1],
                            "status": report.milestone_status.get(m.number, ""),
                            "notes": report.milestone_notes.get(m.number, [])}
                           for m in report.milestones],
            "ignored_files": report.ignored,
            "notes": report.notes,
            "repeat": report.options.repeat,
            "error": report.error or None,
        },
    }


def junit_xml(report: Report) -> str:
    suites = ET.Element("testsuites", name="lab grade", tests=str(len(report.outcomes)),
                        failures=str(sum(not o.passed for o in report.outcomes)),
                        time=f"{report.seconds:.1f}")
    for m in report.milestones:
        mine = [o for o in report.outcomes if o.milestone.number == m.number]
        got, of, _, _ = report.milestone_points(m)
        suite = ET.SubElement(suites, "testsuite", name=f"{m.label} {m.slug}",
                              tests=str(len(mine)),
                              failures=str(sum(not o.passed for o in mine)), errors="0",
                              time=f"{sum(o.seconds for o in mine):.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="points", value=f"{got}/{of}")
        for o in mine:
            case = ET.SubElement(suite, "testcase", classname=m.label, name=o.ctest_name,
                                 time=f"{o.seconds:.3f}")
            ET.SubElement(case, "properties").append(
                ET.Element("property", name="points", value=f"{o.score}/{o.points}"))
            if not o.passed:
                first = (o.output.splitlines() or [o.status])[0]
                fail = ET.SubElement(case, "failure", message=first[:300], type=o.status)
                fail.text = _trim(o.output)
    if report.error:
        suite = ET.SubElement(suites, "testsuite", name="grader", tests="1", failures="0",
                              errors="1")
        case = ET.SubElement(suite, "testcase", classname="grader", name="grader error")
        err = ET.SubElement(case, "error", message=report.error.splitlines()[0][:300])
        err.text = _trim(report.error, 4000)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_block(text: str) -> str:
    body = text.replace("```", "'''")
    return f"```text\n{body}\n```"


def summary_md(report: Report) -> str:
    out = [f"## Grade: {report.score:g} / {report.max_score:g}", ""]
    if report.error:
        out += ["> **The grader failed** (this is not a verdict on your code; tell your "
                "instructor):", "", _md_block(_trim(report.error, 3000)), ""]
    out += ["| # | Milestone | Points | Checkpoints | Status |", "| --- | --- | --- | --- | --- |"]
    for m in report.milestones:
        got, of, passed, total = report.milestone_points(m)
        out.append(f"| {m.number:02d} | {_md_cell(m.title)} | {got}/{of} | {passed}/{total} | "
                   f"{_md_cell(report.milestone_status.get(m.number, ''))} |")
    out.append("")
    rules = [(n, notes) for n, notes in sorted(report.milestone_notes.items()) if notes]
    if rules:
        out += ["### Rules and blocked milestones", ""]
        for number, notes in rules:
            for note in notes[:12]:
                out.append(f"- Milestone {number}: {_md_cell(note)}")
            if len(notes) > 12:
                out.append(f"- Milestone {number}: ... and {len(notes) - 12} more")
        out.append("")
    failed = [o for o in report.outcomes if not o.passed and o.status not in ("rule", "blocked")]
    if failed:
        out += ["### Failed checkpoints", ""]
        for o in failed[:40]:
            first = (o.output.splitlines() or [o.status])[0]
            out += [f"<details><summary><code>{_html(o.ctest_name)}</code> ({o.points} pt): "
                    f"{_html(first[:160])}</summary>", "", _md_block(_trim(o.output)), "",
                    "</details>", ""]
        if len(failed) > 40:
            out.append(f"... and {len(failed) - 40} more (see results.json)\n")
    if report.ignored:
        out += ["### Ignored changes", "",
                "Only the files you edit under `starter/` are graded; these files differ from "
                "the course's copy and were **not** used:", ""]
        out += [f"- `{f}`" for f in report.ignored[:50]]
        if len(report.ignored) > 50:
            out.append(f"- ... and {len(report.ignored) - 50} more")
        out.append("")
    if report.notes:
        out += ["### Notes", ""] + [f"- {_md_cell(n)}" for n in report.notes[:30]] + [""]
    out.append(f"<sub>clang + ThreadSanitizer; concurrency checkpoints run "
               f"{report.options.repeat}x and must pass every time; graded in "
               f"{report.seconds:.0f} s.</sub>")
    return "\n".join(out) + "\n"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def classroom_json(report: Report) -> dict:
    tests = [{"name": o.ctest_name, "status": "pass" if o.passed else "fail",
              "score": o.score, "message": "" if o.passed else _trim(o.output, 600),
              "line_no": 0, "execution_time": f"{o.seconds:.2f}s", "test_code": ""}
             for o in report.outcomes]
    status = "error" if report.error else \
        ("pass" if all(o.passed for o in report.outcomes) else "fail")
    if report.error:
        tests.append({"name": "grader error", "status": "error", "score": 0,
                      "message": _trim(report.error, 600), "line_no": 0,
                      "execution_time": "0s", "test_code": ""})
    return {"version": 1, "status": status, "max_score": report.max_score, "tests": tests}


def write_reports(report: Report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": json.dumps(results_json(report), indent=2) + "\n",
        "junit.xml": junit_xml(report) + "\n",
        "summary.md": summary_md(report),
    }
    if report.options.classroom:
        data = classroom_json(report)
        files["classroom.json"] = json.dumps(data, indent=2) + "\n"
    for name, text in files.items():
        tmp = out / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out / name)
    if report.options.classroom and os.environ.get("GITHUB_OUTPUT"):
        encoded = base64.b64encode(json.dumps(classroom_json(report)).encode()).decode()
        with open(os.environ["GITHUB_OUTPUT"], "a") as fh:
            fh.write(f"result={encoded}\n")


# --- grading one submission ------------------------------------------------------------------

def _readable(text: str, track: Path) -> str:
    return tidy(text, track)


def grade_submission(given: Path, out: Path, work: Path, opts: Options,
                     milestones: list[Milestone] | None = None) -> Report:
    """Grades one submission and writes the reports; never raises (errors become a report)."""
    started = time.monotonic()
    report = Report(submission=str(given), options=opts)
    try:
        all_ms = milestones if milestones is not None else load_milestones()
        graded = [m for m in all_ms if opts.only is None or m.number in opts.only]
        if opts.only and not graded:
            raise LabError(f"--only {opts.only}: no such milestone")
        report.milestones = graded
        report.outcomes = [Outcome(m, t.name, t.points, t.concurrency) for m in graded
                           for t in m.tests]
        _grade(given, work, opts, all_ms, graded, report)
    except Exception as exc:  # noqa: BLE001 - the reports must be written whatever happened
        detail = "" if isinstance(exc, LabError) else "\n" + traceback.format_exc()
        report.error = f"{type(exc).__name__}: {exc}{detail}"
        for o in report.outcomes:
            if o.status == "not run":
                o.status, o.output = "error", "not graded: the grader failed (see 'grader error')"
    finally:
        report.seconds = time.monotonic() - started
        try:
            write_reports(report, out)
        except OSError as exc:
            warn(f"cannot write the reports to {out}: {exc}")
            report.error = report.error or str(exc)
    return report


def _grade(given: Path, work: Path, opts: Options, all_ms: list[Milestone],
           graded: list[Milestone], report: Report) -> None:
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LabError(f"another grading is using {work}; give this one its own --work DIR") \
                from exc
        _grade_locked(given, work, opts, all_ms, graded, report)


def _grade_locked(given: Path, work: Path, opts: Options, all_ms: list[Milestone],
                  graded: list[Milestone], report: Report) -> None:
    scratch = work / "scratch"
    track = work / "track"
    root = unpack(given.resolve() if given.exists() else given, scratch)
    info(f"grading {given}")
    graded_numbers = {m.number for m in graded}
    all_ms = all_ms + _unlisted_milestones(all_ms)
    sub = locate(given, root, all_ms)
    report.ignored = sub.ignored
    if sub.layout == "empty":
        report.notes.append("no file of the course was found in the submission: every "
                            "milestone is graded as the starter")
    report.notes += sub.notes

    # 1. Rules, checked on the student's files before anything of them is compiled.
    overlay(sub, all_ms, track, set())
    needed = closure(graded_numbers, all_ms)
    excluded: set[int] = set()        # tamper: zero, and do not even compile the code
    zeroed: dict[int, str] = {}       # milestone -> status line
    for m in all_ms:
        if m.number not in needed:
            continue
        tamper, forbidden = rule_check(m, track, opts.tamper_rules)
        if tamper:
            excluded.add(m.number)
            zeroed[m.number] = "0: breaks a grading rule (tamper)"
            report.milestone_notes.setdefault(m.number, []).extend(
                [f"scored 0: {t}" for t in tamper])
        elif forbidden:
            zeroed[m.number] = "0: uses a forbidden construct"
            report.milestone_notes.setdefault(m.number, []).extend(
                [f"scored 0: {v}" for v in forbidden])
    for n in sorted(excluded):
        for d in dependents(n, all_ms):
            if d not in excluded:
                excluded.add(d)
                zeroed.setdefault(d, f"0: depends on milestone {n}, which breaks a grading rule")
                report.milestone_notes.setdefault(d, []).append(
                    f"scored 0: it includes milestone {n}'s code, which breaks a grading rule")
    if excluded:
        overlay(sub, all_ms, track, excluded)

    # 2. Build, one milestone at a time, against our checkpoints.
    tree = b.Tree("student", work / "tsan", track_dir=track,
                  cache={"LAB_WERROR": "OFF", "LAB_INSTRUCTOR": "OFF", "LAB_BENCHMARKS": "OFF"})
    cfg = tree.configure()
    if not cfg.ok:
        raise LabError("CMake could not configure the grading build (this is the grader's "
                       "environment, not the submission):\n" + cfg.output[-3000:])
    if not cfg.output:
        # The tree was configured before: configure again anyway, because
        # checkpoints/CMakeLists.txt finds the milestone folders (and a milestone finds the
        # milestones it includes) only at configure time. About a second.
        again = subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tree.build_dir)], cwd=ROOT,
                               capture_output=True, text=True, errors="replace")
        if again.returncode != 0:
            raise LabError("CMake could not configure the grading build:\n"
                           + (again.stdout + again.stderr)[-3000:])
    known = tree.targets()
    builds: dict[int, b.BuildResult] = {}
    for m in all_ms:
        if m.number not in needed or m.number in excluded or not m.tests:
            continue
        broken = [d for d in m.depends if d in builds and not builds[d].ok]
        if broken:
            builds[m.number] = b.BuildResult(False, f"depends on milestone "
                                                    f"{', '.join(map(str, broken))}")
            continue
        targets = tree.milestone_targets(m, known)
        if not targets:
            builds[m.number] = b.BuildResult(False, f"{m.slug}: no checkpoint target was "
                                                    "configured")
            continue
        info(f"  building milestone {m.number}")
        builds[m.number] = tree.build(targets, jobs=opts.jobs)

    # 3. Decide what runs; explain the rest.
    to_run: list[Outcome] = []
    for m in graded:
        mine = [o for o in report.outcomes if o.milestone.number == m.number]
        if m.number in zeroed:
            report.milestone_status[m.number] = zeroed[m.number]
            notes = report.milestone_notes.get(m.number, [])
            for o in mine:
                o.status, o.output = "rule", "\n".join(notes[:6]) or zeroed[m.number]
            continue
        broken = [d for d in _all_deps(m, all_ms) if d in builds and not builds[d].ok]
        if broken:
            deps = ", ".join(str(d) for d in broken)
            report.milestone_status[m.number] = f"blocked: depends on milestone {deps}"
            for o in mine:
                o.status = "blocked"
                o.output = f"depends on milestone {deps}, which does not compile"
            report.milestone_notes.setdefault(m.number, []).append(
                f"scored 0: depends on milestone {deps}, which does not compile")
            continue
        build = builds.get(m.number)
        if build is None or not build.ok:
            errors = _readable(b.compile_errors(build.output if build else ""), track)
            report.milestone_status[m.number] = "does not compile"
            for o in mine:
                o.status, o.output = "not built", "does not compile:\n" + errors
            continue
        to_run.extend(mine)

    # 4. Run.
    specs = discover(tree) if to_run else {}
    deadline = time.monotonic() + opts.budget

    def grade_one(o: Outcome) -> None:
        if time.monotonic() > deadline:
            o.status = "budget"
            o.output = (f"not run: the grading time budget ({opts.budget:g} s) was used up by "
                        "earlier checkpoints (slow or hanging code?)")
            return
        spec = specs.get(o.ctest_name)
        if spec is None:
            exe = tree.build_dir / "checkpoints" / o.milestone.slug / \
                f"{o.milestone.label}_checkpoints"
            spec = TestSpec([str(exe), f"--test-case={_doctest_filter(o.name)}"],
                            exe.parent, 60.0)
            report.notes.append(f"{o.ctest_name}: not listed by CTest (the executable did not "
                                "list its tests at build time); run directly")
        timeout = spec.timeout if opts.test_timeout is None else min(spec.timeout,
                                                                     opts.test_timeout)
        reps = opts.repeat if o.concurrency else 1
        total = 0.0
        for i in range(1, reps + 1):
            remaining = deadline - time.monotonic()
            result = run_once(spec, o.name, o.milestone.slug, max(1.0, min(timeout, remaining)))
            total += result.seconds
            o.runs = i
            if not result.passed:
                where = f" (run {i} of {reps})" if reps > 1 else ""
                o.status = result.kind
                o.output = _readable(f"{result.reason}{where}\n{result.detail}".strip(), track)
                o.seconds = total
                return
        o.passed, o.status, o.seconds = True, "passed", total

    info(f"  running {len(to_run)} checkpoints ({opts.repeat}x each concurrency checkpoint)")
    if opts.test_jobs > 1:
        with ThreadPoolExecutor(opts.test_jobs) as pool:
            list(pool.map(grade_one, to_run))
    else:
        for o in to_run:
            grade_one(o)
    for m in graded:
        if m.number in report.milestone_status:
            continue
        mine = [o for o in report.outcomes if o.milestone.number == m.number]
        failing = sum(not o.passed for o in mine)
        report.milestone_status[m.number] = "passed" if not failing else f"{failing} failing"


def _unlisted_milestones(milestones: list[Milestone]) -> list[Milestone]:
    """starter/NN-name/ folders that have no manifest yet (a milestone being written): their
    files are taken from the submission too, so that the milestones that include them build
    with the student's code. They have no tests, so they are neither built nor scored."""
    known = {m.slug for m in milestones}
    result = []
    for folder in sorted((ROOT / "starter").glob("[0-9][0-9]-*")):
        if folder.name in known or not folder.is_dir():
            continue
        files = sorted(p.name for p in folder.iterdir() if p.is_file())
        result.append(Milestone(number=int(folder.name[:2]), slug=folder.name,
                                title=folder.name, files=files, depends=[], tests=[],
                                hints=[], forbidden=[],
                                directory=ROOT / "checkpoints" / folder.name))
    return result


def _all_deps(m: Milestone, all_ms: list[Milestone]) -> list[int]:
    return sorted(closure(set(m.depends), all_ms))


def _doctest_filter(name: str) -> str:
    """doctest's --test-case takes comma-separated wildcards; escape what it treats specially."""
    return re.sub(r"([,\\\[\]*?])", r"\\\1", name)


# --- batch -----------------------------------------------------------------------------------

_ARCHIVE = re.compile(r"\.(zip|tar|tar\.gz|tgz|tar\.bz2|tar\.xz)$", re.I)


def _batch_name(path: Path) -> str:
    name = _ARCHIVE.sub("", path.name) if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name) or "submission"


def write_grades_csv(out: Path, names: list[str], milestones: list[Milestone]) -> Path:
    path = out / "grades.csv"
    tmp = out / "grades.csv.tmp"
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["submission", "score", "max_score", "percent"]
                        + [m.label for m in milestones] + ["status", "seconds", "results"])
        for name in names:
            results = out / name / "results.json"
            if not results.exists():
                writer.writerow([name, "", "", ""] + [""] * len(milestones)
                                + ["not graded", "", ""])
                continue
            try:
                data = json.loads(results.read_text())
            except (OSError, json.JSONDecodeError):
                writer.writerow([name, "", "", ""] + [""] * len(milestones)
                                + ["unreadable results.json", "", str(results)])
                continue
            per = {d["number"]: d["score"] for d in data.get("extra_data", {}).get("milestones", [])}
            score, max_score = data.get("score", 0), data.get("max_score", 0)
            percent = f"{100 * score / max_score:.1f}" if max_score else ""
            status = "error" if data.get("extra_data", {}).get("error") else "graded"
            writer.writerow([name, f"{score:g}", f"{max_score:g}", percent]
                            + [per.get(m.number, "") for m in milestones]
                            + [status, data.get("execution_time", ""),
                               str(results.relative_to(out))])
    tmp.replace(path)
    return path


def run_batch(folder: Path, out: Path, work: Path, opts: Options, force: bool) -> int:
    if not folder.is_dir():
        raise LabError(f"--batch {folder}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(p for p in folder.iterdir()
                     if not p.name.startswith(".") and (p.is_dir() or _ARCHIVE.search(p.name)))
    names, seen = [], set()
    for entry in entries:
        name = _batch_name(entry)
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    all_ms = load_milestones()
    graded = [m for m in all_ms if opts.only is None or m.number in opts.only]
    errors = 0
    for i, (entry, name) in enumerate(zip(entries, names), 1):
        target = out / name
        if (target / "results.json").exists() and not force:
            info(f"[{i}/{len(entries)}] {name}: already graded (use --force to grade again)")
            continue
        info(f"[{i}/{len(entries)}] {name}")
        try:
            report = grade_submission(entry, target, work, opts, all_ms)
            errors += bool(report.error)
            print(f"    {report.score:g}/{report.max_score:g}"
                  + (paint("  grader error", "red") if report.error else ""))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
            errors += 1
            warn(f"{name}: {exc}")
        write_grades_csv(out, names, graded)
    path = write_grades_csv(out, names, graded)
    print(f"\n{len(entries)} submission(s); grades in {path}"
          + (f"; {errors} with grader errors" if errors else ""))
    return 2 if errors else 0

