#include "poller/secrets.h"

#include <catch2/catch.hpp>

namespace hubpoll {
namespace {

TEST_CASE("redact replaces every occurrence of each secret", "[secrets]") {
  CHECK(redact("a key1 b key1 c key2", {"key1", "key2"}) ==
        "a [redacted] b [redacted] c [redacted]");
  CHECK(redact("nothing here", {"key"}) == "nothing here");
  CHECK(redact("empty secrets stay", {""}) == "empty secrets stay");
  // A secret that contains the mark itself cannot loop forever.
  CHECK(redact("x[redacted]x", {"[redacted]"}) == "x[redacted]x");
}

TEST_CASE("credentials make the Cloud Elements header", "[secrets]") {
  const Credentials none;
  CHECK(none.authorization().empty());
  CHECK(none.values().empty());
  const Credentials some{"u", "", "t"};
  CHECK(some.authorization() == "User u, Organization , Element t");
  CHECK(some.values() == std::vector<std::string>{"u", "t"});
}

}  // namespace
}  // namespace hubpoll
