"""A submission that does not compile is reported with the compiler's own error (file:line:
error: ...), in the one-line summary too, and a build stopped without any diagnostic says so."""

import tempfile
import unittest
from pathlib import Path

from labtool.build import compile_errors
from labtool.feedback import compile_failure
from labtool.grade.confine import GradingBox, silent_failure
from labtool.grade.sandbox import Limits, Result

BUILD = """[1/3] Building CXX object checkpoints/06-x/CMakeFiles/m6_checkpoints.dir/test_r.cpp.o
/r/checkpoints/06-x/test_r.cpp:37:30: warning: declaration requires a global destructor
   37 | const std::vector<ReplicaId> kIds = {3, 7, 11};
      |                              ^
/r/checkpoints/06-x/test_r.cpp:38:30: warning: declaration requires a global destructor
   38 | const std::vector<ReplicaId> kMore = {3, 7, 11};
      |                              ^
FAILED: checkpoints/06-x/CMakeFiles/m6_checkpoints.dir/test_r.cpp.o
/usr/bin/clang++ -Werror=vla -I/r/checkpoints/common -c /r/checkpoints/06-x/test_r.cpp
In file included from /r/checkpoints/06-x/test_r.cpp:3:
starter/01-seq-cst-counter/atomic_counter.hpp:33:26: error: expected expression
   33 |     count_.fetch_add(1) +;
      |                          ^
1 error generated.
ninja: build stopped: subcommand failed.
"""


class CompileErrors(unittest.TestCase):
    def test_warnings_never_crowd_the_error_out(self):
        self.assertEqual(compile_errors(BUILD, max_lines=4), (
            "starter/01-seq-cst-counter/atomic_counter.hpp:33:26: error: expected expression\n"
            "   33 |     count_.fetch_add(1) +;\n"
            "      |                          ^\n"
            "1 error generated."))

    def test_clang_context_without_line_numbers_is_kept_the_command_line_is_not(self):
        build = ("FAILED: a.o\n/usr/bin/ccache /usr/bin/clang++ -Werror -c t.cpp\n"
                 "In file included from /r/checkpoints/01-x/t.cpp:4:\n"
                 "/w/track/01-x/atomic_counter.hpp:33:26: error: expected expression\n"
                 "    count_.fetch_add(1) +;\n"
                 "                         ^\n"
                 "1 error generated.\nninja: build stopped: subcommand failed.\n")
        self.assertEqual(compile_errors(build).splitlines(), [
            "/w/track/01-x/atomic_counter.hpp:33:26: error: expected expression",
            "    count_.fetch_add(1) +;", "                         ^", "1 error generated."])

    def test_the_summary_line_names_the_file_and_line(self):
        text = compile_failure(compile_errors(BUILD))
        self.assertEqual(text.splitlines()[0], "does not compile: starter/01-seq-cst-counter/"
                                               "atomic_counter.hpp:33:26: error: expected "
                                               "expression")
        self.assertIn("   33 |     count_.fetch_add(1) +;", text)

    def test_a_failure_without_output_says_so(self):
        self.assertEqual(compile_failure(""), "does not compile: the build failed without "
                                              "printing a compiler error")


class _Box:
    """A sandbox that 'runs' a build which was killed before the compiler said anything."""
    mode = "none"

    def __init__(self, result: Result):
        self.result = result

    def run(self, argv, **_):
        return self.result

    def writable(self, path):
        return path

    def seal(self, path, private=False):
        pass


class SilentBuildFailure(unittest.TestCase):
    def box(self, result: Result) -> GradingBox:
        tmp = Path(tempfile.mkdtemp())
        return GradingBox(_Box(result), tmp / "track", tmp / "tsan", tmp / "ccache")

    def test_a_killed_build_gets_an_error_line_that_names_the_limits(self):
        cut = ("[0/2] Re-checking globbed directories...\n[1/3] Building CXX object "
               "checkpoints/01-x/CMakeFiles/m1_checkpoints.dir/test_a.cpp.o\n")
        gbox = self.box(Result(-9, cut, 3.0))
        proc = gbox.tree_command(["cmake", "--build", "/b", "--target", "m1_checkpoints"])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("error: the build stopped without a compiler message (killed by "
                      "SIGKILL)", proc.stdout)
        first = compile_failure(compile_errors(proc.stdout)).splitlines()[0]
        self.assertTrue(first.startswith("does not compile: error: the build stopped"), first)

    def test_a_real_compiler_error_is_left_alone(self):
        gbox = self.box(Result(1, BUILD, 3.0))
        proc = gbox.tree_command(["cmake", "--build", "/b", "--target", "m6_checkpoints"])
        self.assertEqual(proc.stdout, BUILD)

    def test_the_message_names_exit_codes_and_limits(self):
        text = silent_failure(2, Limits(wall=10, cpu=300, memory=4 << 30, fsize=512 << 20))
        self.assertIn("(exit code 2)", text)
        self.assertIn("300 s of CPU per process, 4096 MiB of address space per process, 4096 "
                      "MiB of memory in all, files up to 512 MiB", text)


if __name__ == "__main__":
    unittest.main()
