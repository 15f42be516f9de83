"""The Debian packages the course needs, listed once: the lab tool installs them (or says
how), and the CI script asks for the list with `scripts/lab packages --instructor`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .console import LabError, info

# Debian package -> one file that proves it is installed (None: ask dpkg).
STUDENT_PACKAGES: dict[str, str | None] = {
    "python3": None,
    "cmake": "/usr/bin/cmake",
    "ninja-build": "/usr/bin/ninja",
    "clang": "/usr/bin/clang++",
    "libclang-rt-dev": None,  # TSan runtime
    "doctest-dev": "/usr/include/doctest/doctest.h",
    "ccache": "/usr/bin/ccache",
    "git": "/usr/bin/git",
    "librapidcheck-dev": "/usr/include/rapidcheck.h",  # property tests of the m6 stretch
    "libseccomp-dev": "/usr/include/seccomp.h",  # the test main's filter (checkpoints/common)
}
INSTRUCTOR_PACKAGES: dict[str, str | None] = {
    **STUDENT_PACKAGES,
    "g++": "/usr/bin/g++",
    "libbenchmark-dev": "/usr/include/benchmark/benchmark.h",
    "relacy-dev": "/usr/include/relacy/relacy.hpp",
    "prometheus": "/usr/bin/prometheus",
    "libcpp-httplib-dev": "/usr/include/httplib.h",
    "python3-prometheus-client": None,
    "bubblewrap": "/usr/bin/bwrap",  # the grader's sandbox (grade/sandbox.py)
}


def _dpkg_installed(package: str) -> bool:
    if not shutil.which("dpkg-query"):
        return True  # not Debian: we cannot tell, the build will say
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                         capture_output=True, text=True)
    return out.returncode == 0 and "install ok installed" in out.stdout


def missing_packages(packages: dict[str, str | None]) -> list[str]:
    """Packages whose proof file is absent (or, without one, that dpkg says are not installed)."""
    missing = []
    for package, proof in packages.items():
        present = Path(proof).exists() if proof is not None else _dpkg_installed(package)
        if not present:
            missing.append(package)
    return missing


def ensure_packages(packages: dict[str, str | None]) -> None:
    """Installs missing Debian packages when we may (root or passwordless sudo), else says how."""
    missing = missing_packages(packages)
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"],
                                                 capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        raise LabError("missing packages: " + " ".join(missing) + "\nInstall them with:\n  sudo "
                       + "apt-get update && sudo " + " ".join(command))
    info("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(prefix + ["apt-get", "update", "-qq"], env=env, check=False)
    result = subprocess.run(prefix + command, env=env)
    if result.returncode != 0:
        raise LabError("apt-get could not install " + " ".join(missing)
                       + "; run it by hand to see why:\n  " + " ".join(prefix + command))


# --- `scripts/lab packages` ------------------------------------------------------------------

def add_packages_arguments(p) -> None:
    p.add_argument("--instructor", action="store_true",
                   help="the instructor's list (selftest: g++, Google Benchmark, Relacy, ...)")
    p.add_argument("--install", action="store_true",
                   help="install the missing ones (as root or with passwordless sudo)")
    p.add_argument("--missing", action="store_true", help="print only the missing ones")


def run_packages(args) -> int:
    packages = INSTRUCTOR_PACKAGES if args.instructor else STUDENT_PACKAGES
    if args.install:
        ensure_packages(packages)
        return 0
    names = missing_packages(packages) if args.missing else list(packages)
    if names:
        print(" ".join(names))
    return 0
