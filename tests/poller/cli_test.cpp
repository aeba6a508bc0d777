#include "poller/cli.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "poller/date_pattern.h"
#include "store/event_store.h"
#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using testing::run_hubpoll;

const std::string kSourceDir = HUBPOLL_SOURCE_DIR;
const std::string kPollers = kSourceDir + "/config/pollers.json";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Every id_str at the top level of the recorded responses a resource is
// served from.
std::set<std::string> recorded_ids(const std::string& file,
                                   const char* member = nullptr) {
  rapidjson::Document body;
  body.Parse(testing::read_file(testing::fixtures_dir() + "/" + file).c_str());
  REQUIRE_FALSE(body.HasParseError());
  const rapidjson::Value& records = member ? body[member] : body;
  std::set<std::string> ids;
  for (const auto& record : records.GetArray()) {
    ids.insert(record["id_str"].GetString());
  }
  return ids;
}

TEST_CASE("run --once prints events that match the recorded records", "[cli]") {
  testing::TempDir dir;
  const std::string store = dir.file("events.db");
  const auto result = run_hubpoll({"run", "--once", "--sandbox", "--fixtures",
                                   testing::fixtures_dir(), "--config",
                                   kPollers, "--store", store});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);

  std::set<std::string> statuses = recorded_ids("home_timeline.json");
  const std::set<std::string> searched =
      recorded_ids("search_tweets.json", "statuses");
  statuses.insert(searched.begin(), searched.end());
  const std::map<std::string, std::set<std::string>> recorded = {
      {"statuses", statuses},
      {"users", recorded_ids("users_search.json")},
      {"lists", recorded_ids("lists.json")}};

  const auto pattern = DatePattern::compile("EEE MMM dd HH:mm:ss Z yyyy");
  std::map<std::string, int> per_resource;
  for (const std::string& line : lines_of(result.out)) {
    INFO(line);
    rapidjson::Document event;
    event.Parse(line.c_str());
    REQUIRE_FALSE(event.HasParseError());
    const std::string resource = event["objectType"].GetString();
    const rapidjson::Value& raw = event["raw"];
    CHECK(std::string(event["elementKey"].GetString()) == "twitter");
    CHECK(std::string(event["eventType"].GetString()) == "CREATED");
    CHECK(event["objectId"].GetString() ==
          std::string(raw["id_str"].GetString()));
    auto date = pattern->parse(raw["created_at"].GetString(), Zone());
    REQUIRE(date.ok());
    CHECK(event["date"].GetString() == format_iso8601(*date));
    CHECK(std::string(event["eventId"].GetString()).size() == 36);
    if (recorded.count(resource)) {
      CHECK(recorded.at(resource).count(event["objectId"].GetString()) == 1);
    }
    ++per_resource[resource];
  }
  CHECK(per_resource["statuses"] > 0);
  for (const char* resource :
       {"direct-messages/received-messages", "direct-messages/sent-messages",
        "lists", "statuses", "users"}) {
    CHECK_THAT(result.err,
               Catch::Contains(std::string(resource) + ": fetched "));
  }

  const auto again = run_hubpoll({"run", "--once", "--sandbox", "--fixtures",
                                  testing::fixtures_dir(), "--config", kPollers,
                                  "--store", store});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.empty());
}

TEST_CASE("run without a hub is a usage error", "[cli]") {
  testing::TempDir dir;
  const auto result = run_hubpoll(
      {"run", "--once", "--config", kPollers, "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err, Catch::Contains("pass --base-url URL, or --sandbox"));
}

TEST_CASE("run rejects conflicting or invalid hubs", "[cli]") {
  testing::TempDir dir;
  const auto both = run_hubpoll({"run", "--once", "--sandbox", "--base-url",
                                 "http://127.0.0.1:1", "--config", kPollers,
                                 "--store", dir.file("s.db")});
  CHECK(both.exit_code == kExitUsage);
  CHECK_THAT(both.err, Catch::Contains("name two hubs"));
  const auto ftp =
      run_hubpoll({"run", "--once", "--base-url", "ftp://hub", "--config",
                   kPollers, "--store", dir.file("s.db")});
  CHECK(ftp.exit_code == kExitUsage);
  CHECK_THAT(ftp.err, Catch::Contains("is not an http or https URL"));
}

TEST_CASE("deliver does not create a missing store", "[cli]") {
  testing::TempDir dir;
  const auto result = run_hubpoll({"deliver", "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err, Catch::Contains("not found"));
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
}

TEST_CASE("a missing configuration exits 2 naming the file", "[cli]") {
  testing::TempDir dir;
  const auto result =
      run_hubpoll({"run", "--once", "--sandbox", "--config",
                   dir.file("nope.json"), "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err, Catch::Contains(dir.file("nope.json") +
                                         ": cannot open: No such file"));
}

TEST_CASE("malformed configuration JSON exits 2 with line and column",
          "[cli]") {
  testing::TempDir dir;
  testing::write_file(dir.file("p.json"), "{\n  \"statuses\": {,\n}\n");
  const auto result =
      run_hubpoll({"run", "--once", "--sandbox", "--config", dir.file("p.json"),
                   "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err,
             Catch::Contains(dir.file("p.json") +
                             ": invalid JSON at line 2, column 16"));
}

TEST_CASE("an unknown resource option exits 2", "[cli]") {
  testing::TempDir dir;
  const auto result =
      run_hubpoll({"run", "--once", "--sandbox", "--config", kPollers,
                   "--resource", "tweets", "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitUsage);
  CHECK_THAT(result.err, Catch::Contains("resource \"tweets\" is not in the "
                                         "poller configuration"));
}

TEST_CASE("an unreachable hub fails every resource with exit 1", "[cli]") {
  testing::TempDir dir;
  const std::string url =
      "http://127.0.0.1:" + std::to_string(testing::unused_port());
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", url, "--config", kPollers,
                   "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitFailure);
  for (const char* resource : {"lists", "statuses", "users"}) {
    CHECK_THAT(result.err,
               Catch::Contains(std::string(resource) + ": poll failed, nothing "
                                                       "committed: page 1: "));
  }
  CHECK(result.out.empty());
}

TEST_CASE("a failing resource does not stop the others", "[cli]") {
  testing::TempDir dir;
  testing::HttpTestServer server;
  server.server().Get("/hubs/social/users",
                      [](const httplib::Request&, httplib::Response& reply) {
                        reply.status = 500;
                        reply.set_content("boom", "text/plain");
                      });
  server.server().Get(".*",
                      [](const httplib::Request&, httplib::Response& reply) {
                        reply.set_content("[]", "application/json");
                      });
  server.start();
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", server.url(), "--config",
                   kPollers, "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitFailure);
  CHECK_THAT(result.err, Catch::Contains("users: poll failed, nothing "
                                         "committed: page 1: HTTP 500"));
  CHECK_THAT(result.err,
             Catch::Contains("statuses: fetched 0, new events 0, rejected 0"));
}

TEST_CASE("a rate-limited resource is skipped without failing", "[cli]") {
  testing::TempDir dir;
  testing::HttpTestServer server;
  server.server().Get(".*",
                      [](const httplib::Request&, httplib::Response& reply) {
                        reply.status = 429;
                        reply.set_header("Retry-After", "120");
                      });
  server.start();
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", server.url(), "--config",
                   kPollers, "--resource", "statuses", "--max-wait", "30",
                   "--store", dir.file("s.db")});
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("longer than --max-wait 30 s; "
                                         "skipped until the next cycle"));
}

TEST_CASE("run bounds a page by --max-body-mib", "[cli]") {
  testing::TempDir dir;
  testing::HttpTestServer server;
  server.server().Get(
      ".*", [](const httplib::Request&, httplib::Response& reply) {
        reply.set_content("[" + std::string(2 * 1024 * 1024, ' ') + "]",
                          "application/json");
      });
  server.start();
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", server.url(), "--config",
                   kPollers, "--resource", "statuses", "--max-body-mib", "1",
                   "--store", dir.file("s.db")});
  CHECK(result.exit_code == kExitFailure);
  CHECK_THAT(result.err, Catch::Contains("exceeds the limit of 1048576 "
                                         "bytes"));
}

TEST_CASE("a locked store exits 75 naming the holder", "[cli]") {
  testing::TempDir dir;
  const std::string store = dir.file("s.db");
  auto lock = acquire_writer_lock(store);
  REQUIRE(lock.ok());
  const auto result = run_hubpoll(
      {"run", "--once", "--sandbox", "--config", kPollers, "--store", store});
  CHECK(result.exit_code == kExitStoreLocked);
  CHECK_THAT(result.err,
             Catch::Contains("locked by process " + std::to_string(getpid())));
}

TEST_CASE("secrets reach the hub but never the logs or the store", "[cli]") {
  testing::TempDir dir;
  testing::HttpTestServer server;
  std::string received;
  server.server().Get(
      ".*", [&](const httplib::Request& request, httplib::Response& reply) {
        received = request.get_header_value("Authorization");
        reply.set_content(R"([{"id_str": "1", "created_at": "x"}])",
                          "application/json");
      });
  server.start();
  const std::string store = dir.file("s.db");
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", server.url(), "--config",
                   kPollers, "--resource", "statuses", "--store", store},
                  {"HUBPOLL_USER_SECRET=user-9f8e7d",
                   "HUBPOLL_ORGANIZATION_SECRET=org-6c5b4a",
                   "HUBPOLL_ELEMENT_TOKEN=element-3e2d1c"});
  CHECK(result.exit_code == 0);
  CHECK(received ==
        "User user-9f8e7d, Organization org-6c5b4a, Element element-3e2d1c");
  std::string logs = result.out + result.err + testing::read_file(store);
  if (std::filesystem::exists(store + "-wal")) {
    logs += testing::read_file(store + "-wal");
  }
  for (const char* secret : {"user-9f8e7d", "org-6c5b4a", "element-3e2d1c"}) {
    CHECK_THAT(logs, !Catch::Contains(secret));
  }
}

TEST_CASE("secrets a hub echoes back are redacted", "[cli]") {
  testing::TempDir dir;
  testing::HttpTestServer server;
  server.server().Get(
      ".*", [](const httplib::Request& request, httplib::Response& reply) {
        reply.status = 401;
        reply.set_content("{\"message\": \"Invalid Authorization: " +
                              request.get_header_value("Authorization") + "\"}",
                          "application/json");
      });
  server.start();
  const std::string store = dir.file("s.db");
  const auto result =
      run_hubpoll({"run", "--once", "--base-url", server.url(), "--config",
                   kPollers, "--resource", "statuses", "--store", store},
                  {"HUBPOLL_USER_SECRET=user-9f8e7d",
                   "HUBPOLL_ORGANIZATION_SECRET=org-6c5b4a",
                   "HUBPOLL_ELEMENT_TOKEN=element-3e2d1c"});
  CHECK(result.exit_code == kExitFailure);
  CHECK_THAT(result.err, Catch::Contains("HTTP 401") &&
                             Catch::Contains("User [redacted], Organization "
                                             "[redacted], Element [redacted]"));
  std::string logs = result.out + result.err + testing::read_file(store);
  if (std::filesystem::exists(store + "-wal")) {
    logs += testing::read_file(store + "-wal");
  }
  for (const char* secret : {"user-9f8e7d", "org-6c5b4a", "element-3e2d1c"}) {
    CHECK_THAT(logs, !Catch::Contains(secret));
  }

  const auto probe = run_hubpoll(
      {"validate", "--config", kPollers, "--probe", "--base-url", server.url()},
      {"HUBPOLL_USER_SECRET=user-9f8e7d",
       "HUBPOLL_ORGANIZATION_SECRET=org-6c5b4a",
       "HUBPOLL_ELEMENT_TOKEN=element-3e2d1c"});
  CHECK(probe.exit_code == 1);
  CHECK_THAT(probe.out, Catch::Contains("[redacted]"));
  for (const char* secret : {"user-9f8e7d", "org-6c5b4a", "element-3e2d1c"}) {
    CHECK_THAT(probe.out + probe.err, !Catch::Contains(secret));
  }
}

TEST_CASE("date parse prints an ISO 8601 instant", "[cli]") {
  const auto result =
      run_hubpoll({"date", "parse", "EEE MMM dd HH:mm:ss Z yyyy",
                   "Sat Jul 13 02:27:22 +0000 2019"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "2019-07-13T02:27:22Z\n");

  const auto mismatch =
      run_hubpoll({"date", "parse", "EEE, dd MMM yyyy HH:mm:ss Z",
                   "Sat Jul 13 02:27:22 +0000 2019"});
  CHECK(mismatch.exit_code == kExitFailure);
  CHECK_THAT(mismatch.err, Catch::Contains("does not match"));

  const auto bad_pattern = run_hubpoll({"date", "parse", "yyyy-qq", "2019"});
  CHECK(bad_pattern.exit_code == kExitUsage);
}

TEST_CASE("date format prints an instant in a zone", "[cli]") {
  const auto result =
      run_hubpoll({"date", "format", "MM/dd/yyy'T'HH:mm:ssXXX", "--at",
                   "2026-01-02T03:04:05Z", "--zone", "America/New_York"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "01/01/2026T22:04:05-05:00\n");

  const auto bad_zone =
      run_hubpoll({"date", "format", "yyyy", "--zone", "Mars/Olympus"});
  CHECK(bad_zone.exit_code == kExitUsage);
}

TEST_CASE("url prints the expanded request URL", "[cli]") {
  const auto lists = run_hubpoll(
      {"url", "lists", "--at", "2026-01-02T03:04:05Z", "--config", kPollers});
  CHECK(lists.exit_code == 0);
  CHECK(lists.out ==
        "/hubs/social/lists?where=created_at=%2701%2F02%2F2026T03%3A04%3A05Z"
        "%27\n");

  const auto statuses =
      run_hubpoll({"url", "statuses", "--at", "2026-01-02T03:04:05Z",
                   "--config", kPollers, "--base-url", "http://hub/api/"});
  CHECK(statuses.exit_code == 0);
  CHECK(statuses.out ==
        "http://hub/api/hubs/social/statuses?where=q=%27Example%20Screen%20"
        "Name%27\n");
}

TEST_CASE("usage errors exit 2", "[cli]") {
  CHECK(run_hubpoll({}).exit_code == kExitUsage);
  CHECK(run_hubpoll({"fly"}).exit_code == kExitUsage);
  CHECK(run_hubpoll({"run", "--sink", "email"}).exit_code == kExitUsage);
  CHECK(run_hubpoll({"--help"}).exit_code == 0);
}

}  // namespace
}  // namespace hubpoll
