#include "poller/scheduler.h"

#include <algorithm>

namespace hubpoll {
namespace {

// Bounds each real-time wait, so a wall clock that was set while waiting
// moves the wake-up by at most this much.
constexpr std::chrono::minutes kMaxWaitSlice{1};

}  // namespace

bool ClockAlarm::wait_until(Instant deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cancelled_) {
    const Instant now = clock_.now();
    if (now >= deadline) return true;
    const auto slice = std::min<std::chrono::milliseconds>(
        deadline - now, std::chrono::milliseconds(kMaxWaitSlice));
    wake_.wait_for(lock, slice);
  }
  return false;
}

void ClockAlarm::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  wake_.notify_all();
}

std::chrono::milliseconds first_poll_offset(
    std::size_t index, std::size_t count, std::chrono::milliseconds interval) {
  if (count == 0) return std::chrono::milliseconds(0);
  return interval * static_cast<std::int64_t>(index) /
         static_cast<std::int64_t>(count);
}

Instant next_planned(Instant planned, std::chrono::milliseconds interval,
                     Instant now) {
  Instant next = planned + interval;
  if (next < now && interval.count() > 0) {
    const auto behind = now - next;
    const auto missed =
        (behind + interval - std::chrono::milliseconds(1)) / interval;
    next += interval * missed;
  }
  return next;
}

Scheduler::Scheduler(std::vector<ScheduledJob> jobs,
                     std::chrono::milliseconds interval, Instant start,
                     const Clock& clock, Alarm& alarm, Logger& logger)
    : jobs_(std::move(jobs)),
      interval_(std::max(interval, std::chrono::milliseconds(1))),
      start_(start),
      clock_(clock),
      alarm_(alarm),
      logger_(logger) {}

Scheduler::~Scheduler() {
  stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Scheduler::start() {
  threads_.reserve(jobs_.size());
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    threads_.emplace_back([this, i] { run_job(i); });
  }
}

void Scheduler::stop() { alarm_.cancel(); }

bool Scheduler::wait_for(std::chrono::milliseconds timeout) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool all_ended = ended_.wait_for(
        lock, timeout, [this] { return ended_count_ == threads_.size(); });
    if (!all_ended) return false;
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  return true;
}

void Scheduler::run_job(std::size_t index) {
  const ScheduledJob& job = jobs_[index];
  Instant planned = start_ + first_poll_offset(index, jobs_.size(), interval_);
  while (alarm_.wait_until(planned)) {
    job.run(planned);

    const Instant next = next_planned(planned, interval_, clock_.now());
    const auto skipped = (next - planned) / interval_ - 1;
    if (skipped > 0) {
      logger_.warning(job.name + ": the poll planned for " +
                      format_iso8601(planned) +
                      " ran past the next planned time; skipping " +
                      std::to_string(skipped) + " planned poll(s)");
    }
    planned = next;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++ended_count_;
  ended_.notify_all();
}

}  // namespace hubpoll
