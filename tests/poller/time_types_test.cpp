#include "poller/time_types.h"

#include <catch2/catch.hpp>

namespace hubpoll {
namespace {

using std::chrono::milliseconds;

Instant at(int year, unsigned month, unsigned day, int hour, int minute,
           int second, int millis = 0) {
  return Instant(date::sys_days(date::year(year) / month / day)) +
         std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) + milliseconds(millis);
}

TEST_CASE("iso8601 formats whole seconds without fraction", "[time_types]") {
  CHECK(format_iso8601(at(2019, 7, 13, 2, 27, 22)) == "2019-07-13T02:27:22Z");
}

TEST_CASE("iso8601 formats milliseconds when present", "[time_types]") {
  CHECK(format_iso8601(at(2019, 7, 13, 2, 27, 22, 250)) ==
        "2019-07-13T02:27:22.250Z");
  CHECK(format_iso8601(at(1969, 12, 31, 23, 59, 59, 1)) ==
        "1969-12-31T23:59:59.001Z");
}

TEST_CASE("iso8601 parses Z, offsets, fractions and dates", "[time_types]") {
  Instant instant;
  REQUIRE(parse_iso8601("2019-07-13T02:27:22Z", instant));
  CHECK(instant == at(2019, 7, 13, 2, 27, 22));

  REQUIRE(parse_iso8601("2019-07-13T04:27:22.5+02:00", instant));
  CHECK(instant == at(2019, 7, 13, 2, 27, 22, 500));

  REQUIRE(parse_iso8601("2019-07-12T21:27:22.123456-05:00", instant));
  CHECK(instant == at(2019, 7, 13, 2, 27, 22, 123));

  REQUIRE(parse_iso8601("2019-07-13", instant));
  CHECK(instant == at(2019, 7, 13, 0, 0, 0));
}

TEST_CASE("iso8601 rejects malformed text", "[time_types]") {
  Instant instant;
  CHECK_FALSE(parse_iso8601("", instant));
  CHECK_FALSE(parse_iso8601("2019-07-13T02:27:22", instant));
  CHECK_FALSE(parse_iso8601("2019-02-29T00:00:00Z", instant));
  CHECK_FALSE(parse_iso8601("2019-07-13T24:00:00Z", instant));
  CHECK_FALSE(parse_iso8601("2019-07-13T02:27:22Zjunk", instant));
  CHECK_FALSE(parse_iso8601("2019-07-13T02:27:22.Z", instant));
  CHECK_FALSE(parse_iso8601("2019-7-13", instant));
}

TEST_CASE("iso8601 round trips its own output", "[time_types]") {
  for (const Instant original :
       {at(1970, 1, 1, 0, 0, 0), at(2038, 1, 19, 3, 14, 8, 999),
        at(2100, 12, 31, 23, 59, 59, 1), at(1901, 6, 1, 12, 0, 0)}) {
    Instant parsed;
    REQUIRE(parse_iso8601(format_iso8601(original), parsed));
    CHECK(parsed == original);
  }
}

}  // namespace
}  // namespace hubpoll
