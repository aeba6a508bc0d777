#include "poller/engine.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "poller/event.h"
#include "poller/fault_point.h"
#include "poller/fetch_policy.h"
#include "poller/json_util.h"
#include "poller/record_scanner.h"
#include "poller/secrets.h"
#include "poller/url_template.h"

namespace hubpoll {
namespace {

constexpr std::size_t kErrorBodyPreview = 200;
constexpr std::chrono::hours kMaxServerClockSkew{24};

std::string join_url(const std::string& base, const std::string& path) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (path.empty() || path.front() != '/') url.push_back('/');
  return url + path;
}

std::string add_query_parameter(const std::string& url, const std::string& name,
                                const std::string& value) {
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + name + "=" + percent_encode(value);
}

// The server's clock from an HTTP `Date` header, when it parses.
std::optional<Instant> parse_http_date(const std::string& value) {
  const time_t seconds = curl_getdate(value.c_str(), nullptr);
  if (seconds < 0) return std::nullopt;
  return Instant(std::chrono::seconds(seconds));
}

// Raw records of new events, kept in an unlinked temporary file until the
// commit, so a page of any size costs disk, not memory.
class RawSpill {
 public:
  RawSpill() = default;
  RawSpill(const RawSpill&) = delete;
  RawSpill& operator=(const RawSpill&) = delete;
  ~RawSpill() {
    if (file_ != nullptr) std::fclose(file_);
  }

  // Appends `raw`; its place goes to read().
  Status append(std::string_view raw) {
    if (file_ == nullptr) {
      file_ = std::tmpfile();
      if (file_ == nullptr) return io_error("creating a temporary file");
    }
    places_.push_back(Place{size_, raw.size()});
    if (std::fwrite(raw.data(), 1, raw.size(), file_) != raw.size()) {
      return io_error("writing a temporary file");
    }
    size_ += static_cast<long>(raw.size());
    return {};
  }

  // Reads the `index`-th appended record into `raw`. Reading the records
  // in order, as the commit does, reads the file front to back once. Once
  // reading has begun, no more appends are allowed.
  Status read(std::size_t index, std::string& raw) {
    const Place& place = places_.at(index);
    if (index != next_read_) {
      if (std::fflush(file_) != 0 ||
          std::fseek(file_, place.offset, SEEK_SET) != 0) {
        return io_error("seeking a temporary file");
      }
    }
    raw.resize(place.length);
    if (std::fread(raw.data(), 1, place.length, file_) != place.length) {
      return io_error("reading a temporary file");
    }
    next_read_ = index + 1;
    return {};
  }

 private:
  struct Place {
    long offset;
    std::size_t length;
  };

  static Error io_error(const char* what) {
    return make_error(ErrorKind::kIo,
                      std::string(what) + " failed: " + std::strerror(errno));
  }

  std::FILE* file_ = nullptr;
  long size_ = 0;
  std::vector<Place> places_;
  // The record the file position is at, or npos before the first read.
  std::size_t next_read_ = static_cast<std::size_t>(-1);
};

// The state of one poll of one resource.
class ResourcePoll {
 public:
  ResourcePoll(const InstanceConfig& instance, const ResourceConfig& resource,
               EventStore& store, const PollOptions& options,
               const Clock& clock, Logger& logger, const StreamState& state,
               Instant window_start, Instant poll_start)
      : instance_(instance),
        resource_(resource),
        store_(store),
        options_(options),
        clock_(clock),
        logger_(logger),
        state_(state),
        window_start_(window_start),
        poll_start_(poll_start) {
    spec_.records_field = resource.records_field;
    spec_.id_path = resource.id_field;
    if (resource.updated_date) {
      spec_.value_paths.push_back(resource.updated_date->path);
    }
    if (resource.created_date) {
      spec_.value_paths.push_back(resource.created_date->path);
    }
  }

  Status fetch_all_pages();
  PollCommit take_commit();
  const PollStats& stats() const { return stats_; }
  Instant poll_start() const { return poll_start_; }

 private:
  Status fetch_page(const std::string& url, std::string& next_token);
  Status check_status(HttpResponse& response);
  void use_server_date(Instant server_now);
  Status handle_record(const ScannedRecord& record);
  Status emit(const ScannedRecord& record, const std::string& event_type,
              Instant updated, const std::string& key, std::string event_id);
  void reject(const ScannedRecord& record, const std::string& reason);
  Result<Instant> parse_date(const ScannedRecord& record, std::size_t index,
                             const DateField& field);
  std::string page_context() const {
    return "page " + std::to_string(page_number_);
  }

  const InstanceConfig& instance_;
  const ResourceConfig& resource_;
  EventStore& store_;
  const PollOptions& options_;
  const Clock& clock_;
  Logger& logger_;
  const StreamState& state_;
  const Instant window_start_;
  Instant poll_start_;
  ScanSpec spec_;

  int page_number_ = 0;
  std::size_t page_records_ = 0;
  PollStats stats_;
  std::unordered_set<std::string> keys_this_poll_;
  std::vector<DedupeEntry> keys_;
  std::vector<Event> events_;  // raw text is in spill_
  RawSpill spill_;
  // How long the hub asked to wait before the next page, when it reported
  // its rate limit as exhausted.
  std::optional<std::chrono::milliseconds> pause_before_next_;
};

Status ResourcePoll::fetch_all_pages() {
  const std::string first_url = join_url(
      options_.base_url,
      resource_.url.expand(ExpansionTimes{window_start_, poll_start_}));
  std::unordered_set<std::string> tokens_seen;
  std::string token;
  while (true) {
    ++page_number_;
    if (page_number_ > options_.max_pages) {
      return make_error(ErrorKind::kPayload,
                        "more than " + std::to_string(options_.max_pages) +
                            " pages (raise --max-pages if the hub really "
                            "has that many)");
    }
    std::string url = add_query_parameter(first_url, "pageSize",
                                          std::to_string(resource_.page_size));
    if (!token.empty()) url = add_query_parameter(url, "nextPage", token);

    std::string next_token;
    Status status = fetch_page(url, next_token);
    if (!status) {
      return make_error(status.error().kind,
                        page_context() + ": " + status.error().message);
    }
    if (next_token.empty() || page_records_ == 0) return {};
    if (!tokens_seen.insert(next_token).second) {
      return make_error(ErrorKind::kPayload,
                        "the hub returned next-page token \"" + next_token +
                            "\" a second time; paging would loop");
    }
    token = std::move(next_token);
    if (pause_before_next_) {
      if (*pause_before_next_ > options_.fetch.max_wait) {
        return make_error(ErrorKind::kRateLimited,
                          page_context() +
                              ": the hub's rate limit is exhausted and "
                              "resets later than --max-wait " +
                              std::to_string(options_.fetch.max_wait.count()) +
                              " s; skipped until the next cycle");
      }
      logger_.info(resource_.name + " " + page_context() +
                   ": rate limit exhausted, waiting for its reset");
      options_.wait(*pause_before_next_);
      pause_before_next_.reset();
    }
  }
}

Status ResourcePoll::fetch_page(const std::string& url,
                                std::string& next_token) {
  HttpRequest request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  if (!options_.authorization.empty()) {
    request.headers.emplace_back("Authorization", options_.authorization);
  }
  auto response = send_with_retries(request, options_.limits, options_.fetch,
                                    clock_, options_.wait, logger_,
                                    resource_.name + " " + page_context());
  if (!response) return response.error();
  Status status = check_status(**response);
  if (!status) return status;
  if ((*response)->header("x-rate-limit-remaining") == std::string("0")) {
    pause_before_next_ = rate_limit_pause(**response, clock_.now())
                             .value_or(std::chrono::milliseconds(0));
  }

  // Only the first page's Date: every page belongs to the same poll.
  if (page_number_ == 1) {
    if (auto date = (*response)->header("Date")) {
      if (auto server_now = parse_http_date(*date))
        use_server_date(*server_now);
    }
  }
  if (auto token = (*response)->header("elements-next-page-token")) {
    next_token = *token;
  }
  if (auto has_more = (*response)->header("elements-has-more")) {
    if (*has_more == "false") next_token.clear();
  }

  page_records_ = 0;
  HttpResponse& body = **response;
  const ChunkSource source = [&body]() { return body.next_chunk(); };
  return scan_records(spec_, source, [this](const ScannedRecord& record) {
    ++page_records_;
    return handle_record(record);
  });
}

void ResourcePoll::use_server_date(Instant server_now) {
  // A clock a day off is broken, not skewed: trusting it would date the
  // watermark and notifications years away and lose records.
  const auto skew = server_now > poll_start_ ? server_now - poll_start_
                                             : poll_start_ - server_now;
  if (skew > kMaxServerClockSkew) {
    logger_.warning(resource_.name + " " + page_context() +
                    ": ignoring the hub's Date " + format_iso8601(server_now) +
                    ", more than a day from the local clock");
    return;
  }
  poll_start_ = server_now;
}

Status ResourcePoll::check_status(HttpResponse& response) {
  const int code = response.status();
  if (code == 204) {
    return make_error(ErrorKind::kPayload,
                      "HTTP 204 from " + response.origin() +
                          ": no body where a page of records was expected");
  }
  if (code >= 200 && code < 300) return {};
  // Read past the preview so a secret cut at its end is still found.
  auto body = response.read_body(kErrorBodyPreview + 4096);
  const std::string preview =
      body ? printable_preview(redact(*body, options_.secrets),
                               kErrorBodyPreview)
           : "(body unreadable)";
  const ErrorKind kind =
      code == 429 ? ErrorKind::kRateLimited : ErrorKind::kHttpStatus;
  return make_error(kind, "HTTP " + std::to_string(code) + " from " +
                              response.origin() + ": " + preview);
}

Result<Instant> ResourcePoll::parse_date(const ScannedRecord& record,
                                         std::size_t index,
                                         const DateField& field) {
  const std::optional<std::string>& value = record.values[index];
  if (!value) {
    return make_error(ErrorKind::kPayload,
                      "date field \"" + field.path + "\" is missing");
  }
  auto parsed = field.pattern.parse(*value, field.zone);
  if (!parsed) {
    // The pattern's message names the value, the pattern and the column.
    return make_error(ErrorKind::kPayload,
                      field.path + ": " + parsed.error().message);
  }
  return *parsed;
}

Status ResourcePoll::handle_record(const ScannedRecord& record) {
  ++stats_.fetched;
  if (record.id.empty()) {
    reject(record, record.id_problem);
    return {};
  }
  Instant updated = poll_start_;
  Instant created = poll_start_;
  if (resource_.updated_date) {
    auto date = parse_date(record, 0, *resource_.updated_date);
    if (!date) {
      reject(record, date.error().message);
      return {};
    }
    updated = *date;
  }
  if (resource_.created_date) {
    auto date = parse_date(record, 1, *resource_.created_date);
    if (!date) {
      reject(record, date.error().message);
      return {};
    }
    created = *date;
  }

  // Records dated after the poll started belong to the next poll.
  if (resource_.filter_by_current_date && updated > poll_start_) return {};

  const auto difference =
      updated > created ? updated - created : created - updated;
  const bool is_created = difference <= resource_.created_check_tolerance;
  const std::string type = is_created ? "CREATED" : "UPDATED";
  std::string key =
      is_created ? "c:" + record.id
                 : "u:" + record.id + "@" +
                       std::to_string(updated.time_since_epoch().count());
  if (!keys_this_poll_.insert(key).second) return {};

  auto known = store_.find_key(state_.stream_key, key);
  if (!known) return known.error();
  if (*known == KeyState::kEmitted) return {};

  const bool in_window =
      !resource_.filter_by_updated_date || updated >= window_start_;
  if (!in_window) {
    // Remembered as seen, so a later poll never emits it as new, unless it
    // is so old that pruning would drop the key at once anyway.
    if (*known == KeyState::kAbsent &&
        updated >= window_start_ - options_.key_retention) {
      keys_.push_back(DedupeEntry{std::move(key), updated, false});
    }
    return {};
  }

  // A record whose key was pruned while the hub kept returning it comes
  // here again; the commit skips its event, which is still stored.
  return emit(record, type, updated, key,
              make_event_id(instance_.instance_id, resource_.name, record.id,
                            type, updated));
}

Status ResourcePoll::emit(const ScannedRecord& record,
                          const std::string& event_type, Instant updated,
                          const std::string& key, std::string event_id) {
  Event event;
  event.event_id = std::move(event_id);
  event.resource = resource_.name;
  event.instance_id = instance_.instance_id;
  event.object_id = record.id;
  event.event_type = event_type;
  event.date = updated;
  event.poll_date = poll_start_;
  // Events go out one per line, so only a record with line breaks is
  // compacted; one already on a single line is stored as fetched.
  const bool single_line =
      record.raw.find_first_of("\r\n") == std::string_view::npos;
  Status spilled = single_line ? spill_.append(record.raw)
                               : spill_.append(compact_json(record.raw));
  if (!spilled) return spilled;
  events_.push_back(std::move(event));
  // Dated by the poll, not the record, so a key lives for the retention
  // after its event even when the record itself is old.
  keys_.push_back(DedupeEntry{key, std::max(updated, poll_start_), true});
  ++stats_.emitted;
  return {};
}

void ResourcePoll::reject(const ScannedRecord& record,
                          const std::string& reason) {
  ++stats_.rejected;
  if (stats_.last_reject_reason.empty()) {
    stats_.last_reject_reason = page_context() + " record " +
                                std::to_string(record.index + 1) + ": " +
                                reason;
  }
}

PollCommit ResourcePoll::take_commit() {
  PollCommit commit;
  commit.stream_key = state_.stream_key;
  commit.poll_start = poll_start_;
  commit.window_start = window_start_;
  commit.keys = std::move(keys_);
  commit.events = std::move(events_);
  commit.sink = options_.sink;
  commit.stats = stats_;
  commit.load_raw = [this](std::size_t index, std::string& raw) {
    return spill_.read(index, raw);
  };
  for (Event& event : commit.events) event.poll_date = poll_start_;
  return commit;
}

}  // namespace

Poller::Poller(const InstanceConfig& instance, EventStore& store,
               const Clock& clock, Logger& logger, PollOptions options)
    : instance_(instance),
      store_(store),
      clock_(clock),
      logger_(logger),
      options_(std::move(options)) {}

PollResult Poller::poll(const ResourceConfig& resource) {
  PollResult result;
  result.resource = resource.name;
  result.poll_start = clock_.now();

  auto state = store_.stream(StreamId{instance_.instance_id, resource.name});
  if (!state) {
    result.error = state.error().message;
    logger_.error(resource.name + ": " + result.error);
    return result;
  }
  if (options_.since) {
    result.window_start = *options_.since;
  } else if (state->watermark) {
    result.window_start =
        *state->watermark - resource.poll_delay - options_.overlap;
  } else {
    result.window_start =
        result.poll_start - instance_.refresh_interval - resource.poll_delay;
  }

  ResourcePoll poll(instance_, resource, store_, options_, clock_, logger_,
                    *state, result.window_start, result.poll_start);
  Status status = poll.fetch_all_pages();
  result.stats = poll.stats();
  result.poll_start = poll.poll_start();
  if (status) {
    fault_point("before-commit");
    auto stored = store_.commit_poll(poll.take_commit());
    if (stored) {
      result.stats.emitted = *stored;
    } else {
      status = stored.error();
    }
    fault_point("after-commit");
  }
  if (!status) {
    result.error = status.error().message;
    result.rate_limited = status.error().kind == ErrorKind::kRateLimited;
    result.stats.emitted = 0;
    if (result.rate_limited) {
      logger_.warning(resource.name + ": " + result.error);
    } else {
      logger_.error(resource.name +
                    ": poll failed, nothing committed: " + result.error);
    }
    Status recorded = store_.record_failure(
        state->stream_key, result.poll_start, result.error, result.stats);
    if (!recorded) {
      logger_.error(resource.name + ": " + recorded.error().message);
    }
    return result;
  }
  result.ok = true;
  if (result.stats.rejected > 0) {
    logger_.warning(resource.name + ": rejected " +
                    std::to_string(result.stats.rejected) +
                    " record(s); first: " + result.stats.last_reject_reason);
  }
  logger_.info(resource.name + ": fetched " +
               std::to_string(result.stats.fetched) + ", new events " +
               std::to_string(result.stats.emitted) + ", rejected " +
               std::to_string(result.stats.rejected));
  return result;
}

}  // namespace hubpoll
