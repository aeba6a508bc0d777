#include <cstdio>
#include <exception>

#include "poller/cli.h"

int main(int argc, char** argv) {
  try {
    return hubpoll::run_cli(argc, argv);
  } catch (const std::exception& error) {
    // Expected failures are values; reaching here is a bug.
    std::fprintf(stderr, "hubpoll: internal error: %s\n", error.what());
    return hubpoll::kExitFailure;
  }
}
