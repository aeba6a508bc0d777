// The report of `hubpoll status`: what the store records about each
// resource, in text for people or JSON for scripts.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

// One resource's line of the report.
struct ResourceStatus {
  EventStore::StreamSummary stream;
  // Last poll plus the refresh interval; empty before the first poll.
  std::optional<Instant> next_poll_due;
};

// Adds the next due time to each stream, `refresh_interval` after its last
// poll.
std::vector<ResourceStatus> build_status(
    std::vector<EventStore::StreamSummary> streams,
    std::chrono::minutes refresh_interval);

// A block of lines per resource: last poll and result, last success,
// window start, counts with the last reject reason, notifications pending
// and dead, and the next poll due.
std::string format_status_text(const std::vector<ResourceStatus>& resources);

// {"resources": [{"instanceId", "resource", "lastPoll", "lastResult",
// "lastSuccess", "windowStart", "fetched", "emitted", "rejected",
// "lastRejectReason", "pendingNotifications", "deadNotifications",
// "nextPollDue"}]}; instants are ISO 8601 UTC strings or null.
std::string format_status_json(const std::vector<ResourceStatus>& resources);

}  // namespace hubpoll
