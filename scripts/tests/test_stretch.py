"""Stretch exercises: the manifest fields, `scripts/lab hint N --stretch`, and their rows in
`scripts/lab list`."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from labtool import hints, state, student
from labtool.console import LabError
from labtool.course import ROOT, load_milestones


def _manifest(**extra) -> dict:
    data = {"title": "T", "files": ["main.hpp", "extra.hpp"], "hints": ["m1", "m2", "m3", "m4"],
            "tests": [{"name": "x", "points": 2},
                      {"name": "y", "points": 3, "stretch": True}]}
    data.update(extra)
    return data


def _milestones(*manifests: dict):
    root = Path(tempfile.mkdtemp())
    for n, manifest in enumerate(manifests, 1):
        folder = root / f"0{n}-some-thing"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return load_milestones(root)


class Manifest(unittest.TestCase):
    def test_stretch_fields_name_the_exercise(self):
        (m,) = _milestones(_manifest(stretch_hints={"extra.hpp": ["s1", "s2", "s3", "s4"]},
                                     stretch_lessons={"extra.hpp": "extra.md"}))
        self.assertEqual(m.stretch_files, ["extra.hpp"])
        self.assertEqual(m.stretch_lesson("extra.hpp"), "lessons/01-some-thing/extra.md")
        self.assertEqual(m.stretch_hints["extra.hpp"][0], "s1")

    def test_a_stretch_field_about_an_unknown_file_is_a_clear_error(self):
        with self.assertRaisesRegex(LabError, r'"stretch_lessons" maps files of the '
                                              r'milestone\'s "files"'):
            _milestones(_manifest(stretch_lessons={"nope.hpp": "x.md"}))
        with self.assertRaisesRegex(LabError, r'"stretch_hints" maps .* to lists of hints'):
            _milestones(_manifest(stretch_hints=["s1"]))

    def test_the_course_stretch_exercises_have_a_lesson_and_four_rungs(self):
        found = {}
        for m in load_milestones():
            for name in m.stretch_files:
                found[f"{m.slug}/{name}"] = m.stretch_lesson(name)
                self.assertTrue((ROOT / m.stretch_lesson(name)).is_file(), name)
                self.assertEqual(len(m.stretch_hints.get(name, [])), 4, name)
                self.assertGreater(m.stretch_points, 0, name)
        self.assertEqual(found, {
            "04-cas-min-max/rate_limiter.hpp": "lessons/04-cas-min-max/rate-limiter.md",
            "06-ordering-benchmarks/replicated_counter.hpp":
                "lessons/06-ordering-benchmarks/replicated-counter.md",
            "06-ordering-benchmarks/interval_recorder.hpp":
                "lessons/06-ordering-benchmarks/interval-recorder.md",
            "06-ordering-benchmarks/my_model.hpp":
                "lessons/06-ordering-benchmarks/write-a-model.md"})


    def test_the_own_model_exercise_names_one_type_everywhere(self):
        # "A model of your own" is ReportModel<Report>, a two-part report; the one-shot mailbox
        # it replaced was lesson 2's publish_model.cpp statement for statement.
        m6 = next(m for m in load_milestones() if m.number == 6)
        self.assertIn("model: your report model holds on the correct report and catches every "
                      "broken one", [t.name for t in m6.tests])
        files = ["starter/06-ordering-benchmarks/my_model.hpp",
                 "solutions/06-ordering-benchmarks/my_model.hpp",
                 "checkpoints/06-ordering-benchmarks/model_my_model.cpp",
                 "lessons/06-ordering-benchmarks/write-a-model.md"]
        for rel in files + ["README.md", "lessons/06-ordering-benchmarks/README.md",
                            "docs/model-checks.md", "checkpoints/06-ordering-benchmarks/"
                            "manifest.json", "checkpoints/06-ordering-benchmarks/mutants.json"]:
            text = (ROOT / rel).read_text()
            self.assertNotRegex(text, r"MailboxModel|mailbox model|your mailbox", rel)
            if rel in files:
                self.assertIn("ReportModel", text, rel)


class Scoring(unittest.TestCase):
    def test_a_stretch_test_that_did_not_run_leaves_the_milestone_done(self):
        from labtool.course import Milestone, Test
        from labtool.results import Status, TestResult, milestone_status, score
        tests = [Test("main", 1), Test("stretch", 2, stretch=True)]
        m = Milestone(4, "04-x", "X", [], [], tests)
        for status in (Status.INCONCLUSIVE, Status.SKIPPED, Status.FAILED):
            results = [TestResult(m, tests[0], Status.PASSED), TestResult(m, tests[1], status)]
            s = score(results)
            self.assertEqual(milestone_status(s, results), "done", status)
            self.assertEqual((s.earned, s.possible, s.skipped, s.inconclusive), (1, 1, 0, 0))
            self.assertEqual(s.stretch_possible, 0 if status is Status.SKIPPED else 2)
            self.assertTrue(s.complete)


class Selftest(unittest.TestCase):
    def test_static_step_wants_exactly_four_stretch_rungs(self):
        import dataclasses
        from labtool.instructor.static import manifest_problems
        m = next(m for m in load_milestones() if m.stretch_files)
        name = m.stretch_files[0]
        self.assertEqual([p for p in manifest_problems(m) if "stretch" in p], [])
        for rungs in (["a", "b", "c"], ["a", "b", "c", "d", "e"]):
            short = dataclasses.replace(m, stretch_hints={name: rungs})
            self.assertIn(f"{m.slug}: stretch exercise {name} has {len(rungs)} stretch hints, "
                          "not 4", manifest_problems(short))


    def test_the_leak_check_reads_stretch_ladders_like_the_main_one(self):
        from labtool.instructor import leaks
        from tests.test_leaks import HINTS, Course
        code = "errors_.fetch_add(1, std::memory_order_release)"
        for ladder, leaked in (([HINTS[0], code, HINTS[2], HINTS[3]], ["2 of 4"]),
                               ([HINTS[0], HINTS[1], HINTS[2], code], ["4 of 4"]),  # last too
                               (HINTS, [])):
            course = Course()
            try:
                (course.root / "checkpoints" / "01-counter" / "manifest.json").write_text(
                    json.dumps({"hints": HINTS, "stretch_hints": {"counter.hpp": ladder}}))
                found = leaks.find_leaks(course.root)
            finally:
                course.close()
            self.assertEqual([leak.where.rsplit(": ", 1)[1] for leak in found],
                             [f"counter.hpp stretch hint {n}" for n in leaked])


class Hint(unittest.TestCase):
    def setUp(self):
        self.ms = _milestones(_manifest(stretch_hints={"extra.hpp": ["s1", "s2", "s3", "s4"]},
                                        stretch_lessons={"extra.hpp": "extra.md"}),
                              _manifest())
        patches = [mock.patch.object(state, "STATE_DIR", Path(tempfile.mkdtemp()) / ".lab"),
                   mock.patch.object(hints, "load_milestones", lambda: self.ms)]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)

    def hint(self, milestone: str, stretch=None, again=False) -> str:
        args = mock.Mock(milestone=milestone, stretch=stretch, again=again)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            hints.run_hint(args)
        return out.getvalue()

    def test_the_stretch_ladder_climbs_one_rung_per_call_apart_from_the_main_one(self):
        text = self.hint("1", stretch="")
        self.assertIn("stretch exercise extra.hpp (lessons/01-some-thing/extra.md)", text)
        self.assertIn("Hint 1/4\ns1", text)
        self.assertNotIn("s2", text)
        self.assertIn("scripts/lab hint 1 --stretch' again", text)
        text = self.hint("1", stretch="extra.hpp")
        self.assertIn("Hint 2/4\ns2", text)
        self.assertIn("Hint 1/4\nm1", self.hint("1"))          # the main ladder is its own
        self.assertIn("Hint 2/4\ns2", self.hint("1", stretch="", again=True))
        for _ in range(4):
            text = self.hint("1", stretch="extra")
        self.assertIn("Hint 4/4\ns4", text)
        self.assertIn("That was the last hint", text)
        saved = state.load_state()
        self.assertEqual(saved["stretch_hints"], {"01-some-thing/extra.hpp": 4})
        self.assertEqual(saved["hints"], {"01-some-thing": 1})

    def test_no_stretch_exercise_is_a_clear_error(self):
        with self.assertRaisesRegex(LabError, "milestone 2 has no stretch exercise; "
                                              "milestones with one: 1"):
            self.hint("2", stretch="")
        with self.assertRaisesRegex(LabError, "no stretch exercise 'main.hpp'; choose one of: "
                                              "extra.hpp"):
            self.hint("1", stretch="main.hpp")


class List(unittest.TestCase):
    def test_each_stretch_exercise_is_its_own_row(self):
        (m,) = _milestones(_manifest(stretch_lessons={"extra.hpp": "extra.md"}))
        rows = student.list_rows([m])
        self.assertEqual(rows, [
            ["01", "T", "starter/01-some-thing/main.hpp", "lessons/01-some-thing/README.md", "2"],
            ["01", "stretch: extra.hpp", "starter/01-some-thing/extra.hpp",
             "lessons/01-some-thing/extra.md", "+3 stretch points"]])

    def test_the_course_list_shows_every_stretch_lesson(self):
        rows = student.list_rows(load_milestones())
        stretch = [(r[0], r[2], r[3]) for r in rows if r[1].startswith("stretch")]
        self.assertEqual(stretch, [
            ("04", "starter/04-cas-min-max/rate_limiter.hpp",
             "lessons/04-cas-min-max/rate-limiter.md"),
            ("06", "starter/06-ordering-benchmarks/replicated_counter.hpp",
             "lessons/06-ordering-benchmarks/replicated-counter.md"),
            ("06", "starter/06-ordering-benchmarks/interval_recorder.hpp",
             "lessons/06-ordering-benchmarks/interval-recorder.md"),
            ("06", "starter/06-ordering-benchmarks/my_model.hpp",
             "lessons/06-ordering-benchmarks/write-a-model.md")])
        self.assertFalse(any("rate_limiter" in r[2] for r in rows if not r[1].startswith("str")))

    def test_points_shared_by_several_stretch_exercises_say_so(self):
        (m,) = _milestones(_manifest(stretch_lessons={"main.hpp": "a.md", "extra.hpp": "b.md"}))
        points = [r[4] for r in student.list_rows([m]) if r[1].startswith("stretch")]
        self.assertEqual(points, ["+3 stretch points (its 2 stretch exercises)"] * 2)


if __name__ == "__main__":
    unittest.main()
