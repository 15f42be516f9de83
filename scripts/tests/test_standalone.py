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
        self.assertEqual(rules("see ../shared/notes.md"), ["shared-dir"])
        self.assertEqual(rules("decided in CURRICULUM.md"), ["curriculum"])
        self.assertEqual(rules("the curriculum says"), ["curriculum"])
        self.assertEqual(rules("(Erratum 4)"), ["erratum"])
        self.assertEqual(rules("errata 3, 7 and 9"), ["erratum"])
        self.assertEqual(rules("the source material's rule"), ["source"])
        self.assertEqual(rules("as the Seed did"), ["seed"])
        self.assertEqual(rules("the seed's exporter"), ["seed"])
        self.assertEqual(rules("examples/seed_output.prom"), ["seed"])
        self.assertEqual(rules("const HistogramSnapshot seed = h.snapshot();"), ["seed"])

    def test_random_seeds_and_longer_words_pass(self):
        for line in ("std::mt19937_64 rng(seed);",
                     "void random_workload(const Service& s, unsigned seed);",
                     "explicit Xorshift(std::uint64_t seed) : state(seed) {}",
                     "it echoes a random seed given to this run",
                     "doctest's report with this run's seed",
                     "options.get('rand_seed')",
                     "a seeded generator", "seeds", "seedling", "errand", "curricula",
                     "shared_ptr", "../sharedlib is fine? no", "the source code"):
            with self.subTest(line=line):
                if line.startswith("../sharedlib"):
                    self.assertEqual(rules(line), ["shared-dir"])  # a prefix match, on purpose
                else:
                    self.assertEqual(rules(line), [])

    def test_allow_marker(self):
        self.assertEqual(rules("the seed  // lab-standalone: allow"), [])

    def test_file_names_count(self):
        found = standalone.check_text("lessons/05/examples/seed_output.prom", "ok\n")
        self.assertEqual([(f.line, f.rule) for f in found], [(0, "seed")])

    def test_a_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            subprocess.run(["git", "init", "-q", str(root)], check=True)
            (root / "a.md").write_text("fine\nsee erratum 2\n")
            (root / "b.bin").write_bytes(b"\0seed")
            (root / "ignored").mkdir()
            (root / ".gitignore").write_text("ignored/\n")
            (root / "ignored" / "c.md").write_text("the seed\n")
            found = standalone.check_tree(root)
            self.assertEqual([(f.path, f.line, f.rule) for f in found], [("a.md", 2, "erratum")])
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(standalone.main([str(root)]), 1)
            self.assertIn("a.md:2: [erratum]", out.getvalue())
            (root / "a.md").write_text("fine\n")
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(standalone.main([str(root)]), 0)


if __name__ == "__main__":
    unittest.main()
