"""Unit tests for labtool.grade.archive: untrusted archives, folders and names.

    python3 -m unittest discover -s scripts/tests -t scripts
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labtool.grade import archive  # noqa: E402
from labtool.grade.archive import SubmissionRejected  # noqa: E402


class ArchiveTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-archive-test-"))

    def tearDown(self) -> None:
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _zip(self, entries: list[tuple[str, bytes]], name: str = "s.zip") -> Path:
        path = self.tmp / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, data in entries:
                zf.writestr(n, data)
        return path

    def test_plain_zip_unpacks(self) -> None:
        z = self._zip([("starter/01-x/a.hpp", b"int a;\n")])
        dest = archive.unpack(z, self.tmp / "out")
        self.assertEqual((dest / "starter/01-x/a.hpp").read_bytes(), b"int a;\n")

    def test_zip_bomb_stops_at_the_cap_and_leaves_nothing(self) -> None:
        z = self._zip([(f"f{i}.txt", b"\0" * (1 << 20)) for i in range(8)])
        self.assertLess(z.stat().st_size, 200_000)
        with self.assertRaisesRegex(SubmissionRejected, "zip bomb"):
            archive.unpack(z, self.tmp / "out", max_total=4 << 20)
        self.assertFalse((self.tmp / "out").exists())

    def test_too_many_entries(self) -> None:
        z = self._zip([(f"f{i}", b"") for i in range(30)])
        with self.assertRaisesRegex(SubmissionRejected, "entries"):
            archive.unpack(z, self.tmp / "out", max_entries=10)

    def test_escaping_paths_are_rejected(self) -> None:
        for bad in ("../evil.hpp", "/etc/evil", "a/../../evil"):
            z = self._zip([(bad, b"x")])
            with self.assertRaisesRegex(SubmissionRejected, "outside"):
                archive.unpack(z, self.tmp / "out")

    def test_file_and_folder_of_the_same_name_is_a_clash(self) -> None:
        z = self._zip([("starter", b"x"), ("starter/01-x/a.hpp", b"y")])
        with self.assertRaisesRegex(SubmissionRejected, "name clash"):
            archive.unpack(z, self.tmp / "out")

    def test_symlink_in_zip_rejected(self) -> None:
        path = self.tmp / "l.zip"
        with zipfile.ZipFile(path, "w") as zf:
            info = zipfile.ZipInfo("starter/01-x")
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/work/solutions/01-x")
        with self.assertRaisesRegex(SubmissionRejected, "symbolic link"):
            archive.unpack(path, self.tmp / "out")

    def test_tar_link_and_non_utf8_name(self) -> None:
        path = self.tmp / "s.tar"
        with tarfile.open(path, "w") as tf:
            info = tarfile.TarInfo("starter/x")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)
        with self.assertRaisesRegex(SubmissionRejected, "link"):
            archive.unpack(path, self.tmp / "out")
        path = self.tmp / "n.tar"
        with tarfile.open(path, "w", encoding="utf-8", errors="surrogateescape") as tf:
            info = tarfile.TarInfo("starter/bad\udcff.hpp")
            info.size = 1
            tf.addfile(info, io.BytesIO(b"x"))
        with self.assertRaisesRegex(SubmissionRejected, r"bad file name: .*\\xff.*not UTF-8"):
            archive.unpack(path, self.tmp / "out")

    def test_walk_skips_links_and_rejects_bad_names(self) -> None:
        root = self.tmp / "sub"
        (root / "starter").mkdir(parents=True)
        (root / "starter" / "a.hpp").write_text("x")
        os.symlink("/etc", root / "starter" / "01-x")
        tree = archive.walk(root)
        self.assertEqual(list(tree.files), ["starter/a.hpp"])
        self.assertTrue(any("symbolic link" in n for n in tree.notes))
        os.mkdir(os.path.join(os.fsencode(root), b"bad\xff"))
        with self.assertRaisesRegex(SubmissionRejected, "not UTF-8"):
            archive.walk(root)

    def test_read_inside_refuses_a_link_in_any_component(self) -> None:
        root = self.tmp / "sub"
        (root / "real").mkdir(parents=True)
        (root / "real" / "a.hpp").write_text("x")
        os.symlink(root / "real", root / "link")
        self.assertEqual(archive.read_inside(root, root / "real" / "a.hpp"), b"x")
        with self.assertRaises(OSError):
            archive.read_inside(root, root / "link" / "a.hpp")

    def test_markdown_escapes(self) -> None:
        name = "x`\n## Grade: 60 of 60\n`"
        code = archive.md_code(name)
        self.assertNotIn("\n", code)
        self.assertTrue(code.startswith("``") and code.endswith("``"))
        self.assertNotIn("\n", archive.md_text("a\n## b"))
        self.assertIn("\\<h2\\>", archive.md_text("<h2>"))

    def test_write_atomic(self) -> None:
        target = self.tmp / "results.json"
        archive.write_atomic(target, "{}\n")
        self.assertEqual(target.read_text(), "{}\n")
        self.assertEqual([p.name for p in self.tmp.iterdir()], ["results.json"])


if __name__ == "__main__":
    unittest.main()
