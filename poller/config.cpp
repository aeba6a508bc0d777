#include "poller/config.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "poller/json_util.h"

namespace hubpoll {
namespace {

using rapidjson::Value;

constexpr std::array<std::string_view, 9> kResourceKeys = {
    "url",
    "idField",
    "datesConfiguration",
    "filterByUpdatedDate",
    "filterByCurrentDate",
    "createdCheckTolerance",
    "pageSize",
    "pollDelay",
    "recordsField",
};

constexpr std::array<std::string_view, 6> kDateKeys = {
    "updatedDateField", "updatedDateFormat", "updatedDateTimezone",
    "createdDateField", "createdDateFormat", "createdDateTimezone",
};

constexpr std::array<std::string_view, 6> kInstanceSettingKeys = {
    "event.notification.enabled",       "event.notification.callback.url",
    "event.notification.signature.key", "event.poller.refresh_interval",
    "event.poller.configuration",       "event.poller.urls",
};

constexpr int kMaxPageSize = 10000;

Error config_error(std::string message) {
  return make_error(ErrorKind::kConfig, std::move(message));
}

// The error context for one field: `pollers.json: /statuses/pageSize`.
std::string field_location(const std::string& source,
                           const std::string& pointer) {
  return source + ": " + pointer;
}

template <std::size_t N>
void warn_unknown_keys(const Value& object,
                       const std::array<std::string_view, N>& known,
                       const std::string& location_prefix,
                       std::vector<ConfigWarning>* warnings) {
  if (warnings == nullptr) return;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(),
                               it->name.GetStringLength());
    std::string_view nearest;
    std::size_t nearest_distance = SIZE_MAX;
    bool is_known = false;
    for (const std::string_view candidate : known) {
      if (candidate == key) {
        is_known = true;
        break;
      }
      const std::size_t distance = edit_distance(key, candidate);
      if (distance < nearest_distance) {
        nearest_distance = distance;
        nearest = candidate;
      }
    }
    if (is_known) continue;
    std::string message = "unknown key \"" + std::string(key) + "\"";
    if (nearest_distance <= 3) {
      message += " (did you mean \"" + std::string(nearest) + "\"?)";
    }
    warnings->push_back(ConfigWarning{
        location_prefix + "/" + json_pointer_token(key), std::move(message)});
  }
}

Result<rapidjson::Document> parse_json(std::string_view text,
                                       const std::string& source) {
  // Configurations need a few levels; a deeply nested file is refused
  // before anything walks it recursively.
  constexpr std::size_t kMaxDepth = 64;
  const std::size_t too_deep = json_depth_exceeded(text, kMaxDepth);
  if (too_deep != std::string_view::npos) {
    const TextPosition position = position_of(text, too_deep);
    return config_error(source + ": nested more than " +
                        std::to_string(kMaxDepth) + " levels deep at line " +
                        std::to_string(position.line) + ", column " +
                        std::to_string(position.column));
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (document.HasParseError()) {
    const TextPosition position = position_of(text, document.GetErrorOffset());
    return config_error(source + ": invalid JSON at line " +
                        std::to_string(position.line) + ", column " +
                        std::to_string(position.column) + ": " +
                        rapidjson::GetParseError_En(document.GetParseError()));
  }
  return document;
}

// Reads a value that the Cloud Elements formats allow as a string or as its
// JSON type.
Result<bool> read_bool(const Value& value, const std::string& location) {
  if (value.IsBool()) return value.GetBool();
  if (value.IsString()) {
    const std::string_view text(value.GetString(), value.GetStringLength());
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return config_error(location + ": expected true or false");
}

Result<long long> read_integer(const Value& value, const std::string& location,
                               long long min, long long max) {
  long long number = 0;
  bool parsed = false;
  if (value.IsInt64()) {
    number = value.GetInt64();
    parsed = true;
  } else if (value.IsString() && value.GetStringLength() > 0) {
    const char* begin = value.GetString();
    char* end = nullptr;
    errno = 0;
    number = std::strtoll(begin, &end, 10);
    parsed = errno == 0 && end == begin + value.GetStringLength();
  }
  if (!parsed) return config_error(location + ": expected a whole number");
  if (number < min || number > max) {
    return config_error(location + ": " + std::to_string(number) +
                        " is out of range (" + std::to_string(min) + " to " +
                        std::to_string(max) + ")");
  }
  return number;
}

Result<std::string> read_string(const Value& value,
                                const std::string& location) {
  if (!value.IsString()) return config_error(location + ": expected a string");
  return std::string(value.GetString(), value.GetStringLength());
}

const Value* find_member(const Value& object, const char* key) {
  const auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// Reads one of the two date fields (`updated` or `created`) of a
// datesConfiguration object. Returns an empty optional when its field key is
// absent.
Result<std::optional<DateField>> read_date_field(const Value& dates,
                                                 const std::string& prefix,
                                                 const std::string& location) {
  const std::string field_key = prefix + "DateField";
  const std::string format_key = prefix + "DateFormat";
  const std::string zone_key = prefix + "DateTimezone";
  const Value* field = find_member(dates, field_key.c_str());
  if (field == nullptr) return std::optional<DateField>();

  auto path = read_string(*field, location + "/" + field_key);
  if (!path) return path.error();
  if (path->empty()) {
    return config_error(location + "/" + field_key + ": must not be empty");
  }
  const Value* format = find_member(dates, format_key.c_str());
  if (format == nullptr) {
    return config_error(location + ": " + format_key + " is missing (" +
                        field_key + " is set)");
  }
  auto format_text = read_string(*format, location + "/" + format_key);
  if (!format_text) return format_text.error();
  if (format_text->empty()) {
    return config_error(location + "/" + format_key + ": must not be empty");
  }
  auto pattern = DatePattern::compile(*format_text);
  if (!pattern) {
    return config_error(location + "/" + format_key + ": " +
                        pattern.error().message);
  }

  Zone zone;
  if (const Value* zone_value = find_member(dates, zone_key.c_str())) {
    auto zone_name = read_string(*zone_value, location + "/" + zone_key);
    if (!zone_name) return zone_name.error();
    auto parsed_zone = Zone::parse(*zone_name);
    if (!parsed_zone) {
      return config_error(location + "/" + zone_key + ": " +
                          parsed_zone.error().message);
    }
    zone = *parsed_zone;
  }
  return std::optional<DateField>(
      DateField{std::move(*path), std::move(*pattern), zone});
}

Status read_dates_configuration(const Value& dates, const std::string& location,
                                ResourceConfig& resource,
                                std::vector<ConfigWarning>* warnings) {
  if (!dates.IsObject()) return config_error(location + ": expected an object");
  warn_unknown_keys(dates, kDateKeys, location, warnings);

  auto updated = read_date_field(dates, "updated", location);
  if (!updated) return updated.error();
  auto created = read_date_field(dates, "created", location);
  if (!created) return created.error();
  resource.updated_date = std::move(*updated);
  resource.created_date = std::move(*created);
  // A configuration that names only one date uses it for both, so every
  // record gets a type and a window check.
  if (!resource.updated_date) resource.updated_date = resource.created_date;
  if (!resource.created_date) resource.created_date = resource.updated_date;
  return {};
}

Status read_resource_options(const Value& object, const std::string& location,
                             ResourceConfig& resource) {
  if (const Value* v = find_member(object, "filterByUpdatedDate")) {
    auto flag = read_bool(*v, location + "/filterByUpdatedDate");
    if (!flag) return flag.error();
    resource.filter_by_updated_date = *flag;
  }
  if (const Value* v = find_member(object, "filterByCurrentDate")) {
    auto flag = read_bool(*v, location + "/filterByCurrentDate");
    if (!flag) return flag.error();
    resource.filter_by_current_date = *flag;
  }
  if (const Value* v = find_member(object, "createdCheckTolerance")) {
    auto seconds = read_integer(*v, location + "/createdCheckTolerance", 0,
                                365LL * 24 * 3600);
    if (!seconds) return seconds.error();
    resource.created_check_tolerance = std::chrono::seconds(*seconds);
  }
  if (const Value* v = find_member(object, "pageSize")) {
    auto size = read_integer(*v, location + "/pageSize", 1, kMaxPageSize);
    if (!size) return size.error();
    resource.page_size = static_cast<int>(*size);
  }
  if (const Value* v = find_member(object, "pollDelay")) {
    auto seconds =
        read_integer(*v, location + "/pollDelay", 0, 365LL * 24 * 3600);
    if (!seconds) return seconds.error();
    resource.poll_delay = std::chrono::seconds(*seconds);
  }
  if (const Value* v = find_member(object, "recordsField")) {
    auto field = read_string(*v, location + "/recordsField");
    if (!field) return field.error();
    resource.records_field = std::move(*field);
  }
  return {};
}

Result<ResourceConfig> read_resource(const std::string& name,
                                     const Value& object,
                                     const std::string& source,
                                     std::vector<ConfigWarning>* warnings) {
  const std::string pointer = "/" + json_pointer_token(name);
  const std::string location = field_location(source, pointer);
  if (!object.IsObject())
    return config_error(location + ": expected an object");
  warn_unknown_keys(object, kResourceKeys, location, warnings);

  ResourceConfig resource;
  resource.name = name;

  const Value* url = find_member(object, "url");
  if (url == nullptr) return config_error(location + ": url is missing");
  auto url_text = read_string(*url, location + "/url");
  if (!url_text) return url_text.error();
  auto url_template = UrlTemplate::compile(*url_text);
  if (!url_template) {
    return config_error(location + "/url: " + url_template.error().message);
  }
  resource.url = std::move(*url_template);

  const Value* id_field = find_member(object, "idField");
  if (id_field == nullptr)
    return config_error(location + ": idField is missing");
  auto id_path = read_string(*id_field, location + "/idField");
  if (!id_path) return id_path.error();
  if (id_path->empty()) {
    return config_error(location + "/idField: must not be empty");
  }
  resource.id_field = std::move(*id_path);

  if (const Value* dates = find_member(object, "datesConfiguration")) {
    Status status = read_dates_configuration(
        *dates, location + "/datesConfiguration", resource, warnings);
    if (!status) return status.error();
  }
  Status status = read_resource_options(object, location, resource);
  if (!status) return status.error();
  return resource;
}

Result<PollerConfig> read_poller_config(const Value& root,
                                        const std::string& source,
                                        std::vector<ConfigWarning>* warnings) {
  if (!root.IsObject()) {
    return config_error(source + ": expected an object keyed by resource name");
  }
  PollerConfig config;
  for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    if (name.empty()) {
      return config_error(source + ": a resource name is empty");
    }
    // JSON allows a repeated key, but two pollers of one resource would
    // race on the same dedupe keys.
    if (config.find(name) != nullptr) {
      return config_error(source + ": resource \"" + name +
                          "\" is configured twice");
    }
    auto resource = read_resource(name, it->value, source, warnings);
    if (!resource) return resource.error();
    config.resources.push_back(std::move(*resource));
  }
  if (config.resources.empty()) {
    return config_error(source + ": no resources are configured");
  }
  return config;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// Converts the legacy `resource|url|xpath|updField|updFormat|updZone|
// crField|crFormat|crZone` lines into the JSON form. The xpath column
// predates JSON APIs and is ignored.
Result<PollerConfig> read_legacy_urls(std::string_view text,
                                      const std::string& location) {
  PollerConfig config;
  std::size_t line_number = 0;
  for (const std::string& line : split(text, '\n')) {
    ++line_number;
    if (trim(line).empty()) continue;
    const std::vector<std::string> fields = split(line, '|');
    const std::string line_location =
        location + " line " + std::to_string(line_number);
    if (fields.size() != 9) {
      return config_error(line_location +
                          ": expected 9 |-separated fields, "
                          "found " +
                          std::to_string(fields.size()));
    }
    rapidjson::Document entry(rapidjson::kObjectType);
    auto& allocator = entry.GetAllocator();
    auto add = [&](Value& object, const char* key, const std::string& value) {
      object.AddMember(Value(key, allocator),
                       Value(trim(value).c_str(), allocator), allocator);
    };
    add(entry, "url", fields[1]);
    add(entry, "idField", "id");
    Value dates(rapidjson::kObjectType);
    const char* date_keys[] = {"updatedDateField",    "updatedDateFormat",
                               "updatedDateTimezone", "createdDateField",
                               "createdDateFormat",   "createdDateTimezone"};
    for (int i = 0; i < 6; ++i) {
      if (!trim(fields[3 + i]).empty()) add(dates, date_keys[i], fields[3 + i]);
    }
    entry.AddMember("datesConfiguration", dates, allocator);
    auto resource =
        read_resource(trim(fields[0]), entry, line_location, nullptr);
    if (!resource) return resource.error();
    config.resources.push_back(std::move(*resource));
  }
  if (config.resources.empty()) {
    return config_error(location + ": no resources are listed");
  }
  return config;
}

// `event.poller.urls` in any of its three forms.
Status read_poller_urls(const Value& value, const std::string& location,
                        InstanceConfig& instance,
                        std::vector<ConfigWarning>* warnings) {
  if (value.IsObject()) {
    auto config = read_poller_config(value, location, warnings);
    if (!config) return config.error();
    instance.poller_config = std::move(*config);
    return {};
  }
  auto text = read_string(value, location);
  if (!text) return text.error();
  const std::string trimmed = trim(*text);
  if (!trimmed.empty() && trimmed.front() == '{') {
    auto config = parse_poller_config(trimmed, location, warnings);
    if (!config) return config.error();
    instance.poller_config = std::move(*config);
    return {};
  }
  if (std::count(trimmed.begin(), trimmed.end(), '|') >= 8 &&
      split(trimmed.substr(0, trimmed.find('\n')), '|').size() == 9) {
    auto config = read_legacy_urls(trimmed, location);
    if (!config) return config.error();
    instance.poller_config = std::move(*config);
    return {};
  }
  for (const std::string& name : split(trimmed, '|')) {
    const std::string resource = trim(name);
    if (resource.empty()) {
      return config_error(location + ": empty resource name in \"" + trimmed +
                          "\"");
    }
    instance.enabled_resources.push_back(resource);
  }
  return {};
}

Status read_instance_settings(const Value& settings,
                              const std::string& location,
                              InstanceConfig& instance,
                              std::vector<ConfigWarning>* warnings) {
  if (!settings.IsObject()) {
    return config_error(location + ": expected an object");
  }
  warn_unknown_keys(settings, kInstanceSettingKeys, location, warnings);
  const auto key_location = [&](const char* key) {
    return location + "/" + json_pointer_token(key);
  };
  if (const Value* v = find_member(settings, "event.notification.enabled")) {
    auto enabled = read_bool(*v, key_location("event.notification.enabled"));
    if (!enabled) return enabled.error();
    instance.notification_enabled = *enabled;
  }
  if (const Value* v =
          find_member(settings, "event.notification.callback.url")) {
    auto url = read_string(*v, key_location("event.notification.callback.url"));
    if (!url) return url.error();
    if (!url->empty() && url->rfind("http://", 0) != 0 &&
        url->rfind("https://", 0) != 0) {
      return config_error(key_location("event.notification.callback.url") +
                          ": must be an http or https URL, got \"" + *url +
                          "\"");
    }
    instance.callback_url = std::move(*url);
  }
  if (const Value* v =
          find_member(settings, "event.notification.signature.key")) {
    // The value is a secret: messages name the key, never the value.
    auto key =
        read_string(*v, key_location("event.notification.signature.key"));
    if (!key) return key.error();
    instance.signature_key = std::move(*key);
  }
  if (const Value* v = find_member(settings, "event.poller.refresh_interval")) {
    auto minutes = read_integer(
        *v, key_location("event.poller.refresh_interval"), 1, 7 * 24 * 60);
    if (!minutes) return minutes.error();
    instance.refresh_interval = std::chrono::minutes(*minutes);
  }
  if (const Value* v = find_member(settings, "event.poller.configuration")) {
    const std::string where = key_location("event.poller.configuration");
    Result<PollerConfig> config =
        v->IsString()
            ? parse_poller_config(
                  std::string_view(v->GetString(), v->GetStringLength()), where,
                  warnings)
            : read_poller_config(*v, where, warnings);
    if (!config) return config.error();
    instance.poller_config = std::move(*config);
  }
  if (const Value* v = find_member(settings, "event.poller.urls")) {
    Status status = read_poller_urls(*v, key_location("event.poller.urls"),
                                     instance, warnings);
    if (!status) return status;
  }
  return {};
}

}  // namespace

const ResourceConfig* PollerConfig::find(std::string_view name) const {
  for (const ResourceConfig& resource : resources) {
    if (resource.name == name) return &resource;
  }
  return nullptr;
}

Result<PollerConfig> parse_poller_config(std::string_view json_text,
                                         const std::string& source,
                                         std::vector<ConfigWarning>* warnings) {
  auto document = parse_json(json_text, source);
  if (!document) return document.error();
  return read_poller_config(*document, source, warnings);
}

Result<PollerConfig> load_poller_config(const std::string& path,
                                        std::vector<ConfigWarning>* warnings) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_poller_config(*text, path, warnings);
}

Result<InstanceConfig> parse_instance_config(
    std::string_view json_text, const std::string& source,
    std::vector<ConfigWarning>* warnings) {
  auto document = parse_json(json_text, source);
  if (!document) return document.error();
  const Value& root = *document;
  if (!root.IsObject()) return config_error(source + ": expected an object");

  InstanceConfig instance;
  if (const Value* element = find_member(root, "element")) {
    const Value* key =
        element->IsObject() ? find_member(*element, "key") : nullptr;
    if (key == nullptr || !key->IsString()) {
      return config_error(source + ": /element/key: expected a string");
    }
    instance.element_key = key->GetString();
  }
  if (const Value* name = find_member(root, "name")) {
    auto text = read_string(*name, source + ": /name");
    if (!text) return text.error();
    instance.name = std::move(*text);
    instance.instance_id = instance.name;
  }
  if (const Value* id = find_member(root, "id")) {
    if (id->IsString()) {
      instance.instance_id = id->GetString();
    } else if (id->IsUint64()) {
      instance.instance_id = std::to_string(id->GetUint64());
    } else {
      return config_error(source + ": /id: expected a string or a number");
    }
  }
  if (const Value* settings = find_member(root, "configuration")) {
    Status status = read_instance_settings(
        *settings, source + ": /configuration", instance, warnings);
    if (!status) return status.error();
  }
  return instance;
}

Result<InstanceConfig> load_instance_config(
    const std::string& path, std::vector<ConfigWarning>* warnings) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_instance_config(*text, path, warnings);
}

Result<std::string> read_text_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return config_error(path + ": is a directory, not a file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return config_error(path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return config_error(path + ": read failed: " + std::strerror(errno));
  }
  return contents.str();
}

}  // namespace hubpoll
