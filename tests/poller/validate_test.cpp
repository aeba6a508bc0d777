#include "poller/validate.h"

#include <httplib.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "poller/config.h"
#include "poller/json_util.h"
#include "sandbox/sandbox.h"

namespace hubpoll {
namespace {

const std::string kSourceDir = HUBPOLL_SOURCE_DIR;
const std::string kFixturesDir = HUBPOLL_FIXTURES_DIR;

std::string read_source_file(const std::string& relative_path) {
  auto text = read_text_file(kSourceDir + "/" + relative_path);
  REQUIRE(text.ok());
  return *text;
}

// The diagnostics whose pointer is `pointer`.
std::vector<Diagnostic> at_pointer(const ValidationReport& report,
                                   const std::string& pointer) {
  std::vector<Diagnostic> found;
  for (const Diagnostic& d : report.diagnostics) {
    if (d.pointer == pointer) found.push_back(d);
  }
  return found;
}

std::string describe(const ValidationReport& report) {
  std::string text;
  for (const Diagnostic& d : report.diagnostics) {
    text += std::string(severity_name(d.severity)) + " " + d.file + " [" +
            d.resource + "] " + d.pointer + " " + std::to_string(d.line) + ":" +
            std::to_string(d.column) + " " + d.message + " | " + d.hint + "\n";
  }
  return text;
}

ValidationReport validate_pollers(const std::string& text) {
  ValidationReport report;
  validate_poller_text(text, "pollers.json", report);
  return report;
}

ValidationReport validate_instance(const std::string& text) {
  const std::string pollers = read_source_file("config/pollers.json");
  ValidationReport report;
  validate_instance_text(text, "instance.json", resource_names(pollers),
                         report);
  return report;
}

// A resource whose datesConfiguration is `dates`, for pattern checks.
std::string pollers_with_dates(const std::string& dates) {
  return "{\"statuses\": {\"url\": \"/hubs/social/statuses\", "
         "\"idField\": \"id_str\", \"datesConfiguration\": " +
         dates + "}}";
}

void require_created_at_errors(const PollerConfig& config,
                               const std::string& base_url) {
  std::vector<const ResourceConfig*> resources;
  for (const ResourceConfig& resource : config.resources) {
    resources.push_back(&resource);
  }
  REQUIRE(resources.size() == 5);
  ProbeOptions options;
  options.base_url = base_url;
  options.file = "cloud-elements-twitter.json";
  ValidationReport report;
  probe_resources(resources, options, SystemClock().now(), report);
  INFO(describe(report));

  for (const ResourceConfig* resource : resources) {
    const std::string pointer = "/" + json_pointer_token(resource->name) +
                                "/datesConfiguration/updatedDateFormat";
    const std::vector<Diagnostic> found = at_pointer(report, pointer);
    INFO(pointer);
    REQUIRE(found.size() == 1);
    const Diagnostic& d = found[0];
    CHECK(d.severity == Severity::kError);
    CHECK(d.resource == resource->name);
    CHECK(d.message.find("created_at") != std::string::npos);
    CHECK(d.message.find("\"EEE, dd MMM yyyy HH:mm:ss Z\"") !=
          std::string::npos);
    CHECK(d.message.find("record 1 of") != std::string::npos);
    CHECK(d.message.find("+0000 20") != std::string::npos);  // the value
    CHECK(d.hint.find("\"EEE MMM dd HH:mm:ss Z yyyy\"") != std::string::npos);
  }
  CHECK(report.error_count() == 5);
}

PollerConfig documented_twitter_config() {
  auto config = load_poller_config(
      kSourceDir + "/config/examples/cloud-elements-twitter.json");
  REQUIRE(config.ok());
  return *config;
}

// Serves `body` as the page of every GET, on 127.0.0.1 at a free port.
class PageServer {
 public:
  explicit PageServer(std::string body) : body_(std::move(body)) {
    server_.Get(".*", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket listens from bind on, so requests queue until the accept
    // loop starts.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~PageServer() {
    server_.stop();
    thread_.join();
  }

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

 private:
  std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

ValidationReport probe_page(const std::string& page,
                            const std::string& id_field) {
  auto config = parse_poller_config(
      "{\"statuses\": {\"url\": \"/statuses\", \"idField\": \"" + id_field +
          "\", \"datesConfiguration\": {\"createdDateField\": "
          "\"created_at\", \"createdDateFormat\": "
          "\"EEE MMM dd HH:mm:ss Z yyyy\"}}}",
      "pollers.json");
  REQUIRE(config.ok());
  PageServer server(page);
  ProbeOptions options;
  options.base_url = server.base_url();
  options.file = "pollers.json";
  ValidationReport report;
  probe_resources({&config->resources[0]}, options, SystemClock().now(),
                  report);
  return report;
}

struct CommandOutput {
  int exit_code = -1;
  std::string stdout_text;
};

CommandOutput run_hubpoll(const std::string& arguments) {
  const std::string command =
      std::string(HUBPOLL_BINARY) + " " + arguments + " 2>/dev/null";
  CommandOutput output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    output.stdout_text.append(buffer, read);
  }
  const int status = pclose(pipe);
  REQUIRE(WIFEXITED(status));
  output.exit_code = WEXITSTATUS(status);
  return output;
}

std::string write_temp_file(const std::string& name, const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("hubpoll_validate_test_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("probe of sandbox rejects documented date pattern", "[validate]") {
  auto sandbox = Sandbox::start(SandboxOptions{});
  REQUIRE(sandbox.ok());
  require_created_at_errors(documented_twitter_config(),
                            (*sandbox)->base_url());
}

TEST_CASE("probe of recorded fixtures rejects documented date pattern",
          "[validate]") {
  if (!std::filesystem::exists(kFixturesDir + "/home_timeline.json")) {
    FAIL("recorded Twitter fixtures not found in " + kFixturesDir +
         "; set HUBPOLL_FIXTURES_DIR to a folder with home_timeline.json");
  }
  SandboxOptions options;
  options.fixtures_dir = kFixturesDir;
  auto sandbox = Sandbox::start(options);
  REQUIRE(sandbox.ok());
  require_created_at_errors(documented_twitter_config(),
                            (*sandbox)->base_url());
}

TEST_CASE("unknown enabled resources are listed in one error", "[validate]") {
  const ValidationReport report = validate_instance(R"({
  "name": "billing",
  "configuration": {
    "event.notification.enabled": "false",
    "event.poller.urls": "bill-payments|bills|customers"
  }
})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.pointer == "/configuration/event.poller.urls");
  CHECK(d.message.find("\"bill-payments\"") != std::string::npos);
  CHECK(d.message.find("\"bills\"") != std::string::npos);
  CHECK(d.message.find("\"customers\"") != std::string::npos);
  CHECK(d.line == 5);
  CHECK(d.column == 5);
}

TEST_CASE("enabled events without callback URL are an error", "[validate]") {
  const ValidationReport report = validate_instance(R"({
  "configuration": {"event.notification.enabled": true}
})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].message.find("event.notification.callback.url") !=
        std::string::npos);
  CHECK(report.diagnostics[0].pointer ==
        "/configuration/event.notification.callback.url");
}

TEST_CASE("shipped configurations validate clean", "[validate]") {
  const std::string pollers = read_source_file("config/pollers.json");
  ValidationReport report;
  validate_poller_text(pollers, "config/pollers.json", report);
  validate_instance_text(read_source_file("config/instance.example.json"),
                         "config/instance.example.json",
                         resource_names(pollers), report);
  INFO(describe(report));
  CHECK(report.diagnostics.empty());
}

TEST_CASE("malformed JSON reports line and column", "[validate]") {
  const ValidationReport report =
      validate_pollers("{\n  \"a\": [1,\n  2,, ]\n}");
  INFO(describe(report));
  REQUIRE(report.diagnostics.size() == 1);
  CHECK(report.diagnostics[0].severity == Severity::kError);
  CHECK(report.diagnostics[0].line == 3);
  CHECK(report.diagnostics[0].column == 5);
  CHECK(report.diagnostics[0].message.find("invalid JSON") !=
        std::string::npos);
}

TEST_CASE("schema error points to the nested field", "[validate]") {
  const ValidationReport report = validate_pollers(R"({
  "lists": {"url": "/lists", "idField": "id_str"},
  "statuses": {
    "url": "/statuses",
    "idField": "id_str",
    "datesConfiguration": {
      "updatedDateField": 5
    }
  },
  "users": {"url": "/users", "idField": "id_str", "pageSize": true}
})");
  INFO(describe(report));
  const auto nested =
      at_pointer(report, "/statuses/datesConfiguration/updatedDateField");
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].resource == "statuses");
  CHECK(nested[0].line == 7);
  CHECK(nested[0].column == 7);
  CHECK(nested[0].message.find("expected string") != std::string::npos);

  const auto page_size = at_pointer(report, "/users/pageSize");
  REQUIRE(page_size.size() == 1);
  CHECK(page_size[0].line == 10);
  CHECK(page_size[0].column == 51);
}

TEST_CASE("week-year pattern warns with a computed example", "[validate]") {
  const ValidationReport report = validate_pollers(pollers_with_dates(
      R"({"updatedDateField": "d", "updatedDateFormat": "dd-MMM-YYYY"})"));
  INFO(describe(report));
  REQUIRE(report.diagnostics.size() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.severity == Severity::kWarning);
  CHECK(d.pointer == "/statuses/datesConfiguration/updatedDateFormat");

  using namespace date;
  const Instant day = sys_days{2021_y / December / 29} + std::chrono::hours(12);
  const auto week_year = DatePattern::compile("dd-MMM-YYYY");
  const auto calendar_year = DatePattern::compile("dd-MMM-yyyy");
  REQUIRE(week_year.ok());
  REQUIRE(calendar_year.ok());
  const std::string printed = week_year->format(day, Zone());
  CHECK(printed == "29-Dec-2022");
  CHECK(d.message.find("2021-12-29 as \"" + printed + "\"") !=
        std::string::npos);
  CHECK(d.hint.find("\"dd-MMM-yyyy\"") != std::string::npos);
  CHECK(d.hint.find(calendar_year->format(day, Zone())) != std::string::npos);
}

TEST_CASE("12-hour field without marker warns", "[validate]") {
  const ValidationReport report = validate_pollers(pollers_with_dates(
      R"({"createdDateField": "d", "createdDateFormat": "yyyy-MM-dd hh:mm"})"));
  INFO(describe(report));
  REQUIRE(report.diagnostics.size() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.severity == Severity::kWarning);
  CHECK(d.message.find("\"2021-12-29 03:30\"") != std::string::npos);
  CHECK(d.hint.find("\"yyyy-MM-dd HH:mm\"") != std::string::npos);
}

TEST_CASE("misspelt key warns with the nearest key", "[validate]") {
  const ValidationReport report = validate_pollers(R"({"statuses": {
  "url": "/statuses", "idField": "id_str", "filterByUpdateDate": false}})");
  INFO(describe(report));
  REQUIRE(report.diagnostics.size() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.severity == Severity::kWarning);
  CHECK(d.pointer == "/statuses/filterByUpdateDate");
  CHECK(d.message.find("\"filterByUpdateDate\"") != std::string::npos);
  CHECK(d.hint.find("\"filterByUpdatedDate\"") != std::string::npos);
  CHECK(d.line == 2);
}

TEST_CASE("unknown placeholder is an error at its column", "[validate]") {
  const ValidationReport report = validate_pollers(
      R"({"statuses": {"url": "/s?since=${dat:yyyy}", "idField": "id"}})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.pointer == "/statuses/url");
  CHECK(d.message.find("${dat}") != std::string::npos);
  CHECK(d.line == 1);
  // The value starts after the quote at column 22; `$` is its 10th byte.
  CHECK(d.column == 32);
}

TEST_CASE("unknown time zone is an error", "[validate]") {
  const ValidationReport report = validate_pollers(pollers_with_dates(
      R"({"updatedDateField": "d", "updatedDateFormat": "yyyy",
          "updatedDateTimezone": "Mars/Olympus"})"));
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].pointer ==
        "/statuses/datesConfiguration/updatedDateTimezone");
  CHECK(report.diagnostics[0].message.find("Mars/Olympus") !=
        std::string::npos);
}

TEST_CASE("ids above 2^53 suggest the string twin", "[validate]") {
  const ValidationReport report = probe_page(
      R"([{"id": 9007199254740993, "id_str": "9007199254740993",
           "created_at": "Sat Jul 13 02:27:22 +0000 2019"},
          {"id": 12, "id_str": "12",
           "created_at": "Sat Jul 13 02:27:21 +0000 2019"}])",
      "id");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.pointer == "/statuses/idField");
  CHECK(d.message.find("2^53") != std::string::npos);
  CHECK(d.message.find("9007199254740993") != std::string::npos);
  CHECK(d.hint.find("\"id_str\"") != std::string::npos);
}

TEST_CASE("duplicate ids in the sample are an error", "[validate]") {
  const ValidationReport report = probe_page(
      R"([{"id_str": "7", "created_at": "Sat Jul 13 02:27:22 +0000 2019"},
          {"id_str": "8", "created_at": "Sat Jul 13 02:27:21 +0000 2019"},
          {"id_str": "7", "created_at": "Sat Jul 13 02:27:20 +0000 2019"}])",
      "id_str");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].message.find("\"7\" appears in records 1, 3") !=
        std::string::npos);
}

TEST_CASE("validate command exit codes and formats", "[validate]") {
  const std::string pollers = kSourceDir + "/config/pollers.json";
  const std::string instance = kSourceDir + "/config/instance.example.json";

  SECTION("clean files print a text summary and exit 0") {
    const CommandOutput output =
        run_hubpoll("validate --config " + pollers + " --instance " + instance);
    CHECK(output.exit_code == 0);
    CHECK(output.stdout_text == "0 errors, 0 warnings\n");
  }
  SECTION("errors print JSON and exit 1") {
    const std::string file = write_temp_file(
        "zone.json", R"({"statuses": {"url": "/s", "idField": "id",
        "datesConfiguration": {"updatedDateField": "d",
        "updatedDateFormat": "yyyy", "updatedDateTimezone": "Nowhere"}}})");
    const CommandOutput output =
        run_hubpoll("validate --format json --config " + file);
    std::filesystem::remove(file);
    CHECK(output.exit_code == 1);
    CHECK(output.stdout_text.rfind("{\"errors\":1,\"warnings\":0,", 0) == 0);
    CHECK(output.stdout_text.find("\"pointer\":\"/statuses/datesConfiguration/"
                                  "updatedDateTimezone\"") !=
          std::string::npos);
  }
  SECTION("warnings fail only with --strict") {
    const std::string file = write_temp_file(
        "typo.json",
        R"({"statuses": {"url": "/s", "idField": "id", "pagesize": 5}})");
    const CommandOutput relaxed = run_hubpoll("validate --config " + file);
    const CommandOutput strict =
        run_hubpoll("validate --strict --config " + file);
    std::filesystem::remove(file);
    CHECK(relaxed.exit_code == 0);
    CHECK(relaxed.stdout_text.find("did you mean \"pageSize\"") !=
          std::string::npos);
    CHECK(strict.exit_code == 1);
  }
  SECTION("probe without a hub is a usage error") {
    const CommandOutput output =
        run_hubpoll("validate --probe --config " + pollers);
    CHECK(output.exit_code == 2);
    CHECK(output.stdout_text.empty());
  }
}

// `depth` nested arrays around an empty innermost array.
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// The diagnostics whose message contains `text`.
std::vector<Diagnostic> with_message(const ValidationReport& report,
                                     const std::string& text) {
  std::vector<Diagnostic> found;
  for (const Diagnostic& d : report.diagnostics) {
    if (d.message.find(text) != std::string::npos) found.push_back(d);
  }
  return found;
}

TEST_CASE("deep nesting is an error at its position", "[validate]") {
  SECTION("an unknown resource key holding 50 000 arrays") {
    const ValidationReport report = validate_pollers(
        "{\"statuses\": {\"url\": \"/s\", \"idField\": \"id\"},\n"
        "  \"deep\": " +
        nested_arrays(50000) + "}");
    INFO(describe(report).substr(0, 2000));
    REQUIRE(report.diagnostics.size() == 1);
    const Diagnostic& d = report.diagnostics[0];
    CHECK(d.severity == Severity::kError);
    CHECK(d.file == "pollers.json");
    CHECK(d.message.find("more than 64 levels") != std::string::npos);
    CHECK(d.line == 2);
    // The 64th array is level 65, after the resource object at level 1.
    CHECK(d.column == 11 + 63);
  }
  SECTION("tags of an instance holding 100 000 levels") {
    const ValidationReport report =
        validate_instance("{\"tags\": " + nested_arrays(100000) + "}");
    REQUIRE(report.error_count() == 1);
    CHECK(report.diagnostics[0].line == 1);
    CHECK(report.diagnostics[0].column == 10 + 63);
  }
  SECTION("a poller configuration embedded as text") {
    const std::string inner = "{\"a\": " + nested_arrays(70) + "}";
    std::string escaped;
    append_json_string(escaped, inner);
    const ValidationReport report = validate_instance(
        "{\"configuration\": {\"event.poller.configuration\": " + escaped +
        "}}");
    INFO(describe(report));
    REQUIRE(report.error_count() == 1);
    CHECK(report.diagnostics[0].message.find("line 1, column 70") !=
          std::string::npos);
  }
  SECTION("the command exits 1 instead of crashing") {
    const std::string pollers = write_temp_file(
        "deep-pollers.json", "{\"x\": " + nested_arrays(50000) + "}");
    const std::string instance = write_temp_file(
        "deep-instance.json", "{\"tags\": " + nested_arrays(100000) + "}");
    const CommandOutput config_output =
        run_hubpoll("validate --config " + pollers);
    const CommandOutput instance_output =
        run_hubpoll("validate --config " + kSourceDir + "/config/pollers.json" +
                    " --instance " + instance);
    std::filesystem::remove(pollers);
    std::filesystem::remove(instance);
    CHECK(config_output.exit_code == 1);
    CHECK(config_output.stdout_text.find("1:70: error") != std::string::npos);
    CHECK(instance_output.exit_code == 1);
  }
}

TEST_CASE("json_depth_exceeded skips brackets in strings", "[validate]") {
  CHECK(json_depth_exceeded("[[1]]", 2) == std::string_view::npos);
  CHECK(json_depth_exceeded("[[[1]]]", 2) == 2);
  CHECK(json_depth_exceeded(R"(["[[[", "\"[[["])", 1) ==
        std::string_view::npos);
  CHECK(json_depth_exceeded(R"({"a": [], "b": [[]]})", 2) == 16);
}

TEST_CASE("out-of-range numbers name value and range", "[validate]") {
  const auto message_of = [](const std::string& key, const std::string& value) {
    const ValidationReport report =
        validate_pollers(R"({"s": {"url": "/s", "idField": "id", ")" + key +
                         "\": " + value + "}}");
    INFO(describe(report));
    REQUIRE(report.error_count() == 1);
    return report.diagnostics[0].message;
  };
  CHECK(message_of("pollDelay", "-100") ==
        "pollDelay: -100 seconds is out of range (0 to 31536000)");
  CHECK(message_of("createdCheckTolerance", "-5") ==
        "createdCheckTolerance: -5 seconds is out of range (0 to 31536000)");
  CHECK(message_of("pollDelay", "9223372036854775808") ==
        "pollDelay: 9223372036854775808 seconds is out of range "
        "(0 to 31536000)");
  CHECK(message_of("pollDelay", "\"99999999999999999999\"") ==
        "pollDelay: 99999999999999999999 seconds is out of range "
        "(0 to 31536000)");
  CHECK(message_of("pageSize", "1.5") ==
        "expected a whole number (as an integer or a string of digits), "
        "found 1.5");

  const ValidationReport instance = validate_instance(
      R"({"configuration": {"event.poller.refresh_interval": -3}})");
  INFO(describe(instance));
  REQUIRE(instance.error_count() == 1);
  CHECK(instance.diagnostics[0].message ==
        "event.poller.refresh_interval: -3 minutes is out of range "
        "(1 to 10080)");
}

TEST_CASE("schema failures read as sentences", "[validate]") {
  const ValidationReport empty = validate_pollers("{}");
  INFO(describe(empty));
  REQUIRE(empty.error_count() == 1);
  CHECK(empty.diagnostics[0].message.rfind("no resources are configured", 0) ==
        0);

  const ValidationReport enabled = validate_instance(
      R"({"configuration": {"event.notification.enabled": "yes"}})");
  INFO(describe(enabled));
  REQUIRE(enabled.error_count() == 1);
  CHECK(enabled.diagnostics[0].message ==
        "expected true or false (as a boolean or a string), found \"yes\"");

  const ValidationReport callback = validate_instance(
      R"({"configuration": {"event.notification.callback.url": "ftp://x"}})");
  INFO(describe(callback));
  REQUIRE(callback.error_count() == 1);
  CHECK(callback.diagnostics[0].message ==
        "\"ftp://x\" does not match the pattern \"^https?://\"");

  const ValidationReport tags =
      validate_instance(R"({"tags": ["a", 5], "element": {"key": ""}})");
  INFO(describe(tags));
  CHECK(tags.error_count() == 1);
  for (const Diagnostic& d : tags.diagnostics) {
    CHECK(d.message.find("schema keyword") == std::string::npos);
  }
}

TEST_CASE("empty enabled resource names reported once", "[validate]") {
  const ValidationReport report =
      validate_instance(R"({"configuration": {"event.poller.urls": "||||"}})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].message.find("5 empty resource name(s)") !=
        std::string::npos);
}

TEST_CASE("short legacy line asks for 9 fields", "[validate]") {
  const ValidationReport report = validate_instance(
      R"({"configuration": {"event.poller.urls": "a|/a|x|d|yyyy|GMT|d"}})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const std::string& message = report.diagnostics[0].message;
  CHECK(message.find("legacy pipe-per-line entry") != std::string::npos);
  CHECK(message.find("needs 9") != std::string::npos);
  CHECK(message.find("has 7") != std::string::npos);
  CHECK(with_message(report, "does not define").empty());
}

TEST_CASE("probe hint quotes an unparsed value", "[validate]") {
  const ValidationReport report =
      probe_page(R"([{"id_str": "1", "created_at": "sometime"}])", "id_str");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const std::string& hint = report.diagnostics[0].hint;
  CHECK(hint.find("constraint_text") == std::string::npos);
  CHECK(hint.find("values such as \"sometime\"") != std::string::npos);
}

TEST_CASE("probe separates missing and invalid ids", "[validate]") {
  const ValidationReport report = probe_page(
      R"([{"id": 1.5, "created_at": "Sat Jul 13 02:27:22 +0000 2019"},
          {"created_at": "Sat Jul 13 02:27:21 +0000 2019"},
          {"id": 3, "created_at": "Sat Jul 13 02:27:20 +0000 2019"}])",
      "id");
  INFO(describe(report));
  REQUIRE(report.error_count() == 2);
  const auto missing = with_message(report, "is missing in 1 of 3");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].message.find("record 2 of 3") != std::string::npos);
  const auto invalid = with_message(report, "not a valid id in 1 of 3");
  REQUIRE(invalid.size() == 1);
  CHECK(invalid[0].message.find("id 1.5 is not an integer") !=
        std::string::npos);
}

TEST_CASE("duplicate keys name both lines", "[validate]") {
  const ValidationReport report = validate_pollers(R"({
  "statuses": {"url": "/a", "idField": "id"},
  "statuses": {"url": "/b", "idField": "id"}
})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  const Diagnostic& d = report.diagnostics[0];
  CHECK(d.message == "duplicate key \"statuses\", first at line 2, column 3");
  CHECK(d.line == 3);
  CHECK(d.column == 3);
}

TEST_CASE("empty resource name is an error", "[validate]") {
  const ValidationReport report =
      validate_pollers(R"({"": {"url": "/a", "idField": "id"}})");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].message == "the resource name is empty");
}

TEST_CASE("empty placeholder date pattern is an error", "[validate]") {
  CHECK_FALSE(UrlTemplate::compile("/s?since=${date:}").ok());
  for (const std::string url :
       {"/s?since=${date:}", "/s?since=${gmtDate:}", "/s?since=${now:}",
        "/s?since=${dateTimeZone:GMT:}"}) {
    const ValidationReport report = validate_pollers(
        R"({"s": {"url": ")" + url + R"(", "idField": "id"}})");
    INFO(url + "\n" + describe(report));
    REQUIRE(report.error_count() == 1);
    const Diagnostic& d = report.diagnostics[0];
    CHECK(d.message.find("empty date pattern") != std::string::npos);
    CHECK(d.column == 15 + 10);  // the value's quote is at column 15
  }
}

TEST_CASE("invalid UTF-8 in a URL is an error", "[validate]") {
  const ValidationReport report =
      validate_pollers("{\"s\": {\"url\": \"/s\xff\", \"idField\": \"id\"}}");
  INFO(describe(report));
  REQUIRE(report.error_count() == 1);
  CHECK(report.diagnostics[0].message.find("invalid UTF-8") !=
        std::string::npos);
  CHECK(report.diagnostics[0].line == 1);
}

}  // namespace hubpoll
