// Named places where crash tests kill the process, to prove that a run
// killed anywhere loses nothing.
#pragma once

namespace hubpoll {

// Kills the process with SIGKILL when the environment variable
// HUBPOLL_FAULT_POINT equals `name`. Does nothing in builds without
// HUBPOLL_FAULT_POINTS, which is on when tests are built.
//
// Points: before-commit (a poll fetched everything, nothing committed),
// after-commit (events committed, none delivered), after-print (stdout
// events written, not yet marked delivered), after-post (a webhook
// notification accepted, not yet marked delivered).
void fault_point(const char* name);

}  // namespace hubpoll
