"""packages.py: one table of names per distribution."""

import unittest

from labtool import packages


class DistributionTest(unittest.TestCase):
    def test_os_release(self):
        self.assertEqual(packages.distribution('ID=ubuntu\nVERSION_ID="22.04"\n'), "ubuntu 22.04")
        self.assertEqual(packages.distribution('ID=debian\nVERSION_ID="12"\n'), "debian 12")
        self.assertEqual(packages.distribution(""), "")

    def test_names_per_distribution(self):
        wanted = ["clang", "libclang-rt-dev", "doctest-dev"]
        self.assertEqual(packages.package_names(wanted, "debian 12"), wanted)
        self.assertEqual(packages.package_names(wanted, "ubuntu 22.04"),
                         ["clang", "libclang-common-14-dev", "doctest-dev"])
        self.assertEqual(packages.package_names(wanted, "some other os"), wanted)

    def test_every_distribution_renames_only_known_packages(self):
        for distro, renames in packages.DISTRIBUTIONS.items():
            for name in renames:
                self.assertIn(name, packages.INSTRUCTOR_PACKAGES, f"{distro}: {name}")


if __name__ == "__main__":
    unittest.main()
