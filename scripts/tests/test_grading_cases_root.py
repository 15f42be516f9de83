"""grading_cases.let_the_sandbox_read: the self-test's grading cases need a course tree the
sandbox user can read, also when the checkout was made in a private folder (mktemp -d)."""

import os
import stat
import tempfile
import unittest
from pathlib import Path

from labtool.instructor.grading_cases import let_the_sandbox_read


class LetTheSandboxReadTest(unittest.TestCase):
    def mode(self, path: Path) -> int:
        return stat.S_IMODE(os.stat(path).st_mode)

    def test_a_private_checkout_is_opened_to_others(self):
        with tempfile.TemporaryDirectory() as d:  # mkdtemp: mode 0700, as mktemp -d
            root = Path(d)
            self.assertEqual(self.mode(root), 0o700)
            let_the_sandbox_read(root)
            self.assertEqual(self.mode(root), 0o705)

    def test_an_open_checkout_is_left_as_it_is(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            os.chmod(root, 0o755)
            let_the_sandbox_read(root)
            self.assertEqual(self.mode(root), 0o755)


if __name__ == "__main__":
    unittest.main()
