"""packages.py: one table of names per distribution."""

import re
import unittest

from labtool import packages
from labtool.course import ROOT


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



def _apt_install_words(text: str) -> list[str]:
    """The package names of the first `apt-get install` command in a text (continuation lines
    joined, options dropped)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    m = re.search(r"apt-get install([^\n]*)", joined)
    assert m, "no apt-get install line"
    return [w for w in m.group(1).split() if not w.startswith("-")]


class StudentListsTest(unittest.TestCase):
    """Every place that tells a student (or the student's grading workflow) what to install
    names exactly the lab tool's list: a package missing there costs points (without relacy-dev
    every model checkpoint fails)."""

    def test_the_model_checker_is_a_student_package(self):
        self.assertIn("relacy-dev", packages.STUDENT_PACKAGES)

    def test_student_setup_commands_name_the_student_list(self):
        want = sorted(packages.STUDENT_PACKAGES)
        for rel in ("docs/student-guide.md", "scripts/templates/student-README.md"):
            with self.subTest(rel):
                self.assertEqual(sorted(_apt_install_words((ROOT / rel).read_text())), want)

    def test_grading_workflow_installs_the_student_list_and_the_sandbox(self):
        text = (ROOT / "scripts/templates/github-workflow-grade.yml").read_text()
        want = sorted(packages.package_names(list(packages.STUDENT_PACKAGES), "ubuntu 24.04")
                      + ["bubblewrap"])
        self.assertEqual(sorted(_apt_install_words(text.split("apt-get update", 1)[1])), want)


if __name__ == "__main__":
    unittest.main()
