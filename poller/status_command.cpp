#include <cstdio>

#include "poller/cli.h"
#include "poller/commands.h"
#include "poller/config.h"
#include "poller/status.h"
#include "store/event_store.h"

namespace hubpoll {

int status_command(const StatusCommandOptions& options, Logger& logger) {
  InstanceConfig instance;
  if (!options.instance_path.empty()) {
    auto loaded = load_instance_config(options.instance_path);
    if (!loaded) {
      logger.error(loaded.error().message);
      return kExitUsage;
    }
    instance = std::move(*loaded);
  }
  // Checked first, because opening a missing store would create it.
  if (!store_exists(options.store_path, logger)) return kExitUsage;
  // No writer lock: a running daemon holds it, and SQLite's WAL mode lets
  // this connection read while the daemon writes.
  // NOTE: EventStore::open opens the file read-write and checks the schema
  // in a short write transaction, so status needs write access to the
  // store and its folder. A read-only open would lift that.
  auto store = EventStore::open(options.store_path);
  if (!store) {
    logger.error(store.error().message);
    return kExitFailure;
  }
  auto streams = (*store)->stream_summaries();
  if (!streams) {
    logger.error(streams.error().message);
    return kExitFailure;
  }
  if (!options.instance_path.empty()) {
    std::vector<EventStore::StreamSummary> of_instance;
    for (EventStore::StreamSummary& stream : *streams) {
      if (stream.id.instance_id == instance.instance_id) {
        of_instance.push_back(std::move(stream));
      }
    }
    *streams = std::move(of_instance);
  }

  const std::vector<ResourceStatus> resources =
      build_status(std::move(*streams), instance.refresh_interval);
  const std::string report = options.format == "json"
                                 ? format_status_json(resources)
                                 : format_status_text(resources);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace hubpoll
