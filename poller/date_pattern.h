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
// without regard to case, and out-of-range fields are errors. When the
// pattern carries an offset (z, Z, X) the parsed offset wins; otherwise the
// zone passed in applies.
//
// Thread-safe: compiled patterns are immutable.
class DatePattern {
 public:
  // Compiles `pattern`. An unknown letter or an unterminated quote is an
  // error whose message names the 1-based column.
  static Result<DatePattern> compile(std::string_view pattern);

  std::string format(Instant instant, const Zone& zone) const;

  Result<Instant> parse(std::string_view text, const Zone& zone) const;

  // The pattern text as given to compile().
  const std::string& text() const { return text_; }

  bool is_epoch_milliseconds() const { return epoch_milliseconds_; }

  // True when parsing reads an offset or zone from the text (z, Z, X).
  bool carries_offset() const { return carries_offset_; }

  // True when the pattern uses week-year `Y` (a common mistake for `y`).
  bool uses_week_year() const { return uses_week_year_; }

  // True when the pattern has a 12-hour field (h, K) but no AM/PM marker `a`.
  bool has_12_hour_without_marker() const { return has_12_hour_without_marker_; }

  struct Field;  // one literal or pattern letter run; defined in the .cpp

 private:
  std::string text_;
  std::shared_ptr<const std::vector<Field>> fields_;
  bool epoch_milliseconds_ = false;
  bool carries_offset_ = false;
  bool uses_week_year_ = false;
  bool has_12_hour_without_marker_ = false;
};

}  // namespace hubpoll
