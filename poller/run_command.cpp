#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "poller/cli.h"
#include "poller/commands.h"
#include "poller/config.h"
#include "poller/delivery.h"
#include "poller/engine.h"
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

// The Authorization header from HUBPOLL_USER_SECRET,
// HUBPOLL_ORGANIZATION_SECRET and HUBPOLL_ELEMENT_TOKEN; empty when none is
// set.
std::string authorization_from_environment() {
  const char* user = std::getenv("HUBPOLL_USER_SECRET");
  const char* organization = std::getenv("HUBPOLL_ORGANIZATION_SECRET");
  const char* element = std::getenv("HUBPOLL_ELEMENT_TOKEN");
  if (user == nullptr && organization == nullptr && element == nullptr) {
    return {};
  }
  const auto value = [](const char* text) {
    return std::string(text != nullptr ? text : "");
  };
  return "User " + value(user) + ", Organization " + value(organization) +
         ", Element " + value(element);
}

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

// Delivers what is due for the plan's sink. Returns false when a delivery
// failed or the store could not be read.
bool deliver_due(EventStore& store, const RunPlan& plan,
                 const RunOptions& options, const Clock& clock,
                 Logger& logger) {
  DeliveryOptions delivery_options;
  delivery_options.max_backoff = std::chrono::seconds(options.max_backoff);
  Deliverer deliverer(plan.instance, store, clock, logger, delivery_options);
  Result<DeliveryReport> report =
      plan.sink == "webhook"  ? deliverer.deliver_to_webhook()
      : plan.sink == "stdout" ? deliverer.deliver_to_stdout()
                              : Result<DeliveryReport>(DeliveryReport{});
  if (!report) {
    logger.error("delivering events failed: " + report.error().message);
    return false;
  }
  return report->retrying == 0 && report->dead == 0;
}

// Polls every planned resource once and delivers. Returns false when any
// resource or delivery failed.
bool run_cycle(const RunPlan& plan, const RunOptions& options,
               const PollOptions& poll_options, EventStore& store,
               const Clock& clock, Logger& logger) {
  bool all_ok = deliver_due(store, plan, options, clock, logger);
  Poller poller(plan.instance, store, clock, logger, poll_options);
  for (const ResourceConfig* resource : plan.resources) {
    const PollResult result = poller.poll(*resource);
    all_ok = result.ok && all_ok;
  }
  all_ok = deliver_due(store, plan, options, clock, logger) && all_ok;

  const Instant now = clock.now();
  const auto window = plan.instance.refresh_interval;
  auto pruned = store.prune(
      now - window - std::chrono::hours(24 * options.retention_days),
      now - std::chrono::hours(24 * options.keep_events_days), 10'000);
  if (!pruned)
    logger.warning("pruning the store failed: " + pruned.error().message);
  return all_ok;
}

}  // namespace

int run_command(const RunOptions& options, Logger& logger) {
  auto plan = plan_run(options);
  if (!plan) {
    logger.error(plan.error().message);
    return kExitUsage;
  }
  if (options.base_url.empty() && !options.sandbox) {
    logger.error(
        "no hub to poll: pass --base-url URL, or --sandbox to poll "
        "the built-in sandbox");
    return kExitUsage;
  }

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

  std::unique_ptr<StopSignal> stop_signal;
  if (!options.once) stop_signal = std::make_unique<StopSignal>();

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
  poll_options.authorization = authorization_from_environment();
  poll_options.overlap = std::chrono::seconds(options.overlap_seconds);
  poll_options.max_pages = options.max_pages;
  poll_options.since = plan->since;
  poll_options.sink = plan->sink;

  if (options.once) {
    const bool ok =
        run_cycle(*plan, options, poll_options, **store, clock, logger);
    return ok ? kExitOk : kExitFailure;
  }

  logger.info("polling " + std::to_string(plan->resources.size()) +
              " resource(s) every " +
              std::to_string(plan->instance.refresh_interval.count()) +
              " min; stop with SIGTERM or SIGINT");
  // NOTE: every resource is polled at the same tick; staggered starts and
  // per-resource scheduling are not built yet.
  auto next_cycle = std::chrono::steady_clock::now();
  while (true) {
    run_cycle(*plan, options, poll_options, **store, clock, logger);
    poll_options.since.reset();  // a backfill applies to the first cycle
    next_cycle += plan->instance.refresh_interval;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_cycle - std::chrono::steady_clock::now());
    if (stop_signal->wait_for(std::max(wait, std::chrono::milliseconds(0)))) {
      break;
    }
  }
  logger.info("stopped");
  return kExitOk;
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
    auto requeued = (*store)->retry_dead("webhook", clock.now());
    if (!requeued) {
      logger.error(requeued.error().message);
      return kExitFailure;
    }
    logger.info("re-queued " + std::to_string(*requeued) +
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
    auto waiting = (*store)->due_notifications("webhook", clock.now(), 1);
    if (waiting && !waiting->empty()) {
      logger.error("webhook notifications are waiting but no callback URL "
                   "is configured: pass --instance with "
                   "event.notification.callback.url");
      return kExitUsage;
    }
    return kExitOk;
  }
  auto posted = deliverer.deliver_to_webhook();
  if (!posted) {
    logger.error("delivering events failed: " + posted.error().message);
    return kExitFailure;
  }
  return posted->retrying == 0 && posted->dead == 0 ? kExitOk : kExitFailure;
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
