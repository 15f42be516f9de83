"""Whether ThreadSanitizer can start on this machine, decided by a probe the grader builds and
runs itself, once per grading process: never by what a checkpoint run printed (a test that
prints TSan's "unexpected memory mapping" line is just a test that printed something).

TSan of clang < 18 cannot start when the kernel randomizes mmap with more bits than its
memory layout allows (vm.mmap_rnd_bits > 28), which a container cannot change; then the
checkpoints run under `setarch -R` (no address-space randomization), if that works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from ..console import LabError

_PROBE = r"""
#include <atomic>
#include <thread>
int main() {
  std::atomic<int> n{0};
  std::thread t([&] { n.fetch_add(1); });
  n.fetch_add(1);
  t.join();
  return n.load() == 2 ? 0 : 1;
}
"""
_lock = threading.Lock()
_prefix: list[str] | None = None


def tsan_prefix() -> list[str]:
    """The command prefix under which TSan-instrumented programs start here: [] or
    ["setarch", <machine>, "-R"]; raises LabError (a grader error) when neither works."""
    global _prefix
    with _lock:
        if _prefix is None:
            _prefix = _probe()
        return list(_prefix)


def _probe() -> list[str]:
    compiler = shutil.which("clang++")
    if compiler is None:
        raise LabError("clang++ is not installed: the grader builds with clang and "
                       "ThreadSanitizer (`scripts/lab packages --install`)")
    with tempfile.TemporaryDirectory(prefix="lab-tsan-probe-") as folder:
        src, exe = Path(folder) / "probe.cpp", Path(folder) / "probe"
        src.write_text(_PROBE)
        build = subprocess.run([compiler, "-std=c++20", "-fsanitize=thread", "-O1",
                                str(src), "-o", str(exe)], capture_output=True, text=True,
                               timeout=300)
        if build.returncode != 0:
            raise LabError("the grader's ThreadSanitizer probe does not compile (is "
                           "libclang-rt-dev installed?):\n" + build.stderr[-2000:])
        tries = [[]]
        if shutil.which("setarch"):
            tries.append(["setarch", os.uname().machine, "-R"])
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        last = ""
        for prefix in tries:
            run = subprocess.run(prefix + [str(exe)], capture_output=True, text=True,
                                 timeout=60, env=env)
            if run.returncode == 0:
                return prefix
            last = (run.stdout + run.stderr)[-1000:]
    raise LabError("ThreadSanitizer cannot start on this machine (the grader's own probe "
                   "failed, also without address-space randomization): run `sudo sysctl -w "
                   f"vm.mmap_rnd_bits=28` first\n{last}")
