"""A control group per sandboxed run (sandbox.py): caps its memory and its processes, tells
whether the kernel killed something of it for memory, and kills every process of it at once.

Why a cgroup: ThreadSanitizer reserves terabytes of address space, so RLIMIT_AS cannot cap a
test's memory; a cgroup's memory limit counts what is really used. Its process limit counts
every thread of the run, whoever started it, and `cgroup.kill` (cgroup v2, Linux 5.14) kills
them all at once, zombie thread-group leaders with running threads included, which no walk
over /proc by uid can promise.

Layouts: the unified hierarchy (cgroup v2, /sys/fs/cgroup, as on current distributions and
GitHub's runners) with the memory and pids controllers; or the hybrid one (v1 memory and
pids controllers, plus /sys/fs/cgroup/unified for cgroup.kill), as on this course's own
machine. `CgroupLayout.detect()` returns None and says why when neither can be used (not
root, a container without a writable cgroup file system): the sandbox then falls back to
RLIMIT_NPROC for processes, and memory is not capped (docs/grading.md, "The sandbox").
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path(os.environ.get("LAB_CGROUP_ROOT", "/sys/fs/cgroup"))
NAME = "lab-grade"
_serial = itertools.count()


def _own_path(controller: str) -> str:
    """This process's cgroup in the hierarchy of `controller` ('' for the unified one)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if (controller == "" and names == "") or controller in names.split(","):
                return path.lstrip("/")
    except (OSError, ValueError):
        pass
    return ""


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _sweep(parent: Path) -> None:
    """Removes the cgroups of runs whose grader is gone (killed before it could remove them),
    with anything still in them."""
    for child in parent.glob("run-*-*"):
        try:
            pid = int(child.name.split("-")[1])
            os.kill(pid, 0)
            continue                    # its grader still runs
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError):
            continue
        try:
            _write(child / "cgroup.kill", "1")     # v2 only; v1 cgroups of a run are empty
        except OSError:
            pass
        for _ in range(50):
            try:
                child.rmdir()
                break
            except OSError:
                time.sleep(0.02)


@dataclass
class CgroupLayout:
    """Where this machine's run cgroups go: (kind, parent folder) per job."""
    memory: Path            # parent of the runs' memory cgroups
    pids: Path              # parent of the runs' pids cgroups
    kill: Path | None       # parent of the runs' v2 cgroups (cgroup.kill), if any
    v2: bool                # memory and pids are v2 controllers (memory.max, not limit_in_bytes)

    @classmethod
    def detect(cls) -> tuple["CgroupLayout | None", str]:
        """(layout, '') or (None, why not)."""
        if os.geteuid() != 0:
            return None, "not root"
        try:
            layout = cls._unified() if (CGROUP_ROOT / "cgroup.controllers").is_file() \
                else cls._hybrid()
            for parent in {layout.memory, layout.pids, layout.kill} - {None}:
                _sweep(parent)
            return layout, ""
        except OSError as exc:
            return None, f"cannot create cgroups under {CGROUP_ROOT} ({exc})"

    @classmethod
    def _unified(cls) -> "CgroupLayout":
        controllers = (CGROUP_ROOT / "cgroup.controllers").read_text().split()
        missing = {"memory", "pids"} - set(controllers)
        if missing:
            raise OSError(f"controllers {sorted(missing)} are not available")
        # Under the root: the only v2 cgroup that may hold processes and enable controllers
        # for its children at once.
        base = CGROUP_ROOT / NAME
        _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids")
        base.mkdir(exist_ok=True)
        _write(base / "cgroup.subtree_control", "+memory +pids")
        return cls(memory=base, pids=base, kill=base, v2=True)

    @classmethod
    def _hybrid(cls) -> "CgroupLayout":
        parents = {}
        for controller in ("memory", "pids"):
            top = CGROUP_ROOT / controller
            if not (top / "cgroup.procs").is_file():
                raise OSError(f"no {controller} controller (cgroup v1) at {top}")
            parents[controller] = top / _own_path(controller) / NAME
            parents[controller].mkdir(exist_ok=True)
        unified = CGROUP_ROOT / "unified"
        kill = None
        if (unified / "cgroup.procs").is_file():
            kill = unified / _own_path("") / NAME
            kill.mkdir(exist_ok=True)
            if not (kill / "cgroup.procs").is_file():
                kill = None
        return cls(memory=parents["memory"], pids=parents["pids"], kill=kill, v2=False)


class RunCgroup:
    """The cgroups of one run: created before it starts, joined by its first process (join(),
    in the child before exec), killed and removed after it. memory/pids: the caps."""

    def __init__(self, layout: CgroupLayout, memory: int, pids: int) -> None:
        self.layout = layout
        name = f"run-{os.getpid()}-{next(_serial)}"
        dirs = [layout.memory / name]
        if layout.pids != layout.memory:
            dirs.append(layout.pids / name)
        if layout.kill is not None and layout.kill not in (layout.memory, layout.pids):
            dirs.append(layout.kill / name)
        self.dirs = dirs
        for d in dirs:
            d.mkdir()
        mem, pid_dir = dirs[0], layout.pids / name
        if layout.v2:
            _write(mem / "memory.max", str(memory))
            if (mem / "memory.swap.max").exists():
                _write(mem / "memory.swap.max", "0")
            _write(pid_dir / "pids.max", str(pids))
        else:
            _write(mem / "memory.limit_in_bytes", str(memory))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                try:
                    _write(mem / "memory.memsw.limit_in_bytes", str(memory))
                except OSError:
                    pass
            _write(pid_dir / "pids.max", str(pids))
        self.memory = memory
        self.procs = [str(d / "cgroup.procs") for d in dirs]

    def join(self) -> None:
        """In the run's first process, before exec: it and everything it starts belong to
        the run. Only async-signal-safe calls (it runs between fork and exec)."""
        pid = str(os.getpid()).encode()
        for path in self.procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def members(self) -> list[int]:
        found: set[int] = set()
        for path in self.procs:
            try:
                found.update(int(x) for x in Path(path).read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill(self, wait: float = 10.0) -> bool:
        """Kills every process of the run; True when none is left within `wait` seconds."""
        kill_file = self.dirs[-1] / "cgroup.kill" if self.layout.kill is not None else None
        deadline = time.monotonic() + wait
        while True:
            if kill_file is not None and kill_file.exists():
                try:
                    _write(kill_file, "1")
                except OSError:
                    pass
            left = self.members()
            if not left:
                return True
            for pid in left:      # a zombie leader's pid signals its live threads too
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run because the run hit its memory cap."""
        mem = self.dirs[0]
        name = "memory.events" if self.layout.v2 else "memory.oom_control"
        try:
            for line in (mem / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
            if not self.layout.v2:
                return int((mem / "memory.failcnt").read_text()) > 0 and \
                    int((mem / "memory.max_usage_in_bytes").read_text()) >= self.memory
        except (OSError, ValueError):
            pass
        return False

    def remove(self) -> None:
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:      # still populated for a moment after the kill
                    time.sleep(0.02)
