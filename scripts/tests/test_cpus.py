"""cpus.py: the CPU quota of a container caps the affinity mask."""

import tempfile
import unittest
from pathlib import Path

from labtool import cpus


def tree(files: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp())
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


class QuotaTest(unittest.TestCase):
    def test_v2_quota_of_own_cgroup(self):
        root = tree({"cgroup.controllers": "cpu", "box/cpu.max": "100000 100000\n"})
        self.assertEqual(cpus.quota_cpus("0::/box\n", root), 1)

    def test_v2_fraction_rounds_up_and_ancestor_counts(self):
        root = tree({"cgroup.controllers": "cpu", "a/cpu.max": "150000 100000",
                     "a/b/cpu.max": "max 100000"})
        self.assertEqual(cpus.quota_cpus("0::/a/b\n", root), 2)

    def test_v2_smallest_wins(self):
        root = tree({"cgroup.controllers": "cpu", "a/cpu.max": "50000 100000",
                     "a/b/cpu.max": "400000 100000"})
        self.assertEqual(cpus.quota_cpus("0::/a/b\n", root), 1)

    def test_v2_no_quota(self):
        root = tree({"cgroup.controllers": "cpu", "cpu.max": "max 100000"})
        self.assertIsNone(cpus.quota_cpus("0::/\n", root))

    def test_hybrid_machine_reads_unified(self):
        root = tree({"unified/box/cpu.max": "200000 100000"})
        self.assertEqual(cpus.quota_cpus("0::/box\n", root), 2)

    def test_v1_quota(self):
        root = tree({"cpu,cpuacct/docker/x/cpu.cfs_quota_us": "100000\n",
                     "cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000\n"})
        self.assertEqual(cpus.quota_cpus("4:cpu,cpuacct:/docker/x\n", root), 1)

    def test_v1_unlimited(self):
        root = tree({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"})
        self.assertIsNone(cpus.quota_cpus("1:cpu:/\n", root))

    def test_garbage_is_no_quota(self):
        root = tree({"cgroup.controllers": "", "cpu.max": "lots of cpus"})
        self.assertIsNone(cpus.quota_cpus("nonsense\n0::/\n", root))

    def test_usable_is_at_least_one(self):
        self.assertGreaterEqual(cpus.usable_cpus(), 1)


if __name__ == "__main__":
    unittest.main()
