// Poller and instance configurations in the Cloud Elements formats.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "poller/date_pattern.h"
#include "poller/result.h"
#include "poller/url_template.h"
#include "poller/zone.h"

namespace hubpoll {

// One date field of a record: where it is, its pattern and its zone.
struct DateField {
  std::string path;  // dotted path into the record, e.g. `created_at`
  DatePattern pattern;
  Zone zone;
};

// The polling settings of one resource: one entry of the poller
// configuration.
struct ResourceConfig {
  std::string name;
  UrlTemplate url;
  std::string id_field;  // dotted path, e.g. `id_str` or `user.id`
  std::optional<DateField> updated_date;
  std::optional<DateField> created_date;
  bool filter_by_updated_date = true;
  bool filter_by_current_date = false;
  std::chrono::seconds created_check_tolerance{10};
  int page_size = 200;
  std::chrono::seconds poll_delay{0};
  // Member of an object body that contains the records. Empty: the body itself
  // when it is an array, else its only array member.
  std::string records_field;
};

// The resources to poll, in the order of the configuration file.
struct PollerConfig {
  std::vector<ResourceConfig> resources;

  const ResourceConfig* find(std::string_view name) const;
};

// A problem found while reading a configuration that does not stop it from
// being used, such as an unknown key.
struct ConfigWarning {
  std::string location;  // file and JSON pointer, e.g. `pollers.json: /lists`
  std::string message;
};

// Parses a poller configuration from JSON text. `source` names the text in
// messages (a file path, or `event.poller.configuration`). Errors name the
// resource and field, and malformed JSON names line and column.
Result<PollerConfig> parse_poller_config(
    std::string_view json_text, const std::string& source,
    std::vector<ConfigWarning>* warnings = nullptr);

// Reads and parses a poller configuration file.
Result<PollerConfig> load_poller_config(
    const std::string& path, std::vector<ConfigWarning>* warnings = nullptr);

// The parts of a Cloud Elements instance body that the poller uses.
struct InstanceConfig {
  std::string element_key = "twitter";
  std::string name = "hubpoll";
  // Identifies the instance in events and in the store: the body's `id`
  // when present, else its `name`.
  std::string instance_id = "hubpoll";
  bool notification_enabled = true;
  std::string callback_url;
  std::string signature_key;  // secret: never logged or stored
  std::chrono::minutes refresh_interval{15};
  // From `event.poller.configuration`, or `event.poller.urls` in its JSON or
  // legacy pipe-per-line form.
  std::optional<PollerConfig> poller_config;
  // From `event.poller.urls` as a `|`-separated list of resource names.
  // Empty: every configured resource.
  std::vector<std::string> enabled_resources;
};

// Parses an instance body. `source` names the text in messages.
Result<InstanceConfig> parse_instance_config(
    std::string_view json_text, const std::string& source,
    std::vector<ConfigWarning>* warnings = nullptr);

Result<InstanceConfig> load_instance_config(
    const std::string& path, std::vector<ConfigWarning>* warnings = nullptr);

// Reads a whole file. Errors name the path and the system's reason.
Result<std::string> read_text_file(const std::string& path);

}  // namespace hubpoll
