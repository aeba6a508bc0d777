#include "poller/url_template.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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

const ExpansionTimes kTimes{at(2017, 1, 1, 0, 0, 0, 250),
                            at(2017, 1, 1, 0, 15, 0)};

std::string expand(std::string_view text,
                   const ExpansionTimes& times = kTimes) {
  auto compiled = UrlTemplate::compile(text);
  INFO(text);
  REQUIRE(compiled.ok());
  return compiled->expand(times);
}

std::string compile_error(std::string_view text) {
  auto compiled = UrlTemplate::compile(text);
  if (compiled.ok()) return "compiled";
  return compiled.error().message;
}

TEST_CASE("url date placeholders format in GMT", "[url_template]") {
  CHECK(expand("/statuses?since=${date:yyyy-MM-dd'T'HH:mm:ss}") ==
        "/statuses?since=2017-01-01T00%3A00%3A00");
  CHECK(expand("/s?since=${gmtDate:yyyy-MM-dd}") == "/s?since=2017-01-01");
  CHECK(expand("/s?until=${now:HH:mm}") == "/s?until=00%3A15");
}

TEST_CASE("url values are percent-encoded", "[url_template]") {
  CHECK(expand("/s?since=${dateTimeZone:+01:00:yyyy-MM-dd'T'HH:mm:ssXXX}") ==
        "/s?since=2017-01-01T01%3A00%3A00%2B01%3A00");
  CHECK(expand("/s?since=${dateTimeZone:Europe/Berlin:yyyy-MM-dd'T'HH:mm:"
               "ssXXX}") == "/s?since=2017-01-01T01%3A00%3A00%2B01%3A00");
  CHECK(expand("/s?since=${dateTimeZone:GMT+01:00:yyyy-MM-dd'T'HH:mm:ssXXX}") ==
        "/s?since=2017-01-01T01%3A00%3A00%2B01%3A00");
}

TEST_CASE("url patterns may hold quotes and colons", "[url_template]") {
  CHECK(expand("/s?d=${date:MM/dd/yyy'T'HH:mm:ssXXX}") ==
        "/s?d=01%2F01%2F2017T00%3A00%3A00Z");
  CHECK(expand("/s?d=${date:yyyy-MM-dd'T'HH:mm:ss'{x}'}") ==
        "/s?d=2017-01-01T00%3A00%3A00%7Bx%7D");
}

TEST_CASE("url epoch placeholders use units", "[url_template]") {
  CHECK(expand("/s?t=${epoch}") == "/s?t=1483228800250");
  CHECK(expand("/s?t=${epoch:ms}") == "/s?t=1483228800250");
  CHECK(expand("/s?t=${epoch:s}") == "/s?t=1483228800");
  CHECK(expand("/s?t=${epoch:us}") == "/s?t=1483228800250000");
  const ExpansionTimes before_1970{at(1969, 12, 31, 23, 59, 59, 500), {}};
  CHECK(expand("${epoch:s}", before_1970) == "-1");
}

TEST_CASE("url template text is encoded once", "[url_template]") {
  CHECK(expand("/s?where=q='Example Screen Name'") ==
        "/s?where=q=%27Example%20Screen%20Name%27");
  CHECK(expand("/s?q=a%20b&x=1/2") == "/s?q=a%20b&x=1/2");
  CHECK(expand("/s?q=100%") == "/s?q=100%25");
  CHECK(expand("/s?q=a+b") == "/s?q=a+b");
  CHECK(expand("/s?q={x}") == "/s?q=%7Bx%7D");
}

TEST_CASE("url unknown placeholder names its column", "[url_template]") {
  const std::string message = compile_error("/s?x=${foo:bar}");
  CHECK(message.find("unknown placeholder ${foo}") != std::string::npos);
  CHECK(message.find("at column 6") != std::string::npos);
  CHECK(compile_error("/s?x=${epoch:ns}").find("unknown epoch unit 'ns'") !=
        std::string::npos);
  CHECK(compile_error("${date}").find("needs a date pattern") !=
        std::string::npos);
  CHECK(compile_error("${dateTimeZone:Mars/Olympus:yyyy}")
            .find("needs a known time zone") != std::string::npos);
  CHECK(compile_error("${date:yyyy-qq}").find("unknown pattern letter 'q'") !=
        std::string::npos);
}

TEST_CASE("url unterminated placeholder names its column", "[url_template]") {
  const std::string message = compile_error("/s?x=1&y=${date:yyyy");
  CHECK(message.find("unterminated placeholder") != std::string::npos);
  CHECK(message.find("at column 10") != std::string::npos);
  CHECK(compile_error("${date:yyyy'}").find("unterminated") !=
        std::string::npos);
}

TEST_CASE("percent_encode keeps only unreserved bytes", "[url_template]") {
  CHECK(percent_encode("2017-01-01T00:00:00+01:00") ==
        "2017-01-01T00%3A00%3A00%2B01%3A00");
  CHECK(percent_encode("a b+c~d_e.f") == "a%20b%2Bc~d_e.f");
  CHECK(percent_encode("%20") == "%2520");
  CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
  CHECK(percent_encode("") == "");
}

TEST_CASE("url template fuzz corpus runs cleanly", "[url_template]") {
  CHECK(replay_corpus("url_template", hubpoll::fuzz::expand_url_template) > 0);
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

TEST_CASE("an empty date pattern in a placeholder is an error",
          "[url_template]") {
  for (const char* text : {"/x?d=${date:}", "/x?d=${gmtDate:}", "/x?d=${now:}",
                           "/x?d=${dateTimeZone:UTC:}"}) {
    INFO(text);
    auto compiled = UrlTemplate::compile(text);
    REQUIRE_FALSE(compiled.ok());
    CHECK_THAT(
        compiled.error().message,
        Catch::Contains("empty date pattern") && Catch::Contains("column 6"));
  }
}

}  // namespace
}  // namespace hubpoll
