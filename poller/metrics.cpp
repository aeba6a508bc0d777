#include "poller/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace hubpoll {
namespace {

// Escapes a label value as the text format requires: backslash, double
// quote and line feed.
std::string escape_label(std::string_view value) {
  std::string escaped;
  for (const char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

void append_header(std::string& out, const char* name, const char* type,
                   const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, const char* name, const char* label,
                   std::string_view value_of_label, const std::string& value,
                   const char* extra_label = nullptr,
                   const char* extra_value = nullptr) {
  out += name;
  out += '{';
  out += label;
  out += "=\"";
  out += escape_label(value_of_label);
  out += '"';
  if (extra_label != nullptr) {
    out += ',';
    out += extra_label;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += "} ";
  out += value;
  out += '\n';
}

std::string seconds_text(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f",
                static_cast<double>(duration.count()) / 1000.0);
  return text;
}

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorKind::kIo,
                    what + " " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    const ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return io_error("writing", path);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

}  // namespace

void RunMetrics::set_last_success(const std::string& resource,
                                  Instant poll_start) {
  std::lock_guard<std::mutex> lock(mutex_);
  resources_[resource].last_success = poll_start;
}

void RunMetrics::record_poll(const std::string& resource, bool ok,
                             const PollStats& stats,
                             std::chrono::milliseconds duration,
                             Instant poll_start) {
  std::lock_guard<std::mutex> lock(mutex_);
  ResourceMetrics& metrics = resources_[resource];
  if (ok) {
    ++metrics.polls_ok;
    metrics.events_emitted += stats.emitted;
    metrics.last_success = poll_start;
  } else {
    ++metrics.polls_failed;
  }
  metrics.records_rejected += stats.rejected;
  metrics.last_duration = duration;
}

void RunMetrics::record_delivery(const std::string& sink,
                                 const DeliveryReport& report) {
  std::lock_guard<std::mutex> lock(mutex_);
  SinkMetrics& metrics = sinks_[sink];
  metrics.delivered += report.delivered;
  metrics.failed += report.retrying + report.dead;
}

std::string RunMetrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;

  append_header(out, "hubpoll_polls_total", "counter",
                "Polls finished by this process, by resource and result.");
  for (const auto& [resource, metrics] : resources_) {
    append_sample(out, "hubpoll_polls_total", "resource", resource,
                  std::to_string(metrics.polls_ok), "result", "ok");
    append_sample(out, "hubpoll_polls_total", "resource", resource,
                  std::to_string(metrics.polls_failed), "result", "error");
  }

  append_header(out, "hubpoll_events_emitted_total", "counter",
                "New events committed by this process's polls.");
  for (const auto& [resource, metrics] : resources_) {
    append_sample(out, "hubpoll_events_emitted_total", "resource", resource,
                  std::to_string(metrics.events_emitted));
  }

  append_header(out, "hubpoll_records_rejected_total", "counter",
                "Records without an id or with a date that did not parse.");
  for (const auto& [resource, metrics] : resources_) {
    append_sample(out, "hubpoll_records_rejected_total", "resource", resource,
                  std::to_string(metrics.records_rejected));
  }

  append_header(out, "hubpoll_last_poll_duration_seconds", "gauge",
                "Wall time of the resource's last poll, fetch and commit.");
  for (const auto& [resource, metrics] : resources_) {
    if (!metrics.last_duration) continue;
    append_sample(out, "hubpoll_last_poll_duration_seconds", "resource",
                  resource, seconds_text(*metrics.last_duration));
  }

  append_header(out, "hubpoll_last_success_timestamp_seconds", "gauge",
                "Start of the resource's last successful poll, in Unix "
                "seconds.");
  for (const auto& [resource, metrics] : resources_) {
    if (!metrics.last_success) continue;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
        metrics.last_success->time_since_epoch());
    append_sample(out, "hubpoll_last_success_timestamp_seconds", "resource",
                  resource, std::to_string(seconds.count()));
  }

  append_header(out, "hubpoll_notifications_delivered_total", "counter",
                "Notifications delivered by this process, by sink.");
  for (const auto& [sink, metrics] : sinks_) {
    append_sample(out, "hubpoll_notifications_delivered_total", "sink", sink,
                  std::to_string(metrics.delivered));
  }

  append_header(out, "hubpoll_delivery_failures_total", "counter",
                "Failed delivery attempts by this process, by sink.");
  for (const auto& [sink, metrics] : sinks_) {
    append_sample(out, "hubpoll_delivery_failures_total", "sink", sink,
                  std::to_string(metrics.failed));
  }
  return out;
}

Status write_file_atomically(const std::string& path,
                             std::string_view contents) {
  const std::filesystem::path target(path);
  std::filesystem::path folder = target.parent_path();
  if (folder.empty()) folder = ".";
  // A leading dot and no .prom suffix keep the textfile collector from
  // reading the file while it is being written.
  const std::string temporary =
      (folder / ("." + target.filename().string() + "." +
                 std::to_string(::getpid()) + ".tmp"))
          .string();

  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("creating", temporary);
  // fchmod, because the process's umask may have narrowed the mode.
  Status status;
  if (::fchmod(fd, 0644) != 0)
    status = io_error("setting the mode of", temporary);
  if (status) status = write_all(fd, contents, temporary);
  if (status && ::fsync(fd) != 0) status = io_error("flushing", temporary);
  if (::close(fd) != 0 && status) status = io_error("closing", temporary);
  if (status && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status = io_error("renaming " + temporary + " to", path);
  }
  if (!status) {
    ::unlink(temporary.c_str());
    return status;
  }

  // The rename is durable only once the folder itself is flushed.
  const int folder_fd =
      ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
  return {};
}

}  // namespace hubpoll
