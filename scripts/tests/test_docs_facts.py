"""The guides' numbers are the code's: a count of checkpoints or a default that the guides state
is checked against the manifests and the tool (a test, not a hand-kept promise)."""

import re
import unittest

from labtool.course import DEFAULT_TIMEOUT, ROOT, load_milestones
from labtool.grade.args import DEFAULT_BUDGET

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


class DocsFactsTest(unittest.TestCase):
    def test_course_wide_checkpoint_counts(self):
        total = sum(len(m.tests) for m in load_milestones())
        largest = max(len(m.tests) for m in load_milestones())
        for doc in DOCS:
            for n in re.findall(r"\b(\d+) checkpoints\b", doc.read_text()):
                if int(n) > largest:        # more than one milestone has: the course's count
                    self.assertEqual(int(n), total, f"{doc.name} says {n} checkpoints; the "
                                     f"manifests have {total}")

    def test_defaults(self):
        text = (ROOT / "docs" / "instructor-guide.md").read_text()
        for n in re.findall(r"the manifest's, (\d+) s by default", text):
            self.assertEqual(float(n), DEFAULT_TIMEOUT)
        for n in re.findall(r"`--budget` \((\d+) s by default\)", text):
            self.assertEqual(int(n), DEFAULT_BUDGET)
        self.assertTrue(re.search(r"the manifest's, \d+ s by default", text),
                        "the guide no longer states the default checkpoint timeout")


if __name__ == "__main__":
    unittest.main()
