"""Unit tests of scripts/labtool/instructor/standalone.py (stdlib unittest).

    python3 -m unittest discover -s scripts/tests -t scripts -p 'test_standalone.py'
"""

import contextlib
import io
import subprocess
import tempfile
import unittest
from pathlib import Path

from labtool.instructor import standalone



def rules(line):
    return [name for name, _ in standalone.check_line(line)]


class RuleTest(unittest.TestCase):
    def test_references_are_found_case_insensitively(self):
        self.assertEqual(rules("see ../s" "hared/notes.md"), ["outside-path"])
        self.assertEqual(rules("decided in CURRI" "CULUM.md"), ["planning-doc"])
        self.assertEqual(rules("the curri" "culum says"), ["planning-doc"])
        self.assertEqual(rules("(Err" "atum 4)"), ["mistake-list"])
        self.assertEqual(rules("err" "ata 3, 7 and 9"), ["mistake-list"])
        self.assertEqual(rules("the source" " material's rule"), ["origin-material"])
        self.assertEqual(rules("as the Se" "ed did"), ["origin-name"])
        self.assertEqual(rules("the se" "ed's exporter"), ["origin-name"])
        self.assertEqual(rules("examples/se" "ed_output.prom"), ["origin-name"])
        self.assertEqual(rules("const HistogramSnapshot se" "ed = h.snapshot();"), ["origin-name"])

    def test_random_seeds_and_longer_words_pass(self):
        for line in ("std::mt19937_64 rng(se" "ed);",
                     "void random_workload(const Service& s, unsigned se" "ed);",
                     "explicit Xorshift(std::uint64_t se" "ed) : state(se" "ed) {}",
                     "it echoes a random se" "ed given to this run",
                     "doctest's report with this run's se" "ed",
                     "options.get('rand_se" "ed')",
                     "a seeded generator", "seeds", "seedling", "errand", "curricula",
                     "shared_ptr", "../s" "haredlib is fine? no", "the source code"):
            with self.subTest(line=line):
                if line.startswith("../s" "haredlib"):
                    self.assertEqual(rules(line), ["outside-path"])  # a prefix match, on purpose
                else:
                    self.assertEqual(rules(line), [])

    def test_allow_marker(self):
        self.assertEqual(rules("the se" "ed  // lab-standalone: allow"), [])

    def test_file_names_count(self):
        found = standalone.check_text("lessons/05/examples/se" "ed_output.prom", "ok\n")
        self.assertEqual([(f.line, f.rule) for f in found], [(0, "origin-name")])

    def test_a_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            subprocess.run(["git", "init", "-q", str(root)], check=True)
            (root / "a.md").write_text("fine\nsee err" "atum 2\n")
            (root / "b.bin").write_bytes(b"\0se" b"ed")
            (root / "ignored").mkdir()
            (root / ".gitignore").write_text("ignored/\n")
            (root / "ignored" / "c.md").write_text("the se" "ed\n")
            found = standalone.check_tree(root)
            self.assertEqual([(f.path, f.line, f.rule) for f in found], [("a.md", 2, "mistake-list")])
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(standalone.main([str(root)]), 1)
            self.assertIn("a.md:2: [mistake-list]", out.getvalue())
            (root / "a.md").write_text("fine\n")
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(standalone.main([str(root)]), 0)


if __name__ == "__main__":
    unittest.main()
