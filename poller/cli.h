// The hubpoll command line.
#pragma once

namespace hubpoll {

// Exit codes shared by every command.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // a resource or a delivery failed
  kExitUsage = 2,        // usage or configuration error
  kExitStoreLocked = 75  // another run has locked the store (EX_TEMPFAIL)
};

// Parses the arguments, runs the command and returns the exit code. Data
// goes to stdout, logs and errors to stderr.
int run_cli(int argc, char** argv);

}  // namespace hubpoll
