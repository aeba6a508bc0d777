// Replay: sending stored events again, to stdout or as new webhook
// notifications, without touching dedupe keys or watermarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "poller/config.h"
#include "poller/log.h"
#include "poller/result.h"
#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

struct ReplayOptions {
  EventStore::EventQuery query;
  // Resources to replay; empty: every resource of the instance in the store.
  std::vector<std::string> resources;
  std::size_t max_events_per_notification = 10;
  // A progress line goes to the log after every this many notifications
  // (webhook) or thousand events (stdout); 0 logs none.
  std::size_t progress_every = 100;
};

struct ReplayReport {
  std::int64_t events = 0;
  std::int64_t notifications = 0;
};

// The id of a replayed notification: `r-<created, Unix ms>-<first event
// id>`. It differs from the live notification's `n-<first event id>`, so a
// receiver that de-duplicates by notification id accepts the replay.
std::string replay_notification_id(Instant created,
                                   std::string_view first_event_id);

// Writes the selected events of `instance` to `out`, one JSON line each in
// the stdout sink's format, resource after resource, each in store order.
// Fails with kInvalidArgument when a requested resource has no stored
// stream.
Result<ReplayReport> replay_to_stream(EventStore& store,
                                      const InstanceConfig& instance,
                                      const ReplayOptions& options,
                                      std::FILE* out, Logger& logger);

// Queues the selected events as new notifications of the sink
// kWebhookReplaySink, created at `now`: at most
// `max_events_per_notification` events each, one resource per
// notification, in store order. Each notification commits on its own, so
// on an error the ones before it stay queued (the report counts them).
Result<ReplayReport> queue_webhook_replay(EventStore& store,
                                          const InstanceConfig& instance,
                                          const ReplayOptions& options,
                                          Instant now, Logger& logger);

}  // namespace hubpoll
