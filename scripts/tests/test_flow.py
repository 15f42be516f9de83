"""The one flow: what is built, what is blocked, what a rule decided, what runs."""

import unittest

from labtool.build import BuildResult
from labtool.course import Milestone, Test, dependencies
from labtool.flow import Decided, run_flow
from labtool.results import Status


def _m(n: int, deps: list[int]) -> Milestone:
    return Milestone(number=n, slug=f"{n:02d}-x", title="", files=[], depends=deps,
                     tests=[Test(f"t{n}", 1)])


class FakeTree:
    """Builds every milestone OK except those in `broken`; remembers what it was asked."""

    def __init__(self, broken: set[int]):
        self.broken, self.built = broken, []

    def build_milestones(self, milestones, all_ms, jobs=None, progress=None,
                         compile_only=frozenset()):
        del jobs, progress
        self.compile_only = set(compile_only)
        results = {}
        for m in milestones:
            self.built.append(m.number)
            bad = [d for d in dependencies(m, all_ms) if d in results and not results[d].ok]
            results[m.number] = BuildResult(False, "blocked", blocked_by=bad) if bad else \
                BuildResult(m.number not in self.broken, "error: x")
        return results


class PassAll:
    def __init__(self):
        self.ran = []

    def run(self, tree, results):
        del tree
        for r in results:
            self.ran.append(r.name)
            r.status = Status.PASSED


class Flow(unittest.TestCase):
    def setUp(self):
        # 3 includes 2, which includes 1; 4 stands alone.
        self.ms = [_m(1, []), _m(2, [1]), _m(3, [2]), _m(4, [])]

    def test_a_broken_dependency_blocks_transitively(self):
        runner = PassAll()
        out = run_flow(FakeTree({1}), self.ms, self.ms, runner)
        status = {n: rs[0].status for n, rs in out.results.items()}
        self.assertEqual(status, {1: Status.NOT_BUILT, 2: Status.BLOCKED, 3: Status.BLOCKED,
                                  4: Status.PASSED})
        self.assertEqual(runner.ran, ["m4/t4"])

    def test_selected_milestones_build_their_dependencies(self):
        tree = FakeTree(set())
        out = run_flow(tree, [self.ms[2]], self.ms, PassAll())
        self.assertEqual(tree.built, [1, 2, 3])
        self.assertEqual(list(out.results), [3])
        # The dependencies need only compile, not build their own checkpoints.
        self.assertEqual(tree.compile_only, {1, 2})

    def test_a_decided_milestone_is_not_built_or_run(self):
        tree, runner = FakeTree(set()), PassAll()
        out = run_flow(tree, self.ms, self.ms, runner,
                       {4: Decided(Status.RULE, "scored 0: rule", build=False)})
        self.assertNotIn(4, tree.built)
        self.assertEqual(out.results[4][0].status, Status.RULE)
        self.assertNotIn("m4/t4", runner.ran)


if __name__ == "__main__":
    unittest.main()
