#include "sandbox/sandbox.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sandbox/twitter_records.h"

namespace hubpoll {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr const char* kJsonType = "application/json";
constexpr const char* kHubPath = "/elements/api-v2";
constexpr const char* kNextPageHeader = "elements-next-page-token";
constexpr std::size_t kDefaultPageSize = 200;
// A larger pageSize is served as this many records.
// NOTE: the real hub's maximum page size is unknown here; this cap is the
// sandbox's own choice.
constexpr std::size_t kMaxPageSize = 5000;
constexpr std::size_t kMaxPostBytes = 1 << 20;
// RapidJSON's Writer recurses once per nesting level, so deeper posted bodies
// could overflow the stack when served.
constexpr int kMaxPostDepth = 64;
// An idle keep-alive connection delays stop() by up to this long, because
// cpp-httplib 0.11 checks for shutdown only when a connection's keep-alive
// wait ends.
constexpr time_t kKeepAliveSeconds = 1;
// Echoed request values are cut to this length in error messages.
constexpr std::size_t kMaxEchoedLength = 100;

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::string serialize(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Makes a request value safe to echo in a JSON error message: printable ASCII
// only, at most kMaxEchoedLength bytes.
std::string printable(std::string_view text) {
  std::string safe;
  for (char c : text.substr(0, kMaxEchoedLength)) {
    safe += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  if (text.size() > kMaxEchoedLength) safe += "...";
  return safe;
}

// {"message": MESSAGE}. MESSAGE must be valid UTF-8.
std::string error_body(std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("message");
  writer.String(message.data(),
                static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void reply_error(httplib::Response& response, int status,
                 std::string_view message) {
  response.status = status;
  response.body = error_body(message);
  response.set_header("Content-Type", kJsonType);
}

// RFC 7231 IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT.
std::string format_http_date(Instant instant) {
  return date::format("%a, %d %b %Y %H:%M:%S GMT",
                      date::floor<std::chrono::seconds>(instant));
}

// ---------------------------------------------------------------------------
// Page tokens: base64url, without padding, of "RESOURCE:POSITION".

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode_base64url(std::string_view bytes) {
  std::string encoded;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      encoded += kBase64UrlAlphabet[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) encoded += kBase64UrlAlphabet[(buffer << (6 - bits)) & 0x3F];
  return encoded;
}

std::optional<std::string> decode_base64url(std::string_view encoded) {
  std::string bytes;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : encoded) {
    const std::size_t digit = kBase64UrlAlphabet.find(c);
    if (digit == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return bytes;
}

std::string make_page_token(std::string_view resource, std::size_t position) {
  return encode_base64url(std::string(resource) + ":" +
                          std::to_string(position));
}

// Returns the position that `token` carries when it was issued for
// `resource`.
std::optional<std::size_t> parse_page_token(std::string_view token,
                                            std::string_view resource) {
  std::optional<std::string> text = decode_base64url(token);
  if (!text) return std::nullopt;

  const std::string prefix = std::string(resource) + ":";
  if (text->compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const char* first = text->data() + prefix.size();
  const char* last = text->data() + text->size();
  std::size_t position = 0;
  auto [end, error] = std::from_chars(first, last, position);
  if (error != std::errc() || end != last || first == last) {
    return std::nullopt;
  }
  return position;
}

// ---------------------------------------------------------------------------
// Request values

Result<std::size_t> parse_page_size(const httplib::Request& request) {
  if (!request.has_param("pageSize")) return kDefaultPageSize;

  const std::string text = request.get_param_value("pageSize");
  const char* first = text.data();
  const char* last = text.data() + text.size();
  std::size_t size = 0;
  auto [end, error] = std::from_chars(first, last, size);
  const bool digits_only = first != last && end == last;
  if (digits_only && error == std::errc::result_out_of_range) {
    return kMaxPageSize;
  }
  if (!digits_only || error != std::errc() || size == 0) {
    return make_error(ErrorKind::kInvalidArgument,
                      "invalid pageSize \"" + printable(text) +
                          "\": expected a positive integer");
  }
  return std::min(size, kMaxPageSize);
}

std::string json_type_name(const Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "an unknown type";
}

bool nested_deeper_than(const Value& root, int max_depth) {
  std::vector<std::pair<const Value*, int>> pending{{&root, 1}};
  while (!pending.empty()) {
    auto [value, depth] = pending.back();
    pending.pop_back();
    if (depth > max_depth) return true;
    if (value->IsObject()) {
      for (const auto& member : value->GetObject()) {
        pending.emplace_back(&member.value, depth + 1);
      }
    } else if (value->IsArray()) {
      for (const Value& element : value->GetArray()) {
        pending.emplace_back(&element, depth + 1);
      }
    }
  }
  return false;
}

Result<Document> parse_posted_record(const std::string& body) {
  Document record;
  record.Parse<rapidjson::kParseIterativeFlag |
               rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (record.HasParseError()) {
    return make_error(ErrorKind::kInvalidArgument,
                      std::string("invalid JSON body: ") +
                          rapidjson::GetParseError_En(record.GetParseError()) +
                          " (at byte offset " +
                          std::to_string(record.GetErrorOffset()) + ")");
  }
  if (!record.IsObject()) {
    return make_error(ErrorKind::kInvalidArgument,
                      "invalid record: the body must be a JSON object, not " +
                          json_type_name(record));
  }
  if (nested_deeper_than(record, kMaxPostDepth)) {
    return make_error(ErrorKind::kInvalidArgument,
                      "invalid record: nested deeper than " +
                          std::to_string(kMaxPostDepth) + " levels");
  }
  return Result<Document>(std::move(record));
}

// ---------------------------------------------------------------------------
// Record store

// Twitter ids are signed 64-bit, so larger values are not taken as ids.
std::optional<std::uint64_t> parse_twitter_id(const Value& record) {
  auto member = record.FindMember("id_str");
  if (member == record.MemberEnd() || !member->value.IsString()) {
    return std::nullopt;
  }
  const char* first = member->value.GetString();
  const char* last = first + member->value.GetStringLength();
  std::uint64_t id = 0;
  auto [end, error] = std::from_chars(first, last, id);
  constexpr std::uint64_t kMaxTwitterId = (std::uint64_t{1} << 63) - 1;
  if (error != std::errc() || end != last || id > kMaxTwitterId) {
    return std::nullopt;
  }
  return id;
}

struct Page {
  std::string body;        // a JSON array
  std::string next_token;  // empty on the last page
};

// The served records. Each resource keeps its records serialized and oldest
// first, so that a POST appends and a page token, which counts positions from
// the oldest record, stays valid while records are added. Thread-safe.
class RecordStore {
 public:
  explicit RecordStore(sandbox::RecordSets sets) {
    for (sandbox::ResourceRecords& set : sets) {
      ResourceRecords& resource = resources_.emplace_back();
      resource.name = set.resource;
      const auto records = set.records.GetArray();
      for (auto record = records.end(); record != records.begin();) {
        --record;
        track_id(*record);
        resource.records.push_back(serialize(*record));
      }
    }
  }

  std::optional<std::size_t> find(std::string_view name) const {
    for (std::size_t i = 0; i < resources_.size(); ++i) {
      if (resources_[i].name == name) return i;
    }
    return std::nullopt;
  }

  std::string names() const {
    std::string names;
    for (const ResourceRecords& resource : resources_) {
      if (!names.empty()) names += ", ";
      names += resource.name;
    }
    return names;
  }

  // Returns up to `page_size` records, newest first, starting after the
  // record that `token` points at, or at the newest when `token` is empty.
  Result<Page> page(std::size_t index, std::size_t page_size,
                    std::string_view token) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const ResourceRecords& resource = resources_[index];
    std::size_t end = resource.records.size();
    if (!token.empty()) {
      std::optional<std::size_t> position =
          parse_page_token(token, resource.name);
      if (!position || *position == 0 || *position > end) {
        return make_error(ErrorKind::kInvalidArgument,
                          "invalid nextPage token \"" + printable(token) +
                              "\": it was not issued for " + resource.name);
      }
      end = *position;
    }

    const std::size_t begin = end > page_size ? end - page_size : 0;
    Page page;
    page.body = join_newest_first(resource, begin, end);
    if (begin > 0) page.next_token = make_page_token(resource.name, begin);
    return page;
  }

  // Adds `record` as the newest record of the resource at `index`, dated
  // `now` when it has no `created_at` and given a fresh `id` and `id_str`
  // when it has no `id_str`. Returns the stored text.
  std::string add(std::size_t index, Document& record, Instant now) {
    std::lock_guard<std::mutex> lock(mutex_);
    Document::AllocatorType& allocator = record.GetAllocator();
    if (!record.HasMember("created_at")) {
      const std::string created =
          sandbox::format_twitter_date(date::floor<std::chrono::seconds>(now));
      record.AddMember("created_at", Value(created.c_str(), allocator),
                       allocator);
    }
    if (record.HasMember("id_str")) {
      track_id(record);
    } else {
      const std::uint64_t id = ++max_id_;
      const std::string id_text = std::to_string(id);
      record.RemoveMember("id");
      record.AddMember("id", Value(id), allocator);
      record.AddMember("id_str", Value(id_text.c_str(), allocator), allocator);
    }

    std::string text = serialize(record);
    resources_[index].records.push_back(text);
    return text;
  }

 private:
  struct ResourceRecords {
    std::string name;
    std::vector<std::string> records;  // serialized, oldest first
  };

  static std::string join_newest_first(const ResourceRecords& resource,
                                       std::size_t begin, std::size_t end) {
    std::size_t length = 2;
    for (std::size_t i = begin; i < end; ++i) {
      length += resource.records[i].size() + 1;
    }
    std::string body;
    body.reserve(length);
    body += '[';
    for (std::size_t i = end; i > begin; --i) {
      if (i != end) body += ',';
      body += resource.records[i - 1];
    }
    body += ']';
    return body;
  }

  void track_id(const Value& record) {
    std::optional<std::uint64_t> id = parse_twitter_id(record);
    if (id && *id > max_id_) max_id_ = *id;
  }

  mutable std::mutex mutex_;
  std::vector<ResourceRecords> resources_;
  std::uint64_t max_id_ = 0;
};

// ---------------------------------------------------------------------------
// Server

class HubSandbox final : public Sandbox {
 public:
  HubSandbox(const SandboxOptions& options, const Clock& clock,
             sandbox::RecordSets records)
      : clock_(clock),
        host_(options.host),
        requested_port_(options.port),
        store_(std::move(records)) {}

  HubSandbox(const HubSandbox&) = delete;
  HubSandbox& operator=(const HubSandbox&) = delete;

  ~HubSandbox() override {
    // A destructor must not throw, and a library has nowhere to report a
    // failed join, so the error is dropped.
    try {
      stop();
    } catch (...) {
    }
  }

  // Binds the port and starts serving on a background thread. The socket
  // listens once bound, so connections made after this returns succeed.
  Status listen() {
    route();
    // cpp-httplib 0.11's default socket options add SO_REUSEPORT, which lets
    // a second server bind a port already in use and take half its
    // connections. SO_REUSEADDR alone still allows a quick restart.
    server_.set_socket_options([](socket_t socket) {
      const int enable = 1;
      // A failure only stops rebinding a port in TIME_WAIT, which bind then
      // reports, so the result is not checked.
      ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
    });
    server_.set_keep_alive_timeout(kKeepAliveSeconds);
    server_.set_payload_max_length(kMaxPostBytes);

    const int port =
        requested_port_ == 0
            ? server_.bind_to_any_port(host_)
            : (server_.bind_to_port(host_, requested_port_) ? requested_port_
                                                            : -1);
    if (port < 0) {
      return make_error(ErrorKind::kTransport,
                        "binding the sandbox to " + host_ + ":" +
                            std::to_string(requested_port_) +
                            " failed (the port is in use or reserved, or the "
                            "address is not local); choose another port, or "
                            "0 for any free port");
    }
    port_ = static_cast<std::uint16_t>(port);

    thread_ = std::thread([this] {
      server_.listen_after_bind();
      {
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        listen_ended_ = true;
      }
      listen_ended_cv_.notify_all();
    });
    return {};
  }

  std::uint16_t port() const override { return port_; }

  std::string base_url() const override {
    const bool ipv6 = host_.find(':') != std::string::npos;
    const std::string host = ipv6 ? "[" + host_ + "]" : host_;
    return "http://" + host + ":" + std::to_string(port_) + kHubPath;
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(lifecycle_mutex_);
    listen_ended_cv_.wait(lock, [this] { return listen_ended_; });
  }

  void stop() override {
    std::unique_lock<std::mutex> lock(lifecycle_mutex_);
    if (!thread_.joinable()) return;  // never started, or already stopped
    // cpp-httplib 0.11's Server::stop() does nothing until the accept loop
    // has started, and asserts when called twice, so it is called once, after
    // the loop is running.
    while (!listen_ended_) {
      if (!stop_sent_ && server_.is_running()) {
        server_.stop();
        stop_sent_ = true;
      }
      listen_ended_cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void route() {
    server_.Get(
        R"(/elements/api-v2/hubs/social/(.+))",
        [this](const httplib::Request& request, httplib::Response& response) {
          serve_page(request, response);
        });
    server_.Post(R"(/sandbox/(.+))", [this](const httplib::Request& request,
                                            httplib::Response& response) {
      add_record(request, response);
    });
    server_.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& request, httplib::Response& response) {
          fill_error_body(request, response);
          return httplib::Server::HandlerResponse::Handled;
        }));
    server_.set_exception_handler([](const httplib::Request&,
                                     httplib::Response& response,
                                     std::exception_ptr) {
      reply_error(response, 500, "the sandbox failed to serve the request");
    });
    server_.set_post_routing_handler(
        [this](const httplib::Request&, httplib::Response& response) {
          response.set_header("Date", format_http_date(clock_.now()));
        });
  }

  // Gives the responses that cpp-httplib produces itself (no route, body too
  // large) a JSON body like the handlers' own errors.
  static void fill_error_body(const httplib::Request& request,
                              httplib::Response& response) {
    if (!response.body.empty()) return;
    const std::string target = request.method + " " + printable(request.path);
    const std::string message =
        response.status == 404
            ? "not found: " + target +
                  "; the sandbox serves GET "
                  "/elements/api-v2/hubs/social/RESOURCE and POST "
                  "/sandbox/RESOURCE"
            : "HTTP " + std::to_string(response.status) + " for " + target;
    reply_error(response, response.status, message);
  }

  std::optional<std::size_t> find_resource(const httplib::Request& request,
                                           httplib::Response& response) const {
    const std::string name = request.matches[1];
    std::optional<std::size_t> index = store_.find(name);
    if (!index) {
      reply_error(response, 404,
                  "resource not found: " + printable(name) +
                      "; expected one of " + store_.names());
    }
    return index;
  }

  void serve_page(const httplib::Request& request,
                  httplib::Response& response) const {
    std::optional<std::size_t> index = find_resource(request, response);
    if (!index) return;

    Result<std::size_t> page_size = parse_page_size(request);
    if (!page_size) {
      reply_error(response, 400, page_size.error().message);
      return;
    }
    Result<Page> page =
        store_.page(*index, *page_size, request.get_param_value("nextPage"));
    if (!page) {
      reply_error(response, 400, page.error().message);
      return;
    }

    if (!page->next_token.empty()) {
      response.set_header(kNextPageHeader, page->next_token);
    }
    response.body = std::move(page->body);
    response.set_header("Content-Type", kJsonType);
  }

  void add_record(const httplib::Request& request,
                  httplib::Response& response) {
    std::optional<std::size_t> index = find_resource(request, response);
    if (!index) return;

    Result<Document> record = parse_posted_record(request.body);
    if (!record) {
      reply_error(response, 400, record.error().message);
      return;
    }
    response.status = 201;
    response.body = store_.add(*index, *record, clock_.now());
    response.set_header("Content-Type", kJsonType);
  }

  const Clock& clock_;
  const std::string host_;
  const std::uint16_t requested_port_;
  std::uint16_t port_ = 0;
  RecordStore store_;
  httplib::Server server_;
  std::thread thread_;

  std::mutex lifecycle_mutex_;
  std::condition_variable listen_ended_cv_;
  bool listen_ended_ = false;
  bool stop_sent_ = false;
};

}  // namespace

Result<std::unique_ptr<Sandbox>> Sandbox::start(const SandboxOptions& options) {
  const Clock& clock =
      options.clock != nullptr ? *options.clock : system_clock();
  Result<sandbox::RecordSets> records =
      options.fixtures_dir.empty()
          ? Result<sandbox::RecordSets>(sandbox::generate_records())
          : sandbox::load_recorded_records(options.fixtures_dir);
  if (!records) return records.error();

  // Twitter dates carry whole seconds, so the newest record is newest_age
  // older than the clock's time truncated to the second.
  const date::sys_seconds newest =
      date::floor<std::chrono::seconds>(clock.now()) - options.newest_age;
  for (sandbox::ResourceRecords& set : *records) {
    sandbox::sort_newest_first(set.records);
    sandbox::shift_dates(set.records, newest);
  }

  auto sandbox =
      std::make_unique<HubSandbox>(options, clock, std::move(*records));
  Status listening = sandbox->listen();
  if (!listening) return listening.error();
  return std::unique_ptr<Sandbox>(std::move(sandbox));
}

}  // namespace hubpoll
