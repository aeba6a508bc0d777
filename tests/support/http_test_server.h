// An HTTP server on 127.0.0.1 with an ephemeral port for tests that need a
// hub or a receiver that behaves in a particular way.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <thread>

namespace hubpoll::testing {

// Serves the handlers registered on server() from a background thread.
// Register handlers before start(); stop() or the destructor joins.
class HttpTestServer {
 public:
  HttpTestServer() = default;
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  httplib::Server& server() { return server_; }

  // Binds a free port and starts serving; requests succeed on return.
  void start();
  void stop();

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// A port on 127.0.0.1 that nothing listens on: bound, then closed.
std::uint16_t unused_port();

}  // namespace hubpoll::testing
