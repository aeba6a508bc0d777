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
  // A folder laid out like the recorded Twitter v1.1 fixtures, of which
  // home_timeline.json, search_tweets.json, users_search.json and lists.json
  // are read (the NAME.headers.json files are not). Empty: serve generated
  // records.
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
// paging: `pageSize` (default 200, larger than 5000 served as 5000) and
// `nextPage` in the query, the `elements-next-page-token` response header
// while more records remain. Other query parameters (`where`) are ignored.
// An invalid pageSize or token gets 400, an unknown resource 404, each with a
// JSON body {"message": ...}. Every response carries a `Date` header from the
// clock.
// POST /sandbox/<resource> adds a JSON object as the newest record, dated now
// when it has no `created_at` and given a fresh `id`/`id_str` (greater than
// every id served) when it has no `id_str`, and returns 201 with the stored
// record.
//
// Requests are served on background threads until stop() or destruction.
class Sandbox {
 public:
  // Loads or generates the records, binds and starts serving. Fails when a
  // fixture file is missing or malformed (naming it) or the port is taken.
  static Result<std::unique_ptr<Sandbox>> start(const SandboxOptions& options);

  virtual ~Sandbox() = default;

  // The bound port, never 0.
  virtual std::uint16_t port() const = 0;

  // The hub base URL to poll: http://HOST:PORT/elements/api-v2
  virtual std::string base_url() const = 0;

  // Blocks until stop() is called from another thread.
  virtual void wait() = 0;

  // Stops serving and joins the server thread. Safe to call more than once
  // and from several threads. It locks a mutex, so it is not
  // async-signal-safe: a signal handler must leave the call to a thread.
  virtual void stop() = 0;
};

}  // namespace hubpoll
