#include "poller/fetch_policy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <random>

namespace hubpoll {
namespace {

// The maximum number of 429 responses waited out for one request, so a hub
// that keeps returning 429 with short pauses cannot hold a poll forever.
constexpr int kMaxRateLimitWaits = 5;

std::optional<Instant> parse_http_date(const std::string& value) {
  const time_t seconds = curl_getdate(value.c_str(), nullptr);
  if (seconds < 0) return std::nullopt;
  return Instant(std::chrono::seconds(seconds));
}

std::optional<long long> parse_seconds(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(text);
}

std::chrono::milliseconds jittered_backoff(const FetchPolicy& policy,
                                           int failed_attempts) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  const double base = static_cast<double>(policy.retry_backoff.count()) *
                      static_cast<double>(1LL << (failed_attempts - 1));
  return std::chrono::milliseconds(
      static_cast<long long>(base * factor(random)));
}

std::string format_seconds(std::chrono::milliseconds duration) {
  const long long tenths = (duration.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

bool is_retryable(const Error& error) {
  return error.kind == ErrorKind::kTransport ||
         error.kind == ErrorKind::kTimeout;
}

}  // namespace

std::optional<std::chrono::milliseconds> rate_limit_pause(
    const HttpResponse& response, Instant now) {
  std::optional<std::chrono::milliseconds> pause;
  if (auto retry_after = response.header("Retry-After")) {
    if (auto seconds = parse_seconds(*retry_after)) {
      pause = std::chrono::seconds(*seconds);
    } else if (auto date = parse_http_date(*retry_after)) {
      pause =
          std::chrono::duration_cast<std::chrono::milliseconds>(*date - now);
    }
  }
  if (!pause) {
    if (auto reset = response.header("x-rate-limit-reset")) {
      if (auto seconds = parse_seconds(*reset)) {
        pause = std::chrono::duration_cast<std::chrono::milliseconds>(
            Instant(std::chrono::seconds(*seconds)) - now);
      }
    }
  }
  if (!pause) return std::nullopt;
  return std::clamp<std::chrono::milliseconds>(
      *pause, std::chrono::milliseconds(0), kMaxRateLimitPause);
}

Result<std::unique_ptr<HttpResponse>> send_with_retries(
    const HttpRequest& request, const HttpLimits& limits,
    const FetchPolicy& policy, const Clock& clock, const Waiter& wait,
    Logger& logger, const std::string& context) {
  int failed_attempts = 0;
  int rate_limit_waits = 0;
  while (true) {
    auto response = send_request(request, limits);
    std::optional<Error> failure;
    if (!response) {
      if (!is_retryable(response.error())) return response.error();
      failure = response.error();
    } else if ((*response)->status() >= 500) {
      // The last response is returned as it is, so the caller can report
      // its body.
      if (failed_attempts + 1 >= policy.attempts) return response;
      failure = make_error(ErrorKind::kHttpStatus,
                           "HTTP " + std::to_string((*response)->status()) +
                               " from " + (*response)->origin());
    } else if ((*response)->status() == 429) {
      Instant now = clock.now();
      if (auto date = (*response)->header("Date")) {
        if (auto server_now = parse_http_date(*date)) now = *server_now;
      }
      const auto pause =
          rate_limit_pause(**response, now).value_or(policy.retry_backoff);
      if (pause > policy.max_wait) {
        return make_error(ErrorKind::kRateLimited,
                          "rate-limited by " + (*response)->origin() + " for " +
                              format_seconds(pause) +
                              ", longer than --max-wait " +
                              std::to_string(policy.max_wait.count()) +
                              " s; skipped until the next cycle");
      }
      if (rate_limit_waits == kMaxRateLimitWaits) {
        return make_error(ErrorKind::kRateLimited,
                          "still rate-limited by " + (*response)->origin() +
                              " after " + std::to_string(kMaxRateLimitWaits) +
                              " waits; skipped until the next cycle");
      }
      ++rate_limit_waits;
      logger.warning(context + ": rate-limited by " + (*response)->origin() +
                     ", waiting " + format_seconds(pause));
      wait(pause);
      continue;
    } else {
      return response;
    }

    ++failed_attempts;
    if (failed_attempts >= policy.attempts) return *failure;
    const auto backoff = jittered_backoff(policy, failed_attempts);
    logger.warning(context + ": " + failure->message + " (attempt " +
                   std::to_string(failed_attempts) + " of " +
                   std::to_string(policy.attempts) + ", retrying in " +
                   format_seconds(backoff) + ")");
    wait(backoff);
  }
}

}  // namespace hubpoll
