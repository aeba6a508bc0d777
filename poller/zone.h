// Time zones as poller configurations name them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "poller/result.h"
#include "poller/time_types.h"

namespace date {
class time_zone;
}

namespace hubpoll {

// A time zone: an IANA zone from the system database or a fixed UTC offset.
// Copyable and cheap; the IANA data is owned by the date library.
class Zone {
 public:
  // UTC.
  Zone() = default;

  // Resolves `GMT`, `UTC`, `Z`, offsets (`+05:30`, `-0800`, `GMT+01:00`,
  // `UTC-5`), IANA names (`America/New_York`) and the short names that Java's
  // TimeZone.getTimeZone accepts (`EST`, `PST`, `IST`, ...). Names are
  // case-sensitive as in Java, except GMT/UTC. Unknown names are an error,
  // never a silent fallback to GMT as Java does.
  static Result<Zone> parse(std::string_view name);

  // A fixed offset, named as Java names a custom zone (`GMT+05:30`, `GMT`).
  static Zone fixed(std::chrono::seconds offset);

  // The offset from UTC in effect at `instant`.
  std::chrono::seconds offset_at(Instant instant) const;

  // Converts a wall-clock time in this zone to UTC. In a daylight-saving gap
  // the wall time is read with the offset in effect before the gap (so 02:30
  // in a 02:00->03:00 spring-forward gap is 03:30 after it); in an overlap
  // the earlier of the two instants is taken. Java's lenient-off calendar
  // resolves both cases the same way.
  Instant to_utc(date::local_time<std::chrono::milliseconds> local) const;

  // The abbreviation in effect at `instant` (`EST`, `CEST`), as Java's `z`
  // prints it. Fixed offsets, and zones that tzdata gives only a numeric
  // abbreviation such as `+0545`, print as `GMT+05:45`.
  std::string abbreviation_at(Instant instant) const;

  // The long name as Java's `zzzz` prints it when known (`Eastern Standard
  // Time`), else the abbreviation.
  std::string long_name_at(Instant instant) const;

  // The UTC offset that a zone name in parsed text stands for: a long name
  // (`Eastern Daylight Time`) or an abbreviation (`EDT`, `CEST`), matched
  // without regard to case. Ambiguous abbreviations resolve as Java's short
  // ids do (CST is America/Chicago, IST is Asia/Kolkata). Empty when unknown.
  static std::optional<std::chrono::seconds> offset_of_name(
      std::string_view name);

  // The UTC offset that `abbreviation` has in this zone around the wall time
  // `local` (`CST` in Asia/Shanghai is +08:00). Empty when this zone does not
  // use that abbreviation there.
  std::optional<std::chrono::seconds> offset_for_abbreviation(
      std::string_view abbreviation,
      date::local_time<std::chrono::milliseconds> local) const;

  const std::string& name() const { return name_; }
  bool is_fixed() const { return tz_ == nullptr; }

 private:
  const date::time_zone* tz_ = nullptr;
  std::chrono::seconds fixed_offset_{0};
  std::string name_ = "UTC";
  std::string fixed_abbreviation_ = "UTC";  // what `z` prints for tz_ == null
};

}  // namespace hubpoll
