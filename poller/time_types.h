// Instants and clocks shared by the poller, the store and the sandbox.
#pragma once

#include <date/date.h>

#include <chrono>
#include <string>
#include <string_view>

namespace hubpoll {

// Instants are UTC with millisecond precision, the finest unit that Java's
// SimpleDateFormat (`S`) and epoch-millisecond dates carry.
using Instant = date::sys_time<std::chrono::milliseconds>;

// The source of "now". The daemon and tests inject their own so that time can
// be moved without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

// Formats as ISO 8601 UTC with a `Z`, with milliseconds only when non-zero:
// 2019-07-13T02:27:22Z, 2019-07-13T02:27:22.250Z.
std::string format_iso8601(Instant instant);

// Parses ISO 8601 with a `Z` or a ±hh:mm offset, with optional fractional
// seconds, or a bare date (midnight UTC). Returns false on anything else.
bool parse_iso8601(std::string_view text, Instant& instant);

}  // namespace hubpoll
