"""The files whose student-release content differs from the instructor's repository: the
students' README (from scripts/templates/), the grading workflow, CMakeLists.txt with the
instructor-only checks off, and .gitignore. `export-student` writes them; `grade` uses them to
tell a student's real changes from the release's differences.

In the student release itself the templates are gone and its files ARE the release: the
overrides are then empty.
"""

from __future__ import annotations

import re

from .course import ROOT, load_milestones

TEMPLATES = ROOT / "scripts" / "templates"
README_TEMPLATE = TEMPLATES / "student-README.md"
WORKFLOW_TEMPLATE = TEMPLATES / "github-workflow-grade.yml"
WORKFLOW_PATH = ".github/workflows/grade.yml"


def _milestone_rows() -> tuple[str, int]:
    rows, total = [], 0
    for m in load_milestones():
        files = ", ".join(f"`starter/{m.slug}/{f}`" for f in m.files)
        lesson = f"lessons/{m.slug}/README.md"
        link = f"[{m.title}]({lesson})" if (ROOT / lesson).exists() else m.title
        rows.append(f"| {m.number} | {link} | {files} | {m.max_points} |")
        total += m.max_points
    return "\n".join(rows), total


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
    }
