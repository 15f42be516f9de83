"""Every lesson asks the student to predict before it shows an output: at least two
"Predict" prompts, each followed by its answer folded in a <details> block, and every
<details> closed.

    python3 -m unittest discover -s scripts/tests -t scripts -p 'test_lesson_predictions.py'
"""

import re
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "lessons").glob("0*/README.md")) + [
    REPO / "lessons" / "04-cas-min-max" / "rate-limiter.md",
    REPO / "lessons" / "06-ordering-benchmarks" / "replicated-counter.md",
    REPO / "lessons" / "06-ordering-benchmarks" / "scaling-histograms.md",
]
PROMPT = re.compile(r"\bpredict\b", re.I)
LOOKAHEAD = 20  # lines between a prompt and the fold that answers it (a command may sit between)


def folded_predictions(text: str) -> int:
    """How many prompts have a <details> within LOOKAHEAD lines after them."""
    lines = text.splitlines()
    count = 0
    for i, line in enumerate(lines):
        if PROMPT.search(line) and any("<details>" in later
                                       for later in lines[i:i + LOOKAHEAD]):
            count += 1
    return count


class Predictions(unittest.TestCase):
    def test_each_lesson_asks_twice_with_the_answer_folded(self):
        for page in PAGES:
            if not page.exists():
                continue
            with self.subTest(page=page.relative_to(REPO).as_posix()):
                text = page.read_text()
                self.assertGreaterEqual(folded_predictions(text), 2)
                self.assertEqual(text.count("<details>"), text.count("</details>"))

    def test_the_check_can_fail(self):
        self.assertEqual(folded_predictions("Predict: what happens?\n\nIt prints 3.\n"), 0)
        self.assertEqual(folded_predictions("Predict: what?\n\n<details><summary>x</summary>"), 1)


if __name__ == "__main__":
    unittest.main()
