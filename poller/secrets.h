// Credentials from the environment, and their removal from any text that
// leaves the process.
#pragma once

#include <string>
#include <vector>

namespace hubpoll {

// The Cloud Elements credentials, read from HUBPOLL_USER_SECRET,
// HUBPOLL_ORGANIZATION_SECRET and HUBPOLL_ELEMENT_TOKEN.
struct Credentials {
  std::string user;
  std::string organization;
  std::string element;

  // `User <u>, Organization <o>, Element <t>`, or empty when none is set.
  std::string authorization() const;

  // The non-empty values, for redact().
  std::vector<std::string> values() const;
};

Credentials credentials_from_environment();

// Replaces every occurrence of each non-empty secret in `text` with
// `[redacted]`. For error bodies a hub or receiver echoes back.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace hubpoll
