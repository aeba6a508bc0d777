// Runs the hubpoll binary as a child process for command-line tests.
#pragma once

#include <string>
#include <vector>

namespace hubpoll::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs `program` with `args`, no standard input, and `environment` entries
// (NAME=VALUE) added to the inherited ones; waits for it and returns its
// exit code and output.
ProcessResult run_process(const std::string& program,
                          const std::vector<std::string>& args,
                          const std::vector<std::string>& environment = {});

// Runs the hubpoll binary built next to the tests.
ProcessResult run_hubpoll(const std::vector<std::string>& args,
                          const std::vector<std::string>& environment = {});

}  // namespace hubpoll::testing
