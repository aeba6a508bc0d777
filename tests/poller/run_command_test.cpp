// The `run` command through the real binary: the daemon's signals, the
// concurrent --once cycle and backfills.
#include <signal.h>

#include <catch2/catch.hpp>
#include <future>
#include <mutex>

#include "poller/cli.h"
#include "store/event_store.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

// Guards against a hung child: far longer than any step takes, and only
// reached when the test is failing anyway.
constexpr std::chrono::seconds kGuard{60};

// A poller configuration of resources served at /NAME without dates.
std::string write_config(const testing::TempDir& dir,
                         const std::vector<std::string>& resources) {
  std::string json = "{";
  for (std::size_t i = 0; i < resources.size(); ++i) {
    if (i > 0) json += ",";
    json += "\"" + resources[i] + "\": {\"url\": \"/" + resources[i] +
            "\", \"idField\": \"id\"}";
  }
  json += "}";
  const std::string path = dir.file("pollers.json");
  testing::write_file(path, json);
  return path;
}

// A hub whose first request to /alpha signals the test and, when asked,
// waits until the test releases it. Every other request gets one record.
class Hub {
 public:
  explicit Hub(bool block_first) : block_first_(block_first) {
    server_.server().Get(".*", [this](const httplib::Request& request,
                                      httplib::Response& reply) {
      bool first_alpha = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        paths_.push_back(request.path);
        if (request.path == "/alpha" && !alpha_seen_) {
          alpha_seen_ = true;
          first_alpha = true;
        }
        if (request.path == "/beta" && !beta_seen_) {
          beta_seen_ = true;
          beta_.set_value();
        }
      }
      if (first_alpha) {
        alpha_.set_value();
        if (block_first_) released_.wait();
      }
      reply.set_content(R"([{"id": ")" + request.path.substr(1) + R"("}])",
                        "application/json");
    });
    server_.start();
  }
  ~Hub() { release(); }

  std::string url() const { return server_.url(); }
  bool wait_for_alpha() {
    return alpha_future_.wait_for(kGuard) == std::future_status::ready;
  }
  bool wait_for_beta() {
    return beta_future_.wait_for(kGuard) == std::future_status::ready;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!released_flag_) {
      released_flag_ = true;
      release_.set_value();
    }
  }

 private:
  const bool block_first_;
  std::mutex mutex_;
  std::vector<std::string> paths_;
  bool alpha_seen_ = false;
  bool beta_seen_ = false;
  std::promise<void> alpha_;
  std::future<void> alpha_future_ = alpha_.get_future();
  std::promise<void> beta_;
  std::future<void> beta_future_ = beta_.get_future();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_flag_ = false;
  testing::HttpTestServer server_;
};

StreamState stream_state(const std::string& store_path,
                         const std::string& resource) {
  auto store = EventStore::open(store_path);
  REQUIRE(store.ok());
  auto state = (*store)->stream(StreamId{"hubpoll", resource});
  REQUIRE(state.ok());
  return *state;
}

TEST_CASE("SIGTERM stops daemon after its poll", "[run][daemon]") {
  testing::TempDir dir;
  Hub hub(/*block_first=*/true);
  const std::string store = dir.file("s.db");
  const std::string config = write_config(dir, {"alpha"});
  auto daemon = testing::start_hubpoll(
      {"run", "--base-url", hub.url(), "--config", config, "--store", store});
  REQUIRE(hub.wait_for_alpha());
  daemon->send_signal(SIGTERM);
  hub.release();
  const auto result = daemon->wait();
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("received SIGTERM"));
  CHECK_THAT(result.err, Catch::Contains("INFO stopped"));
  // The poll in progress finished and committed.
  CHECK_THAT(result.err, Catch::Contains("alpha: fetched 1, new events 1"));
  CHECK(result.out.find("\"objectId\":\"alpha\"") != std::string::npos);
  CHECK(stream_state(store, "alpha").watermark.has_value());

  {
    auto lock = acquire_writer_lock(store);
    CHECK(lock.ok());
  }

  const auto next =
      testing::run_hubpoll({"run", "--once", "--base-url", hub.url(),
                            "--config", config, "--store", store});
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK_THAT(next.err, Catch::Contains("alpha: fetched 1, new events 0"));
  CHECK(next.out.empty());
}

TEST_CASE("stop timeout abandons a poll uncommitted", "[run][daemon]") {
  testing::TempDir dir;
  Hub hub(/*block_first=*/true);
  const std::string store = dir.file("s.db");
  const std::string config = write_config(dir, {"alpha"});
  auto daemon =
      testing::start_hubpoll({"run", "--base-url", hub.url(), "--config",
                              config, "--store", store, "--stop-timeout", "0"});
  REQUIRE(hub.wait_for_alpha());
  daemon->send_signal(SIGINT);
  const auto result = daemon->wait();
  hub.release();
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("exiting without them, nothing of "
                                         "them is committed"));
  CHECK(result.out.empty());
  CHECK_FALSE(stream_state(store, "alpha").watermark.has_value());
  CHECK(acquire_writer_lock(store).ok());

  const auto next =
      testing::run_hubpoll({"run", "--once", "--base-url", hub.url(),
                            "--config", config, "--store", store});
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK_THAT(next.err, Catch::Contains("alpha: fetched 1, new events 1"));
  CHECK(stream_state(store, "alpha").watermark.has_value());
}

TEST_CASE("SIGHUP keeps config when new is invalid", "[run][daemon]") {
  testing::TempDir dir;
  Hub hub(/*block_first=*/false);
  const std::string store = dir.file("s.db");
  const std::string config = write_config(dir, {"alpha"});
  auto daemon = testing::start_hubpoll(
      {"run", "--base-url", hub.url(), "--config", config, "--store", store});
  REQUIRE(hub.wait_for_alpha());
  testing::write_file(config, "{\"alpha\": {,}}");
  // sigwait returns the lower-numbered SIGHUP first when both are pending,
  // so the reload is always handled before the stop.
  daemon->send_signal(SIGHUP);
  daemon->send_signal(SIGTERM);
  const auto result = daemon->wait();
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err,
             Catch::Contains("reloading the configuration failed, keeping the "
                             "current one: " +
                             config + ": invalid JSON at line 1, column 12"));
  CHECK_THAT(result.err, !Catch::Contains("reloaded the configuration"));
}

TEST_CASE("SIGHUP reloads valid configuration", "[run][daemon]") {
  testing::TempDir dir;
  Hub hub(/*block_first=*/false);
  const std::string store = dir.file("s.db");
  const std::string config = write_config(dir, {"alpha"});
  auto daemon = testing::start_hubpoll(
      {"run", "--base-url", hub.url(), "--config", config, "--store", store});
  REQUIRE(hub.wait_for_alpha());
  // The first resource of the new schedule is polled at once.
  write_config(dir, {"beta", "alpha"});
  daemon->send_signal(SIGHUP);
  REQUIRE(hub.wait_for_beta());
  daemon->send_signal(SIGTERM);
  const auto result = daemon->wait();
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("reloaded the configuration"));
  CHECK_THAT(result.err, Catch::Contains("polling 2 resource(s) every 15 min"));
}

TEST_CASE("run --once polls resources concurrently", "[run]") {
  testing::TempDir dir;
  testing::HttpTestServer hub;
  std::promise<void> beta_arrived;
  std::future<void> beta_future = beta_arrived.get_future();
  bool alpha_saw_beta = false;
  hub.server().Get("/alpha", [&](const httplib::Request&,
                                 httplib::Response& reply) {
    // Answers only once beta's request has arrived, which a sequential
    // cycle would send after this one ends.
    alpha_saw_beta = beta_future.wait_for(kGuard) == std::future_status::ready;
    reply.set_content("[]", "application/json");
  });
  hub.server().Get("/beta",
                   [&](const httplib::Request&, httplib::Response& reply) {
                     beta_arrived.set_value();
                     reply.set_content("[]", "application/json");
                   });
  hub.start();
  const auto result = testing::run_hubpoll(
      {"run", "--once", "--base-url", hub.url(), "--config",
       write_config(dir, {"alpha", "beta"}), "--store", dir.file("s.db")});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(alpha_saw_beta);
}

TEST_CASE("run --since backfills from the given time", "[run]") {
  testing::TempDir dir;
  testing::HttpTestServer hub;
  std::vector<std::string> queries;
  hub.server().Get("/hubs/social/lists", [&](const httplib::Request& request,
                                             httplib::Response& reply) {
    // httplib splits `where=created_at='...'` at its second `=` too.
    queries.push_back(request.get_param_value("where"));
    reply.set_content("[]", "application/json");
  });
  hub.start();
  const std::vector<std::string> args = {
      "run",        "--once",
      "--base-url", hub.url(),
      "--config",   std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json",
      "--resource", "lists",
      "--store",    dir.file("s.db")};
  std::vector<std::string> backfill = args;
  backfill.push_back("--since");
  backfill.push_back("2025-12-01T00:00:00Z");
  const auto first = testing::run_hubpoll(backfill);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const auto second = testing::run_hubpoll(args);
  REQUIRE(second.exit_code == 0);

  REQUIRE(queries.size() == 2);
  CHECK(queries[0] == "'12/01/2025T00:00:00Z'");
  // The next run starts from the watermark, not the backfill time.
  CHECK(queries[1] != queries[0]);
  CHECK_THAT(queries[1], !Catch::Contains("2025"));

  const auto invalid = testing::run_hubpoll(
      {"run", "--once", "--sandbox", "--config",
       std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json", "--since",
       "last week", "--store", dir.file("s.db")});
  CHECK(invalid.exit_code == kExitUsage);
  CHECK_THAT(invalid.err, Catch::Contains("--since: \"last week\""));
}

}  // namespace
}  // namespace hubpoll
