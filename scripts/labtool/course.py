"""The course model every command uses: milestones and their tests (from
checkpoints/NN-name/manifest.json), dependencies (always transitive), which files are code,
the one way to mirror a tree of files, and the one way to list the tests CTest knows.

The folder name is the milestone's identity: NN-name gives the number and the slug; the
manifest gives the rest. checkpoints/common/Lab.cmake reads the same manifest for the build.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .console import LabError

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = ROOT / "checkpoints"
RULES_FILE = CHECKPOINTS / "common" / "rules.json"

# The one suffix policy: what counts as C++ code in a track folder.
HEADER_SUFFIXES = (".hpp", ".h", ".hh", ".hxx")
CODE_SUFFIXES = HEADER_SUFFIXES + (".cpp", ".cc", ".cxx")
DEFAULT_TIMEOUT = 30.0       # seconds per checkpoint when the manifest names none
_FOLDER = re.compile(r"^(\d\d)-[a-z0-9-]+$")


def is_code(name: str | Path) -> bool:
    return str(name).endswith(CODE_SUFFIXES)


@dataclass
class Test:
    name: str
    points: int
    concurrency: bool = False
    needs_cpus: int = 1
    stretch: bool = False
    on_timeout: str = ""
    timeout: float | None = None
    # A model checkpoint (mN_model_checks: the code under Relacy, built apart from the sanitized
    # executables, so code the model cannot compile costs only these tests).
    model: bool = False
    # What the test exists to catch: the `// Catches:` comment that opens its TEST_CASE in the
    # checkpoint source (the one place it is kept; catches_texts() reads it).
    catches: str = ""
    # The model checkpoints (same milestone) that judge this test's orders when ThreadSanitizer
    # cannot: a race-only failure of a milestone whose code calls a standalone fence is skipped
    # (fences.py; the manifest's "fence_models").
    fence_models: tuple[str, ...] = ()


@dataclass
class Milestone:
    number: int
    slug: str
    title: str
    files: list[str]
    depends: list[int]
    tests: list[Test]
    hints: list[str] = field(default_factory=list)
    # A stretch exercise is one of `files` with its own hint ladder ("stretch_hints") and its
    # own lesson page ("stretch_lessons", a file name under lessons/NN-name/).
    stretch_hints: dict[str, list[str]] = field(default_factory=dict)
    stretch_lessons: dict[str, str] = field(default_factory=dict)
    forbidden: list[dict] = field(default_factory=list)
    # Files in which some orders are beyond every checkpoint ("unjudged_orders": {file: why}):
    # `lab orders` adds the reason to a weakening there that no checkpoint catches.
    unjudged_orders: dict[str, str] = field(default_factory=dict)
    directory: Path = field(repr=False, default=Path())
    timeout: float = DEFAULT_TIMEOUT
    # Points per unlocked hint that `grade` shows as a suggested deduction, never applies
    # (hintlog.py: the record is written by the student's tool). 0: nothing shown.
    hint_penalty: float = 0.0

    @property
    def label(self) -> str:
        return f"m{self.number}"

    @property
    def max_points(self) -> int:
        """The main score's maximum: stretch tests are counted apart."""
        return sum(t.points for t in self.tests if not t.stretch)

    @property
    def stretch_points(self) -> int:
        return sum(t.points for t in self.tests if t.stretch)

    @property
    def stretch_files(self) -> list[str]:
        """The files of the milestone's stretch exercises, in the manifest's file order."""
        named = set(self.stretch_hints) | set(self.stretch_lessons)
        return [f for f in self.files if f in named]

    def stretch_lesson(self, name: str) -> str:
        """The lesson page of a stretch exercise, relative to the repository."""
        page = self.stretch_lessons.get(name)
        return f"lessons/{self.slug}/{page}" if page else f"lessons/{self.slug}/README.md"

    def ctest_name(self, test: Test | str) -> str:
        name = test.name if isinstance(test, Test) else test
        return f"{self.label}/{name}"

    def code_files(self) -> list[str]:
        return [f for f in self.files if is_code(f)]

    def mutants(self) -> list[dict]:
        path = self.directory / "mutants.json"
        if not path.exists():
            return []
        return _read_json(path)

    def order_allowances(self) -> list[dict]:
        """checkpoints/NN-name/orders.json (instructor-only, like mutants.json): the weakenings
        of the solution's orders that no checkpoint catches, each with the reason it is
        allowed: {"file", "code" (the line, stripped), "weakening": "old -> new", "why"}."""
        path = self.directory / "orders.json"
        if not path.exists():
            return []
        entries = _read_json(path)
        keys = ("file", "code", "weakening", "why")
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and all(isinstance(e.get(k), str) and e[k] for k in keys)
                for e in entries):
            raise LabError(f"{_shown(path)}: a list of {{\"file\", \"code\", \"weakening\", "
                           "\"why\"}, each a non-empty string")
        return entries


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise LabError(f"{_shown(path)} is not valid JSON: {exc}") from exc


def _shown(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def load_rule_sets(path: Path = RULES_FILE) -> dict[str, list[dict]]:
    """checkpoints/common/rules.json: named lists of {regex, why} that manifests refer to."""
    if not path.exists():
        return {}
    data = _read_json(path)
    return {name: rules for name, rules in data.items() if not name.startswith("_")}


def _forbidden(entries: list, rule_sets: dict[str, list[dict]], where: Path,
               number: int) -> list[dict]:
    """A manifest's "forbidden" list: rule-set names (strings) and {regex, why} objects."""
    rules = []
    for entry in entries:
        if isinstance(entry, str):
            if entry not in rule_sets:
                raise LabError(f"{_shown(where)}: unknown rule set '{entry}'; the sets are in "
                               f"{_shown(RULES_FILE)}: {', '.join(sorted(rule_sets))}")
            rules += [{"regex": r["regex"], "why": r["why"].replace("{milestone}", str(number))}
                      for r in rule_sets[entry]]
        elif isinstance(entry, dict) and "regex" in entry and "why" in entry:
            rules.append(entry)
        else:
            raise LabError(f"{_shown(where)}: a \"forbidden\" entry must be a rule-set name or "
                           f"{{\"regex\": ..., \"why\": ...}}, not {entry!r}")
    return rules


def _test(entry: dict, where: Path) -> Test:
    try:
        return Test(name=entry["name"], points=int(entry["points"]),
                    concurrency=bool(entry.get("concurrency", False)),
                    needs_cpus=int(entry.get("needs_cpus", 1)),
                    stretch=bool(entry.get("stretch", False)),
                    model=bool(entry.get("model", False)),
                    fence_models=tuple(str(n) for n in entry.get("fence_models", ())),
                    on_timeout=str(entry.get("on_timeout", "")),
                    timeout=float(entry["timeout"]) if "timeout" in entry else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise LabError(f"{_shown(where)}: test entry {entry!r} needs a \"name\" and integer "
                       f"\"points\" ({exc})") from exc


_TEST_CASE = re.compile(r'TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"[^\n]*\n((?:[ \t]*//[^\n]*\n)*)')


def catches_texts(folder: Path) -> dict[str, str]:
    """Each checkpoint's `// Catches:` paragraph, by TEST_CASE name, from the C++ sources under
    a checkpoint folder: the comment lines right after `TEST_CASE("name")`, from "Catches:" to
    the first empty comment line, joined into one line."""
    found: dict[str, str] = {}
    for source in sorted(folder.rglob("*.cpp")):
        for m in _TEST_CASE.finditer(source.read_text(errors="replace")):
            lines = [l.strip()[2:].strip() for l in m.group(2).splitlines()]
            start = next((i for i, l in enumerate(lines) if l.startswith("Catches:")), None)
            if start is None:
                continue
            kept = []
            for line in lines[start:]:
                if not line:
                    break
                kept.append(line)
            text = " ".join(kept)[len("Catches:"):].strip()
            found.setdefault(m.group(1).replace('\\"', '"'), text)
    return found


def _stretch(data: dict, field_name: str, files: list[str], where: Path) -> dict:
    """The "stretch_hints" ({file: [hints]}) or "stretch_lessons" ({file: page}); each key must
    be one of the milestone's files."""
    value = data.get(field_name, {})
    if not isinstance(value, dict) or any(k not in files for k in value):
        raise LabError(f"{_shown(where)}: \"{field_name}\" maps files of the milestone's "
                       f"\"files\" ({', '.join(files)}) to "
                       + ("lists of hints" if field_name == "stretch_hints" else
                          "lesson pages under lessons/NN-name/") + f", not {value!r}")
    return {k: (list(v) if field_name == "stretch_hints" else str(v)) for k, v in value.items()}


def _unjudged(data: dict, files: list[str], where: Path) -> dict[str, str]:
    """The "unjudged_orders" ({file: why}); each key one of the milestone's files."""
    value = data.get("unjudged_orders", {})
    if not isinstance(value, dict) or any(
            k not in files or not isinstance(v, str) or not v.strip() for k, v in value.items()):
        raise LabError(f"{_shown(where)}: \"unjudged_orders\" maps files of the milestone's "
                       f"\"files\" ({', '.join(files)}) to the reason (text) why no checkpoint "
                       f"judges some of their orders, not {value!r}")
    return dict(value)


def load_milestone(folder: Path, rule_sets: dict[str, list[dict]] | None = None) -> Milestone:
    match = _FOLDER.match(folder.name)
    if not match:
        raise LabError(f"{_shown(folder)}: a milestone folder is named NN-name (e.g. 03-histogram)")
    path = folder / "manifest.json"
    data = _read_json(path)
    number = int(match.group(1))
    rule_sets = load_rule_sets() if rule_sets is None else rule_sets
    try:
        tests = [_test(t, path) for t in data["tests"]]
        catches = catches_texts(folder)
        for t in tests:
            t.catches = catches.get(t.name, "")
        return Milestone(
            number=number, slug=folder.name, title=data["title"],
            files=list(data["files"]),
            depends=[int(d) for d in data.get("depends", [])],
            tests=tests,
            hints=list(data.get("hints", [])),
            stretch_hints=_stretch(data, "stretch_hints", list(data["files"]), path),
            stretch_lessons=_stretch(data, "stretch_lessons", list(data["files"]), path),
            forbidden=_forbidden(data.get("forbidden", []), rule_sets, path, number),
            unjudged_orders=_unjudged(data, list(data["files"]), path),
            directory=folder,
            timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
            hint_penalty=_hint_penalty(data.get("hint_penalty", 0), path))
    except KeyError as exc:
        raise LabError(f"{_shown(path)} lacks the field {exc}") from exc


def _hint_penalty(value, where: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise LabError(f"{_shown(where)}: \"hint_penalty\" must be a number of points from 0 "
                       f"to 100 (got {value!r})")
    return float(value)


def load_milestones(checkpoints: Path = CHECKPOINTS) -> list[Milestone]:
    """Reads every checkpoints/NN-name/manifest.json, in milestone order."""
    rules = checkpoints / "common" / "rules.json"
    rule_sets = load_rule_sets(rules)
    return [load_milestone(path.parent, rule_sets)
            for path in sorted(checkpoints.glob("[0-9][0-9]-*/manifest.json"))]


def select_milestones(milestones: list[Milestone], which: str | None) -> list[Milestone]:
    """Picks milestones by '3', '03', 'm3' or '03-histogram'; all when `which` is None."""
    if which is None:
        return milestones
    key = which.lower().lstrip("m")
    for m in milestones:
        if key in (str(m.number), f"{m.number:02d}", m.slug) or m.slug.startswith(key + "-"):
            return [m]
    names = ", ".join(f"{m.number} ({m.slug})" for m in milestones)
    raise LabError(f"no milestone '{which}'. Choose one of: {names}")


# --- dependencies: always transitive ---------------------------------------------------------

def closure(numbers: set[int] | list[int], milestones: list[Milestone]) -> set[int]:
    """numbers plus every milestone they depend on, transitively."""
    by_number = {m.number: m for m in milestones}
    result: set[int] = set()
    todo = list(numbers)
    while todo:
        n = todo.pop()
        if n in result or n not in by_number:
            continue
        result.add(n)
        todo.extend(by_number[n].depends)
    return result


def dependencies(m: Milestone, milestones: list[Milestone]) -> list[int]:
    """Every milestone whose code `m` includes, directly or through another one."""
    return sorted(closure(set(m.depends), milestones) - {m.number})


def dependents(number: int, milestones: list[Milestone]) -> list[int]:
    """Milestones that include `number`'s code, directly or through another milestone."""
    return [m.number for m in milestones if number in dependencies(m, milestones)]


def with_dependencies(selected: list[Milestone], milestones: list[Milestone]) -> list[Milestone]:
    """The selected milestones and all they depend on, in milestone order."""
    needed = closure({m.number for m in selected}, milestones)
    return [m for m in milestones if m.number in needed]


# --- trees of files --------------------------------------------------------------------------

def read_tree(src: Path) -> dict[str, bytes]:
    """Every regular file under src (no links, no __pycache__), by relative POSIX path."""
    files = {}
    for path in sorted(src.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            files[path.relative_to(src).as_posix()] = path.read_bytes()
    return files


def mirror(files: dict[str, bytes], dst: Path, keep: tuple[str, ...] = ()) -> None:
    """Makes dst hold exactly `files`; rewrites only what differs, with a fresh mtime, so a
    build tree recompiles exactly what changed. Links in dst are removed, never followed.
    Entries of dst named in `keep` (e.g. a build tree inside a copy of the sources) are left
    alone."""
    dst.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        target = dst / rel
        if target.is_symlink():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".lab-tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    present = [path for top in dst.iterdir() if top.name not in keep
               for path in (top, *(top.rglob("*") if top.is_dir() and not top.is_symlink()
                                   else ()))]
    for path in sorted(present, reverse=True):
        rel = path.relative_to(dst).as_posix()
        if path.is_symlink() or (path.is_file() and rel not in files):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# --- CTest's list of tests -------------------------------------------------------------------

@dataclass
class CTestEntry:
    name: str
    command: list[str]
    cwd: Path
    timeout: float
    labels: list[str]


def ctest_listing(build_dir: Path) -> dict[str, CTestEntry]:
    """Every test of a configured build tree (`ctest --show-only=json-v1`), by name."""
    proc = subprocess.run(["ctest", "--test-dir", str(build_dir), "--show-only=json-v1"],
                          capture_output=True, text=True, errors="replace", timeout=120)
    if proc.returncode != 0:
        raise LabError(f"ctest cannot list the tests of {build_dir} (exit {proc.returncode}); "
                       f"configure the tree first:\n{proc.stderr.strip()[-1500:]}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise LabError(f"ctest --show-only=json-v1 printed no JSON for {build_dir}: {exc}") \
            from exc
    entries = {}
    for test in data.get("tests", []):
        props = {p.get("name"): p.get("value") for p in test.get("properties", [])}
        command = list(test.get("command") or [])
        labels = props.get("LABELS") or []
        entries[test["name"]] = CTestEntry(
            name=test["name"], command=command,
            cwd=Path(props.get("WORKING_DIRECTORY") or (Path(command[0]).parent
                                                        if command else build_dir)),
            timeout=float(props.get("TIMEOUT") or DEFAULT_TIMEOUT),
            labels=[labels] if isinstance(labels, str) else list(labels))
    return entries
