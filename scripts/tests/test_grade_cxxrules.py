"""Unit tests for labtool.grade.cxxrules: rules on clang's preprocessed token stream.

Each case is a student header that fooled a rule on the raw text; the test preprocesses a
checkpoint-like translation unit with clang++ -E -dD (skipped without clang++) and expects a
finding, and expects none for the course's solutions' style of code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labtool.grade import cxxrules  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CLEAN = """#pragma once
#include <atomic>
#include <cstdint>
namespace metrics {
class C {
 public:
  [[nodiscard]] std::uint64_t get() const noexcept { return v_.load(); }
  [[gnu::noinline]] void add(std::uint64_t n) noexcept { v_.fetch_add(n); }
 private:
  alignas(64) std::atomic<std::uint64_t> v_{0};
};
inline constexpr int kTen = 1'0;
inline constexpr char kTick[] = "'/*";
}  // namespace metrics
"""
LOCKS = [{"regex": r"\bstd::(mutex|lock_guard)\b", "why": "lock-free"}]


@unittest.skipUnless(shutil.which("clang++"), "needs clang++")
class CxxRulesTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-cxxrules-test-"))
        self.overlay = self.tmp / "track"
        (self.overlay / "01-x").mkdir(parents=True)
        (self.overlay / "06-y").mkdir(parents=True)
        self.header = self.overlay / "01-x" / "c.hpp"
        self.md = self.overlay / "06-y" / "ORDERING.md"
        self.md.write_text("# notes\n")
        self.tu = self.tmp / "test.cpp"
        self.tu.write_text("#include <c.hpp>\n#include <doctest/doctest.h>\nint f();\n")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def findings(self, text: str, forbidden=None) -> list[str]:
        self.header.write_text(text)
        argv = cxxrules.preprocess_argv(
            ["ccache", "/usr/bin/clang++", f"-I{self.overlay / '01-x'}", f"-I{self.overlay / '06-y'}",
             f"-I{ROOT / 'checkpoints' / 'common'}", "-std=c++20", "-o", "x.o", "-c", str(self.tu)])
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.tmp)
        own = {str(self.header), str(self.md)}
        scan = cxxrules.scan(proc.stdout, self.overlay, own,
                             {str(ROOT / "checkpoints" / "common" / "lab_todo.hpp")}, forbidden)
        found = [f.text("c.hpp") for f in scan.findings]
        found += [f.text("c.hpp") for f in cxxrules.raw_findings(str(self.header),
                                                                   text.encode())]
        return found

    def assertFinds(self, text: str, needle: str, forbidden=None) -> None:
        found = self.findings(text, forbidden)
        self.assertTrue(any(needle in f for f in found), f"no '{needle}' in {found}")

    def test_clean_code_has_no_findings(self) -> None:
        self.assertEqual(self.findings(CLEAN, LOCKS), [])

    def test_digit_separator_does_not_hide_a_redefinition(self) -> None:
        self.assertFinds("#pragma once\ninline constexpr int k = 1'0; const char* s = \"'/*\";\n"
                         "#include <doctest/doctest.h>\n#undef CHECK\n"
                         "#define CHECK(...) DOCTEST_CHECK(true)\n// */\n", "#undef")

    def test_line_splices_and_spaces(self) -> None:
        text = "#pragma once\n#include <mutex>\nstd :: mu\\\ntex m;\n#\\\ndefine X(a) a\n"
        self.assertFinds(text, "std::mutex", LOCKS)
        self.assertFinds(text, "#define X")
        self.assertFinds("#pragma once\n# /* c */ define Y 1+1\n", "#define Y")

    def test_constructor_attributes_in_every_spelling(self) -> None:
        for spelling in ("[[using gnu: constructor]]", "__attribute__((__constructor__))",
                         "[[gnu::constructor(101)]]", "__attribute__((section(\".init_array\")))",
                         "[[gnu::nodiscard, gnu::destructor]]"):
            self.assertFinds(f"#pragma once\n{spelling} inline void h() {{}}\n", "attribute")

    def test_indirect_exit_and_split_proc_string(self) -> None:
        self.assertFinds("#pragma once\n#include <cstdlib>\ninline void (*f)(int){exit};\n",
                         "'exit'")
        self.assertFinds("#pragma once\ninline const char* p = \"/pro\" \"c/self/cmd\" \"line\";\n",
                         "process's own files")

    def test_includes_must_be_own_headers_or_system(self) -> None:
        self.assertFinds("#pragma once\n#include \"ORDERING.md\"\n", "not a header")
        sol = ROOT / "solutions" / "01-seq-cst-counter" / "atomic_counter.hpp"
        if sol.exists():
            self.assertFinds(f"#pragma once\n\f#include \"{sol}\"\n", "outside your submission")
        self.assertFinds("#pragma once\n#include \"lab_test.hpp\"\n", "outside your submission")
        self.assertEqual(self.findings("#pragma once\n#include \"lab_todo.hpp\"\n"
                                       "inline int f() { LAB_TODO(\"f()\"); }\n"), [])
        self.assertFinds("#pragma once\n#include \"lab_todo.hpp\"\nnamespace lab { int x; }\n",
                         "lab::")

    def test_pragmas_line_markers_and_extern_c(self) -> None:
        self.assertFinds("#pragma once\n_Pragma(\"clang diagnostic ignored \\\"-Wall\\\"\")\n",
                         "#pragma")
        self.assertFinds("#pragma once\n#line 1 \"checkpoints/01-x/test.cpp\"\nint q;\n", "#line")
        self.assertFinds("#pragma once\n# 7 \"/usr/include/stdio.h\" 1 3\nint q;\n", "#line")
        self.assertFinds("#pragma once\nextern \"C\" int puts(const char*);\n", "extern")

    def test_raw_string_cannot_fake_a_line_marker(self) -> None:
        text = ('#pragma once\ninline const char* r = R"x(\n# 1 "/usr/include/stdio.h" 1 3\n)x";\n'
                "inline void g() { ::abort(); }\n")
        self.assertFinds(text, "'abort'")

    def test_startup_findings_only_in_student_files(self) -> None:
        out = (f"{self.header}:3:19: warning: declaration requires a global constructor "
               "[-Wglobal-constructors]\n/course/checkpoints/t.cpp:9:1: warning: declaration "
               "requires a global destructor [-Wglobal-constructors]\n")
        found = cxxrules.startup_findings(out, {str(self.header): "starter/01-x/c.hpp"})
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0].startswith("starter/01-x/c.hpp:3:"))
        self.assertIn("before main", found[0])

    def test_units_and_argv(self) -> None:
        cc = [{"directory": "/b", "file": "/s/t.cpp",
               "command": "/usr/bin/ccache /usr/bin/clang++ -I/x -o checkpoints/01/CMakeFiles/"
                          "m1_checkpoints.dir/t.cpp.o -c /s/t.cpp"},
              {"directory": "/b", "file": "/s/u.cpp",
               "command": "clang++ -o lessons/CMakeFiles/l.dir/u.cpp.o -c /s/u.cpp"}]
        got = cxxrules.units(cc, "m1")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].argv, ["/usr/bin/clang++", "-I/x", "/s/t.cpp", "-E", "-dD",
                                       "-Wno-everything"])


if __name__ == "__main__":
    unittest.main()
