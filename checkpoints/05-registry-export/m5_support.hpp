// m5_support.hpp: helpers for the milestone-5 checkpoints (threads with deadlines).
//
// An exporter test must never hang, even when the code under test is wrong: a sleep-based
// exporter makes stop() block for the whole 60 s interval. These helpers run the blocking
// call on a helper thread and give up after a deadline; the helper thread (which owns a
// reference to the registry) is then detached, so the test fails at once instead of hanging,
// and the process exits normally afterwards.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <metrics_registry.hpp>

namespace m5 {

using namespace std::chrono_literals;

// Polls `done` every millisecond until it returns true (true) or `limit` passes (false).
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs action(registry) on a helper thread that owns `registry`, then drops that reference.
// Returns how long action took, or nullopt if it had not returned after `limit` (the helper
// is then detached). An exception thrown by action (a TODO) is rethrown here.
template <class Action>
std::optional<std::chrono::nanoseconds> timed_on_helper(
    std::shared_ptr<metrics::MetricsRegistry> registry, Action action,
    std::chrono::milliseconds limit = 3000ms) {
  std::promise<std::chrono::nanoseconds> promise;
  std::future<std::chrono::nanoseconds> result = promise.get_future();
  std::thread helper([registry = std::move(registry), action,
                      promise = std::move(promise)]() mutable {
    try {
      const auto start = std::chrono::steady_clock::now();
      action(registry);
      promise.set_value(std::chrono::steady_clock::now() - start);
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  });
  if (result.wait_for(limit) != std::future_status::ready) {
    helper.detach();  // it still owns the registry; the process exit ends it
    return std::nullopt;
  }
  helper.join();
  return result.get();
}

// How long registry->stop() takes (see timed_on_helper).
inline std::optional<std::chrono::nanoseconds> time_stop(
    std::shared_ptr<metrics::MetricsRegistry> registry) {
  return timed_on_helper(std::move(registry),
                         [](std::shared_ptr<metrics::MetricsRegistry>& r) { r->stop(); });
}

// How long destroying the registry takes; the caller must hold no other reference.
inline std::optional<std::chrono::nanoseconds> time_destruction(
    std::shared_ptr<metrics::MetricsRegistry> registry) {
  return timed_on_helper(std::move(registry),
                         [](std::shared_ptr<metrics::MetricsRegistry>& r) { r.reset(); });
}

}  // namespace m5
