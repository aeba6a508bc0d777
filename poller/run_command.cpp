#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "poller/cli.h"
#include "poller/commands.h"
#include "poller/config.h"
#include "poller/delivery.h"
#include "poller/engine.h"
#include "poller/metrics.h"
#include "poller/scheduler.h"
#include "poller/secrets.h"
#include "sandbox/sandbox.h"
#include "store/event_store.h"

namespace hubpoll {
namespace {

// Waits for SIGINT or SIGTERM on a thread of its own, so the main loop can
// sleep on a condition variable and wake at once when asked to stop. The
// signals are blocked in every thread started after construction.
class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    waiter_ = std::thread([this] {
      int received = 0;
      sigwait(&signals_, &received);
      request_stop();
    });
  }
  ~StopSignal() {
    if (!stopped()) {
      // Wakes the waiter so it can be joined.
      pthread_kill(waiter_.native_handle(), SIGTERM);
    }
    waiter_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  void request_stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    wake_.notify_all();
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }
  // Returns true when stopped before `duration` passed.
  bool wait_for(std::chrono::milliseconds duration) {
    std::unique_lock<std::mutex> lock(mutex_);
    return wake_.wait_for(lock, duration, [this] { return stopped_; });
  }

 private:
  sigset_t signals_;
  sigset_t previous_;
  std::thread waiter_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in every
// thread started after construction, so that wait() receives them
// synchronously instead of a handler. Construct it before any thread.
class SignalSet {
 public:
  SignalSet() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  }
  ~SignalSet() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;

  // Blocks until one of the signals arrives and returns its number.
  int wait() {
    int received = 0;
    while (sigwait(&signals_, &received) != 0) {
    }
    return received;
  }

 private:
  sigset_t signals_;
  sigset_t previous_;
};

// Everything `run` needs once the configuration has been read.
struct RunPlan {
  InstanceConfig instance;
  PollerConfig pollers;
  std::vector<const ResourceConfig*> resources;
  std::string sink;
  std::optional<Instant> since;
};

Result<RunPlan> plan_run(const RunOptions& options) {
  RunPlan plan;
  if (!options.instance_path.empty()) {
    auto instance = load_instance_config(options.instance_path);
    if (!instance) return instance.error();
    plan.instance = std::move(*instance);
  }
  if (plan.instance.poller_config) {
    plan.pollers = *plan.instance.poller_config;
  } else {
    auto pollers = load_poller_config(options.config_path);
    if (!pollers) return pollers.error();
    plan.pollers = std::move(*pollers);
  }

  std::vector<std::string> wanted = options.resources;
  if (wanted.empty()) wanted = plan.instance.enabled_resources;
  if (wanted.empty()) {
    for (const ResourceConfig& resource : plan.pollers.resources) {
      wanted.push_back(resource.name);
    }
  }
  for (const std::string& name : wanted) {
    const ResourceConfig* resource = plan.pollers.find(name);
    if (resource == nullptr) {
      return make_error(
          ErrorKind::kConfig,
          "resource \"" + name + "\" is not in the poller configuration");
    }
    plan.resources.push_back(resource);
  }

  plan.sink = options.sink;
  if (plan.sink.empty()) {
    plan.sink = plan.instance.notification_enabled &&
                        !plan.instance.callback_url.empty()
                    ? "webhook"
                    : "stdout";
  }
  if (!plan.instance.notification_enabled && options.sink.empty()) {
    plan.sink.clear();
  }
  if (plan.sink == "webhook" && plan.instance.callback_url.empty()) {
    return make_error(ErrorKind::kConfig,
                      "the webhook sink needs "
                      "event.notification.callback.url in the instance "
                      "configuration (--instance)");
  }

  if (!options.since.empty()) {
    Instant since;
    if (!parse_iso8601(options.since, since)) {
      return make_error(ErrorKind::kConfig,
                        "--since: \"" + options.since +
                            "\" is not an ISO 8601 time such as "
                            "2026-01-02T03:04:05Z");
    }
    plan.since = since;
  }
  return plan;
}

// State shared by the polling threads of one run. Delivery and pruning take
// `delivery_mutex`, so two threads never send the same notification.
struct RunShared {
  RunShared(const RunOptions& run_options, const Clock& run_clock,
            Logger& run_logger)
      : options(run_options), clock(run_clock), logger(run_logger) {}

  const RunOptions& options;
  const Clock& clock;
  Logger& logger;
  RunMetrics metrics;
  std::mutex delivery_mutex;
  std::mutex metrics_file_mutex;
};

// Delivers what is due for the plan's sink, and replayed notifications
// when a callback URL is configured. Returns false when a delivery failed
// or the store could not be read. Two threads must not call it at once:
// the daemon's threads hold shared.delivery_mutex.
bool deliver_due(EventStore& store, const RunPlan& plan, RunShared& shared) {
  DeliveryOptions delivery_options;
  delivery_options.max_backoff =
      std::chrono::seconds(shared.options.max_backoff);
  Deliverer deliverer(plan.instance, store, shared.clock, shared.logger,
                      delivery_options);
  bool all_ok = true;
  const auto account = [&](const std::string& sink,
                           const Result<DeliveryReport>& report) {
    if (!report) {
      shared.logger.error("delivering events failed: " +
                          report.error().message);
      all_ok = false;
      return;
    }
    shared.metrics.record_delivery(sink, *report);
    all_ok = all_ok && report->retrying == 0 && report->dead == 0;
  };
  if (plan.sink == "webhook") {
    account("webhook", deliverer.deliver_to_webhook());
  } else if (plan.sink == "stdout") {
    account("stdout", deliverer.deliver_to_stdout());
  }
  if (!plan.instance.callback_url.empty()) {
    account(kWebhookReplaySink, deliverer.deliver_replays_to_webhook());
  }
  return all_ok;
}

// Deletes expired dedupe keys and events, a batch at a time.
void prune_store(EventStore& store, const RunPlan& plan, RunShared& shared) {
  const Instant now = shared.clock.now();
  const auto window = plan.instance.refresh_interval;
  auto pruned = store.prune(
      now - window - std::chrono::hours(24 * shared.options.retention_days),
      now - std::chrono::hours(24 * shared.options.keep_events_days), 10'000);
  if (!pruned) {
    shared.logger.warning("pruning the store failed: " +
                          pruned.error().message);
  }
}

void write_metrics_file(RunShared& shared) {
  if (shared.options.metrics_file.empty()) return;
  std::lock_guard<std::mutex> lock(shared.metrics_file_mutex);
  Status written = write_file_atomically(shared.options.metrics_file,
                                         shared.metrics.render());
  if (!written) {
    shared.logger.warning("writing metrics failed: " + written.error().message);
  }
}

// Seeds the last-success gauges from the store, so they are right for
// resources that this process has not polled successfully yet.
void load_last_successes(EventStore& store, const RunPlan& plan,
                         RunShared& shared) {
  auto streams = store.stream_summaries();
  if (!streams) return;
  for (const EventStore::StreamSummary& stream : *streams) {
    if (stream.id.instance_id == plan.instance.instance_id &&
        stream.state.watermark) {
      shared.metrics.set_last_success(stream.id.resource,
                                      *stream.state.watermark);
    }
  }
}

// Polls one resource through a store connection of its own, so resources
// can be polled on threads of their own.
class ResourceWorker {
 public:
  ResourceWorker(std::shared_ptr<const RunPlan> plan,
                 const ResourceConfig& resource,
                 std::unique_ptr<EventStore> store, PollOptions poll_options,
                 RunShared& shared)
      : plan_(std::move(plan)),
        resource_(resource),
        store_(std::move(store)),
        poll_options_(std::move(poll_options)),
        shared_(shared) {}

  // Polls once and counts the result. A backfill (--since) applies to the
  // first poll only.
  PollResult poll() {
    Poller poller(plan_->instance, *store_, shared_.clock, shared_.logger,
                  poll_options_);
    poll_options_.since.reset();
    const Instant started = shared_.clock.now();
    PollResult result = poller.poll(resource_);
    const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        shared_.clock.now() - started);
    shared_.metrics.record_poll(resource_.name, result.ok, result.stats,
                                duration, result.poll_start);
    return result;
  }

  // One daemon step: poll, then deliver what is due and prune.
  // NOTE: a delivery retry that falls due between polls waits for the next
  // poll of any resource, so it can be late by up to one interval divided
  // by the number of resources.
  void poll_and_deliver() {
    poll();
    {
      std::lock_guard<std::mutex> lock(shared_.delivery_mutex);
      deliver_due(*store_, *plan_, shared_);
      prune_store(*store_, *plan_, shared_);
    }
    write_metrics_file(shared_);
  }

 private:
  std::shared_ptr<const RunPlan> plan_;
  const ResourceConfig& resource_;
  std::unique_ptr<EventStore> store_;
  PollOptions poll_options_;
  RunShared& shared_;
};

// One worker per planned resource, each with its own store connection.
Result<std::vector<std::unique_ptr<ResourceWorker>>> open_workers(
    const std::shared_ptr<const RunPlan>& plan, const PollOptions& options,
    RunShared& shared) {
  std::vector<std::unique_ptr<ResourceWorker>> workers;
  for (const ResourceConfig* resource : plan->resources) {
    auto store = EventStore::open(shared.options.store_path);
    if (!store) return store.error();
    workers.push_back(std::make_unique<ResourceWorker>(
        plan, *resource, std::move(*store), options, shared));
  }
  return workers;
}

// Delivers what is due, polls every planned resource once, each on its own
// thread, and delivers again. Returns false when any resource or delivery
// failed.
bool run_once(const std::shared_ptr<const RunPlan>& plan,
              const PollOptions& poll_options, EventStore& store,
              RunShared& shared) {
  bool all_ok = deliver_due(store, *plan, shared);
  auto workers = open_workers(plan, poll_options, shared);
  if (!workers) {
    shared.logger.error(workers.error().message);
    return false;
  }
  std::vector<char> polled_ok(workers->size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < workers->size(); ++i) {
    threads.emplace_back([&, i] {
      // A resource skipped for a rate limit is retried next cycle
      // and does not fail the run.
      const PollResult result = (*workers)[i]->poll();
      polled_ok[i] = result.ok || result.rate_limited ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const char ok : polled_ok) all_ok = all_ok && ok != 0;

  all_ok = deliver_due(store, *plan, shared) && all_ok;
  prune_store(store, *plan, shared);
  write_metrics_file(shared);
  return all_ok;
}

// A running schedule and what it polls with. Members are destroyed in
// reverse order, so the scheduler's threads end before the workers go.
struct Schedule {
  Schedule(std::shared_ptr<const RunPlan> schedule_plan, const Clock& clock)
      : plan(std::move(schedule_plan)), alarm(clock) {}

  std::shared_ptr<const RunPlan> plan;
  std::vector<std::unique_ptr<ResourceWorker>> workers;
  ClockAlarm alarm;
  std::unique_ptr<Scheduler> scheduler;
};

Result<std::unique_ptr<Schedule>> start_schedule(
    std::shared_ptr<const RunPlan> plan, const PollOptions& poll_options,
    RunShared& shared) {
  auto schedule = std::make_unique<Schedule>(std::move(plan), shared.clock);
  auto workers = open_workers(schedule->plan, poll_options, shared);
  if (!workers) return workers.error();
  schedule->workers = std::move(*workers);

  std::vector<ScheduledJob> jobs;
  for (std::size_t i = 0; i < schedule->workers.size(); ++i) {
    ResourceWorker* worker = schedule->workers[i].get();
    jobs.push_back(
        ScheduledJob{schedule->plan->resources[i]->name,
                     [worker](Instant) { worker->poll_and_deliver(); }});
  }
  schedule->scheduler = std::make_unique<Scheduler>(
      std::move(jobs), schedule->plan->instance.refresh_interval,
      shared.clock.now(), shared.clock, schedule->alarm, shared.logger);
  schedule->scheduler->start();
  shared.logger.info(
      "polling " + std::to_string(schedule->plan->resources.size()) +
      " resource(s) every " +
      std::to_string(schedule->plan->instance.refresh_interval.count()) +
      " min, first polls spread over one interval; stop with SIGTERM or "
      "SIGINT, reload the configuration with SIGHUP");
  return schedule;
}

// Reads the configuration again. The current schedule keeps running when
// the new configuration is invalid; otherwise it finishes its polls in
// progress and a new schedule starts from now.
void reload(std::unique_ptr<Schedule>& schedule,
            const PollOptions& poll_options, RunShared& shared) {
  auto next = plan_run(shared.options);
  if (!next) {
    shared.logger.error(
        "reloading the configuration failed, keeping the current one: " +
        next.error().message);
    return;
  }
  // A backfill applies to the daemon's first polls only.
  next->since.reset();
  schedule->scheduler->stop();
  // NOTE: waits for polls in progress, which the HTTP limits bound; a
  // SIGTERM during this wait is handled once they end.
  schedule.reset();
  auto started = start_schedule(
      std::make_shared<const RunPlan>(std::move(*next)), poll_options, shared);
  if (!started) {
    shared.logger.error("restarting the schedule failed: " +
                        started.error().message);
    return;
  }
  schedule = std::move(*started);
  shared.logger.info("reloaded the configuration");
}

// Runs the schedule until SIGTERM or SIGINT. Returns the exit code.
int run_daemon(std::shared_ptr<const RunPlan> plan,
               const PollOptions& poll_options, EventStore& store,
               RunShared& shared, SignalSet& signals) {
  {
    std::lock_guard<std::mutex> lock(shared.delivery_mutex);
    deliver_due(store, *plan, shared);
  }
  auto started = start_schedule(std::move(plan), poll_options, shared);
  if (!started) {
    shared.logger.error(started.error().message);
    return kExitFailure;
  }
  std::unique_ptr<Schedule> schedule = std::move(*started);

  while (true) {
    const int signal = signals.wait();
    if (signal != SIGHUP) {
      shared.logger.info(std::string("received ") +
                         (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                         ", stopping after the polls in progress");
      break;
    }
    shared.logger.info("received SIGHUP, reloading the configuration");
    if (!schedule) break;
    reload(schedule, poll_options, shared);
  }

  if (schedule) {
    schedule->scheduler->stop();
    const auto timeout =
        std::chrono::seconds(shared.options.stop_timeout_seconds);
    if (!schedule->scheduler->wait_for(timeout)) {
      // The process exits with the polls still running. SQLite discards a
      // transaction that has not committed, and the kernel releases the
      // writer lock with the process, so the store stays consistent and
      // the next run polls those resources from their watermarks again.
      shared.logger.warning(
          "polls still in progress after " +
          std::to_string(shared.options.stop_timeout_seconds) +
          " s (--stop-timeout); exiting without them, nothing of them is "
          "committed");
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(kExitOk);
    }
  }
  shared.logger.info("stopped");
  return kExitOk;
}

}  // namespace

int run_command(const RunOptions& options, Logger& logger) {
  auto planned = plan_run(options);
  if (!planned) {
    logger.error(planned.error().message);
    return kExitUsage;
  }
  if (options.base_url.empty() && !options.sandbox) {
    logger.error(
        "no hub to poll: pass --base-url URL, or --sandbox to poll "
        "the built-in sandbox");
    return kExitUsage;
  }
  if (!options.base_url.empty() && options.sandbox) {
    logger.error("--base-url and --sandbox name two hubs: pass one of them");
    return kExitUsage;
  }
  if (!options.base_url.empty() && options.base_url.rfind("http://", 0) != 0 &&
      options.base_url.rfind("https://", 0) != 0) {
    logger.error("--base-url: \"" + options.base_url +
                 "\" is not an http or https URL");
    return kExitUsage;
  }
  auto plan = std::make_shared<const RunPlan>(std::move(*planned));

  auto lock = acquire_writer_lock(options.store_path);
  if (!lock) {
    logger.error(lock.error().message);
    return lock.error().kind == ErrorKind::kLocked ? kExitStoreLocked
                                                   : kExitFailure;
  }
  auto store = EventStore::open(options.store_path);
  if (!store) {
    logger.error(store.error().message);
    return kExitFailure;
  }

  // Before the sandbox and the polling threads start, so that they inherit
  // the blocked signals.
  std::unique_ptr<SignalSet> signals;
  if (!options.once) signals = std::make_unique<SignalSet>();

  SystemClock clock;
  std::unique_ptr<Sandbox> sandbox;
  PollOptions poll_options;
  poll_options.base_url = options.base_url;
  if (options.sandbox) {
    SandboxOptions sandbox_options;
    sandbox_options.fixtures_dir = options.sandbox_fixtures;
    auto started = Sandbox::start(sandbox_options);
    if (!started) {
      logger.error("starting the sandbox failed: " + started.error().message);
      return kExitFailure;
    }
    sandbox = std::move(*started);
    poll_options.base_url = sandbox->base_url();
    logger.info("sandbox serving at " + poll_options.base_url);
  }
  const Credentials credentials = credentials_from_environment();
  poll_options.authorization = credentials.authorization();
  poll_options.secrets = credentials.values();
  poll_options.overlap = std::chrono::seconds(options.overlap_seconds);
  poll_options.max_pages = options.max_pages;
  poll_options.key_retention = std::chrono::hours(24 * options.retention_days);
  poll_options.fetch.max_wait = std::chrono::seconds(options.max_wait_seconds);
  poll_options.limits.total_timeout =
      std::chrono::seconds(options.request_timeout_seconds);
  poll_options.limits.max_body_bytes =
      static_cast<std::int64_t>(options.max_body_mib) * 1024 * 1024;
  poll_options.since = plan->since;
  poll_options.sink = plan->sink;

  RunShared shared(options, clock, logger);
  load_last_successes(**store, *plan, shared);
  if (options.once) {
    const bool ok = run_once(plan, poll_options, **store, shared);
    return ok ? kExitOk : kExitFailure;
  }
  return run_daemon(plan, poll_options, **store, shared, *signals);
}

bool store_exists(const std::string& store_path, Logger& logger) {
  std::error_code error;
  if (std::filesystem::exists(store_path, error)) return true;
  logger.error("store " + store_path +
               " not found: pass --store with the file `hubpoll run` uses");
  return false;
}

int deliver_command(const DeliverOptions& options, Logger& logger) {
  InstanceConfig instance;
  if (!options.instance_path.empty()) {
    auto loaded = load_instance_config(options.instance_path);
    if (!loaded) {
      logger.error(loaded.error().message);
      return kExitUsage;
    }
    instance = std::move(*loaded);
  }
  // Checked first, because opening a missing store would create it.
  if (!store_exists(options.store_path, logger)) return kExitUsage;
  auto lock = acquire_writer_lock(options.store_path);
  if (!lock) {
    logger.error(lock.error().message);
    return lock.error().kind == ErrorKind::kLocked ? kExitStoreLocked
                                                   : kExitFailure;
  }
  auto store = EventStore::open(options.store_path);
  if (!store) {
    logger.error(store.error().message);
    return kExitFailure;
  }
  SystemClock clock;
  if (options.retry_dead) {
    std::int64_t requeued_total = 0;
    for (const char* sink : {"webhook", kWebhookReplaySink}) {
      auto requeued = (*store)->retry_dead(sink, clock.now());
      if (!requeued) {
        logger.error(requeued.error().message);
        return kExitFailure;
      }
      requeued_total += *requeued;
    }
    logger.info("re-queued " + std::to_string(requeued_total) +
                " dead notification(s)");
  }

  DeliveryOptions delivery_options;
  delivery_options.max_backoff = std::chrono::seconds(options.max_backoff);
  Deliverer deliverer(instance, **store, clock, logger, delivery_options);
  auto printed = deliverer.deliver_to_stdout();
  if (!printed) {
    logger.error("delivering events failed: " + printed.error().message);
    return kExitFailure;
  }
  if (instance.callback_url.empty()) {
    for (const char* sink : {"webhook", kWebhookReplaySink}) {
      auto waiting = (*store)->due_notifications(sink, clock.now(), 1);
      if (waiting && !waiting->empty()) {
        logger.error(
            "webhook notifications are waiting but no callback URL "
            "is configured: pass --instance with "
            "event.notification.callback.url");
        return kExitUsage;
      }
    }
    return kExitOk;
  }
  bool all_delivered = true;
  for (const bool replays : {false, true}) {
    auto posted = replays ? deliverer.deliver_replays_to_webhook()
                          : deliverer.deliver_to_webhook();
    if (!posted) {
      logger.error("delivering events failed: " + posted.error().message);
      return kExitFailure;
    }
    all_delivered = all_delivered && posted->retrying == 0 && posted->dead == 0;
  }
  return all_delivered ? kExitOk : kExitFailure;
}

int sandbox_command(const SandboxCommandOptions& options, Logger& logger) {
  StopSignal stop_signal;
  SandboxOptions sandbox_options;
  sandbox_options.port = options.port;
  sandbox_options.fixtures_dir = options.fixtures;
  auto sandbox = Sandbox::start(sandbox_options);
  if (!sandbox) {
    logger.error("starting the sandbox failed: " + sandbox.error().message);
    return kExitFailure;
  }
  std::printf("%s\n", (*sandbox)->base_url().c_str());
  std::fflush(stdout);
  logger.info("sandbox serving at " + (*sandbox)->base_url() +
              "; stop with SIGTERM or SIGINT");
  stop_signal.wait_for(std::chrono::hours(24 * 365 * 100));
  (*sandbox)->stop();
  logger.info("sandbox stopped");
  return kExitOk;
}

}  // namespace hubpoll
