"""The starter never hands out the solution: no solution code in starter prose or early hints.

    cd scripts && python3 -m labtool.instructor.leaks [ROOT]   # prints every leak; exit 1 if any

A student reads the starter's comments, its `LAB_TODO("...")` messages (which `scripts/lab
check` prints as the first failure) and, on request, the milestone's hints. If any of them
contains a statement of the reference solution, the student can transcribe instead of decide.
This check finds such leaks mechanically:

  solution fragments  every run of 4 tokens inside one statement of a function body in
                      solutions/**.hpp|cpp ("statement": the tokens between `;`, `{` and `}`),
                      after normalization: comments and whitespace dropped, `std::` and
                      `this->` dropped, string and character literals kept as single tokens.
                      A fragment that also occurs in the code of the starter tree (given code,
                      shared signatures such as `exported_names(kind, name)` when the starter
                      calls it) is not secret and is ignored.
  places searched     every comment, every string literal (a `LAB_TODO` message is one) of
                      starter/**.hpp|cpp and of the shipped checkpoint sources,
                      checkpoints/**.hpp|cpp but checkpoints/*/instructor/ and
                      checkpoints/*/models/ (their `// Catches:` comments, which `scripts/lab
                      check` prints, and their CHECK messages; not their code, which calls the
                      API), the whole text of starter/**.md, EVERY rung of every
                      hint ladder of checkpoints/*/manifest.json ("hints", and each
                      "stretch_hints" ladder: the deepest rung teaches on another example, it
                      never shows the exercise's code), the whole text of lessons/**.md and
                      lessons/**/examples/*.hpp|cpp (a lesson teaches on other examples), and
                      the student docs (docs/*.md but INSTRUCTOR_DOCS, which the student
                      release leaves out).

Prose is lexed like code, so `requests_.fetch_add(1, std::memory_order_relaxed)` in a comment
matches the solution's statement whatever the spacing or `std::`; a run of overlapping matches
is one leak if it says enough (see weight()). A line that must quote a fragment for another
reason carries the marker `lab-leaks: allow` (unused in this course so far).

`find_leaks(root)` returns the list; `selftest`'s static step and `export-student` fail when it
is not empty.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..course import CODE_SUFFIXES, ROOT
from .leak_lex import Token, mark_preprocessor, lex, normalize, statements

ALLOW_MARKER = "lab-leaks: allow"
# docs/ files for instructors only: `export-student` leaves them out (export.DROP_FILES), so they
# may hold the per-exercise answers (docs/instructor-orders.md: the order of every operation).
INSTRUCTOR_DOCS = frozenset({"docs/instructor-guide.md", "docs/design.md",
                             "docs/instructor-orders.md", "docs/ordering-rubric.md",
                             "docs/ta-guide.md"})
WINDOW = 4  # tokens: "a normalized code fragment of 4 or more tokens"
# checkpoints/NN-name/<these>/ hold instructor-only checks that the student release leaves out
# (export.py drops them with this same set), so they may state the answers.
INSTRUCTOR_FOLDERS = frozenset({"instructor", "models"})


@dataclass(frozen=True)
class Leak:
    """One solution fragment found where a student reads it."""

    where: str     # "starter/02-relaxed-metrics/metrics_collector.hpp:71" or a hint
    kind: str      # "comment", "string literal", "LAB_TODO message", "markdown", "hint 2 of 4"
    text: str      # the leaked tokens, as they appear (normalized, space-separated)
    solution: str  # "solutions/02-relaxed-metrics/metrics_collector.hpp:94: <statement>"

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} contains solution code `{self.text}` (from {self.solution})"


# How much a token says about a solution. A leak must weigh at least SECRET_WEIGHT in all:
# keywords, common types and the names of the std::atomic operations weigh nothing (every
# lesson and API comment mentions them), one-letter names and numbers weigh half, other names
# and literals one, private members (`count_`) and memory orders two. So `fetch_add(1)` (any
# counter, any tutorial), `counts[i]` and `ceil(p *` (a contract in a comment) are not
# secrets, while `count_.fetch_add(` and `(1, memory_order_release` are.
GENERIC = frozenset("""
    alignas auto bool break case catch char class const constexpr continue default delete do
    double else false for if int long new noexcept nullptr operator return sizeof static
    static_cast struct switch template throw true try typename using void while
    uint64_t int64_t uint32_t size_t string string_view vector array atomic
    load store exchange fetch_add fetch_sub fetch_and fetch_or compare_exchange_weak
    compare_exchange_strong size begin end empty front back data push_back
""".split())
SECRET_WEIGHT = 2.0


def weight(text: str) -> float:
    if not text or not (text[0].isalnum() or text[0] in "_\"'") or text in GENERIC:
        return 0.0
    if text.startswith("memory_order") or (text.endswith("_") and len(text) > 1):
        return 2.0
    if text[0].isdigit() or len(text) == 1:
        return 0.5
    return 1.0


def windows(seq: list[Token]) -> list[tuple[tuple[str, ...], int]]:
    """Every run of WINDOW tokens: (texts, index of the first)."""
    return [(tuple(t.text for t in seq[i:i + WINDOW]), i) for i in range(len(seq) - WINDOW + 1)]


# --- the solution's secrets -----------------------------------------------------------------

_NOT_A_FUNCTION = {"class", "struct", "namespace", "enum", "union", "extern", "requires"}


def function_body_tokens(tokens: list[Token]) -> list[Token]:
    """The code tokens inside function bodies, `;` `{` `}` kept as separators. Outside a
    body, a `{` opens one when the tokens since the last `;` `{` `}` hold a `)` and start no
    class/struct/namespace/enum (so `count_{0}` at class scope is skipped)."""
    code = [t for t in tokens if t.kind not in ("comment", "pp")]
    out: list[Token] = []
    stack: list[bool] = []  # per open brace: is it (inside) a function body?
    header: list[Token] = []
    for t in code:
        inside = bool(stack) and stack[-1]
        if t.kind == "punct" and t.text == "{":
            opens_function = inside or (
                any(h.text == ")" for h in header)
                and not (header and header[0].text in _NOT_A_FUNCTION)
                and not any(h.text in _NOT_A_FUNCTION for h in header[:3])
            )
            stack.append(opens_function)
            if inside:
                out.append(t)
            elif opens_function:
                out.append(Token("punct", ";", t.line))  # a body starts a fresh statement
            header = []
            continue
        if t.kind == "punct" and t.text == "}":
            if stack:
                stack.pop()
            if stack and stack[-1]:
                out.append(t)
            header = []
            continue
        if inside:
            out.append(t)
        else:
            header = [] if t.text == ";" else header + [t]
    return out


@dataclass(frozen=True)
class _Origin:
    path: str
    line: int
    statement: str


def solution_fragments(root: Path) -> dict[tuple[str, ...], _Origin]:
    """Every WINDOW-token fragment of a solution statement, with where it comes from."""
    found: dict[tuple[str, ...], _Origin] = {}
    for path in sorted((root / "solutions").rglob("*")):
        if not path.is_file() or path.suffix not in CODE_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        body = normalize(function_body_tokens(mark_preprocessor(lex(_read(path)))))
        for stmt in statements(body):
            text = " ".join(t.text for t in stmt)
            for key, i in windows(stmt):
                found.setdefault(key, _Origin(rel, stmt[i].line, text))
    return found


def given_fragments(root: Path) -> set[tuple[str, ...]]:
    """Fragments that the starter's own code already shows: not secrets."""
    given: set[tuple[str, ...]] = set()
    for path in _starter_files(root, CODE_SUFFIXES):
        code = [t for t in mark_preprocessor(lex(_read(path))) if t.kind not in ("comment", "pp")]
        for stmt in statements(normalize(code)):
            given.update(key for key, _ in windows(stmt))
    return given


# --- where students read --------------------------------------------------------------------

@dataclass
class _Prose:
    where: str            # a file (the line of each leak is added) or a hint label
    kind: str
    tokens: list[Token]   # lexed prose, lines as in the file
    with_line: bool = True
    # Lessons and docs teach the std::atomic API on other examples, so a textbook fragment
    # (`x.load(std::memory_order_acquire)`, `count.store(count.load() + 1)` as the broken
    # pattern) is not a leak there: a run must also name the exercise's own state (a private
    # member such as `errors_`, see _names_state()).
    needs_state: bool = False


def _starter_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [p for p in sorted((root / "starter").rglob("*"))
            if p.is_file() and p.suffix in suffixes]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _comment_text(token: Token) -> str:
    return token.text[2:] if token.text.startswith("//") else token.text[2:-2]


def _string_text(token: Token) -> str:
    text = token.text
    if text.startswith("R\"") or "R\"" in text[:3]:
        start = text.index("(") + 1
        return text[start:text.rindex(")")]
    start = text.index("\"") + 1
    return text[start:-1].replace("\\\"", "\"").replace("\\\\", "\\").replace("\\n", "\n")


def starter_prose(root: Path) -> list[_Prose]:
    """Comments (consecutive line comments joined), string literals (adjacent ones joined, as
    the compiler joins them) and Markdown files of the starter tree, lexed as code."""
    prose = code_file_prose(root, _starter_files(root, CODE_SUFFIXES))
    for path in _starter_files(root, (".md",)):
        rel = path.relative_to(root).as_posix()
        text = "\n".join(line for line in _read(path).splitlines() if ALLOW_MARKER not in line)
        prose.append(_Prose(rel, "markdown", lex(text)))
    return prose


def _checkpoint_files(root: Path) -> list[Path]:
    """The C++ sources of checkpoints/ that the student release ships: all but those under
    checkpoints/NN-name/instructor/ and checkpoints/NN-name/models/."""
    base = root / "checkpoints"
    return [p for p in sorted(base.rglob("*"))
            if p.is_file() and p.suffix in CODE_SUFFIXES
            and not (len(p.relative_to(base).parts) > 2
                     and p.relative_to(base).parts[1] in INSTRUCTOR_FOLDERS)]


def checkpoint_prose(root: Path) -> list[_Prose]:
    """Comments and string literals of the shipped checkpoint sources (a `// Catches:` comment,
    whose first sentence `scripts/lab check` prints, a CHECK_MESSAGE), lexed as code; their code
    is not searched (a test calls the API it tests)."""
    return code_file_prose(root, _checkpoint_files(root))


def code_file_prose(root: Path, paths: list[Path]) -> list[_Prose]:
    """Comments (consecutive line comments joined) and string literals (adjacent ones joined, as
    the compiler joins them) of C++ files, lexed as code."""
    prose: list[_Prose] = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        lines = _read(path).splitlines()
        tokens = lex(_read(path))
        block: list[Token] = []
        block_kind = ""
        last_line = -10

        def flush():
            nonlocal block, block_kind
            if block:
                prose.append(_Prose(rel, block_kind, block))
            block, block_kind = [], ""

        for i, t in enumerate(tokens):
            if ALLOW_MARKER in lines[t.line - 1] if t.line - 1 < len(lines) else False:
                continue
            if t.kind == "comment":
                kind = "comment"
                inner = lex(_comment_text(t), t.line)
            elif t.kind == "str":
                kind = "string literal"
                j = i - 1
                while j >= 0 and tokens[j].kind == "str":
                    j -= 1
                if j >= 1 and tokens[j].text == "(" and tokens[j - 1].text == "LAB_TODO":
                    kind = "LAB_TODO message"
                inner = lex(_string_text(t), t.line)
            else:
                flush()
                continue
            # Join a comment to the comment on the line before, a literal to the one before it.
            if block and (kind != block_kind or (kind == "comment" and t.line > last_line + 1)):
                flush()
            block_kind = kind
            block.extend(inner)
            last_line = t.line + t.text.count("\n")
        flush()
    return prose


def hint_prose(root: Path) -> list[_Prose]:
    """Every hint of every ladder: "hints" and each file's "stretch_hints"."""
    prose: list[_Prose] = []
    for manifest in sorted((root / "checkpoints").glob("*/manifest.json")):
        rel = manifest.relative_to(root).as_posix()
        try:
            data = json.loads(_read(manifest))
        except json.JSONDecodeError as e:
            raise SystemExit(f"{rel}: not valid JSON ({e}); fix it, then run the leak check again")
        ladders = {"hint": data.get("hints", [])} | {f"{name} stretch hint": rungs for name, rungs
                                                     in data.get("stretch_hints", {}).items()}
        for what, hints in ladders.items():
            prose += [_Prose(f"{rel}: {what} {n} of {len(hints)}", "hint", lex(str(hint)),
                             with_line=False) for n, hint in enumerate(hints, start=1)]
    return prose


def lesson_and_doc_prose(root: Path) -> list[_Prose]:
    """The lessons (Markdown and example programs, whole text) and the student docs, lexed as
    code: the same rule as the hints, a lesson teaches on other examples."""
    prose: list[_Prose] = []
    files = [p for p in sorted((root / "lessons").rglob("*"))
             if p.is_file() and (p.suffix == ".md" or p.suffix in CODE_SUFFIXES)]
    files += [p for p in sorted((root / "docs").glob("*.md"))
              if p.relative_to(root).as_posix() not in INSTRUCTOR_DOCS]
    for path in files:
        rel = path.relative_to(root).as_posix()
        lines = _read(path).splitlines()
        text = "\n".join("" if ALLOW_MARKER in line else line for line in lines)
        kind = "markdown" if path.suffix == ".md" else "lesson example"
        prose.append(_Prose(rel, kind, lex(text), needs_state=True))
    return prose


# --- the check ------------------------------------------------------------------------------

def _names_state(run: list[Token]) -> bool:
    """Does a run of tokens name a private member (`count_`, `bounds_`): the exercise's state?"""
    return any(t.kind == "id" and len(t.text) > 1 and t.text.endswith("_") for t in run)


def find_leaks(root: Path, tree: Path | None = None) -> list[Leak]:
    """Every place where a student reads a solution fragment (see the module docstring).
    The solutions come from `root`; the starter and the hints from `tree` (default: `root`),
    e.g. a student export, which has no solutions/."""
    root = Path(root)
    tree = Path(tree) if tree is not None else root
    secret = solution_fragments(root)
    for key in given_fragments(tree):
        secret.pop(key, None)
    leaks: list[Leak] = []
    for p in (starter_prose(tree) + checkpoint_prose(tree) + hint_prose(tree)
              + lesson_and_doc_prose(tree)):
        seq = normalize(p.tokens)
        hits = [(i, secret[key]) for key, i in windows(seq) if key in secret]
        # One leak per run of overlapping windows, if the run says enough (see weight()).
        start = end = None
        origin = None
        for i, o in hits + [(None, None)]:
            if start is not None and (i is None or i > end + WINDOW):
                run = seq[start:end + WINDOW]
                if sum(weight(t.text) for t in run) >= SECRET_WEIGHT and \
                        (not p.needs_state or _names_state(run)):
                    where = f"{p.where}:{seq[start].line}" if p.with_line else p.where
                    leaks.append(Leak(where, p.kind, " ".join(t.text for t in run),
                                      f"{origin.path}:{origin.line}: {origin.statement}"))
                start = None
            if i is None:
                break
            if start is None:
                start, origin = i, o
            end = i
    return leaks


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else ROOT
    if not (root / "starter").is_dir() or not (root / "solutions").is_dir():
        print(f"leaks: {root} has no starter/ and solutions/: pass the course's root folder",
              file=sys.stderr)
        return 2
    leaks = find_leaks(root)
    for leak in leaks:
        print(leak)
    print(f"leaks: {len(leaks)} solution fragment(s) in starter or checkpoint comments, strings, "
          "Markdown, hints, lessons or student docs" + ("" if leaks else " (none)"))
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
