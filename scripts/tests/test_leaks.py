"""Unit tests of scripts/labtool/instructor/leaks.py (stdlib unittest).

    python3 -m unittest discover -s scripts/tests -t scripts -p 'test_leaks.py'

Each test builds a tiny course (solutions/, starter/, checkpoints/) in a temporary folder,
plants one kind of leak and checks that find_leaks() reports exactly it; the real course must
have none.
"""

import json
import tempfile
import unittest
from pathlib import Path

from labtool.instructor import leaks

REPO = Path(__file__).resolve().parents[2]

SOLUTION = """\
// counter.hpp: the reference.
#pragma once
#include <atomic>
#include <cstdint>
namespace metrics {
class Counter {
 public:
  void record_error() noexcept {
    // order: release: publishes the request recorded before it.
    errors_.fetch_add(1, std::memory_order_release);
  }
  std::uint64_t get() const noexcept { return errors_.load(std::memory_order_acquire); }
  std::uint64_t given() const noexcept { return errors_.load(std::memory_order_relaxed) + 1; }
 private:
  std::atomic<std::uint64_t> errors_{0};
};
}  // namespace metrics
"""

STARTER = """\
// counter.hpp: the starter.
#pragma once
#include <atomic>
#include <cstdint>
#include "lab_todo.hpp"
namespace metrics {
class Counter {
 public:
  void record_error() {
    // TODO: count one error so that a reader that sees it also sees the request before it.
    // Question: what must this increment make visible?
    LAB_TODO("record_error(): count one error; what must it publish?");
  }
  std::uint64_t get() const {
    // TODO: read the count. Which order pairs with record_error()?
    LAB_TODO("get(): read the count");
  }
  // Given code, identical in both trees: quoting it is not a leak.
  // e.g. errors_.load(std::memory_order_relaxed) + 1
  std::uint64_t given() const noexcept { return errors_.load(std::memory_order_relaxed) + 1; }
 private:
  std::atomic<std::uint64_t> errors_{0};
};
}  // namespace metrics
"""

HINTS = [
    "Concept: publishing with happens-before. Lesson 2.",
    "Property: a reader that counts an error sees its request; a read-modify-write.",
    "Order: release on the increment, acquire on the read, because they pair.",
    "Another problem: a generation counter that publishes a config; the reader reads it first.",
]


class Course:
    """A throw-away course tree with one milestone."""

    def __init__(self, starter=STARTER, hints=HINTS, markdown=None):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        for track, text in (("solutions", SOLUTION), ("starter", starter)):
            d = self.root / track / "01-counter"
            d.mkdir(parents=True)
            (d / "counter.hpp").write_text(text)
        if markdown is not None:
            (self.root / "starter" / "01-counter" / "NOTES.md").write_text(markdown)
        cp = self.root / "checkpoints" / "01-counter"
        cp.mkdir(parents=True)
        (cp / "manifest.json").write_text(json.dumps({"number": 1, "hints": hints}))

    def leaks(self):
        return leaks.find_leaks(self.root)

    def close(self):
        self.tmp.cleanup()


class FindLeaksTest(unittest.TestCase):
    def check(self, course, expected_kinds):
        try:
            found = course.leaks()
        finally:
            course.close()
        self.assertEqual([leak.kind for leak in found], expected_kinds,
                         "\n".join(str(leak) for leak in found))
        return found

    def test_an_export_is_checked_against_the_instructor_solutions(self):
        planted = STARTER.replace('"get(): read the count"',
                                  '"get(): return errors_.load(std::memory_order_acquire)"')
        course, export = Course(), Course(starter=planted)
        try:
            import shutil
            shutil.rmtree(export.root / "solutions")  # an export has none
            found = leaks.find_leaks(course.root, export.root)
        finally:
            course.close()
            export.close()
        self.assertEqual([leak.kind for leak in found], ["LAB_TODO message"])

    def test_a_clean_course_has_no_leak(self):
        self.check(Course(), [])

    def test_a_planted_lab_todo_message_is_found_with_its_line_and_origin(self):
        planted = STARTER.replace('"record_error(): count one error; what must it publish?"',
                                  '"record_error(): errors_.fetch_add(1, std::memory_order_release)"')
        (leak,) = self.check(Course(starter=planted), ["LAB_TODO message"])
        self.assertTrue(leak.where.endswith("starter/01-counter/counter.hpp:12"), leak.where)
        self.assertIn("errors_ . fetch_add ( 1 , memory_order_release )", leak.text)
        self.assertIn("solutions/01-counter/counter.hpp:10", leak.solution)

    def test_a_planted_comment_is_found_across_lines_and_spacing(self):
        planted = STARTER.replace(
            "    // Question: what must this increment make visible?\n",
            "    // Hint: errors_.fetch_add( 1,\n    //   memory_order_release ) does it.\n")
        (leak,) = self.check(Course(starter=planted), ["comment"])
        self.assertIn("memory_order_release", leak.text)

    def test_a_planted_string_literal_is_found(self):
        planted = STARTER.replace('LAB_TODO("get(): read the count");',
                                  'static_cast<void>("errors_.load(std::memory_order_acquire)");\n'
                                  '    LAB_TODO("get(): read the count");')
        self.check(Course(starter=planted), ["string literal"])

    def test_a_planted_markdown_file_is_found(self):
        self.check(Course(markdown="| row | `errors_.load(std::memory_order_acquire)` |\n"),
                   ["markdown"])

    def test_no_hint_may_hold_code_not_even_the_last(self):
        early = HINTS[:2] + ["Order: errors_.fetch_add(1, std::memory_order_release)."] + HINTS[3:]
        (leak,) = self.check(Course(hints=early), ["hint"])
        self.assertIn("hint 3 of 4", leak.where)
        last = HINTS[:3] + ["The code: errors_.fetch_add(1, std::memory_order_release);"]
        (leak,) = self.check(Course(hints=last), ["hint"])
        self.assertIn("hint 4 of 4", leak.where)

    def _with_file(self, rel, text):
        course = Course()
        path = course.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return course

    def test_a_lesson_or_student_doc_that_states_the_solution_is_found(self):
        for rel, kind in (("lessons/01-counter/README.md", "markdown"),
                          ("lessons/01-counter/examples/demo.cpp", "lesson example"),
                          ("docs/memory-ordering.md", "markdown")):
            with self.subTest(rel=rel):
                (leak,) = self.check(
                    self._with_file(rel, "Do `errors_.fetch_add(1, std::memory_order_release)`.\n"),
                    [kind])
                self.assertTrue(leak.where.startswith(rel + ":1"), leak.where)

    def test_a_lesson_may_teach_the_same_api_on_another_example(self):
        # No private member of the exercise: a textbook fragment, not its solution.
        self.check(self._with_file("lessons/01-counter/README.md",
                                   "`files_done.fetch_add(1, std::memory_order_release)`\n"), [])

    def test_a_checkpoint_comment_or_message_that_states_the_solution_is_found(self):
        # Shipped checkpoint sources are read by students too: `scripts/lab check` prints the
        # first sentence of each `// Catches:` comment, and a failed CHECK prints its message.
        rel = "checkpoints/01-counter/test_counter.cpp"
        for text, kind in (
                ("// Catches: a get() other than errors_.load(std::memory_order_acquire).\n",
                 "comment"),
                ('CHECK_MESSAGE(ok, "use errors_.load(std::memory_order_acquire)");\n',
                 "string literal")):
            with self.subTest(kind=kind):
                (leak,) = self.check(self._with_file(rel, text), [kind])
                self.assertTrue(leak.where.startswith(rel + ":1"), leak.where)

    def test_checkpoint_code_and_instructor_only_checkpoint_files_are_not_searched(self):
        # A test calls the API (its code is not prose), and checkpoints/*/instructor/ and
        # checkpoints/*/models/ never leave the instructor's repository (export.py).
        code = "void f(Counter& c) { c.errors_.load(std::memory_order_acquire); }\n"
        self.check(self._with_file("checkpoints/01-counter/test_counter.cpp", code), [])
        for rel in ("checkpoints/01-counter/instructor/check.cpp",
                    "checkpoints/01-counter/models/model.cpp"):
            with self.subTest(rel=rel):
                self.check(self._with_file(
                    rel, "// errors_.fetch_add(1, std::memory_order_release)\n"), [])

    def test_instructor_docs_may_hold_the_answers(self):
        self.check(self._with_file("docs/instructor-orders.md",
                                   "| errors_ | `errors_.fetch_add(1, std::memory_order_release)` |\n"),
                   [])

    def test_given_code_and_generic_fragments_are_not_secrets(self):
        quiet = STARTER.replace(
            "    // Question: what must this increment make visible?\n",
            "    // Not a leak: fetch_add(1) is what every counter does, counts[i] a contract.\n")
        self.check(Course(starter=quiet), [])

    def test_the_allow_marker_silences_one_line(self):
        planted = STARTER.replace(
            "    // Question: what must this increment make visible?\n",
            "    // errors_.fetch_add(1, std::memory_order_release)  lab-leaks: allow\n")
        self.check(Course(starter=planted), [])

    def test_the_command_line_reports_the_count_and_fails(self):
        import contextlib
        import io
        planted = STARTER.replace('"get(): read the count"',
                                  '"get(): return errors_.load(std::memory_order_acquire)"')
        course = Course(starter=planted)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                status = leaks.main(["leaks", str(course.root)])
        finally:
            course.close()
        self.assertEqual(status, 1)
        self.assertIn("leaks: 1 solution fragment(s)", out.getvalue())


class WiringTest(unittest.TestCase):
    """selftest's static step and export-student both fail on a leak."""

    PLANTED = [leaks.Leak("starter/01-counter/counter.hpp:12", "LAB_TODO message",
                          "errors_ . load ( memory_order_acquire )", "solutions/...:11: ...")]

    def test_the_static_step_fails_on_a_leak(self):
        import contextlib
        import io
        from unittest import mock
        from labtool.instructor import static
        from labtool.instructor.report import StepReport
        report = StepReport()
        with mock.patch.object(static, "find_leaks", return_value=self.PLANTED), \
                mock.patch.object(static, "unit_tests", return_value=[]), \
                mock.patch.object(static, "check_tree", return_value=[]), \
                contextlib.redirect_stdout(io.StringIO()):
            static.static_checks([], report)
        self.assertEqual(report.failed_steps, 1)
        self.assertIn("LAB_TODO message contains solution code", "\n".join(report.failures))

    def test_the_export_check_fails_on_a_leak(self):
        from unittest import mock
        from labtool.instructor import export
        with tempfile.TemporaryDirectory() as empty, \
                mock.patch.object(export, "find_leaks", return_value=self.PLANTED) as check:
            problems, _ = export.leak_problems(Path(empty))
        self.assertEqual(check.call_args.args[1], Path(empty))  # the export's own starter
        self.assertEqual(problems, [str(self.PLANTED[0])])


class LinkWarningTest(unittest.TestCase):
    def test_a_missing_link_target_is_named_and_code_is_no_link(self):
        from labtool.instructor import export
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "here.md").write_text("")
            (Path(tmp) / "page.md").write_text(
                "[ok](here.md) and [gone](missing.md)\n"
                "```cpp\nconst int r1 = data[1](RL_INFO).load(rl::mo_relaxed);\n```\n")
            warnings = export.link_warnings(Path(tmp))
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("page.md:1: link to missing.md", warnings[0])


class RealCourseTest(unittest.TestCase):
    def test_the_course_has_no_leak(self):
        if not (REPO / "solutions").is_dir():
            self.skipTest("no solutions/ here (a student export)")
        found = leaks.find_leaks(REPO)
        self.assertEqual(found, [], "\n".join(str(leak) for leak in found))


if __name__ == "__main__":
    unittest.main()
