#include "poller/status.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "poller/cli.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::minutes;

Instant parse_instant(const char* text) {
  Instant instant;
  REQUIRE(parse_iso8601(text, instant));
  return instant;
}

EventStore::StreamSummary polled_stream() {
  EventStore::StreamSummary stream;
  stream.id = StreamId{"hubpoll", "statuses"};
  stream.state.watermark = parse_instant("2026-01-02T03:00:00Z");
  stream.state.window_start = parse_instant("2026-01-02T02:45:00Z");
  stream.state.last_poll = parse_instant("2026-01-02T03:15:00Z");
  stream.state.last_result = "page 1: HTTP 503 from 127.0.0.1:9: busy";
  stream.state.last_stats.fetched = 60;
  stream.state.last_stats.emitted = 0;
  stream.state.last_stats.rejected = 2;
  stream.state.last_stats.last_reject_reason =
      "page 1 record 3: created_at \"x\" does not match";
  stream.pending_notifications = 4;
  stream.dead_notifications = 1;
  return stream;
}

EventStore::StreamSummary new_stream() {
  EventStore::StreamSummary stream;
  stream.id = StreamId{"hubpoll", "users"};
  return stream;
}

TEST_CASE("status text shows each resource", "[status]") {
  const auto resources =
      build_status({polled_stream(), new_stream()}, minutes(15));
  CHECK(format_status_text(resources) ==
        "statuses (instance hubpoll)\n"
        "  last poll:     2026-01-02T03:15:00Z, failed: page 1: HTTP 503 "
        "from 127.0.0.1:9: busy\n"
        "  last success:  2026-01-02T03:00:00Z\n"
        "  window start:  2026-01-02T02:45:00Z\n"
        "  last counts:   fetched 60, emitted 0, rejected 2 (last reason: "
        "page 1 record 3: created_at \"x\" does not match)\n"
        "  notifications: 4 pending, 1 dead\n"
        "  next poll due: 2026-01-02T03:30:00Z\n"
        "\n"
        "users (instance hubpoll)\n"
        "  last poll:     never\n"
        "  last success:  never\n"
        "  window start:  none\n"
        "  last counts:   fetched 0, emitted 0, rejected 0\n"
        "  notifications: 0 pending, 0 dead\n"
        "  next poll due: at the next run\n");
  CHECK(format_status_text({}) == "no resource has been polled yet\n");
}

TEST_CASE("status JSON carries the same fields", "[status]") {
  const auto resources =
      build_status({polled_stream(), new_stream()}, minutes(10));
  rapidjson::Document report;
  report.Parse(format_status_json(resources).c_str());
  REQUIRE_FALSE(report.HasParseError());
  const auto& list = report["resources"];
  REQUIRE(list.Size() == 2);
  const auto& statuses = list[0];
  CHECK(std::string(statuses["instanceId"].GetString()) == "hubpoll");
  CHECK(std::string(statuses["resource"].GetString()) == "statuses");
  CHECK(std::string(statuses["lastPoll"].GetString()) ==
        "2026-01-02T03:15:00Z");
  CHECK(std::string(statuses["lastResult"].GetString()) ==
        "page 1: HTTP 503 from 127.0.0.1:9: busy");
  CHECK(std::string(statuses["lastSuccess"].GetString()) ==
        "2026-01-02T03:00:00Z");
  CHECK(std::string(statuses["windowStart"].GetString()) ==
        "2026-01-02T02:45:00Z");
  CHECK(statuses["fetched"].GetInt() == 60);
  CHECK(statuses["emitted"].GetInt() == 0);
  CHECK(statuses["rejected"].GetInt() == 2);
  CHECK(std::string(statuses["lastRejectReason"].GetString()) ==
        "page 1 record 3: created_at \"x\" does not match");
  CHECK(statuses["pendingNotifications"].GetInt() == 4);
  CHECK(statuses["deadNotifications"].GetInt() == 1);
  CHECK(std::string(statuses["nextPollDue"].GetString()) ==
        "2026-01-02T03:25:00Z");

  const auto& users = list[1];
  CHECK(users["lastPoll"].IsNull());
  CHECK(users["lastSuccess"].IsNull());
  CHECK(users["windowStart"].IsNull());
  CHECK(users["nextPollDue"].IsNull());
}

TEST_CASE("status command reads a locked store", "[status][cli]") {
  testing::TempDir dir;
  testing::HttpTestServer hub;
  hub.server().Get(".*", [](const httplib::Request&, httplib::Response& reply) {
    reply.set_content(R"([{"id_str": "1", "created_at": "x"}])",
                      "application/json");
  });
  hub.start();
  const std::string store = dir.file("s.db");
  const auto run = testing::run_hubpoll(
      {"run", "--once", "--base-url", hub.url(), "--config",
       std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json", "--resource",
       "statuses", "--store", store});
  REQUIRE(run.exit_code == 0);

  // As a running daemon would.
  auto lock = acquire_writer_lock(store);
  REQUIRE(lock.ok());

  const auto text = testing::run_hubpoll({"status", "--store", store});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("statuses (instance hubpoll)\n"));
  CHECK_THAT(text.out, Catch::Contains("fetched 1, emitted 0, rejected 1 "
                                       "(last reason: page 1 record 1: "));

  const auto json =
      testing::run_hubpoll({"status", "--format", "json", "--store", store});
  REQUIRE(json.exit_code == 0);
  rapidjson::Document report;
  report.Parse(json.out.c_str());
  REQUIRE_FALSE(report.HasParseError());
  REQUIRE(report["resources"].Size() == 1);
  const auto& statuses = report["resources"][0];
  CHECK(std::string(statuses["lastResult"].GetString()) == "ok");
  CHECK(statuses["rejected"].GetInt() == 1);
  Instant last_poll;
  Instant next_due;
  REQUIRE(parse_iso8601(statuses["lastPoll"].GetString(), last_poll));
  REQUIRE(parse_iso8601(statuses["nextPollDue"].GetString(), next_due));
  CHECK(next_due - last_poll == minutes(15));
}

TEST_CASE("status of a missing store exits 2", "[status][cli]") {
  testing::TempDir dir;
  const auto result =
      testing::run_hubpoll({"status", "--store", dir.file("none.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err, Catch::Contains("none.db not found"));
}

}  // namespace
}  // namespace hubpoll
