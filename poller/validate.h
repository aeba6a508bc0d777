// Checks of poller and instance configurations, statically and against a
// live hub, collected into a report instead of stopping at the first problem.
// Nothing here prints: the CLI formats the report.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "poller/config.h"
#include "poller/http_client.h"
#include "poller/time_types.h"

namespace hubpoll {

enum class Severity { kError, kWarning };

// One problem found in one file.
struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;      // the path as given on the command line
  std::string resource;  // the resource concerned; empty for the whole file
  // RFC 6901 pointer to the value concerned in `file`, empty for the whole
  // document. For a configuration embedded as JSON text, the pointer stops at
  // that string value and `message` names the place inside it.
  std::string pointer;
  std::size_t line = 0;    // 1-based; 0 when unknown
  std::size_t column = 0;  // 1-based, in bytes; 0 when unknown
  std::string message;
  std::string hint;  // the suggested fix; may be empty
};

// The diagnostics of one validation, in the order they were found.
struct ValidationReport {
  std::vector<Diagnostic> diagnostics;

  std::size_t error_count() const;
  std::size_t warning_count() const;
};

const char* severity_name(Severity severity);

// The deepest nesting of arrays and objects that validation reads, counting
// the top-level value as 1. Deeper text is reported instead of parsed,
// because the loader and the schema validator recurse once per level.
constexpr std::size_t kMaxConfigDepth = 64;

// Whether `instance_text`, and every poller configuration that it embeds as
// JSON text, nests at most kMaxConfigDepth levels, so that the loader can
// read it safely. Text that is not valid JSON counts as within the limit.
bool instance_within_depth_limit(std::string_view instance_text);

// Checks a poller configuration file's text: JSON syntax, the embedded
// poller schema, every resource's URL template, id field, date patterns and
// time zones, value ranges, and unknown keys. Appends to `report`.
void validate_poller_text(std::string_view text, const std::string& file,
                          ValidationReport& report);

// Checks an instance body's text: JSON syntax, the embedded instance schema,
// unknown configuration keys, the refresh interval, the callback URL that
// enabled events require, and every poller configuration it embeds.
// `known_resources` are the resources of the poller configuration file. The
// names that `event.poller.urls` lists must be among them, unless the
// instance embeds its own poller configuration. Appends to `report`.
void validate_instance_text(std::string_view text, const std::string& file,
                            const std::vector<std::string>& known_resources,
                            ValidationReport& report);

// The top-level keys of a poller configuration file, or nothing when the
// text is not a JSON object.
std::vector<std::string> resource_names(std::string_view poller_text);

struct ProbeOptions {
  // The hub base URL that resource URLs are relative to, e.g.
  // http://127.0.0.1:8642/elements/api-v2
  std::string base_url;
  // Value of the Authorization header; empty sends none. A secret: it never
  // appears in the report.
  std::string authorization;
  // Secret values removed from error bodies that the hub echoes back.
  std::vector<std::string> secrets;
  HttpLimits limits;
  // The file that configures the resources, where diagnostics point.
  std::string file;
  // The pointer of the poller configuration inside `file`: empty for a
  // poller configuration file, `/configuration/event.poller.configuration`
  // for one embedded in an instance.
  std::string pointer_prefix;
};

// Fetches one page of each resource in `resources`, in that order, and checks
// the sampled records. The id field must be present in every record, unique,
// and not a JSON number above 2^53. Every configured date must parse, and when
// one does not, the error names the first failing record and the hint a
// common pattern that parses every sample. `now` is the poll start the URL
// templates expand against. Network and HTTP failures are errors in the report.
void probe_resources(const std::vector<const ResourceConfig*>& resources,
                     const ProbeOptions& options, Instant now,
                     ValidationReport& report);

// Fills in the line and column of every diagnostic of `file` that has a
// pointer but no line, from the file's text. A pointer that leads into a
// value embedded as text takes the position of that text's string value.
void locate_diagnostics(std::string_view text, const std::string& file,
                        ValidationReport& report);

}  // namespace hubpoll
