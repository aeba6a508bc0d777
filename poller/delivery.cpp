#include "poller/delivery.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <set>

#include "poller/event.h"
#include "poller/fault_point.h"
#include "poller/json_util.h"
#include "poller/secrets.h"

namespace hubpoll {
namespace {

constexpr std::size_t kBatch = 100;
constexpr std::size_t kErrorBodyPreview = 200;

void append_member(std::string& out, const char* name, std::string_view value,
                   bool first = false) {
  out += first ? "\"" : ",\"";
  out += name;
  out += "\":";
  append_json_string(out, value);
}

bool is_retryable_status(int status) {
  return status == 408 || status == 429 || status < 400 || status >= 500;
}

// The outcome of one POST: a status when a response arrived, else the
// transport error.
struct PostOutcome {
  int status = 0;
  std::string error;
};

PostOutcome post_body(const std::string& url, const std::string& body,
                      const HttpHeaders& headers, const HttpLimits& limits,
                      const std::string& signature_key) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = headers;
  request.body = body;
  auto response = send_request(request, limits);
  if (!response) return PostOutcome{0, response.error().message};
  PostOutcome outcome;
  outcome.status = (*response)->status();
  if (outcome.status < 200 || outcome.status >= 300) {
    // Read past the preview so a key cut at its end is still found.
    auto text = (*response)->read_body(kErrorBodyPreview + 4096);
    outcome.error = "HTTP " + std::to_string(outcome.status) + " from " +
                    (*response)->origin() + ": " +
                    (text ? printable_preview(redact(*text, {signature_key}),
                                              kErrorBodyPreview)
                          : text.error().message);
  }
  return outcome;
}

}  // namespace

std::string build_webhook_body(const Notification& notification,
                               const InstanceConfig& instance) {
  std::string body = "{\"message\":{";
  append_member(body, "elementKey", instance.element_key, true);
  append_member(body, "instanceId", notification.instance_id);
  append_member(body, "instanceName", instance.name);
  append_member(body, "notificationId", notification.notification_id);
  append_member(body, "pollDate", format_iso8601(notification.created));
  body += ",\"events\":[";
  for (std::size_t i = 0; i < notification.events.size(); ++i) {
    const Event& event = notification.events[i];
    body += i == 0 ? "{" : ",{";
    append_member(body, "eventId", event.event_id, true);
    append_member(body, "elementKey", instance.element_key);
    append_member(body, "objectType", notification.resource);
    append_member(body, "objectId", event.object_id);
    append_member(body, "eventType", event.event_type);
    append_member(body, "date", format_iso8601(event.date));
    body += "}";
  }
  body += "],\"raw\":{";
  append_json_string(body, notification.resource);
  body += ":[";
  for (std::size_t i = 0; i < notification.events.size(); ++i) {
    if (i > 0) body += ",";
    body += notification.events[i].raw;
  }
  body += "]}}}";
  return body;
}

std::string sign_webhook_body(std::string_view body, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest,
       &digest_length);
  std::string encoded(4 * ((digest_length + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest,
                  static_cast<int>(digest_length));
  return "sha256=" + encoded;
}

std::chrono::seconds retry_delay(int failures,
                                 std::chrono::seconds max_backoff) {
  std::int64_t seconds = 1;
  for (int i = 0; i < failures && seconds < max_backoff.count(); ++i) {
    seconds *= 4;
  }
  return std::min(std::chrono::seconds(seconds), max_backoff);
}

Deliverer::Deliverer(const InstanceConfig& instance, EventStore& store,
                     const Clock& clock, Logger& logger,
                     DeliveryOptions options)
    : instance_(instance),
      store_(store),
      clock_(clock),
      logger_(logger),
      options_(std::move(options)) {}

Result<DeliveryReport> Deliverer::deliver_to_stdout() {
  DeliveryReport report;
  while (true) {
    auto due = store_.due_notifications("stdout", clock_.now(), kBatch);
    if (!due) return due.error();
    if (due->empty()) return report;
    std::string lines;
    std::vector<std::int64_t> printed;
    for (const Notification& notification : *due) {
      for (const Event& event : notification.events) {
        lines += format_event_line(event, instance_.element_key);
        lines += '\n';
      }
      printed.push_back(notification.sequence);
    }
    if (std::fwrite(lines.data(), 1, lines.size(), stdout) != lines.size() ||
        std::fflush(stdout) != 0) {
      return make_error(ErrorKind::kIo, "writing events to stdout failed");
    }
    // A crash before this line prints the events again on the next run.
    fault_point("after-print");
    Status marked = store_.mark_all_delivered(printed, clock_.now(), 0);
    if (!marked) return marked.error();
    report.delivered += static_cast<int>(printed.size());
  }
}

Result<DeliveryReport> Deliverer::deliver_to_webhook() {
  return deliver_sink_to_webhook("webhook");
}

Result<DeliveryReport> Deliverer::deliver_replays_to_webhook() {
  return deliver_sink_to_webhook(kWebhookReplaySink);
}

Result<DeliveryReport> Deliverer::deliver_sink_to_webhook(
    const std::string& sink) {
  DeliveryReport report;
  std::set<std::int64_t> attempted;
  // Streams whose notification failed in this call: their later ones wait
  // for the retry, so a stream's events never overtake each other.
  std::set<std::pair<std::string, std::string>> blocked;
  while (true) {
    auto due = store_.due_notifications(sink, clock_.now(), kBatch);
    if (!due) return due.error();
    bool progressed = false;
    for (const Notification& notification : *due) {
      const auto stream =
          std::make_pair(notification.instance_id, notification.resource);
      if (blocked.count(stream) != 0) continue;
      if (!attempted.insert(notification.sequence).second) continue;
      progressed = true;
      const int retrying_before = report.retrying;
      Status status = post(notification, report);
      if (!status) return status.error();
      if (report.retrying > retrying_before) blocked.insert(stream);
    }
    if (!progressed) break;
  }
  if (report.delivered + report.retrying + report.dead > 0) {
    logger_.info(sink + ": delivered " + std::to_string(report.delivered) +
                 " notification(s), " + std::to_string(report.retrying) +
                 " to retry, " + std::to_string(report.dead) + " dead");
  }
  return report;
}

Status Deliverer::post(const Notification& notification,
                       DeliveryReport& report) {
  const std::string body = build_webhook_body(notification, instance_);
  HttpHeaders headers = {{"Content-Type", "application/json"},
                         {kNotificationIdHeader, notification.notification_id}};
  if (notification.sink == kWebhookReplaySink) {
    headers.emplace_back(kReplayHeader, "true");
  }
  if (!instance_.signature_key.empty()) {
    headers.emplace_back(kSignatureHeader,
                         sign_webhook_body(body, instance_.signature_key));
  }
  const PostOutcome outcome =
      post_body(instance_.callback_url, body, headers, options_.limits,
                instance_.signature_key);
  const Instant now = clock_.now();
  const std::string context = "webhook: notification " +
                              notification.notification_id + " of " +
                              notification.resource;

  if (outcome.status >= 200 && outcome.status < 300) {
    ++report.delivered;
    logger_.debug(context + ": delivered, HTTP " +
                  std::to_string(outcome.status));
    fault_point("after-post");
    return store_.mark_delivered(notification.sequence, now, outcome.status);
  }

  const int failures = notification.attempts + 1;
  const bool retryable =
      outcome.status == 0 || is_retryable_status(outcome.status);
  if (retryable && failures <= options_.max_retries) {
    const auto delay = retry_delay(failures, options_.max_backoff);
    ++report.retrying;
    logger_.warning(context + ": " + outcome.error + " (attempt " +
                    std::to_string(failures) + ", retrying in " +
                    std::to_string(delay.count()) + " s)");
    return store_.mark_failed(notification.sequence, now, outcome.status,
                              outcome.error, now + delay);
  }
  ++report.dead;
  logger_.error(context + ": " + outcome.error + " (attempt " +
                std::to_string(failures) +
                ", dead; `hubpoll deliver --retry-dead` sends it again)");
  return store_.mark_failed(notification.sequence, now, outcome.status,
                            outcome.error, std::nullopt);
}

}  // namespace hubpoll
