"""roster.py: the batch's grades under the students' ids, and clear errors for a bad roster."""

import csv
import tempfile
import unittest
from pathlib import Path

from labtool.console import LabError
from labtool.grade.roster import read_roster, write_lms_csv


class RosterTest(unittest.TestCase):
    def setUp(self):
        self.out = Path(tempfile.mkdtemp())
        (self.out / "grades.csv").write_text(
            "submission,score,max_score,percent,m1,inconclusive,skipped,status,seconds,results\n"
            "alice,15,15,100.0,15,0,0,graded,1,alice/results.json\n"
            "bob_2,7,15,46.7,7,0,0,graded,1,bob_2/results.json\n")

    def roster(self, text: str) -> Path:
        path = self.out / "roster.csv"
        path.write_text(text)
        return path

    def test_rows_follow_the_roster(self):
        roster = self.roster("submission,id,section\nalice,s1,A\ncarol,s3,B\nbob (2).zip,s2,A\n")
        entries = [(Path("/b/alice"), "alice"), (Path("/b/bob (2).zip"), "bob_2"),
                   (Path("/b/zed"), "zed")]
        path, unmatched = write_lms_csv(self.out, roster, entries)
        rows = list(csv.reader(path.open()))
        self.assertEqual(rows[0], ["submission", "id", "section", "score", "max_score",
                                   "percent", "status"])
        self.assertEqual(rows[1][:4], ["alice", "s1", "A", "15"])
        self.assertEqual(rows[2][-1], "no submission")
        self.assertEqual(rows[3][:4], ["bob (2).zip", "s2", "A", "7"])
        self.assertEqual(unmatched, ["zed"])
        self.assertEqual(rows[4][0], "zed")
        self.assertEqual(rows[4][-1], "not in the roster")

    def test_bad_rosters(self):
        for text, words in (("name,email\nx,y\n", "needs the columns"),
                            ("submission,id\n,s1\n", "no submission name"),
                            ("submission,id\na,1\na,2\n", "named twice")):
            with self.assertRaisesRegex(LabError, words):
                read_roster(self.roster(text))
        with self.assertRaisesRegex(LabError, "cannot read"):
            read_roster(self.out / "missing.csv")
        bad = self.out / "latin1.csv"
        bad.write_bytes("submission,id\nj\xe9r\xf4me,1\n".encode("latin-1"))
        with self.assertRaisesRegex(LabError, "UTF-8"):
            read_roster(bad)


if __name__ == "__main__":
    unittest.main()
