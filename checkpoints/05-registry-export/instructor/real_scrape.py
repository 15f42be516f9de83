#!/usr/bin/env python3
"""Instructor integration test for milestone 5: a real Prometheus scrapes m5_metrics_server.

    real_scrape.py SERVER            run the test with this m5_metrics_server binary
    real_scrape.py --skip REASON     report the test as skipped (CMake found no cpp-httplib)

1. Starts SERVER on a free loopback port with a fixed workload (--requests 1000).
2. Lints its /metrics page with promtool and parses its OpenMetrics page strictly.
3. Starts /usr/bin/prometheus with a temporary config and storage, listening on another free
   loopback port (never 9090: a packaged Prometheus service may own it), scraping the server
   every second twice: as job m5_text (?format=text, the 0.0.4 format) and as job
   m5_openmetrics (?format=openmetrics).
4. Waits for the scrapes, then asks Prometheus' HTTP API for the counters, gauges and
   histogram_quantile() of the duration histogram, and compares them with what the workload
   recorded (recomputed here from the same formula) and with Prometheus' quantile algorithm.
5. Stops both processes (SIGTERM, then SIGKILL) and removes the temporary directory, always.

Bounded: it gives up after 60 s. Exit status: 0 passed, 1 failed, 77 skipped because a package
is missing (CTest reports "Skipped").
"""

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

SKIP = 77
TIME_LIMIT = 60.0
N = 1000  # requests of the fixed workload
JOBS = ("m5_text", "m5_openmetrics")
DURATION_BOUNDS_US = [100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000]


# --- What the server's fixed workload records (metrics_server.cpp, fixed_workload) ----------

def workload():
    latency_us = [100 + (i * 7919) % 20000 for i in range(N)]
    sizes = [200 + (i * 104729) % 60000 for i in range(N)]
    return {
        "requests": N,
        "errors": sum(1 for i in range(N) if i % 10 == 9),
        "bytes": sum(sizes),
        "active": min(N, 3),
        "latency_us": latency_us,
    }


def cumulative_buckets(values_us, bounds_us):
    """[(upper bound in seconds, cumulative count)], +Inf last: what the server exports."""
    buckets = [(b / 1e6, sum(1 for v in values_us if v <= b)) for b in bounds_us]
    return buckets + [(math.inf, len(values_us))]


def prometheus_quantile(q, buckets):
    """histogram_quantile() as Prometheus 2.x computes it (promql/quantile.go)."""
    observations = buckets[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    # The first bucket whose cumulative count reaches the rank (+Inf always does).
    b = next(i for i, (_, count) in enumerate(buckets) if count >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[b][0], buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count)


# --- Processes ---------------------------------------------------------------------------------

class Failed(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_line_with_timeout(stream, seconds):
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return result[0] if result else None


def _die_with_parent():
    """Child processes get SIGTERM if this script dies, even by SIGKILL (Linux prctl)."""
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def stop_process(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"note: {name} ignored SIGTERM for 10 s; killing it")
        proc.kill()
        proc.wait(timeout=10)


def http_get(url, timeout=5.0, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8"), response.headers.get("Content-Type", "")


def query(prom_port, promql):
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    body, _ = http_get(url)
    reply = json.loads(body)
    if reply.get("status") != "success":
        raise Failed(f"query {promql!r} failed: {reply}")
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in reply["data"]["result"]}


# --- The test ------------------------------------------------------------------------------------

def lint_pages(server_port, tmp):
    """promtool on the 0.0.4 page, the strict parser on the OpenMetrics page (when installed)."""
    base = f"http://127.0.0.1:{server_port}/metrics"
    text, ctype = http_get(base + "?format=text")
    if not ctype.startswith("text/plain; version=0.0.4"):
        raise Failed(f"/metrics?format=text has Content-Type {ctype!r}")
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if os.access(promtool, os.X_OK):
        proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                              text=True, timeout=20)
        findings = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or findings:
            raise Failed(f"promtool check metrics on the server's page: {findings}\n{text}")
        print("ok: promtool check metrics reports nothing for the server's page")
    om, ctype = http_get(base, headers={
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    if not ctype.startswith("application/openmetrics-text"):
        raise Failed(f"an OpenMetrics Accept header got Content-Type {ctype!r}")
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        n = len(list(text_string_to_metric_families(om)))
        print(f"ok: the strict OpenMetrics parser accepts the server's page ({n} families)")
    except ImportError:
        print("note: prometheus_client not installed; OpenMetrics page not parsed")
    except ValueError as e:
        raise Failed(f"the strict OpenMetrics parser rejects the server's page: {e}\n{om}")


def run(server, prometheus, tmp, deadline):
    procs = {}
    try:
        server_log = open(os.path.join(tmp, "server.log"), "w")
        procs["server"] = subprocess.Popen(
            [server, "--port", "0", "--requests", str(N), "--export-interval-ms", "200",
             "--textfile", os.path.join(tmp, "server.prom")],
            stdout=subprocess.PIPE, stderr=server_log, text=True, preexec_fn=_die_with_parent)
        line = read_line_with_timeout(procs["server"].stdout, 15)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line or "")
        if not match:
            raise Failed(f"the server did not report its port (said {line!r}); log:\n"
                         + open(os.path.join(tmp, "server.log")).read())
        server_port = int(match.group(1))
        print(f"server: http://127.0.0.1:{server_port}/metrics (pid {procs['server'].pid})")
        lint_pages(server_port, tmp)

        prom_port = free_port()
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n")
            for job, fmt in zip(JOBS, ("text", "openmetrics")):
                f.write(f"  - job_name: {job}\n"
                        f"    params: {{format: [{fmt}]}}\n"
                        f"    static_configs: [{{targets: ['127.0.0.1:{server_port}']}}]\n")
        prom_log_path = os.path.join(tmp, "prometheus.log")
        prom_log = open(prom_log_path, "w")
        procs["prometheus"] = subprocess.Popen(
            [prometheus, f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=prom_log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        print(f"prometheus: http://127.0.0.1:{prom_port} (pid {procs['prometheus'].pid})")

        # Wait until both jobs were scraped successfully and their counters are queryable.
        up, requests = {}, {}
        while time.monotonic() < deadline:
            if procs["prometheus"].poll() is not None:
                raise Failed("prometheus exited early:\n" + open(prom_log_path).read())
            try:
                up = query(prom_port, "up")
                requests = query(prom_port, "demo_http_requests_total")
            except (OSError, ValueError):
                pass  # not listening yet
            if all(up.get(j) == 1.0 for j in JOBS) and all(j in requests for j in JOBS):
                break
            time.sleep(0.25)
        else:
            raise Failed(f"no successful scrape of both jobs within {TIME_LIMIT:.0f} s "
                         f"(up={up}); prometheus log:\n" + open(prom_log_path).read())
        print(f"scraped: up={up}")

        w = workload()
        buckets = cumulative_buckets(w["latency_us"], DURATION_BOUNDS_US)
        checks = [
            ("demo_http_requests_total", w["requests"], 0),
            ("demo_http_errors_total", w["errors"], 0),
            ("demo_http_bytes_sent_total", w["bytes"], 0),
            ("demo_http_active_connections", w["active"], 0),
            ("demo_http_request_duration_seconds_count", N, 0),
            ("demo_http_request_duration_seconds_sum", sum(w["latency_us"]) / 1e6, 1e-9),
            ('demo_http_request_duration_seconds_bucket{le="+Inf"}', N, 0),
            ("demo_http_request_latency_seconds_min", min(w["latency_us"]) / 1e6, 1e-12),
            ("demo_http_request_latency_seconds_max", max(w["latency_us"]) / 1e6, 1e-12),
        ]
        for q in (0.5, 0.9, 0.99):
            checks.append((f"histogram_quantile({q}, demo_http_request_duration_seconds_bucket)",
                           prometheus_quantile(q, buckets), 1e-9))
        problems = []
        for promql, want, tolerance in checks:
            got = query(prom_port, promql)
            for job in JOBS:
                if job not in got or abs(got[job] - want) > tolerance:
                    problems.append(f"{promql} for job {job}: got {got.get(job)}, want {want}")
                else:
                    print(f"ok: {promql} = {got[job]:.9g} (job {job})")
        if problems:
            raise Failed("Prometheus disagrees with the workload:\n  " + "\n  ".join(problems))

        with open(os.path.join(tmp, "server.prom")) as f:
            if "demo_http_requests_total 1000\n" not in f.read():
                raise Failed("the exporter's textfile does not hold the recorded counter")
        print("ok: the exporter wrote the textfile")
    finally:
        for name in ("prometheus", "server"):
            stop_process(procs.get(name), name)
    if procs["server"].returncode != 0:
        raise Failed(f"the server exited with status {procs['server'].returncode} after SIGTERM")
    log = open(os.path.join(tmp, "server.log")).read()
    if re.search(r"ThreadSanitizer|AddressSanitizer|runtime error", log):
        raise Failed("the server reported a sanitizer error:\n" + log)
    print("server: " + log.strip().splitlines()[-1] if log.strip() else "server: (no log)")


def main(argv):
    if len(argv) == 3 and argv[1] == "--skip":
        print("SKIP: " + argv[2])
        return SKIP
    if len(argv) != 2:
        print(__doc__)
        return 2
    prometheus = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.access(prometheus, os.X_OK):
        print("SKIP: prometheus is not installed (sudo apt-get install prometheus)")
        return SKIP
    # SIGTERM (e.g. from CTest) becomes SystemExit, so the cleanup in `finally` still runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    deadline = time.monotonic() + TIME_LIMIT
    tmp = tempfile.mkdtemp(prefix="m5-real-scrape-")
    try:
        run(argv[1], prometheus, tmp, deadline)
    except Failed as e:
        print("FAIL: " + str(e))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS: a real Prometheus scraped the registry and agrees with the workload")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
