// Delivery of queued notifications to stdout or to the webhook callback,
// at least once and in order per resource.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "poller/config.h"
#include "poller/http_client.h"
#include "poller/log.h"
#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

struct DeliveryOptions {
  // Failed attempts wait 4^n seconds after the n-th failure, at most this.
  std::chrono::seconds max_backoff{3600};
  // Retries after the first attempt before a notification is dead.
  int max_retries = 9;
  HttpLimits limits{std::chrono::milliseconds(10'000),
                    std::chrono::milliseconds(30'000)};
};

struct DeliveryReport {
  int delivered = 0;
  int retrying = 0;  // failed, to be retried later
  int dead = 0;      // failed for good by this call
};

// The header that carries the notification id, the same on every retry.
inline constexpr const char* kNotificationIdHeader = "Elements-Notification-Id";
inline constexpr const char* kSignatureHeader = "Elements-Webhook-Signature";
// Set to "true" on notifications that `hubpoll replay` made.
inline constexpr const char* kReplayHeader = "Elements-Replay";

// The outbox sink of replayed webhook notifications. Live delivery reads only
// the "webhook" sink, so replays never pass for new events and never hold up
// a stream's live notifications.
inline constexpr const char* kWebhookReplaySink = "webhook-replay";

// The webhook body of a notification, in the Cloud Elements shape:
// {"message": {elementKey, instanceId, instanceName, notificationId,
// pollDate, events: [...], raw: {RESOURCE: [records]}}}. The same
// notification always gives the same bytes.
std::string build_webhook_body(const Notification& notification,
                               const InstanceConfig& instance);

// `sha256=` and the base64 HMAC-SHA256 of `body` under `key`.
std::string sign_webhook_body(std::string_view body, std::string_view key);

// The wait after the `failures`-th failed attempt: 4^failures seconds,
// capped by `max_backoff`.
std::chrono::seconds retry_delay(int failures,
                                 std::chrono::seconds max_backoff);

// Delivers due notifications of one instance. Each notification is tried
// at most once per call, and a stream whose oldest notification failed is
// left alone until the next call, so its events never overtake each other.
class Deliverer {
 public:
  // All references must outlive the Deliverer.
  Deliverer(const InstanceConfig& instance, EventStore& store,
            const Clock& clock, Logger& logger, DeliveryOptions options);

  // Prints due stdout notifications as JSON lines, one event a line.
  Result<DeliveryReport> deliver_to_stdout();

  // POSTs due webhook notifications to the instance's callback URL.
  Result<DeliveryReport> deliver_to_webhook();

  // POSTs due replayed notifications (sink kWebhookReplaySink) to the
  // callback URL, with the header `Elements-Replay: true`.
  Result<DeliveryReport> deliver_replays_to_webhook();

 private:
  Result<DeliveryReport> deliver_sink_to_webhook(const std::string& sink);
  Status post(const Notification& notification, DeliveryReport& report);

  const InstanceConfig& instance_;
  EventStore& store_;
  const Clock& clock_;
  Logger& logger_;
  DeliveryOptions options_;
};

}  // namespace hubpoll
