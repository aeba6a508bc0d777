#include "poller/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "poller/commands.h"
#include "poller/config.h"
#include "poller/date_pattern.h"
#include "poller/http_client.h"
#include "poller/log.h"
#include "poller/url_template.h"
#include "poller/zone.h"

namespace hubpoll {
namespace {

struct GlobalOptions {
  std::string log_format = "text";
  std::string log_level = "info";
};

struct DateCommandOptions {
  std::string pattern;
  std::string value;
  std::string zone = "GMT";
  std::string at;
};

struct UrlCommandOptions {
  std::string resource;
  std::string at;
  std::string config_path = "config/pollers.json";
  std::string base_url;
};

Result<Instant> instant_option(const std::string& text, const char* option,
                               const Clock& clock) {
  if (text.empty()) return clock.now();
  Instant instant;
  if (!parse_iso8601(text, instant)) {
    return make_error(ErrorKind::kInvalidArgument,
                      std::string(option) + ": \"" + text +
                          "\" is not an ISO 8601 time such as "
                          "2026-01-02T03:04:05Z");
  }
  return instant;
}

int date_parse_command(const DateCommandOptions& options, Logger& logger) {
  auto pattern = DatePattern::compile(options.pattern);
  if (!pattern) {
    logger.error("pattern \"" + options.pattern +
                 "\": " + pattern.error().message);
    return kExitUsage;
  }
  auto zone = Zone::parse(options.zone);
  if (!zone) {
    logger.error("--zone: " + zone.error().message);
    return kExitUsage;
  }
  auto instant = pattern->parse(options.value, *zone);
  if (!instant) {
    logger.error(instant.error().message);
    return kExitFailure;
  }
  std::printf("%s\n", format_iso8601(*instant).c_str());
  return kExitOk;
}

int date_format_command(const DateCommandOptions& options, Logger& logger) {
  auto pattern = DatePattern::compile(options.pattern);
  if (!pattern) {
    logger.error("pattern \"" + options.pattern +
                 "\": " + pattern.error().message);
    return kExitUsage;
  }
  auto zone = Zone::parse(options.zone);
  if (!zone) {
    logger.error("--zone: " + zone.error().message);
    return kExitUsage;
  }
  auto at = instant_option(options.at, "--at", SystemClock());
  if (!at) {
    logger.error(at.error().message);
    return kExitUsage;
  }
  std::printf("%s\n", pattern->format(*at, *zone).c_str());
  return kExitOk;
}

int url_command(const UrlCommandOptions& options, Logger& logger) {
  auto pollers = load_poller_config(options.config_path);
  if (!pollers) {
    logger.error(pollers.error().message);
    return kExitUsage;
  }
  const ResourceConfig* resource = pollers->find(options.resource);
  if (resource == nullptr) {
    logger.error("resource \"" + options.resource + "\" is not in " +
                 options.config_path);
    return kExitUsage;
  }
  auto at = instant_option(options.at, "--at", SystemClock());
  if (!at) {
    logger.error(at.error().message);
    return kExitUsage;
  }
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::printf("%s%s\n", base.c_str(),
              resource->url.expand(ExpansionTimes{*at, *at}).c_str());
  return kExitOk;
}

void add_run_options(CLI::App& run, RunOptions& options) {
  run.add_flag("--once", options.once,
               "Poll every resource once, deliver, and exit (for cron); "
               "without it, poll each resource every refresh interval "
               "until SIGTERM or SIGINT, reloading on SIGHUP");
  run.add_flag("--sandbox", options.sandbox,
               "Start the built-in sandbox hub on a free 127.0.0.1 port and "
               "poll it");
  run.add_option("--fixtures", options.sandbox_fixtures,
                 "With --sandbox: serve recorded Twitter responses from this "
                 "folder instead of generated records");
  run.add_option("--config", options.config_path, "Poller configuration file")
      ->capture_default_str();
  run.add_option("--instance", options.instance_path,
                 "Instance configuration file (Cloud Elements instance body)");
  run.add_option("--store", options.store_path, "SQLite event store file")
      ->capture_default_str();
  run.add_option("--base-url", options.base_url,
                 "Hub base URL that resource URLs are relative to, e.g. "
                 "https://hub.example/elements/api-v2");
  run.add_option("--resource", options.resources,
                 "Poll only this resource (repeatable)");
  run.add_option("--since", options.since,
                 "Backfill: start this run's window at this ISO 8601 time");
  run.add_option("--sink", options.sink,
                 "Where events go: stdout (JSON lines) or webhook (the "
                 "instance's callback URL); default: webhook when the "
                 "instance enables notifications with a callback URL, else "
                 "stdout")
      ->check(CLI::IsMember({"stdout", "webhook"}));
  run.add_option("--max-pages", options.max_pages,
                 "Maximum pages fetched per resource and poll")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  run.add_option("--overlap", options.overlap_seconds,
                 "Seconds each window reaches back before the previous "
                 "poll's start")
      ->capture_default_str()
      ->check(CLI::Range(0, 7 * 24 * 3600));
  run.add_option("--retention", options.retention_days,
                 "Days dedupe keys are kept beyond the window")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  run.add_option("--keep-events", options.keep_events_days,
                 "Days events are kept for replay")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  run.add_option("--max-backoff", options.max_backoff,
                 "Longest wait in seconds before retrying a failed webhook "
                 "delivery (waits grow 4, 16, 64, ... s)")
      ->capture_default_str()
      ->check(CLI::Range(0, 7 * 24 * 3600));
  run.add_option("--max-wait", options.max_wait_seconds,
                 "Longest rate-limit pause in seconds that a poll waits out; "
                 "a longer one skips the resource until the next cycle")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  run.add_option("--request-timeout", options.request_timeout_seconds,
                 "Seconds one page request may take, body included")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 3600));
  run.add_option("--max-body-mib", options.max_body_mib,
                 "Largest page body in MiB; a larger one fails the poll")
      ->capture_default_str()
      ->check(CLI::Range(1, 64 * 1024));
  run.add_option("--metrics-file", options.metrics_file,
                 "Write Prometheus metrics to this file after each poll "
                 "(replaced atomically; for node_exporter's textfile "
                 "collector, name it *.prom)");
  run.add_option("--stop-timeout", options.stop_timeout_seconds,
                 "Seconds a stopping daemon waits for polls in progress; "
                 "after that it exits and those polls commit nothing")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 3600));
}

void add_replay_options(CLI::App& replay, ReplayCommandOptions& options) {
  replay.add_option("--since", options.since,
                    "Replay events dated at or after this ISO 8601 time "
                    "(default date: the event's updated date; see --by)");
  replay.add_option("--until", options.until,
                    "Replay events dated before this ISO 8601 time");
  replay
      .add_option("--by", options.by,
                  "Which date --since and --until compare: the event's "
                  "updated date (event-date) or when it was polled "
                  "(poll-date)")
      ->check(CLI::IsMember({"event-date", "poll-date"}))
      ->capture_default_str();
  replay.add_option("--resource", options.resources,
                    "Replay only this resource (repeatable)");
  replay.add_option("--event-id", options.event_ids,
                    "Replay only this event id (repeatable)");
  replay
      .add_option("--sink", options.sink,
                  "Where events go: stdout (JSON lines) or webhook (new "
                  "notifications with the header Elements-Replay: true, "
                  "queued in the store and sent to the instance's "
                  "callback URL)")
      ->check(CLI::IsMember({"stdout", "webhook"}))
      ->capture_default_str();
  replay.add_option("--instance", options.instance_path,
                    "Instance configuration file (instance id, callback URL "
                    "and signature key)");
  replay.add_option("--store", options.store_path, "SQLite event store file")
      ->capture_default_str();
  replay
      .add_option("--max-backoff", options.max_backoff,
                  "Longest wait in seconds before retrying a failed "
                  "delivery")
      ->capture_default_str()
      ->check(CLI::Range(0, 7 * 24 * 3600));
  replay
      .add_option("--progress-every", options.progress_every,
                  "Log a progress line after every this many queued "
                  "notifications (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
}

void add_status_options(CLI::App& status, StatusCommandOptions& options) {
  status.add_option("--format", options.format, "Report format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  status.add_option("--instance", options.instance_path,
                    "Instance configuration file: show only its resources "
                    "and use its refresh interval (default 15 min) for the "
                    "next poll due");
  status.add_option("--store", options.store_path, "SQLite event store file")
      ->capture_default_str();
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "hubpoll: runs Cloud Elements-style event pollers locally.\n"
      "Exit codes: 0 success, 1 a resource or delivery failed, 2 usage or "
      "configuration error, 75 the store is locked by another run."};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--log-format", global.log_format, "Log line format on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", global.log_level, "Lowest level logged")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();

  RunOptions run_options;
  CLI::App* run =
      app.add_subcommand("run",
                         "Poll the configured resources and emit new "
                         "events");
  add_run_options(*run, run_options);

  DeliverOptions deliver_options;
  CLI::App* deliver = app.add_subcommand(
      "deliver", "Deliver the notifications that are due, then exit");
  deliver->add_option("--instance", deliver_options.instance_path,
                      "Instance configuration file (for the callback URL and "
                      "signature key)");
  deliver
      ->add_option("--store", deliver_options.store_path,
                   "SQLite event store file")
      ->capture_default_str();
  deliver->add_flag("--retry-dead", deliver_options.retry_dead,
                    "Re-queue dead webhook notifications first");
  deliver
      ->add_option("--max-backoff", deliver_options.max_backoff,
                   "Longest wait in seconds before retrying a failed "
                   "delivery")
      ->capture_default_str()
      ->check(CLI::Range(0, 7 * 24 * 3600));

  ReplayCommandOptions replay_options;
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Send stored events again to stdout or the webhook; dedupe keys and "
      "watermarks stay as they are");
  add_replay_options(*replay, replay_options);

  StatusCommandOptions status_options;
  CLI::App* status = app.add_subcommand(
      "status",
      "Show each resource's last poll, counts, notifications and next poll "
      "due; reads the store without locking it");
  add_status_options(*status, status_options);

  SandboxCommandOptions sandbox_options;
  CLI::App* sandbox = app.add_subcommand(
      "sandbox",
      "Serve a local social hub with Twitter v1.1 records until "
      "SIGINT or SIGTERM; prints its base URL");
  sandbox
      ->add_option("--port", sandbox_options.port,
                   "TCP port on 127.0.0.1 (0 picks a free one)")
      ->capture_default_str();
  sandbox->add_option("--fixtures", sandbox_options.fixtures,
                      "Serve recorded Twitter responses from this folder");

  DateCommandOptions date_options;
  CLI::App* date = app.add_subcommand(
      "date", "Parse or format dates with a Java SimpleDateFormat pattern");
  date->require_subcommand(1);
  CLI::App* date_parse = date->add_subcommand(
      "parse", "Print VALUE, read with PATTERN, as an ISO 8601 UTC instant");
  date_parse
      ->add_option("pattern", date_options.pattern,
                   "Java SimpleDateFormat pattern, or milliseconds")
      ->required();
  date_parse->add_option("value", date_options.value, "Text to parse")
      ->required();
  date_parse
      ->add_option("--zone", date_options.zone,
                   "Zone for patterns without an offset")
      ->capture_default_str();
  CLI::App* date_format =
      date->add_subcommand("format", "Print an instant formatted with PATTERN");
  date_format
      ->add_option("pattern", date_options.pattern,
                   "Java SimpleDateFormat pattern, or milliseconds")
      ->required();
  date_format->add_option("--at", date_options.at,
                          "ISO 8601 instant to format (default: now)");
  date_format->add_option("--zone", date_options.zone, "Zone to format in")
      ->capture_default_str();

  ValidateOptions validate_options;
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Check poller and instance configurations; with --probe, "
      "also fetch one page per resource and check its records");
  validate
      ->add_option("--config", validate_options.config_path,
                   "Poller configuration file")
      ->capture_default_str();
  validate->add_option("--instance", validate_options.instance_path,
                       "Instance configuration file");
  validate->add_flag("--probe", validate_options.probe,
                     "Fetch one page per resource (needs --base-url or "
                     "--sandbox) and check ids and dates");
  validate->add_flag("--sandbox", validate_options.sandbox,
                     "Probe the built-in sandbox");
  validate->add_option("--fixtures", validate_options.sandbox_fixtures,
                       "With --sandbox: serve recorded Twitter responses "
                       "from this folder");
  validate->add_option("--base-url", validate_options.base_url,
                       "Hub base URL to probe");
  validate->add_option("--format", validate_options.format, "Report format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  validate->add_flag("--strict", validate_options.strict,
                     "Treat warnings as errors");

  UrlCommandOptions url_options;
  CLI::App* url = app.add_subcommand(
      "url", "Print a resource's request URL with placeholders expanded");
  url->add_option("resource", url_options.resource, "Resource name")
      ->required();
  url->add_option("--at", url_options.at,
                  "ISO 8601 window start and poll time (default: now)");
  url->add_option("--config", url_options.config_path,
                  "Poller configuration file")
      ->capture_default_str();
  url->add_option("--base-url", url_options.base_url,
                  "Prefix the URL with this hub base URL");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }

  const LogLevel level = global.log_level == "debug"     ? LogLevel::kDebug
                         : global.log_level == "warning" ? LogLevel::kWarning
                         : global.log_level == "error"   ? LogLevel::kError
                                                         : LogLevel::kInfo;
  StreamLogger logger(
      stderr, global.log_format == "json" ? LogFormat::kJson : LogFormat::kText,
      level);
  initialize_http();

  if (*run) return run_command(run_options, logger);
  if (*deliver) return deliver_command(deliver_options, logger);
  if (*replay) return replay_command(replay_options, logger);
  if (*status) return status_command(status_options, logger);
  if (*sandbox) return sandbox_command(sandbox_options, logger);
  if (*date_parse) return date_parse_command(date_options, logger);
  if (*date_format) return date_format_command(date_options, logger);
  if (*url) return url_command(url_options, logger);
  if (*validate) return validate_command(validate_options, logger);
  return kExitUsage;
}

}  // namespace hubpoll
