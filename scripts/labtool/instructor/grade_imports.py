"""`scripts/lab grade-imports`: rebuilds the per-milestone part of the grader's allow-list of
linked symbols (checkpoints/common/imports.json, "milestones"; grade/imports.py).

It grades the starter and the solutions with a zero test budget (the builds are the grader's
own: same presets, flags and sandbox, and no test runs), lists the undefined symbols of every
milestone's checkpoint objects, and keeps per milestone those the honest lists of the file do
not already cover. Run it after changing the checkpoints, their helpers or the solutions; the
grading step of `scripts/lab selftest` fails the solutions with a "(linked)" finding when the
list is out of date.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from ..console import LabError, info
from ..course import ROOT, load_milestones
from ..grade import imports
from ..grade.args import Options
from ..grade.pipeline import grade_submission


def add_grade_imports_arguments(p) -> None:
    p.add_argument("--build-root", default=str(ROOT / "build"),
                   help="where the two grading builds go (default: build/)")


def _submission(base: str, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(ROOT / "starter", dst / "starter",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if base == "solutions":
        for src in sorted((ROOT / "solutions").glob("[0-9][0-9]-*/*")):
            if src.is_file():
                shutil.copy2(src, dst / "starter" / src.parent.name / src.name)


def run_grade_imports(args) -> int:
    root = Path(args.build_root).resolve() / "grade-imports"
    milestones = load_milestones()
    needed: dict[str, set[str]] = {m.label: set() for m in milestones}
    allow = imports.allow_list()
    for base in ("starter", "solutions"):
        info(f"building the {base} as the grader does")
        sub, work = root / base / "submission", root / base / "work"
        _submission(base, sub)
        report = grade_submission(sub, root / base / "out", work, Options(repeat=1, budget=0))
        if report.error:
            raise LabError(f"grading the {base} failed:\n{report.error}")
        for m in milestones:
            objs = imports.objects(work / "tsan", m.label)
            if not objs:
                raise LabError(f"milestone {m.number} of the {base} built no checkpoint objects")
            out = subprocess.run(["nm", "-P", "-A", *map(str, objs)], capture_output=True,
                                 text=True, check=True).stdout
            symbols = imports.undefined_symbols(objs, lambda _argv, out=out: out) or set()
            lock_free = imports.lock_free(m)
            needed[m.label] |= {s for s in symbols
                                if not (s in allow.honest or allow.honest_patterns.match(s))
                                or lock_free and allow.lock_free_refused.search(s)}
    data = json.loads(imports.IMPORTS_FILE.read_text())
    data["milestones"] = {label: sorted(names) for label, names in sorted(needed.items())}
    imports.IMPORTS_FILE.write_text(json.dumps(data, indent=1) + "\n")
    imports.allow_list.cache_clear()
    for label, names in sorted(needed.items()):
        info(f"{label}: {len(names)} symbols beyond the honest lists: {' '.join(sorted(names))}")
    info(f"wrote {imports.IMPORTS_FILE.relative_to(ROOT)}")
    return 0
