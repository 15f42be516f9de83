"""m5_bench's registry-read table and plot (`scripts/lab bench --milestone 5`)."""

import json
import tempfile
import unittest
from pathlib import Path

from labtool.bench_report import load_results, registry_markdown, registry_rows, scaling_svg


def bench(name: str, threads: int, real_us: float, cpu_us: float) -> dict:
    return {"name": name, "run_name": name, "run_type": "iteration", "threads": threads,
            "real_time": real_us, "cpu_time": cpu_us, "time_unit": "us"}


class RegistryTable(unittest.TestCase):
    def setUp(self):
        data = {"context": {"num_cpus": 2, "load_avg": [0.3, 0.2, 0.1]}, "benchmarks": [
            bench("registry_mutex/0/real_time/threads:1", 1, 6.0, 5.9),
            bench("registry_mutex/0/real_time/threads:2", 2, 6.1, 6.0),
            bench("registry_cow/10/real_time/threads:1", 1, 13.0, 12.9),
            {"name": "registry_shared_mutex/1/real_time/threads:1", "error_occurred": True,
             "error_message": "boom"},
            bench("once_call_once", 1, 0.003, 0.003),
        ]}
        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "m5.json"
        path.write_text(json.dumps(data))
        self.context, self.rows, self.errors = load_results(path)

    def tearDown(self):
        self.dir.cleanup()

    def test_series_are_registry_and_percent_and_skip_other_families(self):
        rows, series = registry_rows(self.rows)
        self.assertEqual(series, ["registry_mutex 0%", "registry_cow 10%"])
        self.assertEqual(len(rows), 3)

    def test_markdown_has_wall_and_cpu_tables_and_errors(self):
        md = registry_markdown(self.context, self.rows, self.errors, "scripts/lab bench --milestone 5")
        self.assertIn("| registry_mutex | 0% | 6.00 | 6.10 |", md)
        self.assertIn("| registry_cow | 10% | 12.90 |  |", md)
        self.assertIn("`registry_shared_mutex/1/real_time/threads:1`: boom", md)
        self.assertIn("load average 0.30", md)

    def test_plot_draws_every_series_even_outside_the_m6_families(self):
        rows, series = registry_rows(self.rows)
        svg = scaling_svg(rows, "t", series)
        self.assertEqual(svg.count("<polyline"), 2)
        self.assertIn("registry_cow 10%", svg)


if __name__ == "__main__":
    unittest.main()
