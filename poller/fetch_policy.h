// Sending one page request with retries and rate-limit pauses.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "poller/http_client.h"
#include "poller/log.h"
#include "poller/result.h"
#include "poller/time_types.h"

namespace hubpoll {

// Blocks the calling poll for a duration. Tests and the daemon inject their
// own so that nothing really sleeps or a stop request cuts the wait short.
using Waiter = std::function<void(std::chrono::milliseconds)>;

struct FetchPolicy {
  // Attempts per request for connection errors, timeouts and 5xx.
  int attempts = 3;
  // The wait before the second attempt; it doubles for each further one and
  // is multiplied by a random factor in [0.5, 1.5).
  std::chrono::milliseconds retry_backoff{1000};
  // A rate-limit pause up to this long is waited out; a longer one fails
  // the poll as rate-limited until the next cycle.
  std::chrono::seconds max_wait{60};
};

// The maximum rate-limit pause taken from a header. A longer value, such as
// an epoch timestamp sent in Retry-After's seconds form, is capped to this.
inline constexpr std::chrono::seconds kMaxRateLimitPause{3600};

// How long the hub requests a wait before the next request: Retry-After in
// seconds or as an HTTP date, else x-rate-limit-reset in epoch seconds.
// `now` is the hub's clock when known. Empty when no header gives one.
std::optional<std::chrono::milliseconds> rate_limit_pause(
    const HttpResponse& response, Instant now);

// Sends `request`, retrying connection errors, timeouts and 5xx up to
// policy.attempts times with jittered exponential backoff, and waiting out
// 429 pauses up to policy.max_wait. Returns the response for any other
// status, or an error: kRateLimited when the hub requests a longer pause.
// `context` (e.g. "page 3") prefixes log lines, after the resource name.
Result<std::unique_ptr<HttpResponse>> send_with_retries(
    const HttpRequest& request, const HttpLimits& limits,
    const FetchPolicy& policy, const Clock& clock, const Waiter& wait,
    Logger& logger, const std::string& context);

}  // namespace hubpoll
