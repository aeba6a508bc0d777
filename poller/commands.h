// The commands behind the CLI, with their options already parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "poller/log.h"

namespace hubpoll {

// Options of `hubpoll run`.
struct RunOptions {
  bool once = false;
  bool sandbox = false;
  std::string sandbox_fixtures;
  std::string config_path = "config/pollers.json";
  std::string instance_path;
  std::string store_path = "hubpoll.db";
  std::string base_url;
  std::vector<std::string> resources;
  std::string since;
  std::string sink;  // empty: chosen from the instance configuration
  int max_pages = 1000;
  int overlap_seconds = 300;
  int retention_days = 7;
  int keep_events_days = 90;
  int max_backoff = 3600;             // seconds
  int max_wait_seconds = 60;          // maximum rate-limit pause waited out
  int request_timeout_seconds = 120;  // whole request, body included
  int max_body_mib = 256;             // larger page bodies fail the poll
  // Prometheus text file rewritten after each poll; empty writes none.
  std::string metrics_file;
  // Seconds a stopping daemon waits for polls in progress before it exits
  // without them; a poll that did not commit by then commits nothing.
  int stop_timeout_seconds = 30;
};

// Polls once with `once`, else runs the daemon until SIGTERM or SIGINT,
// reloading the configuration on SIGHUP.
int run_command(const RunOptions& options, Logger& logger);

// Returns whether the store file exists, logging an error naming it when
// not. Commands that only read or deliver check it first, because opening a
// missing store would create an empty one.
bool store_exists(const std::string& store_path, Logger& logger);

// Options of `hubpoll deliver`.
struct DeliverOptions {
  std::string instance_path;
  std::string store_path = "hubpoll.db";
  bool retry_dead = false;
  int max_backoff = 3600;  // seconds
};

int deliver_command(const DeliverOptions& options, Logger& logger);

// Options of `hubpoll replay`.
struct ReplayCommandOptions {
  std::string since;  // ISO 8601, inclusive; empty: from the first event
  std::string until;  // ISO 8601, exclusive; empty: to the last event
  std::string by = "event-date";  // event-date or poll-date
  std::vector<std::string> resources;
  std::vector<std::string> event_ids;
  std::string sink = "stdout";  // stdout or webhook
  std::string instance_path;
  std::string store_path = "hubpoll.db";
  int max_backoff = 3600;    // seconds
  int progress_every = 100;  // notifications between progress lines
};

int replay_command(const ReplayCommandOptions& options, Logger& logger);

// Options of `hubpoll status`.
struct StatusCommandOptions {
  std::string format = "text";  // text or json
  std::string instance_path;    // for the instance id and refresh interval
  std::string store_path = "hubpoll.db";
};

// Reads the store without taking the writer lock, so it works while a
// daemon runs.
int status_command(const StatusCommandOptions& options, Logger& logger);

// Options of `hubpoll sandbox`.
struct SandboxCommandOptions {
  std::uint16_t port = 8642;
  std::string fixtures;
};

int sandbox_command(const SandboxCommandOptions& options, Logger& logger);

// Options of `hubpoll validate`.
struct ValidateOptions {
  std::string config_path = "config/pollers.json";
  std::string instance_path;  // empty: validate the poller configuration only
  bool probe = false;         // fetch one page per resource and check records
  bool sandbox = false;       // probe the built-in sandbox
  std::string sandbox_fixtures;
  std::string base_url;         // probe this hub
  std::string format = "text";  // text or json
  bool strict = false;          // warnings count as errors
};

// Exit codes: 0 clean (warnings allowed), 1 errors, 2 usage errors.
int validate_command(const ValidateOptions& options, Logger& logger);

}  // namespace hubpoll
