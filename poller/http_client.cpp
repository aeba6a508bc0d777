#include "poller/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace hubpoll {
namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// scheme://host:port of a URL, without the path, query or user info, for
// messages that must not leak credentials or tokens in the query.
std::string origin_of(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(invalid URL)";
  std::size_t host_begin = scheme_end + 3;
  std::size_t host_end = url.find_first_of("/?#", host_begin);
  if (host_end == std::string::npos) host_end = url.size();
  const std::size_t at = url.rfind('@', host_end);
  if (at != std::string::npos && at >= host_begin) host_begin = at + 1;
  return url.substr(host_begin, host_end - host_begin);
}

class CurlResponse final : public HttpResponse {
 public:
  CurlResponse(const HttpRequest& request, const HttpLimits& limits)
      : limits_(limits), origin_(origin_of(request.url)) {}
  CurlResponse(const CurlResponse&) = delete;
  CurlResponse& operator=(const CurlResponse&) = delete;

  ~CurlResponse() override {
    if (multi_ != nullptr && easy_ != nullptr) {
      curl_multi_remove_handle(multi_, easy_);
    }
    curl_easy_cleanup(easy_);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(header_list_);
  }

  Status start(const HttpRequest& request);

  int status() const override { return status_; }
  std::optional<std::string> header(std::string_view name) const override;
  const std::string& origin() const override { return origin_; }
  Result<std::string_view> next_chunk() override;

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count,
                             void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count,
                               void* self);

  template <class T>
  void set_option(CURLoption option, T value);
  Status drive_until_data();
  Error transfer_error() const;

  HttpLimits limits_;
  std::string origin_;
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* header_list_ = nullptr;
  CURLcode setup_result_ = CURLE_OK;
  char error_buffer_[CURL_ERROR_SIZE] = {};

  HttpHeaders headers_;
  int status_ = 0;
  std::string pending_;  // received, not yet handed out
  std::string chunk_;    // handed out by the last next_chunk()
  std::int64_t body_bytes_ = 0;
  bool body_too_large_ = false;
  bool done_ = false;
  CURLcode result_ = CURLE_OK;
};

template <class T>
void CurlResponse::set_option(CURLoption option, T value) {
  const CURLcode code = curl_easy_setopt(easy_, option, value);
  if (setup_result_ == CURLE_OK) setup_result_ = code;
}

Status CurlResponse::start(const HttpRequest& request) {
  multi_ = curl_multi_init();
  easy_ = curl_easy_init();
  if (multi_ == nullptr || easy_ == nullptr) {
    return make_error(ErrorKind::kTransport, "libcurl initialisation failed");
  }
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* extended = curl_slist_append(header_list_, line.c_str());
    if (extended == nullptr) {
      return make_error(ErrorKind::kTransport, "out of memory for headers");
    }
    header_list_ = extended;
  }

  set_option(CURLOPT_URL, request.url.c_str());
  set_option(CURLOPT_ERRORBUFFER, error_buffer_);
  set_option(CURLOPT_NOSIGNAL, 1L);
  set_option(CURLOPT_PROTOCOLS_STR, "http,https");
  set_option(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set_option(CURLOPT_FOLLOWLOCATION, 1L);
  set_option(CURLOPT_MAXREDIRS, limits_.max_redirects);
  set_option(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  set_option(CURLOPT_CONNECTTIMEOUT_MS,
             static_cast<long>(limits_.connect_timeout.count()));
  set_option(CURLOPT_TIMEOUT_MS,
             static_cast<long>(limits_.total_timeout.count()));
  set_option(CURLOPT_LOW_SPEED_LIMIT, limits_.low_speed_bytes);
  set_option(CURLOPT_LOW_SPEED_TIME,
             static_cast<long>(limits_.low_speed_time.count()));
  set_option(CURLOPT_MAXFILESIZE_LARGE,
             static_cast<curl_off_t>(limits_.max_body_bytes));
  set_option(CURLOPT_HTTPHEADER, header_list_);
  set_option(CURLOPT_WRITEFUNCTION, &CurlResponse::on_body);
  set_option(CURLOPT_WRITEDATA, this);
  set_option(CURLOPT_HEADERFUNCTION, &CurlResponse::on_header);
  set_option(CURLOPT_HEADERDATA, this);
  if (request.method == "POST") {
    set_option(CURLOPT_POST, 1L);
    set_option(CURLOPT_POSTFIELDSIZE_LARGE,
               static_cast<curl_off_t>(request.body.size()));
    set_option(CURLOPT_POSTFIELDS, request.body.data());
  } else if (request.method != "GET") {
    set_option(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (setup_result_ != CURLE_OK) {
    return make_error(ErrorKind::kTransport,
                      std::string("libcurl option failed: ") +
                          curl_easy_strerror(setup_result_));
  }
  const CURLMcode added = curl_multi_add_handle(multi_, easy_);
  if (added != CURLM_OK) {
    return make_error(ErrorKind::kTransport, std::string("libcurl failed: ") +
                                                 curl_multi_strerror(added));
  }

  // The status is known once the first body byte arrives or the transfer
  // ends, whichever comes first.
  Status status = drive_until_data();
  if (!status) return status;
  long code = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
  status_ = static_cast<int>(code);
  if (done_ && result_ != CURLE_OK) return transfer_error();
  return {};
}

std::size_t CurlResponse::on_body(char* data, std::size_t size,
                                  std::size_t count, void* self) {
  auto* response = static_cast<CurlResponse*>(self);
  const std::size_t bytes = size * count;
  response->body_bytes_ += static_cast<std::int64_t>(bytes);
  if (response->body_bytes_ > response->limits_.max_body_bytes) {
    response->body_too_large_ = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  response->pending_.append(data, bytes);
  return bytes;
}

std::size_t CurlResponse::on_header(char* data, std::size_t size,
                                    std::size_t count, void* self) {
  auto* response = static_cast<CurlResponse*>(self);
  const std::string_view line(data, size * count);
  // A status line starts the headers of a new response (after a redirect
  // or a 100 Continue); only the final response's headers count.
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers_.clear();
    return line.size();
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    response->headers_.emplace_back(std::string(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1))));
  }
  return line.size();
}

Status CurlResponse::drive_until_data() {
  while (pending_.empty() && !done_) {
    int running = 0;
    const CURLMcode performed = curl_multi_perform(multi_, &running);
    if (performed != CURLM_OK) {
      return make_error(
          ErrorKind::kTransport,
          std::string("libcurl failed: ") + curl_multi_strerror(performed));
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg == CURLMSG_DONE) {
        done_ = true;
        result_ = message->data.result;
      }
    }
    if (!pending_.empty() || done_) break;
    const CURLMcode polled = curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    if (polled != CURLM_OK) {
      return make_error(ErrorKind::kTransport, std::string("libcurl failed: ") +
                                                   curl_multi_strerror(polled));
    }
  }
  return {};
}

Error CurlResponse::transfer_error() const {
  if (body_too_large_ || result_ == CURLE_FILESIZE_EXCEEDED) {
    return make_error(ErrorKind::kPayload,
                      "response from " + origin_ + " exceeds the limit of " +
                          std::to_string(limits_.max_body_bytes) + " bytes");
  }
  const std::string detail =
      error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(result_);
  switch (result_) {
    case CURLE_OPERATION_TIMEDOUT:
      return make_error(ErrorKind::kTimeout, detail);
    // Failures that a retry cannot mend are payload errors, which the
    // caller does not retry.
    case CURLE_UNSUPPORTED_PROTOCOL:
      return make_error(
          ErrorKind::kPayload,
          "refused a URL that is not http or https (" + detail + ")");
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_CONTENT_ENCODING:
      return make_error(ErrorKind::kPayload, detail);
    default:
      return make_error(ErrorKind::kTransport, detail);
  }
}

std::optional<std::string> CurlResponse::header(std::string_view name) const {
  for (auto it = headers_.rbegin(); it != headers_.rend(); ++it) {
    if (equals_ignore_case(it->first, name)) return it->second;
  }
  return std::nullopt;
}

Result<std::string_view> CurlResponse::next_chunk() {
  Status status = drive_until_data();
  if (!status) return status.error();
  if (!pending_.empty()) {
    chunk_.swap(pending_);
    pending_.clear();
    return std::string_view(chunk_);
  }
  if (result_ != CURLE_OK) return transfer_error();
  return std::string_view();
}

}  // namespace

Result<std::string> HttpResponse::read_body(std::size_t max_bytes) {
  std::string body;
  while (true) {
    auto chunk = next_chunk();
    if (!chunk) return chunk.error();
    if (chunk->empty()) return body;
    const std::size_t room = max_bytes - std::min(max_bytes, body.size());
    body.append(chunk->substr(0, room));
  }
}

Result<std::unique_ptr<HttpResponse>> send_request(const HttpRequest& request,
                                                   const HttpLimits& limits) {
  auto response = std::make_unique<CurlResponse>(request, limits);
  Status status = response->start(request);
  if (!status) return status.error();
  return std::unique_ptr<HttpResponse>(std::move(response));
}

void initialize_http() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace hubpoll
