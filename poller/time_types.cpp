#include "poller/time_types.h"

#include <cstdio>

namespace hubpoll {
namespace {

using std::chrono::milliseconds;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `pos` and advances past them.
bool read_digits(std::string_view text, size_t& pos, size_t count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// Reads `.fff...` when present; digits past the millisecond are dropped.
bool read_fraction(std::string_view text, size_t& pos, milliseconds& value) {
  if (pos >= text.size() || text[pos] != '.') return true;
  ++pos;
  const size_t start = pos;
  int millis = 0;
  int scale = 100;
  while (pos < text.size() && is_digit(text[pos])) {
    millis += (text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  value = milliseconds(millis);
  return pos > start;
}

bool read_offset(std::string_view text, size_t& pos,
                 std::chrono::minutes& offset) {
  if (pos >= text.size()) return false;
  if (text[pos] == 'Z') {
    ++pos;
    offset = std::chrono::minutes(0);
    return true;
  }
  const char sign = text[pos];
  if (sign != '+' && sign != '-') return false;
  ++pos;
  int hour = 0;
  int minute = 0;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || hour > 23 || minute > 59) {
    return false;
  }
  offset = std::chrono::minutes(hour * 60 + minute);
  if (sign == '-') offset = -offset;
  return true;
}

}  // namespace

std::string format_iso8601(Instant instant) {
  const auto day = date::floor<date::days>(instant);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss<milliseconds> time(instant - day);
  char buffer[48];
  const int year = static_cast<int>(ymd.year());
  const long long millis = time.subseconds().count();
  int length = std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld", year,
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<long long>(time.hours().count()),
      static_cast<long long>(time.minutes().count()),
      static_cast<long long>(time.seconds().count()));
  if (millis != 0) {
    length += std::snprintf(buffer + length, sizeof buffer - length, ".%03lld",
                            millis);
  }
  std::string text(buffer, static_cast<size_t>(length));
  text += 'Z';
  return text;
}

bool parse_iso8601(std::string_view text, Instant& instant) {
  size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return false;
  }
  const date::year_month_day ymd{date::year(year), date::month(month),
                                 date::day(day)};
  if (!ymd.ok()) return false;
  const date::sys_days days(ymd);
  if (pos == text.size()) {
    instant = Instant(days);
    return true;
  }

  int hour = 0;
  int minute = 0;
  int second = 0;
  milliseconds fraction(0);
  std::chrono::minutes offset(0);
  if (!expect(text, pos, 'T') || !read_digits(text, pos, 2, hour) ||
      !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_digits(text, pos, 2, second) ||
      !read_fraction(text, pos, fraction) || !read_offset(text, pos, offset) ||
      pos != text.size()) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  instant = Instant(days) + std::chrono::hours(hour) +
            std::chrono::minutes(minute) + std::chrono::seconds(second) +
            fraction - offset;
  return true;
}

}  // namespace hubpoll
