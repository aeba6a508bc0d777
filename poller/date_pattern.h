// Java SimpleDateFormat patterns, compiled once and used to format and parse.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "poller/result.h"
#include "poller/time_types.h"
#include "poller/zone.h"

namespace hubpoll {

// A compiled Java SimpleDateFormat pattern with the English US locale and
// setLenient(false) semantics, or the special format `milliseconds` (epoch
// milliseconds as decimal text).
//
// Parsing is strict: the whole text must match, month and day names match
// without regard to case, and out-of-range fields are errors. As in Java's
// non-lenient calendar, every parsed field must agree with the resulting
// date, so `Mon` with a date that is a Tuesday, or `D` 33 with February 3,
// is an error. When the pattern carries an offset (z, Z, X), the parsed
// offset wins. Otherwise the zone passed in applies, with the gap and
// overlap rule of Zone::to_utc. As in Java, spaces and tabs before a
// non-literal field are skipped, and a number directly followed by another
// field reads at most as many digits as its pattern letters.
//
// `milliseconds` accepts an optional `-` and decimal digits for an instant
// within the years 0001 to 9999, and ignores the zone.
//
// Thread-safe: compiled patterns are immutable.
class DatePattern {
 public:
  // Compiles `pattern`. An unknown letter or an unterminated quote is an
  // error whose message names the 1-based column.
  static Result<DatePattern> compile(std::string_view pattern);

  // Formats `instant` in `zone`.
  // REQUIRES: `instant` lies within the years -32000 to 32000, the range of
  // the date library's civil calendar.
  std::string format(Instant instant, const Zone& zone) const;

  // Parses `text`. Two-digit years (`yy`) are read in the century window
  // that Java uses: from 80 years before the current system time to 20 years
  // after it.
  Result<Instant> parse(std::string_view text, const Zone& zone) const;

  // Parses `text` with the two-digit-year window placed around `now` instead
  // of the system clock.
  Result<Instant> parse(std::string_view text, const Zone& zone,
                        Instant now) const;

  // The pattern text as given to compile().
  const std::string& text() const { return text_; }

  bool is_epoch_milliseconds() const { return epoch_milliseconds_; }

  // True when parsing reads an offset or zone from the text (z, Z, X).
  // False for `milliseconds`, whose instants need no zone.
  bool carries_offset() const { return carries_offset_; }

  // True when the pattern uses week-year `Y` (a common mistake for `y`).
  bool uses_week_year() const { return uses_week_year_; }

  // True when the pattern has a 12-hour field (h, K) but no AM/PM marker `a`.
  bool has_12_hour_without_marker() const {
    return has_12_hour_without_marker_;
  }

  struct Field;  // one literal or pattern letter run; defined in the .cpp

 private:
  // `now` places the two-digit-year window; null means the system clock.
  Result<Instant> parse_with_window(std::string_view text, const Zone& zone,
                                    const Instant* now) const;

  std::string text_;
  std::shared_ptr<const std::vector<Field>> fields_;
  bool epoch_milliseconds_ = false;
  bool carries_offset_ = false;
  bool uses_week_year_ = false;
  bool has_12_hour_without_marker_ = false;
};

}  // namespace hubpoll
