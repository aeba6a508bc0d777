#include "poller/secrets.h"

#include <cstdlib>

namespace hubpoll {
namespace {

std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string Credentials::authorization() const {
  if (user.empty() && organization.empty() && element.empty()) return {};
  return "User " + user + ", Organization " + organization + ", Element " +
         element;
}

std::vector<std::string> Credentials::values() const {
  std::vector<std::string> secrets;
  for (const std::string* value : {&user, &organization, &element}) {
    if (!value->empty()) secrets.push_back(*value);
  }
  return secrets;
}

Credentials credentials_from_environment() {
  return Credentials{environment_value("HUBPOLL_USER_SECRET"),
                     environment_value("HUBPOLL_ORGANIZATION_SECRET"),
                     environment_value("HUBPOLL_ELEMENT_TOKEN")};
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  static constexpr std::string_view kMark = "[redacted]";
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kMark.size())) {
      text.replace(at, secret.size(), kMark);
    }
  }
  return text;
}

}  // namespace hubpoll
