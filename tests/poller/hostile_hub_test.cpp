// Polls against a local hub that misbehaves on purpose: every case must end
// in a clear error naming the page, with nothing of the poll committed.
#include <atomic>
#include <catch2/catch.hpp>

#include "poller/engine.h"
#include "support/fakes.h"
#include "support/http_test_server.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A resource without dates, so every record with an id becomes an event.
ResourceConfig plain_resource() {
  auto config = parse_poller_config(
      R"({"statuses": {"url": "/statuses", "idField": "id"}})", "test.json");
  REQUIRE(config.ok());
  return config->resources.front();
}

struct Harness {
  Harness() {
    auto opened = EventStore::open(dir.file("events.db"));
    REQUIRE(opened.ok());
    store = std::move(*opened);
    options.fetch.retry_backoff = milliseconds(1000);
    options.wait = [this](milliseconds duration) { waits.push_back(duration); };
  }

  PollResult poll() {
    server.start();
    options.base_url = server.url();
    Poller poller(instance, *store, clock, logger, options);
    return poller.poll(plain_resource());
  }

  // True when the store has no key and no event of the resource.
  bool nothing_committed() {
    auto state = store->stream(StreamId{instance.instance_id, "statuses"});
    REQUIRE(state.ok());
    auto due =
        store->due_notifications("stdout", clock.now() + seconds(60), 10);
    REQUIRE(due.ok());
    return !state->watermark && due->empty();
  }

  testing::TempDir dir;
  testing::HttpTestServer server;
  testing::ManualClock clock{testing::parse_instant("2026-01-02T03:04:05Z")};
  testing::MemoryLogger logger;
  InstanceConfig instance;
  PollOptions options;
  std::unique_ptr<EventStore> store;
  std::vector<milliseconds> waits;
};

void serve(Harness& harness, std::string body, int status = 200,
           const char* content_type = "application/json") {
  harness.server.server().Get(
      ".*", [body, status, content_type](const httplib::Request&,
                                         httplib::Response& reply) {
        reply.status = status;
        reply.set_content(body, content_type);
      });
}

void check_fails_cleanly(Harness& harness, const std::string& message) {
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::StartsWith("page 1: "));
  CHECK_THAT(result.error, Catch::Contains(message));
  CHECK(harness.nothing_committed());
  CHECK_THAT(harness.logger.text(),
             Catch::Contains("statuses: poll failed, nothing committed: "
                             "page 1: "));
}

TEST_CASE("hostile hub: truncated JSON", "[hostile]") {
  Harness harness;
  serve(harness, R"([{"id": 1}, {"id": 2, "text": "cut)");
  check_fails_cleanly(harness, "invalid JSON at byte");
}

TEST_CASE("hostile hub: an HTML error page with status 200", "[hostile]") {
  Harness harness;
  serve(harness, "<html><body>Internal error</body></html>", 200, "text/html");
  check_fails_cleanly(harness, "invalid JSON at byte 0");
}

TEST_CASE("hostile hub: an object where records are expected", "[hostile]") {
  Harness harness;
  serve(harness, R"({"errors": {"code": 88, "message": "Rate limit"}})");
  check_fails_cleanly(harness, "without an array of records");
}

TEST_CASE("hostile hub: 100 000 nested arrays", "[hostile]") {
  Harness harness;
  serve(harness, std::string(100000, '[') + std::string(100000, ']'));
  check_fails_cleanly(harness, "nested deeper than");
}

TEST_CASE("hostile hub: invalid UTF-8 in a string", "[hostile]") {
  Harness harness;
  serve(harness, "[{\"id\": 1, \"text\": \"bad \xFF\xFE byte\"}]");
  check_fails_cleanly(harness, "Invalid encoding");
}

TEST_CASE("hostile hub: 1e999 as an id", "[hostile]") {
  Harness harness;
  serve(harness, R"([{"id": 1}, {"id": 1e999}])");
  check_fails_cleanly(harness, "Number too big");
}

TEST_CASE("hostile hub: -0 as an id is rejected", "[hostile]") {
  Harness harness;
  serve(harness, R"([{"id": 1}, {"id": -0}])");
  const PollResult result = harness.poll();
  CHECK(result.ok);
  CHECK(result.stats.emitted == 1);
  CHECK(result.stats.rejected == 1);
  CHECK(result.stats.last_reject_reason ==
        "page 1 record 2: id -0 is not an integer");
}

TEST_CASE("hostile hub: a body above the size limit", "[hostile]") {
  Harness harness;
  // 300 MB streamed in chunks, so the test itself stays small.
  constexpr std::size_t kChunk = 1 << 20;
  constexpr std::size_t kChunks = 300;
  harness.server.server().Get(".*", [](const httplib::Request&,
                                       httplib::Response& reply) {
    reply.set_chunked_content_provider(
        "application/json", [](std::size_t offset, httplib::DataSink& sink) {
          static const std::string spaces(kChunk, ' ');
          if (offset >= kChunk * kChunks) {
            sink.done();
            return true;
          }
          if (offset == 0) sink.write("[", 1);
          sink.write(spaces.data(), spaces.size());
          return true;
        });
  });
  check_fails_cleanly(harness, "exceeds the limit of 268435456 bytes");
}

TEST_CASE("hostile hub: a body that stalls after 1 KB", "[hostile]") {
  Harness harness;
  harness.options.limits.low_speed_time = seconds(1);
  harness.options.fetch.attempts = 1;
  std::atomic<bool> stop{false};
  harness.server.server().Get(".*", [&](const httplib::Request&,
                                        httplib::Response& reply) {
    reply.set_chunked_content_provider(
        "application/json", [&](std::size_t offset, httplib::DataSink& sink) {
          if (offset == 0) {
            const std::string start = "[" + std::string(1023, ' ');
            sink.write(start.data(), start.size());
            return true;
          }
          // Holds the connection open without sending, until the client
          // gives up and the test ends.
          while (!stop && sink.is_writable()) {
            std::this_thread::yield();
          }
          return false;
        });
  });
  check_fails_cleanly(harness, "");
  stop = true;
}

TEST_CASE("hostile hub: a redirect to a file URL", "[hostile]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [](const httplib::Request&, httplib::Response& reply) {
        reply.set_redirect("file:///etc/passwd");
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::StartsWith("page 1: refused a URL that is "
                                             "not http or https"));
  CHECK(harness.waits.empty());  // not retried
  CHECK(harness.nothing_committed());
}

TEST_CASE("hostile hub: more than five redirects", "[hostile]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [](const httplib::Request& request, httplib::Response& reply) {
        reply.set_redirect(request.path + "x");
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::Contains("redirects"));
  CHECK(harness.waits.empty());  // not retried
}

TEST_CASE("hostile hub: a 100 KB header line", "[hostile]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [](const httplib::Request&, httplib::Response& reply) {
        reply.set_header("X-Padding", std::string(110 * 1024, 'a'));
        reply.set_content("[]", "application/json");
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.error, Catch::StartsWith("page 1: "));
  CHECK(harness.nothing_committed());
}

TEST_CASE("hostile hub: an empty body with 200", "[hostile]") {
  Harness harness;
  serve(harness, "");
  check_fails_cleanly(harness, "the body is empty");
}

TEST_CASE("hostile hub: a 204", "[hostile]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [](const httplib::Request&, httplib::Response& reply) {
        reply.status = 204;
      });
  check_fails_cleanly(harness, "HTTP 204");
}

TEST_CASE("5xx responses are retried with growing waits", "[fetch]") {
  Harness harness;
  std::atomic<int> requests{0};
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        if (++requests < 3) {
          reply.status = 503;
          return;
        }
        reply.set_content(R"([{"id": 1}])", "application/json");
      });
  const PollResult result = harness.poll();
  CHECK(result.ok);
  CHECK(requests == 3);
  REQUIRE(harness.waits.size() == 2);
  CHECK(harness.waits[0] >= milliseconds(500));
  CHECK(harness.waits[0] < milliseconds(1500));
  CHECK(harness.waits[1] >= milliseconds(1000));
  CHECK(harness.waits[1] < milliseconds(3000));
  CHECK_THAT(harness.logger.text(),
             Catch::Contains("statuses page 1: HTTP 503 from 127.0.0.1") &&
                 Catch::Contains("(attempt 1 of 3, retrying in "));
}

TEST_CASE("a 5xx on every attempt fails with its body", "[fetch]") {
  Harness harness;
  std::atomic<int> requests{0};
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        ++requests;
        reply.status = 502;
        reply.set_content("bad gateway", "text/plain");
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK(requests == 3);
  CHECK_THAT(result.error, Catch::EndsWith(": bad gateway"));
}

TEST_CASE("other 4xx responses are not retried", "[fetch]") {
  Harness harness;
  std::atomic<int> requests{0};
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        ++requests;
        reply.status = 404;
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK(requests == 1);
  CHECK(harness.waits.empty());
}

TEST_CASE("refused connections are retried three times", "[fetch]") {
  Harness harness;
  harness.options.base_url =
      "http://127.0.0.1:" + std::to_string(testing::unused_port());
  Poller poller(harness.instance, *harness.store, harness.clock, harness.logger,
                harness.options);
  const PollResult result = poller.poll(plain_resource());
  CHECK_FALSE(result.ok);
  CHECK(harness.waits.size() == 2);
}

TEST_CASE("429 waits as long as Retry-After says", "[fetch]") {
  struct Case {
    const char* name;
    const char* value;
    milliseconds expected;
  };
  const Case cases[] = {
      {"Retry-After", "7", milliseconds(7000)},
      {"Retry-After", "Fri, 02 Jan 2026 03:04:35 GMT", milliseconds(30000)},
      {"x-rate-limit-reset", "1767323065", milliseconds(20000)},
  };
  for (const Case& test : cases) {
    INFO(test.name << ": " << test.value);
    Harness harness;
    std::atomic<int> requests{0};
    harness.server.server().Get(
        ".*", [&](const httplib::Request&, httplib::Response& reply) {
          if (++requests == 1) {
            reply.status = 429;
            reply.set_header("Date", "Fri, 02 Jan 2026 03:04:05 GMT");
            reply.set_header(test.name, test.value);
            return;
          }
          reply.set_content(R"([{"id": 1}])", "application/json");
        });
    const PollResult result = harness.poll();
    CHECK(result.ok);
    REQUIRE(harness.waits.size() == 1);
    CHECK(harness.waits[0] == test.expected);
    CHECK_THAT(harness.logger.text(), Catch::Contains("rate-limited by"));
  }
}

TEST_CASE("a 429 longer than max-wait skips the resource", "[fetch]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        reply.status = 429;
        reply.set_header("Retry-After", "900");
      });
  const PollResult result = harness.poll();
  CHECK_FALSE(result.ok);
  CHECK(result.rate_limited);
  CHECK(harness.waits.empty());
  CHECK_THAT(result.error,
             Catch::Contains("for 900.0 s, longer than --max-wait 60 s; "
                             "skipped until the next cycle"));
  CHECK_THAT(harness.logger.text(), !Catch::Contains("poll failed"));
  CHECK(harness.nothing_committed());
}

TEST_CASE("a hub that keeps answering 429 is given up", "[fetch]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        reply.status = 429;
        reply.set_header("Retry-After", "not a number");
      });
  const PollResult result = harness.poll();
  CHECK(result.rate_limited);
  CHECK(harness.waits.size() == 5);
  CHECK_THAT(result.error, Catch::Contains("still rate-limited by") &&
                               Catch::Contains("after 5 waits; skipped until "
                                               "the next cycle"));
}

TEST_CASE("an epoch sent as Retry-After seconds is capped", "[fetch]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [&](const httplib::Request&, httplib::Response& reply) {
        reply.status = 429;
        reply.set_header("Retry-After", "1767323065");
      });
  const PollResult result = harness.poll();
  CHECK(result.rate_limited);
  CHECK_THAT(result.error, Catch::Contains("for 3600.0 s"));
}

TEST_CASE("an exhausted rate limit waits before the next page", "[fetch]") {
  Harness harness;
  harness.server.server().Get(
      ".*", [&](const httplib::Request& request, httplib::Response& reply) {
        if (!request.has_param("nextPage")) {
          reply.set_header("elements-next-page-token", "2");
          reply.set_header("x-rate-limit-remaining", "0");
          // 15 s after the fixed clock's now.
          reply.set_header("x-rate-limit-reset", "1767323060");
          reply.set_content(R"([{"id": 1}])", "application/json");
          return;
        }
        reply.set_content(R"([{"id": 2}])", "application/json");
      });
  const PollResult result = harness.poll();
  CHECK(result.ok);
  CHECK(result.stats.emitted == 2);
  REQUIRE(harness.waits.size() == 1);
  CHECK(harness.waits[0] == milliseconds(15000));
}

TEST_CASE("compressed responses are accepted", "[fetch]") {
  Harness harness;
  std::string accept_encoding;
  std::string body = "[";
  for (int i = 0; i < 2000; ++i) {
    body += (i ? ",{\"id\": " : "{\"id\": ") + std::to_string(i) + "}";
  }
  body += "]";
  harness.server.server().Get(
      ".*", [&](const httplib::Request& request, httplib::Response& reply) {
        accept_encoding = request.get_header_value("Accept-Encoding");
        reply.set_content(body, "application/json");
      });
  const PollResult result = harness.poll();
  CHECK(result.ok);
  CHECK(result.stats.emitted == 2000);
  CHECK_THAT(accept_encoding, Catch::Contains("gzip"));
  CHECK_THAT(accept_encoding, Catch::Contains("deflate"));
}

}  // namespace
}  // namespace hubpoll
