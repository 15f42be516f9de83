"""The files whose student-release content differs from the instructor's repository: the
students' README (from scripts/templates/), the grading workflow, CMakeLists.txt with the
instructor-only checks off, .gitignore, and the starter files as shipped
(scripts/labtool/shipped_starter.json, what `scripts/lab reset` restores). `export-student`
writes them; `grade` uses them to
tell a student's real changes from the release's differences.

In the student release itself the templates are gone and its files ARE the release: the
overrides are then empty.
"""

from __future__ import annotations

import hashlib
import json
import re

from .console import LabError
from .course import ROOT, load_milestones

TEMPLATES = ROOT / "scripts" / "templates"
README_TEMPLATE = TEMPLATES / "student-README.md"
WORKFLOW_TEMPLATE = TEMPLATES / "github-workflow-grade.yml"
WORKFLOW_PATH = ".github/workflows/grade.yml"
SHIPPED_STARTER = "scripts/labtool/shipped_starter.json"


def _milestone_rows() -> tuple[str, int]:
    rows, total = [], 0
    for m in load_milestones():
        files = ", ".join(f"`starter/{m.slug}/{f}`"
                          + (" (stretch, optional)" if f in m.stretch_files else "")
                          for f in m.files)
        lesson = f"lessons/{m.slug}/README.md"
        link = f"[{m.title}]({lesson})" if (ROOT / lesson).exists() else m.title
        rows.append(f"| {m.number} | {link} | {files} | {m.max_points} |")
        total += m.max_points
    return "\n".join(rows), total


def shipped_starter_json() -> bytes:
    """Every student file of every milestone as this release ships it, with its SHA-256: what
    `scripts/lab reset` restores (never what git last committed)."""
    files = {}
    for m in load_milestones():
        for name in m.files:
            rel = f"starter/{m.slug}/{name}"
            data = (ROOT / rel).read_bytes()
            files[rel] = {"sha256": hashlib.sha256(data).hexdigest(),
                          "text": data.decode("utf-8")}
    return (json.dumps({"about": "The starter files as shipped; scripts/lab reset N restores "
                                 "them. Written by the course's export; do not edit.",
                        "files": files}, indent=1, sort_keys=True) + "\n").encode()


def shipped_starter(rel_paths: list[str]) -> dict[str, bytes]:
    """The shipped content of these starter files (from SHIPPED_STARTER); LabError when the
    repository has none or a file is missing or damaged."""
    path = ROOT / SHIPPED_STARTER
    if not path.is_file():
        raise LabError(f"{SHIPPED_STARTER} is missing: it holds the starter files as shipped, "
                       "and only a student release has it (scripts/lab export-student writes "
                       "it). Fetch it again from the course's release.")
    try:
        files = json.loads(path.read_text())["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LabError(f"{SHIPPED_STARTER} is damaged ({exc}); fetch it again from the "
                       "course's release") from exc
    found = {}
    for rel in rel_paths:
        entry = files.get(rel)
        data = entry["text"].encode() if isinstance(entry, dict) and "text" in entry else None
        if data is None or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise LabError(f"{SHIPPED_STARTER} has no intact copy of {rel}; fetch it again from "
                           "the course's release")
        found[rel] = data
    return found


def release_overrides() -> dict[str, bytes]:
    """Files whose student-release content is generated or differs from the repository's
    (none in the student release, which has no templates)."""
    if not TEMPLATES.is_dir():
        return {}
    rows, total = _milestone_rows()
    readme = README_TEMPLATE.read_text()
    readme = readme.replace("{{MILESTONE_ROWS}}", rows).replace("{{TOTAL_POINTS}}", str(total))
    cmake = (ROOT / "CMakeLists.txt").read_text()
    cmake = re.sub(r'(option\(LAB_INSTRUCTOR\s+"[^"]*"\s+)ON\)', r"\1OFF)", cmake)
    gitignore = (ROOT / ".gitignore").read_text() if (ROOT / ".gitignore").exists() else ""
    # Students commit their hint log (hintlog.py); only the instructor's repository ignores it.
    gitignore = "".join(line for line in gitignore.splitlines(keepends=True)
                        if "hints-unlocked.json" not in line and "hint log" not in line)
    if "/grade-report/" not in gitignore:
        gitignore += "/grade-report/\n"
    return {
        "README.md": readme.encode(),
        WORKFLOW_PATH: WORKFLOW_TEMPLATE.read_bytes(),
        "CMakeLists.txt": cmake.encode(),
        ".gitignore": gitignore.encode(),
        SHIPPED_STARTER: shipped_starter_json(),
    }
