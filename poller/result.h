// Error values for expected failures. Exceptions are reserved for programmer
// errors and are caught in main.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hubpoll {

enum class ErrorKind {
  kInvalidArgument,  // bad user input: a pattern, a value, an option
  kConfig,           // a configuration file is missing, malformed or invalid
  kTransport,        // connection refused, DNS, TLS, reset, redirect refused
  kTimeout,          // connect, whole-request or low-speed limit reached
  kHttpStatus,       // the server responded with a non-2xx status
  kRateLimited,      // 429 or an exhausted rate limit
  kPayload,          // the body is not what the configuration expects
  kStore,            // SQLite failed
  kLocked,           // another process has locked the store
  kIo,               // a local file could not be read or written
};

struct Error {
  ErrorKind kind;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

// A value or the Error that prevented it.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok(). On a temporary Result the value is moved out, so a
  // range-for over `*make_result()` never refers to a destroyed Result.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }

  // REQUIRES: !ok().
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success, or the Error that prevented it.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

  // REQUIRES: !ok().
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::kInvalidArgument, {}};
  bool ok_ = true;
};

}  // namespace hubpoll
