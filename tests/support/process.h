// Runs the hubpoll binary as a child process for command-line tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace hubpoll::testing {

class TempDir;

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

// A child process running in the background, its output going to files.
// The destructor kills it with SIGKILL when it has not been waited for.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& program,
                    const std::vector<std::string>& args);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const { return pid_; }
  void send_signal(int signal);
  // Waits for the process to exit and returns its exit code and output.
  ProcessResult wait();

 private:
  std::unique_ptr<TempDir> dir_;
  int pid_ = -1;
  bool waited_ = false;
};

// Starts the hubpoll binary built next to the tests in the background.
std::unique_ptr<BackgroundProcess> start_hubpoll(
    const std::vector<std::string>& args);

// Runs the hubpoll binary built next to the tests.
ProcessResult run_hubpoll(const std::vector<std::string>& args,
                          const std::vector<std::string>& environment = {});

}  // namespace hubpoll::testing
