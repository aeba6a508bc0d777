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
  int max_backoff = 3600;  // seconds
};

int run_command(const RunOptions& options, Logger& logger);

// Options of `hubpoll deliver`.
struct DeliverOptions {
  std::string instance_path;
  std::string store_path = "hubpoll.db";
  bool retry_dead = false;
  int max_backoff = 3600;  // seconds
};

int deliver_command(const DeliverOptions& options, Logger& logger);

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
  std::string base_url;       // probe this hub
  std::string format = "text";  // text or json
  bool strict = false;          // warnings count as errors
};

// Exit codes: 0 clean (warnings allowed), 1 errors, 2 usage errors.
int validate_command(const ValidateOptions& options, Logger& logger);

}  // namespace hubpoll
