"""What student code may call, decided on the linked code: the undefined symbols of every object
compiled with the student's files, against a per-milestone allow-list.

The token rules (cxxrules.py) refuse spellings; a list of spellings always has gaps (`errx`
ends the process like `exit`, `wordexp` runs a shell, `mtx_lock` is a lock). The compiler
does not have gaps: whatever a student's code calls outside the executable is an undefined
symbol of the object it was compiled into. For each milestone the grader lists the undefined
symbols of its checkpoint objects (`nm`, run in the sandbox) and accepts only

  - the symbols the course's own build of that milestone needs, with the starter's and with
    the solution's files (checkpoints/common/imports.json, "milestones"; rebuilt by
    `scripts/lab grade-imports`): the checkpoints and their helpers need them anyway;
  - what honest variations of a solution need ("honest" and "honest_patterns": the C++
    standard library, <cmath>, <cstring>, formatting, allocation, exceptions, the
    sanitizer's own instrumentation);
  - except, on a lock-free milestone (its manifest forbids "locks"), anything that blocks or
    hides a lock ("lock_free_refused": mutexes, condition variables, semaphores, call_once,
    the atomics libatomic implements with a lock, futex waits), unless the course's own build
    needs it.

A symbol outside the list scores 0 for the milestone, quoted with the student file that names
it. Only objects of the milestone's checkpoint executables (`mN_checkpoints`, `mN_plain`)
and track library are read: other executables (model checks, benchmarks) are not graded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..course import CHECKPOINTS, Milestone, load_rule_sets

IMPORTS_FILE = CHECKPOINTS / "common" / "imports.json"
_OBJECT_DIR = r"CMakeFiles/(?:{label}_checkpoints|{label}_plain|lab_track_{label})\.dir/"


@dataclass(frozen=True)
class AllowList:
    baseline: dict[str, frozenset[str]]     # milestone label -> symbols the course needs
    honest: frozenset[str]
    honest_patterns: re.Pattern
    lock_free_refused: re.Pattern

    def allowed(self, label: str, symbol: str, lock_free: bool) -> bool:
        if symbol in self.baseline.get(label, frozenset()):
            return True
        if lock_free and self.lock_free_refused.search(symbol):
            return False
        return symbol in self.honest or bool(self.honest_patterns.match(symbol))


@lru_cache(maxsize=1)
def allow_list(path: Path = IMPORTS_FILE) -> AllowList:
    data = json.loads(path.read_text())
    return AllowList(
        baseline={label: frozenset(names) for label, names in data["milestones"].items()},
        honest=frozenset(data["honest"]),
        honest_patterns=re.compile("|".join(f"(?:{p})" for p in data["honest_patterns"])),
        lock_free_refused=re.compile("|".join(f"(?:{p})" for p in data["lock_free_refused"])))


def lock_free(m: Milestone) -> bool:
    """Whether milestone m must be lock-free: its manifest forbids the "locks" rule set."""
    locks = load_rule_sets().get("locks", [])
    regexes = {rule["regex"] for rule in m.forbidden}
    return bool(locks) and all(rule["regex"] in regexes for rule in locks)


def objects(build_dir: Path, label: str) -> list[Path]:
    """The object files of milestone `label`'s checkpoint executables and track library."""
    wanted = re.compile(_OBJECT_DIR.format(label=re.escape(label)))
    return sorted(p for p in (build_dir / "checkpoints").glob("*/CMakeFiles/*.dir/**/*.o")
                  if wanted.search(p.as_posix()))


def symbols(nm_output: str) -> dict[str, tuple[set[str], set[str]]]:
    """`nm -P -A` output -> {object: (undefined, defined)}."""
    table: dict[str, tuple[set[str], set[str]]] = {}
    for line in nm_output.splitlines():
        head, sep, rest = line.rpartition(": ")
        parts = rest.split()
        if not sep or len(parts) < 2:
            continue
        undefined, defined = table.setdefault(head, (set(), set()))
        # U: undefined; w/v without a value: a weak reference nobody in the object defines.
        weak_reference = parts[1] in ("w", "v") and len(parts) == 2
        (undefined if parts[1] == "U" or weak_reference else defined).add(parts[0])
    return table


def undefined_symbols(objs: list[Path], run_nm: Callable[[list[str]], str | None]
                      ) -> set[str] | None:
    """The symbols the objects need from outside themselves (None when nm failed)."""
    if not objs:
        return set()
    text = run_nm(["nm", "-P", "-A", *map(str, objs)])
    if text is None:
        return None
    table = symbols(text)
    defined = set().union(*(d for _, d in table.values())) if table else set()
    needed = set().union(*(u for u, _ in table.values())) if table else set()
    return needed - defined


def findings(m: Milestone, needed: set[str], own_files: dict[str, str],
             allowed: AllowList | None = None) -> list[str]:
    """'file: 'symbol': why' for every symbol milestone m's objects need that the allow-list
    refuses. own_files: absolute overlay path -> the path shown to the student."""
    allowed = allowed or allow_list()
    strict = lock_free(m)
    found = []
    for symbol in sorted(needed):
        if allowed.allowed(m.label, symbol, strict):
            continue
        shown = _naming_file(symbol, m, own_files)
        why = ("a lock, a blocking wait or an atomic that is not lock-free, on a lock-free "
               "milestone" if strict and allowed.lock_free_refused.search(symbol) else
               "calls a function outside what this milestone's code may use (the test "
               "harness's own, the C++ standard library, <cmath>, <cstring>)")
        found.append(f"{shown}: '{symbol}' (linked): {why}; see docs/grading.md, \"The rules\"")
    return found


def _naming_file(symbol: str, m: Milestone, own_files: dict[str, str]) -> str:
    """The student file that names the symbol (its last identifier), else the milestone's."""
    words = re.findall(r"[A-Za-z_]\w*", re.sub(r"^_Z\w*?\d+", "", symbol)) or [symbol]
    name = symbol if not symbol.startswith("_Z") else max(words, key=len)
    naming = []
    for path, shown in sorted(own_files.items(), key=lambda kv: kv[1]):
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        if re.search(rf"\b{re.escape(name)}\b", text) or name.startswith("__atomic") and \
                "atomic" in text and shown.split("/")[1:2] == [m.slug]:
            naming.append(shown)
    if naming:
        return ", ".join(naming[:3])
    mine = sorted(shown for shown in own_files.values() if shown.split("/")[1:2] == [m.slug])
    return ", ".join(mine[:3]) or f"starter/{m.slug}"
