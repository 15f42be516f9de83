"""A class at a glance, from a graded batch (`scripts/lab grade --batch DIR --out OUT` writes it
as OUT/class-report.md at the end; `scripts/lab class-report OUT --submissions DIR` writes it
again):

- per checkpoint, the share of students whose run did not pass it and the commonest first line
  of its failure (what to explain in the next class);
- per milestone, the score distribution (a chart: OUT/class-scores.svg) and how many results
  were inconclusive or skipped (runs to repeat on a quieter or bigger machine);
- pairs of submissions whose graded files are near-identical: a similarity of normalized tokens
  (comments and layout dropped, names and literals folded, the starter's own code left out),
  a hint for a human to look at, never a verdict;
- every submission's ORDERING.md (milestone 6's written justification of each memory order,
  which no checkpoint grades) in one review document, OUT/ordering-review.md, with the rubric
  of docs/ordering-rubric.md.

Nothing here changes a grade: it reads results.json files the grader wrote and the submitted
files, and writes three files.
"""

from __future__ import annotations

import collections
import html
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..course import ROOT, Milestone
from .archive import md_code, md_text, write_atomic
from .submission import locate, unpack

SIMILAR = 0.85              # share of shared fingerprints from which a pair is listed
KGRAM = 12                  # tokens per fingerprint
ORDERING_FILE = "ORDERING.md"


@dataclass
class Student:
    name: str
    results: dict | None = None
    files: dict[str, str] = field(default_factory=dict)    # "NN-name/file" -> text


# --- similarity ------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<number>\b\d[\w.']*)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<punct>::|->|<<=|>>=|[-+*/%&|^!=<>]=|&&|\|\||\+\+|--|<<|>>|\S)
""", re.X | re.S)
# Words kept as they are: the language and the library, which carry the design (which atomic
# operation, which order); every other name folds to one token, so renaming changes nothing.
_KEEP = set("""
alignas alignof auto bool break case catch char class const constexpr continue default delete
do double else enum explicit false for if inline int long namespace noexcept nullptr operator
private protected public return short signed sizeof static static_cast struct switch template
this throw true try typename unsigned using virtual void volatile while std atomic
memory_order relaxed acquire release acq_rel seq_cst consume memory_order_relaxed
memory_order_acquire memory_order_release memory_order_acq_rel memory_order_seq_cst load store
exchange fetch_add fetch_sub fetch_or fetch_and compare_exchange_weak compare_exchange_strong
atomic_thread_fence uint64_t int64_t size_t array vector mutex lock_guard thread
""".split())


def tokens(text: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "comment":
            continue
        if kind == "string":
            out.append("S")
        elif kind == "number":
            out.append("N")
        elif kind == "word":
            out.append(m.group() if m.group() in _KEEP else "ID")
        else:
            out.append(m.group())
    return out


def fingerprints(text: str) -> set[int]:
    t = tokens(text)
    return {hash(tuple(t[i:i + KGRAM])) for i in range(max(0, len(t) - KGRAM + 1))}


def similarity(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two fingerprint sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similar_pairs(students: list[Student], starter: dict[str, str],
                  threshold: float = SIMILAR) -> list[tuple[float, str, str, list[str]]]:
    """(similarity, a, b, the files compared) for every pair at or above the threshold: each
    graded file's fingerprints minus the starter's, compared file by file, weighted by size."""
    base = {k: fingerprints(v) for k, v in starter.items()}
    prints = {s.name: {k: fingerprints(v) - base.get(k, set()) for k, v in s.files.items()
                       if k.endswith((".hpp", ".cpp", ".h"))}
              for s in students}
    pairs = []
    names = sorted(prints)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common = [k for k in prints[a] if k in prints[b] and prints[a][k] and prints[b][k]]
            if not common:
                continue
            weight = sum(len(prints[a][k] | prints[b][k]) for k in common)
            score = sum(similarity(prints[a][k], prints[b][k]) * len(prints[a][k] | prints[b][k])
                        for k in common) / weight
            if score >= threshold:
                pairs.append((score, a, b, common))
    return sorted(pairs, reverse=True)


# --- reading a batch ---------------------------------------------------------------------------

def read_student(name: str, out: Path, entry: Path | None, milestones: list[Milestone]) -> Student:
    student = Student(name)
    results = out / name / "results.json"
    try:
        student.results = json.loads(results.read_text())
    except (OSError, json.JSONDecodeError):
        student.results = None
    if entry is None:
        return student
    wanted = {(m.slug, f) for m in milestones for f in m.files}     # ORDERING.md is one
    with tempfile.TemporaryDirectory(prefix="lab-class-") as scratch:
        try:
            root = unpack(entry, Path(scratch))
            sub = locate(entry, root, milestones)
        except Exception:  # noqa: BLE001 - a broken submission has no files to compare
            return student
        for (slug, fname), path in sub.files.items():
            if (slug, fname) in wanted:
                try:
                    student.files[f"{slug}/{fname}"] = path.read_bytes()[:200_000].decode(
                        "utf-8", "replace")
                except OSError:
                    pass
    return student


_GENERIC = re.compile(r"^(the checkpoint failed|failed|\[doctest\]|=+|-+)$")


def _failure_line(output: str) -> str:
    """The first telling line of a failure, with its numbers and addresses folded (so that the
    same mistake counts once whatever the run's counts were)."""
    for line in output.splitlines():
        line = line.strip()
        if line and not _GENERIC.match(line):
            line = re.sub(r"\b0x[0-9a-fA-F]+\b", "0x...", line)
            return re.sub(r"(?<![\w.-])\d+(\.\d+)?(?![\w.-])", "N", line)[:160]
    return "(no output)"


# --- the report ----------------------------------------------------------------------------------

def _histogram_svg(milestones: list[Milestone], students: list[Student]) -> str:
    """One row of bars per milestone: how many students scored in each tenth of its points."""
    width, row, left = 640, 70, 150
    rows = []
    for m in milestones:
        bins = [0] * 11
        for s in students:
            if not s.results:
                continue
            per = {d["number"]: d for d in s.results.get("extra_data", {}).get("milestones", [])}
            d = per.get(m.number)
            if d and d.get("max_score"):
                bins[int(10 * d["score"] / d["max_score"])] += 1
        rows.append((m, bins))
    top = max([max(b) for _, b in rows] + [1])
    bar = (width - left - 20) / 11
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{row * len(rows) + 40}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="14">students per tenth of the milestone\'s points '
             '(0-9 %, 10-19 %, ..., 100 %)</text>']
    for i, (m, bins) in enumerate(rows):
        y0 = 30 + i * row
        parts.append(f'<text x="4" y="{y0 + row / 2}">{html.escape(f"{m.number:02d} {m.slug}")}</text>')
        for j, n in enumerate(bins):
            h = (row - 18) * n / top
            x = left + j * bar
            parts.append(f'<rect x="{x:.1f}" y="{y0 + row - 14 - h:.1f}" width="{bar - 3:.1f}" '
                         f'height="{h:.1f}" fill="#4477aa"><title>{j * 10}%: {n}</title></rect>')
            if n:
                parts.append(f'<text x="{x + 2:.1f}" y="{y0 + row - 16 - h:.1f}">{n}</text>')
        parts.append(f'<line x1="{left}" y1="{y0 + row - 14}" x2="{width - 20}" '
                     f'y2="{y0 + row - 14}" stroke="#888"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def class_report(out: Path, students: list[Student], milestones: list[Milestone],
                 starter_root: Path = ROOT / "starter") -> str:
    graded = [s for s in students if s.results]
    seen = {d["number"] for s in graded for d in s.results.get("extra_data", {}).get("milestones", [])}
    milestones = [m for m in milestones if m.number in seen] or milestones   # --only's
    lines = [f"# Class report: {len(graded)} of {len(students)} submissions graded", "",
             "Read every number here as a place to look, not a verdict: a checkpoint many "
             "students fail may be hard, badly taught or broken; a similar pair may have "
             "started from the same lesson example.", ""]
    # Per milestone.
    lines += ["## Milestones", "", "![scores](class-scores.svg)", "",
              "| # | Milestone | median | full marks | zero | inconclusive | skipped |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    test_stats: dict[str, dict] = {}
    for m in milestones:
        scores, full, zero, inconclusive, skipped = [], 0, 0, 0, 0
        for s in graded:
            per = {d["number"]: d for d in s.results.get("extra_data", {}).get("milestones", [])}
            d = per.get(m.number)
            if not d:
                continue
            scores.append(d["score"])
            full += d["score"] == d["max_score"] and d["max_score"] > 0
            zero += d["score"] == 0
        for s in graded:
            for t in s.results.get("tests", []):
                if not t.get("number", "").startswith(f"{m.number}."):
                    continue
                tags = t.get("tags", [])
                inconclusive += "inconclusive" in tags
                skipped += "skipped" in tags
                st = test_stats.setdefault(t["name"], {"milestone": m.number, "runs": 0,
                                                       "failed": 0, "lines": collections.Counter()})
                st["runs"] += 1
                if t.get("status") == "failed":
                    st["failed"] += 1
                    st["lines"][_failure_line(t.get("output", ""))] += 1
        median = sorted(scores)[len(scores) // 2] if scores else "-"
        lines.append(f"| {m.number:02d} | {md_text(m.title)} | {median} / {m.max_points} | "
                     f"{full} | {zero} | {inconclusive} | {skipped} |")
    lines.append("")
    # Per checkpoint.
    lines += ["## Checkpoints, most failed first", "",
              "| checkpoint | failed | commonest first line of the failure |", "| --- | --- | --- |"]
    ranked = sorted(test_stats.items(), key=lambda kv: (-kv[1]["failed"] / max(1, kv[1]["runs"]),
                                                         kv[0]))
    for name, st in ranked:
        if not st["failed"]:
            continue
        line, n = st["lines"].most_common(1)[0]
        share = 100 * st["failed"] / st["runs"]
        lines.append(f"| {md_text(name)} | {st['failed']}/{st['runs']} ({share:.0f} %) | "
                     f"{md_code(line)} ({n}x) |")
    if not any(st["failed"] for st in test_stats.values()):
        lines.append("| (none) | | |")
    lines.append("")
    # Similarity.
    starter = {}
    for m in milestones:
        for f in m.files:
            p = starter_root / m.slug / f
            if p.is_file():
                starter[f"{m.slug}/{f}"] = p.read_text(errors="replace")
    pairs = similar_pairs(students, starter)
    lines += ["## Near-identical submissions (a hint for a human, never a verdict)", "",
              f"Pairs whose graded files share at least {SIMILAR:.0%} of their normalized "
              f"{KGRAM}-token fingerprints, the starter's own code left out. Short files and "
              "one obvious solution make honest pairs look alike: read the code before you "
              "conclude anything.", ""]
    if pairs:
        lines += ["| similarity | submissions | files |", "| --- | --- | --- |"]
        lines += [f"| {score:.0%} | {md_code(a)} and {md_code(b)} | "
                  f"{', '.join(md_code(f) for f in files)} |" for score, a, b, files in pairs[:100]]
    else:
        lines.append("None above the threshold.")
    lines.append("")
    lines += ["## Written work", "",
              f"Every submission's {ORDERING_FILE} is in [ordering-review.md](ordering-review.md), "
              "with the rubric (docs/ordering-rubric.md).", ""]
    write_atomic(out / "class-scores.svg", _histogram_svg(milestones, graded))
    write_atomic(out / "ordering-review.md", ordering_review(students))
    text = "\n".join(lines) + "\n"
    write_atomic(out / "class-report.md", text)
    return text


def ordering_review(students: list[Student]) -> str:
    rubric = ROOT / "docs" / "ordering-rubric.md"
    out = ["# ORDERING.md of every submission", ""]
    if rubric.is_file():
        out += ["Grade each with the rubric below (docs/ordering-rubric.md); the checkpoints "
                "do not grade this file.", "", "<details><summary>Rubric</summary>", "",
                rubric.read_text().strip(), "", "</details>", ""]
    if not any(k.endswith("/" + ORDERING_FILE) for s in students for k in s.files):
        return "\n".join(out + ["No submission of this batch has one (it is milestone 6's)."]) + "\n"
    for s in sorted(students, key=lambda x: x.name):
        texts = [(k, v) for k, v in s.files.items() if k.endswith("/" + ORDERING_FILE)]
        out += [f"## {md_text(s.name)}", ""]
        if not texts:
            out += ["_(no ORDERING.md handed in)_", ""]
            continue
        for _, text in texts:
            body = text.strip()
            # Demote the student's headings below ours, and never let their text close ours.
            body = re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", body,
                          flags=re.M)
            out += [body, "", "---", ""]
    return "\n".join(out) + "\n"

