// Measures Twitter-date parses and URL template expansions per second on one
// thread. Build with -DCMAKE_BUILD_TYPE=Release; the last line is JSON.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "poller/date_pattern.h"
#include "poller/url_template.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kRunTime(3);

// Runs `step` in batches until kRunTime has passed and returns calls per
// second.
template <class Step>
double measure(Step step) {
  const auto start = Clock::now();
  long long calls = 0;
  Clock::time_point now;
  do {
    for (int i = 0; i < 10000; ++i) step(i);
    calls += 10000;
    now = Clock::now();
  } while (now - start < kRunTime);
  const std::chrono::duration<double> elapsed = now - start;
  return static_cast<double>(calls) / elapsed.count();
}

}  // namespace

int main() {
  using hubpoll::DatePattern;
  using hubpoll::UrlTemplate;

  auto pattern = DatePattern::compile("EEE MMM dd HH:mm:ss Z yyyy");
  auto url = UrlTemplate::compile(
      "/statuses?since=${dateTimeZone:America/New_York:yyyy-MM-dd'T'HH:mm:"
      "ssXXX}&until=${now:yyyy-MM-dd'T'HH:mm:ss'Z'}&t=${epoch:s}");
  if (!pattern.ok() || !url.ok()) {
    std::fprintf(stderr, "benchmark setup failed\n");
    return 1;
  }

  const std::vector<std::string> dates = {
      "Tue Dec 20 11:08:50 +0000 2011", "Mon Oct 30 23:31:56 +0000 2017",
      "Fri Jan 26 16:32:21 +0000 2018", "Sat Jul 13 02:27:22 +0000 2019"};
  const hubpoll::Zone utc;
  long long checksum = 0;
  const double parses = measure([&](int i) {
    auto parsed = pattern->parse(dates[static_cast<size_t>(i) & 3], utc);
    checksum += parsed.ok() ? parsed->time_since_epoch().count() : 1;
  });

  hubpoll::ExpansionTimes times{hubpoll::SystemClock().now(), {}};
  times.poll_start = times.window_start;
  const double expansions = measure([&](int i) {
    times.window_start += std::chrono::milliseconds(i);
    checksum += static_cast<long long>(url->expand(times).size());
  });

  std::printf("twitter date parses: %.0f per second\n", parses);
  std::printf("url expansions: %.0f per second\n", expansions);
  std::printf("(checksum %lld)\n", checksum);
  std::printf("{\"date_parses_per_s\": %.0f, \"url_expansions_per_s\": %.0f}\n",
              parses, expansions);
  return 0;
}
