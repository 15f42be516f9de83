"""How many CPUs this process can really use: its affinity mask, capped by the CPU quota of its
cgroup (a container given "1 vCPU" often still sees every CPU of the host in its mask).

One answer for the whole tool (the grader's test jobs, the self-test's workers, the CPU column
of a report); checkpoints/common/lab_test.hpp reads the same files for `require_cpus`.

- cgroup v2: `cpu.max` ("max 100000" or "<quota> <period>") of the process's cgroup and of
  every ancestor up to the root of the mounted hierarchy (/sys/fs/cgroup, or
  /sys/fs/cgroup/unified on a hybrid machine); the smallest quota counts.
- cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` of the cpu controller's cgroup (-1 means
  no quota).
A quota of q microseconds per period p allows ceil(q / p) threads to run at the same time.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cpus_of(quota: int, period: int) -> int | None:
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def quota_cpus(proc_cgroup: str | None = None, root: Path = CGROUP_ROOT) -> int | None:
    """The CPUs the cgroup quota allows, or None when there is no quota (or it cannot be read).
    `proc_cgroup` is the text of /proc/self/cgroup (read when None); `root` the mount point."""
    if proc_cgroup is None:
        proc_cgroup = _read(Path("/proc/self/cgroup")) or ""
    found: list[int] = []
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":                                  # cgroup v2
            # A hybrid machine mounts the v2 hierarchy at <root>/unified.
            base = root if (root / "cgroup.controllers").exists() else root / "unified"
            here = base / rel
            while True:
                text = _read(here / "cpu.max")
                if text:
                    fields = text.split()
                    if len(fields) == 2 and fields[0] != "max":
                        try:
                            n = _cpus_of(int(fields[0]), int(fields[1]))
                        except ValueError:
                            n = None
                        if n:
                            found.append(n)
                if here == base or base not in here.parents:
                    break
                here = here.parent
        elif "cpu" in controllers.split(","):                  # cgroup v1
            for mount in (root / controllers, root / "cpu,cpuacct", root / "cpu"):
                quota = _read(mount / rel / "cpu.cfs_quota_us")
                period = _read(mount / rel / "cpu.cfs_period_us")
                if quota is not None and period is not None:
                    try:
                        n = _cpus_of(int(quota), int(period))
                    except ValueError:
                        n = None
                    if n:
                        found.append(n)
                    break
    return min(found) if found else None


def affinity_cpus() -> int:
    """The CPUs of this process's affinity mask (`taskset -c 0` makes it 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def usable_cpus() -> int:
    """The affinity mask, capped by the cgroup CPU quota."""
    n = affinity_cpus()
    q = quota_cpus()
    return min(n, q) if q else n
