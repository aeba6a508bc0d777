#include "poller/fault_point.h"

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace hubpoll {

void fault_point([[maybe_unused]] const char* name) {
#ifdef HUBPOLL_FAULT_POINTS
  const char* wanted = std::getenv("HUBPOLL_FAULT_POINT");
  if (wanted != nullptr && std::strcmp(wanted, name) == 0) {
    std::raise(SIGKILL);
  }
#endif
}

}  // namespace hubpoll
