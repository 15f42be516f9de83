"""The course model: folders, manifests, rule sets, dependencies, mirroring."""

import json
import tempfile
import unittest
from pathlib import Path

from labtool.console import LabError
from labtool.course import (Milestone, closure, ctest_listing, dependencies, dependents,
                            is_code, load_milestone, load_milestones, mirror, read_tree,
                            select_milestones, with_dependencies)


def _ms(deps: dict[int, list[int]]) -> list[Milestone]:
    return [Milestone(number=n, slug=f"{n:02d}-x", title="", files=[], depends=d, tests=[])
            for n, d in sorted(deps.items())]


class Dependencies(unittest.TestCase):
    def test_closure_is_transitive(self):
        ms = _ms({1: [], 2: [1], 3: [2], 4: []})
        self.assertEqual(closure({3}, ms), {1, 2, 3})
        self.assertEqual(dependencies(ms[2], ms), [1, 2])

    def test_dependents_are_transitive(self):
        ms = _ms({1: [], 2: [1], 3: [2], 4: []})
        self.assertEqual(dependents(1, ms), [2, 3])
        self.assertEqual(dependents(4, ms), [])

    def test_with_dependencies_keeps_milestone_order(self):
        ms = _ms({1: [], 2: [1], 3: [2], 4: []})
        self.assertEqual([m.number for m in with_dependencies([ms[2]], ms)], [1, 2, 3])


class Manifests(unittest.TestCase):
    def _tree(self, manifest: dict, rules: dict | None = None) -> Path:
        root = Path(tempfile.mkdtemp())
        folder = root / "07-some-milestone"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps(manifest))
        (root / "common").mkdir()
        if rules is not None:
            (root / "common" / "rules.json").write_text(json.dumps(rules))
        return root

    def test_number_and_slug_come_from_the_folder(self):
        root = self._tree({"title": "T", "files": ["a.hpp"], "tests": [
            {"name": "x", "points": 2}, {"name": "y", "points": 3, "stretch": True,
                                         "needs_cpus": 2}]})
        (m,) = load_milestones(root)
        self.assertEqual((m.number, m.slug, m.label), (7, "07-some-milestone", "m7"))
        self.assertEqual((m.max_points, m.stretch_points), (2, 3))
        self.assertEqual(m.tests[1].needs_cpus, 2)

    def test_rule_sets_are_resolved_by_name(self):
        rules = {"locks": [{"regex": r"\bstd::mutex\b", "why": "milestone {milestone}: no locks"}]}
        root = self._tree({"title": "T", "files": [], "tests": [],
                           "forbidden": ["locks", {"regex": "x", "why": "own"}]}, rules)
        (m,) = load_milestones(root)
        self.assertEqual([r["why"] for r in m.forbidden], ["milestone 7: no locks", "own"])

    def test_unknown_rule_set_is_a_clear_error(self):
        root = self._tree({"title": "T", "files": [], "tests": [], "forbidden": ["nope"]}, {})
        with self.assertRaisesRegex(LabError, "unknown rule set 'nope'"):
            load_milestones(root)

    def test_bad_test_entry_is_a_clear_error(self):
        root = self._tree({"title": "T", "files": [], "tests": [{"name": "x"}]})
        with self.assertRaisesRegex(LabError, "needs a \"name\" and integer \"points\""):
            load_milestones(root)

    def test_a_folder_that_is_not_NN_name_is_a_clear_error(self):
        folder = Path(tempfile.mkdtemp()) / "histogram"
        folder.mkdir()
        with self.assertRaisesRegex(LabError, "named NN-name"):
            load_milestone(folder, {})

    def test_invalid_json_names_the_file(self):
        root = self._tree({})
        (root / "07-some-milestone" / "manifest.json").write_text("{")
        with self.assertRaisesRegex(LabError, "manifest.json is not valid JSON"):
            load_milestones(root)

    def test_a_missing_field_is_named(self):
        root = self._tree({"files": [], "tests": []})
        with self.assertRaisesRegex(LabError, "lacks the field 'title'"):
            load_milestones(root)

    def test_unknown_milestone_lists_the_choices(self):
        ms = load_milestones()
        self.assertEqual(select_milestones(ms, "m1")[0].number, 1)
        self.assertEqual(select_milestones(ms, "01")[0].number, 1)
        with self.assertRaisesRegex(LabError, "no milestone '99'. Choose one of: 1 "):
            select_milestones(ms, "99")

    def test_ctest_listing_of_an_unconfigured_tree_says_to_configure(self):
        with self.assertRaisesRegex(LabError, "configure the tree first"):
            ctest_listing(Path(tempfile.mkdtemp()) / "nothing")

    def test_the_course_manifests_load(self):
        self.assertGreaterEqual(len(load_milestones()), 6)


class Trees(unittest.TestCase):
    def test_code_suffixes(self):
        self.assertTrue(is_code("a.hpp") and is_code("b.cc") and is_code("c.hxx"))
        self.assertFalse(is_code("ORDERING.md"))

    def test_mirror_rewrites_only_what_differs_and_removes_the_rest(self):
        src, dst = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
        (src / "d").mkdir()
        (src / "d" / "same.hpp").write_text("same")
        (src / "new.hpp").write_text("new")
        (dst / "d").mkdir()
        (dst / "d" / "same.hpp").write_text("same")
        (dst / "stale.hpp").write_text("old")
        (dst / "gone").mkdir()
        (dst / "link.hpp").symlink_to(src / "new.hpp")
        before = (dst / "d" / "same.hpp").stat().st_mtime_ns
        mirror(read_tree(src), dst)
        self.assertEqual(read_tree(dst), {"d/same.hpp": b"same", "new.hpp": b"new"})
        self.assertEqual((dst / "d" / "same.hpp").stat().st_mtime_ns, before)
        self.assertFalse((dst / "gone").exists() or (dst / "link.hpp").is_symlink())

    def test_mirror_leaves_the_kept_entries_alone(self):
        dst = Path(tempfile.mkdtemp())
        (dst / "build" / "tree").mkdir(parents=True)
        (dst / "build" / "tree" / "a.o").write_text("object")
        (dst / "builder.txt").write_text("not kept: only the entry named build is")
        mirror({"CMakeLists.txt": b"project(x)"}, dst, keep=("build",))
        self.assertEqual((dst / "build" / "tree" / "a.o").read_text(), "object")
        self.assertEqual(sorted(p.name for p in dst.iterdir()), ["CMakeLists.txt", "build"])


if __name__ == "__main__":
    unittest.main()
