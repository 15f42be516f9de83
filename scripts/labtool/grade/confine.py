"""The grader's sandboxed steps: every process that student code can influence goes through
here (CMake configure and build, the preprocessing the rules read, each checkpoint run), in
the Sandbox (sandbox.py) with its limits, with exactly the paths it needs:

  step          sees (read-only)                            may write
  configure,    the course tree without solutions/, build/  the build folder, the compiler
  build         and .git; the overlay                       cache
  preprocess    the same                                    a private /tmp (the -E output)
  checkpoint    the build folder, the overlay               a private /tmp (doctest's report)

Nothing else of the machine is visible in the bubblewrap mode; in the setpriv mode the course's
private files, the other submissions and the reports are made unreadable to the sandbox uid
(privacy.py). Results are read by the grader after the sandbox is gone, as regular files only
(archive.read_inside). The compiler cache's configuration is the grader's (CCACHE_CONFIGPATH):
a ccache.conf inside the cache folder, which a restored or shared cache could carry, is
ignored and removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..course import ROOT, Milestone
from ..fences import first_fence
from . import cxxrules, records
from .archive import read_inside
from .privacy import private_paths, samples, shield
from .sandbox import Limits, Result, Sandbox

# ram: the whole run's memory (cgroup); memory: each process's address space (RLIMIT_AS).
CONFIGURE_LIMITS = Limits(wall=300, cpu=300, memory=4 << 30, fsize=512 << 20, nproc=256,
                          ram=6 << 30)
BUILD_LIMITS = Limits(wall=600, cpu=300, memory=4 << 30, fsize=512 << 20, nproc=256,
                      ram=6 << 30)
PREPROCESS_LIMITS = Limits(wall=60, cpu=60, memory=2 << 30, fsize=256 << 20, nproc=16,
                           ram=2 << 30)
TEST_RAM = 2 << 30              # bytes of memory of one checkpoint run (cgroup)
MAX_REPORT = 16 << 20           # bytes of doctest's XML report read back
MAX_PREPROCESSED = 128 << 20    # bytes of one translation unit's -E output read back
LAB_TODO = str(ROOT / "checkpoints" / "common" / "lab_todo.hpp")


# A line in which a compiler, Ninja or CMake says why a build failed.
_DIAGNOSTIC = re.compile(r"(?:^|: )(?:fatal )?error:|^CMake Error", re.M | re.I)


def silent_failure(returncode: int, limits: Limits) -> str:
    """What to tell when a build failed without any diagnostic (the compiler, or Ninja, was
    stopped from outside): how it ended, and the sandbox limits that can do that."""
    how = f"exit code {returncode}"
    if returncode < 0:
        try:
            how = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"killed by signal {-returncode}"
    memory = f", {limits.memory >> 20} MiB of address space per process, {limits.ram >> 20} " \
        "MiB of memory in all" if limits.memory else ""
    return (f"error: the build stopped without a compiler message ({how}); a limit of the "
            f"grading sandbox ({limits.cpu} s of CPU per process{memory}, files up to "
            f"{limits.fsize >> 20} MiB) may have stopped the compiler. Re-grade; if it happens "
            "again, tell the instructor (this is not a verdict on the code)")


@dataclass
class GradingBox:
    box: Sandbox
    track: Path                 # the overlay (the student's files on our starter)
    build_dir: Path
    ccache: Path
    jobs: int = 2
    build_wall: float = 600         # seconds for configure and for each milestone's build
    sealed: bool = False
    # absolute overlay path -> shown path, of the student's files (set before the build)
    own_files: dict[str, str] = field(default_factory=dict)
    # milestone label (m1) -> code-before-main findings of its build (cxxrules.BUILD_FLAGS)
    startup: dict[str, list[str]] = field(default_factory=dict)
    # milestone label -> where its own code first calls a standalone fence, as the rule scan
    # saw it after preprocessing (fences.py); absent when it calls none
    fences: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, mode: str, work: Path, track: Path, build_dir: Path, jobs: int = 2,
               ccache: Path | None = None, build_wall: float = 600,
               private: list[Path] | None = None) -> "GradingBox":
        """private: more paths the sandbox must not read (the reports' folder, the batch)."""
        work.mkdir(parents=True, exist_ok=True)
        os.chmod(work, 0o755)
        ccache = ccache or work / "ccache"
        for folder in (work, track, build_dir, ccache):
            folder.mkdir(parents=True, exist_ok=True)
        for folder in (work, track):
            os.chmod(folder, 0o755)
        hidden = private_paths(list(private or []))
        # Only when the setpriv mode is tried: file permissions are all it has.
        box = Sandbox.detect(mode, [ROOT, work], samples(hidden), before_setpriv=lambda: shield(
            hidden, [work, track, build_dir, ccache]))
        # Whatever a earlier run (another mode, another grader) left writable is closed now.
        box.seal(build_dir)
        box.seal(ccache, private=True)
        (ccache / "ccache.conf").unlink(missing_ok=True)
        return cls(box, track, build_dir, ccache, jobs, build_wall)

    @property
    def ccache_config(self) -> Path:
        """The compiler cache's only configuration file: the grader's, outside the cache."""
        path = self.ccache.parent / f".{self.ccache.name}.conf"
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            tmp.write_text("# written by the grader; the cache folder's own ccache.conf is "
                           "ignored\nmax_size = 5G\n")
            os.chmod(tmp, 0o644)
            tmp.replace(path)
        return path

    @property
    def mode(self) -> str:
        return self.box.mode

    # --- configure and build ---------------------------------------------------------------

    def _hidden(self) -> list[Path]:
        return [p for p in (ROOT / "solutions", ROOT / "build", ROOT / ".git", ROOT / ".lab")
                if p.is_dir()]

    def _env(self) -> dict[str, str]:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "CCACHE_DIR": str(self.ccache), "CCACHE_CONFIGPATH": str(self.ccache_config),
                "CCACHE_UMASK": "022", "NO_COLOR": "1"}

    def tree_command(self, cmd: list[str]) -> subprocess.CompletedProcess:
        """Runs a CMake/Ninja command of the build tree in the sandbox (build.Tree's runner)."""
        (self.ccache / "ccache.conf").unlink(missing_ok=True)
        building = "--build" in cmd
        if building:
            # Every translation unit with a student file compiles again (ccache replays it),
            # so that its warnings below are never lost to an up-to-date object file.
            for path in self.own_files:
                if os.path.isfile(path):
                    os.utime(path)
        limits = replace(BUILD_LIMITS if building else CONFIGURE_LIMITS, wall=self.build_wall)
        res = self.box.run(cmd, ro=[ROOT, self.track], rw=[self.build_dir, self.ccache],
                           hide=self._hidden(), cwd=ROOT, limits=limits, env=self._env())
        self.box.seal(self.ccache, private=True)    # other submissions' objects
        output = res.output
        if building:
            found = cxxrules.startup_findings(output, self.own_files)
            for label in re.findall(r"\b(m\d+)_(?:checkpoints|plain)\b", " ".join(cmd)):
                self.startup.setdefault(label, []).extend(found)
        if res.timed_out:
            output += (f"\nerror: timed out after {limits.wall:g} s (a compile-time loop, such "
                       "as an exponential template or constexpr evaluation?)\n")
        elif building and not res.ok and not _DIAGNOSTIC.search(output):
            output += "\n" + silent_failure(res.returncode, limits) + "\n"
        return subprocess.CompletedProcess(cmd, res.returncode if not res.timed_out else 124,
                                           output, "")

    def seal(self) -> None:
        """Before student code runs: the build folder and the compiler cache are root's, not
        writable by any sandbox uid (every run hands its writable folders back, so this only
        repeats it; the bubblewrap mode does not even mount the cache for a test)."""
        self.box.seal(self.build_dir)
        self.box.seal(self.ccache, private=True)

    # --- rules on the preprocessed token stream ----------------------------------------------

    def units(self, m: Milestone) -> list[cxxrules.Unit]:
        path = self.build_dir / "compile_commands.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return []
        return cxxrules.units(data, m.label)

    def preprocess(self, units: list[cxxrules.Unit]) -> list[tuple[cxxrules.Unit, str, str]]:
        """(unit, -E output, errors) for each unit; errors is '' when it preprocessed."""
        def one(unit: cxxrules.Unit) -> tuple[cxxrules.Unit, str, str]:
            tmp = Path(tempfile.mkdtemp(prefix="lab-grade-pp-"))
            try:
                inside = "/tmp" if self.box.mode == "bubblewrap" else str(tmp)
                argv = unit.argv + ["-o", f"{inside}/unit.i"]
                res = self.box.run(argv, ro=[ROOT, self.track, self.build_dir], rw=[],
                                   hide=self._hidden(), tmp=tmp, cwd=Path(unit.directory),
                                   limits=PREPROCESS_LIMITS, env=self._env())
                if not res.ok:
                    why = "timed out" if res.timed_out else res.output.strip()[-1500:]
                    return unit, "", why or f"exit code {res.returncode}"
                try:
                    data = read_inside(tmp, tmp / "unit.i", MAX_PREPROCESSED)
                except OSError as exc:
                    return unit, "", f"no preprocessed output: {exc}"
                return unit, data.decode("utf-8", errors="replace"), ""
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        with ThreadPoolExecutor(max(1, self.jobs)) as pool:
            return list(pool.map(one, units))

    def rule_check(self, m: Milestone, own_files: dict[str, str], tamper_rules: bool
                   ) -> tuple[list[str], list[str], list[str]]:
        """(tamper findings, forbidden findings, preprocessing errors) of milestone m, on the
        token streams of its translation units. own_files: absolute overlay path -> the path
        shown to the student (starter/NN-name/file)."""
        tamper: list[str] = []
        forbidden: list[str] = []
        errors: list[str] = []
        shown_as = {os.path.realpath(p): shown for p, shown in own_files.items()}
        mine = {p for p, shown in shown_as.items() if shown.split("/")[1:2] == [m.slug]}
        for unit, text, error in self.preprocess(self.units(m)):
            if error:
                errors.append(f"{Path(unit.source).name}: {error}")
                continue
            scan = cxxrules.scan(text, self.track, set(own_files), {LAB_TODO}, m.forbidden)
            for path in sorted(mine & set(scan.tokens)):
                fence = first_fence(scan.tokens[path])
                if fence is not None and m.label not in self.fences:
                    self.fences[m.label] = f"{shown_as[path]}:{fence[1]}"
            for f in scan.findings:
                if f.file not in mine:
                    continue        # another milestone's file: its own check reports it
                line = f.text(shown_as.get(f.file, Path(f.file).name))
                (tamper if f.tamper else forbidden).append(line)
        if tamper_rules:
            for path in sorted(mine):
                try:
                    data = Path(path).read_bytes()
                except OSError:
                    continue
                tamper += [f.text(shown_as[path]) for f in cxxrules.raw_findings(path, data)]
        else:
            tamper = []
        return list(dict.fromkeys(tamper)), list(dict.fromkeys(forbidden)), errors


def run_checkpoint(gbox: GradingBox, command: list[str], report_name: str, cwd: Path,
                   timeout: float, env: dict[str, str], cpus: int
                   ) -> tuple[Result, bytes | None, bytes]:
    """Runs one checkpoint in the sandbox: `command` plus `--out=<report>` for doctest's XML
    report in a private /tmp. Returns the run's result, the report's bytes (None when it
    wrote none, or not a regular file), read after every process of the run is gone, and all
    that was written into the harness's record FIFO (records.py)."""
    tmp = Path(tempfile.mkdtemp(prefix="lab-grade-run-"))
    fifo = None
    try:
        inside = Path("/tmp") if gbox.box.mode == "bubblewrap" else tmp
        fifo = records.RecordFifo(tmp, inside)
        env = dict(env, HOME=str(inside), TMPDIR=str(inside), **fifo.env)
        limits = Limits(wall=timeout, cpu=int(timeout * max(1, cpus)) + 10, memory=None,
                        fsize=256 << 20, nproc=512, ram=TEST_RAM)
        res = gbox.box.run(command + [f"--out={inside / report_name}"],
                           ro=[gbox.build_dir, gbox.track], rw=[], tmp=tmp, cwd=cwd,
                           limits=limits, env=env)
        try:
            report = read_inside(tmp, tmp / report_name, MAX_REPORT)
        except OSError:
            report = None
        return res, report, fifo.drain()
    finally:
        if fifo is not None:
            fifo.close()
        shutil.rmtree(tmp, ignore_errors=True)
