#include "poller/status.h"

#include "poller/json_util.h"

namespace hubpoll {
namespace {

std::string instant_text(const std::optional<Instant>& instant,
                         const char* absent) {
  return instant ? format_iso8601(*instant) : absent;
}

void append_json_instant(std::string& out, const std::optional<Instant>& at) {
  if (at) {
    append_json_string(out, format_iso8601(*at));
  } else {
    out += "null";
  }
}

void append_resource_text(std::string& out, const ResourceStatus& resource) {
  const StreamState& state = resource.stream.state;
  const PollStats& stats = state.last_stats;
  out += resource.stream.id.resource + " (instance " +
         resource.stream.id.instance_id + ")\n";
  out += "  last poll:     " + instant_text(state.last_poll, "never");
  if (state.last_poll) {
    out +=
        state.last_result == "ok" ? ", ok" : ", failed: " + state.last_result;
  }
  out += "\n  last success:  " + instant_text(state.watermark, "never");
  out += "\n  window start:  " + instant_text(state.window_start, "none");
  out += "\n  last counts:   fetched " + std::to_string(stats.fetched) +
         ", emitted " + std::to_string(stats.emitted) + ", rejected " +
         std::to_string(stats.rejected);
  if (!stats.last_reject_reason.empty()) {
    out += " (last reason: " + stats.last_reject_reason + ")";
  }
  out += "\n  notifications: " +
         std::to_string(resource.stream.pending_notifications) + " pending, " +
         std::to_string(resource.stream.dead_notifications) + " dead";
  out += "\n  next poll due: " +
         instant_text(resource.next_poll_due, "at the next run") + "\n";
}

void append_resource_json(std::string& out, const ResourceStatus& resource) {
  const StreamState& state = resource.stream.state;
  const PollStats& stats = state.last_stats;
  out += "{\"instanceId\":";
  append_json_string(out, resource.stream.id.instance_id);
  out += ",\"resource\":";
  append_json_string(out, resource.stream.id.resource);
  out += ",\"lastPoll\":";
  append_json_instant(out, state.last_poll);
  out += ",\"lastResult\":";
  append_json_string(out, state.last_result);
  out += ",\"lastSuccess\":";
  append_json_instant(out, state.watermark);
  out += ",\"windowStart\":";
  append_json_instant(out, state.window_start);
  out += ",\"fetched\":" + std::to_string(stats.fetched);
  out += ",\"emitted\":" + std::to_string(stats.emitted);
  out += ",\"rejected\":" + std::to_string(stats.rejected);
  out += ",\"lastRejectReason\":";
  append_json_string(out, stats.last_reject_reason);
  out += ",\"pendingNotifications\":" +
         std::to_string(resource.stream.pending_notifications);
  out += ",\"deadNotifications\":" +
         std::to_string(resource.stream.dead_notifications);
  out += ",\"nextPollDue\":";
  append_json_instant(out, resource.next_poll_due);
  out += "}";
}

}  // namespace

std::vector<ResourceStatus> build_status(
    std::vector<EventStore::StreamSummary> streams,
    std::chrono::minutes refresh_interval) {
  std::vector<ResourceStatus> resources;
  resources.reserve(streams.size());
  for (EventStore::StreamSummary& stream : streams) {
    ResourceStatus resource;
    if (stream.state.last_poll) {
      resource.next_poll_due = *stream.state.last_poll + refresh_interval;
    }
    resource.stream = std::move(stream);
    resources.push_back(std::move(resource));
  }
  return resources;
}

std::string format_status_text(const std::vector<ResourceStatus>& resources) {
  if (resources.empty()) return "no resource has been polled yet\n";
  std::string out;
  for (std::size_t i = 0; i < resources.size(); ++i) {
    if (i > 0) out += '\n';
    append_resource_text(out, resources[i]);
  }
  return out;
}

std::string format_status_json(const std::vector<ResourceStatus>& resources) {
  std::string out = "{\"resources\":[";
  for (std::size_t i = 0; i < resources.size(); ++i) {
    if (i > 0) out += ',';
    append_resource_json(out, resources[i]);
  }
  out += "]}\n";
  return out;
}

}  // namespace hubpoll
