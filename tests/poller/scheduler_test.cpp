#include "poller/scheduler.h"

#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "poller/engine.h"
#include "support/fakes.h"
#include "support/http_test_server.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// A clock that moves only when a test moves it, and an Alarm on it. The
// test thread calls run_until(), which advances from one wake-up to the
// next once the expected number of threads wait, so no test sleeps.
class FakeTime final : public Clock, public Alarm {
 public:
  explicit FakeTime(Instant start) : now_(start) {}

  Instant now() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }

  bool wait_until(Instant deadline) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (cancelled_) return false;
    if (now_ >= deadline) return true;
    // set_now() and cancel() remove the entry, so a thread stops counting
    // as waiting at the moment it is woken, not when it next runs.
    waiting_.insert(deadline);
    changed_.notify_all();
    wake_.wait(lock, [&] { return cancelled_ || now_ >= deadline; });
    return !cancelled_;
  }

  void cancel() override {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    waiting_.clear();
    wake_.notify_all();
    changed_.notify_all();
  }

  // Moves the clock forward, as a job that takes time would.
  void advance(milliseconds by) {
    std::lock_guard<std::mutex> lock(mutex_);
    set_now(now_ + by);
  }

  // Moves time to each wake-up up to `end`, every time waiting first until
  // `idle_threads` threads wait. Returns with the clock at `end` and those
  // threads waiting again. REQUIRES: idle_threads >= 1.
  void run_until(Instant end, std::size_t idle_threads) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return waiting_.size() >= idle_threads; });
      const Instant next = *waiting_.begin();
      if (next > end) {
        set_now(std::max(now_, end));
        return;
      }
      set_now(std::max(now_, next));
    }
  }

 private:
  void set_now(Instant now) {
    now_ = now;
    waiting_.erase(waiting_.begin(), waiting_.upper_bound(now_));
    wake_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable changed_;
  Instant now_;
  std::multiset<Instant> waiting_;
  bool cancelled_ = false;
};

Instant parse_instant(const char* text) {
  Instant instant;
  REQUIRE(parse_iso8601(text, instant));
  return instant;
}

// What each job saw when it ran: the planned instant and the clock.
struct Run {
  std::size_t job;
  Instant planned;
  Instant now;
};

class RunLog {
 public:
  void add(Run run) {
    std::lock_guard<std::mutex> lock(mutex_);
    runs_.push_back(run);
  }
  std::map<std::size_t, std::vector<Run>> by_job() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::size_t, std::vector<Run>> grouped;
    for (const Run& run : runs_) grouped[run.job].push_back(run);
    return grouped;
  }

 private:
  std::mutex mutex_;
  std::vector<Run> runs_;
};

// Jobs that record their runs and take `duration` of fake time each.
std::vector<ScheduledJob> recording_jobs(std::size_t count, RunLog& log,
                                         FakeTime& time,
                                         milliseconds duration) {
  std::vector<ScheduledJob> jobs;
  for (std::size_t i = 0; i < count; ++i) {
    jobs.push_back(ScheduledJob{"job" + std::to_string(i),
                                [i, &log, &time, duration](Instant planned) {
                                  log.add(Run{i, planned, time.now()});
                                  time.advance(duration);
                                }});
  }
  return jobs;
}

ResourceConfig plain_resource(const std::string& name) {
  auto config = parse_poller_config(
      "{\"" + name + "\": {\"url\": \"/" + name + "\", \"idField\": \"id\"}}",
      "test.json");
  REQUIRE(config.ok());
  return config->resources.front();
}

TEST_CASE("first poll offsets spread over one interval", "[scheduler]") {
  CHECK(first_poll_offset(0, 5, minutes(15)) == minutes(0));
  CHECK(first_poll_offset(1, 5, minutes(15)) == minutes(3));
  CHECK(first_poll_offset(4, 5, minutes(15)) == minutes(12));
  CHECK(first_poll_offset(1, 3, milliseconds(1000)) == milliseconds(333));
  CHECK(first_poll_offset(0, 0, minutes(15)) == minutes(0));
}

TEST_CASE("next planned time stays on the grid", "[scheduler]") {
  const Instant planned = parse_instant("2026-01-02T03:00:00Z");
  const auto interval = minutes(15);
  SECTION("a poll that ends early keeps the next slot") {
    CHECK(next_planned(planned, interval, planned + seconds(7)) ==
          planned + minutes(15));
  }
  SECTION("a poll that ends exactly on the next slot keeps it") {
    CHECK(next_planned(planned, interval, planned + minutes(15)) ==
          planned + minutes(15));
  }
  SECTION("a poll that overruns skips to the next slot after it") {
    CHECK(next_planned(planned, interval, planned + minutes(20)) ==
          planned + minutes(30));
    CHECK(next_planned(planned, interval, planned + minutes(45)) ==
          planned + minutes(45));
  }
}

TEST_CASE("scheduler staggers the first polls", "[scheduler]") {
  const Instant start = parse_instant("2026-01-02T03:00:00Z");
  FakeTime time(start);
  testing::MemoryLogger logger;
  RunLog log;
  Scheduler scheduler(recording_jobs(3, log, time, milliseconds(0)),
                      minutes(15), start, time, time, logger);
  scheduler.start();
  time.run_until(start + minutes(14), 3);
  scheduler.stop();
  REQUIRE(scheduler.wait_for(minutes(1)));

  auto runs = log.by_job();
  REQUIRE(runs[0].size() == 1);
  REQUIRE(runs[1].size() == 1);
  REQUIRE(runs[2].size() == 1);
  CHECK(runs[0][0].planned == start);
  CHECK(runs[1][0].planned == start + minutes(5));
  CHECK(runs[2][0].planned == start + minutes(10));
  for (std::size_t job = 0; job < 3; ++job) {
    CHECK(runs[job][0].now == runs[job][0].planned);
  }
}

TEST_CASE("scheduler does not drift over ten hours", "[scheduler]") {
  const Instant start = parse_instant("2026-01-02T03:00:00Z");
  FakeTime time(start);
  testing::MemoryLogger logger;
  RunLog log;
  // Every poll takes 7 s; scheduling from its end would drift 7 s a poll.
  Scheduler scheduler(recording_jobs(3, log, time, seconds(7)), minutes(15),
                      start, time, time, logger);
  scheduler.start();
  time.run_until(start + hours(10) - milliseconds(1), 3);
  scheduler.stop();
  REQUIRE(scheduler.wait_for(minutes(1)));

  auto runs = log.by_job();
  for (std::size_t job = 0; job < 3; ++job) {
    INFO("job " << job);
    REQUIRE(runs[job].size() == 40);
    const Instant first = start + first_poll_offset(job, 3, minutes(15));
    for (std::size_t k = 0; k < runs[job].size(); ++k) {
      INFO("poll " << k);
      const Instant expected =
          first + minutes(15) * static_cast<std::int64_t>(k);
      CHECK(runs[job][k].planned == expected);
      CHECK(runs[job][k].now == expected);
    }
  }
  CHECK(logger.text().find("skipping") == std::string::npos);
}

TEST_CASE("scheduler skips slots a long poll overran", "[scheduler]") {
  const Instant start = parse_instant("2026-01-02T03:00:00Z");
  FakeTime time(start);
  testing::MemoryLogger logger;
  RunLog log;
  std::vector<ScheduledJob> jobs;
  jobs.push_back(ScheduledJob{"statuses", [&](Instant planned) {
                                log.add(Run{0, planned, time.now()});
                                if (planned == start) time.advance(minutes(20));
                              }});
  Scheduler scheduler(std::move(jobs), minutes(15), start, time, time, logger);
  scheduler.start();
  time.run_until(start + minutes(50), 1);
  scheduler.stop();
  REQUIRE(scheduler.wait_for(minutes(1)));

  auto runs = log.by_job();
  REQUIRE(runs[0].size() == 3);
  CHECK(runs[0][0].planned == start);
  CHECK(runs[0][1].planned == start + minutes(30));
  CHECK(runs[0][2].planned == start + minutes(45));
  CHECK_THAT(logger.text(),
             Catch::Contains("statuses: the poll planned for "
                             "2026-01-02T03:00:00Z ran past the next planned "
                             "time; skipping 1 planned poll(s)"));
}

// A hub with a fast resource and a slow one whose first request blocks
// until the test releases it.
class SlowHub {
 public:
  SlowHub() : released_(release_.get_future().share()) {
    server_.server().Get(
        "/slow", [this](const httplib::Request&, httplib::Response& reply) {
          bool first = false;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            first = ++slow_requests_ == 1;
          }
          if (first) {
            slow_started_.set_value();
            released_.wait();
          }
          reply.set_content("[]", "application/json");
        });
    server_.server().Get(
        "/fast", [this](const httplib::Request&, httplib::Response& reply) {
          std::lock_guard<std::mutex> lock(mutex_);
          ++fast_requests_;
          reply.set_content("[]", "application/json");
        });
    server_.start();
  }
  ~SlowHub() { release(); }

  std::string url() const { return server_.url(); }
  void wait_for_slow_request() { slow_started_future_.wait(); }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!released_flag_) {
      released_flag_ = true;
      release_.set_value();
    }
  }
  int fast_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fast_requests_;
  }
  int slow_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return slow_requests_;
  }

 private:
  std::mutex mutex_;
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool released_flag_ = false;
  std::promise<void> slow_started_;
  std::future<void> slow_started_future_ = slow_started_.get_future();
  int fast_requests_ = 0;
  int slow_requests_ = 0;
  testing::HttpTestServer server_;
};

// A job that polls `resource` with a Poller on its own store connection.
struct PollingJob {
  PollingJob(const std::string& store_path, const std::string& base_url,
             const Clock& clock, Logger& logger, ResourceConfig config)
      : resource(std::move(config)) {
    auto opened = EventStore::open(store_path);
    REQUIRE(opened.ok());
    store = std::move(*opened);
    options.base_url = base_url;
    poller = std::make_unique<Poller>(instance, *store, clock, logger, options);
  }

  ScheduledJob job() {
    return ScheduledJob{resource.name, [this](Instant) {
                          const PollResult result = poller->poll(resource);
                          std::lock_guard<std::mutex> lock(mutex);
                          results.push_back(result);
                        }};
  }

  InstanceConfig instance;
  ResourceConfig resource;
  std::unique_ptr<EventStore> store;
  PollOptions options;
  std::unique_ptr<Poller> poller;
  std::mutex mutex;
  std::vector<PollResult> results;
};

TEST_CASE("slow resource delays only itself", "[scheduler]") {
  testing::TempDir dir;
  SlowHub hub;
  const Instant start = parse_instant("2026-01-02T03:00:00Z");
  FakeTime time(start);
  testing::MemoryLogger logger;
  PollingJob slow(dir.file("s.db"), hub.url(), time, logger,
                  plain_resource("slow"));
  PollingJob fast(dir.file("s.db"), hub.url(), time, logger,
                  plain_resource("fast"));
  Scheduler scheduler({slow.job(), fast.job()}, minutes(15), start, time, time,
                      logger);
  scheduler.start();

  // The slow poll starts at `start` and blocks; only the fast thread waits.
  hub.wait_for_slow_request();
  time.run_until(start + hours(2), 1);
  CHECK(hub.fast_requests() == 8);
  CHECK(hub.slow_requests() == 1);

  // Stopped before the slow poll returns: once released it finishes and
  // its thread ends, where it could otherwise start the poll that is due
  // at the current fake time.
  scheduler.stop();
  hub.release();
  REQUIRE(scheduler.wait_for(minutes(1)));
  REQUIRE(slow.results.size() == 1);
  CHECK(slow.results[0].ok);
  REQUIRE(fast.results.size() == 8);
  for (std::size_t k = 0; k < fast.results.size(); ++k) {
    CHECK(fast.results[k].poll_start ==
          start + minutes(7) + seconds(30) +
              minutes(15) * static_cast<std::int64_t>(k));
  }
}

TEST_CASE("stop mid-poll keeps store consistent", "[scheduler]") {
  testing::TempDir dir;
  SlowHub hub;
  const Instant start = parse_instant("2026-01-02T03:00:00Z");
  FakeTime time(start);
  testing::MemoryLogger logger;
  PollingJob slow(dir.file("s.db"), hub.url(), time, logger,
                  plain_resource("slow"));
  {
    Scheduler scheduler({slow.job()}, minutes(15), start, time, time, logger);
    scheduler.start();
    hub.wait_for_slow_request();
    scheduler.stop();
    hub.release();
    REQUIRE(scheduler.wait_for(minutes(1)));
  }
  // The poll in progress finished and committed as one transaction.
  REQUIRE(slow.results.size() == 1);
  CHECK(slow.results[0].ok);
  auto state = slow.store->stream(StreamId{"hubpoll", "slow"});
  REQUIRE(state.ok());
  REQUIRE(state->watermark.has_value());
  CHECK(*state->watermark == start);
  CHECK(state->last_result == "ok");

  // The next run continues from the watermark.
  time.advance(minutes(15));
  const PollResult next = slow.poller->poll(slow.resource);
  CHECK(next.ok);
  CHECK(next.window_start == start - slow.options.overlap);
  CHECK(hub.slow_requests() == 2);
}

TEST_CASE("clock alarm returns false once cancelled", "[scheduler]") {
  SystemClock clock;
  ClockAlarm alarm(clock);
  CHECK(alarm.wait_until(clock.now() - seconds(1)));

  std::promise<bool> result;
  std::thread waiter(
      [&] { result.set_value(alarm.wait_until(clock.now() + hours(24))); });
  alarm.cancel();
  waiter.join();
  CHECK_FALSE(result.get_future().get());
  CHECK_FALSE(alarm.wait_until(clock.now() - seconds(1)));
}

}  // namespace
}  // namespace hubpoll
