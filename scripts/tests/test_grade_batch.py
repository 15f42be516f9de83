"""Unit tests for labtool.grade.batch: any submission name gives a safe, unique output folder,
and grades.csv is written whole, with no cell a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labtool.course import load_milestones  # noqa: E402
from labtool.grade.batch import MAX_NAME, cell, unique_names, write_grades_csv  # noqa: E402


class BatchNamesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-batch-test-"))

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_names_are_safe_unique_capped_and_never_the_batch_files(self) -> None:
        given = ["grades.csv.tmp", "GRADES.CSV", "a b", "a_b", "-rf", ".x", "=SUM(1)",
                 "y" * 250, "y" * 249 + "z"]
        names = unique_names([self.tmp / n for n in given])
        self.assertEqual(len(set(n.lower() for n in names)), len(names))
        for name in names:
            self.assertRegex(name, r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
            self.assertLessEqual(len(name), MAX_NAME)
            self.assertNotIn(name.lower(), {"grades.csv", "grades.csv.tmp"})
        self.assertEqual(names[2:4], ["a_b", "a_b_2"])

    def test_cells_a_spreadsheet_would_evaluate_are_quoted(self) -> None:
        for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
            self.assertEqual(cell(text), "'" + text)
        self.assertEqual(cell("alice"), "alice")
        self.assertEqual(cell(15), "15")

    def test_grades_csv_is_written_beside_a_folder_named_like_its_temporary_file(self) -> None:
        (self.tmp / "grades.csv.tmp").mkdir()           # what crashed the batch before
        (self.tmp / "a").mkdir()
        (self.tmp / "a" / "results.json").write_text(json.dumps(
            {"score": 3, "max_score": 15, "execution_time": 1.0,
             "extra_data": {"milestones": [{"number": 1, "score": 3}]}}))
        milestones = load_milestones()[:1]
        path = write_grades_csv(self.tmp, ["a", "=b"], milestones)
        rows = list(csv.reader(path.open()))
        self.assertEqual(rows[1][:3], ["a", "3", "15"])
        self.assertEqual(rows[2][0], "'=b")
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()),
                         ["a", "grades.csv", "grades.csv.tmp"])


if __name__ == "__main__":
    unittest.main()
