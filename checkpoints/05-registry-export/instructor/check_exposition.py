#!/usr/bin/env python3
"""Instructor check for milestone 5: a fixed registry's exposition passes the real checkers.

    check_exposition.py promtool PRINTER      PRINTER's 0.0.4 text through `promtool check
                                              metrics`: it must report nothing at all
    check_exposition.py openmetrics PRINTER   PRINTER's OpenMetrics text through the strict
                                              parser of Debian's python3-prometheus-client,
                                              then the parsed families against the values the
                                              printer recorded

PRINTER is m5_print_exposition (instructor/print_exposition.cpp). Exit status: 0 passed,
1 failed, 77 skipped because the checker is not installed (CTest reports "Skipped").
"""

import math
import os
import shutil
import subprocess
import sys

SKIP = 77


def fail(message, text=None):
    print("FAIL: " + message)
    if text is not None:
        print("---- exposition ----")
        print(text, end="")
        print("--------------------")
    return 1


def run_printer(printer, fmt):
    proc = subprocess.run([printer, fmt], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{printer} {fmt} exited with {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def check_promtool(printer):
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.access(promtool, os.X_OK):
        print("SKIP: promtool is not installed (sudo apt-get install prometheus)")
        return SKIP
    text = run_printer(printer, "prometheus")
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    findings = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or findings:
        return fail(f"promtool check metrics exited {proc.returncode} with findings:\n{findings}",
                    text)
    print(f"ok: promtool check metrics reports nothing ({len(text.splitlines())} lines)")
    return 0


# What print_exposition.cpp records: 1,000 requests, one error every 25, i + 100 bytes each,
# latency 200 + 137 i microseconds, size 10 + 97 i bytes.
N = 1000
LATENCY_BOUNDS_US = [250, 1000, 5000, 25000, 100000, 1000000]
SIZE_BOUNDS = [512, 4096, 65536]


def cumulative(values, bounds):
    """Cumulative bucket counts (le semantics) and the +Inf count."""
    return [sum(1 for v in values if v <= b) for b in bounds] + [len(values)]


def check_openmetrics(printer):
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except ImportError:
        print("SKIP: prometheus_client is not installed for " + sys.executable +
              " (sudo apt-get install python3-prometheus-client)")
        return SKIP
    text = run_printer(printer, "openmetrics")
    try:
        families = {f.name: f for f in text_string_to_metric_families(text)}
    except ValueError as e:
        return fail(f"the strict OpenMetrics parser rejected the text: {e}", text)

    expected_types = {}
    for collector in ("shop_http", "shop_db"):
        for counter in ("requests", "errors", "bytes_sent"):
            expected_types[f"{collector}_{counter}"] = "counter"
        expected_types[f"{collector}_active_connections"] = "gauge"
    expected_types["shop_request_duration_seconds"] = "histogram"
    expected_types["shop_response_size_bytes"] = "histogram"
    for tracker in ("shop_gc_pause_seconds", "shop_idle_workers"):
        expected_types[tracker + "_min"] = "gauge"
        expected_types[tracker + "_max"] = "gauge"
    got_types = {name: f.type for name, f in families.items()}
    if got_types != expected_types:
        return fail(f"families differ:\n  expected {sorted(expected_types.items())}\n"
                    f"  got      {sorted(got_types.items())}", text)

    def value(family, sample_name, labels=None):
        for s in families[family].samples:
            if s.name == sample_name and (labels is None or s.labels == labels):
                return s.value
        raise KeyError(f"{sample_name}{labels or ''} not in family {family}")

    problems = []

    def expect(what, got, want, tolerance=0.0):
        if isinstance(want, float) and math.isnan(want):
            same = isinstance(got, float) and math.isnan(got)
        else:
            same = abs(got - want) <= tolerance
        if not same:
            problems.append(f"{what}: got {got!r}, expected {want!r}")

    expect("requests", value("shop_http_requests", "shop_http_requests_total"), N)
    expect("errors", value("shop_http_errors", "shop_http_errors_total"), N // 25)
    expect("bytes", value("shop_http_bytes_sent", "shop_http_bytes_sent_total"),
           sum(100 + i for i in range(N)))
    expect("db gauge", value("shop_db_active_connections", "shop_db_active_connections"), -1)
    help_text = families["shop_http_requests"].documentation
    if help_text != 'Front end "shop": C:\\www\nsecond line of help: requests recorded.':
        problems.append(f"HELP text did not survive escaping: {help_text!r}")

    latency_us = [200 + 137 * i for i in range(N)]
    want = cumulative(latency_us, LATENCY_BOUNDS_US)
    les = [b / 1e6 for b in LATENCY_BOUNDS_US] + [math.inf]
    for le, count in zip(les, want):
        got = [s.value for s in families["shop_request_duration_seconds"].samples
               if s.name.endswith("_bucket") and float(s.labels["le"]) == le]
        if got != [count]:
            problems.append(f"duration bucket le={le}: got {got}, expected [{count}]")
    expect("duration count",
           value("shop_request_duration_seconds", "shop_request_duration_seconds_count"), N)
    expect("duration sum",
           value("shop_request_duration_seconds", "shop_request_duration_seconds_sum"),
           sum(latency_us) / 1e6, 1e-9)
    if families["shop_request_duration_seconds"].unit != "seconds":
        problems.append("shop_request_duration_seconds has no # UNIT seconds")

    sizes = [10 + 97 * i for i in range(N)]
    for le, count in zip([float(b) for b in SIZE_BOUNDS] + [math.inf],
                         cumulative(sizes, SIZE_BOUNDS)):
        got = [s.value for s in families["shop_response_size_bytes"].samples
               if s.name.endswith("_bucket") and float(s.labels["le"]) == le]
        if got != [count]:
            problems.append(f"size bucket le={le}: got {got}, expected [{count}]")
    expect("size sum", value("shop_response_size_bytes", "shop_response_size_bytes_sum"),
           sum(sizes))

    expect("gc pause min", value("shop_gc_pause_seconds_min", "shop_gc_pause_seconds_min"),
           1.5e-06, 1e-15)
    expect("gc pause max", value("shop_gc_pause_seconds_max", "shop_gc_pause_seconds_max"),
           0.002, 1e-15)
    expect("idle min", value("shop_idle_workers_min", "shop_idle_workers_min"), math.nan)
    expect("idle max", value("shop_idle_workers_max", "shop_idle_workers_max"), math.nan)

    if problems:
        return fail("the parsed OpenMetrics text has wrong values:\n  " + "\n  ".join(problems),
                    text)
    print(f"ok: the strict OpenMetrics parser accepts {len(families)} families with the "
          "recorded values")
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("promtool", "openmetrics"):
        print(__doc__)
        return 2
    try:
        return check_promtool(argv[2]) if argv[1] == "promtool" else check_openmetrics(argv[2])
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return fail(str(e))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
