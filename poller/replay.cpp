#include "poller/replay.h"

#include <algorithm>
#include <functional>

#include "poller/delivery.h"
#include "poller/event.h"

namespace hubpoll {
namespace {

constexpr std::size_t kEventsPerRead = 500;
constexpr std::int64_t kEventsPerProgressLine = 1000;

// The stored streams of `instance` that `options` selects, in resource
// order.
Result<std::vector<EventStore::StreamSummary>> selected_streams(
    EventStore& store, const InstanceConfig& instance,
    const ReplayOptions& options) {
  auto all = store.stream_summaries();
  if (!all) return all.error();
  std::vector<EventStore::StreamSummary> selected;
  for (EventStore::StreamSummary& stream : *all) {
    if (stream.id.instance_id != instance.instance_id) continue;
    const bool wanted =
        options.resources.empty() ||
        std::find(options.resources.begin(), options.resources.end(),
                  stream.id.resource) != options.resources.end();
    if (wanted) selected.push_back(std::move(stream));
  }
  for (const std::string& resource : options.resources) {
    const bool found = std::any_of(
        selected.begin(), selected.end(),
        [&](const auto& stream) { return stream.id.resource == resource; });
    if (!found) {
      return make_error(ErrorKind::kInvalidArgument,
                        "--resource: no events of \"" + resource +
                            "\" for instance \"" + instance.instance_id +
                            "\" are stored");
    }
  }
  return selected;
}

// Calls `visit` with consecutive batches of at most `batch` selected events
// of each stream, stream after stream.
Status for_each_batch(
    EventStore& store, const InstanceConfig& instance,
    const ReplayOptions& options, std::size_t batch,
    const std::function<Status(std::int64_t stream_key,
                               const std::vector<Event>& events)>& visit) {
  auto streams = selected_streams(store, instance, options);
  if (!streams) return streams.error();
  for (const EventStore::StreamSummary& stream : *streams) {
    std::int64_t after = 0;
    while (true) {
      auto events = store.find_events(stream.state.stream_key, options.query,
                                      after, batch);
      if (!events) return events.error();
      if (events->empty()) break;
      Status status = visit(stream.state.stream_key, *events);
      if (!status) return status;
      after = events->back().sequence;
    }
  }
  return {};
}

}  // namespace

std::string replay_notification_id(Instant created,
                                   std::string_view first_event_id) {
  return "r-" + std::to_string(created.time_since_epoch().count()) + "-" +
         std::string(first_event_id);
}

Result<ReplayReport> replay_to_stream(EventStore& store,
                                      const InstanceConfig& instance,
                                      const ReplayOptions& options,
                                      std::FILE* out, Logger& logger) {
  ReplayReport report;
  Status status = for_each_batch(
      store, instance, options, kEventsPerRead,
      [&](std::int64_t, const std::vector<Event>& events) -> Status {
        std::string lines;
        for (const Event& event : events) {
          lines += format_event_line(event, instance.element_key);
          lines += '\n';
        }
        if (std::fwrite(lines.data(), 1, lines.size(), out) != lines.size() ||
            std::fflush(out) != 0) {
          return make_error(ErrorKind::kIo, "writing events failed");
        }
        const std::int64_t before = report.events;
        report.events += static_cast<std::int64_t>(events.size());
        if (options.progress_every > 0 &&
            before / kEventsPerProgressLine !=
                report.events / kEventsPerProgressLine) {
          logger.info("replay: " + std::to_string(report.events) +
                      " event(s) written so far");
        }
        return {};
      });
  if (!status) return status.error();
  logger.info("replay: wrote " + std::to_string(report.events) +
              " event(s) to stdout");
  return report;
}

Result<ReplayReport> queue_webhook_replay(EventStore& store,
                                          const InstanceConfig& instance,
                                          const ReplayOptions& options,
                                          Instant now, Logger& logger) {
  ReplayReport report;
  const std::size_t group =
      std::max<std::size_t>(1, options.max_events_per_notification);
  Status status = for_each_batch(
      store, instance, options, group,
      [&](std::int64_t stream_key, const std::vector<Event>& events) {
        EventStore::QueuedNotification notification;
        notification.stream_key = stream_key;
        notification.notification_id =
            replay_notification_id(now, events.front().event_id);
        notification.sink = kWebhookReplaySink;
        notification.created = now;
        for (const Event& event : events) {
          notification.event_sequences.push_back(event.sequence);
        }
        Status queued = store.queue_notification(notification);
        if (!queued) return queued;
        ++report.notifications;
        report.events += static_cast<std::int64_t>(events.size());
        if (options.progress_every > 0 &&
            report.notifications %
                    static_cast<std::int64_t>(options.progress_every) ==
                0) {
          logger.info("replay: queued " + std::to_string(report.notifications) +
                      " notification(s) so far");
        }
        return Status();
      });
  if (!status) {
    return make_error(status.error().kind,
                      status.error().message + " (after queueing " +
                          std::to_string(report.notifications) +
                          " replay notification(s))");
  }
  logger.info("replay: queued " + std::to_string(report.notifications) +
              " notification(s) with " + std::to_string(report.events) +
              " event(s) for the webhook");
  return report;
}

}  // namespace hubpoll
