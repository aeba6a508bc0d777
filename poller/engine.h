// One poll of one resource: fetch every page, keep the records in the
// window, de-duplicate them and commit the new events.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "poller/config.h"
#include "poller/fetch_policy.h"
#include "poller/http_client.h"
#include "poller/log.h"
#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

struct PollOptions {
  // The hub base URL that resource URLs are relative to, e.g.
  // http://127.0.0.1:8642/elements/api-v2
  std::string base_url;
  // Value of the Authorization header; empty sends none. A secret: never
  // logged or stored.
  std::string authorization;
  // Secret values to remove from error bodies before they are logged or
  // stored, in case the hub echoes them.
  std::vector<std::string> secrets;
  HttpLimits limits;
  FetchPolicy fetch;
  // Waits for retries and rate limits. Default: sleeps.
  Waiter wait = [](std::chrono::milliseconds duration) {
    std::this_thread::sleep_for(duration);
  };
  // How far each window reaches back before the previous poll's start, so
  // records that reach the hub late are still seen.
  std::chrono::seconds overlap{5 * 60};
  int max_pages = 1000;
  // How long dedupe keys outlive the window before pruning; records older
  // than that are not remembered as seen, because pruning would drop them.
  std::chrono::hours key_retention{24 * 7};
  // Backfill: start this run's windows here instead of at the watermark.
  std::optional<Instant> since;
  // Sink that new events are queued for ("stdout" or "webhook"); empty
  // queues none.
  std::string sink = "stdout";
};

struct PollResult {
  std::string resource;
  bool ok = false;
  // The hub asked for a pause longer than the maximum wait; the resource is
  // skipped until the next cycle. Not counted as a failure.
  bool rate_limited = false;
  std::string error;  // why the poll failed; nothing of it was committed
  PollStats stats;
  Instant window_start;
  Instant poll_start;
};

// Polls resources of one instance into one store. Not thread-safe: use one
// Poller per thread, each with its own store connection.
class Poller {
 public:
  // All references must outlive the Poller.
  Poller(const InstanceConfig& instance, EventStore& store, const Clock& clock,
         Logger& logger, PollOptions options);

  PollResult poll(const ResourceConfig& resource);

 private:
  const InstanceConfig& instance_;
  EventStore& store_;
  const Clock& clock_;
  Logger& logger_;
  PollOptions options_;
};

}  // namespace hubpoll
