// HTTP requests over libcurl with bodies read as a stream, so a large page
// never has to fit in memory at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "poller/result.h"
#include "poller/time_types.h"

namespace hubpoll {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
};

// Limits that keep a bad server from hanging or exhausting a run.
struct HttpLimits {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{120'000};
  // A transfer slower than low_speed_bytes per second for low_speed_time is
  // aborted, so a server that stalls mid-body cannot hang a run.
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  std::int64_t max_body_bytes = 256LL * 1024 * 1024;
  long max_redirects = 5;
};

// A response whose status and headers have arrived and whose body is read
// chunk by chunk. Not thread-safe.
class HttpResponse {
 public:
  virtual ~HttpResponse() = default;

  virtual int status() const = 0;

  // The last value of header `name` (case-insensitive), if present.
  virtual std::optional<std::string> header(std::string_view name) const = 0;

  // The host and port the response came from, for messages.
  virtual const std::string& origin() const = 0;

  // Returns the next piece of the body, or an empty view at its end. The
  // view stays valid until the next call. Transport failures, timeouts and
  // bodies above HttpLimits::max_body_bytes are errors.
  virtual Result<std::string_view> next_chunk() = 0;

  // Reads the rest of the body, up to `max_bytes`; the remainder is dropped.
  Result<std::string> read_body(std::size_t max_bytes);
};

// Sends `request` and waits for the response headers. Only http and https
// are allowed, including on redirects.
Result<std::unique_ptr<HttpResponse>> send_request(const HttpRequest& request,
                                                   const HttpLimits& limits);

// Initialises libcurl for the process. Call once from main before threads
// start; later calls do nothing.
void initialize_http();

}  // namespace hubpoll
