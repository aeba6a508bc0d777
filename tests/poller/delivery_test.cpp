#include "poller/delivery.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "store/sqlite.h"
#include "support/fakes.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::seconds;

// One request as the receiver saw it.
struct Received {
  std::string notification_id;
  std::string signature;
  std::string body;
};

// A webhook receiver that responds to each request with the next scripted
// status (then 200) and records what it received.
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses = {})
      : statuses_(std::move(statuses)) {
    server_.server().Post("/hook", [this](const httplib::Request& request,
                                          httplib::Response& reply) {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(
          Received{request.get_header_value(kNotificationIdHeader),
                   request.get_header_value(kSignatureHeader), request.body});
      int status = next_ < statuses_.size() ? statuses_[next_++] : 200;
      if (down_) status = 503;
      reply.status = status;
      reply.set_content(status == 400 ? std::string(300, 'x') : "ok",
                        "text/plain");
    });
    server_.start();
  }

  std::string url() const { return server_.url("/hook"); }

  // While down, every request gets 503.
  void set_down(bool down) { down_ = down; }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  testing::HttpTestServer server_;
  std::mutex mutex_;
  std::vector<int> statuses_;
  std::size_t next_ = 0;
  std::atomic<bool> down_{false};
  std::vector<Received> received_;
};

Instant start_time() {
  Instant instant;
  REQUIRE(parse_iso8601("2026-01-02T03:04:05Z", instant));
  return instant;
}

struct Harness {
  Harness() : clock(start_time()) {
    auto opened = EventStore::open(dir.file("events.db"));
    REQUIRE(opened.ok());
    store = std::move(*opened);
    instance.name = "twitter-test";
    instance.instance_id = "instance-1";
  }

  // Commits `count` events of `resource` queued for the webhook.
  void commit_events(const std::string& resource, int count) {
    auto stream = store->stream(StreamId{instance.instance_id, resource});
    REQUIRE(stream.ok());
    PollCommit commit;
    commit.stream_key = stream->stream_key;
    commit.poll_start = clock.now();
    commit.window_start = clock.now();
    commit.sink = "webhook";
    for (int i = 0; i < count; ++i) {
      Event event;
      event.object_id = resource + "-" + std::to_string(next_object_++);
      event.event_id = "event-" + event.object_id;
      event.event_type = "CREATED";
      event.date = clock.now();
      event.poll_date = clock.now();
      event.raw = R"({"id_str":")" + event.object_id + R"("})";
      commit.events.push_back(event);
    }
    REQUIRE(store->commit_poll(commit).ok());
  }

  DeliveryReport deliver() {
    Deliverer deliverer(instance, *store, clock, logger, options);
    auto report = deliverer.deliver_to_webhook();
    REQUIRE(report.ok());
    return *report;
  }

  testing::TempDir dir;
  testing::ManualClock clock;
  testing::MemoryLogger logger;
  InstanceConfig instance;
  DeliveryOptions options;
  std::unique_ptr<EventStore> store;
  int next_object_ = 0;
};

std::string hmac_base64(const std::string& body, const std::string& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest,
       &length);
  std::string encoded(4 * ((length + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest,
                  static_cast<int>(length));
  return encoded;
}

TEST_CASE("webhook bodies have the Cloud Elements shape", "[delivery]") {
  Notification notification;
  notification.notification_id = "n-1";
  notification.instance_id = "instance-1";
  notification.resource = "statuses";
  notification.created = start_time();
  Event event;
  event.event_id = "e-1";
  event.object_id = "1149867886946783232";
  event.event_type = "CREATED";
  event.date = start_time();
  event.raw = R"({"id_str":"1149867886946783232","text":"caf\u00e9"})";
  notification.events = {event, event};
  InstanceConfig instance;
  instance.name = "my \"hub\"";

  const std::string body = build_webhook_body(notification, instance);
  rapidjson::Document document;
  document.Parse(body.c_str());
  REQUIRE_FALSE(document.HasParseError());
  const auto& message = document["message"];
  CHECK(std::string(message["elementKey"].GetString()) == "twitter");
  CHECK(std::string(message["instanceId"].GetString()) == "instance-1");
  CHECK(std::string(message["instanceName"].GetString()) == "my \"hub\"");
  CHECK(std::string(message["notificationId"].GetString()) == "n-1");
  CHECK(std::string(message["pollDate"].GetString()) == "2026-01-02T03:04:05Z");
  REQUIRE(message["events"].Size() == 2);
  const auto& first = message["events"][0];
  CHECK(std::string(first["eventId"].GetString()) == "e-1");
  CHECK(std::string(first["objectType"].GetString()) == "statuses");
  CHECK(std::string(first["objectId"].GetString()) == "1149867886946783232");
  CHECK(std::string(first["eventType"].GetString()) == "CREATED");
  CHECK(std::string(first["date"].GetString()) == "2026-01-02T03:04:05Z");
  REQUIRE(message["raw"]["statuses"].Size() == 2);
  CHECK(std::string(message["raw"]["statuses"][0]["text"].GetString()) ==
        "café");
  CHECK(build_webhook_body(notification, instance) == body);
}

TEST_CASE("retry delays grow by four up to the cap", "[delivery]") {
  CHECK(retry_delay(1, seconds(3600)) == seconds(4));
  CHECK(retry_delay(2, seconds(3600)) == seconds(16));
  CHECK(retry_delay(3, seconds(3600)) == seconds(64));
  CHECK(retry_delay(5, seconds(3600)) == seconds(1024));
  CHECK(retry_delay(6, seconds(3600)) == seconds(3600));
  CHECK(retry_delay(60, seconds(3600)) == seconds(3600));
  CHECK(retry_delay(3, seconds(0)) == seconds(0));
}

TEST_CASE("signatures verify over the exact body bytes", "[delivery]") {
  Receiver receiver;
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.instance.signature_key = "sig-key-4711";
  harness.commit_events("statuses", 3);

  const DeliveryReport report = harness.deliver();
  CHECK(report.delivered == 1);
  const auto received = receiver.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].signature ==
        "sha256=" + hmac_base64(received[0].body, "sig-key-4711"));
  CHECK(sign_webhook_body(received[0].body, "sig-key-4711") ==
        received[0].signature);
  CHECK_THAT(harness.logger.text(), !Catch::Contains("sig-key-4711"));
}

TEST_CASE("no signature header without a key", "[delivery]") {
  Receiver receiver;
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.commit_events("statuses", 1);
  harness.deliver();
  const auto received = receiver.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].signature.empty());
}

TEST_CASE("failed deliveries retry with the same notification id",
          "[delivery]") {
  Receiver receiver({503, 429, 408});
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.commit_events("statuses", 2);

  DeliveryReport report = harness.deliver();
  CHECK(report.retrying == 1);
  CHECK(harness.deliver().retrying == 0);  // not due for 4 s
  CHECK(receiver.received().size() == 1);

  harness.clock.advance(seconds(4));
  CHECK(harness.deliver().retrying == 1);
  harness.clock.advance(seconds(15));
  CHECK(harness.deliver().retrying == 0);  // the second wait is 16 s
  harness.clock.advance(seconds(1));
  CHECK(harness.deliver().retrying == 1);
  harness.clock.advance(seconds(64));
  CHECK(harness.deliver().delivered == 1);

  const auto received = receiver.received();
  REQUIRE(received.size() == 4);
  for (const Received& request : received) {
    CHECK(request.notification_id == received[0].notification_id);
    CHECK(request.body == received[0].body);
  }
  CHECK_THAT(harness.logger.text(),
             Catch::Contains("HTTP 503 from 127.0.0.1") &&
                 Catch::Contains("(attempt 1, retrying in 4 s)"));
}

TEST_CASE("a refused connection is retried", "[delivery]") {
  Harness harness;
  harness.instance.callback_url =
      "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/hook";
  harness.commit_events("statuses", 1);
  const DeliveryReport report = harness.deliver();
  CHECK(report.retrying == 1);
  CHECK(report.dead == 0);
}

TEST_CASE("a notification is dead after nine retries", "[delivery]") {
  Receiver receiver(std::vector<int>(20, 500));
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.options.max_backoff = seconds(0);
  harness.commit_events("statuses", 1);
  for (int attempt = 1; attempt <= 9; ++attempt) {
    INFO("attempt " << attempt);
    CHECK(harness.deliver().retrying == 1);
  }
  CHECK(harness.deliver().dead == 1);
  CHECK(harness.deliver().dead == 0);
  CHECK(receiver.received().size() == 10);
}

TEST_CASE("a 400 is dead at once with its status and body", "[delivery]") {
  Receiver receiver({400});
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.commit_events("statuses", 1);
  const std::string id = "n-event-statuses-0";

  CHECK(harness.deliver().dead == 1);
  auto state = harness.store->notification_state(id);
  REQUIRE(state.ok());
  CHECK(state->state == "dead");
  CHECK(state->last_status == 400);
  CHECK_THAT(state->last_error, Catch::EndsWith(": " + std::string(200, 'x')));

  auto requeued = harness.store->retry_dead("webhook", harness.clock.now());
  REQUIRE(requeued.ok());
  CHECK(*requeued == 1);
  CHECK(harness.deliver().delivered == 1);
  CHECK(harness.store->notification_state(id)->state == "delivered");
  CHECK(receiver.received().size() == 2);
}

TEST_CASE("a stream's notifications go out in order", "[delivery]") {
  Receiver receiver({503});
  Harness harness;
  harness.instance.callback_url = receiver.url();
  harness.options.max_backoff = seconds(0);
  harness.commit_events("statuses", 25);  // three notifications
  harness.commit_events("users", 1);

  // The first statuses notification fails: the later two wait for it, and
  // users is not held up.
  const DeliveryReport first = harness.deliver();
  CHECK(first.retrying == 1);
  CHECK(first.delivered == 1);
  const DeliveryReport second = harness.deliver();
  CHECK(second.delivered == 3);

  std::vector<std::string> statuses_order;
  for (const Received& request : receiver.received()) {
    if (request.notification_id.find("statuses") != std::string::npos) {
      statuses_order.push_back(request.notification_id);
    }
  }
  CHECK(statuses_order ==
        std::vector<std::string>{"n-event-statuses-0", "n-event-statuses-0",
                                 "n-event-statuses-10", "n-event-statuses-20"});
}

// Writes an instance file that sends events to `callback_url`.
std::string write_instance(const testing::TempDir& dir,
                           const std::string& callback_url,
                           const std::string& signature_key) {
  const std::string path = dir.file("instance.json");
  testing::write_file(
      path, R"({"element": {"key": "twitter"}, "name": "webhook-test",)"
            R"( "configuration": {"event.notification.enabled": "true",)"
            R"( "event.notification.callback.url": ")" +
                callback_url + R"(", "event.notification.signature.key": ")" +
                signature_key + R"("}})");
  return path;
}

TEST_CASE("events reach a receiver that was down for three runs",
          "[delivery][cli]") {
  Receiver receiver;
  receiver.set_down(true);
  testing::TempDir dir;
  const std::string instance = write_instance(dir, receiver.url(), "k-123");
  const std::string store = dir.file("events.db");
  const std::vector<std::string> run = {
      "run",
      "--once",
      "--sandbox",
      "--config",
      std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json",
      "--store",
      store,
      "--instance",
      instance,
      "--max-backoff",
      "0"};

  std::string stderr_text;
  for (int i = 0; i < 3; ++i) {
    const auto result = testing::run_hubpoll(run);
    stderr_text += result.err;
    CHECK(result.exit_code == 1);  // a delivery failed
    CHECK(result.out.empty());
  }
  receiver.set_down(false);
  const auto result = testing::run_hubpoll(run);
  stderr_text += result.err;
  CHECK(result.exit_code == 0);

  // Every event arrived under one notification id, and each resource's
  // notifications arrived in the order they were committed.
  std::map<std::string, std::string> notification_of_event;
  std::map<std::string, std::vector<std::string>> ids_per_resource;
  for (const Received& request : receiver.received()) {
    if (request.body.empty()) continue;
    rapidjson::Document body;
    body.Parse(request.body.c_str());
    REQUIRE_FALSE(body.HasParseError());
    CHECK(request.signature == "sha256=" + hmac_base64(request.body, "k-123"));
    for (const auto& event : body["message"]["events"].GetArray()) {
      const std::string event_id = event["eventId"].GetString();
      auto [it, inserted] =
          notification_of_event.emplace(event_id, request.notification_id);
      CHECK(it->second == request.notification_id);
      std::vector<std::string>& order =
          ids_per_resource[event["objectType"].GetString()];
      if (inserted &&
          (order.empty() || order.back() != request.notification_id)) {
        order.push_back(request.notification_id);
      }
    }
  }
  auto database = sqlite::Database::open(store);
  REQUIRE(database.ok());
  auto committed = database->prepare(
      "SELECT s.resource, n.notification_id, n.state, "
      "(SELECT COUNT(*) FROM notification_events l WHERE "
      "l.notification_sequence = n.sequence) FROM notifications n JOIN "
      "streams s ON s.stream_key = n.stream_key ORDER BY n.sequence");
  REQUIRE(committed.ok());
  std::map<std::string, std::vector<std::string>> committed_per_resource;
  std::size_t committed_events = 0;
  while (*committed->step()) {
    CHECK(committed->column_text(2) == "delivered");
    committed_per_resource[committed->column_text(0)].push_back(
        committed->column_text(1));
    committed_events += committed->column_int(3);
  }
  CHECK(ids_per_resource == committed_per_resource);
  CHECK(notification_of_event.size() == committed_events);
  CHECK(committed_per_resource.size() == 5);

  const std::string log = stderr_text + testing::read_file(store);
  CHECK_THAT(log, !Catch::Contains("k-123"));
}

TEST_CASE("deliver --retry-dead sends dead notifications again",
          "[delivery][cli]") {
  Receiver receiver({400});
  testing::TempDir dir;
  const std::string instance = write_instance(dir, receiver.url(), "k");
  const std::string store = dir.file("events.db");
  const auto first = testing::run_hubpoll(
      {"run", "--once", "--sandbox", "--config",
       std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json", "--resource",
       "statuses", "--store", store, "--instance", instance});
  CHECK(first.exit_code == 1);
  CHECK_THAT(first.err, Catch::Contains("HTTP 400") &&
                            Catch::Contains("dead; `hubpoll deliver "
                                            "--retry-dead` sends it again"));
  const std::size_t before = receiver.received().size();

  const auto plain = testing::run_hubpoll(
      {"deliver", "--store", store, "--instance", instance});
  CHECK(plain.exit_code == 0);
  CHECK(receiver.received().size() == before);

  const auto retried = testing::run_hubpoll(
      {"deliver", "--retry-dead", "--store", store, "--instance", instance});
  CHECK(retried.exit_code == 0);
  CHECK_THAT(retried.err, Catch::Contains("re-queued 1 dead notification"));
  CHECK(receiver.received().size() == before + 1);
}

TEST_CASE("two runs on one store: one polls, the other exits 75",
          "[delivery][cli]") {
  testing::TempDir dir;
  testing::HttpTestServer hub;
  std::promise<void> first_request;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::once_flag once;
  hub.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        std::call_once(once, [&] {
          first_request.set_value();
          released.wait();
        });
        reply.set_content(R"([{"id_str": "1"}])", "application/json");
      });
  hub.start();
  const std::string store = dir.file("events.db");
  const std::vector<std::string> run = {
      "run",        "--once",
      "--base-url", hub.url(),
      "--config",   std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json",
      "--store",    store};

  auto polling =
      std::async(std::launch::async, [&] { return testing::run_hubpoll(run); });
  first_request.get_future().wait();
  const auto locked = testing::run_hubpoll(run);
  release.set_value();
  const auto polled = polling.get();

  CHECK(locked.exit_code == 75);
  CHECK_THAT(locked.err, Catch::Contains("is locked by process"));
  CHECK(locked.out.empty());
  CHECK(polled.exit_code == 0);
}

}  // namespace
}  // namespace hubpoll
