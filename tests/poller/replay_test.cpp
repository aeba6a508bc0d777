#include "poller/replay.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

#include "poller/cli.h"
#include "poller/delivery.h"
#include "poller/event.h"
#include "support/fakes.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-02T03:00:00Z, the poll that stored every event.
const Instant kPollStart{std::chrono::milliseconds(1767322800000)};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// `count` events of `resource`, the i-th dated i minutes after 01:00.
std::vector<Event> make_events(const std::string& resource, int count) {
  std::vector<Event> events;
  for (int i = 0; i < count; ++i) {
    Event event;
    event.resource = resource;
    event.instance_id = "hubpoll";
    event.object_id = resource + "-" + std::to_string(i);
    event.event_type = "CREATED";
    event.date = testing::parse_instant("2026-01-02T01:00:00Z") + minutes(i);
    event.poll_date = kPollStart;
    event.raw =
        "{\"id\":\"" + event.object_id + "\",\"n\":" + std::to_string(i) + "}";
    event.event_id = make_event_id("hubpoll", resource, event.object_id,
                                   "CREATED", event.date);
    events.push_back(std::move(event));
  }
  return events;
}

// Commits events as one poll would, with their dedupe keys.
void commit_events(EventStore& store, const std::vector<Event>& events,
                   const std::string& sink) {
  auto state = store.stream(StreamId{"hubpoll", events.front().resource});
  REQUIRE(state.ok());
  PollCommit commit;
  commit.stream_key = state->stream_key;
  commit.poll_start = kPollStart;
  commit.window_start = kPollStart - minutes(15);
  commit.events = events;
  commit.sink = sink;
  for (const Event& event : events) {
    commit.keys.push_back(
        DedupeEntry{"c:" + event.object_id, event.date, true});
  }
  commit.stats.fetched = static_cast<std::int64_t>(events.size());
  commit.stats.emitted = commit.stats.fetched;
  REQUIRE(store.commit_poll(commit).ok());
}

// A store holding 25 statuses events and 3 users events whose live
// notifications were delivered.
struct ReplayStore {
  ReplayStore() : clock(kPollStart + minutes(30)) {
    auto opened = EventStore::open(path());
    REQUIRE(opened.ok());
    store = std::move(*opened);
    statuses = make_events("statuses", 25);
    users = make_events("users", 3);
    commit_events(*store, statuses, "webhook");
    commit_events(*store, users, "webhook");
    auto due = store->due_notifications("webhook", clock.now(), 100);
    REQUIRE(due.ok());
    while (!due->empty()) {
      for (const Notification& notification : *due) {
        REQUIRE(store->mark_delivered(notification.sequence, clock.now(), 200)
                    .ok());
      }
      due = store->due_notifications("webhook", clock.now(), 100);
      REQUIRE(due.ok());
    }
  }

  std::string path() const { return dir.file("events.db"); }

  // Replays to a temporary file and returns its lines.
  std::vector<std::string> replay_lines(const ReplayOptions& options) {
    const std::string out_path = dir.file("replay.jsonl");
    std::FILE* out = std::fopen(out_path.c_str(), "w");
    REQUIRE(out != nullptr);
    auto report = replay_to_stream(*store, instance, options, out, logger);
    std::fclose(out);
    REQUIRE(report.ok());
    return lines_of(testing::read_file(out_path));
  }

  testing::TempDir dir;
  testing::ManualClock clock;
  testing::MemoryLogger logger;
  InstanceConfig instance;
  std::unique_ptr<EventStore> store;
  std::vector<Event> statuses;
  std::vector<Event> users;
};

// Everything that decides whether a record is new: per stream, the state
// and every key's state.
std::string dedupe_snapshot(EventStore& store,
                            const std::vector<Event>& events) {
  auto state = store.stream(StreamId{"hubpoll", events.front().resource});
  REQUIRE(state.ok());
  std::string snapshot = format_iso8601(*state->watermark) + " " +
                         format_iso8601(*state->window_start) + " " +
                         state->last_result + "\n";
  for (const Event& event : events) {
    auto key = store.find_key(state->stream_key, "c:" + event.object_id);
    REQUIRE(key.ok());
    snapshot +=
        event.object_id + "=" + std::to_string(static_cast<int>(*key)) + "\n";
  }
  return snapshot;
}

TEST_CASE("replay to stdout writes the stored events", "[replay]") {
  ReplayStore fixture;
  const std::vector<std::string> lines = fixture.replay_lines({});
  REQUIRE(lines.size() == 28);
  // Resource after resource, each in store order.
  for (std::size_t i = 0; i < 25; ++i) {
    Event expected = fixture.statuses[i];
    CHECK(lines[i] == format_event_line(expected, "twitter"));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(lines[25 + i] == format_event_line(fixture.users[i], "twitter"));
  }
}

TEST_CASE("replay selects by date, resource and event id", "[replay]") {
  ReplayStore fixture;
  SECTION("event dates in [since, until)") {
    ReplayOptions options;
    options.query.since = testing::parse_instant("2026-01-02T01:05:00Z");
    options.query.until = testing::parse_instant("2026-01-02T01:07:00Z");
    options.resources = {"statuses"};
    const auto lines = fixture.replay_lines(options);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == format_event_line(fixture.statuses[5], "twitter"));
    CHECK(lines[1] == format_event_line(fixture.statuses[6], "twitter"));
  }
  SECTION("poll dates") {
    ReplayOptions options;
    options.query.by_poll_date = true;
    options.query.since = kPollStart;
    CHECK(fixture.replay_lines(options).size() == 28);
    options.query.since = kPollStart + seconds(1);
    CHECK(fixture.replay_lines(options).empty());
  }
  SECTION("event ids") {
    ReplayOptions options;
    options.query.event_ids = {fixture.users[2].event_id,
                               fixture.statuses[0].event_id};
    const auto lines = fixture.replay_lines(options);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == format_event_line(fixture.statuses[0], "twitter"));
    CHECK(lines[1] == format_event_line(fixture.users[2], "twitter"));
  }
  SECTION("an unknown resource is an error") {
    ReplayOptions options;
    options.resources = {"tweets"};
    auto report = replay_to_stream(*fixture.store, fixture.instance, options,
                                   stdout, fixture.logger);
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().kind == ErrorKind::kInvalidArgument);
    CHECK_THAT(report.error().message, Catch::Contains("\"tweets\""));
  }
}

TEST_CASE("replay keeps dedupe keys and watermarks", "[replay]") {
  ReplayStore fixture;
  const std::string statuses_before =
      dedupe_snapshot(*fixture.store, fixture.statuses);
  const std::string users_before =
      dedupe_snapshot(*fixture.store, fixture.users);

  fixture.replay_lines({});
  auto queued = queue_webhook_replay(*fixture.store, fixture.instance, {},
                                     fixture.clock.now(), fixture.logger);
  REQUIRE(queued.ok());

  CHECK(dedupe_snapshot(*fixture.store, fixture.statuses) == statuses_before);
  CHECK(dedupe_snapshot(*fixture.store, fixture.users) == users_before);
  // Live delivery never sees the replayed notifications.
  auto live =
      fixture.store->due_notifications("webhook", fixture.clock.now(), 100);
  REQUIRE(live.ok());
  CHECK(live->empty());
}

TEST_CASE("webhook replay groups ten per notification", "[replay]") {
  ReplayStore fixture;
  auto queued = queue_webhook_replay(*fixture.store, fixture.instance, {},
                                     fixture.clock.now(), fixture.logger);
  REQUIRE(queued.ok());
  CHECK(queued->notifications == 4);
  CHECK(queued->events == 28);

  std::vector<Notification> replayed;
  while (true) {
    auto due = fixture.store->due_notifications(kWebhookReplaySink,
                                                fixture.clock.now(), 100);
    REQUIRE(due.ok());
    if (due->empty()) break;
    for (const Notification& notification : *due) {
      replayed.push_back(notification);
      REQUIRE(
          fixture.store
              ->mark_delivered(notification.sequence, fixture.clock.now(), 200)
              .ok());
    }
  }
  REQUIRE(replayed.size() == 4);
  std::map<std::string, std::vector<std::size_t>> sizes;
  std::map<std::string, std::vector<std::string>> ids;
  for (const Notification& notification : replayed) {
    sizes[notification.resource].push_back(notification.events.size());
    for (const Event& event : notification.events) {
      ids[notification.resource].push_back(event.event_id);
    }
    CHECK(notification.notification_id ==
          replay_notification_id(fixture.clock.now(),
                                 notification.events.front().event_id));
  }
  CHECK(sizes["statuses"] == std::vector<std::size_t>{10, 10, 5});
  CHECK(sizes["users"] == std::vector<std::size_t>{3});
  REQUIRE(ids["statuses"].size() == 25);
  for (std::size_t i = 0; i < 25; ++i) {
    CHECK(ids["statuses"][i] == fixture.statuses[i].event_id);
  }
}

TEST_CASE("replay notification ids differ from live ones", "[replay]") {
  const std::string id = replay_notification_id(
      kPollStart, "0a1b2c3d-0000-0000-0000-000000000000");
  CHECK(id == "r-1767322800000-0a1b2c3d-0000-0000-0000-000000000000");
}

// A webhook receiver that records each request's headers and body.
class Receiver {
 public:
  struct Request {
    std::string replay_header;
    std::string notification_id;
    std::string signature;
    std::string body;
  };

  Receiver() {
    server_.server().Post("/hook", [this](const httplib::Request& request,
                                          httplib::Response& reply) {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(
          Request{request.get_header_value(kReplayHeader),
                  request.get_header_value(kNotificationIdHeader),
                  request.get_header_value(kSignatureHeader), request.body});
      reply.set_content("ok", "text/plain");
    });
    server_.start();
  }

  std::string url() const { return server_.url("/hook"); }
  std::vector<Request> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  std::mutex mutex_;
  std::vector<Request> received_;
  testing::HttpTestServer server_;
};

std::string write_instance(const testing::TempDir& dir,
                           const std::string& callback_url) {
  const std::string path = dir.file("instance.json");
  testing::write_file(path, R"({
  "element": {"key": "twitter"},
  "name": "hubpoll",
  "configuration": {
    "event.notification.enabled": "true",
    "event.notification.callback.url": ")" +
                                callback_url + R"(",
    "event.notification.signature.key": "replay-key-7c6d",
    "event.poller.refresh_interval": "15"
  }
})");
  return path;
}

// Checks every request is a signed replay and returns the event ids in
// the order received.
std::vector<std::string> replayed_event_ids(
    const std::vector<Receiver::Request>& requests) {
  std::vector<std::string> ids;
  for (const Receiver::Request& request : requests) {
    INFO(request.body);
    CHECK(request.replay_header == "true");
    CHECK(request.notification_id.rfind("r-", 0) == 0);
    CHECK(request.signature ==
          sign_webhook_body(request.body, "replay-key-7c6d"));
    rapidjson::Document body;
    body.Parse(request.body.c_str());
    REQUIRE_FALSE(body.HasParseError());
    const rapidjson::Value& message = body["message"];
    CHECK(message["notificationId"].GetString() == request.notification_id);
    CHECK(message["events"].GetArray().Size() <= 10);
    for (const auto& event : message["events"].GetArray()) {
      ids.push_back(event["eventId"].GetString());
    }
  }
  return ids;
}

TEST_CASE("replay command posts to webhook", "[replay][cli]") {
  Receiver receiver;
  ReplayStore fixture;
  fixture.store.reset();
  const std::string instance = write_instance(fixture.dir, receiver.url());
  const auto result = testing::run_hubpoll(
      {"replay", "--sink", "webhook", "--resource", "statuses", "--instance",
       instance, "--store", fixture.path(), "--progress-every", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("replay: queued 2 notification(s) "
                                         "so far"));
  CHECK_THAT(result.err, Catch::Contains("replay: queued 3 notification(s) "
                                         "with 25 event(s) for the webhook"));

  const auto requests = receiver.received();
  REQUIRE(requests.size() == 3);
  const std::vector<std::string> ids = replayed_event_ids(requests);
  REQUIRE(ids.size() == 25);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] == fixture.statuses[i].event_id);
  }
}

TEST_CASE("replay on locked store only queues", "[replay][cli]") {
  Receiver receiver;
  ReplayStore fixture;
  fixture.store.reset();
  const std::string instance = write_instance(fixture.dir, receiver.url());
  const std::string store = fixture.path();
  {
    auto lock = acquire_writer_lock(store);
    REQUIRE(lock.ok());
    const auto result = testing::run_hubpoll(
        {"replay", "--sink", "webhook", "--resource", "users", "--instance",
         instance, "--store", store});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK_THAT(result.err, Catch::Contains("delivers the replayed "
                                           "notifications after its next "
                                           "poll"));
    CHECK(receiver.received().empty());
  }
  const auto delivered = testing::run_hubpoll(
      {"deliver", "--instance", instance, "--store", store});
  INFO(delivered.err);
  REQUIRE(delivered.exit_code == 0);
  const auto requests = receiver.received();
  REQUIRE(requests.size() == 1);
  CHECK(replayed_event_ids(requests).size() == 3);
}

TEST_CASE("replay command prints JSON lines", "[replay][cli]") {
  ReplayStore fixture;
  fixture.store.reset();
  const testing::TempDir& dir = fixture.dir;
  const auto result = testing::run_hubpoll(
      {"replay", "--resource", "users", "--store", fixture.path()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto lines = lines_of(result.out);
  REQUIRE(lines.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(lines[i] == format_event_line(fixture.users[i], "twitter"));
  }

  const auto missing =
      testing::run_hubpoll({"replay", "--store", dir.file("missing.db")});
  CHECK(missing.exit_code == kExitUsage);
  CHECK_THAT(missing.err, Catch::Contains("not found"));
  const auto bad_time = testing::run_hubpoll(
      {"replay", "--since", "yesterday", "--store", fixture.path()});
  CHECK(bad_time.exit_code == kExitUsage);
  CHECK_THAT(bad_time.err, Catch::Contains("--since: \"yesterday\""));
}

}  // namespace
}  // namespace hubpoll
