// `hubpoll validate`: reads the files, runs the checks of poller/validate.h,
// optionally probes a hub, and prints the report.
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "poller/cli.h"
#include "poller/commands.h"
#include "poller/config.h"
#include "poller/json_util.h"
#include "poller/secrets.h"
#include "poller/validate.h"
#include "sandbox/sandbox.h"

namespace hubpoll {
namespace {

// The Authorization header from HUBPOLL_USER_SECRET,
// HUBPOLL_ORGANIZATION_SECRET and HUBPOLL_ELEMENT_TOKEN, built as `run`
// builds it; empty when none is set.

// The usage problem in `options`, or nothing.
std::optional<std::string> usage_error(const ValidateOptions& options) {
  if (options.format != "text" && options.format != "json") {
    return "--format must be text or json, got \"" + options.format + "\"";
  }
  if (options.probe && options.base_url.empty() && !options.sandbox) {
    return "--probe needs a hub: pass --base-url URL, or --sandbox to probe "
           "the built-in sandbox";
  }
  if (options.sandbox && !options.base_url.empty()) {
    return "--sandbox and --base-url both name the hub to probe; pass one";
  }
  if (!options.probe && (options.sandbox || !options.base_url.empty())) {
    return "--sandbox and --base-url apply only with --probe";
  }
  if (!options.sandbox_fixtures.empty() && !options.sandbox) {
    return "--fixtures applies only with --sandbox";
  }
  return std::nullopt;
}

void report_file_error(const std::string& file, const Error& error,
                       ValidationReport& report) {
  Diagnostic diagnostic;
  diagnostic.file = file;
  diagnostic.message = error.message;
  report.diagnostics.push_back(std::move(diagnostic));
}

// The files read, so that probe diagnostics can be placed in them.
struct LoadedFiles {
  std::string config_path;
  std::optional<std::string> config_text;
  std::optional<std::string> instance_text;
  // The instance's own poller configuration, which replaces the file's.
  std::optional<InstanceConfig> instance;
};

LoadedFiles check_files(const ValidateOptions& options,
                        ValidationReport& report) {
  LoadedFiles files;
  files.config_path = options.config_path;
  if (!options.instance_path.empty()) {
    auto text = read_text_file(options.instance_path);
    if (text) {
      files.instance_text = std::move(*text);
      // validate_instance_text reports text too deep for the loader.
      if (instance_within_depth_limit(*files.instance_text)) {
        auto instance =
            parse_instance_config(*files.instance_text, options.instance_path);
        if (instance) files.instance = std::move(*instance);
      }
    } else {
      report_file_error(options.instance_path, text.error(), report);
    }
  }
  const bool instance_has_pollers =
      files.instance && files.instance->poller_config;

  auto config_text = read_text_file(options.config_path);
  if (config_text) {
    files.config_text = std::move(*config_text);
    validate_poller_text(*files.config_text, options.config_path, report);
  } else if (!instance_has_pollers) {
    report_file_error(options.config_path, config_text.error(), report);
  }

  if (files.instance_text) {
    const std::vector<std::string> known =
        files.config_text ? resource_names(*files.config_text)
                          : std::vector<std::string>();
    validate_instance_text(*files.instance_text, options.instance_path, known,
                           report);
  }
  return files;
}

// Returns where in the instance its poller configuration is:
// `event.poller.urls` when that contains one (it wins, as in the loader), else
// `event.poller.configuration`.
std::string instance_pollers_pointer(const std::string& instance_text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(instance_text.c_str(),
                                                 instance_text.size());
  const std::string urls = "/configuration/event.poller.urls";
  const std::string configuration = "/configuration/event.poller.configuration";
  if (document.HasParseError() || !document.IsObject()) return configuration;
  const auto settings = document.FindMember("configuration");
  if (settings == document.MemberEnd() || !settings->value.IsObject()) {
    return configuration;
  }
  const auto value = settings->value.FindMember("event.poller.urls");
  if (value == settings->value.MemberEnd()) return configuration;
  if (value->value.IsObject()) return urls;
  if (!value->value.IsString()) return configuration;
  const std::string text = value->value.GetString();
  const bool is_list = text.find('{') == std::string::npos &&
                       std::count(text.begin(), text.end(), '|') < 8;
  return is_list ? configuration : urls;
}

// Probes the resources the files enable. Returns false when the sandbox
// could not start.
bool probe(const ValidateOptions& options, const LoadedFiles& files,
           ValidationReport& report, Logger& logger) {
  PollerConfig pollers;
  ProbeOptions probe_options;
  if (files.instance && files.instance->poller_config) {
    pollers = *files.instance->poller_config;
    probe_options.file = options.instance_path;
    probe_options.pointer_prefix =
        instance_pollers_pointer(*files.instance_text);
  } else if (files.config_text) {
    if (json_depth_exceeded(*files.config_text, kMaxConfigDepth) !=
        std::string_view::npos) {
      logger.warning("not probing: " + options.config_path +
                     " is nested too deeply to read");
      return true;
    }
    auto loaded = parse_poller_config(*files.config_text, options.config_path);
    if (!loaded) {
      // The static checks have already reported why it does not load.
      logger.warning("not probing: " + loaded.error().message);
      return true;
    }
    pollers = std::move(*loaded);
    probe_options.file = options.config_path;
  } else {
    return true;
  }

  std::vector<const ResourceConfig*> resources;
  const std::vector<std::string> enabled =
      files.instance ? files.instance->enabled_resources
                     : std::vector<std::string>();
  for (const ResourceConfig& resource : pollers.resources) {
    if (enabled.empty() || std::find(enabled.begin(), enabled.end(),
                                     resource.name) != enabled.end()) {
      resources.push_back(&resource);
    }
  }

  std::unique_ptr<Sandbox> sandbox;
  probe_options.base_url = options.base_url;
  if (options.sandbox) {
    SandboxOptions sandbox_options;
    sandbox_options.fixtures_dir = options.sandbox_fixtures;
    auto started = Sandbox::start(sandbox_options);
    if (!started) {
      logger.error("starting the sandbox failed: " + started.error().message);
      return false;
    }
    sandbox = std::move(*started);
    probe_options.base_url = sandbox->base_url();
  }
  const Credentials credentials = credentials_from_environment();
  probe_options.authorization = credentials.authorization();
  probe_options.secrets = credentials.values();
  logger.info("probing " + std::to_string(resources.size()) +
              " resource(s) at " + probe_options.base_url);
  probe_resources(resources, probe_options, SystemClock().now(), report);

  const std::optional<std::string>& text =
      probe_options.file == options.config_path ? files.config_text
                                                : files.instance_text;
  if (text) locate_diagnostics(*text, probe_options.file, report);
  return true;
}

// Files, then resources within each file, in the order first reported; a
// file's own diagnostics come before its resources'.
std::vector<std::vector<const Diagnostic*>> group_diagnostics(
    const ValidationReport& report) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const Diagnostic& d : report.diagnostics) {
    const std::pair<std::string, std::string> key{d.file, d.resource};
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(key);
    }
  }
  std::stable_sort(
      keys.begin(), keys.end(), [&keys](const auto& a, const auto& b) {
        const auto first_of = [&keys](const std::string& file) {
          return std::find_if(
                     keys.begin(), keys.end(),
                     [&file](const auto& k) { return k.first == file; }) -
                 keys.begin();
        };
        if (a.first != b.first) return first_of(a.first) < first_of(b.first);
        return a.second.empty() && !b.second.empty();
      });
  std::vector<std::vector<const Diagnostic*>> groups;
  for (const auto& key : keys) {
    groups.emplace_back();
    for (const Diagnostic& d : report.diagnostics) {
      if (d.file == key.first && d.resource == key.second) {
        groups.back().push_back(&d);
      }
    }
  }
  return groups;
}

std::string plural(std::size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string format_text(const ValidationReport& report) {
  std::string out;
  std::string file;
  for (const auto& group : group_diagnostics(report)) {
    const Diagnostic& head = *group.front();
    if (head.file != file) {
      file = head.file;
      out += file + "\n";
    }
    std::string indent = "  ";
    if (!head.resource.empty()) {
      out += "  resource " + head.resource + "\n";
      indent = "    ";
    }
    for (const Diagnostic* d : group) {
      out += indent;
      if (d->line > 0) {
        out += std::to_string(d->line) + ":" + std::to_string(d->column) + ": ";
      }
      out += std::string(severity_name(d->severity)) + ": ";
      if (!d->pointer.empty()) out += d->pointer + ": ";
      out += d->message + "\n";
      if (!d->hint.empty()) out += indent + "  hint: " + d->hint + "\n";
    }
  }
  out += plural(report.error_count(), "error") + ", " +
         plural(report.warning_count(), "warning") + "\n";
  return out;
}

void append_optional_string(std::string& out, const std::string& value) {
  if (value.empty()) {
    out += "null";
  } else {
    append_json_string(out, value);
  }
}

void append_optional_number(std::string& out, std::size_t value) {
  out += value == 0 ? "null" : std::to_string(value);
}

std::string format_json(const ValidationReport& report) {
  std::string out = "{\"errors\":" + std::to_string(report.error_count()) +
                    ",\"warnings\":" + std::to_string(report.warning_count()) +
                    ",\"diagnostics\":[";
  bool first = true;
  for (const auto& group : group_diagnostics(report)) {
    for (const Diagnostic* d : group) {
      out += first ? "{" : ",{";
      first = false;
      out += "\"severity\":";
      append_json_string(out, severity_name(d->severity));
      out += ",\"file\":";
      append_json_string(out, d->file);
      out += ",\"resource\":";
      append_optional_string(out, d->resource);
      out += ",\"pointer\":";
      append_json_string(out, d->pointer);
      out += ",\"line\":";
      append_optional_number(out, d->line);
      out += ",\"column\":";
      append_optional_number(out, d->column);
      out += ",\"message\":";
      append_json_string(out, d->message);
      out += ",\"hint\":";
      append_optional_string(out, d->hint);
      out += "}";
    }
  }
  out += "]}\n";
  return out;
}

}  // namespace

int validate_command(const ValidateOptions& options, Logger& logger) {
  if (auto problem = usage_error(options)) {
    logger.error(*problem);
    return kExitUsage;
  }

  ValidationReport report;
  const LoadedFiles files = check_files(options, report);
  if (options.probe && !probe(options, files, report, logger)) {
    return kExitFailure;
  }

  const std::string output =
      options.format == "json" ? format_json(report) : format_text(report);
  std::fwrite(output.data(), 1, output.size(), stdout);
  std::fflush(stdout);

  const bool failed = report.error_count() > 0 ||
                      (options.strict && report.warning_count() > 0);
  return failed ? kExitFailure : kExitOk;
}

}  // namespace hubpoll
