"""`scripts/lab bench`: build and run milestone 6's Google Benchmark program, then plot it.

    scripts/lab bench                       # your code (starter/), Release, no sanitizer
    scripts/lab bench --track solutions     # the reference solutions
    scripts/lab bench --repetitions 5 --experiment   # what the lesson's tables were made with
    scripts/lab bench --smoke               # a few milliseconds per benchmark: does it all run?
    scripts/lab bench --milestone 5         # m5_bench's registry reads (mutex, shared_mutex,
                                            # copy-on-write), plotted in build/bench/m5-results/

It configures the `bench` preset (`cmake --preset bench -DLAB_TRACK_DIR=...`), builds the
`m6_bench` target, runs it with `--benchmark_out=FILE --benchmark_out_format=json` and writes,
in the output folder (default build/bench/m6-results/):

    m6_bench.json    Google Benchmark's own JSON
    summary.md       markdown tables: one-thread costs, and ns/op against threads
    scaling.svg      the plot of ns/op against threads (log scale), standard library only
    histograms.svg   the same for the histogram families only

With --prometheus DIR (an installed prometheus-cpp, e.g. built from source with
CMAKE_INSTALL_PREFIX=DIR) it also builds and runs `m6_prometheus_bench`, the same workloads
through prometheus-cpp and through the track, and adds prometheus.json, a side-by-side table in
summary.md and prometheus.svg. The build never downloads prometheus-cpp.

A benchmark whose code is still a starter TODO is listed as an error, not fatal. The numbers
mean something only on a quiet machine: the command warns when the load average is high.
The CTest smoke test runs a given binary:
    scripts/lab bench --binary PATH --smoke --require fetch_add,sharded --out DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .bench_report import load_results, prometheus_markdown, scaling_svg, summary_markdown
from .bench_report import HISTOGRAMS, PROMETHEUS, registry_markdown, registry_rows
from .build import PRESETS_CMAKE, cmake_version, preset_arguments
from .console import LabError, info, warn

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BUILD = ROOT / "build" / "bench"
TARGET = "m6_bench"
PROMETHEUS_TARGET = "m6_prometheus_bench"
EXPERIMENT = "m6_store_buffering"
REL_DIR = Path("checkpoints") / "06-ordering-benchmarks"
M5_TARGET = "m5_bench"
M5_REL_DIR = Path("checkpoints") / "05-registry-export"

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--milestone", type=int, choices=(5, 6), default=6,
                        help="6 (default): m6_bench; 5: m5_bench's registry reads (std::mutex, "
                             "std::shared_mutex, copy-on-write at 1, 2, 4 threads)")
    parser.add_argument("--track", default="starter",
                        help="what to measure: starter (default), solutions, or a directory of "
                             "NN-name/ folders (passed as -DLAB_TRACK_DIR)")
    parser.add_argument("--build-dir", default=str(DEFAULT_BUILD),
                        help="build tree for the bench preset (default: build/bench)")
    parser.add_argument("--out", help="where to write the results (default: BUILD-DIR/m6-results)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run (--benchmark_min_time=0.001): checks that everything runs")
    parser.add_argument("--repetitions", type=int, default=1,
                        help="repeat each benchmark and report the median (default 1)")
    parser.add_argument("--filter", help="only benchmarks matching this regex (--benchmark_filter)")
    parser.add_argument("--experiment", nargs="?", const=1_000_000, type=int, metavar="TRIALS",
                        help="also run the store-buffering experiment (default 1000000 trials "
                             "per variant) and add its table to summary.md")
    parser.add_argument("--binary", help="run this benchmark program instead of building one")
    parser.add_argument("--require", default="",
                        help="comma-separated families that must be present and error-free "
                             "(exit 1 otherwise)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel build jobs (default 2)")
    parser.add_argument("--prometheus", metavar="DIR",
                        help="also compare with prometheus-cpp installed under DIR (its "
                             "CMAKE_INSTALL_PREFIX); never downloaded")


# --- build and run -----------------------------------------------------------------------

def _track_dir(track: str) -> Path:
    if track in ("starter", "solutions"):
        return ROOT / track
    path = Path(track).resolve()
    if not path.is_dir():
        raise LabError(f"--track {track}: not a directory (use starter, solutions or a path)")
    return path


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kwargs)


def build(args) -> Path:
    """Configures and builds the bench preset; returns the build tree."""
    for tool in ("cmake", "ninja"):
        if not shutil.which(tool):
            raise LabError(f"{tool} not found: sudo apt-get install cmake ninja-build")
    build_dir = Path(args.build_dir).resolve()
    track = _track_dir(args.track)
    info(f"configuring the bench preset (Release, no sanitizer) for {track}")
    if cmake_version() >= PRESETS_CMAKE:
        configure = ["cmake", "--preset", "bench", f"-DLAB_TRACK_DIR={track}"]
    else:   # a CMake too old for CMakePresets.json: the same settings as arguments
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir),
                     *preset_arguments("bench"), f"-DLAB_TRACK_DIR={track}"]
    if args.prometheus:
        prefix = Path(args.prometheus).resolve()
        if not list(prefix.glob("lib*/cmake/prometheus-cpp/prometheus-cpp-config.cmake")):
            raise LabError(f"--prometheus {args.prometheus}: no lib/cmake/prometheus-cpp/"
                           "prometheus-cpp-config.cmake there; build prometheus-cpp and install it "
                           "with CMAKE_INSTALL_PREFIX=DIR (see lessons/06-ordering-benchmarks/"
                           "scaling-histograms.md)")
        configure.append(f"-DCMAKE_PREFIX_PATH={prefix}")
    if build_dir != DEFAULT_BUILD:
        configure += ["-B", str(build_dir)]
    if _run(configure).returncode != 0:
        raise LabError("cmake --preset bench failed (is libbenchmark-dev installed? "
                       "sudo apt-get install libbenchmark-dev)")
    targets = [M5_TARGET if args.milestone == 5 else TARGET] + \
        ([EXPERIMENT] if args.experiment else []) + \
        ([PROMETHEUS_TARGET] if args.prometheus else [])
    cmd = ["cmake", "--build", str(build_dir)]
    cmd += ["--target", *targets, "-j", str(args.jobs)]
    if _run(cmd).returncode != 0:
        raise LabError("the benchmark program does not build (see the compiler output above)")
    return build_dir


def run_benchmarks(binary: Path, json_path: Path, args) -> None:
    cmd = [str(binary), f"--benchmark_out={json_path}", "--benchmark_out_format=json"]
    if args.smoke:
        cmd.append("--benchmark_min_time=0.001")
    if args.repetitions > 1:
        cmd += [f"--benchmark_repetitions={args.repetitions}",
                "--benchmark_report_aggregates_only=true"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    proc = _run(cmd)
    if proc.returncode != 0 or not json_path.exists():
        raise LabError(f"{binary.name} failed (exit code {proc.returncode})")


# --- results -----------------------------------------------------------------------------

def run_experiment(build_dir: Path, trials: int) -> str:
    binary = build_dir / REL_DIR / EXPERIMENT
    if not binary.exists():
        raise LabError(f"{binary} was not built")
    proc = _run([str(binary), str(trials)], capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        raise LabError(f"{EXPERIMENT} failed: {proc.stderr.strip()}")
    return f"Measured with `{_shown(binary)} {trials}`\n\n" + proc.stdout


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the repository when inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _binary(args, rel: Path) -> tuple[Path, Path]:
    """The benchmark program (--binary, or built) and its build tree."""
    if args.binary:
        binary = Path(args.binary).resolve()
        build_dir = binary.parent.parents[1] if len(binary.parents) > 2 else binary.parent
    else:
        build_dir = build(args)
        binary = build_dir / rel
    if not binary.exists():
        raise LabError(f"{binary} does not exist")
    return binary, build_dir


def run_registry(args) -> int:
    """--milestone 5: m5_bench's registry-read benchmarks, a table and a plot."""
    if args.experiment or args.prometheus or args.require:
        raise LabError("--experiment, --prometheus and --require are for milestone 6 only")
    binary, build_dir = _binary(args, M5_REL_DIR / M5_TARGET)
    out = Path(args.out).resolve() if args.out else build_dir / "m5-results"
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "m5_bench.json"
    args.filter = args.filter or "^registry_"
    run_benchmarks(binary, json_path, args)
    context, rows, errors = load_results(json_path)
    command = "scripts/lab bench --milestone 5" + \
        (f" --track {args.track}" if args.track != "starter" else "") + \
        (f" --repetitions {args.repetitions}" if args.repetitions > 1 else "") + \
        (" --smoke" if args.smoke else "")
    md = registry_markdown(context, rows, errors, command)
    (out / "summary.md").write_text(md)
    series_rows, series = registry_rows(rows)
    (out / "registry.svg").write_text(scaling_svg(
        series_rows, f"m5_bench: registry reads, ns/op against threads "
        f"({context.get('num_cpus', '?')} CPUs)", series))
    print()
    print(md)
    info(f"wrote {json_path}, {out / 'summary.md'}, {out / 'registry.svg'}")
    return 0


def run(args) -> int:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5 and not args.smoke:
        warn(f"load average {load:.2f}: other work is running, so the numbers will be noisy "
             "(best below 0.5)")
    if args.milestone == 5:
        return run_registry(args)
    if args.binary and args.experiment:
        raise LabError("--experiment needs a build, not --binary")
    binary, build_dir = _binary(args, REL_DIR / TARGET)
    out = Path(args.out).resolve() if args.out else build_dir / "m6-results"
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "m6_bench.json"
    run_benchmarks(binary, json_path, args)

    context, rows, errors = load_results(json_path)
    command = "scripts/lab bench" + (f" --track {args.track}" if args.track != "starter" else "")
    if args.repetitions > 1:
        command += f" --repetitions {args.repetitions}"
    if args.smoke:
        command += " --smoke"
    if args.filter:
        command += f" --filter '{args.filter}'"
    if args.experiment:
        command += " --experiment" + (f" {args.experiment}" if args.experiment != 1_000_000 else "")
    if args.prometheus:
        command += " --prometheus DIR"
    if args.out:
        command += f" --out {_shown(Path(args.out).resolve())}"
    md = summary_markdown(context, rows, errors, command)
    if args.experiment:
        md += "\nStore buffering (r1 == r2 == 0 counts):\n\n" + run_experiment(build_dir,
                                                                            args.experiment)
    (out / "summary.md").write_text(md)
    title = f"m6_bench: ns/op against threads ({context.get('num_cpus', '?')} CPUs)"
    (out / "scaling.svg").write_text(scaling_svg(rows, title))
    (out / "histograms.svg").write_text(scaling_svg(
        rows, f"histograms: ns/op against threads ({context.get('num_cpus', '?')} CPUs)",
        HISTOGRAMS))
    if args.prometheus:
        prom_binary = build_dir / REL_DIR / PROMETHEUS_TARGET
        if not prom_binary.exists():
            raise LabError(f"{PROMETHEUS_TARGET} was not built: CMake did not find prometheus-cpp "
                           f"under {args.prometheus}, or the track lacks milestones 2-5")
        prom_json = out / "prometheus.json"
        run_benchmarks(prom_binary, prom_json, argparse.Namespace(
            smoke=args.smoke, repetitions=args.repetitions, filter=None))
        _, prom_rows, prom_errors = load_results(prom_json)
        loaded = bool(context.get("load_avg")) and context["load_avg"][0] > 1.0
        md += "\n" + prometheus_markdown(prom_rows, command, loaded)
        if prom_errors:
            md += "\nNot measured:\n\n" + "\n".join(
                f"- `{e['name']}`: {e['message']}" for e in prom_errors) + "\n"
        (out / "prometheus.svg").write_text(scaling_svg(
            prom_rows, "prometheus-cpp and the course's metrics: ns/op against threads",
            PROMETHEUS))
        (out / "summary.md").write_text(md)
    print()
    print(md)
    info(f"wrote {out / 'm6_bench.json'}, {out / 'summary.md'}, {out / 'scaling.svg'}")

    required = [f for f in args.require.split(",") if f]
    if required:
        present = {r["family"] for r in rows}
        failed = {e["name"].split("/")[0] for e in errors}
        missing = [f for f in required if f not in present]
        broken = [f for f in required if f in failed]
        if missing or broken:
            if missing:
                print(f"missing families: {', '.join(missing)}", file=sys.stderr)
            if broken:
                print(f"families with errors: {', '.join(broken)}", file=sys.stderr)
            return 1
        info(f"all {len(required)} required families ran: {', '.join(required)}")
    return 0
