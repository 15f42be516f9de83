"""Every reference to a lesson's section (`lesson 4, "The trap: check-then-act"`, `Lesson 1,
'Rules'`) in a checkpoint message, a starter TODO, a hint, a manifest, the tool's own messages
or a lesson names a heading that exists in that lesson (lessons/NN-name/README.md or one of
the lesson's other pages, e.g. a stretch exercise's)."""

import re
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("checkpoints", "starter", "solutions", "scripts/labtool", "lessons", "docs")
SUFFIXES = (".hpp", ".cpp", ".h", ".json", ".py", ".md", ".txt", ".cmake")

_QUOTE = r"""(?:"([^"\n]{2,120})"|'([^'\n]{2,120})'|“([^”\n]{2,120})”)"""
# A quote opens the title; an apostrophe of "lesson 4's" does not.
_LESSON = re.compile(r"\b[Ll]esson\s+0?(\d+)\s*[,:]?\s*(?:the\s+)?(?=[\"“]|'(?!s\b))")
_MORE = re.compile(r"\s*(?:,|\band\b|\bits\b|\bthen\b|\bor\b|\bsections?\b)\s*"
                   r"(?:(?:and|its|then|or|the|sections?)\s+)*(?=[\"'“])")
_FIRST = re.compile(_QUOTE)


def _joined(text: str) -> str:
    """The text with string-literal concatenations and comment continuations undone, and
    escaped quotes unescaped, so that a reference split over two source lines reads whole."""
    text = re.sub(r"\"\s*\n\s*(?:\+\s*)?\"", "", text)          # "...lesson "\n  "4, ..."
    text = re.sub(r"\s*\n\s*(?://+|#+|\*)\s*", " ", text)        # comment continuations
    return text.replace('\\"', '"')


def _norm(title: str) -> str:
    return " ".join(title.replace("`", "").split()).rstrip(".").lower()


def headings(number: int) -> list[str]:
    found = []
    for folder in ROOT.glob(f"lessons/{number:02d}-*"):
        for page in folder.glob("*.md"):
            in_code = False
            for line in page.read_text().splitlines():
                if line.startswith("```"):
                    in_code = not in_code
                elif not in_code and line.startswith("#"):
                    # "## 3. Happens-before in five rules" is cited without its number
                    found.append(_norm(re.sub(r"^\s*\d+\.\s+", "", line.lstrip("#"))))
    return found


def resolves(title: str, known: list[str]) -> bool:
    t = _norm(re.sub(r"^\s*\d+\.\s+", "", title))      # "3. Happens-before ..." as cited
    # A title may stop at a colon or comma of the heading (or, quoted inside a quote, at the
    # inner quote: "A broken example: \"my slot ...\"" reads as "A broken example: ").
    return any(h == t or (h.startswith(t) and (h[len(t)] in ":,(" or t.endswith(":")))
               for h in known)


def references(text: str):
    """(lesson number, quoted section title) for every reference in the text."""
    text = _joined(text)
    for m in _LESSON.finditer(text):
        pos = m.end()
        while True:
            q = _FIRST.match(text, pos)
            if not q:
                break
            yield int(m.group(1)), next(g for g in q.groups() if g is not None)
            more = _MORE.match(text, q.end())
            if not more:
                break
            pos = more.end()


class LessonReferences(unittest.TestCase):
    def test_the_reader_finds_split_and_listed_references(self):
        text = ('LAB_TODO("x (lesson "\n             "4, \\"The trap: check-then-act\\"). y");\n'
                "Read lesson 1, 'The concept: one indivisible step' and its 'Rules', then "
                "'The bug TSan cannot see'. Lesson 2 says \"no\", lesson 3 \"Xy\"")
        self.assertEqual(list(references(text)), [
            (4, "The trap: check-then-act"), (1, "The concept: one indivisible step"),
            (1, "Rules"), (1, "The bug TSan cannot see"), (3, "Xy")])

    def test_every_section_reference_names_a_real_heading(self):
        known: dict[int, list[str]] = {}
        broken = []
        for top in SCANNED:
            for path in sorted((ROOT / top).rglob("*")):
                if not path.is_file() or not path.name.endswith(SUFFIXES) \
                        or "__pycache__" in path.parts or path.name == Path(__file__).name:
                    continue
                for number, title in references(path.read_text(errors="replace")):
                    if number not in known:
                        known[number] = headings(number)
                    if not resolves(title, known[number]):
                        broken.append(f"{path.relative_to(ROOT)}: lesson {number}, \"{title}\"")
        self.assertEqual(broken, [], "references to lesson sections that do not exist")

    def test_no_message_points_at_an_unnamed_section(self):
        vague = re.compile(r"lesson's section|\bsection on \w+\b")
        found = []
        for top in ("checkpoints", "starter", "scripts/labtool"):
            for path in sorted((ROOT / top).rglob("*")):
                if path.is_file() and path.name.endswith(SUFFIXES) \
                        and "__pycache__" not in path.parts:
                    for m in vague.finditer(_joined(path.read_text(errors="replace"))):
                        found.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
        self.assertEqual(found, [], "name the section: lesson N, \"Heading\"")


if __name__ == "__main__":
    unittest.main()
