"""The repository stands alone: no file may refer to material that readers do not have.

    python3 scripts/labtool/instructor/standalone.py [ROOT]     # exit 1 and a list if any

The course was written from notes and an earlier tutorial that are not part of it. A reader
of this repository (or of the student export) cannot open them, so a lesson, header, test or
script that cites them ("see erratum 4", "as the seed did", "../shared/...") points nowhere.
What such a reference wanted to say belongs in the text itself, or in
docs/common-mistakes.md (the common mistakes of popular atomics tutorials, with sources).

The rule, applied to every line of every text file that git would commit (tracked or new and
not ignored; files with a NUL byte in their first 4 KiB are skipped), case-insensitively:

  shared-dir   `../shared` anywhere (a path outside the repository)
  curriculum   the word CURRICULUM (also CURRICULUM.md)
  erratum      the words erratum / errata
  source       the phrase "source material"
  seed         the word "seed" on its own (`_`, `-`, `.`, `/` and spaces separate words, so
               `seed_output.prom` and "the seed's" match; "seeded", "seeds" and "seedling" do
               not), UNLESS the same line also names a random-number context: one of the
               words random, rand, rng, prng, mt19937, xorshift, shuffle, hash, nonce, or
               doctest (whose --rand-seed is the other seed of this project), also as a part of
               an identifier (`rand_seed`, `mt19937_64`, `random_workload`).
               So `std::mt19937_64 rng(seed)` and "echoes a random seed" pass, while
               "the seed's exporter" and `HistogramSnapshot seed = ...` fail.

A line that must mention one of these words for another reason carries the marker
`lab-standalone: allow` (in a comment) on the same line. This file and its unit test are
exempt: they have to spell the words out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

ALLOW_MARKER = "lab-standalone: allow"
EXEMPT = {
    "scripts/labtool/instructor/standalone.py",
    "scripts/tests/test_standalone.py",
}

# A word boundary that treats `_` like any other separator (\b would not: `_` is a word char).
_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"

RULES: list[tuple[str, re.Pattern, str]] = [
    ("shared-dir", re.compile(r"\.\./shared", re.I),
     "a path outside the repository; put what the reader needs into the repository"),
    ("curriculum", re.compile(_L + r"curriculum" + _R, re.I),
     "a planning document readers do not have; say the decision itself"),
    ("erratum", re.compile(_L + r"errat(?:um|a)" + _R, re.I),
     "an erratum number of a list readers do not have; describe the mistake (see "
     "docs/common-mistakes.md)"),
    ("source", re.compile(r"source\s+material", re.I),
     "material readers do not have; describe the mistake itself (docs/common-mistakes.md)"),
    ("seed", re.compile(_L + r"seed" + _R, re.I),
     "refers to the project this course grew from; describe the mistake itself "
     "(docs/common-mistakes.md)"),
]

# Words that make "seed" mean a random-number seed (matched as parts of identifiers too).
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
        if name == "seed" and RANDOM_CONTEXT.search(line):
            continue
        found.append((name, why))
    return found


def check_text(rel: str, text: str) -> list[Finding]:
    findings = []
    # The file name itself counts as a line (a file called seed_output.prom is a reference).
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
