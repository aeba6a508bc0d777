#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace hubpoll::testing {

HttpTestServer::~HttpTestServer() { stop(); }

void HttpTestServer::start() {
  const int port = server_.bind_to_any_port("127.0.0.1");
  if (port <= 0) throw std::runtime_error("test server cannot bind");
  port_ = static_cast<std::uint16_t>(port);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

void HttpTestServer::stop() {
  if (thread_.joinable()) {
    // stop() before listening has begun would be lost and leave the
    // thread listening forever.
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }
}

std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find an unused port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace hubpoll::testing
