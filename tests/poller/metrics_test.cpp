#include "poller/metrics.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/http_test_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::milliseconds;

Instant parse_instant(const char* text) {
  Instant instant;
  REQUIRE(parse_iso8601(text, instant));
  return instant;
}

// The samples of a text exposition, keyed by name and labels as written,
// after checking each line's syntax and that every sample's metric has
// HELP and TYPE lines before it.
std::map<std::string, double> parse_exposition(const std::string& text) {
  static const std::regex kHelp(R"(# HELP (hubpoll_[a-z_]+) \S.*)");
  static const std::regex kType(R"(# TYPE (hubpoll_[a-z_]+) (counter|gauge))");
  // A name, optional {label="value",...} with escapes, and a number.
  static const std::regex kSample(
      R"((hubpoll_[a-z_]+))"
      R"((\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})?)"
      R"( (-?[0-9]+(?:\.[0-9]+)?))");
  std::set<std::string> helped;
  std::set<std::string> typed;
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    std::smatch match;
    if (std::regex_match(line, match, kHelp)) {
      helped.insert(match[1]);
    } else if (std::regex_match(line, match, kType)) {
      CHECK(helped.count(match[1]) == 1);
      typed.insert(match[1]);
    } else {
      REQUIRE(std::regex_match(line, match, kSample));
      CHECK(typed.count(match[1]) == 1);
      samples[match[1].str() + match[2].str()] = std::stod(match[3]);
    }
  }
  return samples;
}

TEST_CASE("metrics render as Prometheus text", "[metrics]") {
  RunMetrics metrics;
  PollStats stats;
  stats.fetched = 60;
  stats.emitted = 8;
  stats.rejected = 2;
  const Instant first = parse_instant("2026-01-02T03:00:00Z");
  metrics.record_poll("statuses", true, stats, milliseconds(1250), first);
  metrics.record_poll("statuses", false, stats, milliseconds(40),
                      first + std::chrono::minutes(15));
  metrics.set_last_success("users", parse_instant("2026-01-01T00:00:00Z"));
  DeliveryReport report;
  report.delivered = 3;
  report.retrying = 1;
  report.dead = 1;
  metrics.record_delivery("webhook", report);

  const auto samples = parse_exposition(metrics.render());
  CHECK(samples.at(R"(hubpoll_polls_total{resource="statuses",result="ok"})") ==
        1);
  CHECK(samples.at(
            R"(hubpoll_polls_total{resource="statuses",result="error"})") == 1);
  CHECK(samples.at(R"(hubpoll_events_emitted_total{resource="statuses"})") ==
        8);
  CHECK(samples.at(R"(hubpoll_records_rejected_total{resource="statuses"})") ==
        4);
  CHECK(samples.at(
            R"(hubpoll_last_poll_duration_seconds{resource="statuses"})") ==
        Approx(0.04));
  CHECK(samples.at(
            R"(hubpoll_last_success_timestamp_seconds{resource="statuses"})") ==
        1767322800);
  CHECK(samples.at(
            R"(hubpoll_last_success_timestamp_seconds{resource="users"})") ==
        1767225600);
  CHECK(samples.count(
            R"(hubpoll_last_poll_duration_seconds{resource="users"})") == 0);
  CHECK(samples.at(
            R"(hubpoll_notifications_delivered_total{sink="webhook"})") == 3);
  CHECK(samples.at(R"(hubpoll_delivery_failures_total{sink="webhook"})") == 2);
}

TEST_CASE("metric labels escape quotes and backslashes", "[metrics]") {
  RunMetrics metrics;
  metrics.record_poll("odd\"name\\x\ny", true, PollStats{}, milliseconds(1),
                      parse_instant("2026-01-02T03:00:00Z"));
  const std::string text = metrics.render();
  CHECK_THAT(text, Catch::Contains(
                       R"(hubpoll_polls_total{resource="odd\"name\\x\ny",)"));
  parse_exposition(text);
}

TEST_CASE("metrics file is replaced atomically", "[metrics]") {
  testing::TempDir dir;
  const std::string path = dir.file("hubpoll.prom");
  REQUIRE(write_file_atomically(path, "first\n").ok());
  REQUIRE(write_file_atomically(path, "second\n").ok());
  CHECK(testing::read_file(path) == "second\n");
  // No temporary file is left beside it.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
  const auto permissions = std::filesystem::status(path).permissions();
  CHECK((permissions & std::filesystem::perms::others_read) !=
        std::filesystem::perms::none);

  const Status missing =
      write_file_atomically(dir.file("no/such/folder/m.prom"), "x");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kIo);
}

TEST_CASE("run writes the metrics file", "[metrics][cli]") {
  testing::TempDir dir;
  testing::HttpTestServer hub;
  hub.server().Get("/hubs/social/users",
                   [](const httplib::Request&, httplib::Response& reply) {
                     reply.status = 500;
                     reply.set_content("boom", "text/plain");
                   });
  hub.server().Get(".*", [](const httplib::Request&, httplib::Response& reply) {
    reply.set_content(R"([{"id_str": "1", "created_at": "x"}])",
                      "application/json");
  });
  hub.start();
  const std::string metrics_file = dir.file("hubpoll.prom");
  const auto result = testing::run_hubpoll(
      {"run", "--once", "--base-url", hub.url(), "--config",
       std::string(HUBPOLL_SOURCE_DIR) + "/config/pollers.json", "--resource",
       "statuses", "--resource", "users", "--store", dir.file("s.db"),
       "--metrics-file", metrics_file},
      {"HUBPOLL_USER_SECRET=user-metrics-5e4d"});
  INFO(result.err);
  CHECK(result.exit_code == 1);

  const std::string text = testing::read_file(metrics_file);
  CHECK_THAT(text, !Catch::Contains("user-metrics-5e4d"));
  const auto samples = parse_exposition(text);
  CHECK(samples.at(R"(hubpoll_polls_total{resource="statuses",result="ok"})") ==
        1);
  CHECK(samples.at(R"(hubpoll_polls_total{resource="users",result="error"})") ==
        1);
  CHECK(samples.at(R"(hubpoll_records_rejected_total{resource="statuses"})") ==
        1);
  CHECK(samples.count(
            R"(hubpoll_last_success_timestamp_seconds{resource="statuses"})") ==
        1);
  CHECK(samples.count(
            R"(hubpoll_last_success_timestamp_seconds{resource="users"})") ==
        0);
  CHECK(samples.count(
            R"(hubpoll_last_poll_duration_seconds{resource="users"})") == 1);
}

}  // namespace
}  // namespace hubpoll
