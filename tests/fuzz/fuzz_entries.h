// Entry functions shared by the libFuzzer targets and by the Catch2 test
// that replays the seed corpora, so both exercise the same code.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "poller/date_pattern.h"
#include "poller/url_template.h"
#include "poller/zone.h"

namespace hubpoll::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A fixed "now" keeps two-digit-year parsing deterministic.
inline Instant fuzz_now() {
  return Instant(std::chrono::milliseconds(1767225600000LL));  // 2026-01-01
}

inline std::array<Zone, 3> fuzz_zones() {
  return {Zone(), Zone::parse("Europe/Berlin").value(),
          Zone::fixed(std::chrono::minutes(5 * 60 + 45))};
}

// Compiles the input as a pattern, then formats instants from year 1 to
// year 9999 and parses the output back.
inline void compile_date_pattern(const uint8_t* data, size_t size) {
  auto pattern = DatePattern::compile(as_text(data, size));
  if (!pattern.ok()) return;
  const std::array<long long, 4> instants = {
      0LL, 1562984842123LL, -62135596800000LL, 253402300799999LL};
  for (const Zone& zone : fuzz_zones()) {
    for (const long long millis : instants) {
      const Instant instant{std::chrono::milliseconds(millis)};
      const std::string text = pattern->format(instant, zone);
      (void)pattern->parse(text, zone, fuzz_now());
    }
  }
}

// Parses the input as `PATTERN\nVALUE`, or as a Twitter date when it has no
// newline.
inline void parse_date(const uint8_t* data, size_t size) {
  std::string_view input = as_text(data, size);
  std::string_view pattern_text = "EEE MMM dd HH:mm:ss Z yyyy";
  const size_t newline = input.find('\n');
  if (newline != std::string_view::npos) {
    pattern_text = input.substr(0, newline);
    input.remove_prefix(newline + 1);
  }
  auto pattern = DatePattern::compile(pattern_text);
  if (!pattern.ok()) return;
  for (const Zone& zone : fuzz_zones()) {
    auto parsed = pattern->parse(input, zone, fuzz_now());
    if (parsed.ok()) (void)pattern->format(parsed.value(), zone);
  }
}

// Compiles the input as a URL template and expands it.
inline void expand_url_template(const uint8_t* data, size_t size) {
  auto compiled = UrlTemplate::compile(as_text(data, size));
  if (!compiled.ok()) return;
  (void)compiled->expand(ExpansionTimes{fuzz_now(), fuzz_now()});
  const Instant early{std::chrono::milliseconds(-62135596800000LL)};
  (void)compiled->expand(ExpansionTimes{early, early});
}

}  // namespace hubpoll::fuzz
