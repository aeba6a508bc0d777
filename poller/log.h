// Logging for the engine and the CLI. Libraries write to a Logger passed
// in; only the CLI decides where lines go. Messages never contain secrets.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace hubpoll {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;

  void debug(std::string_view message) { write(LogLevel::kDebug, message); }
  void info(std::string_view message) { write(LogLevel::kInfo, message); }
  void warning(std::string_view message) { write(LogLevel::kWarning, message); }
  void error(std::string_view message) { write(LogLevel::kError, message); }
};

// Writes one line per message to a stdio stream (stderr in the CLI), as
// `2026-01-02T03:04:05Z INFO message` or a JSON object. Thread-safe.
class StreamLogger final : public Logger {
 public:
  StreamLogger(std::FILE* stream, LogFormat format, LogLevel min_level)
      : stream_(stream), format_(format), min_level_(min_level) {}

  void write(LogLevel level, std::string_view message) override;

 private:
  std::FILE* stream_;
  LogFormat format_;
  LogLevel min_level_;
  std::mutex mutex_;
};

const char* log_level_name(LogLevel level);

}  // namespace hubpoll
