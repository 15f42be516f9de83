"""`scripts/lab bench`: build and run milestone 6's Google Benchmark program, then plot it.

    scripts/lab bench                       # your code (starter/), Release, no sanitizer
    scripts/lab bench --track solutions     # the reference solutions
    scripts/lab bench --repetitions 5 --experiment   # what the lesson's tables were made with
    scripts/lab bench --smoke               # a few milliseconds per benchmark: does it all run?

It configures the `bench` preset (`cmake --preset bench -DLAB_TRACK_DIR=...`), builds the
`m6_bench` target, runs it with `--benchmark_out=FILE --benchmark_out_format=json` and writes,
in the output folder (default build/bench/m6-results/):

    m6_bench.json    Google Benchmark's own JSON
    summary.md       markdown tables: one-thread costs, and ns/op against threads
    scaling.svg      the plot of ns/op against threads (log scale), standard library only

A benchmark whose code is still a starter TODO is listed as an error, not fatal. The numbers
mean something only on a quiet machine: the command warns when the load average is high.
Also runnable without the lab tool (the CTest smoke test does this):
    python3 scripts/labtool/bench.py --binary PATH --smoke --require fetch_add,sharded --out DIR
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

try:  # inside the lab tool
    from .common import LabError, info, warn
except ImportError:  # run as a script
    class LabError(Exception):
        """An error the user can fix; the message says how."""

    def info(msg: str) -> None:
        print("==> " + msg, flush=True)

    def warn(msg: str) -> None:
        print("warning: " + msg, file=sys.stderr, flush=True)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BUILD = ROOT / "build" / "bench"
TARGET = "m6_bench"
EXPERIMENT = "m6_store_buffering"
REL_DIR = Path("checkpoints") / "06-ordering-benchmarks"

# Families measured at 1..N threads on one shared instance (plotted), in legend order.
SCALING = ["shared_atomic", "m1_atomic_counter", "mutex", "unpadded_slots_fetch_add",
           "padded_slots_fetch_add", "unpadded_slots", "sharded", "padded_slots", "m2_collector",
           "m3_histogram", "m4_min_max"]
COLOURS = ["#d62728", "#ff7f0e", "#7f7f7f", "#e377c2", "#bcbd22", "#9467bd", "#1f77b4",
           "#17becf", "#2ca02c", "#8c564b", "#000000"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    configure = ["cmake", "--preset", "bench", f"-DLAB_TRACK_DIR={track}"]
    if build_dir != DEFAULT_BUILD:
        configure += ["-B", str(build_dir)]
    if _run(configure).returncode != 0:
        raise LabError("cmake --preset bench failed (is libbenchmark-dev installed? "
                       "sudo apt-get install libbenchmark-dev)")
    targets = [TARGET] + ([EXPERIMENT] if args.experiment else [])
    if build_dir == DEFAULT_BUILD:
        cmd = ["cmake", "--build", "--preset", "bench"]
    else:
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

_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_results(json_path: Path) -> tuple[dict, list[dict], list[dict]]:
    """Returns (context, rows, errors). A row: family, variant, threads, ns (per operation,
    wall time / all threads' operations), from the median when there were repetitions."""
    data = json.loads(json_path.read_text())
    runs: dict[str, list[dict]] = {}
    medians: dict[str, dict] = {}
    errors = []
    for b in data.get("benchmarks", []):
        name = b.get("run_name") or b["name"]
        if b.get("error_occurred"):
            errors.append({"name": name, "message": b.get("error_message", "")})
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b
            continue
        runs.setdefault(name, []).append(b)
    rows = []
    for name in list(dict.fromkeys(list(runs) + list(medians))):
        if name in medians:
            b = medians[name]
            ns = b["real_time"] * _UNIT_NS[b.get("time_unit", "ns")]
        else:
            b = runs[name][0]
            ns = statistics.median(r["real_time"] * _UNIT_NS[r.get("time_unit", "ns")]
                                   for r in runs[name])
        parts = name.split("/")
        variant = parts[1] if len(parts) > 1 and not re.match(r"(real_time|threads:)", parts[1]) \
            else ""
        rows.append({"name": name, "family": parts[0], "variant": variant,
                     "threads": int(b.get("threads", 1)), "ns": ns})
    return data.get("context", {}), rows, errors


def _fmt(ns: float) -> str:
    return f"{ns:.3g}" if ns < 100 else f"{ns:.0f}"


def summary_markdown(context: dict, rows: list[dict], errors: list[dict], command: str) -> str:
    lines = [f"Measured with `{command}`", ""]
    machine = ", ".join(x for x in (
        f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz",
        platform.processor() or platform.machine(),
        f"load average {context.get('load_avg', ['?'])[0]:.2f}" if context.get("load_avg") else "",
        context.get("date", "")) if x)
    lines += [f"Machine: {machine}.", ""]
    single = [r for r in rows if r["family"] not in SCALING]
    if single:
        lines += ["One thread, one uncontended atomic (ns per operation, wall time):", "",
                  "| operation | order / kind | ns/op |", "| --- | --- | ---: |"]
        for r in single:
            lines.append(f"| {r['family']} | {r['variant']} | {_fmt(r['ns'])} |")
        lines.append("")
    scaling = [r for r in rows if r["family"] in SCALING]
    if scaling:
        threads = sorted({r["threads"] for r in scaling})
        lines += ["One shared instance, N threads: wall time / all threads' operations "
                  "(ns per operation; perfect scaling halves it when N doubles):", "",
                  "| family | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads)
                  + " |", "| --- |" + " ---: |" * len(threads)]
        for family in SCALING:
            by_t = {r["threads"]: r["ns"] for r in scaling if r["family"] == family}
            if by_t:
                lines.append(f"| {family} | " + " | ".join(
                    _fmt(by_t[t]) if t in by_t else "" for t in threads) + " |")
        lines.append("")
    if errors:
        lines += ["Not measured (the code threw, e.g. a starter TODO):", ""]
        lines += [f"- `{e['name']}`: {e['message']}" for e in errors]
        lines.append("")
    return "\n".join(lines)


def scaling_svg(rows: list[dict], title: str) -> str:
    """ns/op (log scale) against threads for every scaling family, as a standalone SVG."""
    scaling = [r for r in rows if r["family"] in SCALING and r["ns"] > 0]
    width, height = 760, 440
    left, right, top, bottom = 70, 200, 40, 50
    pw, ph = width - left - right, height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    if not scaling:
        out.append(f'<text x="{left}" y="{top + 20}">no multi-threaded results</text></svg>')
        return "\n".join(out)
    threads = sorted({r["threads"] for r in scaling})
    lo = math.floor(math.log10(min(r["ns"] for r in scaling)))
    hi = math.ceil(math.log10(max(r["ns"] for r in scaling)))
    hi = max(hi, lo + 1)

    def x_of(t: int) -> float:
        i = threads.index(t)
        return left + (pw * (i + 0.5) / len(threads))

    def y_of(ns: float) -> float:
        return top + ph * (1 - (math.log10(ns) - lo) / (hi - lo))

    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#333"/>')
    for decade in range(lo, hi + 1):
        for m in (1, 2, 5):
            v = m * 10 ** decade
            if not (10 ** lo <= v <= 10 ** hi):
                continue
            y = y_of(v)
            stroke = "#bbb" if m == 1 else "#e5e5e5"
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                       f'stroke="{stroke}"/>')
            label = f"{v:g}"
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for t in threads:
        x = x_of(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 5}" '
                   f'stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">'
               f'threads (one shared instance)</text>')
    out.append(f'<text x="16" y="{top + ph / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2:.1f})">ns per operation '
               f'(wall time / all operations, log scale)</text>')
    legend_y = top + 8
    for family, colour in zip(SCALING, COLOURS):
        pts = sorted((r["threads"], r["ns"]) for r in scaling if r["family"] == family)
        if not pts:
            continue
        path = " ".join(f"{x_of(t):.1f},{y_of(ns):.1f}" for t, ns in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for t, ns in pts:
            out.append(f'<circle cx="{x_of(t):.1f}" cy="{y_of(ns):.1f}" r="3.5" '
                       f'fill="{colour}"><title>{family}, {t} threads: {ns:.3g} ns/op</title>'
                       f'</circle>')
        lx = left + pw + 15
        out.append(f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 20}" y2="{legend_y}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{legend_y + 4}">{family}</text>')
        legend_y += 18
    out.append("</svg>")
    return "\n".join(out)


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


def run(args) -> int:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5 and not args.smoke:
        warn(f"load average {load:.2f}: other work is running, so the numbers will be noisy "
             "(best below 0.5)")
    if args.binary:
        binary = Path(args.binary).resolve()
        build_dir = binary.parent.parents[1] if len(binary.parents) > 2 else binary.parent
        if args.experiment:
            raise LabError("--experiment needs a build, not --binary")
    else:
        build_dir = build(args)
        binary = build_dir / REL_DIR / TARGET
    if not binary.exists():
        raise LabError(f"{binary} does not exist")
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
    if args.out:
        command += f" --out {_shown(Path(args.out).resolve())}"
    md = summary_markdown(context, rows, errors, command)
    if args.experiment:
        md += "\nStore buffering (r1 == r2 == 0 counts):\n\n" + run_experiment(build_dir,
                                                                            args.experiment)
    (out / "summary.md").write_text(md)
    title = f"m6_bench: ns/op against threads ({context.get('num_cpus', '?')} CPUs)"
    (out / "scaling.svg").write_text(scaling_svg(rows, title))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
