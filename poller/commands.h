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
};

int run_command(const RunOptions& options, Logger& logger);

// Options of `hubpoll sandbox`.
struct SandboxCommandOptions {
  std::uint16_t port = 8642;
  std::string fixtures;
};

int sandbox_command(const SandboxCommandOptions& options, Logger& logger);

}  // namespace hubpoll
