// Metrics of a `run` process in the Prometheus text exposition format, for
// node_exporter's textfile collector.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "poller/delivery.h"
#include "poller/result.h"
#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

// Counters and gauges of one process, by resource and by sink. Counters
// start at zero with the process. Thread-safe.
class RunMetrics {
 public:
  // Sets a resource's last successful poll, e.g. from the store at start,
  // so the gauge survives restarts and resources not polled yet.
  void set_last_success(const std::string& resource, Instant poll_start);

  // Counts one finished poll and its records. `duration` is the poll's
  // wall time, fetching and committing included.
  void record_poll(const std::string& resource, bool ok, const PollStats& stats,
                   std::chrono::milliseconds duration, Instant poll_start);

  // Counts the outcome of one delivery pass to `sink`.
  void record_delivery(const std::string& sink, const DeliveryReport& report);

  // The metrics in the Prometheus text format 0.0.4, with HELP and TYPE
  // lines, every name prefixed `hubpoll_`.
  std::string render() const;

 private:
  struct ResourceMetrics {
    std::int64_t polls_ok = 0;
    std::int64_t polls_failed = 0;
    std::int64_t events_emitted = 0;
    std::int64_t records_rejected = 0;
    std::optional<std::chrono::milliseconds> last_duration;
    std::optional<Instant> last_success;
  };
  struct SinkMetrics {
    std::int64_t delivered = 0;
    std::int64_t failed = 0;  // attempts that failed, retried or dead
  };

  mutable std::mutex mutex_;
  std::map<std::string, ResourceMetrics> resources_;
  std::map<std::string, SinkMetrics> sinks_;
};

// Replaces `path` with `contents` atomically: writes a temporary file in
// the same folder, flushes it to disk, and renames it over `path`, so a
// reader sees the old file or the new one, never a part. The file is
// readable by every user (mode 0644), because node_exporter usually runs
// as a user of its own.
Status write_file_atomically(const std::string& path,
                             std::string_view contents);

}  // namespace hubpoll
