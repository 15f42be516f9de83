"""Unit tests of scripts/labtool/instructor/lesson_commands.py (stdlib unittest).

    python3 -m unittest discover -s scripts/tests -t scripts -p 'test_lesson_commands.py'
"""

import tempfile
import unittest
from pathlib import Path

from labtool.instructor import lesson_commands as lc
from labtool.instructor.lesson_programs import unbuilt_programs


PAGE = """# A lesson

```sh
echo plain
```

<!-- instructor -->
```sh
cmake --preset solutions
```

<!-- lab-run: exit=0,66 timeout=5 needs=promtool,curl -->

```bash
./broken_example
```

<!-- lab-run: needs-solution smoke="--reps=5=>--reps=1" -->
```sh
bench --reps=5
```

```text
$ not a command
```

```cpp
int main() {}
```
"""


class ExtractTest(unittest.TestCase):
    def test_markers(self):
        blocks = lc.extract("lessons/01-x/README.md", PAGE)
        self.assertEqual([b.line for b in blocks], [3, 8, 14, 19])
        plain, instructor, broken, bench = blocks
        self.assertEqual(plain.script, "echo plain\n")
        self.assertFalse(plain.instructor)
        self.assertEqual(plain.exits, (0,))
        self.assertTrue(instructor.instructor)
        self.assertEqual(broken.exits, (0, 66))
        self.assertEqual(broken.timeout, 5.0)
        self.assertEqual(broken.needs, ("promtool", "curl"))
        self.assertTrue(bench.needs_solution)
        self.assertEqual(bench.smoke, [("--reps=5", "--reps=1")])

    def test_unknown_option_is_an_error(self):
        with self.assertRaises(lc.MarkerError):
            lc.extract("x.md", "<!-- lab-run: exits=1 -->\n```sh\ntrue\n```\n")


class RunTest(unittest.TestCase):
    def run_script(self, script, **kw):
        block = lc.Block("x.md", 1, script, **kw)
        with tempfile.TemporaryDirectory() as tmp:
            return lc.run_block(block, Path(tmp), smoke=True)

    def test_statuses(self):
        self.assertEqual(self.run_script("true\n")[0], "ok")
        self.assertEqual(self.run_script("false\ntrue\n")[0], "FAIL")     # -e
        self.assertEqual(self.run_script("false | true\n")[0], "FAIL")    # pipefail
        self.assertEqual(self.run_script("exit 66\n", exits=(0, 66))[0], "ok")
        self.assertEqual(self.run_script("sleep 5\n", timeout=0.5)[0], "FAIL")
        self.assertEqual(self.run_script("true\n", needs=("no-such-program-x",))[0], "skipped")
        self.assertEqual(self.run_script("true\n", skip="why")[0], "skipped")
        self.assertEqual(self.run_script("test $N = 1\n", smoke=[("$N = 1", "1 = 1")])[0], "ok")
        self.assertEqual(self.run_script("true\n", smoke=[("absent", "x")])[0], "FAIL")

    def test_background_jobs_are_killed(self):
        status, _ = self.run_script("sleep 30 &\ntrue\n", timeout=10)
        self.assertEqual(status, "ok")


class OverlayTest(unittest.TestCase):
    def test_copies_are_newer_than_the_starter(self):
        # A build made of starter/ before the overlay must see the solutions as changed.
        import os
        with tempfile.TemporaryDirectory() as tmp:
            root, export = Path(tmp) / "root", Path(tmp) / "export"
            (root / "solutions").mkdir(parents=True)
            (root / "solutions" / "a.hpp").write_text("solution\n")
            os.utime(root / "solutions" / "a.hpp", (1_000_000, 1_000_000))
            (export / "starter").mkdir(parents=True)
            (export / "starter" / "a.hpp").write_text("starter\n")
            built = (export / "starter" / "a.hpp").stat().st_mtime
            lc.overlay_solutions(export, root)
            copied = export / "starter" / "a.hpp"
            self.assertEqual(copied.read_text(), "solution\n")
            self.assertGreaterEqual(copied.stat().st_mtime, built)


class RepositoryTest(unittest.TestCase):
    def test_no_unmarked_instructor_command(self):
        for page in lc.lesson_pages(lc.ROOT):
            rel = page.relative_to(lc.ROOT).as_posix()
            self.assertEqual(lc.unmarked_instructor_lines(rel, page.read_text()), [])

    def test_unmarked_instructor_lines(self):
        text = ("```text\n$ build/solutions/x\n```\n\n<!-- instructor -->\n```sh\n"
                "cmake --preset solutions\n```\n```sh\ncmake --preset student\n```\n")
        found = lc.unmarked_instructor_lines("p.md", text)
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0].startswith("p.md:2: $ build/solutions/x"))

    def test_every_lesson_marker_parses(self):
        blocks = lc.all_blocks()
        self.assertTrue(blocks)
        for b in blocks:
            self.assertNotIn("build/solutions", "" if b.instructor else b.script, b.where)
            self.assertNotIn("LAB_TRACK_DIR", "" if b.instructor else b.script, b.where)


if __name__ == "__main__":
    unittest.main()


class FollowedLiterally(unittest.TestCase):
    """What a student who follows the lessons literally, in order, meets."""

    def test_every_lesson_program_is_built_before_it_is_run(self):
        self.assertEqual(unbuilt_programs(), [])

    def test_a_program_run_before_its_build_is_found(self):
        root = Path(tempfile.mkdtemp())
        page = root / "lessons" / "01-x" / "README.md"
        page.parent.mkdir(parents=True)
        page.write_text("```text\n$ build/student/lessons/lesson_01_a\n```\n"
                        "```sh\ncmake --build --preset student --target lesson_01_b\n"
                        "build/student/lessons/lesson_01_b\n```\n"
                        "```\n$ cmake --build build/student --target lesson_01_c\n"
                        "$ ./build/student/lessons/lesson_01_c\n$ build/bench/lessons/"
                        "lesson_01_c\n```\n")
        found = unbuilt_programs(root)
        self.assertEqual([f.split(" is run")[0] for f in found], [
            "lessons/01-x/README.md:2: build/student/lessons/lesson_01_a",
            "lessons/01-x/README.md:11: build/bench/lessons/lesson_01_c"])


_NUMBERS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine "
                                       "ten eleven twelve".split())}


class CountsInProse(unittest.TestCase):
    """Counts a lesson states ("Five files in `starter/06-...`", "the four concurrency
    checkpoints") agree with the manifests."""

    def test_counts_agree_with_the_manifests(self):
        import re
        from labtool.course import ROOT, load_milestones
        by_slug = {m.slug: m for m in load_milestones()}
        wrong = []
        for page in sorted((ROOT / "lessons").glob("[0-9][0-9]-*/README.md")):
            m = by_slug[page.parent.name]
            text = " ".join(page.read_text().split())
            for said, slug in re.findall(r"\b(\w+) files in `starter/([\w-]+)/`", text):
                main = [f for f in by_slug[slug].files if f not in by_slug[slug].stretch_files]
                if _NUMBERS.get(said.lower(), -1) != len(main):
                    wrong.append(f"{page.parent.name}: '{said} files' but {len(main)} main files")
            concurrency = sum(t.concurrency and not t.stretch for t in m.tests)
            for said in re.findall(r"\bthe (\w+) concurrency checkpoints", text, re.I):
                if _NUMBERS.get(said.lower(), -1) != concurrency:
                    wrong.append(f"{page.parent.name}: 'the {said} concurrency checkpoints' "
                                 f"but the manifest marks {concurrency}")
        self.assertEqual(wrong, [])
