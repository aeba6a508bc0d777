// Test doubles for the clock and the logger, so tests move time by hand and
// read what was logged.
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <string_view>

#include "poller/log.h"
#include "poller/time_types.h"

namespace hubpoll::testing {

// A clock that stands still until a test moves it. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant now) : now_(now) {}
  Instant now() const override { return now_.load(); }
  void set(Instant now) { now_.store(now); }
  void advance(std::chrono::milliseconds by) { now_.store(now_.load() + by); }

 private:
  std::atomic<Instant> now_;
};

// A logger that keeps every line as `LEVEL message`. Thread-safe.
class MemoryLogger final : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    text_ +=
        std::string(log_level_name(level)) + " " + std::string(message) + "\n";
  }

  std::string text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;
};

// Parses an ISO 8601 instant, failing the test when it does not parse.
inline Instant parse_instant(const char* text) {
  Instant instant;
  REQUIRE(parse_iso8601(text, instant));
  return instant;
}

}  // namespace hubpoll::testing
