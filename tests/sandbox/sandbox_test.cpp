#include "sandbox/sandbox.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <locale>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hubpoll {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using std::chrono::seconds;

constexpr const char* kSocialPath = "/elements/api-v2/hubs/social/";
constexpr const char* kNextPageHeader = "elements-next-page-token";
const std::vector<std::string> kResources = {
    "statuses", "users", "lists", "direct-messages/received-messages",
    "direct-messages/sent-messages"};

// 2024-03-05 12:00:00 UTC, a Tuesday.
const Instant kNow =
    date::sys_days{date::year{2024} / 3 / 5} + std::chrono::hours{12};
constexpr std::int64_t kNowSeconds = 1709640000;
constexpr std::int64_t kNewestAgeSeconds = 180;

class FixedClock final : public Clock {
 public:
  explicit FixedClock(Instant now) : now_(now) {}
  Instant now() const override { return now_.load(); }
  void set(Instant now) { now_.store(now); }

 private:
  std::atomic<Instant> now_;
};

std::string fixtures_dir() {
  const std::string dir = HUBPOLL_FIXTURES_DIR;
  if (!std::filesystem::is_directory(dir)) {
    FAIL("recorded Twitter fixtures not found: looked in "
         << dir << " (set the HUBPOLL_FIXTURES_DIR CMake cache variable)");
  }
  return dir;
}

// Parses Twitter's date format with the C library, independently of the
// sandbox's own parser. Returns seconds since the epoch.
std::int64_t twitter_seconds(const std::string& text) {
  std::tm fields{};
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> std::get_time(&fields, "%a %b %d %H:%M:%S +0000 %Y");
  INFO("date: " << text);
  REQUIRE_FALSE(in.fail());
  return static_cast<std::int64_t>(timegm(&fields));
}

std::int64_t created_seconds(const Value& record) {
  REQUIRE(record.HasMember("created_at"));
  REQUIRE(record["created_at"].IsString());
  return twitter_seconds(record["created_at"].GetString());
}

std::string id_of(const Value& record) {
  REQUIRE(record.HasMember("id_str"));
  REQUIRE(record["id_str"].IsString());
  return record["id_str"].GetString();
}

Document parse_json(const std::string& text) {
  Document document;
  document.Parse(text.data(), text.size());
  INFO("body: " << text.substr(0, 200));
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

Document read_fixture(const std::string& name) {
  std::ifstream in(fixtures_dir() + "/" + name + ".json");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return parse_json(text.str());
}

std::unique_ptr<Sandbox> start_sandbox(const SandboxOptions& options) {
  Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
  if (!sandbox) FAIL("sandbox failed to start: " << sandbox.error().message);
  return std::move(sandbox).value();
}

SandboxOptions generated_options(const Clock& clock) {
  SandboxOptions options;
  options.clock = &clock;
  return options;
}

SandboxOptions recorded_options(const Clock& clock) {
  SandboxOptions options = generated_options(clock);
  options.fixtures_dir = fixtures_dir();
  return options;
}

httplib::Result get(httplib::Client& client, const std::string& path) {
  httplib::Result response = client.Get(path.c_str());
  INFO("GET " << path);
  REQUIRE(response);
  return response;
}

// Fetches one resource in a single page.
Document fetch_all(httplib::Client& client, const std::string& resource) {
  httplib::Result response =
      get(client, kSocialPath + resource + "?pageSize=1000");
  REQUIRE(response->status == 200);
  REQUIRE_FALSE(response->has_header(kNextPageHeader));
  Document records = parse_json(response->body);
  REQUIRE(records.IsArray());
  return records;
}

struct PageWalk {
  std::vector<std::string> ids;
  std::vector<std::size_t> page_lengths;
};

PageWalk walk_pages(httplib::Client& client, const std::string& resource,
                    std::size_t page_size) {
  PageWalk walk;
  std::string token;
  for (int page = 0; page < 1000; ++page) {
    std::string path =
        kSocialPath + resource + "?pageSize=" + std::to_string(page_size);
    if (!token.empty()) path += "&nextPage=" + token;
    httplib::Result response = get(client, path);
    REQUIRE(response->status == 200);

    Document records = parse_json(response->body);
    REQUIRE(records.IsArray());
    walk.page_lengths.push_back(records.Size());
    for (const Value& record : records.GetArray()) {
      walk.ids.push_back(id_of(record));
    }
    if (!response->has_header(kNextPageHeader)) return walk;
    token = response->get_header_value(kNextPageHeader);
    REQUIRE_FALSE(token.empty());
  }
  FAIL("paging did not end after 1000 pages");
  return walk;
}

std::string error_message(const httplib::Result& response) {
  Document body = parse_json(response->body);
  REQUIRE(body.IsObject());
  REQUIRE(body.HasMember("message"));
  REQUIRE(body["message"].IsString());
  return body["message"].GetString();
}

std::map<std::string, const Value*> by_id(const Value& records) {
  std::map<std::string, const Value*> index;
  for (const Value& record : records.GetArray()) {
    index[id_of(record)] = &record;
  }
  return index;
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("hubpoll_sandbox_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_CASE("each resource returns a JSON array", "[sandbox]") {
  FixedClock clock(kNow);
  for (bool recorded : {false, true}) {
    auto sandbox = start_sandbox(recorded ? recorded_options(clock)
                                          : generated_options(clock));
    httplib::Client client("127.0.0.1", sandbox->port());
    for (const std::string& resource : kResources) {
      INFO((recorded ? "recorded " : "generated ") << resource);
      httplib::Result response = get(client, kSocialPath + resource);
      CHECK(response->status == 200);
      CHECK(response->get_header_value("Content-Type") == "application/json");
      CHECK(response->get_header_value("Date") ==
            "Tue, 05 Mar 2024 12:00:00 GMT");
      CHECK(response->get_header_value_count("Date") == 1);
      Document records = parse_json(response->body);
      REQUIRE(records.IsArray());
      CHECK(records.Size() > 0);
    }
  }
}

TEST_CASE("base URL names the bound port", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  CHECK(sandbox->port() != 0);
  CHECK(sandbox->base_url() ==
        "http://127.0.0.1:" + std::to_string(sandbox->port()) +
            "/elements/api-v2");
}

TEST_CASE("paging visits every record once", "[sandbox]") {
  FixedClock clock(kNow);
  for (bool recorded : {false, true}) {
    auto sandbox = start_sandbox(recorded ? recorded_options(clock)
                                          : generated_options(clock));
    httplib::Client client("127.0.0.1", sandbox->port());
    for (const std::string& resource : kResources) {
      INFO((recorded ? "recorded " : "generated ") << resource);
      Document all = fetch_all(client, resource);
      PageWalk walk = walk_pages(client, resource, 7);

      std::vector<std::string> expected;
      for (const Value& record : all.GetArray()) {
        expected.push_back(id_of(record));
      }
      CHECK(walk.ids == expected);
      CHECK(std::set<std::string>(walk.ids.begin(), walk.ids.end()).size() ==
            walk.ids.size());
      for (std::size_t i = 0; i + 1 < walk.page_lengths.size(); ++i) {
        CHECK(walk.page_lengths[i] == 7);
      }
      CHECK(walk.page_lengths.back() >= 1);
      CHECK(walk.page_lengths.back() <= 7);
    }
  }
}

TEST_CASE("paging ignores other query parameters", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  httplib::Result plain = get(client, std::string(kSocialPath) + "statuses");
  httplib::Result filtered =
      get(client, std::string(kSocialPath) +
                      "statuses?where=created_at%3E%272019-07-13%27&x=1");
  CHECK(filtered->status == 200);
  CHECK(filtered->body == plain->body);
}

TEST_CASE("default page size is 200", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  for (int i = 0; i < 150; ++i) {
    httplib::Result posted =
        client.Post("/sandbox/lists", "{}", "application/json");
    REQUIRE(posted);
    REQUIRE(posted->status == 201);
  }

  httplib::Result first = get(client, std::string(kSocialPath) + "lists");
  Document records = parse_json(first->body);
  CHECK(records.Size() == 155);
  CHECK_FALSE(first->has_header(kNextPageHeader));

  for (int i = 0; i < 50; ++i) {
    REQUIRE(client.Post("/sandbox/lists", "{}", "application/json"));
  }
  httplib::Result second = get(client, std::string(kSocialPath) + "lists");
  CHECK(parse_json(second->body).Size() == 200);
  CHECK(second->has_header(kNextPageHeader));
}

TEST_CASE("recorded dates end newest_age before now", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  for (const std::string& resource : kResources) {
    INFO(resource);
    Document records = fetch_all(client, resource);
    REQUIRE(records.Size() > 0);
    CHECK(created_seconds(records[0]) == kNowSeconds - kNewestAgeSeconds);
    for (rapidjson::SizeType i = 1; i < records.Size(); ++i) {
      CHECK(created_seconds(records[i - 1]) >= created_seconds(records[i]));
    }
  }
}

TEST_CASE("recorded statuses keep their gaps", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document served = fetch_all(client, "statuses");

  Document timeline = read_fixture("home_timeline");
  Document search = read_fixture("search_tweets");
  std::map<std::string, const Value*> recorded = by_id(timeline);
  for (const auto& [id, record] : by_id(search["statuses"])) {
    recorded.emplace(id, record);
  }
  std::int64_t recorded_newest = 0;
  for (const auto& [id, record] : recorded) {
    recorded_newest = std::max(recorded_newest, created_seconds(*record));
  }
  const std::int64_t delta = kNowSeconds - kNewestAgeSeconds - recorded_newest;

  int retweets = 0;
  for (const Value& record : served.GetArray()) {
    const std::string id = id_of(record);
    INFO("status " << id);
    REQUIRE(recorded.count(id) == 1);
    const Value& original = *recorded.at(id);
    CHECK(created_seconds(record) == created_seconds(original) + delta);
    CHECK(created_seconds(record["user"]) ==
          created_seconds(original["user"]) + delta);
    if (original.HasMember("retweeted_status")) {
      ++retweets;
      CHECK(created_seconds(record["retweeted_status"]) ==
            created_seconds(original["retweeted_status"]) + delta);
    }
  }
  CHECK(retweets > 0);
}

TEST_CASE("recorded users and lists keep gaps", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  for (const auto& [resource, fixture] : std::map<std::string, std::string>{
           {"users", "users_search"}, {"lists", "lists"}}) {
    INFO(resource);
    Document served = fetch_all(client, resource);
    Document recorded_records = read_fixture(fixture);
    std::map<std::string, const Value*> recorded = by_id(recorded_records);
    REQUIRE(served.Size() == recorded.size());

    std::int64_t recorded_newest = 0;
    for (const auto& [id, record] : recorded) {
      recorded_newest = std::max(recorded_newest, created_seconds(*record));
    }
    const std::int64_t delta =
        kNowSeconds - kNewestAgeSeconds - recorded_newest;
    for (const Value& record : served.GetArray()) {
      const Value& original = *recorded.at(id_of(record));
      CHECK(created_seconds(record) == created_seconds(original) + delta);
    }
  }
}

TEST_CASE("recorded statuses merge both files", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document served = fetch_all(client, "statuses");

  Document timeline = read_fixture("home_timeline");
  Document search = read_fixture("search_tweets");
  std::set<std::string> expected;
  for (const auto& [id, record] : by_id(timeline)) expected.insert(id);
  for (const auto& [id, record] : by_id(search["statuses"])) {
    expected.insert(id);
  }

  std::vector<std::string> ids;
  for (const Value& record : served.GetArray()) ids.push_back(id_of(record));
  CHECK(ids.size() == expected.size());
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == expected);
}

TEST_CASE("recorded statuses drop a duplicate", "[sandbox]") {
  // search_tweets.json repeats the newest home timeline status.
  Document timeline = read_fixture("home_timeline");
  Document search = read_fixture("search_tweets");
  Value repeated(timeline[0], search.GetAllocator());
  search["statuses"].PushBack(repeated, search.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  search.Accept(writer);

  TempDir dir;
  for (const char* name : {"home_timeline", "users_search", "lists"}) {
    std::ifstream in(fixtures_dir() + "/" + name + ".json");
    std::stringstream text;
    text << in.rdbuf();
    dir.write(std::string(name) + ".json", text.str());
  }
  dir.write("search_tweets.json", buffer.GetString());

  FixedClock clock(kNow);
  SandboxOptions options = generated_options(clock);
  options.fixtures_dir = dir.path();
  auto sandbox = start_sandbox(options);
  httplib::Client client("127.0.0.1", sandbox->port());
  Document served = fetch_all(client, "statuses");

  std::multiset<std::string> ids;
  for (const Value& record : served.GetArray()) ids.insert(id_of(record));
  CHECK(ids.count(id_of(timeline[0])) == 1);
  CHECK(ids.size() == timeline.Size() + search["statuses"].Size() - 1);
}

TEST_CASE("recorded mode generates direct messages", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  for (const char* resource :
       {"direct-messages/received-messages", "direct-messages/sent-messages"}) {
    INFO(resource);
    Document messages = fetch_all(client, resource);
    REQUIRE(messages.Size() > 0);
    for (const Value& message : messages.GetArray()) {
      for (const char* field :
           {"created_at", "id", "id_str", "text", "sender_id", "sender_id_str",
            "sender_screen_name", "recipient_id", "recipient_id_str",
            "recipient_screen_name", "sender", "recipient"}) {
        CHECK(message.HasMember(field));
      }
      CHECK(message["id"].GetUint64() == std::stoull(id_of(message)));
      CHECK(message["sender"]["id_str"] == message["sender_id_str"]);
      CHECK(message["recipient"]["id_str"] == message["recipient_id_str"]);
    }
  }
}

TEST_CASE("generated records span the poll window", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  const std::int64_t window_start = kNowSeconds - 15 * 60;

  for (const std::string& resource : kResources) {
    INFO(resource);
    Document records = fetch_all(client, resource);
    int inside = 0;
    int before = 0;
    for (const Value& record : records.GetArray()) {
      const std::int64_t created = created_seconds(record);
      CHECK(created <= kNowSeconds);
      (created >= window_start ? inside : before) += 1;
    }
    CHECK(inside >= 2);
    CHECK(before >= 1);
    CHECK(created_seconds(records[0]) == kNowSeconds - kNewestAgeSeconds);
  }
}

TEST_CASE("generated ids exceed 2^53 exactly", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document statuses = fetch_all(client, "statuses");

  constexpr std::uint64_t kTwoTo53 = std::uint64_t{1} << 53;
  int above = 0;
  int inexact_as_double = 0;
  for (const Value& status : statuses.GetArray()) {
    REQUIRE(status["id"].IsUint64());
    const std::uint64_t id = status["id"].GetUint64();
    CHECK(std::to_string(id) == id_of(status));
    if (id > kTwoTo53) ++above;
    if (static_cast<std::uint64_t>(static_cast<double>(id)) != id) {
      ++inexact_as_double;
    }
  }
  CHECK(above > 0);
  CHECK(inexact_as_double > 0);
}

TEST_CASE("generated records carry Twitter shapes", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document statuses = fetch_all(client, "statuses");

  bool accented = false;
  bool check_mark = false;
  bool emoji = false;
  int retweets = 0;
  for (const Value& status : statuses.GetArray()) {
    const std::string text = status["text"].GetString();
    accented = accented || text.find("é") != std::string::npos;
    check_mark = check_mark || text.find("✓") != std::string::npos;
    emoji = emoji || text.find("🚀") != std::string::npos;

    const Value& entities = status["entities"];
    CHECK(entities["hashtags"].IsArray());
    CHECK(entities["user_mentions"].IsArray());
    CHECK(entities["urls"].IsArray());
    CHECK(status["user"].IsObject());
    CHECK(created_seconds(status["user"]) < created_seconds(status));
    if (status.HasMember("retweeted_status")) {
      ++retweets;
      CHECK(created_seconds(status["retweeted_status"]) <
            created_seconds(status));
    }
  }
  CHECK(accented);
  CHECK(check_mark);
  CHECK(emoji);
  CHECK(retweets > 0);

  Document users = fetch_all(client, "users");
  CHECK(users.Size() == 30);
  CHECK(fetch_all(client, "lists").Size() == 5);
  CHECK(fetch_all(client, "direct-messages/sent-messages").Size() == 20);
}

TEST_CASE("generated records are deterministic", "[sandbox]") {
  FixedClock clock(kNow);
  auto first = start_sandbox(generated_options(clock));
  auto second = start_sandbox(generated_options(clock));
  httplib::Client first_client("127.0.0.1", first->port());
  httplib::Client second_client("127.0.0.1", second->port());
  for (const std::string& resource : kResources) {
    INFO(resource);
    const std::string path = kSocialPath + resource + "?pageSize=1000";
    CHECK(get(first_client, path)->body == get(second_client, path)->body);
  }
}

TEST_CASE("post adds a fresh newest record", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(recorded_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document before = fetch_all(client, "statuses");
  std::uint64_t max_id = 0;
  for (const Value& record : before.GetArray()) {
    max_id = std::max<std::uint64_t>(max_id, std::stoull(id_of(record)));
  }

  clock.set(kNow + std::chrono::minutes{10});
  httplib::Result posted = client.Post(
      "/sandbox/statuses", R"({"text": "Nouveau café ✓"})", "application/json");
  REQUIRE(posted);
  CHECK(posted->status == 201);
  Document stored = parse_json(posted->body);
  CHECK(std::string(stored["text"].GetString()) == "Nouveau café ✓");
  CHECK(std::string(stored["created_at"].GetString()) ==
        "Tue Mar 05 12:10:00 +0000 2024");
  const std::uint64_t id = std::stoull(id_of(stored));
  CHECK(id > max_id);
  CHECK(stored["id"].GetUint64() == id);

  Document after = fetch_all(client, "statuses");
  REQUIRE(after.Size() == before.Size() + 1);
  CHECK(id_of(after[0]) == id_of(stored));
}

TEST_CASE("post keeps given date and id", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  httplib::Result posted = client.Post(
      "/sandbox/direct-messages/received-messages",
      R"({"created_at": "Mon Jan 01 00:00:00 +0000 2024", "id": 42,)"
      R"( "id_str": "42", "text": "hi"})",
      "application/json");
  REQUIRE(posted);
  CHECK(posted->status == 201);
  Document stored = parse_json(posted->body);
  CHECK(std::string(stored["created_at"].GetString()) ==
        "Mon Jan 01 00:00:00 +0000 2024");
  CHECK(id_of(stored) == "42");

  Document messages = fetch_all(client, "direct-messages/received-messages");
  CHECK(id_of(messages[0]) == "42");
}

TEST_CASE("concurrent posts get distinct ids", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  const std::uint16_t port = sandbox->port();

  std::vector<std::thread> posters;
  std::atomic<int> created{0};
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([port, &created] {
      httplib::Client client("127.0.0.1", port);
      for (int i = 0; i < 25; ++i) {
        httplib::Result posted =
            client.Post("/sandbox/users", "{}", "application/json");
        if (posted && posted->status == 201) ++created;
      }
    });
  }
  for (std::thread& poster : posters) poster.join();
  CHECK(created == 100);

  httplib::Client client("127.0.0.1", port);
  Document users = fetch_all(client, "users");
  CHECK(users.Size() == 130);
  std::set<std::string> ids;
  for (const Value& user : users.GetArray()) ids.insert(id_of(user));
  CHECK(ids.size() == users.Size());
}

TEST_CASE("invalid posted record is rejected", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"text\": ", "invalid JSON body"},
      {"not json", "invalid JSON body"},
      {"", "invalid JSON body"},
      {"[1, 2]", "not an array"},
      {"\"text\"", "not a string"},
      {std::string(100, '[') + std::string(100, ']'), "invalid record"},
      {"{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}",
       "nested deeper than"},
  };
  for (const auto& [body, expected] : cases) {
    INFO("body: " << body);
    httplib::Result response =
        client.Post("/sandbox/statuses", body, "application/json");
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK_THAT(error_message(response), Catch::Contains(expected));
  }
  CHECK(fetch_all(client, "statuses").Size() == 60);
}

TEST_CASE("invalid pageSize is rejected", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  for (const char* size : {"0", "-3", "abc", "", "7x", "1.5"}) {
    INFO("pageSize=" << size);
    httplib::Result response =
        get(client, std::string(kSocialPath) + "statuses?pageSize=" + size);
    CHECK(response->status == 400);
    CHECK_THAT(error_message(response), Catch::Contains("invalid pageSize"));
    CHECK(response->get_header_value("Content-Type") == "application/json");
  }
}

TEST_CASE("huge pageSize is capped", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  for (const char* size : {"1000000", "99999999999999999999999"}) {
    INFO("pageSize=" << size);
    httplib::Result response =
        get(client, std::string(kSocialPath) + "statuses?pageSize=" + size);
    CHECK(response->status == 200);
    CHECK(parse_json(response->body).Size() == 60);
  }
}

TEST_CASE("invalid page token is rejected", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  httplib::Result first =
      get(client, std::string(kSocialPath) + "users?pageSize=5");
  const std::string users_token = first->get_header_value(kNextPageHeader);
  REQUIRE_FALSE(users_token.empty());

  for (const std::string& token :
       {std::string("not-a-token!"), std::string("bm9wZQ"), users_token,
        std::string("c3RhdHVzZXM6OTk5")}) {
    INFO("nextPage=" << token);
    httplib::Result response =
        get(client, std::string(kSocialPath) + "statuses?nextPage=" + token);
    CHECK(response->status == 400);
    CHECK_THAT(error_message(response),
               Catch::Contains("invalid nextPage token"));
  }
}

TEST_CASE("page token survives a post", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());
  Document all = fetch_all(client, "lists");

  httplib::Result first =
      get(client, std::string(kSocialPath) + "lists?pageSize=2");
  const std::string token = first->get_header_value(kNextPageHeader);
  REQUIRE(client.Post("/sandbox/lists", "{}", "application/json"));

  httplib::Result second = get(
      client, std::string(kSocialPath) + "lists?pageSize=2&nextPage=" + token);
  REQUIRE(second->status == 200);
  Document page = parse_json(second->body);
  REQUIRE(page.Size() == 2);
  CHECK(id_of(page[0]) == id_of(all[2]));
  CHECK(id_of(page[1]) == id_of(all[3]));
}

TEST_CASE("unknown resource returns 404", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  httplib::Client client("127.0.0.1", sandbox->port());

  httplib::Result resource =
      get(client, std::string(kSocialPath) + "followers");
  CHECK(resource->status == 404);
  CHECK_THAT(error_message(resource), Catch::Contains("followers"));
  CHECK(resource->get_header_value("Date") == "Tue, 05 Mar 2024 12:00:00 GMT");

  httplib::Result posted =
      client.Post("/sandbox/followers", "{}", "application/json");
  REQUIRE(posted);
  CHECK(posted->status == 404);

  httplib::Result path = get(client, "/elements/api-v2/nothing");
  CHECK(path->status == 404);
  CHECK_THAT(error_message(path), Catch::Contains("/elements/api-v2/nothing"));
  CHECK(path->get_header_value("Date") == "Tue, 05 Mar 2024 12:00:00 GMT");
}

TEST_CASE("missing fixtures folder fails start", "[sandbox]") {
  FixedClock clock(kNow);
  SandboxOptions options = generated_options(clock);
  options.fixtures_dir = "/nonexistent/hubpoll-fixtures";
  Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
  REQUIRE_FALSE(sandbox.ok());
  CHECK_THAT(
      sandbox.error().message,
      Catch::Contains("/nonexistent/hubpoll-fixtures/home_timeline.json"));
  CHECK_THAT(sandbox.error().message,
             Catch::Contains("No such file or directory"));
}

TEST_CASE("malformed fixture fails start", "[sandbox]") {
  FixedClock clock(kNow);
  TempDir dir;
  SandboxOptions options = generated_options(clock);
  options.fixtures_dir = dir.path();

  SECTION("invalid JSON names the offset") {
    dir.write("home_timeline.json", "[{\"id_str\": }]");
    Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
    REQUIRE_FALSE(sandbox.ok());
    CHECK_THAT(sandbox.error().message, Catch::Contains("home_timeline.json"));
    CHECK_THAT(sandbox.error().message, Catch::Contains("at byte offset 12"));
  }
  SECTION("search results without statuses") {
    dir.write("home_timeline.json", "[]");
    dir.write("search_tweets.json", "{\"search_metadata\": {}}");
    Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
    REQUIRE_FALSE(sandbox.ok());
    CHECK_THAT(sandbox.error().message, Catch::Contains("search_tweets.json"));
    CHECK_THAT(sandbox.error().message, Catch::Contains("\"statuses\""));
  }
  SECTION("a record that is not an object") {
    dir.write("home_timeline.json", "[]");
    dir.write("search_tweets.json", "{\"statuses\": []}");
    dir.write("users_search.json", "[{}, 3]");
    Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
    REQUIRE_FALSE(sandbox.ok());
    CHECK_THAT(sandbox.error().message, Catch::Contains("users_search.json"));
    CHECK_THAT(sandbox.error().message,
               Catch::Contains("record 1 is not a JSON object"));
  }
}

TEST_CASE("start fails on a used port", "[sandbox]") {
  FixedClock clock(kNow);
  auto first = start_sandbox(generated_options(clock));
  SandboxOptions options = generated_options(clock);
  options.port = first->port();
  Result<std::unique_ptr<Sandbox>> second = Sandbox::start(options);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error().message,
             Catch::Contains(std::to_string(first->port())));
}

TEST_CASE("stop ends wait and closes port", "[sandbox]") {
  FixedClock clock(kNow);
  auto sandbox = start_sandbox(generated_options(clock));
  const std::uint16_t port = sandbox->port();

  std::atomic<bool> waited{false};
  std::thread waiter([&] {
    sandbox->wait();
    waited = true;
  });
  sandbox->stop();
  waiter.join();
  CHECK(waited);

  sandbox->stop();
  httplib::Client client("127.0.0.1", port);
  CHECK_FALSE(client.Get("/elements/api-v2/hubs/social/statuses"));
}

TEST_CASE("stop right after start returns", "[sandbox]") {
  FixedClock clock(kNow);
  for (int i = 0; i < 20; ++i) {
    auto sandbox = start_sandbox(generated_options(clock));
    sandbox->stop();
  }
  SUCCEED("every sandbox stopped");
}

}  // namespace
}  // namespace hubpoll
