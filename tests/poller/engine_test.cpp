#include "poller/engine.h"

#include <rapidjson/document.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "sandbox/sandbox.h"
#include "support/fakes.h"
#include "support/http_test_server.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Formats an instant in Twitter's created_at format.
std::string twitter_date(Instant instant) {
  return DatePattern::compile("EEE MMM dd HH:mm:ss Z yyyy")
      ->format(instant, Zone());
}

const std::string kTwitterResource = R"({
  "url": "/hubs/social/RESOURCE",
  "idField": "id_str",
  "datesConfiguration": {
    "updatedDateField": "created_at",
    "updatedDateFormat": "EEE MMM dd HH:mm:ss Z yyyy",
    "createdDateField": "created_at",
    "createdDateFormat": "EEE MMM dd HH:mm:ss Z yyyy"
  }
})";

PollerConfig twitter_pollers() {
  auto config = load_poller_config(std::string(HUBPOLL_SOURCE_DIR) +
                                   "/config/pollers.json");
  REQUIRE(config.ok());
  return std::move(*config);
}

ResourceConfig resource_from_json(const std::string& name,
                                  const std::string& json) {
  auto config =
      parse_poller_config("{\"" + name + "\": " + json + "}", "test.json");
  INFO(json);
  REQUIRE(config.ok());
  return config->resources.front();
}

ResourceConfig twitter_resource(const std::string& name) {
  std::string json = kTwitterResource;
  json.replace(json.find("RESOURCE"), 8, name);
  return resource_from_json(name, json);
}

// A store, clock, logger and poller wired together for one test.
struct Harness {
  explicit Harness(Instant now = testing::parse_instant("2026-01-02T03:04:05Z"))
      : clock(now) {
    auto opened = EventStore::open(dir.file("events.db"));
    REQUIRE(opened.ok());
    store = std::move(*opened);
    options.limits.connect_timeout = std::chrono::seconds(5);
  }

  PollResult poll(const ResourceConfig& resource) {
    Poller poller(instance, *store, clock, logger, options);
    return poller.poll(resource);
  }

  // The events queued for stdout and not yet delivered, oldest first.
  std::vector<Event> pending_events() {
    std::vector<Event> events;
    auto due =
        store->due_notifications("stdout", clock.now() + minutes(1), 1000);
    REQUIRE(due.ok());
    for (const Notification& notification : *due) {
      events.insert(events.end(), notification.events.begin(),
                    notification.events.end());
    }
    return events;
  }

  void mark_all_delivered() {
    auto due =
        store->due_notifications("stdout", clock.now() + minutes(1), 1000);
    REQUIRE(due.ok());
    for (const Notification& notification : *due) {
      REQUIRE(
          store->mark_delivered(notification.sequence, clock.now(), 0).ok());
    }
  }

  StreamState stream(const std::string& resource) {
    auto state = store->stream(StreamId{instance.instance_id, resource});
    REQUIRE(state.ok());
    return *state;
  }

  testing::TempDir dir;
  testing::ManualClock clock;
  testing::MemoryLogger logger;
  InstanceConfig instance;
  std::unique_ptr<EventStore> store;
  PollOptions options;
};

std::unique_ptr<Sandbox> start_sandbox(const Clock& clock,
                                       const std::string& fixtures) {
  SandboxOptions options;
  options.clock = &clock;
  options.fixtures_dir = fixtures;
  auto sandbox = Sandbox::start(options);
  REQUIRE(sandbox.ok());
  return std::move(*sandbox);
}

// The ids and dates the sandbox serves for a resource, read as a client.
std::map<std::string, Instant> served_records(const Sandbox& sandbox,
                                              const std::string& resource) {
  httplib::Client client("127.0.0.1", sandbox.port());
  auto response = client.Get(
      ("/elements/api-v2/hubs/social/" + resource + "?pageSize=1000").c_str());
  REQUIRE(response);
  REQUIRE(response->status == 200);
  rapidjson::Document body;
  body.Parse(response->body.c_str());
  REQUIRE(body.IsArray());
  const auto pattern = DatePattern::compile("EEE MMM dd HH:mm:ss Z yyyy");
  std::map<std::string, Instant> records;
  for (const auto& record : body.GetArray()) {
    auto date = pattern->parse(record["created_at"].GetString(), Zone());
    REQUIRE(date.ok());
    records[record["id_str"].GetString()] = *date;
  }
  return records;
}

TEST_CASE("first poll emits only records inside the first window", "[engine]") {
  Harness harness;
  auto sandbox = start_sandbox(harness.clock, testing::fixtures_dir());
  harness.options.base_url = sandbox->base_url();
  const PollerConfig pollers = twitter_pollers();
  const auto served = served_records(*sandbox, "statuses");
  const Instant window_start = harness.clock.now() - minutes(15);

  const PollResult result = harness.poll(*pollers.find("statuses"));
  REQUIRE(result.ok);
  CHECK(result.window_start == window_start);
  CHECK(result.stats.fetched == static_cast<std::int64_t>(served.size()));
  CHECK(result.stats.rejected == 0);

  std::set<std::string> expected;
  for (const auto& [id, date] : served) {
    if (date >= window_start) expected.insert(id);
  }
  REQUIRE_FALSE(expected.empty());
  REQUIRE(expected.size() < served.size());

  std::set<std::string> emitted;
  for (const Event& event : harness.pending_events()) {
    CHECK(event.event_type == "CREATED");
    CHECK(event.resource == "statuses");
    CHECK(event.date == served.at(event.object_id));
    emitted.insert(event.object_id);
  }
  CHECK(emitted == expected);

  const StreamState state = harness.stream("statuses");
  for (const auto& [id, date] : served) {
    INFO("record " << id);
    const KeyState key = *harness.store->find_key(state.stream_key, "c:" + id);
    // Records older than the key retention are not remembered at all.
    const KeyState old_state = date >= window_start - std::chrono::hours(24 * 7)
                                   ? KeyState::kSeen
                                   : KeyState::kAbsent;
    CHECK(key == (expected.count(id) ? KeyState::kEmitted : old_state));
  }
}

TEST_CASE("a second poll of the same records emits nothing", "[engine]") {
  Harness harness;
  auto sandbox = start_sandbox(harness.clock, testing::fixtures_dir());
  harness.options.base_url = sandbox->base_url();
  const PollerConfig pollers = twitter_pollers();
  for (const ResourceConfig& resource : pollers.resources) {
    REQUIRE(harness.poll(resource).ok);
  }
  harness.mark_all_delivered();
  harness.clock.advance(minutes(1));
  for (const ResourceConfig& resource : pollers.resources) {
    const PollResult result = harness.poll(resource);
    REQUIRE(result.ok);
    CHECK(result.stats.emitted == 0);
  }
  CHECK(harness.pending_events().empty());
}

TEST_CASE("a record posted to the sandbox is the next poll's only event",
          "[engine]") {
  Harness harness;
  auto sandbox = start_sandbox(harness.clock, testing::fixtures_dir());
  harness.options.base_url = sandbox->base_url();
  const PollerConfig pollers = twitter_pollers();
  const ResourceConfig& statuses = *pollers.find("statuses");
  REQUIRE(harness.poll(statuses).ok);
  harness.mark_all_delivered();

  harness.clock.advance(minutes(1));
  httplib::Client client("127.0.0.1", sandbox->port());
  auto posted =
      client.Post("/sandbox/statuses", R"({"text": "hello from the test"})",
                  "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 201);
  rapidjson::Document record;
  record.Parse(posted->body.c_str());
  REQUIRE(record.HasMember("id_str"));
  const std::string id = record["id_str"].GetString();

  harness.clock.advance(seconds(30));
  const PollResult result = harness.poll(statuses);
  REQUIRE(result.ok);
  CHECK(result.stats.emitted == 1);
  const std::vector<Event> events = harness.pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].object_id == id);
  CHECK_THAT(events[0].raw, Catch::Contains("hello from the test"));
}

// Serves `body` for every GET, with the given status and headers.
void serve_body(testing::HttpTestServer& server, const std::string& body,
                int status = 200,
                std::map<std::string, std::string> headers = {}) {
  server.server().Get(
      ".*", [=](const httplib::Request&, httplib::Response& response) {
        response.status = status;
        for (const auto& [name, value] : headers) {
          response.set_header(name.c_str(), value.c_str());
        }
        response.set_content(body, "application/json");
      });
}

TEST_CASE("an id above the 64-bit range keeps its exact digits", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  const std::string now = twitter_date(harness.clock.now());
  serve_body(server, R"([{"id": 10765432100123456789, "created_at": ")" + now +
                         R"("}])");
  server.start();
  harness.options.base_url = server.url();
  std::string json = kTwitterResource;
  json.replace(json.find("\"id_str\""), 8, "\"id\"");
  json.replace(json.find("RESOURCE"), 8, "statuses");

  const PollResult result = harness.poll(resource_from_json("statuses", json));
  REQUIRE(result.ok);
  const std::vector<Event> events = harness.pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].object_id == "10765432100123456789");
  CHECK_THAT(events[0].raw, Catch::Contains("10765432100123456789"));
}

TEST_CASE("invalid records are rejected and the rest still emitted",
          "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  const std::string now = twitter_date(harness.clock.now());
  serve_body(server,
             R"([{"id_str": "1", "created_at": ")" + now +
                 R"("},)"
                 R"( {"id_str": "2", "created_at": "2019-07-13 02:27"},)"
                 R"( {"created_at": ")" +
                 now +
                 R"("},)"
                 R"( {"id_str": "4", "created_at": ")" +
                 now + R"("}])");
  server.start();
  harness.options.base_url = server.url();

  const PollResult result = harness.poll(twitter_resource("statuses"));
  REQUIRE(result.ok);
  CHECK(result.stats.fetched == 4);
  CHECK(result.stats.rejected == 2);
  CHECK(result.stats.emitted == 2);
  std::set<std::string> emitted;
  for (const Event& event : harness.pending_events()) {
    emitted.insert(event.object_id);
  }
  CHECK(emitted == std::set<std::string>{"1", "4"});

  const std::string reason = result.stats.last_reject_reason;
  CHECK_THAT(reason, Catch::Contains("page 1 record 2"));
  CHECK_THAT(reason, Catch::Contains("value '2019-07-13 02:27'"));
  CHECK_THAT(reason,
             Catch::Contains("date pattern 'EEE MMM dd HH:mm:ss Z yyyy'"));
  const std::string log = harness.logger.text();
  CHECK_THAT(log, Catch::Contains("statuses: rejected 2 record(s); first: "
                                  "page 1 record 2: created_at"));
  CHECK(harness.stream("statuses").last_stats.last_reject_reason == reason);
}

TEST_CASE("an HTTP error fails the resource and commits nothing", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  server.server().Get("/hubs/social/statuses", [](const httplib::Request&,
                                                  httplib::Response& reply) {
    reply.status = 503;
    reply.set_content("<html>Service Unavailable</html>", "text/html");
  });
  const std::string now = twitter_date(harness.clock.now());
  server.server().Get("/hubs/social/users", [&](const httplib::Request&,
                                                httplib::Response& reply) {
    reply.set_content(R"([{"id_str": "u1", "created_at": ")" + now + R"("}])",
                      "application/json");
  });
  server.start();
  harness.options.base_url = server.url();

  const PollResult failed = harness.poll(twitter_resource("statuses"));
  CHECK_FALSE(failed.ok);
  CHECK_THAT(failed.error,
             Catch::StartsWith("page 1: HTTP 503 from 127.0.0.1:" +
                               std::to_string(server.port()) +
                               ": <html>Service Unavailable</html>"));
  const StreamState state = harness.stream("statuses");
  CHECK_FALSE(state.watermark.has_value());
  CHECK_THAT(state.last_result, Catch::Contains("HTTP 503"));

  const PollResult other = harness.poll(twitter_resource("users"));
  CHECK(other.ok);
  CHECK(other.stats.emitted == 1);
}

TEST_CASE("a refused connection fails the resource", "[engine]") {
  Harness harness;
  harness.options.base_url =
      "http://127.0.0.1:" + std::to_string(testing::unused_port());
  const PollResult result = harness.poll(twitter_resource("statuses"));
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::StartsWith("page 1: "));
  CHECK(harness.pending_events().empty());
}

TEST_CASE("a page that fails midway commits none of the earlier pages",
          "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  const std::string now = twitter_date(harness.clock.now());
  server.server().Get(".*", [&](const httplib::Request& request,
                                httplib::Response& reply) {
    if (!request.has_param("nextPage")) {
      reply.set_header("elements-next-page-token", "second");
      reply.set_content(R"([{"id_str": "1", "created_at": ")" + now + R"("}])",
                        "application/json");
      return;
    }
    reply.set_content(R"([{"id_str": "2", "created_at": )", "application/json");
  });
  server.start();
  harness.options.base_url = server.url();

  const PollResult result = harness.poll(twitter_resource("statuses"));
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::StartsWith("page 2: invalid JSON"));
  CHECK(harness.pending_events().empty());
  const StreamState state = harness.stream("statuses");
  CHECK(*harness.store->find_key(state.stream_key, "c:1") == KeyState::kAbsent);
}

TEST_CASE("paging follows tokens until the hub has no more", "[engine]") {
  Harness harness;
  auto sandbox = start_sandbox(harness.clock, testing::fixtures_dir());
  harness.options.base_url = sandbox->base_url();
  const auto served = served_records(*sandbox, "statuses");
  std::string json = kTwitterResource;
  json.replace(json.find("RESOURCE"), 8, "statuses");
  json.insert(1, "\"pageSize\": 7,");

  const PollResult result = harness.poll(resource_from_json("statuses", json));
  REQUIRE(result.ok);
  CHECK(result.stats.fetched == static_cast<std::int64_t>(served.size()));
}

TEST_CASE("a repeated page token ends the poll with an error", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  std::atomic<int> requests{0};
  server.server().Get(
      ".*", [&](const httplib::Request& request, httplib::Response& reply) {
        ++requests;
        const std::string token = request.get_param_value("nextPage");
        reply.set_header("elements-next-page-token", token == "A" ? "B" : "A");
        reply.set_content(R"([{"id_str": ")" + token + R"(x"}])",
                          "application/json");
      });
  server.start();
  harness.options.base_url = server.url();
  ResourceConfig resource = twitter_resource("statuses");
  resource.updated_date.reset();
  resource.created_date.reset();

  const PollResult result = harness.poll(resource);
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error,
             Catch::Contains("next-page token \"A\" a second time"));
  CHECK(requests == 3);
  CHECK(harness.pending_events().empty());
}

TEST_CASE("max pages bounds a poll", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  std::atomic<int> requests{0};
  server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        const int page = ++requests;
        reply.set_header("elements-next-page-token", std::to_string(page));
        reply.set_content(R"([{"id_str": ")" + std::to_string(page) + R"("}])",
                          "application/json");
      });
  server.start();
  harness.options.base_url = server.url();
  harness.options.max_pages = 4;
  ResourceConfig resource = twitter_resource("statuses");
  resource.updated_date.reset();
  resource.created_date.reset();

  const PollResult result = harness.poll(resource);
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::Contains("more than 4 pages"));
  CHECK(requests == 4);
}

TEST_CASE("an empty page or has-more false ends paging", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  std::atomic<int> requests{0};
  server.server().Get(
      ".*", [&](const httplib::Request& request, httplib::Response& reply) {
        ++requests;
        reply.set_header("elements-next-page-token", "more");
        if (request.has_param("nextPage")) {
          reply.set_header("elements-has-more", "false");
        }
        reply.set_content(R"([{"id_str": "1"}])", "application/json");
      });
  server.start();
  harness.options.base_url = server.url();
  ResourceConfig resource = twitter_resource("statuses");
  resource.updated_date.reset();
  resource.created_date.reset();

  const PollResult result = harness.poll(resource);
  CHECK(result.ok);
  CHECK(requests == 2);
}

TEST_CASE("the server's Date header sets the poll start", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(server, "[]", 200, {{"Date", "Fri, 02 Jan 2026 03:10:00 GMT"}});
  server.start();
  harness.options.base_url = server.url();

  const PollResult result = harness.poll(twitter_resource("statuses"));
  REQUIRE(result.ok);
  CHECK(result.poll_start == testing::parse_instant("2026-01-02T03:10:00Z"));
  CHECK(*harness.stream("statuses").watermark ==
        testing::parse_instant("2026-01-02T03:10:00Z"));
}

TEST_CASE("later windows overlap the previous poll", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  const Instant boundary = harness.clock.now() - seconds(1);
  std::atomic<int> records{2};
  server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        std::string body = "[";
        for (int i = 1; i <= records; ++i) {
          if (i > 1) body += ",";
          body += R"({"id_str": ")" + std::to_string(i) +
                  R"(", "created_at": ")" + twitter_date(boundary) + R"("})";
        }
        reply.set_content(body + "]", "application/json");
      });
  server.start();
  harness.options.base_url = server.url();
  const ResourceConfig resource = twitter_resource("statuses");

  REQUIRE(harness.poll(resource).stats.emitted == 2);
  harness.mark_all_delivered();

  // Record 3 reaches the hub late, dated before the previous poll's start.
  records = 3;
  harness.clock.advance(minutes(2));
  const PollResult second = harness.poll(resource);
  REQUIRE(second.ok);
  CHECK(second.window_start == harness.clock.now() - minutes(2) - minutes(5));
  const std::vector<Event> events = harness.pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].object_id == "3");
}

TEST_CASE(
    "created and updated dates apart make UPDATED events once per "
    "update",
    "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  const std::string created = "2026-01-01T00:00:00Z";
  std::string updated = "2026-01-02T03:00:00Z";
  server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        reply.set_content(R"([{"id": "7", "created": ")" + created +
                              R"(", "updated": ")" + updated + R"("}])",
                          "application/json");
      });
  server.start();
  harness.options.base_url = server.url();
  const ResourceConfig resource = resource_from_json("tickets", R"({
    "url": "/tickets", "idField": "id",
    "datesConfiguration": {
      "updatedDateField": "updated",
      "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX",
      "createdDateField": "created",
      "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX"}})");

  REQUIRE(harness.poll(resource).stats.emitted == 1);
  auto events = harness.pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].event_type == "UPDATED");
  CHECK(events[0].date == testing::parse_instant("2026-01-02T03:00:00Z"));
  harness.mark_all_delivered();

  harness.clock.advance(minutes(1));
  CHECK(harness.poll(resource).stats.emitted == 0);

  updated = "2026-01-02T03:05:00Z";
  harness.clock.advance(minutes(1));
  REQUIRE(harness.poll(resource).stats.emitted == 1);
  events = harness.pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].event_type == "UPDATED");
  CHECK(events[0].date == testing::parse_instant("2026-01-02T03:05:00Z"));
}

TEST_CASE("filterByCurrentDate leaves future records for later", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(server, R"([{"id_str": "now", "created_at": ")" +
                         twitter_date(harness.clock.now() - seconds(5)) +
                         R"("}, {"id_str": "future", "created_at": ")" +
                         twitter_date(harness.clock.now() + minutes(10)) +
                         R"("}])");
  server.start();
  harness.options.base_url = server.url();
  ResourceConfig resource = twitter_resource("statuses");

  resource.filter_by_current_date = true;
  const PollResult result = harness.poll(resource);
  REQUIRE(result.ok);
  CHECK(result.stats.emitted == 1);
  const StreamState state = harness.stream("statuses");
  CHECK(*harness.store->find_key(state.stream_key, "c:future") ==
        KeyState::kAbsent);
}

TEST_CASE("a backfill emits records seen but never emitted", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(server, R"([{"id_str": "old", "created_at": ")" +
                         twitter_date(harness.clock.now() - minutes(60)) +
                         R"("}])");
  server.start();
  harness.options.base_url = server.url();
  const ResourceConfig resource = twitter_resource("statuses");

  CHECK(harness.poll(resource).stats.emitted == 0);
  harness.options.since = harness.clock.now() - minutes(120);
  CHECK(harness.poll(resource).stats.emitted == 1);
  CHECK(harness.poll(resource).stats.emitted == 0);
}

TEST_CASE("the authorization header is sent but never logged", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  std::string received;
  server.server().Get(".*", [&](const httplib::Request& request,
                                httplib::Response& reply) {
    received = request.get_header_value("Authorization");
    reply.status = 401;
    reply.set_content(R"({"message": "bad credentials"})", "application/json");
  });
  server.start();
  harness.options.base_url = server.url();
  harness.options.authorization =
      "User s3cr3t-u, Organization s3cr3t-o, "
      "Element s3cr3t-e";

  const PollResult result = harness.poll(twitter_resource("statuses"));
  CHECK_FALSE(result.ok);
  CHECK(received == harness.options.authorization);
  CHECK_THAT(harness.logger.text(), !Catch::Contains("s3cr3t"));
  CHECK_THAT(result.error, !Catch::Contains("s3cr3t"));
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

// A hub that keeps returning records from 2019, with date filtering off:
// pruning by record date once dropped their keys while their events stayed,
// and every later poll failed on the duplicate event id.
TEST_CASE("old records stay emitted once after pruning", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(server, R"([{"id_str": "a", "created_at": "Sat Jul 13 02:27:22 )"
                     R"(+0000 2019"}, {"id_str": "b", "created_at": )"
                     R"("Fri Jul 12 23:40:37 +0000 2019"}])");
  server.start();
  harness.options.base_url = server.url();
  ResourceConfig resource = twitter_resource("users");
  resource.filter_by_updated_date = false;

  REQUIRE(harness.poll(resource).stats.emitted == 2);
  const Instant now = harness.clock.now();
  REQUIRE(harness.store
              ->prune(now - minutes(15) - std::chrono::hours(24 * 7),
                      now - std::chrono::hours(24 * 90), 1000)
              .ok());
  harness.clock.advance(minutes(15));
  PollResult again = harness.poll(resource);
  INFO(again.error);
  CHECK(again.ok);
  CHECK(again.stats.emitted == 0);

  SECTION("even when their keys are gone") {
    // A horizon past the keys' dates drops them; the stored events still
    // keep the records from being emitted again.
    REQUIRE(harness.store
                ->prune(harness.clock.now() + minutes(1),
                        now - std::chrono::hours(24 * 90), 1000)
                .ok());
    const StreamState state = harness.stream("users");
    REQUIRE(*harness.store->find_key(state.stream_key, "c:a") ==
            KeyState::kAbsent);
    harness.clock.advance(minutes(15));
    again = harness.poll(resource);
    INFO(again.error);
    CHECK(again.ok);
    CHECK(again.stats.emitted == 0);
    CHECK(*harness.store->find_key(state.stream_key, "c:a") ==
          KeyState::kEmitted);
  }
}

TEST_CASE("records older than the key retention are not remembered",
          "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(
      server,
      R"([{"id_str": "old", "created_at": ")" +
          twitter_date(harness.clock.now() - std::chrono::hours(24 * 30)) +
          R"("}, {"id_str": "recent", "created_at": ")" +
          twitter_date(harness.clock.now() - minutes(60)) + R"("}])");
  server.start();
  harness.options.base_url = server.url();
  const PollResult result = harness.poll(twitter_resource("statuses"));
  REQUIRE(result.ok);
  CHECK(result.stats.emitted == 0);
  const StreamState state = harness.stream("statuses");
  CHECK(*harness.store->find_key(state.stream_key, "c:old") ==
        KeyState::kAbsent);
  CHECK(*harness.store->find_key(state.stream_key, "c:recent") ==
        KeyState::kSeen);
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

TEST_CASE("a hub Date more than a day off is ignored", "[engine]") {
  for (const char* date :
       {"Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"}) {
    INFO(date);
    Harness harness;
    testing::HttpTestServer server;
    serve_body(server, "[]", 200, {{"Date", date}});
    server.start();
    harness.options.base_url = server.url();
    const PollResult result = harness.poll(twitter_resource("statuses"));
    REQUIRE(result.ok);
    CHECK(result.poll_start == harness.clock.now());
    CHECK_THAT(harness.logger.text(),
               Catch::Contains("ignoring the hub's Date"));
  }
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

TEST_CASE("raw records keep their text unless they span lines", "[engine]") {
  Harness harness;
  testing::HttpTestServer server;
  serve_body(server,
             "[{\"id_str\": \"1\",  \"x\" : 1},\n"
             " {\"id_str\": \"2\",\n  \"x\": \"a b\"}]");
  server.start();
  harness.options.base_url = server.url();
  ResourceConfig resource = twitter_resource("statuses");
  resource.updated_date.reset();
  resource.created_date.reset();

  REQUIRE(harness.poll(resource).ok);
  const std::vector<Event> events = harness.pending_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].raw == R"({"id_str": "1",  "x" : 1})");
  CHECK(events[1].raw == R"({"id_str":"2","x":"a b"})");
}

}  // namespace
}  // namespace hubpoll
