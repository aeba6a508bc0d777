#include <cstdio>

#include "poller/cli.h"
#include "poller/commands.h"
#include "poller/config.h"
#include "poller/delivery.h"
#include "poller/replay.h"
#include "store/event_store.h"

namespace hubpoll {
namespace {

Status parse_time_option(const std::string& text, const char* option,
                         std::optional<Instant>& instant) {
  if (text.empty()) return {};
  Instant parsed;
  if (!parse_iso8601(text, parsed)) {
    return make_error(ErrorKind::kInvalidArgument,
                      std::string(option) + ": \"" + text +
                          "\" is not an ISO 8601 time such as "
                          "2026-01-02T03:04:05Z");
  }
  instant = parsed;
  return {};
}

Result<ReplayOptions> replay_options(const ReplayCommandOptions& options) {
  ReplayOptions replay;
  Status status =
      parse_time_option(options.since, "--since", replay.query.since);
  if (!status) return status.error();
  status = parse_time_option(options.until, "--until", replay.query.until);
  if (!status) return status.error();
  replay.query.by_poll_date = options.by == "poll-date";
  replay.query.event_ids = options.event_ids;
  replay.resources = options.resources;
  replay.progress_every =
      static_cast<std::size_t>(std::max(0, options.progress_every));
  return replay;
}

// Queues the replay and, when no other process has locked the store, delivers
// it. A daemon that has locked the store delivers the queue after its next
// poll, so a replay never waits for it to stop.
int replay_to_webhook(const ReplayOptions& replay,
                      const InstanceConfig& instance,
                      const ReplayCommandOptions& options, Logger& logger) {
  auto lock = acquire_writer_lock(options.store_path);
  if (!lock && lock.error().kind != ErrorKind::kLocked) {
    logger.error(lock.error().message);
    return kExitFailure;
  }
  auto store = EventStore::open(options.store_path);
  if (!store) {
    logger.error(store.error().message);
    return kExitFailure;
  }
  SystemClock clock;
  auto queued =
      queue_webhook_replay(**store, instance, replay, clock.now(), logger);
  if (!queued) {
    logger.error("replay failed: " + queued.error().message);
    return queued.error().kind == ErrorKind::kInvalidArgument ? kExitUsage
                                                              : kExitFailure;
  }
  if (!lock) {
    logger.info(lock.error().message +
                "; that process delivers the replayed notifications after "
                "its next poll, or run `hubpoll deliver` once it has exited");
    return kExitOk;
  }

  DeliveryOptions delivery_options;
  delivery_options.max_backoff = std::chrono::seconds(options.max_backoff);
  Deliverer deliverer(instance, **store, clock, logger, delivery_options);
  auto posted = deliverer.deliver_replays_to_webhook();
  if (!posted) {
    logger.error("delivering the replay failed: " + posted.error().message);
    return kExitFailure;
  }
  if (posted->retrying > 0 || posted->dead > 0) {
    logger.error("replay: " + std::to_string(posted->retrying) +
                 " notification(s) to retry and " +
                 std::to_string(posted->dead) +
                 " dead; `hubpoll deliver` retries them when due");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int replay_command(const ReplayCommandOptions& options, Logger& logger) {
  auto replay = replay_options(options);
  if (!replay) {
    logger.error(replay.error().message);
    return kExitUsage;
  }
  InstanceConfig instance;
  if (!options.instance_path.empty()) {
    auto loaded = load_instance_config(options.instance_path);
    if (!loaded) {
      logger.error(loaded.error().message);
      return kExitUsage;
    }
    instance = std::move(*loaded);
  }
  if (options.sink == "webhook" && instance.callback_url.empty()) {
    logger.error(
        "--sink webhook needs event.notification.callback.url in the "
        "instance configuration (--instance)");
    return kExitUsage;
  }
  if (!store_exists(options.store_path, logger)) return kExitUsage;

  if (options.sink == "webhook") {
    return replay_to_webhook(*replay, instance, options, logger);
  }
  auto store = EventStore::open(options.store_path);
  if (!store) {
    logger.error(store.error().message);
    return kExitFailure;
  }
  auto written = replay_to_stream(**store, instance, *replay, stdout, logger);
  if (!written) {
    logger.error("replay failed: " + written.error().message);
    return written.error().kind == ErrorKind::kInvalidArgument ? kExitUsage
                                                               : kExitFailure;
  }
  return kExitOk;
}

}  // namespace hubpoll
