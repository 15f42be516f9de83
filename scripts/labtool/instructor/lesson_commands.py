"""Every command a lesson shows a student runs in the student repository.

    python3 scripts/labtool/instructor/lesson_commands.py --list
    python3 scripts/labtool/instructor/lesson_commands.py [--smoke] [--only N] [--work DIR]
    python3 scripts/labtool/instructor/lesson_commands.py --export DIR [--smoke]

It makes a student release (`scripts/lab export-student DIR --no-git`, in a temporary folder or
in --work DIR), then runs, in lesson order and inside that release, every `sh` / `bash` /
`shell` code fence of every Markdown page under lessons/. A fence fails when its exit status is
not one it allows (0 unless marked) or when it runs longer than its timeout; the command exits 1
if any fence failed, and prints the fence's last lines of output.

Markers: an HTML comment on the line(s) right before the opening fence (blank lines allowed).

  <!-- instructor -->        an instructor-only block: never run in the student release
                             (it needs solutions/, the instructor checks, ...). The lesson
                             says so in its text as well.
  <!-- lab-run: OPTIONS -->  how to run a student block; OPTIONS are space-separated:
      exit=0,66              allowed exit statuses (66: ThreadSanitizer reported, for the
                             deliberately broken examples; 1: `scripts/lab check` on a starter)
      timeout=SECONDS        the per-block limit (default 300)
      needs=prog,prog        skip, visibly, when a program is not installed (promtool, ...)
      needs-solution         the block runs the student's finished code (benchmarks, the
                             metrics server): it runs after every other block, with the
                             reference solutions copied over starter/ ("a student who is done")
      smoke="OLD=>NEW"       with --smoke, replace OLD by NEW in the block first (e.g. fewer
                             benchmark repetitions); may be given more than once
      skip="reason"          never run; the reason is printed (use sparingly)

A fence without a marker is a student command with the defaults. Blocks run one after the
other in one release, so a block may rely on an earlier one (a configured build/student).
Each block runs as `bash -e -o pipefail` in its own process group; background jobs it leaves
are killed when it ends.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FENCE_LANGS = {"sh", "bash", "shell"}
DEFAULT_TIMEOUT = 300.0


@dataclass
class Block:
    path: str                 # relative to the repository
    line: int                 # line of the opening fence
    script: str
    instructor: bool = False
    exits: tuple[int, ...] = (0,)
    timeout: float = DEFAULT_TIMEOUT
    needs: tuple[str, ...] = ()
    needs_solution: bool = False
    smoke: list[tuple[str, str]] = field(default_factory=list)
    skip: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class MarkerError(ValueError):
    pass


def parse_options(block: Block, text: str) -> None:
    """Applies the options of a `lab-run:` marker to block; raises MarkerError if unknown."""
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise MarkerError(f"{block.where}: cannot parse the marker options ({e})") from None
    for word in words:
        key, _, value = word.partition("=")
        if key == "exit" and value:
            block.exits = tuple(int(v) for v in value.split(","))
        elif key == "timeout" and value:
            block.timeout = float(value)
        elif key == "needs" and value:
            block.needs = tuple(v for v in value.split(",") if v)
        elif key == "needs-solution" and not value:
            block.needs_solution = True
        elif key == "smoke" and "=>" in value:
            old, new = value.split("=>", 1)
            block.smoke.append((old, new))
        elif key == "skip" and value:
            block.skip = value
        else:
            raise MarkerError(f"{block.where}: unknown lab-run option {word!r} (see "
                              "scripts/labtool/instructor/lesson_commands.py)")


MARKER = re.compile(r"^\s*<!--\s*(instructor|lab-run:(.*?))\s*-->\s*$")


def extract(rel: str, text: str) -> list[Block]:
    """The shell fences of one Markdown page, with their markers."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+|~~~+)\s*([A-Za-z0-9_-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if lang in FENCE_LANGS:
            block = Block(rel, start + 1, "\n".join(l[len(m.group(1)):] if l.startswith(m.group(1))
                                                    else l for l in lines[start + 1:j]) + "\n")
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            while k >= 0 and MARKER.match(lines[k]):
                marker = MARKER.match(lines[k])
                if marker.group(1) == "instructor":
                    block.instructor = True
                else:
                    parse_options(block, marker.group(2))
                k -= 1
            blocks.append(block)
        i = j + 1
    return blocks


# Paths and options that exist only in the instructor's repository. A fence of any language
# (commands, or a transcript of them) that uses one must be marked <!-- instructor -->.
INSTRUCTOR_ONLY = re.compile(r"build/solutions|build/asan|LAB_TRACK_DIR=\S*solutions|"
                             r"checkpoints/[^/\s]+/(models|instructor)/|--track solutions|"
                             r"--preset (solutions|asan)\b")


def unmarked_instructor_lines(rel: str, text: str) -> list[str]:
    """Lines inside fences (any language) not marked <!-- instructor --> that name something
    only the instructor's repository has: a student who copies them gets an error."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        m = re.match(r"^\s*(```+|~~~+)", lines[i])
        if not m:
            i += 1
            continue
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marked = False
        while k >= 0 and MARKER.match(lines[k]):
            marked = marked or MARKER.match(lines[k]).group(1) == "instructor"
            k -= 1
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(m.group(1)):
            if not marked and INSTRUCTOR_ONLY.search(lines[j]):
                found.append(f"{rel}:{j + 1}: {lines[j].strip()[:100]} (instructor-only: mark "
                             "the block <!-- instructor --> or use the student's preset)")
            j += 1
        i = j + 1
    return found


def lesson_pages(root: Path, only: set[int] | None = None) -> list[Path]:
    pages = []
    for folder in sorted((root / "lessons").glob("[0-9][0-9]-*")):
        if only and int(folder.name[:2]) not in only:
            continue
        readme = folder / "README.md"
        others = sorted(p for p in folder.rglob("*.md") if p != readme)
        pages += ([readme] if readme.exists() else []) + others
    return pages


def all_blocks(root: Path = ROOT, only: set[int] | None = None) -> list[Block]:
    blocks = []
    for page in lesson_pages(root, only):
        blocks += extract(page.relative_to(root).as_posix(), page.read_text(errors="replace"))
    return blocks


# --- running ------------------------------------------------------------------------------------

def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_block(block: Block, cwd: Path, smoke: bool) -> tuple[str, str]:
    """(status, detail): status is ok, FAIL or skipped."""
    if block.skip:
        return "skipped", block.skip
    missing = [n for n in block.needs if shutil.which(n) is None]
    if missing:
        return "skipped", f"needs {', '.join(missing)} (not installed)"
    script = block.script
    if smoke:
        for old, new in block.smoke:
            if old not in script:
                return "FAIL", f"smoke replacement {old!r} not found in the block"
            script = script.replace(old, new)
    # ccache: paths relative to the release (and no build-directory hash), so the release's
    # trees share objects with the clone that `check` built in (verify_export.py).
    env = dict(os.environ, NO_COLOR="1", CCACHE_BASEDIR=str(cwd), CCACHE_NOHASHDIR="true")
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c",
                                 script], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            code = None
        _kill_group(proc)  # background jobs the block left running
        out.seek(0)
        tail = "\n".join(out.read().decode("utf-8", "replace").splitlines()[-40:])
    seconds = time.monotonic() - start
    if code is None:
        return "FAIL", f"timed out after {block.timeout:.0f} s\n{tail}"
    if code not in block.exits:
        allowed = ",".join(map(str, block.exits))
        return "FAIL", f"exit status {code} (allowed: {allowed}), {seconds:.1f} s\n{tail}"
    return "ok", f"exit {code}, {seconds:.1f} s"


def make_export(dest: Path, root: Path = ROOT) -> None:
    proc = subprocess.run([sys.executable, str(root / "scripts" / "lab"), "export-student",
                           str(dest), "--force", "--no-git"], capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"))
    if proc.returncode != 0:
        raise SystemExit(f"lesson_commands: `scripts/lab export-student {dest}` failed:\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def overlay_solutions(export: Path, root: Path = ROOT) -> None:
    """Copies solutions/ over the release's starter/: a student who has finished.

    The copies get the current time (shutil.copy, not copy2): a build an earlier block made of
    starter/ is older than them, so the next build recompiles (with copy2's old times, ninja
    saw nothing to do and ran the starter's code)."""
    shutil.copytree(root / "solutions", export / "starter", dirs_exist_ok=True,
                    copy_function=shutil.copy)


def run_all(export: Path, blocks: list[Block], smoke: bool, root: Path = ROOT,
            solutions: bool = True) -> list[str]:
    """Runs the blocks in the student release `export`; returns one problem per failed block."""
    ordered = [b for b in blocks if not b.needs_solution] + [b for b in blocks if b.needs_solution]
    failed = skipped = passed = 0
    problems: list[str] = []
    overlaid = False
    for block in ordered:
        if block.instructor:
            print(f"  instructor-only  {block.where}")
            skipped += 1
            continue
        if block.needs_solution and not overlaid:
            if not solutions:
                print(f"  skipped  {block.where}: needs the finished code (--no-solutions)")
                skipped += 1
                continue
            overlay_solutions(export, root)
            overlaid = True
            print("  (reference solutions copied over starter/ for the blocks that need them)")
        print(f"  running  {block.where} ...", flush=True)
        status, detail = run_block(block, export, smoke)
        first, _, rest = detail.partition("\n")
        print(f"  {status:<8} {block.where}: {first}")
        if status == "FAIL":
            failed += 1
            problems.append(f"{block.where}: {detail}")
            print("    " + block.script.strip().replace("\n", "\n    $ ").join(["$ ", ""]))
            if rest:
                print("    | " + rest.replace("\n", "\n    | "))
        elif status == "skipped":
            skipped += 1
        else:
            passed += 1
    print(f"lesson commands: {passed} passed, {failed} failed, {skipped} not run "
          "(instructor-only or skipped)")
    return problems


def check_release(export: Path, smoke: bool = True) -> list[str]:
    """Selftest's export step: every lesson's student commands, run in the student release
    `export` (written by the export step); one problem per failing block."""
    try:
        blocks = all_blocks(ROOT)
    except MarkerError as e:
        return [str(e)]
    unmarked = [line for page in lesson_pages(ROOT) for line in unmarked_instructor_lines(
        page.relative_to(ROOT).as_posix(), page.read_text(errors="replace"))]
    return unmarked + run_all(export, blocks, smoke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list the blocks and their markers")
    parser.add_argument("--export", metavar="DIR",
                        help="run in this existing student release instead of making one (the "
                             "needs-solution blocks then copy solutions/ over its starter/)")
    parser.add_argument("--work", metavar="DIR", help="make the release here (default: a "
                        "temporary folder, removed afterwards)")
    parser.add_argument("--smoke", action="store_true", help="apply the smoke= replacements")
    parser.add_argument("--only", type=int, action="append", metavar="N",
                        help="only lesson N (repeatable)")
    parser.add_argument("--no-solutions", action="store_true",
                        help="skip the needs-solution blocks")
    args = parser.parse_args(argv)
    try:
        blocks = all_blocks(ROOT, set(args.only) if args.only else None)
    except MarkerError as e:
        print(f"lesson_commands: {e}", file=sys.stderr)
        return 2
    if args.list:
        for b in blocks:
            tags = ["instructor"] if b.instructor else []
            tags += [f"exit={','.join(map(str, b.exits))}"] if b.exits != (0,) else []
            tags += ["needs-solution"] if b.needs_solution else []
            tags += [f"needs={','.join(b.needs)}"] if b.needs else []
            tags += [f"skip={b.skip!r}"] if b.skip else []
            print(f"{b.where}  {' '.join(tags)}")
            print("    " + b.script.strip().replace("\n", "\n    "))
        return 0
    if args.export:
        export = Path(args.export).resolve()
        if (export / "solutions").exists():
            print(f"lesson_commands: {export} has solutions/: that is not a student release",
                  file=sys.stderr)
            return 2
        return 1 if run_all(export, blocks, args.smoke, solutions=not args.no_solutions) else 0
    work = Path(args.work).resolve() if args.work else Path(tempfile.mkdtemp(prefix="lab-lessons-"))
    try:
        print(f"lesson commands: making a student release in {work}")
        make_export(work)
        return 1 if run_all(work, blocks, args.smoke, solutions=not args.no_solutions) else 0
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
