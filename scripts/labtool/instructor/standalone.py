"""The repository stands alone: no file may refer to material that readers do not have.

    python3 scripts/labtool/instructor/standalone.py [ROOT]     # exit 1 and a list if any

The course was written from notes that are not part of it. A reader of this repository (or
of the student export) cannot open them, so a lesson, header, test or script that cites them
(a path above the repository, a planning document, a numbered list of mistakes, the project
the course grew from) points nowhere. What such a reference wanted to say belongs in the
text itself, or in docs/common-mistakes.md (the common mistakes of popular atomics
tutorials, with sources).

The rules are RULES below, applied case-insensitively to every line of every text file that
git would commit (tracked or new and not ignored; files with a NUL byte in their first 4 KiB
are skipped). Their patterns are written with character classes, so that this file does not
itself spell what it forbids. The word rule for the original project treats `_`, `-`, `.`,
`/` and spaces as separators (a file name made of it matches, a longer word does not), and
passes a line that also names a random-number context (RANDOM_CONTEXT), also as a part of an
identifier, since that word is an ordinary one for random-number generators.

A line that must use one of these words for another reason carries the marker
`lab-standalone: allow` (in a comment) on the same line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

ALLOW_MARKER = "lab-standalone: allow"
EXEMPT: set[str] = set()  # none: even this file and its test do not spell the words out

# A word boundary that treats `_` like any other separator (\b would not: `_` is a word char).
_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"

RULES: list[tuple[str, re.Pattern, str]] = [
    ("outside-path", re.compile(r"\.\./shar[e]d", re.I),
     "a path outside the repository; put what the reader needs into the repository"),
    ("planning-doc", re.compile(_L + r"curr[i]culum" + _R, re.I),
     "a planning document readers do not have; say the decision itself"),
    ("mistake-list", re.compile(_L + r"erra[t](?:um|a)" + _R, re.I),
     "a number in a list of mistakes readers do not have; describe the mistake (see "
     "docs/common-mistakes.md)"),
    ("origin-material", re.compile(r"sourc[e]\s+material", re.I),
     "material readers do not have; describe the mistake itself (docs/common-mistakes.md)"),
    ("origin-name", re.compile(_L + r"se[e]d" + _R, re.I),
     "refers to the project this course grew from; describe the mistake itself "
     "(docs/common-mistakes.md)"),
]

# Words that make the origin-name word mean a random-number generator's start value (matched
# as parts of identifiers too).
RANDOM_CONTEXT = re.compile(r"random|rand|rng|prng|mt19937|xorshift|shuffle|hash|nonce|doctest",
                            re.I)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.text.strip()[:120]}\n    -> {self.why}"


def check_line(line: str) -> list[tuple[str, str]]:
    """(rule, why) for every rule the line breaks."""
    if ALLOW_MARKER in line:
        return []
    found = []
    for name, pattern, why in RULES:
        if not pattern.search(line):
            continue
        if name == "origin-name" and RANDOM_CONTEXT.search(line):
            continue
        found.append((name, why))
    return found


def check_text(rel: str, text: str) -> list[Finding]:
    findings = []
    # The file name itself counts as a line (a file named after the original project is a
    # reference too).
    for name, why in check_line(rel.replace("/", " / ")):
        findings.append(Finding(rel, 0, name, f"(file name) {rel}", why))
    for number, line in enumerate(text.splitlines(), 1):
        for name, why in check_line(line):
            findings.append(Finding(rel, number, name, line, why))
    return findings


def project_files(root: Path) -> list[str]:
    """Every file git would commit (tracked, or new and not ignored); without git, every file
    outside build/, .git/ and .lab/."""
    proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                           "--exclude-standard"], capture_output=True)
    if proc.returncode == 0:
        names = {n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n}
    else:
        names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        names = {n for n in names if not n.startswith(("build/", ".git/", ".lab/"))}
    return sorted(n for n in names if (root / n).is_file() and "__pycache__" not in n)


def check_tree(root: Path = ROOT) -> list[Finding]:
    findings = []
    for rel in project_files(root):
        if rel in EXEMPT:
            continue
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if b"\0" in data[:4096]:
            continue
        findings.extend(check_text(rel, data.decode("utf-8", errors="replace")))
    return findings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]).resolve() if args else ROOT
    findings = check_tree(root)
    if not findings:
        print("standalone: no reference to material outside the repository")
        return 0
    print(f"standalone: {len(findings)} reference(s) to material outside the repository:")
    for finding in findings:
        print(f"  {finding}")
    print("Rewrite each line to say what the reader needs (docs/common-mistakes.md collects the "
          "tutorial mistakes), or mark a genuine other use with `lab-standalone: allow`. "
          "The rule is in scripts/labtool/instructor/standalone.py.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
