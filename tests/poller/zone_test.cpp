#include "poller/zone.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace hubpoll {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Instant at(int year, unsigned month, unsigned day, int hour, int minute) {
  return Instant(date::sys_days(date::year(year) / month / day)) + hours(hour) +
         minutes(minute);
}

date::local_time<std::chrono::milliseconds> local(int year, unsigned month,
                                                  unsigned day, int hour,
                                                  int minute) {
  return date::local_time<std::chrono::milliseconds>(
      date::local_days(date::year(year) / month / day) + hours(hour) +
      minutes(minute));
}

seconds offset_of(std::string_view name, Instant instant) {
  auto zone = Zone::parse(name);
  REQUIRE(zone.ok());
  return zone->offset_at(instant);
}

TEST_CASE("zone parses UTC and GMT spellings", "[zone]") {
  const Instant summer = at(2020, 7, 1, 0, 0);
  for (const char* name : {"UTC", "GMT", "Z", "utc", "gmt"}) {
    INFO(name);
    CHECK(offset_of(name, summer) == seconds(0));
  }
  CHECK(Zone::parse("Z")->name() == "UTC");
  CHECK(Zone::parse("GMT")->name() == "GMT");
}

TEST_CASE("zone parses fixed offsets", "[zone]") {
  const Instant instant = at(2020, 1, 1, 0, 0);
  CHECK(offset_of("+05:30", instant) == hours(5) + minutes(30));
  CHECK(offset_of("-0800", instant) == -hours(8));
  CHECK(offset_of("GMT+01:00", instant) == hours(1));
  CHECK(offset_of("UTC-5", instant) == -hours(5));
  CHECK(offset_of("GMT-3", instant) == -hours(3));
  CHECK(offset_of("+0545", instant) == hours(5) + minutes(45));
  CHECK(Zone::parse("+05:30")->name() == "GMT+05:30");
  CHECK(Zone::parse("+05:30")->is_fixed());
}

TEST_CASE("zone rejects malformed offsets", "[zone]") {
  for (const char* name :
       {"+24:00", "+05:60", "GMT+", "+5:3", "UTC+abc", "+123456"}) {
    INFO(name);
    CHECK_FALSE(Zone::parse(name).ok());
  }
}

TEST_CASE("zone parses IANA names with daylight saving", "[zone]") {
  CHECK(offset_of("America/New_York", at(2020, 1, 15, 12, 0)) == -hours(5));
  CHECK(offset_of("America/New_York", at(2020, 7, 15, 12, 0)) == -hours(4));
  CHECK(offset_of("Europe/Berlin", at(2020, 7, 15, 12, 0)) == hours(2));
  CHECK(offset_of("Asia/Kathmandu", at(2020, 7, 15, 12, 0)) ==
        hours(5) + minutes(45));
  CHECK_FALSE(Zone::parse("America/New_York")->is_fixed());
}

TEST_CASE("zone maps Java short ids", "[zone]") {
  const Instant winter = at(2020, 1, 15, 12, 0);
  const Instant summer = at(2020, 7, 15, 12, 0);
  CHECK(Zone::parse("PST")->name() == "America/Los_Angeles");
  CHECK(offset_of("PST", summer) == -hours(7));
  CHECK(Zone::parse("IST")->name() == "Asia/Kolkata");
  CHECK(offset_of("IST", winter) == hours(5) + minutes(30));
  CHECK(Zone::parse("CST")->name() == "America/Chicago");
  CHECK(offset_of("CST", summer) == -hours(5));
  CHECK(offset_of("EST", summer) == -hours(5));
  CHECK(offset_of("MST", summer) == -hours(7));
  CHECK(offset_of("HST", summer) == -hours(10));
  CHECK(Zone::parse("EST")->is_fixed());
}

TEST_CASE("zone rejects unknown names", "[zone]") {
  for (const char* name : {"Mars/Olympus", "", "XYZ", "america/new_york",
                           "../../etc/passwd", "Europe/Berlin "}) {
    INFO(name);
    auto zone = Zone::parse(name);
    REQUIRE_FALSE(zone.ok());
    CHECK(zone.error().message.find("unknown time zone") != std::string::npos);
  }
}

TEST_CASE("zone resolves a gap with the offset before it", "[zone]") {
  auto zone = Zone::parse("America/New_York");
  REQUIRE(zone.ok());
  // 2021-03-14 02:30 does not exist in New York: it reads as 02:30 EST.
  CHECK(zone->to_utc(local(2021, 3, 14, 2, 30)) == at(2021, 3, 14, 7, 30));
}

TEST_CASE("zone resolves an overlap to the earlier instant", "[zone]") {
  auto zone = Zone::parse("America/New_York");
  REQUIRE(zone.ok());
  // 2021-11-07 01:30 happens twice: first as EDT (05:30Z), then as EST.
  CHECK(zone->to_utc(local(2021, 11, 7, 1, 30)) == at(2021, 11, 7, 5, 30));

  auto lord_howe = Zone::parse("Australia/Lord_Howe");
  REQUIRE(lord_howe.ok());
  // Lord Howe falls back 30 minutes, from +11:00 to +10:30, at 02:00.
  CHECK(lord_howe->to_utc(local(2021, 4, 4, 1, 45)) == at(2021, 4, 3, 14, 45));
}

TEST_CASE("zone prints abbreviations as Java does", "[zone]") {
  const Instant summer = at(2020, 7, 15, 12, 0);
  CHECK(Zone::parse("America/New_York")->abbreviation_at(summer) == "EDT");
  CHECK(Zone::parse("Europe/Berlin")->abbreviation_at(summer) == "CEST");
  CHECK(Zone::parse("Asia/Kathmandu")->abbreviation_at(summer) == "GMT+05:45");
  CHECK(Zone::parse("+05:30")->abbreviation_at(summer) == "GMT+05:30");
  CHECK(Zone::parse("UTC")->abbreviation_at(summer) == "UTC");
  CHECK(Zone::parse("America/New_York")->long_name_at(summer) ==
        "Eastern Daylight Time");
  CHECK(Zone::parse("Europe/Berlin")->long_name_at(summer) ==
        "Central European Summer Time");
}

TEST_CASE("zone resolves names in parsed text", "[zone]") {
  CHECK(Zone::offset_of_name("EDT") == -hours(4));
  CHECK(Zone::offset_of_name("cest") == hours(2));
  CHECK(Zone::offset_of_name("CST") == -hours(6));
  CHECK(Zone::offset_of_name("India Standard Time") == hours(5) + minutes(30));
  CHECK_FALSE(Zone::offset_of_name("QQQ").has_value());

  auto shanghai = Zone::parse("Asia/Shanghai");
  REQUIRE(shanghai.ok());
  CHECK(shanghai->offset_for_abbreviation("CST", local(2020, 1, 1, 0, 0)) ==
        hours(8));
}

TEST_CASE("zone results ignore the TZ variable", "[zone]") {
  const std::vector<std::string> names = {"America/New_York", "GMT", "+05:30",
                                          "PST", "Europe/Berlin"};
  const Instant instant = at(2021, 11, 7, 5, 30);
  auto snapshot = [&] {
    std::vector<std::string> results;
    for (const auto& name : names) {
      auto zone = Zone::parse(name);
      REQUIRE(zone.ok());
      results.push_back(zone->name() + " " +
                        std::to_string(zone->offset_at(instant).count()) + " " +
                        zone->abbreviation_at(instant) + " " +
                        std::to_string(zone->to_utc(local(2021, 11, 7, 1, 30))
                                           .time_since_epoch()
                                           .count()));
    }
    return results;
  };
  const std::vector<std::string> before = snapshot();

  const char* saved = std::getenv("TZ");
  const std::string saved_value = saved != nullptr ? saved : "";
  setenv("TZ", "Pacific/Chatham", 1);
  tzset();
  const std::vector<std::string> after = snapshot();
  if (saved != nullptr) {
    setenv("TZ", saved_value.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();

  CHECK(before == after);
}

}  // namespace
}  // namespace hubpoll
