#include "poller/record_scanner.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace hubpoll {
namespace {

struct Captured {
  std::size_t index;
  bool is_object;
  std::string id;
  std::string id_problem;
  std::vector<std::optional<std::string>> values;
  std::string raw;
};

struct ScanOutcome {
  Status status;
  std::vector<Captured> records;
};

ScanOutcome scan(const ScanSpec& spec, std::string_view body) {
  ScanOutcome outcome;
  outcome.status = scan_records(spec, body, [&](const ScannedRecord& record) {
    outcome.records.push_back(Captured{record.index, record.is_object,
                                       record.id, record.id_problem,
                                       record.values, std::string(record.raw)});
    return Status();
  });
  return outcome;
}

// Feeds the body in pieces of `piece` bytes, to exercise chunk boundaries.
ScanOutcome scan_in_pieces(const ScanSpec& spec, const std::string& body,
                           std::size_t piece) {
  ScanOutcome outcome;
  std::size_t offset = 0;
  const ChunkSource source = [&]() -> Result<std::string_view> {
    const std::string_view chunk = std::string_view(body).substr(offset, piece);
    offset += chunk.size();
    return chunk;
  };
  outcome.status = scan_records(spec, source, [&](const ScannedRecord& record) {
    outcome.records.push_back(Captured{record.index, record.is_object,
                                       record.id, record.id_problem,
                                       record.values, std::string(record.raw)});
    return Status();
  });
  return outcome;
}

ScanSpec twitter_spec() {
  ScanSpec spec;
  spec.id_path = "id_str";
  spec.value_paths = {"created_at"};
  return spec;
}

TEST_CASE("records of a root array are scanned in order", "[scanner]") {
  const auto outcome = scan(
      twitter_spec(),
      R"([{"id_str":"1","created_at":"a"}, {"created_at":"b","id_str":"2"}])");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 2);
  CHECK(outcome.records[0].id == "1");
  CHECK(outcome.records[0].values[0] == "a");
  CHECK(outcome.records[1].index == 1);
  CHECK(outcome.records[1].id == "2");
  CHECK(outcome.records[1].values[0] == "b");
}

TEST_CASE("raw text is the record exactly as received", "[scanner]") {
  const std::string record = "{ \"id_str\" : \"7\",\n \"x\": [1, {\"y\": 2}] }";
  const auto outcome = scan(twitter_spec(), "[ " + record + " ]");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 1);
  CHECK(outcome.records[0].raw == record);
}

TEST_CASE("numeric ids keep their exact digits", "[scanner]") {
  ScanSpec spec;
  spec.id_path = "id";
  const auto outcome =
      scan(spec, R"([{"id": 10765432100123456789}, {"id": -42}])");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 2);
  CHECK(outcome.records[0].id == "10765432100123456789");
  CHECK(outcome.records[1].id == "-42");
}

TEST_CASE("ids that are not integers are problems", "[scanner]") {
  ScanSpec spec;
  spec.id_path = "id";
  const auto outcome = scan(
      spec, R"([{"id": 1e300}, {"id": -0}, {"id": 1.5}, {"id": null},)"
            R"( {"id": true}, {"id": {"a": 1}}, {"id": [1]}, {"other": 1}])");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 8);
  for (const Captured& record : outcome.records) {
    INFO("record " << record.index << ": " << record.raw);
    CHECK(record.id.empty());
    CHECK_FALSE(record.id_problem.empty());
  }
  CHECK(outcome.records[0].id_problem == "id 1e300 is not an integer");
  CHECK(outcome.records[1].id_problem == "id -0 is not an integer");
  CHECK(outcome.records[3].id_problem == "id is null");
  CHECK(outcome.records[5].id_problem == "id is an object");
  CHECK(outcome.records[7].id_problem == "id field \"id\" is missing");
}

// RapidJSON 1.1.0 rejects numbers beyond a double's range even when it
// keeps numbers as text, so such a page fails as a whole.
TEST_CASE("a number beyond a double's range fails the page", "[scanner]") {
  ScanSpec spec;
  spec.id_path = "id";
  const auto outcome = scan(spec, R"([{"id": 1}, {"id": 1e999}])");
  REQUIRE_FALSE(outcome.status.ok());
  CHECK_THAT(outcome.status.error().message,
             Catch::Contains("invalid JSON at byte 19") &&
                 Catch::Contains("Number too big"));
}

TEST_CASE("dotted paths reach nested members only", "[scanner]") {
  ScanSpec spec;
  spec.id_path = "user.id";
  spec.value_paths = {"user.created_at"};
  const auto outcome =
      scan(spec,
           R"([{"id": 9, "user": {"id": 5, "created_at": "u", "x": {"id": 6}},)"
           R"( "list": [{"user": {"id": 7}}]}])");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 1);
  CHECK(outcome.records[0].id == "5");
  CHECK(outcome.records[0].values[0] == "u");
}

TEST_CASE("an object body uses its only array member", "[scanner]") {
  const auto outcome = scan(
      twitter_spec(),
      R"({"search_metadata": {"count": 1}, "statuses": [{"id_str": "3"}]})");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 1);
  CHECK(outcome.records[0].id == "3");
}

TEST_CASE("recordsField picks the named array", "[scanner]") {
  ScanSpec spec = twitter_spec();
  spec.records_field = "events";
  const auto outcome = scan(
      spec, R"({"other": [{"id_str": "x"}], "events": [{"id_str": "4"}]})");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 1);
  CHECK(outcome.records[0].id == "4");
}

TEST_CASE("an object body with two arrays needs recordsField", "[scanner]") {
  const auto outcome =
      scan(twitter_spec(), R"({"a": [{"id_str": "1"}], "b": []})");
  REQUIRE_FALSE(outcome.status.ok());
  CHECK_THAT(outcome.status.error().message,
             Catch::Contains("more than one array member"));
}

TEST_CASE("bodies without records are errors", "[scanner]") {
  SECTION("an error object") {
    const auto outcome = scan(twitter_spec(), R"({"message": "Rate limit"})");
    REQUIRE_FALSE(outcome.status.ok());
    CHECK_THAT(outcome.status.error().message,
               Catch::Contains("without an array of records"));
  }
  SECTION("a missing recordsField") {
    ScanSpec spec = twitter_spec();
    spec.records_field = "events";
    const auto outcome = scan(spec, R"({"lists": []})");
    REQUIRE_FALSE(outcome.status.ok());
    CHECK_THAT(outcome.status.error().message,
               Catch::Contains("no array member \"events\""));
  }
  SECTION("a scalar") {
    const auto outcome = scan(twitter_spec(), "42");
    REQUIRE_FALSE(outcome.status.ok());
    CHECK_THAT(outcome.status.error().message,
               Catch::Contains("single JSON value"));
  }
  SECTION("an empty body") {
    const auto outcome = scan(twitter_spec(), "");
    REQUIRE_FALSE(outcome.status.ok());
    CHECK(outcome.status.error().message == "the body is empty");
  }
  SECTION("an HTML page") {
    const auto outcome = scan(twitter_spec(), "<html><body>Oops</body></html>");
    REQUIRE_FALSE(outcome.status.ok());
    CHECK_THAT(outcome.status.error().message,
               Catch::Contains("invalid JSON at byte 0"));
  }
}

TEST_CASE("truncated JSON is an error after the complete records",
          "[scanner]") {
  const auto outcome =
      scan(twitter_spec(), R"([{"id_str": "1"}, {"id_str": "2", "cre)");
  REQUIRE_FALSE(outcome.status.ok());
  CHECK_THAT(outcome.status.error().message, Catch::Contains("invalid JSON"));
  CHECK(outcome.records.size() == 1);
}

TEST_CASE("invalid UTF-8 in a string is an error", "[scanner]") {
  const auto outcome =
      scan(twitter_spec(), "[{\"id_str\": \"1\", \"text\": \"\xC3\x28\"}]");
  REQUIRE_FALSE(outcome.status.ok());
  CHECK_THAT(outcome.status.error().message,
             Catch::Contains("Invalid encoding"));
}

TEST_CASE("deep nesting is an error, not a crash", "[scanner]") {
  const std::string body = std::string(100000, '[') + std::string(100000, ']');
  const auto outcome = scan(twitter_spec(), body);
  REQUIRE_FALSE(outcome.status.ok());
  CHECK(outcome.status.error().message ==
        "the body is nested deeper than 512 levels");
}

TEST_CASE("nesting up to the limit is scanned", "[scanner]") {
  const std::string record =
      "{\"id_str\": \"1\", \"deep\": " + std::string(509, '[') +
      std::string(509, ']') + "}";
  const auto outcome = scan(twitter_spec(), "[" + record + "]");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 1);
  CHECK(outcome.records[0].id == "1");
}

TEST_CASE("non-object elements are records with a problem", "[scanner]") {
  const auto outcome =
      scan(twitter_spec(), R"([1, "x", [2, 3], {"id_str": "9"}, null])");
  REQUIRE(outcome.status.ok());
  REQUIRE(outcome.records.size() == 5);
  CHECK_FALSE(outcome.records[0].is_object);
  CHECK_FALSE(outcome.records[2].is_object);
  CHECK(outcome.records[3].id == "9");
  CHECK(outcome.records[3].index == 3);
  CHECK(outcome.records[4].id_problem == "record is not a JSON object");
}

TEST_CASE("chunk boundaries do not change what is scanned", "[scanner]") {
  const std::string body =
      testing::read_file(testing::fixtures_dir() + "/search_tweets.json");
  const auto whole = scan(twitter_spec(), body);
  REQUIRE(whole.status.ok());
  REQUIRE(whole.records.size() > 10);
  for (const std::size_t piece : {1, 7, 4096}) {
    INFO("piece size " << piece);
    const auto pieces = scan_in_pieces(twitter_spec(), body, piece);
    REQUIRE(pieces.status.ok());
    REQUIRE(pieces.records.size() == whole.records.size());
    for (std::size_t i = 0; i < whole.records.size(); ++i) {
      CHECK(pieces.records[i].id == whole.records[i].id);
      CHECK(pieces.records[i].values == whole.records[i].values);
      CHECK(pieces.records[i].raw == whole.records[i].raw);
    }
  }
}

TEST_CASE("errors from the source stop the scan", "[scanner]") {
  bool first = true;
  const ChunkSource source = [&]() -> Result<std::string_view> {
    if (first) {
      first = false;
      return std::string_view(R"([{"id_str": "1"}, {"id_)");
    }
    return make_error(ErrorKind::kTimeout, "stalled");
  };
  std::size_t records = 0;
  Status status =
      scan_records(twitter_spec(), source, [&](const ScannedRecord&) {
        ++records;
        return Status();
      });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::kTimeout);
  CHECK(status.error().message == "stalled");
  CHECK(records == 1);
}

TEST_CASE("an error from the callback stops the scan", "[scanner]") {
  std::size_t records = 0;
  Status status =
      scan_records(twitter_spec(), R"([{"id_str": "1"}, {"id_str": "2"}])",
                   [&](const ScannedRecord&) {
                     ++records;
                     return Status(make_error(ErrorKind::kStore, "disk full"));
                   });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message == "disk full");
  CHECK(records == 1);
}

}  // namespace
}  // namespace hubpoll
