"""Reading and showing m6_bench results: Google Benchmark JSON to rows, markdown tables and
SVG plots of ns/op against threads (standard library only). Used by `scripts/lab bench`."""

from __future__ import annotations

import html
import json
import math
import platform
import re
import statistics
from pathlib import Path

# Families measured at 1..N threads on one shared instance (plotted), in legend order.
SCALING = ["shared_atomic", "m1_atomic_counter", "mutex", "unpadded_slots_fetch_add",
           "padded_slots_fetch_add", "unpadded_slots", "sharded", "padded_slots",
           "padded_slots_128", "m2_collector", "m3_histogram", "m4_min_max", "atomic_histogram",
           "sharded_histogram", "slot_histogram_branchy", "slot_histogram_64",
           "slot_histogram_128", "prom_counter", "prom_histogram"]
COLOURS = ["#d62728", "#ff7f0e", "#7f7f7f", "#e377c2", "#bcbd22", "#9467bd", "#1f77b4",
           "#17becf", "#aec7e8", "#2ca02c", "#8c564b", "#000000", "#ff9896", "#393b79",
           "#c49c94", "#9edae5", "#637939", "#e7969c", "#843c39"]
# The histogram plot (histograms.svg) and the prometheus-cpp comparison (prometheus.svg).
HISTOGRAMS = ["m3_histogram", "atomic_histogram", "sharded_histogram", "slot_histogram_branchy",
              "slot_histogram_64", "slot_histogram_128", "mutex"]
PROMETHEUS = ["prom_counter", "m2_collector", "sharded", "prom_histogram", "atomic_histogram",
              "sharded_histogram"]
# m5_bench's registry reads (`scripts/lab bench --milestone 5`): family/percent of registrations.
REGISTRY = ["registry_mutex", "registry_shared_mutex", "registry_cow"]
REGISTRY_PERCENTS = ["0", "1", "10"]



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
            cpu = b["cpu_time"] * _UNIT_NS[b.get("time_unit", "ns")]
        else:
            b = runs[name][0]
            ns = statistics.median(r["real_time"] * _UNIT_NS[r.get("time_unit", "ns")]
                                   for r in runs[name])
            cpu = statistics.median(r["cpu_time"] * _UNIT_NS[r.get("time_unit", "ns")]
                                    for r in runs[name])
        parts = name.split("/")
        variant = parts[1] if len(parts) > 1 and not re.match(r"(real_time|threads:)", parts[1]) \
            else ""
        rows.append({"name": name, "family": parts[0], "variant": variant,
                     "threads": int(b.get("threads", 1)), "ns": ns, "cpu_ns": cpu})
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
        if context.get("load_avg") and context["load_avg"][0] > 1.0:
            lines += cpu_table(scaling, SCALING)
    if errors:
        lines += ["Not measured (the code threw, e.g. a starter TODO):", ""]
        lines += [f"- `{e['name']}`: {e['message']}" for e in errors]
        lines.append("")
    return "\n".join(lines)


def cpu_table(rows: list[dict], families: list[str]) -> list[str]:
    """The same families in CPU time per operation and thread: on a machine that other work
    keeps busy, wall time counts the time the benchmark waited for a CPU, and CPU time does
    not (it still suffers from the other work's cache use and hides time spent asleep on a
    mutex)."""
    threads = sorted({r["threads"] for r in rows if r["family"] in families})
    lines = ["The machine was loaded: the same in CPU time (ns per operation and thread, "
             "medians; excludes waiting for a CPU and sleeping on a lock):", "",
             "| family | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads)
             + " |", "| --- |" + " ---: |" * len(threads)]
    for family in families:
        by_t = {r["threads"]: r["cpu_ns"] for r in rows if r["family"] == family}
        if by_t:
            lines.append(f"| {family} | " + " | ".join(
                _fmt(by_t[t]) if t in by_t else "" for t in threads) + " |")
    return lines + [""]


def scaling_svg(rows: list[dict], title: str, families: list[str] | None = None) -> str:
    """ns/op (log scale) against threads for every scaling family (or those in `families`),
    as a standalone SVG."""
    families = families or SCALING
    scaling = [r for r in rows if r["family"] in families and r["ns"] > 0]
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
    for i, family in enumerate(families):
        colour = COLOURS[SCALING.index(family) if family in SCALING else i % len(COLOURS)]
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


def prometheus_markdown(rows: list[dict], command: str, loaded: bool = False) -> str:
    """The side-by-side table: hot paths at 1..N threads, the render, and the two ratios."""
    threads = sorted({r["threads"] for r in rows if r["family"] in PROMETHEUS})
    lines = [f"Side by side with prometheus-cpp, measured with `{command}`", "",
             "| operation (ns per operation, wall time / all threads' operations) | "
             + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |",
             "| --- |" + " ---: |" * len(threads)]
    for family in PROMETHEUS:
        by_t = {r["threads"]: r["ns"] for r in rows if r["family"] == family}
        if by_t:
            lines.append(f"| {family} | " + " | ".join(
                _fmt(by_t[t]) if t in by_t else "" for t in threads) + " |")
    if loaded:
        lines += [""] + cpu_table(rows, PROMETHEUS)
    render = {r["variant"]: r["ns"] for r in rows if r["family"] == "render"}
    render_cpu = {r["variant"]: r["cpu_ns"] for r in rows if r["family"] == "render"}
    if render:
        lines += ["", "| render 250 collectors + 100 histograms | us per scrape, wall time | "
                  "us, CPU time |", "| --- | ---: | ---: |"]
        lines += [f"| {v} | {ns / 1e3:.0f} | {render_cpu[v] / 1e3:.0f} |"
                  for v, ns in render.items()]
    ns = {(r["family"], r["threads"]): r["ns"] for r in rows}
    ratios = []
    if ("prom_histogram", 2) in ns and ("sharded_histogram", 2) in ns:
        ratios.append("prometheus-cpp Observe / ShardedHistogram::record at 2 threads: "
                      f"{ns['prom_histogram', 2] / ns['sharded_histogram', 2]:.1f}x")
    for ours in ("atomic_histogram", "sharded_histogram"):
        if "prometheus_cpp" in render and ours in render:
            ratios.append(f"render, prometheus-cpp / ours ({ours}): "
                          f"{render['prometheus_cpp'] / render[ours]:.2f}x")
    if ratios:
        lines += [""] + [f"- {r}" for r in ratios]
    return "\n".join(lines) + "\n"


def registry_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """m5_bench's registry-read rows as plottable series: family "registry_mutex 10%" etc."""
    series, out = [], []
    for family in REGISTRY:
        for percent in REGISTRY_PERCENTS:
            name = f"{family} {percent}%"
            picked = [dict(r, family=name) for r in rows
                      if r["family"] == family and r["variant"] == percent]
            if picked:
                series.append(name)
                out += picked
    return out, series


def registry_markdown(context: dict, rows: list[dict], errors: list[dict], command: str) -> str:
    """The registry-read table: one row per registry and share of registrations, one column per
    thread count, in wall time and in CPU time per operation."""
    lines = [f"Measured with `{command}`", ""]
    if context.get("load_avg"):
        lines += [f"{context.get('num_cpus', '?')} CPUs, load average "
                  f"{context['load_avg'][0]:.2f} when the run started.", ""]
    series_rows, series = registry_rows(rows)
    threads = sorted({r["threads"] for r in series_rows})
    for title, key in (("wall time / all threads' operations", "ns"),
                       ("CPU time per operation and thread", "cpu_ns")):
        lines += [f"Registry reads (us per operation, {title}):", "",
                  "| registry | registrations | " + " | ".join(
                      f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |",
                  "| --- | ---: |" + " ---: |" * len(threads)]
        for name in series:
            family, percent = name.rsplit(" ", 1)
            by_t = {r["threads"]: r[key] for r in series_rows if r["family"] == name}
            lines.append(f"| {family} | {percent} | " + " | ".join(
                f"{by_t[t] / 1e3:.2f}" if t in by_t else "" for t in threads) + " |")
        lines.append("")
    if errors:
        lines += ["Not measured:", ""] + [f"- `{e['name']}`: {e['message']}" for e in errors] + [""]
    return "\n".join(lines)
