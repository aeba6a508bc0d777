// Runs killed with SIGKILL at named fault points and at seeded random
// moments: after a rerun every stored event was delivered at least once and
// the store contains each event exactly once.
#include <rapidjson/document.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "poller/date_pattern.h"
#include "store/sqlite.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

const std::string kPollers =
    std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json";

// Collects the event ids that reach the webhook receiver.
class Receiver {
 public:
  Receiver() {
    server_.server().Post("/hook", [this](const httplib::Request& request,
                                          httplib::Response& reply) {
      int count = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        count = ++requests_;
        rapidjson::Document body;
        body.Parse(request.body.c_str());
        if (!body.HasParseError()) {
          for (const auto& event : body["message"]["events"].GetArray()) {
            event_ids_.insert(event["eventId"].GetString());
          }
        }
      }
      if (on_request_) on_request_(count);
      reply.set_content("ok", "text/plain");
    });
    server_.start();
  }

  std::string url() const { return server_.url("/hook"); }
  std::set<std::string> event_ids() {
    std::lock_guard<std::mutex> lock(mutex_);
    return event_ids_;
  }
  // Called with the 1-based request count, after the request was recorded
  // and before the response is sent.
  std::function<void(int)> on_request_;

 private:
  testing::HttpTestServer server_;
  std::mutex mutex_;
  int requests_ = 0;
  std::set<std::string> event_ids_;
};

std::string write_instance(const testing::TempDir& dir,
                           const std::string& callback_url) {
  const std::string path = dir.file("instance.json");
  testing::write_file(path, R"({"name": "crash-test", "configuration": {)"
                            R"("event.notification.enabled": "true",)"
                            R"("event.notification.callback.url": ")" +
                                callback_url + R"("}})");
  return path;
}

// The event ids in the store, checking that none is stored twice.
std::set<std::string> stored_event_ids(const std::string& store) {
  auto database = sqlite::Database::open(store);
  REQUIRE(database.ok());
  auto select = database->prepare("SELECT event_id FROM events");
  REQUIRE(select.ok());
  std::set<std::string> ids;
  std::size_t rows = 0;
  while (*select->step()) {
    ids.insert(select->column_text(0));
    ++rows;
  }
  CHECK(rows == ids.size());
  return ids;
}

std::vector<std::string> run_arguments(const std::string& store,
                                       const std::string& instance) {
  return {"run",    "--once",        "--sandbox", "--config",
          kPollers, "--store",       store,       "--instance",
          instance, "--max-backoff", "0"};
}

TEST_CASE("a run killed at a fault point loses no event", "[crash]") {
  for (const char* point : {"before-commit", "after-commit", "after-post"}) {
    INFO("fault point " << point);
    Receiver receiver;
    testing::TempDir dir;
    const std::string store = dir.file("events.db");
    const auto arguments =
        run_arguments(store, write_instance(dir, receiver.url()));

    const auto killed = testing::run_hubpoll(
        arguments, {std::string("HUBPOLL_FAULT_POINT=") + point});
    CHECK(killed.exit_code == -1);
    const auto rerun = testing::run_hubpoll(arguments);
    INFO(rerun.err);
    CHECK(rerun.exit_code == 0);

    const std::set<std::string> stored = stored_event_ids(store);
    CHECK(stored.size() >= 10);
    CHECK(receiver.event_ids() == stored);
  }
}

TEST_CASE("stdout events printed before a kill are printed again", "[crash]") {
  testing::TempDir dir;
  const std::string store = dir.file("events.db");
  const std::vector<std::string> arguments = {
      "run", "--once", "--sandbox", "--config", kPollers, "--store", store};

  const auto killed =
      testing::run_hubpoll(arguments, {"HUBPOLL_FAULT_POINT=after-print"});
  CHECK(killed.exit_code == -1);
  const auto rerun = testing::run_hubpoll(arguments);
  CHECK(rerun.exit_code == 0);

  std::set<std::string> printed;
  std::istringstream lines(killed.out + rerun.out);
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document event;
    event.Parse(line.c_str());
    REQUIRE_FALSE(event.HasParseError());
    printed.insert(event["eventId"].GetString());
  }
  const std::set<std::string> stored = stored_event_ids(store);
  CHECK(stored.size() >= 10);
  CHECK(printed == stored);
}

TEST_CASE("a run killed at random deliveries loses no event", "[crash]") {
  std::mt19937 random(20261204);
  for (int round = 0; round < 4; ++round) {
    const int kill_at = std::uniform_int_distribution<int>(1, 8)(random);
    INFO("killed at webhook request " << kill_at);
    Receiver receiver;
    testing::TempDir dir;
    const std::string store = dir.file("events.db");
    const auto arguments =
        run_arguments(store, write_instance(dir, receiver.url()));

    std::atomic<testing::BackgroundProcess*> running{nullptr};
    receiver.on_request_ = [&](int count) {
      if (count == kill_at && running != nullptr) {
        running.load()->send_signal(SIGKILL);
      }
    };
    auto first = testing::start_hubpoll(arguments);
    running = first.get();
    first->wait();
    running = nullptr;

    const auto rerun = testing::run_hubpoll(arguments);
    INFO(rerun.err);
    CHECK(rerun.exit_code == 0);
    CHECK(receiver.event_ids() == stored_event_ids(store));
  }
}

TEST_CASE("a run killed while fetching commits nothing partial", "[crash]") {
  std::mt19937 random(4711);
  const auto pattern = DatePattern::compile("EEE MMM dd HH:mm:ss Z yyyy");
  for (int round = 0; round < 3; ++round) {
    const int kill_at = std::uniform_int_distribution<int>(1, 6)(random);
    INFO("killed at page request " << kill_at);
    Receiver receiver;
    testing::HttpTestServer hub;
    std::atomic<int> requests{0};
    std::atomic<testing::BackgroundProcess*> running{nullptr};
    hub.server().Get(".*", [&](const httplib::Request& request,
                               httplib::Response& reply) {
      if (++requests == kill_at && running != nullptr) {
        running.load()->send_signal(SIGKILL);
      }
      const int page = request.has_param("nextPage")
                           ? std::stoi(request.get_param_value("nextPage"))
                           : 0;
      const Instant now = SystemClock().now();
      std::string body = "[";
      for (int i = 0; i < 5; ++i) {
        const int id = page * 5 + i;
        if (i > 0) body += ",";
        body += R"({"id_str": ")" + std::to_string(1000 + id) +
                R"(", "created_at": ")" +
                pattern->format(now - std::chrono::seconds(id), Zone()) +
                R"("})";
      }
      if (page < 5) {
        reply.set_header("elements-next-page-token", std::to_string(page + 1));
      }
      reply.set_content(body + "]", "application/json");
    });
    hub.start();
    testing::TempDir dir;
    const std::string store = dir.file("events.db");
    const std::vector<std::string> arguments = {
        "run",        "--once",     "--base-url",
        hub.url(),    "--config",   kPollers,
        "--resource", "statuses",   "--store",
        store,        "--instance", write_instance(dir, receiver.url())};

    auto first = testing::start_hubpoll(arguments);
    running = first.get();
    first->wait();
    running = nullptr;
    CHECK(stored_event_ids(store).empty());

    const auto rerun = testing::run_hubpoll(arguments);
    INFO(rerun.err);
    CHECK(rerun.exit_code == 0);
    const std::set<std::string> stored = stored_event_ids(store);
    CHECK(stored.size() == 30);
    CHECK(receiver.event_ids() == stored);
  }
}

}  // namespace
}  // namespace hubpoll
