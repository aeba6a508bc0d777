// A local stand-in for the Cloud Elements social hub, serving Twitter v1.1
// records, for first runs, demos and tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "poller/result.h"
#include "poller/time_types.h"

namespace hubpoll {

struct SandboxOptions {
  // Address to bind. Only loopback addresses are meant for it.
  std::string host = "127.0.0.1";
  // 0 picks a free port.
  std::uint16_t port = 0;
  // A folder laid out like the recorded Twitter v1.1 fixtures (NAME.json and
  // NAME.headers.json). Empty: serve generated records.
  std::string fixtures_dir;
  // Age of the newest record of each resource once dates are shifted.
  std::chrono::seconds newest_age{180};
  // Source of "now" for shifting dates and dating posted records. Null: the
  // system clock. Must outlive the sandbox.
  const Clock* clock = nullptr;
};

// Serves GET /elements/api-v2/hubs/social/<resource> for the five Twitter
// resources (statuses, users, lists, direct-messages/received-messages,
// direct-messages/sent-messages), newest first, with Cloud Elements cursor
// paging: `pageSize` (default 200) and `nextPage` in the query, the
// `elements-next-page-token` response header while more records remain.
// POST /sandbox/<resource> adds a JSON record, dated now when it has no
// `created_at` and given fresh `id`/`id_str` when it has no `id_str`.
//
// Requests are served on background threads until stop() or destruction.
class Sandbox {
 public:
  // Loads or generates the records, binds and starts serving. Fails when a
  // fixture file is missing or malformed (naming it) or the port is taken.
  static Result<std::unique_ptr<Sandbox>> start(const SandboxOptions& options);

  virtual ~Sandbox() = default;

  virtual std::uint16_t port() const = 0;

  // The hub base URL to poll: http://HOST:PORT/elements/api-v2
  virtual std::string base_url() const = 0;

  // Blocks until stop() is called from another thread or a signal handler.
  virtual void wait() = 0;

  virtual void stop() = 0;
};

}  // namespace hubpoll
