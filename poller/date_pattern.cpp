#include "poller/date_pattern.h"

#include <array>
#include <cstdint>
#include <optional>

namespace hubpoll {

struct DatePattern::Field {
  char letter;          // the pattern letter, or 0 for a literal
  int count;            // how many times the letter repeats
  int column;           // 1-based column of the field in the pattern
  bool obey_count;      // a number followed directly by another field
  std::string literal;  // the text of a literal field
};

namespace {

using std::chrono::milliseconds;
using LocalTime = date::local_time<milliseconds>;

constexpr std::string_view kEpochMilliseconds = "milliseconds";
constexpr std::string_view kPatternLetters = "GyYMLwWDdFEuaHkKhmsSzZX";

constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 12> kMonthAbbreviations = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Indexed by weekday with Sunday as 0, as date::weekday::c_encoding() is.
constexpr std::array<std::string_view, 7> kDayNames = {
    "Sunday",   "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 7> kDayAbbreviations = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 2> kAmPmMarkers = {"AM", "PM"};
constexpr std::array<std::string_view, 2> kEras = {"BC", "AD"};

constexpr int kMaxYearOfEra = 32000;
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in epoch milliseconds.
constexpr long long kMinEpochMilliseconds = -62135596800000LL;
constexpr long long kMaxEpochMilliseconds = 253402300799999LL;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// Returns the name of the field a pattern letter stands for, for messages.
const char* describe_letter(char letter) {
  switch (letter) {
    case 'G':
      return "era";
    case 'y':
      return "year";
    case 'Y':
      return "week year";
    case 'M':
    case 'L':
      return "month";
    case 'w':
      return "week of year";
    case 'W':
      return "week of month";
    case 'D':
      return "day of year";
    case 'd':
      return "day of month";
    case 'F':
      return "day of week in month";
    case 'E':
      return "day of week";
    case 'u':
      return "day number of week";
    case 'a':
      return "AM/PM marker";
    case 'H':
      return "hour (0-23)";
    case 'k':
      return "hour (1-24)";
    case 'K':
      return "hour (0-11)";
    case 'h':
      return "hour (1-12)";
    case 'm':
      return "minute";
    case 's':
      return "second";
    case 'S':
      return "millisecond";
    default:
      return "time zone";
  }
}

// The calendar fields of one wall-clock time, as Java's GregorianCalendar
// computes them for en_US: weeks start on Sunday, and week 1 of a year is
// the week that contains January 1.
struct CivilFields {
  int year = 1970;      // proleptic: 0 is 1 BC
  int month = 1;        // 1-12
  int day = 1;          // 1-31
  int day_of_year = 1;  // 1-366
  int weekday = 4;      // 0 = Sunday
  int week_year = 1970;
  int week_of_year = 1;
  int week_of_month = 1;
  int weekday_in_month = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
};

date::sys_days first_sunday_of_week_year(int week_year) {
  const date::sys_days january_first{date::year(week_year) / 1 / 1};
  return january_first - date::days(date::weekday(january_first).c_encoding());
}

void add_week_fields(CivilFields& fields, date::sys_days sys_day,
                     date::year_month_day ymd);

// Week fields cost two more calendar conversions, so parsing skips them
// unless the pattern has a week field.
CivilFields civil_fields(LocalTime local, bool with_weeks = true) {
  CivilFields fields;
  const auto day = date::floor<date::days>(local);
  const date::sys_days sys_day(day.time_since_epoch());
  const date::year_month_day ymd(sys_day);
  fields.year = static_cast<int>(ymd.year());
  fields.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  fields.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  fields.weekday = static_cast<int>(date::weekday(sys_day).c_encoding());
  const date::sys_days january_first{ymd.year() / 1 / 1};
  fields.day_of_year = (sys_day - january_first).count() + 1;

  if (with_weeks) add_week_fields(fields, sys_day, ymd);

  const date::hh_mm_ss<milliseconds> time(local - day);
  fields.hour = static_cast<int>(time.hours().count());
  fields.minute = static_cast<int>(time.minutes().count());
  fields.second = static_cast<int>(time.seconds().count());
  fields.millisecond = static_cast<int>(time.subseconds().count());
  return fields;
}

void add_week_fields(CivilFields& fields, date::sys_days sys_day,
                     date::year_month_day ymd) {
  // The week belongs to the year that contains its Saturday, because with one
  // minimal day a week that contains January 1 is week 1 of that year.
  const date::sys_days saturday = sys_day + date::days(6 - fields.weekday);
  fields.week_year = static_cast<int>(date::year_month_day(saturday).year());
  const date::sys_days week_one = first_sunday_of_week_year(fields.week_year);
  fields.week_of_year = (sys_day - week_one).count() / 7 + 1;

  const date::sys_days month_first{ymd.year() / ymd.month() / 1};
  const int first_weekday =
      static_cast<int>(date::weekday(month_first).c_encoding());
  fields.week_of_month = (fields.day - 1 + first_weekday) / 7 + 1;
  fields.weekday_in_month = (fields.day - 1) / 7 + 1;
}

void append_padded(std::string& out, long long value, int width) {
  char digits[24];
  int length = 0;
  unsigned long long magnitude =
      value < 0 ? 0ULL - static_cast<unsigned long long>(value)
                : static_cast<unsigned long long>(value);
  do {
    digits[length++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) out += '-';
  for (int i = length; i < width; ++i) out += '0';
  while (length > 0) out += digits[--length];
}

// Appends an offset as `+hh`, `+hhmm` or `+hh:mm`.
void append_offset(std::string& out, std::chrono::seconds offset,
                   bool with_minutes, bool with_colon) {
  const long long total_minutes = offset.count() / 60;
  const long long magnitude =
      total_minutes < 0 ? -total_minutes : total_minutes;
  out += total_minutes < 0 ? '-' : '+';
  append_padded(out, magnitude / 60, 2);
  if (!with_minutes) return;
  if (with_colon) out += ':';
  append_padded(out, magnitude % 60, 2);
}

int year_of_era(int year) { return year > 0 ? year : 1 - year; }

void append_year(std::string& out, int year, int count) {
  if (count == 2) {
    append_padded(out, year % 100, 2);
  } else {
    append_padded(out, year, count);
  }
}

void format_field(std::string& out, const DatePattern::Field& field,
                  const CivilFields& civil, Instant instant,
                  std::chrono::seconds offset, const Zone& zone) {
  const int count = field.count;
  switch (field.letter) {
    case 0:
      out += field.literal;
      break;
    case 'G':
      out += kEras[civil.year > 0 ? 1 : 0];
      break;
    case 'y':
      append_year(out, year_of_era(civil.year), count);
      break;
    case 'Y':
      append_year(out, year_of_era(civil.week_year), count);
      break;
    case 'M':
    case 'L':
      if (count >= 4) {
        out += kMonthNames[civil.month - 1];
      } else if (count == 3) {
        out += kMonthAbbreviations[civil.month - 1];
      } else {
        append_padded(out, civil.month, count);
      }
      break;
    case 'w':
      append_padded(out, civil.week_of_year, count);
      break;
    case 'W':
      append_padded(out, civil.week_of_month, count);
      break;
    case 'D':
      append_padded(out, civil.day_of_year, count);
      break;
    case 'd':
      append_padded(out, civil.day, count);
      break;
    case 'F':
      append_padded(out, civil.weekday_in_month, count);
      break;
    case 'E':
      out += count >= 4 ? kDayNames[civil.weekday]
                        : kDayAbbreviations[civil.weekday];
      break;
    case 'u':
      append_padded(out, civil.weekday == 0 ? 7 : civil.weekday, count);
      break;
    case 'a':
      out += kAmPmMarkers[civil.hour >= 12 ? 1 : 0];
      break;
    case 'H':
      append_padded(out, civil.hour, count);
      break;
    case 'k':
      append_padded(out, civil.hour == 0 ? 24 : civil.hour, count);
      break;
    case 'K':
      append_padded(out, civil.hour % 12, count);
      break;
    case 'h':
      append_padded(out, civil.hour % 12 == 0 ? 12 : civil.hour % 12, count);
      break;
    case 'm':
      append_padded(out, civil.minute, count);
      break;
    case 's':
      append_padded(out, civil.second, count);
      break;
    case 'S':
      append_padded(out, civil.millisecond, count);
      break;
    case 'z':
      out += count >= 4 ? zone.long_name_at(instant)
                        : zone.abbreviation_at(instant);
      break;
    case 'Z':
      append_offset(out, offset, true, false);
      break;
    case 'X':
      if (offset == std::chrono::seconds(0)) {
        out += 'Z';
      } else {
        append_offset(out, offset, count >= 2, count == 3);
      }
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// Parsing.

enum Slot {
  kEra,
  kYear,
  kWeekYear,
  kMonth,
  kWeekOfYear,
  kWeekOfMonth,
  kDayOfYear,
  kDay,
  kWeekdayInMonth,
  kWeekday,  // 0 = Sunday
  kAmPm,
  kHourOfDay,
  kHour,  // 0-11, from h or K
  kMinute,
  kSecond,
  kMillisecond,
  kSlotCount
};

// The raw field values read from the text, before they are combined.
struct ParsedFields {
  std::array<int, kSlotCount> value{};
  std::array<int, kSlotCount> column{};  // 1-based column in the value
  uint32_t present = 0;
  bool has_offset = false;
  std::chrono::seconds offset{0};
  std::string_view zone_name;  // a zone name or abbreviation to resolve
  int zone_column = 0;

  bool has(Slot slot) const { return (present >> slot) & 1U; }
  void set(Slot slot, int v, int col) {
    value[slot] = v;
    column[slot] = col;
    present |= 1U << slot;
  }
};

// The position and reason where parsing stopped. The hot path never builds
// one, so a successful parse allocates nothing.
struct Failure {
  size_t position = 0;  // 0-based index in the value
  std::string reason;
};

int two_digit_year_start(Instant now) {
  const auto day = date::floor<date::days>(now);
  return static_cast<int>(date::year_month_day(day).year()) - 80;
}

// Java's SimpleDateFormat reads two-digit years into the 100 years that
// start 80 years before now.
int expand_two_digit_year(int two_digits, int start_year) {
  const int start_two_digits = start_year % 100;
  return two_digits + (start_year / 100) * 100 +
         (two_digits < start_two_digits ? 100 : 0);
}

class Parser {
 public:
  Parser(std::string_view text, const std::vector<DatePattern::Field>& fields,
         const Instant* now)
      : text_(text), fields_(fields), now_(now) {}

  bool parse_fields(ParsedFields& parsed, Failure& failure) {
    for (const auto& field : fields_) {
      if (field.letter == 0) {
        if (!match_literal(field.literal, failure)) return false;
        continue;
      }
      skip_blanks();
      if (!parse_field(field, parsed, failure)) return false;
    }
    if (pos_ != text_.size()) {
      failure.position = pos_;
      failure.reason = "unexpected text '" + std::string(text_.substr(pos_)) +
                       "' after the end of the pattern";
      return false;
    }
    return true;
  }

 private:
  bool match_literal(const std::string& literal, Failure& failure) {
    if (text_.compare(pos_, literal.size(), literal) == 0) {
      pos_ += literal.size();
      return true;
    }
    failure.position = pos_;
    failure.reason = "expected '" + literal + "'";
    return false;
  }

  void skip_blanks() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool fail_expected(const DatePattern::Field& field, Failure& failure) {
    failure.position = pos_;
    failure.reason = std::string("expected ") + describe_letter(field.letter) +
                     " (" + std::string(field.count, field.letter) + ")";
    return false;
  }

  // Reads a decimal number, or at most `max_digits` digits of one when the
  // field abuts the next. Values of more than nine digits saturate so that
  // the range check rejects them.
  bool read_number(size_t max_digits, int& value, size_t& digits) {
    const size_t start = pos_;
    long long number = 0;
    while (pos_ < text_.size() && pos_ - start < max_digits &&
           is_digit(text_[pos_])) {
      if (number < 1000000000) number = number * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    digits = pos_ - start;
    value = static_cast<int>(number);
    return digits > 0;
  }

  // Matches the longest of `names` at the position without regard to case.
  template <size_t N>
  int match_name(const std::array<std::string_view, N>& names,
                 size_t& length) const {
    int best = -1;
    length = 0;
    for (size_t i = 0; i < N; ++i) {
      const std::string_view name = names[i];
      if (name.size() <= length || !starts_with_ignore_case(name)) continue;
      best = static_cast<int>(i);
      length = name.size();
    }
    return best;
  }

  bool starts_with_ignore_case(std::string_view name) const {
    if (text_.size() - pos_ < name.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (to_upper(text_[pos_ + i]) != to_upper(name[i])) return false;
    }
    return true;
  }

  template <size_t N>
  bool parse_name(const DatePattern::Field& field,
                  const std::array<std::string_view, N>& long_names,
                  const std::array<std::string_view, N>& short_names, Slot slot,
                  int base, ParsedFields& parsed, Failure& failure) {
    size_t long_length = 0;
    size_t short_length = 0;
    const int long_index = match_name(long_names, long_length);
    const int short_index = match_name(short_names, short_length);
    const int column = static_cast<int>(pos_) + 1;
    if (long_index >= 0 && long_length >= short_length) {
      parsed.set(slot, long_index + base, column);
      pos_ += long_length;
      return true;
    }
    if (short_index >= 0) {
      parsed.set(slot, short_index + base, column);
      pos_ += short_length;
      return true;
    }
    return fail_expected(field, failure);
  }

  bool parse_field(const DatePattern::Field& field, ParsedFields& parsed,
                   Failure& failure) {
    switch (field.letter) {
      case 'G':
        return parse_name(field, kEras, kEras, kEra, 0, parsed, failure);
      case 'E':
        return parse_name(field, kDayNames, kDayAbbreviations, kWeekday, 0,
                          parsed, failure);
      case 'a':
        return parse_name(field, kAmPmMarkers, kAmPmMarkers, kAmPm, 0, parsed,
                          failure);
      case 'M':
      case 'L':
        if (field.count >= 3) {
          return parse_name(field, kMonthNames, kMonthAbbreviations, kMonth, 1,
                            parsed, failure);
        }
        return parse_numeric(field, parsed, failure);
      case 'z':
      case 'Z':
        return parse_zone(field, parsed, failure);
      case 'X':
        return parse_iso_zone(field, parsed, failure);
      default:
        return parse_numeric(field, parsed, failure);
    }
  }

  bool parse_numeric(const DatePattern::Field& field, ParsedFields& parsed,
                     Failure& failure) {
    const size_t start = pos_;
    int value = 0;
    size_t digits = 0;
    const size_t max_digits =
        field.obey_count ? static_cast<size_t>(field.count) : SIZE_MAX;
    if (!read_number(max_digits, value, digits)) {
      return fail_expected(field, failure);
    }
    const int column = static_cast<int>(start) + 1;
    int low = 0;
    int high = 0;
    Slot slot = kYear;
    switch (field.letter) {
      case 'y':
      case 'Y':
        slot = field.letter == 'y' ? kYear : kWeekYear;
        if (field.count <= 2 && digits == 2) {
          value = expand_two_digit_year(value, window_start());
        }
        low = 1;
        high = kMaxYearOfEra;
        break;
      case 'M':
      case 'L':
        slot = kMonth;
        low = 1;
        high = 12;
        break;
      case 'w':
        slot = kWeekOfYear;
        low = 1;
        high = 53;
        break;
      case 'W':
        slot = kWeekOfMonth;
        low = 0;
        high = 6;
        break;
      case 'D':
        slot = kDayOfYear;
        low = 1;
        high = 366;
        break;
      case 'd':
        slot = kDay;
        low = 1;
        high = 31;
        break;
      case 'F':
        slot = kWeekdayInMonth;
        low = 1;
        high = 6;
        break;
      case 'u':
        slot = kWeekday;
        low = 1;
        high = 7;
        break;
      case 'H':
        slot = kHourOfDay;
        low = 0;
        high = 23;
        break;
      case 'k':
        slot = kHourOfDay;
        low = 1;
        high = 24;
        break;
      case 'K':
        slot = kHour;
        low = 0;
        high = 11;
        break;
      case 'h':
        slot = kHour;
        low = 1;
        high = 12;
        break;
      case 'm':
        slot = kMinute;
        low = 0;
        high = 59;
        break;
      case 's':
        slot = kSecond;
        low = 0;
        high = 59;
        break;
      case 'S':
        slot = kMillisecond;
        low = 0;
        high = 999;
        break;
      default:
        return fail_expected(field, failure);
    }
    if (value < low || value > high) {
      failure.position = start;
      failure.reason = std::string(describe_letter(field.letter)) + " " +
                       std::to_string(value) + " is out of range " +
                       std::to_string(low) + "-" + std::to_string(high);
      return false;
    }
    if (field.letter == 'u') value %= 7;
    if (field.letter == 'k' && value == 24) value = 0;
    if (field.letter == 'h' && value == 12) value = 0;
    parsed.set(slot, value, column);
    return true;
  }

  int window_start() {
    if (window_start_year_ == 0) {
      const Instant now = now_ != nullptr ? *now_ : SystemClock().now();
      window_start_year_ = two_digit_year_start(now);
    }
    return window_start_year_;
  }

  // Reads an offset after its sign as Java's SimpleDateFormat does: hours
  // (one or two digits unless `two_digit_hours`), then two digits of minutes
  // unless `hours_only`, with a colon between them when `colon` is set.
  bool read_numeric_offset(int sign, bool two_digit_hours, bool hours_only,
                           bool colon, ParsedFields& parsed) {
    auto digit_at = [this](size_t i) {
      return i < text_.size() && is_digit(text_[i]);
    };
    size_t i = pos_;
    if (!digit_at(i)) return false;
    int hours = text_[i++] - '0';
    if (digit_at(i)) {
      hours = hours * 10 + (text_[i++] - '0');
    } else if (two_digit_hours) {
      return false;
    }
    if (hours > 23) return false;
    int minutes = 0;
    if (!hours_only) {
      if (colon) {
        if (i >= text_.size() || text_[i] != ':') return false;
        ++i;
      }
      if (!digit_at(i) || !digit_at(i + 1)) return false;
      minutes = (text_[i] - '0') * 10 + (text_[i + 1] - '0');
      i += 2;
      if (minutes > 59) return false;
    }
    pos_ = i;
    parsed.has_offset = true;
    parsed.offset = std::chrono::seconds(sign * (hours * 3600 + minutes * 60));
    return true;
  }

  int sign_at(size_t i) const {
    if (i >= text_.size()) return 0;
    if (text_[i] == '+') return 1;
    if (text_[i] == '-') return -1;
    return 0;
  }

  // z and Z read the same forms in Java: `+hhmm`, `GMT`, `GMT+h:mm`, or a
  // zone name or abbreviation.
  bool parse_zone(const DatePattern::Field& field, ParsedFields& parsed,
                  Failure& failure) {
    const size_t start = pos_;
    if (const int sign = sign_at(pos_); sign != 0) {
      ++pos_;
      if (read_numeric_offset(sign, true, false, false, parsed)) return true;
      pos_ = start;
      return fail_expected(field, failure);
    }
    static constexpr std::array<std::string_view, 1> kGmt = {"GMT"};
    size_t length = 0;
    if (match_name(kGmt, length) == 0) {
      pos_ += length;
      const int sign = sign_at(pos_);
      if (sign == 0) {
        parsed.has_offset = true;
        parsed.offset = std::chrono::seconds(0);
        return true;
      }
      ++pos_;
      if (read_numeric_offset(sign, false, false, true, parsed)) return true;
      pos_ = start;
      return fail_expected(field, failure);
    }
    return parse_zone_name(field, parsed, failure);
  }

  // Takes the longest run of words that names a zone, trying shorter runs
  // when a longer one is unknown ("EST 2019" stops after "EST").
  bool parse_zone_name(const DatePattern::Field& field, ParsedFields& parsed,
                       Failure& failure) {
    std::array<size_t, 8> ends{};
    size_t end_count = 0;
    size_t i = pos_;
    while (end_count < ends.size()) {
      const size_t word_start = i;
      while (i < text_.size() && is_ascii_letter(text_[i])) ++i;
      if (i == word_start) break;
      ends[end_count++] = i;
      if (i + 1 >= text_.size() || (text_[i] != ' ' && text_[i] != '-')) {
        break;
      }
      ++i;
    }
    for (size_t k = end_count; k > 0; --k) {
      const std::string_view name = text_.substr(pos_, ends[k - 1] - pos_);
      if (k == 1 || Zone::offset_of_name(name)) {
        parsed.zone_name = name;
        parsed.zone_column = static_cast<int>(pos_) + 1;
        pos_ = ends[k - 1];
        return true;
      }
    }
    return fail_expected(field, failure);
  }

  bool parse_iso_zone(const DatePattern::Field& field, ParsedFields& parsed,
                      Failure& failure) {
    if (pos_ < text_.size() && text_[pos_] == 'Z') {
      ++pos_;
      parsed.has_offset = true;
      parsed.offset = std::chrono::seconds(0);
      return true;
    }
    const size_t start = pos_;
    const int sign = sign_at(pos_);
    if (sign != 0) {
      ++pos_;
      if (read_numeric_offset(sign, true, field.count == 1, field.count == 3,
                              parsed)) {
        return true;
      }
    }
    pos_ = start;
    return fail_expected(field, failure);
  }

  std::string_view text_;
  const std::vector<DatePattern::Field>& fields_;
  const Instant* now_;
  size_t pos_ = 0;
  int window_start_year_ = 0;
};

// The proleptic year from a year of era and the era (0 = BC, 1 = AD).
int proleptic_year(const ParsedFields& parsed, Slot slot) {
  const int year_of_era = parsed.value[slot];
  const bool before_christ = parsed.has(kEra) && parsed.value[kEra] == 0;
  return before_christ ? 1 - year_of_era : year_of_era;
}

date::sys_days week_date(int week_year, int week, int weekday) {
  return first_sunday_of_week_year(week_year) + date::days((week - 1) * 7) +
         date::days(weekday);
}

// Combines the date fields as Java's GregorianCalendar does when they are
// consistent. Returns false with a reason when no such date exists.
// NOTE: Java picks the most recently parsed combination of fields, while this
// uses a fixed order (week year, day of month, day of year, week of year,
// week of month). Both agree whenever the fields are consistent, because
// check_consistency rejects the rest, except for underdetermined patterns
// such as a lone `EEE`, whose default date may differ from Java's.
bool resolve_date(const ParsedFields& parsed, date::sys_days& day,
                  Failure& failure) {
  const int weekday = parsed.has(kWeekday) ? parsed.value[kWeekday] : 0;
  if (parsed.has(kWeekYear)) {
    const int week = parsed.has(kWeekOfYear) ? parsed.value[kWeekOfYear] : 1;
    day = week_date(proleptic_year(parsed, kWeekYear), week, weekday);
    return true;
  }
  const int year = parsed.has(kYear) ? proleptic_year(parsed, kYear) : 1970;
  const int month = parsed.has(kMonth) ? parsed.value[kMonth] : 1;
  const date::year_month first_of{date::year(year), date::month(month)};
  const date::sys_days month_first{first_of / 1};
  if (parsed.has(kDay)) {
    const date::year_month_day ymd{first_of / parsed.value[kDay]};
    if (!ymd.ok()) {
      failure.position = static_cast<size_t>(parsed.column[kDay] - 1);
      failure.reason =
          "day " + std::to_string(parsed.value[kDay]) + " does not exist in " +
          std::string(kMonthNames[month - 1]) + " " + std::to_string(year);
      return false;
    }
    day = date::sys_days(ymd);
  } else if (parsed.has(kDayOfYear)) {
    day = date::sys_days(date::year(year) / 1 / 1) +
          date::days(parsed.value[kDayOfYear] - 1);
  } else if (parsed.has(kWeekOfYear)) {
    day = week_date(year, parsed.value[kWeekOfYear], weekday);
  } else if (parsed.has(kWeekdayInMonth)) {
    const int first = static_cast<int>(date::weekday(month_first).c_encoding());
    day = month_first + date::days((weekday - first + 7) % 7) +
          date::days((parsed.value[kWeekdayInMonth] - 1) * 7);
  } else if (parsed.has(kWeekOfMonth) || parsed.has(kWeekday)) {
    const int week = parsed.has(kWeekOfMonth) ? parsed.value[kWeekOfMonth] : 1;
    const int first = static_cast<int>(date::weekday(month_first).c_encoding());
    day = month_first - date::days(first) + date::days((week - 1) * 7) +
          date::days(weekday);
  } else {
    day = month_first;
  }
  return true;
}

int resolve_hour(const ParsedFields& parsed) {
  if (parsed.has(kHourOfDay)) return parsed.value[kHourOfDay];
  const int am_pm = parsed.has(kAmPm) ? parsed.value[kAmPm] : 0;
  const int hour = parsed.has(kHour) ? parsed.value[kHour] : 0;
  return hour + 12 * am_pm;
}

// Java's non-lenient calendar rejects a parsed field that disagrees with the
// date and time the fields resolve to, such as `Mon` on a Tuesday.
bool check_consistency(const ParsedFields& parsed, const CivilFields& civil,
                       Failure& failure) {
  struct Check {
    Slot slot;
    int actual;
    const char* name;
  };
  const int era = civil.year > 0 ? 1 : 0;
  const std::array<Check, 12> checks = {{
      {kEra, era, "era"},
      {kYear, year_of_era(civil.year), "year"},
      {kWeekYear, year_of_era(civil.week_year), "week year"},
      {kMonth, civil.month, "month"},
      {kWeekOfYear, civil.week_of_year, "week of year"},
      {kWeekOfMonth, civil.week_of_month, "week of month"},
      {kDayOfYear, civil.day_of_year, "day of year"},
      {kDay, civil.day, "day of month"},
      {kWeekdayInMonth, civil.weekday_in_month, "day of week in month"},
      {kWeekday, civil.weekday, "day of week"},
      {kAmPm, civil.hour >= 12 ? 1 : 0, "AM/PM marker"},
      {kHour, civil.hour % 12, "hour"},
  }};
  for (const auto& check : checks) {
    if (!parsed.has(check.slot) || parsed.value[check.slot] == check.actual) {
      continue;
    }
    std::string date_text;
    append_padded(date_text, civil.year, 4);
    date_text += '-';
    append_padded(date_text, civil.month, 2);
    date_text += '-';
    append_padded(date_text, civil.day, 2);
    failure.position = static_cast<size_t>(parsed.column[check.slot] - 1);
    failure.reason = std::string(check.name) + " does not match the date " +
                     date_text + ", a " + std::string(kDayNames[civil.weekday]);
    return false;
  }
  return true;
}

bool resolve_offset(const ParsedFields& parsed, const Zone& zone,
                    LocalTime local, std::chrono::seconds& offset,
                    Failure& failure) {
  if (parsed.has_offset) {
    offset = parsed.offset;
    return true;
  }
  if (auto own = zone.offset_for_abbreviation(parsed.zone_name, local)) {
    offset = *own;
    return true;
  }
  if (auto known = Zone::offset_of_name(parsed.zone_name)) {
    offset = *known;
    return true;
  }
  failure.position = static_cast<size_t>(parsed.zone_column - 1);
  failure.reason =
      "unknown time zone name '" + std::string(parsed.zone_name) + "'";
  return false;
}

Error parse_error(std::string_view text, const std::string& pattern,
                  const Failure& failure) {
  return make_error(ErrorKind::kInvalidArgument,
                    "value '" + std::string(text) +
                        "' does not match date pattern '" + pattern +
                        "': " + failure.reason + " at column " +
                        std::to_string(failure.position + 1));
}

Result<Instant> parse_epoch_milliseconds(std::string_view text) {
  size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) pos = 1;
  if (pos == text.size()) {
    return make_error(ErrorKind::kInvalidArgument,
                      "value '" + std::string(text) +
                          "' is not epoch milliseconds: expected digits");
  }
  long long magnitude = 0;
  for (; pos < text.size(); ++pos) {
    if (!is_digit(text[pos])) {
      return make_error(ErrorKind::kInvalidArgument,
                        "value '" + std::string(text) +
                            "' is not epoch milliseconds: unexpected '" +
                            std::string(1, text[pos]) + "' at column " +
                            std::to_string(pos + 1));
    }
    if (magnitude <= kMaxEpochMilliseconds) {
      magnitude = magnitude * 10 + (text[pos] - '0');
    }
  }
  const long long value = negative ? -magnitude : magnitude;
  if (value < kMinEpochMilliseconds || value > kMaxEpochMilliseconds) {
    return make_error(ErrorKind::kInvalidArgument,
                      "value '" + std::string(text) +
                          "' is out of range: epoch milliseconds must lie "
                          "within the years 0001 to 9999");
  }
  return Instant(milliseconds(value));
}

Error compile_error(std::string_view pattern, size_t index,
                    const std::string& reason) {
  return make_error(ErrorKind::kInvalidArgument,
                    "invalid date pattern '" + std::string(pattern) + "': " +
                        reason + " at column " + std::to_string(index + 1));
}

void append_literal(std::vector<DatePattern::Field>& fields, char c,
                    int column) {
  if (fields.empty() || fields.back().letter != 0) {
    fields.push_back(DatePattern::Field{0, 0, column, false, {}});
  }
  fields.back().literal += c;
}

// Reads a quoted literal starting at the opening quote `index`. `''` inside
// is one quote. Advances `index` past the closing quote.
bool read_quoted(std::string_view pattern, size_t& index,
                 std::vector<DatePattern::Field>& fields) {
  const int column = static_cast<int>(index) + 1;
  size_t i = index + 1;
  while (i < pattern.size()) {
    if (pattern[i] == '\'') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        append_literal(fields, '\'', column);
        i += 2;
        continue;
      }
      index = i + 1;
      return true;
    }
    append_literal(fields, pattern[i], column);
    ++i;
  }
  return false;
}

}  // namespace

Result<DatePattern> DatePattern::compile(std::string_view pattern) {
  DatePattern compiled;
  compiled.text_ = std::string(pattern);
  if (pattern == kEpochMilliseconds) {
    compiled.epoch_milliseconds_ = true;
    compiled.fields_ = std::make_shared<const std::vector<Field>>();
    return compiled;
  }

  std::vector<Field> fields;
  size_t index = 0;
  while (index < pattern.size()) {
    const char c = pattern[index];
    if (c == '\'') {
      if (index + 1 < pattern.size() && pattern[index + 1] == '\'') {
        append_literal(fields, '\'', static_cast<int>(index) + 1);
        index += 2;
        continue;
      }
      const size_t opening = index;
      if (!read_quoted(pattern, index, fields)) {
        return compile_error(pattern, opening, "unterminated quote");
      }
      continue;
    }
    if (!is_ascii_letter(c)) {
      append_literal(fields, c, static_cast<int>(index) + 1);
      ++index;
      continue;
    }
    if (kPatternLetters.find(c) == std::string_view::npos) {
      return compile_error(pattern, index,
                           std::string("unknown pattern letter '") + c + "'");
    }
    size_t end = index;
    while (end < pattern.size() && pattern[end] == c) ++end;
    const int count = static_cast<int>(end - index);
    if (c == 'X' && count > 3) {
      return compile_error(pattern, index,
                           "X takes at most 3 letters (XXX is +hh:mm)");
    }
    fields.push_back(
        Field{c, count, static_cast<int>(index) + 1, false, std::string()});
    index = end;
  }

  // As in Java, a field directly followed by another field (not a literal)
  // reads no more characters than its letter count.
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    fields[i].obey_count = fields[i].letter != 0 && fields[i + 1].letter != 0;
  }

  bool has_12_hour = false;
  bool has_marker = false;
  for (const auto& field : fields) {
    if (field.letter == 'z' || field.letter == 'Z' || field.letter == 'X') {
      compiled.carries_offset_ = true;
    }
    if (field.letter == 'Y') compiled.uses_week_year_ = true;
    if (field.letter == 'h' || field.letter == 'K') has_12_hour = true;
    if (field.letter == 'a') has_marker = true;
  }
  compiled.has_12_hour_without_marker_ = has_12_hour && !has_marker;
  compiled.fields_ =
      std::make_shared<const std::vector<Field>>(std::move(fields));
  return compiled;
}

std::string DatePattern::format(Instant instant, const Zone& zone) const {
  if (epoch_milliseconds_) {
    return std::to_string(instant.time_since_epoch().count());
  }
  const std::chrono::seconds offset = zone.offset_at(instant);
  const LocalTime local{instant.time_since_epoch() + offset};
  const CivilFields civil = civil_fields(local);
  std::string out;
  out.reserve(32);
  for (const auto& field : *fields_) {
    format_field(out, field, civil, instant, offset, zone);
  }
  return out;
}

Result<Instant> DatePattern::parse(std::string_view text,
                                   const Zone& zone) const {
  return parse_with_window(text, zone, nullptr);
}

Result<Instant> DatePattern::parse(std::string_view text, const Zone& zone,
                                   Instant now) const {
  return parse_with_window(text, zone, &now);
}

Result<Instant> DatePattern::parse_with_window(std::string_view text,
                                               const Zone& zone,
                                               const Instant* now) const {
  if (epoch_milliseconds_) return parse_epoch_milliseconds(text);

  ParsedFields parsed;
  Failure failure;
  Parser parser(text, *fields_, now);
  if (!parser.parse_fields(parsed, failure)) {
    return parse_error(text, text_, failure);
  }

  date::sys_days day;
  if (!resolve_date(parsed, day, failure)) {
    return parse_error(text, text_, failure);
  }
  const int hour = resolve_hour(parsed);
  const milliseconds time_of_day = std::chrono::hours(hour) +
                                   std::chrono::minutes(parsed.value[kMinute]) +
                                   std::chrono::seconds(parsed.value[kSecond]) +
                                   milliseconds(parsed.value[kMillisecond]);
  const LocalTime local{day.time_since_epoch() + time_of_day};
  constexpr uint32_t kWeekSlots = (1U << kWeekYear) | (1U << kWeekOfYear) |
                                  (1U << kWeekOfMonth) |
                                  (1U << kWeekdayInMonth);
  const bool with_weeks = (parsed.present & kWeekSlots) != 0;
  if (!check_consistency(parsed, civil_fields(local, with_weeks), failure)) {
    return parse_error(text, text_, failure);
  }

  if (!parsed.has_offset && parsed.zone_name.empty()) {
    return zone.to_utc(local);
  }
  std::chrono::seconds offset{0};
  if (!resolve_offset(parsed, zone, local, offset, failure)) {
    return parse_error(text, text_, failure);
  }
  return Instant(local.time_since_epoch() - offset);
}

}  // namespace hubpoll
