// Serves the JSON pages of one folder on 127.0.0.1 for the benchmarks.
//
// GET /NAME and GET /NAME/anything?query return the bytes of
// ROOT/NAME.json, so a poller with base URL http://127.0.0.1:PORT/NAME
// reads that page whatever resource path and query it adds. Responses carry
// no paging header, so a poll ends after one page, and are never
// compressed. Pages are read into memory at start, so serving does no disk
// I/O. Prints the base URL `http://127.0.0.1:PORT` on stdout once listening
// and serves until killed.
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace {

constexpr std::size_t kWriteBytes = 1 << 16;

using Pages = std::map<std::string, std::shared_ptr<const std::string>>;

// Reads every ROOT/*.json file, keyed by its name without the extension.
Pages load_pages(const std::filesystem::path& root) {
  Pages pages;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") {
      continue;
    }
    std::ifstream file(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    pages[entry.path().stem().string()] =
        std::make_shared<const std::string>(bytes.str());
  }
  return pages;
}

// The page name: the first segment of the request path.
std::string page_name(const std::string& path) {
  const std::size_t begin = path.find_first_not_of('/');
  if (begin == std::string::npos) return {};
  return path.substr(begin, path.find('/', begin) - begin);
}

void serve_page(const Pages& pages, const httplib::Request& request,
                httplib::Response& response) {
  const auto found = pages.find(page_name(request.path));
  if (found == pages.end()) {
    response.status = 404;
    response.set_content("no page for " + request.path + "\n", "text/plain");
    return;
  }
  // The provider writes straight from the loaded page, so a 160 MB page is
  // not copied per request.
  std::shared_ptr<const std::string> page = found->second;
  response.set_content_provider(
      page->size(), "application/json",
      [page](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        return sink.write(page->data() + offset, std::min(length, kWriteBytes));
      });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hubpoll_bench_page_server ROOT\n");
    return 2;
  }
  const Pages pages = load_pages(argv[1]);
  if (pages.empty()) {
    std::fprintf(stderr, "no *.json pages in %s\n", argv[1]);
    return 1;
  }

  httplib::Server server;
  // cpp-httplib 0.11 sets SO_REUSEPORT by default, which would let another
  // process share the port; SO_REUSEADDR alone is enough here.
  server.set_socket_options([](socket_t socket) {
    const int enable = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
  });
  server.Get(".*", [&pages](const httplib::Request& request,
                            httplib::Response& response) {
    serve_page(pages, request, response);
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port < 0) {
    std::fprintf(stderr, "binding 127.0.0.1 failed\n");
    return 1;
  }
  std::printf("http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
