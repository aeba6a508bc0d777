#include "poller/config.h"

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

namespace hubpoll {
namespace {

const std::string kSourceDir = HUBPOLL_SOURCE_DIR;

const char* const kMinimalResource = R"({"statuses": {
  "url": "/hubs/social/statuses",
  "idField": "id_str",
  "datesConfiguration": {
    "updatedDateField": "created_at",
    "updatedDateFormat": "EEE MMM dd HH:mm:ss Z yyyy",
    "updatedDateTimezone": "GMT"
  }
}})";

TEST_CASE("the shipped poller configuration has the Twitter resources",
          "[config]") {
  std::vector<ConfigWarning> warnings;
  auto config =
      load_poller_config(kSourceDir + "/config/pollers.json", &warnings);
  REQUIRE(config.ok());
  CHECK(warnings.empty());
  REQUIRE(config->resources.size() == 5);
  for (const char* name :
       {"direct-messages/received-messages", "direct-messages/sent-messages",
        "lists", "statuses", "users"}) {
    const ResourceConfig* resource = config->find(name);
    REQUIRE(resource != nullptr);
    CHECK(resource->id_field == "id_str");
    REQUIRE(resource->updated_date.has_value());
    CHECK(resource->updated_date->path == "created_at");
    CHECK(resource->updated_date->pattern.text() ==
          "EEE MMM dd HH:mm:ss Z yyyy");
    REQUIRE(resource->created_date.has_value());
    CHECK(resource->created_date->path == "created_at");
    CHECK(resource->page_size == 200);
    CHECK(resource->filter_by_updated_date);
    CHECK_FALSE(resource->filter_by_current_date);
    CHECK(resource->created_check_tolerance == std::chrono::seconds(10));
  }
}

TEST_CASE("the documented example keeps the documented pattern", "[config]") {
  auto config = load_poller_config(
      kSourceDir + "/config/examples/cloud-elements-twitter.json");
  REQUIRE(config.ok());
  CHECK(config->find("lists")->updated_date->pattern.text() ==
        "EEE, dd MMM yyyy HH:mm:ss Z");
}

TEST_CASE("a missing configuration file names the file", "[config]") {
  auto config = load_poller_config("/nonexistent/pollers.json");
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().kind == ErrorKind::kConfig);
  CHECK(config.error().message ==
        "/nonexistent/pollers.json: cannot open: No such file or directory");
}

TEST_CASE("a folder given as a configuration file is an error", "[config]") {
  testing::TempDir dir;
  auto config = load_poller_config(dir.path());
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().message == dir.path() + ": is a directory, not a file");
}

TEST_CASE("malformed JSON names line and column", "[config]") {
  auto config = parse_poller_config("{\n  \"statuses\": {\n    \"url\": ,\n",
                                    "pollers.json");
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.error().message,
             Catch::StartsWith("pollers.json: invalid JSON at line 3, "
                               "column 12: "));
}

TEST_CASE("deeply nested configuration is refused", "[config]") {
  const std::string text =
      "{\"s\": " + std::string(50000, '[') + std::string(50000, ']') + "}";
  auto config = parse_poller_config(text, "p.json");
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().message ==
        "p.json: nested more than 64 levels deep at line 1, column 70");
}

TEST_CASE("resource errors name the resource and field", "[config]") {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"s": {"idField": "id"}})", "p.json: /s: url is missing"},
      {R"({"s": {"url": "/x"}})", "p.json: /s: idField is missing"},
      {R"({"s": {"url": "/x", "idField": ""}})",
       "p.json: /s/idField: must not be empty"},
      {R"({"a/b": {"url": 3, "idField": "id"}})",
       "p.json: /a~1b/url: expected a string"},
      {R"({"s": {"url": "/x", "idField": "id", "pageSize": 0}})",
       "p.json: /s/pageSize: 0 is out of range (1 to 10000)"},
      {R"({"s": {"url": "/x", "idField": "id", "pageSize": "ten"}})",
       "p.json: /s/pageSize: expected a whole number"},
      {R"({"s": {"url": "/x", "idField": "id", "filterByUpdatedDate": 1}})",
       "p.json: /s/filterByUpdatedDate: expected true or false"},
      {R"({"s": {"url": "/x", "idField": "id", "datesConfiguration": {)"
       R"("updatedDateField": "d"}}})",
       "p.json: /s/datesConfiguration: updatedDateFormat is missing "
       "(updatedDateField is set)"},
      {"[]", "p.json: expected an object keyed by resource name"},
      {R"({"": {"url": "/x", "idField": "id"}})",
       "p.json: a resource name is empty"},
      {R"({"s": {"url": "/x", "idField": "id"}, "s": {"url": "/y", )"
       R"("idField": "id"}})",
       "p.json: resource \"s\" is configured twice"},
      {R"({"s": {"url": "/x", "idField": "id", "datesConfiguration": {)"
       R"("updatedDateField": "d", "updatedDateFormat": ""}}})",
       "p.json: /s/datesConfiguration/updatedDateFormat: must not be empty"},
      {"{}", "p.json: no resources are configured"},
  };
  for (const Case& test : cases) {
    INFO(test.json);
    auto config = parse_poller_config(test.json, "p.json");
    REQUIRE_FALSE(config.ok());
    CHECK(config.error().message == test.message);
  }
}

TEST_CASE("invalid patterns, zones and placeholders are errors", "[config]") {
  SECTION("pattern") {
    auto config = parse_poller_config(
        R"({"s": {"url": "/x", "idField": "id", "datesConfiguration": {)"
        R"("updatedDateField": "d", "updatedDateFormat": "yyyy-qq"}}})",
        "p.json");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(
        config.error().message,
        Catch::StartsWith("p.json: /s/datesConfiguration/updatedDateFormat: "));
  }
  SECTION("zone") {
    auto config = parse_poller_config(
        R"({"s": {"url": "/x", "idField": "id", "datesConfiguration": {)"
        R"("updatedDateField": "d", "updatedDateFormat": "yyyy",)"
        R"("updatedDateTimezone": "Mars/Olympus"}}})",
        "p.json");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message,
               Catch::StartsWith(
                   "p.json: /s/datesConfiguration/updatedDateTimezone: "));
  }
  SECTION("placeholder") {
    auto config = parse_poller_config(
        R"({"s": {"url": "/x?since=${yesterday}", "idField": "id"}})",
        "p.json");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::StartsWith("p.json: /s/url: "));
  }
}

TEST_CASE("options accept strings or their JSON types", "[config]") {
  auto config = parse_poller_config(
      R"({"s": {"url": "/x", "idField": "id", "pageSize": "50",)"
      R"( "filterByUpdatedDate": "false", "filterByCurrentDate": true,)"
      R"( "createdCheckTolerance": 0, "pollDelay": "30",)"
      R"( "recordsField": "events"}})",
      "p.json");
  REQUIRE(config.ok());
  const ResourceConfig& resource = config->resources.front();
  CHECK(resource.page_size == 50);
  CHECK_FALSE(resource.filter_by_updated_date);
  CHECK(resource.filter_by_current_date);
  CHECK(resource.created_check_tolerance == std::chrono::seconds(0));
  CHECK(resource.poll_delay == std::chrono::seconds(30));
  CHECK(resource.records_field == "events");
}

TEST_CASE("one configured date serves as both dates", "[config]") {
  auto config = parse_poller_config(kMinimalResource, "p.json");
  REQUIRE(config.ok());
  const ResourceConfig& resource = config->resources.front();
  REQUIRE(resource.created_date.has_value());
  CHECK(resource.created_date->path == "created_at");
}

TEST_CASE("unknown keys are warned with the nearest known key", "[config]") {
  std::vector<ConfigWarning> warnings;
  auto config = parse_poller_config(
      R"({"s": {"url": "/x", "idField": "id", "filterByUpdateDate": false,)"
      R"( "colour": 1}})",
      "p.json", &warnings);
  REQUIRE(config.ok());
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].location == "p.json: /s/filterByUpdateDate");
  CHECK(warnings[0].message ==
        "unknown key \"filterByUpdateDate\" (did you mean "
        "\"filterByUpdatedDate\"?)");
  CHECK(warnings[1].message == "unknown key \"colour\"");
}

TEST_CASE("the example instance enables webhook notifications", "[config]") {
  auto instance =
      load_instance_config(kSourceDir + "/config/instance.example.json");
  REQUIRE(instance.ok());
  CHECK(instance->element_key == "twitter");
  CHECK(instance->notification_enabled);
  CHECK(instance->refresh_interval == std::chrono::minutes(15));
  CHECK_THAT(instance->callback_url, Catch::StartsWith("http://"));
  CHECK(instance->enabled_resources.size() == 5);
  CHECK_FALSE(instance->poller_config.has_value());
}

TEST_CASE("instance values may be strings or JSON types", "[config]") {
  auto instance =
      parse_instance_config(R"({"id": 12345, "name": "n", "configuration": {)"
                            R"("event.notification.enabled": false,)"
                            R"("event.poller.refresh_interval": 5}})",
                            "i.json");
  REQUIRE(instance.ok());
  CHECK(instance->instance_id == "12345");
  CHECK_FALSE(instance->notification_enabled);
  CHECK(instance->refresh_interval == std::chrono::minutes(5));
}

TEST_CASE("instance settings are checked", "[config]") {
  struct Case {
    const char* settings;
    const char* message;
  };
  const Case cases[] = {
      {R"("event.poller.refresh_interval": "0")",
       "i.json: /configuration/event.poller.refresh_interval: 0 is out of "
       "range (1 to 10080)"},
      {R"("event.notification.callback.url": "ftp://x/")",
       "i.json: /configuration/event.notification.callback.url: must be an "
       "http or https URL, got \"ftp://x/\""},
      {R"("event.notification.enabled": "yes")",
       "i.json: /configuration/event.notification.enabled: expected true or "
       "false"},
  };
  for (const Case& test : cases) {
    INFO(test.settings);
    auto instance = parse_instance_config(
        std::string(R"({"configuration": {)") + test.settings + "}}", "i.json");
    REQUIRE_FALSE(instance.ok());
    CHECK(instance.error().message == test.message);
  }
}

TEST_CASE("the signature key never appears in messages", "[config]") {
  auto instance = parse_instance_config(
      R"({"configuration": {"event.notification.signature.key": 42}})",
      "i.json");
  REQUIRE_FALSE(instance.ok());
  CHECK(instance.error().message ==
        "i.json: /configuration/event.notification.signature.key: expected a "
        "string");
}

TEST_CASE("event.poller.urls is read in all three forms", "[config]") {
  SECTION("a list of resource names") {
    auto instance = parse_instance_config(
        R"({"configuration": {"event.poller.urls": "statuses|users"}})",
        "i.json");
    REQUIRE(instance.ok());
    CHECK(instance->enabled_resources ==
          std::vector<std::string>{"statuses", "users"});
  }
  SECTION("JSON text") {
    std::string escaped;
    for (const char c : std::string(kMinimalResource)) {
      if (c == '"') escaped += '\\';
      if (c == '\n') {
        escaped += "\\n";
        continue;
      }
      escaped += c;
    }
    auto instance = parse_instance_config(
        R"({"configuration": {"event.poller.urls": ")" + escaped + "\"}}",
        "i.json");
    REQUIRE(instance.ok());
    REQUIRE(instance->poller_config.has_value());
    CHECK(instance->poller_config->find("statuses") != nullptr);
  }
  SECTION("legacy lines") {
    auto instance = parse_instance_config(
        R"({"configuration": {"event.poller.urls": )"
        R"("statuses|/hubs/social/statuses|/|created_at|)"
        R"(EEE MMM dd HH:mm:ss Z yyyy|GMT|created_at|)"
        R"(EEE MMM dd HH:mm:ss Z yyyy|GMT\nlists|/hubs/social/lists||)"
        R"(created_at|EEE MMM dd HH:mm:ss Z yyyy|GMT|||"}})",
        "i.json");
    REQUIRE(instance.ok());
    REQUIRE(instance->poller_config.has_value());
    REQUIRE(instance->poller_config->resources.size() == 2);
    const ResourceConfig* lists = instance->poller_config->find("lists");
    REQUIRE(lists != nullptr);
    CHECK(lists->updated_date->path == "created_at");
    CHECK(lists->created_date->path == "created_at");
  }
  SECTION("a legacy line with the wrong number of fields") {
    auto instance = parse_instance_config(
        R"({"configuration": {"event.poller.urls": )"
        R"("a|/a|x|d|yyyy|GMT|d|yyyy|GMT\nb|/b|x|d|yyyy"}})",
        "i.json");
    REQUIRE_FALSE(instance.ok());
    CHECK(instance.error().message ==
          "i.json: /configuration/event.poller.urls line 2: expected 9 "
          "|-separated fields, found 5");
  }
}

TEST_CASE("event.poller.configuration may be an object or a string",
          "[config]") {
  auto as_object = parse_instance_config(
      std::string(R"({"configuration": {"event.poller.configuration": )") +
          kMinimalResource + "}}",
      "i.json");
  REQUIRE(as_object.ok());
  REQUIRE(as_object->poller_config.has_value());

  auto broken = parse_instance_config(
      R"({"configuration": {"event.poller.configuration": "{\"s\": "}})",
      "i.json");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().message,
             Catch::StartsWith("i.json: /configuration/"
                               "event.poller.configuration: invalid JSON at "
                               "line 1, column 7"));
}

}  // namespace
}  // namespace hubpoll
