"""The hint log: `scripts/lab hint` records the rungs a student unlocked, `grade` reports them
to the instructor and never scores them (labtool/hintlog.py).

    python3 -m unittest discover -s scripts/tests -t scripts -p 'test_hintlog.py'
"""

import contextlib
import io
import json
import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from labtool import hintlog, hints, release, state
from labtool.console import LabError
from labtool.grade import reports
from labtool.grade.archive import read_inside
from tests.test_stretch import _manifest, _milestones


def _course(penalty=None):
    extra = {} if penalty is None else {"hint_penalty": penalty}
    return _milestones(_manifest(stretch_hints={"extra.hpp": ["s1", "s2", "s3", "s4"]},
                                 stretch_lessons={"extra.hpp": "extra.md"}, **extra))


def _log(**books) -> bytes:
    return json.dumps({"format": 1, **books}).encode()


class ParseLog(unittest.TestCase):
    def test_a_valid_log_gives_one_row_per_ladder(self):
        usage = hintlog.parse_log(_log(hints={"01-some-thing": 3},
                                       stretch_hints={"01-some-thing/extra.hpp": 1}), _course())
        self.assertEqual(usage.problem, "")
        self.assertEqual(usage.rows, [("01-some-thing", 3, 4), ("01-some-thing/extra.hpp", 1, 4)])
        self.assertEqual(usage.suggested_deduction, 0.0)

    def test_anything_unexpected_makes_the_whole_record_unusable_and_says_why(self):
        cases = {
            b"{not json": "not valid JSON",
            b"\xff\xfe": "not valid JSON",
            json.dumps([1]).encode(): "not a format-1 hint log",
            json.dumps({"format": 2}).encode(): "not a format-1 hint log",
            _log(hints=[1]): "'hints' is not an object",
            _log(hints={"09-nothing": 1}): "no hint ladder '09-nothing'",
            _log(hints={"01-some-thing/extra.hpp": 1}): "no hint ladder",   # a stretch key
            _log(hints={"01-some-thing": 5}): "from 0 to 4",
            _log(hints={"01-some-thing": -1}): "from 0 to 4",
            _log(hints={"01-some-thing": True}): "from 0 to 4",
            _log(hints={"01-some-thing": 1.5}): "from 0 to 4",
        }
        for data, why in cases.items():
            with self.subTest(data=data):
                usage = hintlog.parse_log(data, _course())
                self.assertTrue(usage.found)
                self.assertIn(why, usage.problem)
                self.assertEqual(usage.rows, [])

    def test_the_penalty_is_a_suggestion_in_the_report_never_in_the_score(self):
        usage = hintlog.parse_log(_log(hints={"01-some-thing": 3}), _course(penalty=0.5))
        self.assertEqual(usage.suggested_deduction, 1.5)
        report = reports.Report(submission="s", milestones=_course(penalty=0.5), hints=usage)
        data = reports.results_json(report)
        self.assertEqual(data["score"], 0)
        self.assertEqual(data["extra_data"]["hints"]["suggested_deduction"], 1.5)
        self.assertFalse(data["extra_data"]["hints"]["trusted"])
        self.assertEqual(data["extra_data"]["hints"]["ladders"][0],
                         {"ladder": "01-some-thing", "unlocked": 3, "of": 4})
        text = reports.summary_md(report)
        self.assertIn("### Hints unlocked (informational)", text)
        self.assertIn("| `01-some-thing` | 3 of 4 |", text)
        self.assertIn("Suggested deduction (the manifests' `hint_penalty`, not applied): 1.5",
                      text)

    def test_a_bad_penalty_in_a_manifest_is_a_clear_error(self):
        for bad in ("1", -1, True, 1000):
            with self.subTest(bad=bad), self.assertRaisesRegex(LabError, "hint_penalty"):
                _course(penalty=bad)

    def test_no_log_is_reported_as_such(self):
        text = reports.summary_md(reports.Report(submission="s"))
        self.assertIn("No `hints-unlocked.json` in the submission", text)
        self.assertFalse(reports.results_json(reports.Report(submission="s"))
                         ["extra_data"]["hints"]["recorded"])


class ReadLog(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.root = Path(self.tmp.name)

    def read(self):
        return hintlog.read_log(self.root, _course(),
                                lambda path, limit: read_inside(self.root, path, limit))

    def test_a_link_is_not_followed(self):
        secret = self.root.parent / f"secret-{os.getpid()}.json"
        secret.write_bytes(_log(hints={"01-some-thing": 1}))
        self.addCleanup(secret.unlink)
        (self.root / hintlog.LOG_NAME).symlink_to(secret)
        self.assertFalse(self.read().found)

    def test_a_huge_log_is_refused_without_reading_it_all(self):
        (self.root / hintlog.LOG_NAME).write_bytes(b" " * (hintlog.MAX_LOG_BYTES + 10))
        self.assertIn("larger than", self.read().problem)

    def test_the_grader_finds_the_log_at_the_root_of_a_repository_submission(self):
        from labtool.course import load_milestones
        from labtool.grade.submission import locate
        ms = load_milestones()
        (self.root / "starter" / ms[0].slug).mkdir(parents=True)
        (self.root / "starter" / ms[0].slug / ms[0].files[0]).write_text("// mine\n")
        (self.root / hintlog.LOG_NAME).write_bytes(_log(hints={ms[0].slug: 2}))
        sub = locate(self.root, self.root, ms, {})
        self.assertEqual(sub.repo, self.root)
        usage = hintlog.read_log(sub.repo, ms, lambda p, n: read_inside(sub.root, p, n))
        self.assertEqual(usage.rows, [(ms[0].slug, 2, len(ms[0].hints))])

    def test_no_repository_no_log(self):
        self.assertFalse(hintlog.read_log(None, _course(), read_inside).found)


class HintWritesTheLog(unittest.TestCase):
    def test_each_call_updates_the_log_beside_dot_lab(self):
        ms = _course()
        home = Path(tempfile.mkdtemp())
        with mock.patch.object(state, "STATE_DIR", home / ".lab"), \
                mock.patch.object(hints, "load_milestones", lambda: ms), \
                contextlib.redirect_stdout(io.StringIO()):
            for stretch in (None, None, ""):
                hints.run_hint(mock.Mock(milestone="1", stretch=stretch, again=False))
        log = json.loads((home / hintlog.LOG_NAME).read_text())
        self.assertEqual(log, {"format": 1, "hints": {"01-some-thing": 2},
                               "stretch_hints": {"01-some-thing/extra.hpp": 1}})
        self.assertEqual(hintlog.parse_log((home / hintlog.LOG_NAME).read_bytes(), ms).rows,
                         [("01-some-thing", 2, 4), ("01-some-thing/extra.hpp", 1, 4)])

    def test_the_student_release_does_not_ignore_the_log(self):
        gitignore = release.release_overrides()[".gitignore"].decode()
        self.assertNotIn(hintlog.LOG_NAME, gitignore)
        self.assertIn("/.lab/", gitignore)


if __name__ == "__main__":
    unittest.main()
