"""The Debian packages the course needs, listed once: the lab tool installs them (or says
how), and the CI script asks for the list with `scripts/lab packages --instructor`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .console import LabError, info, warn

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
    "relacy-dev": "/usr/include/relacy/relacy.hpp",  # the model checkpoints (graded points)
}
INSTRUCTOR_PACKAGES: dict[str, str | None] = {
    **STUDENT_PACKAGES,
    "g++": "/usr/bin/g++",
    "libbenchmark-dev": "/usr/include/benchmark/benchmark.h",
    "prometheus": "/usr/bin/prometheus",
    "libcpp-httplib-dev": "/usr/include/httplib.h",
    "python3-prometheus-client": None,
    "bubblewrap": "/usr/bin/bwrap",  # the grader's sandbox (grade/sandbox.py)
}


# The distributions the course is tested on or documented for, and where their package names
# differ from Debian 12's (the names above). None: not packaged there (the install step says
# what is lost and how to get it). Every other name is the same.
DISTRIBUTIONS: dict[str, dict[str, str | None]] = {
    "debian 12": {},
    # Ubuntu 22.04 (Gradescope's default base image): clang 14 keeps its sanitizer runtimes in
    # libclang-common-14-dev (Debian 12 split them into libclang-rt-14-dev); CMake is 3.22.
    "ubuntu 22.04": {"libclang-rt-dev": "libclang-common-14-dev"},
    "ubuntu 24.04": {},
}
# What a package that cannot be installed costs, so that the message says it.
WHAT_IT_GIVES: dict[str, str] = {
    "relacy-dev": "the model checks of memory orders",
    "librapidcheck-dev": "the property-based checkpoints of the replicated counter (skipped)",
    "libbenchmark-dev": "the benchmarks",
    "prometheus": "the real scrape check",
    "bubblewrap": "the grader's bubblewrap sandbox",
}


def distribution(os_release: str | None = None) -> str:
    """'debian 12', 'ubuntu 22.04', ... from /etc/os-release ('' when unknown)."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text()
        except OSError:
            return ""
    fields = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    ident = fields.get("ID", "").strip('"').lower()
    version = fields.get("VERSION_ID", "").strip('"')
    return f"{ident} {version}".strip()


def package_names(packages: list[str], distro: str | None = None) -> list[str]:
    """The names of `packages` (Debian 12's) on this distribution; those it lacks are left out
    (see unavailable())."""
    renames = DISTRIBUTIONS.get(distribution() if distro is None else distro, {})
    names = [renames.get(p, p) for p in packages]
    return [n for n in names if n is not None]


def unavailable(packages: list[str], distro: str | None = None) -> list[str]:
    renames = DISTRIBUTIONS.get(distribution() if distro is None else distro, {})
    return [p for p in packages if p in renames and renames[p] is None]


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
        names = package_names([package])
        present = Path(proof).exists() if proof is not None else \
            all(_dpkg_installed(n) for n in names)
        if not present:
            missing.append(package)
    return missing


def ensure_packages(packages: dict[str, str | None]) -> None:
    """Installs missing Debian packages when we may (root or passwordless sudo), else says how."""
    missing = missing_packages(packages)
    if not missing:
        return
    lost = unavailable(missing)
    if lost:
        warn(f"not packaged on {distribution() or 'this distribution'}: " + ", ".join(
            f"{p} ({WHAT_IT_GIVES.get(p, 'needed by the course')})" for p in lost))
    missing = package_names(missing)
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
    info("installing " + " ".join(missing) + " (apt-get; its output is shown only if it fails)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(prefix + ["apt-get", "update", "-qq"], env=env,
                            capture_output=True, text=True, errors="replace")
    result = subprocess.run(prefix + command + ["-qq"], env=env, capture_output=True,
                            text=True, errors="replace")
    if result.returncode != 0:
        said = "\n".join((update.stdout + update.stderr + result.stdout
                          + result.stderr).strip().splitlines()[-15:])
        raise LabError("apt-get could not install " + " ".join(missing) + ":\n" + said
                       + "\nRun it by hand to see more:\n  " + " ".join(prefix + command))


# --- `scripts/lab packages` ------------------------------------------------------------------

def add_packages_arguments(p) -> None:
    p.add_argument("--instructor", action="store_true",
                   help="the instructor's list (selftest: g++, Google Benchmark, Prometheus, "
                        "bubblewrap, ...)")
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
