#include "poller/log.h"

#include "poller/json_util.h"
#include "poller/time_types.h"

namespace hubpoll {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

void StreamLogger::write(LogLevel level, std::string_view message) {
  if (level < min_level_) return;
  const std::string time = format_iso8601(SystemClock().now());
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = "{\"time\":";
    append_json_string(line, time);
    line += ",\"level\":";
    append_json_string(line, log_level_name(level));
    line += ",\"message\":";
    append_json_string(line, message);
    line += "}\n";
  } else {
    line = time + " " + log_level_name(level) + " ";
    line.append(message);
    line += '\n';
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stream_);
  std::fflush(stream_);
}

}  // namespace hubpoll
