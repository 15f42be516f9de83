"""A batch re-grades by content and options, never by the mere presence of results.json."""

import tempfile
import unittest
from pathlib import Path

from labtool.grade.args import Options, option_arguments
from labtool.grade.batch import _graded_key, _remember_key, grading_key


class RegradeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.sub = self.tmp / "alice"
        (self.sub / "starter" / "01-x").mkdir(parents=True)
        (self.sub / "starter" / "01-x" / "a.hpp").write_text("v1\n")

    def test_a_change_of_content_or_options_changes_the_key(self):
        key = grading_key(self.sub, Options())
        self.assertEqual(key, grading_key(self.sub, Options()))
        self.assertNotEqual(key, grading_key(self.sub, Options(only=[2])))
        self.assertNotEqual(key, grading_key(self.sub, Options(repeat=1)))
        self.assertNotEqual(key, grading_key(self.sub, Options(deadline="2026-12-01")))
        (self.sub / "starter" / "01-x" / "a.hpp").write_text("v2\n")
        self.assertNotEqual(key, grading_key(self.sub, Options()))

    def test_build_products_do_not_count(self):
        key = grading_key(self.sub, Options())
        (self.sub / "build").mkdir()
        (self.sub / "build" / "x.o").write_bytes(b"\0")
        self.assertEqual(key, grading_key(self.sub, Options()))

    def test_a_new_commit_changes_the_key(self):
        git = self.sub / ".git"
        (git / "refs" / "heads").mkdir(parents=True)
        (git / "HEAD").write_text("ref: refs/heads/main\n")
        (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
        key = grading_key(self.sub, Options())
        (git / "refs" / "heads" / "main").write_text("b" * 40 + "\n")
        self.assertNotEqual(key, grading_key(self.sub, Options()))

    def test_results_without_a_key_are_graded_again(self):
        target = self.tmp / "out" / "alice"
        target.mkdir(parents=True)
        self.assertIsNone(_graded_key(target))
        (target / "results.json").write_text("{}")
        self.assertEqual(_graded_key(target), "")           # an old grader's: grade again
        _remember_key(target, "k")
        self.assertEqual(_graded_key(target), "k")

    def test_children_get_the_same_options(self):
        opts = Options(only=[1, 3], repeat=2, hidden=True, deadline="2026-12-01",
                       private=(Path("/x"),))
        args = option_arguments(opts)
        for expected in (["--only", "1,3"], ["--repeat", "2"], ["--deadline", "2026-12-01"],
                         ["--private", "/x"]):
            i = args.index(expected[0])
            self.assertEqual(args[i:i + 2], expected)
        self.assertIn("--hidden", args)


if __name__ == "__main__":
    unittest.main()
