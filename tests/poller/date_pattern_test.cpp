#include "poller/date_pattern.h"

#include <date/tz.h>

#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_entries.h"

namespace hubpoll {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Instant at(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
           int second = 0, int millis = 0) {
  return Instant(date::sys_days(date::year(year) / month / day)) + hours(hour) +
         minutes(minute) + seconds(second) + milliseconds(millis);
}

DatePattern compile(std::string_view pattern) {
  auto compiled = DatePattern::compile(pattern);
  INFO(pattern);
  REQUIRE(compiled.ok());
  return std::move(compiled.value());
}

Zone zone_named(std::string_view name) {
  auto zone = Zone::parse(name);
  REQUIRE(zone.ok());
  return zone.value();
}

Result<Instant> parse(std::string_view pattern, std::string_view text,
                      const Zone& zone = Zone()) {
  return compile(pattern).parse(text, zone);
}

std::string parse_error(std::string_view pattern, std::string_view text) {
  auto parsed = parse(pattern, text);
  if (parsed.ok()) return "parsed to " + format_iso8601(parsed.value());
  return parsed.error().message;
}

// Feeds every file of a seed corpus under tests/fuzz/corpus through `entry`.
template <class Entry>
int replay_corpus(const std::string& target, Entry entry) {
  const std::filesystem::path directory =
      std::filesystem::path(HUBPOLL_SOURCE_DIR) / "tests/fuzz/corpus" / target;
  int files = 0;
  for (const auto& file : std::filesystem::directory_iterator(directory)) {
    std::ifstream stream(file.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(stream)),
                            std::istreambuf_iterator<char>());
    INFO(file.path().string());
    entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  return files;
}

constexpr std::string_view kTwitter = "EEE MMM dd HH:mm:ss Z yyyy";

TEST_CASE("twitter dates parse to UTC instants", "[date_pattern]") {
  const DatePattern pattern = compile(kTwitter);
  CHECK(pattern.parse("Tue Dec 20 11:08:50 +0000 2011", Zone()).value() ==
        at(2011, 12, 20, 11, 8, 50));
  CHECK(pattern.parse("Mon Oct 30 23:31:56 +0000 2017", Zone()).value() ==
        at(2017, 10, 30, 23, 31, 56));
  CHECK(pattern.parse("Fri Jan 26 16:32:21 +0000 2018", Zone()).value() ==
        at(2018, 1, 26, 16, 32, 21));
}

TEST_CASE("twitter dates honour a non-zero offset", "[date_pattern]") {
  const DatePattern pattern = compile(kTwitter);
  CHECK(pattern.parse("Tue Dec 20 11:08:50 -0530 2011", Zone()).value() ==
        at(2011, 12, 20, 16, 38, 50));
}

TEST_CASE("iso pattern with XXX formats per zone", "[date_pattern]") {
  const DatePattern pattern = compile("MM/dd/yyy'T'HH:mm:ssXXX");
  const Instant instant = at(2026, 1, 2, 3, 4, 5);
  CHECK(pattern.format(instant, zone_named("GMT")) == "01/02/2026T03:04:05Z");
  CHECK(pattern.format(instant, zone_named("America/New_York")) ==
        "01/01/2026T22:04:05-05:00");
}

TEST_CASE("documented twitter pattern rejects real dates", "[date_pattern]") {
  const std::string message = parse_error("EEE, dd MMM yyyy HH:mm:ss Z",
                                          "Sat Jul 13 02:27:22 +0000 2019");
  CHECK(message.find("'Sat Jul 13 02:27:22 +0000 2019'") != std::string::npos);
  CHECK(message.find("'EEE, dd MMM yyyy HH:mm:ss Z'") != std::string::npos);
  CHECK(message.find("expected ', '") != std::string::npos);
  CHECK(message.find("column 4") != std::string::npos);
}

TEST_CASE("formatting covers every letter", "[date_pattern]") {
  // 2019-12-31 is a Tuesday in week 1 of week year 2020.
  const Instant instant = at(2019, 12, 31, 13, 5, 9, 42);
  const Zone utc;
  const Zone new_york = zone_named("America/New_York");
  CHECK(compile("G yyyy yy y YYYY YY").format(instant, utc) ==
        "AD 2019 19 2019 2020 20");
  CHECK(compile("M MM MMM MMMM L LLL").format(instant, utc) ==
        "12 12 Dec December 12 Dec");
  CHECK(compile("w W D d F E EEEE u").format(instant, utc) ==
        "1 5 365 31 5 Tue Tuesday 2");
  CHECK(compile("a H k K h m s S SSS").format(instant, utc) ==
        "PM 13 13 1 1 5 9 42 042");
  CHECK(compile("HH kk KK hh").format(at(2019, 1, 1), utc) == "00 24 00 12");
  CHECK(compile("z zzzz Z X XX XXX").format(instant, new_york) ==
        "EST Eastern Standard Time -0500 -05 -0500 -05:00");
  CHECK(compile("z Z X").format(instant, utc) == "UTC +0000 Z");
  CHECK(
      compile("yyyy-MM-dd'T'HH:mm '''quoted''' 'it''s'").format(instant, utc) ==
      "2019-12-31T13:05 'quoted' it's");
  CHECK(compile("DDD yyyyy").format(at(2019, 1, 5), utc) == "005 02019");
  CHECK(compile("G y").format(at(-43, 3, 15), utc) == "BC 44");
}

TEST_CASE("week fields follow en_US rules", "[date_pattern]") {
  const Zone utc;
  const DatePattern pattern = compile("YYYY-'W'ww-u");
  CHECK(pattern.format(at(2020, 12, 27), utc) == "2021-W01-7");
  CHECK(pattern.format(at(2021, 1, 2), utc) == "2021-W01-6");
  CHECK(pattern.format(at(2021, 1, 3), utc) == "2021-W02-7");
  CHECK(pattern.format(at(2016, 12, 31), utc) == "2016-W53-6");
  CHECK(pattern.parse("2021-W01-7", utc).value() == at(2020, 12, 27));
  CHECK(pattern.parse("2016-W53-6", utc).value() == at(2016, 12, 31));
}

TEST_CASE("epoch milliseconds parse and format", "[date_pattern]") {
  const DatePattern pattern = compile("milliseconds");
  CHECK(pattern.is_epoch_milliseconds());
  CHECK(pattern.parse("1562984842000", Zone()).value() ==
        at(2019, 7, 13, 2, 27, 22));
  CHECK(pattern.parse("-1000", Zone()).value() == at(1969, 12, 31, 23, 59, 59));
  CHECK(pattern.parse("0", Zone()).value() == at(1970, 1, 1));
  CHECK(pattern.format(at(2019, 7, 13, 2, 27, 22), Zone()) == "1562984842000");
  CHECK(pattern.format(at(1969, 12, 31, 23, 59, 59), Zone()) == "-1000");
}

TEST_CASE("epoch milliseconds reject non-digits", "[date_pattern]") {
  const DatePattern pattern = compile("milliseconds");
  for (const char* text :
       {"", "-", "12a", "1.5", " 1", "+1", "1e3", "99999999999999999999999"}) {
    INFO(text);
    CHECK_FALSE(pattern.parse(text, Zone()).ok());
  }
}

TEST_CASE("parsing rejects out-of-range fields", "[date_pattern]") {
  CHECK_FALSE(parse("yyyy-MM-dd", "2019-01-32").ok());
  CHECK_FALSE(parse("yyyy-MM-dd HH:mm", "2019-01-01 25:00").ok());
  CHECK_FALSE(parse("yyyy-MM-dd HH:mm", "2019-01-01 12:60").ok());
  CHECK_FALSE(parse("yyyy-MM-dd", "2019-13-01").ok());
  CHECK_FALSE(parse("yyyy-MM-dd", "2019-00-01").ok());
  CHECK_FALSE(parse("yyyy-MM-dd hh a", "2019-01-01 13 PM").ok());
  CHECK_FALSE(parse("yyyy-MM-dd kk", "2019-01-01 00").ok());
  CHECK(parse_error("yyyy-MM-dd", "2019-01-32")
            .find("day of month 32 is out of range 1-31 at column 9") !=
        std::string::npos);
}

TEST_CASE("parsing rejects dates that do not exist", "[date_pattern]") {
  CHECK_FALSE(parse("yyyy-MM-dd", "2019-02-29").ok());
  CHECK(parse("yyyy-MM-dd", "2020-02-29").value() == at(2020, 2, 29));
  CHECK_FALSE(parse("yyyy-MM-dd", "2019-04-31").ok());
  CHECK_FALSE(parse("yyyy-DDD", "2019-366").ok());
  CHECK(parse("yyyy-DDD", "2020-366").value() == at(2020, 12, 31));
  CHECK(parse_error("yyyy-MM-dd", "2019-02-29")
            .find("day 29 does not exist in February 2019") !=
        std::string::npos);
}

TEST_CASE("parsing requires the whole text", "[date_pattern]") {
  CHECK(parse_error("yyyy-MM-dd", "2019-01-01T00")
            .find("unexpected text 'T00'") != std::string::npos);
  CHECK(parse_error("yyyy-MM-dd HH:mm", "2019-01-01")
            .find("expected ' ' at column 11") != std::string::npos);
  CHECK(parse_error("yyyy-MM-dd HH:mm", "2019-01-01 12:")
            .find("expected minute (mm) at column 15") != std::string::npos);
  CHECK_FALSE(parse("yyyy-MM-dd", "").ok());
}

TEST_CASE("names match without regard to case", "[date_pattern]") {
  CHECK(parse("dd MMM yyyy", "05 jAN 2019").value() == at(2019, 1, 5));
  CHECK(parse("dd MMMM yyyy", "05 JANUARY 2019").value() == at(2019, 1, 5));
  CHECK(parse("dd MMM yyyy", "05 january 2019").value() == at(2019, 1, 5));
  CHECK(parse("EEE dd MMM yyyy", "sat 05 jan 2019").value() == at(2019, 1, 5));
  CHECK(parse("yyyy-MM-dd hh a", "2019-01-05 01 pm").value() ==
        at(2019, 1, 5, 13));
  CHECK_FALSE(parse("dd MMM yyyy", "05 Jnu 2019").ok());
}

TEST_CASE("day name must agree with the date", "[date_pattern]") {
  // 2026-01-06 is a Tuesday. Java's non-lenient calendar rejects `Mon`.
  CHECK(parse("EEE yyyy-MM-dd", "Tue 2026-01-06").ok());
  const std::string message = parse_error("EEE yyyy-MM-dd", "Mon 2026-01-06");
  CHECK(message.find("day of week does not match the date 2026-01-06, a "
                     "Tuesday at column 1") != std::string::npos);
  CHECK_FALSE(parse("yyyy-MM-dd u", "2026-01-06 1").ok());
  CHECK_FALSE(parse("yyyy-MM-dd D", "2026-01-06 7").ok());
}

TEST_CASE("two-digit years use a window around now", "[date_pattern]") {
  const DatePattern pattern = compile("yy-MM-dd");
  const Instant now = at(2026, 6, 1);
  // The window runs from 1946 to 2045.
  CHECK(pattern.parse("45-01-01", Zone(), now).value() == at(2045, 1, 1));
  CHECK(pattern.parse("46-01-01", Zone(), now).value() == at(1946, 1, 1));
  CHECK(pattern.parse("99-01-01", Zone(), now).value() == at(1999, 1, 1));
  CHECK(pattern.parse("2019-01-01", Zone(), now).value() == at(2019, 1, 1));
  CHECK(pattern.parse("5-01-01", Zone(), now).value() == at(5, 1, 1));
  CHECK(compile("yyyy-MM-dd").parse("0045-01-01", Zone(), now).value() ==
        at(45, 1, 1));
}

TEST_CASE("abutting numbers read their letter count", "[date_pattern]") {
  CHECK(parse("yyyyMMddHHmmss", "20190713022722").value() ==
        at(2019, 7, 13, 2, 27, 22));
  CHECK_FALSE(parse("yyyyMMdd", "2019713").ok());
}

TEST_CASE("unknown pattern letter names its column", "[date_pattern]") {
  auto compiled = DatePattern::compile("yyyy-MM-dd qq");
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.error().message.find("unknown pattern letter 'q' at column "
                                      "12") != std::string::npos);
  CHECK_FALSE(DatePattern::compile("yyyy-MM-dd'T'HH:mm:ss.fff").ok());
  CHECK_FALSE(DatePattern::compile("XXXX").ok());
}

TEST_CASE("unterminated quote is an error", "[date_pattern]") {
  auto compiled = DatePattern::compile("yyyy-MM-dd'T");
  REQUIRE_FALSE(compiled.ok());
  CHECK(compiled.error().message.find("unterminated quote at column 11") !=
        std::string::npos);
}

TEST_CASE("pattern flags describe the letters used", "[date_pattern]") {
  CHECK(compile(kTwitter).carries_offset());
  CHECK_FALSE(compile("yyyy-MM-dd").carries_offset());
  CHECK(compile("YYYY-MM-dd").uses_week_year());
  CHECK(compile("yyyy-MM-dd hh:mm").has_12_hour_without_marker());
  CHECK_FALSE(compile("yyyy-MM-dd hh:mm a").has_12_hour_without_marker());
  CHECK(compile(kTwitter).text() == kTwitter);
}

TEST_CASE("zone names parse as Java reads them", "[date_pattern]") {
  const DatePattern pattern = compile("yyyy-MM-dd HH:mm z");
  const Instant expected = at(2020, 7, 1, 16);
  CHECK(pattern.parse("2020-07-01 12:00 EDT", Zone()).value() == expected);
  CHECK(pattern.parse("2020-07-01 12:00 GMT-04:00", Zone()).value() ==
        expected);
  CHECK(pattern.parse("2020-07-01 12:00 -0400", Zone()).value() == expected);
  CHECK(pattern.parse("2020-07-01 18:00 CEST", Zone()).value() == expected);
  CHECK(pattern.parse("2020-07-01 16:00 GMT", Zone()).value() == expected);
  CHECK(pattern.parse("2020-07-01 16:00 UTC", Zone()).value() == expected);
  CHECK(compile("yyyy-MM-dd HH:mm zzzz")
            .parse("2020-07-01 12:00 Eastern Daylight Time", Zone())
            .value() == expected);
  CHECK(pattern.parse("2020-07-02 00:00 CST", zone_named("Asia/Shanghai"))
            .value() == expected);
  CHECK_FALSE(pattern.parse("2020-07-01 12:00 QQT", Zone()).ok());
}

TEST_CASE("X reads Z and offsets by letter count", "[date_pattern]") {
  const Instant expected = at(2020, 7, 1, 16);
  CHECK(parse("yyyy-MM-dd HHX", "2020-07-01 16Z").value() == expected);
  CHECK(parse("yyyy-MM-dd HHX", "2020-07-01 18+02").value() == expected);
  CHECK(parse("yyyy-MM-dd HH:mmXX", "2020-07-01 21:45+0545").value() ==
        expected);
  CHECK(parse("yyyy-MM-dd HH:mmXXX", "2020-07-01 21:45+05:45").value() ==
        expected);
  CHECK_FALSE(parse("yyyy-MM-dd HH:mmXXX", "2020-07-01 21:45+0545").ok());
  CHECK_FALSE(parse("yyyy-MM-dd HH:mmXX", "2020-07-01 21:45+05:45").ok());
}

TEST_CASE("wall times in a gap read with the earlier offset",
          "[date_pattern]") {
  const DatePattern pattern = compile("yyyy-MM-dd HH:mm");
  CHECK(pattern.parse("2021-03-14 02:30", zone_named("America/New_York"))
            .value() == at(2021, 3, 14, 7, 30));
}

// ---------------------------------------------------------------------------
// Round trips.

struct RoundTripCase {
  const char* pattern;
  milliseconds precision;
  bool whole_hour_offsets = false;  // one-letter X drops offset minutes
};

// Every pattern determines the instant to its precision. Patterns without an
// offset are read back in the zone they were formatted in.
const std::vector<RoundTripCase> kRoundTripCases = {
    {"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSSZ", milliseconds(1)},
    {"yyyy-MM-dd HH:mm:ss.SSS z", milliseconds(1)},
    {"yyyy-MM-dd HH:mm:ss zzzz", seconds(1)},
    {"EEE MMM dd HH:mm:ss Z yyyy", seconds(1)},
    {"EEEE, MMMM d, yyyy h:mm:ss.SSS a Z", milliseconds(1)},
    {"yyyyMMddHHmmssSSSXX", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mmXXX", minutes(1)},
    {"yyyy-DDD HH:mm:ss.SSS", milliseconds(1)},
    {"YYYY-'W'ww-u HH:mm:ss.SSS", milliseconds(1)},
    {"YYYY-'W'ww-u'T'HH:mm:ssXXX", seconds(1)},
    {"G yyyy-MM-dd kk:mm:ss.SSS", milliseconds(1)},
    {"yyyy-MM-dd KK:mm:ss.SSS a Z", milliseconds(1)},
    {"yyyy MMM W EEE HH:mm:ss.SSS Z", milliseconds(1)},
    {"yyyy MMMM F EEEE HH:mm:ss.SSS Z", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSS", milliseconds(1)},
    {"dd/MM/yyyy HH:mm:ss.SSS", milliseconds(1)},
    {"MM/dd/yyy'T'HH:mm:ss.SSSXXX", milliseconds(1)},
    {"y-M-d H:m:s.S Z", milliseconds(1)},
    {"yyyy.MM.dd G 'at' HH:mm:ss.SSS z", milliseconds(1)},
    {"EEE, d MMM yyyy HH:mm:ss.SSS Z", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", milliseconds(1)},
    {"yyyy-LL-dd HH:mm:ss.SSS Z", milliseconds(1)},
    {"yyyy-LLL-dd HH:mm:ss.SSS Z", milliseconds(1)},
    {"D yyyy HH:mm:ss.SSS XXX", milliseconds(1)},
    {"YYYY ww EEEE HH:mm:ss.SSS z", milliseconds(1)},
    {"yyyy-MM-dd hh:mm:ss.SSS a zzzz", milliseconds(1)},
    {"yyyyMMdd'T'HHmmss.SSSZ", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSS'['z']'", milliseconds(1)},
    {"yyyy-MM-dd u HH:mm:ss.SSS", milliseconds(1)},
    {"''yyyy''-MM-dd HH:mm:ss.SSS Z", milliseconds(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSS XX", milliseconds(1)},
    {"yyyy-MM-dd HH:mm", minutes(1)},
    {"yyyy-MM-dd'T'HH:mm:ss.SSSX", milliseconds(1), true},
};

const std::vector<std::string> kRoundTripZones = {
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
    "Asia/Kathmandu"};

// Regular steps from 1970 to 2100 with an odd stride, plus the instants
// around every daylight-saving transition of the zones above.
std::vector<Instant> sweep_instants() {
  std::vector<Instant> instants;
  const Instant end = at(2100, 12, 31);
  const milliseconds stride =
      hours(24 * 5 + 7) + minutes(13) + seconds(17) + milliseconds(321);
  for (Instant t = at(1970, 1, 1); t < end; t += stride) instants.push_back(t);

  for (const auto& name : kRoundTripZones) {
    const date::time_zone* tz = date::locate_zone(name);
    date::sys_seconds t{date::sys_days(date::year(1970) / 1 / 1)};
    while (t < end) {
      const date::sys_info info = tz->get_info(t);
      if (info.end >= end) break;
      t = info.end;
      const std::array<milliseconds, 7> deltas = {
          -hours(1),
          -minutes(30) - milliseconds(1),
          -milliseconds(1),
          milliseconds(0),
          minutes(15),
          minutes(30) + milliseconds(7),
          hours(1) + milliseconds(999)};
      for (const milliseconds delta : deltas) {
        instants.push_back(Instant(t) + delta);
      }
    }
  }
  return instants;
}

bool is_ambiguous(const date::time_zone* tz, Instant instant) {
  const auto local = tz->to_local(instant);
  return tz->get_info(local).result == date::local_info::ambiguous;
}

TEST_CASE("format then parse returns the instant", "[date_pattern]") {
  const std::vector<Instant> instants = sweep_instants();
  const Instant now = at(2026, 1, 1);
  int overlaps_checked = 0;
  for (const auto& row : kRoundTripCases) {
    const DatePattern pattern = compile(row.pattern);
    for (const auto& zone_name : kRoundTripZones) {
      const Zone zone = zone_named(zone_name);
      const date::time_zone* tz = date::locate_zone(zone_name);
      if (row.whole_hour_offsets && (zone_name == "Australia/Lord_Howe" ||
                                     zone_name == "Asia/Kathmandu")) {
        continue;
      }
      for (const Instant instant : instants) {
        const milliseconds excess =
            (instant.time_since_epoch() % row.precision + row.precision) %
            row.precision;
        const Instant truncated = instant - excess;
        const std::string text = pattern.format(truncated, zone);
        auto parsed = pattern.parse(text, zone, now);
        if (!parsed.ok() || parsed.value() != truncated) {
          INFO(row.pattern << " in " << zone_name << ": " << text << " from "
                           << format_iso8601(truncated));
          REQUIRE(parsed.ok());
          // Without an offset an overlap hour reads as its earlier instant.
          REQUIRE_FALSE(pattern.carries_offset());
          REQUIRE(is_ambiguous(tz, truncated));
          CHECK(parsed.value() < truncated);
          CHECK(pattern.format(parsed.value(), zone) == text);
          ++overlaps_checked;
        }
      }
    }
  }
  CHECK(overlaps_checked > 0);
}

TEST_CASE("overlap hour parses to the earlier instant", "[date_pattern]") {
  const DatePattern pattern = compile("yyyy-MM-dd HH:mm");
  const Zone berlin = zone_named("Europe/Berlin");
  // 2021-10-31 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
  CHECK(pattern.format(at(2021, 10, 31, 1, 30), berlin) == "2021-10-31 02:30");
  CHECK(pattern.parse("2021-10-31 02:30", berlin).value() ==
        at(2021, 10, 31, 0, 30));
}

TEST_CASE("pattern compile fuzz corpus runs cleanly", "[date_pattern]") {
  CHECK(replay_corpus("date_pattern_compile",
                      hubpoll::fuzz::compile_date_pattern) > 0);
}

TEST_CASE("pattern parse fuzz corpus runs cleanly", "[date_pattern]") {
  CHECK(replay_corpus("date_pattern_parse", hubpoll::fuzz::parse_date) > 0);
}

}  // namespace
}  // namespace hubpoll
