#include "poller/zone.h"

#include <date/tz.h>

#include <array>
#include <cstdlib>
#include <exception>
#include <optional>

namespace hubpoll {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Java's ZoneId.SHORT_IDS (Java 8 and later) maps these three-letter ids to
// zones. EST, MST and HST are fixed offsets there, so they are handled apart.
struct ShortId {
  std::string_view id;
  std::string_view iana;
};

constexpr std::array<ShortId, 25> kJavaShortIds = {{
    {"ACT", "Australia/Darwin"},
    {"AET", "Australia/Sydney"},
    {"AGT", "America/Argentina/Buenos_Aires"},
    {"ART", "Africa/Cairo"},
    {"AST", "America/Anchorage"},
    {"BET", "America/Sao_Paulo"},
    {"BST", "Asia/Dhaka"},
    {"CAT", "Africa/Harare"},
    {"CNT", "America/St_Johns"},
    {"CST", "America/Chicago"},
    {"CTT", "Asia/Shanghai"},
    {"EAT", "Africa/Addis_Ababa"},
    {"ECT", "Europe/Paris"},
    {"IET", "America/Indiana/Indianapolis"},
    {"IST", "Asia/Kolkata"},
    {"JST", "Asia/Tokyo"},
    {"MIT", "Pacific/Apia"},
    {"NET", "Asia/Yerevan"},
    {"NST", "Pacific/Auckland"},
    {"PLT", "Asia/Karachi"},
    {"PNT", "America/Phoenix"},
    {"PRT", "America/Puerto_Rico"},
    {"PST", "America/Los_Angeles"},
    {"SST", "Pacific/Guadalcanal"},
    {"VST", "Asia/Ho_Chi_Minh"},
}};

struct FixedShortId {
  std::string_view id;
  int offset_hours;
};

constexpr std::array<FixedShortId, 3> kJavaFixedShortIds = {{
    {"EST", -5},
    {"MST", -7},
    {"HST", -10},
}};

// Long names as Java 11 and later print them with `zzzz` (CLDR data, en_US),
// keyed by abbreviation and UTC offset because abbreviations repeat across
// zones. NOTE: this covers common zones only. Other zones print their
// abbreviation for `zzzz`, where Java prints a long name.
struct LongName {
  std::string_view abbreviation;
  int offset_minutes;
  std::string_view name;
};

constexpr std::array<LongName, 44> kLongNames = {{
    {"UTC", 0, "Coordinated Universal Time"},
    {"GMT", 0, "Greenwich Mean Time"},
    {"BST", 60, "British Summer Time"},
    {"IST", 60, "Irish Standard Time"},
    {"WET", 0, "Western European Standard Time"},
    {"WEST", 60, "Western European Summer Time"},
    {"CET", 60, "Central European Standard Time"},
    {"CEST", 120, "Central European Summer Time"},
    {"EET", 120, "Eastern European Standard Time"},
    {"EEST", 180, "Eastern European Summer Time"},
    {"MSK", 180, "Moscow Standard Time"},
    {"IST", 120, "Israel Standard Time"},
    {"IDT", 180, "Israel Daylight Time"},
    {"SAST", 120, "South Africa Standard Time"},
    {"CAT", 120, "Central Africa Time"},
    {"EAT", 180, "East Africa Time"},
    {"WAT", 60, "West Africa Standard Time"},
    {"PKT", 300, "Pakistan Standard Time"},
    {"IST", 330, "India Standard Time"},
    {"WIB", 420, "Western Indonesia Time"},
    {"CST", 480, "China Standard Time"},
    {"HKT", 480, "Hong Kong Standard Time"},
    {"PST", 480, "Philippine Standard Time"},
    {"AWST", 480, "Australian Western Standard Time"},
    {"JST", 540, "Japan Standard Time"},
    {"KST", 540, "Korean Standard Time"},
    {"ACST", 570, "Australian Central Standard Time"},
    {"ACDT", 630, "Australian Central Daylight Time"},
    {"AEST", 600, "Australian Eastern Standard Time"},
    {"AEDT", 660, "Australian Eastern Daylight Time"},
    {"NZST", 720, "New Zealand Standard Time"},
    {"NZDT", 780, "New Zealand Daylight Time"},
    {"NST", -210, "Newfoundland Standard Time"},
    {"NDT", -150, "Newfoundland Daylight Time"},
    {"AST", -240, "Atlantic Standard Time"},
    {"ADT", -180, "Atlantic Daylight Time"},
    {"EST", -300, "Eastern Standard Time"},
    {"EDT", -240, "Eastern Daylight Time"},
    {"CST", -360, "Central Standard Time"},
    {"CDT", -300, "Central Daylight Time"},
    {"MST", -420, "Mountain Standard Time"},
    {"MDT", -360, "Mountain Daylight Time"},
    {"PST", -480, "Pacific Standard Time"},
    {"PDT", -420, "Pacific Daylight Time"},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Parses `+h`, `+hh`, `+hmm`, `+hhmm`, `+h:mm` or `+hh:mm` (or with `-`),
// up to 23:59 as Java's custom time zone ids allow.
std::optional<seconds> parse_offset(std::string_view text) {
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return {};
  const int sign = text[0] == '-' ? -1 : 1;
  std::string_view rest = text.substr(1);
  int hour = 0;
  int minute = 0;
  const size_t colon = rest.find(':');
  std::string_view hour_digits = rest;
  std::string_view minute_digits;
  if (colon != std::string_view::npos) {
    hour_digits = rest.substr(0, colon);
    minute_digits = rest.substr(colon + 1);
    if (minute_digits.size() != 2) return {};
  } else if (rest.size() > 2) {
    hour_digits = rest.substr(0, rest.size() - 2);
    minute_digits = rest.substr(rest.size() - 2);
  }
  if (hour_digits.empty() || hour_digits.size() > 2) return {};
  for (char c : hour_digits) {
    if (!is_digit(c)) return {};
    hour = hour * 10 + (c - '0');
  }
  for (char c : minute_digits) {
    if (!is_digit(c)) return {};
    minute = minute * 10 + (c - '0');
  }
  if (hour > 23 || minute > 59) return {};
  return seconds(sign * (hour * 3600 + minute * 60));
}

// Formats an offset as Java prints a custom zone: GMT+05:30, GMT-08:00.
std::string format_gmt_offset(seconds offset) {
  const long long total_minutes = offset.count() / 60;
  const long long magnitude = std::llabs(total_minutes);
  std::string text = "GMT";
  text += total_minutes < 0 ? '-' : '+';
  const long long hour = magnitude / 60;
  const long long minute = magnitude % 60;
  text += static_cast<char>('0' + hour / 10);
  text += static_cast<char>('0' + hour % 10);
  text += ':';
  text += static_cast<char>('0' + minute / 10);
  text += static_cast<char>('0' + minute % 10);
  return text;
}

// tzdata writes `+0545` or `-03` for zones without an English abbreviation.
// Java prints those as GMT offsets instead.
bool is_numeric_abbreviation(const std::string& abbreviation) {
  return abbreviation.empty() || abbreviation[0] == '+' ||
         abbreviation[0] == '-' || is_digit(abbreviation[0]);
}

const date::time_zone* find_iana_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    // locate_zone reports an unknown name by throwing; here that is an
    // expected outcome, reported to the caller as an error value.
    return nullptr;
  }
}

}  // namespace

Zone Zone::fixed(seconds offset) {
  Zone zone;
  zone.fixed_offset_ = offset;
  zone.name_ = offset == seconds(0) ? "GMT" : format_gmt_offset(offset);
  zone.fixed_abbreviation_ = zone.name_;
  return zone;
}

Result<Zone> Zone::parse(std::string_view name) {
  if (name == "Z" || equals_ignore_case(name, "UTC")) return Zone();
  if (equals_ignore_case(name, "GMT")) return fixed(seconds(0));

  std::string_view offset_text = name;
  if (name.size() > 3 && (equals_ignore_case(name.substr(0, 3), "GMT") ||
                          equals_ignore_case(name.substr(0, 3), "UTC"))) {
    offset_text = name.substr(3);
  }
  if (!offset_text.empty() &&
      (offset_text[0] == '+' || offset_text[0] == '-')) {
    if (const auto offset = parse_offset(offset_text)) return fixed(*offset);
    return make_error(ErrorKind::kInvalidArgument,
                      "invalid time zone offset '" + std::string(name) +
                          "': expected +hh:mm, +hhmm or +h, at most 23:59");
  }

  for (const auto& short_id : kJavaFixedShortIds) {
    if (name == short_id.id) {
      Zone zone = fixed(hours(short_id.offset_hours));
      zone.name_ = std::string(short_id.id);
      zone.fixed_abbreviation_ = zone.name_;
      return zone;
    }
  }
  std::string_view iana_name = name;
  for (const auto& short_id : kJavaShortIds) {
    if (name == short_id.id) iana_name = short_id.iana;
  }

  const date::time_zone* tz = find_iana_zone(iana_name);
  if (tz == nullptr) {
    return make_error(ErrorKind::kInvalidArgument,
                      "unknown time zone '" + std::string(name) +
                          "': use an IANA name such as America/New_York, "
                          "GMT, UTC or an offset such as +05:30");
  }
  Zone zone;
  zone.tz_ = tz;
  zone.name_ = std::string(iana_name);
  return zone;
}

// NOTE: with USE_OS_TZDB the date library reads only the transitions listed
// in the TZif files, which end in 2037, and ignores the rule string that
// extends them. Later instants keep the 2037 winter offset, so New York in
// July 2038 is EST here and EDT in Java. Reading the footer rule would fix it.
seconds Zone::offset_at(Instant instant) const {
  if (tz_ == nullptr) return fixed_offset_;
  return tz_->get_info(instant).offset;
}

Instant Zone::to_utc(date::local_time<std::chrono::milliseconds> local) const {
  if (tz_ == nullptr) {
    return Instant(local.time_since_epoch() - fixed_offset_);
  }
  // For a gap, `first` is the period before the gap. For an overlap,
  // `first` is the earlier, larger offset, which gives the earlier instant.
  const date::local_info info = tz_->get_info(local);
  return Instant(local.time_since_epoch() - info.first.offset);
}

std::string Zone::abbreviation_at(Instant instant) const {
  if (tz_ == nullptr) {
    if (!fixed_abbreviation_.empty()) return fixed_abbreviation_;
    return name_;
  }
  const date::sys_info info = tz_->get_info(instant);
  if (is_numeric_abbreviation(info.abbrev)) {
    return format_gmt_offset(info.offset);
  }
  return info.abbrev;
}

std::string Zone::long_name_at(Instant instant) const {
  const std::string abbreviation = abbreviation_at(instant);
  const auto offset_minutes =
      std::chrono::duration_cast<minutes>(offset_at(instant)).count();
  for (const auto& entry : kLongNames) {
    if (entry.abbreviation == abbreviation &&
        entry.offset_minutes == offset_minutes) {
      return std::string(entry.name);
    }
  }
  return abbreviation;
}

std::optional<seconds> Zone::offset_of_name(std::string_view name) {
  for (const auto& entry : kLongNames) {
    if (equals_ignore_case(entry.name, name)) {
      return minutes(entry.offset_minutes);
    }
  }
  // Java's short ids decide which zone an ambiguous abbreviation means:
  // CST is America/Chicago and IST is Asia/Kolkata.
  static constexpr std::array<LongName, 4> kPreferred = {{
      {"CST", -360, ""},
      {"IST", 330, ""},
      {"PST", -480, ""},
      {"BST", 60, ""},
  }};
  for (const auto& entry : kPreferred) {
    if (equals_ignore_case(entry.abbreviation, name)) {
      return minutes(entry.offset_minutes);
    }
  }
  for (const auto& entry : kLongNames) {
    if (equals_ignore_case(entry.abbreviation, name)) {
      return minutes(entry.offset_minutes);
    }
  }
  for (const auto& short_id : kJavaFixedShortIds) {
    if (equals_ignore_case(short_id.id, name)) {
      return hours(short_id.offset_hours);
    }
  }
  return std::nullopt;
}

std::optional<seconds> Zone::offset_for_abbreviation(
    std::string_view abbreviation,
    date::local_time<std::chrono::milliseconds> local) const {
  if (tz_ == nullptr) {
    if (equals_ignore_case(abbreviation, abbreviation_at(Instant()))) {
      return fixed_offset_;
    }
    return std::nullopt;
  }
  // The wall time may sit next to a transition, so the abbreviations in
  // effect a day either side are candidates too.
  const auto local_seconds = date::floor<seconds>(local);
  for (const auto shift : {hours(0), hours(-24), hours(24)}) {
    const date::local_info info = tz_->get_info(local_seconds + shift);
    for (const date::sys_info* candidate : {&info.first, &info.second}) {
      if (candidate->abbrev.empty()) continue;
      if (equals_ignore_case(candidate->abbrev, abbreviation)) {
        return candidate->offset;
      }
    }
  }
  return std::nullopt;
}

}  // namespace hubpoll
