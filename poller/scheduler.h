// The daemon's schedule: one thread per resource, each polling at planned
// instants on a fixed grid, so a slow resource delays only itself and the
// schedule never drifts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "poller/log.h"
#include "poller/time_types.h"

namespace hubpoll {

// Blocks a thread until an instant on a clock passes, or until cancelled.
// Production waits in real time; tests substitute one that moves a fake
// clock, so they never sleep.
class Alarm {
 public:
  virtual ~Alarm() = default;

  // Blocks until the clock reaches `deadline` and returns true, or returns
  // false once cancel() has been called, also when it was called before.
  virtual bool wait_until(Instant deadline) = 0;

  // Wakes every current and later waiter with false. Thread-safe.
  virtual void cancel() = 0;
};

// An Alarm on `clock` that waits in real time. It reads the clock again at
// least once a minute, so a wall clock set forward or back is noticed.
class ClockAlarm final : public Alarm {
 public:
  explicit ClockAlarm(const Clock& clock) : clock_(clock) {}

  bool wait_until(Instant deadline) override;
  void cancel() override;

 private:
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
};

// How far after the schedule's start resource `index` of `count` is first
// polled: `interval * index / count`, which spreads the first polls evenly
// over one interval (with 5 resources every 15 min: 0, 3, 6, 9, 12 min).
std::chrono::milliseconds first_poll_offset(std::size_t index,
                                            std::size_t count,
                                            std::chrono::milliseconds interval);

// The planned instant after `planned`: `planned + interval`, or a later
// point of the same grid when a poll overran and `now` is already past it.
// Missed instants are skipped, not made up.
Instant next_planned(Instant planned, std::chrono::milliseconds interval,
                     Instant now);

// One resource's work, run on the resource's own thread at each planned
// instant.
struct ScheduledJob {
  std::string name;  // the resource, for log lines
  std::function<void(Instant planned)> run;
};

// Runs each job at start + first_poll_offset(...) + k * interval, k = 0, 1,
// ..., on one thread per job. A job that is still running when its next
// instant comes delays only its own next run. Times come from `clock`;
// waits go through `alarm`, so stopping wakes every thread at once.
class Scheduler {
 public:
  // `clock`, `alarm` and `logger` must outlive the Scheduler.
  Scheduler(std::vector<ScheduledJob> jobs, std::chrono::milliseconds interval,
            Instant start, const Clock& clock, Alarm& alarm, Logger& logger);
  // Stops and waits for the jobs running to finish.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the threads. Call once.
  void start();

  // Cancels the alarm: no job starts after this, and jobs running finish.
  void stop();

  // Waits up to `timeout` in real time for every thread to end. Returns
  // true, with the threads joined, when they all ended.
  bool wait_for(std::chrono::milliseconds timeout);

 private:
  void run_job(std::size_t index);

  std::vector<ScheduledJob> jobs_;
  std::chrono::milliseconds interval_;
  Instant start_;
  const Clock& clock_;
  Alarm& alarm_;
  Logger& logger_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable ended_;
  std::size_t ended_count_ = 0;
};

}  // namespace hubpoll
