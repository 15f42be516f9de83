// metrics_server.cpp: milestone 5, your registry on an HTTP /metrics endpoint that a real
// Prometheus can scrape.
//
// It registers a small simulated HTTP service in a metrics::MetricsRegistry (your
// starter/05-registry-export code, or the solution, whichever track the build uses), records
// a workload into it, and serves GET /metrics with registry.snapshot_all(): the pull model.
// The background exporter runs too, and with --textfile writes the same text atomically to a
// file for node_exporter's textfile collector: the push-to-a-file model.
//
//   m5_metrics_server [--host 127.0.0.1] [--port 9464] [--requests N] [--threads 2]
//                     [--textfile PATH] [--export-interval-ms 1000]
//
//   --host      address to bind; the default, 127.0.0.1, is reachable from this machine only
//   --port      TCP port; 0 lets the kernel pick a free one (printed on stdout)
//   --requests  record exactly N simulated requests at start-up, then only serve (the values
//               are a fixed function of the request number: tests know what to expect);
//               without it, --threads workers simulate traffic until the server stops
//
// Format: OpenMetrics when the scraper's Accept header asks for it (Prometheus does), else
// the text format 0.0.4; ?format=openmetrics or ?format=text forces one. Stop with Ctrl-C.
//
// Try it (lessons/05-registry-export/README.md has the Prometheus side):
//   build/student/checkpoints/05-registry-export/m5_metrics_server --port 9464 &
//   curl -s localhost:9464/metrics | promtool check metrics
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <metrics_registry.hpp>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 9464;
  std::optional<std::uint64_t> requests;
  int threads = 2;
  std::string textfile;
  int export_interval_ms = 1000;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "m5_metrics_server: " << problem << "\n"
            << "usage: m5_metrics_server [--host ADDR] [--port N] [--requests N] [--threads N]\n"
            << "                         [--textfile PATH] [--export-interval-ms N]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("serves a simulated service's metrics on /metrics");
    if (i + 1 >= argc) usage("missing value after " + arg);
    const std::string value = argv[++i];
    try {
      if (arg == "--host") {
        o.host = value;
      } else if (arg == "--port") {
        o.port = std::stoi(value);
      } else if (arg == "--requests") {
        o.requests = std::stoull(value);
      } else if (arg == "--threads") {
        o.threads = std::stoi(value);
      } else if (arg == "--textfile") {
        o.textfile = value;
      } else if (arg == "--export-interval-ms") {
        o.export_interval_ms = std::stoi(value);
      } else {
        usage("unknown option " + arg);
      }
    } catch (const std::logic_error&) {
      usage("bad value for " + arg + ": " + value);
    }
  }
  if (o.port < 0 || o.port > 65535) usage("--port must be in [0, 65535]");
  if (o.threads < 1 || o.threads > 64) usage("--threads must be in [1, 64]");
  return o;
}

// The metrics of the simulated service.
struct Service {
  std::shared_ptr<metrics::MetricsCollector> http;
  std::shared_ptr<metrics::AtomicHistogram<10>> duration;  // recorded in microseconds
  std::shared_ptr<metrics::AtomicHistogram<5>> size;       // bytes
  std::shared_ptr<metrics::AtomicMinMax> latency;          // microseconds

  explicit Service(metrics::MetricsRegistry& registry)
      : http(registry.register_collector("demo_http", "Simulated HTTP front end")),
        duration(registry.register_histogram(
            "demo_http_request_duration_seconds",
            std::array<std::uint64_t, 10>{100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000,
                                          50'000, 100'000},
            metrics::Unit::microseconds, "Time to serve a request.")),
        size(registry.register_histogram("demo_http_response_size_bytes",
                                         std::array<std::uint64_t, 5>{256, 1'024, 4'096,
                                                                      16'384, 65'536},
                                         metrics::Unit::none, "Size of a response body.")),
        latency(registry.register_min_max("demo_http_request_latency_seconds",
                                          metrics::Unit::microseconds,
                                          "Fastest and slowest request")) {}

  void request(std::uint64_t latency_us, std::uint64_t bytes, bool failed) const {
    http->record_request();
    if (failed) http->record_error();  // after its request, on the same thread (milestone 2)
    http->record_bytes(bytes);
    duration->record(latency_us);
    size->record(bytes);
    latency->update(latency_us);
  }
};

// The fixed workload of --requests N. real_scrape.py computes the same numbers.
void fixed_workload(const Service& service, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    service.http->connection_opened();
    service.request(100 + (i * 7919) % 20'000, 200 + (i * 104'729) % 60'000, i % 10 == 9);
    if (i >= 3) service.http->connection_closed();  // three connections stay open
  }
}

// Simulated traffic until stop is requested: log-normal latencies around 1 ms, 2% errors.
void random_workload(const Service& service, unsigned seed, const std::stop_token& stop) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency_us(7.0, 0.8);
  std::uniform_int_distribution<std::uint64_t> bytes(100, 50'000);
  std::bernoulli_distribution fails(0.02);
  while (!stop.stop_requested()) {
    service.http->connection_opened();
    service.request(static_cast<std::uint64_t>(latency_us(rng)), bytes(rng), fails(rng));
    service.http->connection_closed();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool wants_openmetrics(const httplib::Request& req) {
  // Prometheus sends "Accept: application/openmetrics-text;version=1.0.0,...,text/plain;
  // version=0.0.4;q=0.5,...": it prefers OpenMetrics and takes the 0.0.4 text as well.
  if (req.has_param("format")) return req.get_param_value("format") == "openmetrics";
  return req.get_header_value("Accept").find("application/openmetrics-text") !=
         std::string::npos;
}

int serve(const Options& options) {
  // SIGINT/SIGTERM are blocked in every thread (threads inherit the mask) and received by one
  // thread with sigtimedwait(): no code runs in a signal handler, where almost nothing is safe.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  metrics::MetricsRegistry registry(std::chrono::milliseconds(options.export_interval_ms));
  const Service service(registry);
  if (options.requests) fixed_workload(service, *options.requests);

  try {
    registry.start_export([&options](const metrics::FullSnapshot& s) {
      if (!options.textfile.empty()) metrics::write_textfile(options.textfile, s.to_prometheus());
    });
  } catch (const std::exception& e) {
    std::cerr << "m5_metrics_server: the exporter did not start: " << e.what() << "\n";
  }

  std::vector<std::jthread> workers;
  if (!options.requests) {
    for (int t = 0; t < options.threads; ++t) {
      workers.emplace_back([&service, t](std::stop_token stop) {
        random_workload(service, 12345u + static_cast<unsigned>(t), stop);
      });
    }
  }

  httplib::Server server;
  server.Get("/metrics", [&registry](const httplib::Request& req, httplib::Response& res) {
    try {
      const metrics::FullSnapshot snapshot = registry.snapshot_all();
      if (wants_openmetrics(req)) {
        res.set_content(snapshot.to_openmetrics(),
                        std::string(metrics::kOpenMetricsContentType).c_str());
      } else {
        res.set_content(snapshot.to_prometheus(),
                        std::string(metrics::kPrometheusContentType).c_str());
      }
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(std::string("snapshot failed: ") + e.what() + "\n", "text/plain");
    }
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("m5_metrics_server: the metrics are on /metrics\n", "text/plain");
  });

  const int port = options.port == 0 ? server.bind_to_any_port(options.host)
                                     : (server.bind_to_port(options.host, options.port)
                                            ? options.port
                                            : -1);
  if (port <= 0) {
    std::cerr << "m5_metrics_server: cannot listen on " << options.host << ":" << options.port
              << "\n";
    return 1;
  }
  std::cout << "m5_metrics_server: serving http://" << options.host << ":" << port
            << "/metrics" << std::endl;  // flushed: scripts wait for this line

  std::jthread signal_waiter([&server, &signals](std::stop_token stop) {
    const timespec tick{0, 100'000'000};  // check `stop` every 100 ms
    while (!stop.stop_requested()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  const bool listened = server.listen_after_bind();

  signal_waiter.request_stop();
  signal_waiter.join();
  workers.clear();  // request_stop() + join() each worker
  registry.stop();
  std::cerr << "m5_metrics_server: stopped after " << registry.exports() << " exports ("
            << registry.failed_exports() << " failed)\n";
  return listened ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  try {
    return serve(options);
  } catch (const std::exception& e) {  // e.g. a TODO left in the registry
    std::cerr << "m5_metrics_server: " << e.what() << "\n";
    return 1;
  }
}
