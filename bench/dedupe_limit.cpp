// The minimum work a poller of one page must do, timed for comparison with
// `hubpoll run --once` over the same page:
//
//   insert URL DB  fetch the page into memory, scan it with RapidJSON SAX,
//                  and in one transaction insert each record's dedupe key
//                  and raw text into a new database DB.
//   lookup URL DB  fetch and scan the page the same way and look each key
//                  up by primary key in DB, filled by `insert`.
//   scan URL       fetch the page and time scans alone: the recursive
//                  parser used above, then the iterative one hubpoll uses.
//
// Records are the elements of the page's root array; a record's key is
// "c:" + its id_str, as hubpoll keys a created record. Dates are not parsed
// (hubpoll_bench_dates measures that). Prints one JSON line of phase times.
#include <curl/curl.h>
#include <rapidjson/reader.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

// The shape of hubpoll's dedupe_keys table and its index, and a table for
// the raw records.
constexpr const char* kSchema = R"sql(
CREATE TABLE dedupe_keys (
  stream_key INTEGER NOT NULL,
  key TEXT NOT NULL,
  record_ms INTEGER NOT NULL,
  emitted INTEGER NOT NULL,
  PRIMARY KEY (stream_key, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_by_date ON dedupe_keys (record_ms);
CREATE TABLE records (
  sequence INTEGER PRIMARY KEY,
  object_id TEXT NOT NULL,
  raw TEXT NOT NULL
);
)sql";

// hubpoll's store settings.
constexpr const char* kPragmas =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

constexpr std::int64_t kStreamKey = 1;

// Raises a failure, which main prints before exiting with status 1.
[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

std::size_t append_body(char* data, std::size_t size, std::size_t count,
                        void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// Fetches the whole body of a GET of `url`, offering the same encodings as
// hubpoll's client.
std::string fetch(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) fail("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode result = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) {
    fail("fetching " + url + " failed: " + curl_easy_strerror(result));
  }
  if (status != 200) {
    fail("fetching " + url + ": HTTP " + std::to_string(status));
  }
  return body;
}

// Calls back with each root-array record's id_str and raw text.
class RecordHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RecordHandler> {
 public:
  using Callback = std::function<void(std::string_view, std::string_view)>;

  RecordHandler(std::string_view body, const rapidjson::StringStream& stream,
                Callback on_record)
      : body_(body), stream_(stream), on_record_(std::move(on_record)) {}

  bool StartObject() {
    // The recursive parser calls this just after consuming the brace.
    if (++depth_ == 2) record_begin_ = stream_.Tell() - 1;
    next_is_id_ = false;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (depth_-- == 2) {
      on_record_(id_,
                 body_.substr(record_begin_, stream_.Tell() - record_begin_));
      id_.clear();
    }
    return true;
  }
  bool StartArray() {
    ++depth_;
    next_is_id_ = false;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    next_is_id_ = depth_ == 2 && std::string_view(text, length) == "id_str";
    return true;
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (next_is_id_) id_.assign(text, length);
    next_is_id_ = false;
    return true;
  }
  bool Default() {
    next_is_id_ = false;
    return true;
  }

 private:
  std::string_view body_;
  const rapidjson::StringStream& stream_;
  Callback on_record_;
  int depth_ = 0;
  std::size_t record_begin_ = 0;
  bool next_is_id_ = false;
  std::string id_;
};

// hubpoll's scanner flags: numbers stay text, UTF-8 is validated.
constexpr unsigned kScanFlags = rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseValidateEncodingFlag;

// Scans `body` with the recursive parser, calling back per record.
void scan(const std::string& body, RecordHandler::Callback on_record) {
  rapidjson::StringStream stream(body.c_str());
  RecordHandler handler(body, stream, std::move(on_record));
  rapidjson::Reader reader;
  if (reader.Parse<kScanFlags>(stream, handler).IsError()) {
    fail("the page is not valid JSON");
  }
}

// Counts the root array's elements with a parser built from `Flags`, for
// comparing parser modes alone.
template <unsigned Flags>
std::int64_t count_records(const std::string& body) {
  struct Counter : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Counter> {
    int depth = 0;
    std::int64_t records = 0;
    bool StartObject() {
      if (++depth == 2) ++records;
      return true;
    }
    bool EndObject(rapidjson::SizeType) {
      --depth;
      return true;
    }
    bool StartArray() {
      ++depth;
      return true;
    }
    bool EndArray(rapidjson::SizeType) {
      --depth;
      return true;
    }
  } counter;
  rapidjson::StringStream stream(body.c_str());
  rapidjson::Reader reader;
  if (reader.Parse<Flags>(stream, counter).IsError()) {
    fail("the page is not valid JSON");
  }
  return counter.records;
}

// Owns a database connection and checks every SQLite return code.
class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      fail("opening " + path + " failed: " + message);
    }
    execute(kPragmas);
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void execute(const char* sql) {
    check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), sql);
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr), sql);
    return statement;
  }
  void check(int code, const char* operation) {
    if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE) {
      fail(std::string(operation) + ": " + sqlite3_errmsg(db_));
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

void bind_text(Database& db, sqlite3_stmt* statement, int index,
               std::string_view text) {
  db.check(sqlite3_bind_text(statement, index, text.data(),
                             static_cast<int>(text.size()), SQLITE_STATIC),
           "binding text");
}

struct Counts {
  std::int64_t records = 0;
  std::int64_t found = 0;
};

Counts insert_records(const std::string& body, Database& db) {
  db.execute(kSchema);
  db.execute("BEGIN");
  sqlite3_stmt* key = db.prepare(
      "INSERT INTO dedupe_keys (stream_key, key, record_ms, emitted) "
      "VALUES (?, ?, 0, 1)");
  sqlite3_stmt* record =
      db.prepare("INSERT INTO records (object_id, raw) VALUES (?, ?)");
  Counts counts;
  std::string key_text;
  scan(body, [&](std::string_view id, std::string_view raw) {
    key_text.assign("c:").append(id);
    sqlite3_bind_int64(key, 1, kStreamKey);
    bind_text(db, key, 2, key_text);
    db.check(sqlite3_step(key), "inserting a key");
    sqlite3_reset(key);
    bind_text(db, record, 1, id);
    bind_text(db, record, 2, raw);
    db.check(sqlite3_step(record), "inserting a record");
    sqlite3_reset(record);
    ++counts.records;
  });
  sqlite3_finalize(key);
  sqlite3_finalize(record);
  db.execute("COMMIT");
  return counts;
}

Counts look_up_records(const std::string& body, Database& db) {
  sqlite3_stmt* find = db.prepare(
      "SELECT emitted FROM dedupe_keys WHERE stream_key = ? AND key = ?");
  Counts counts;
  std::string key_text;
  scan(body, [&](std::string_view id, std::string_view) {
    key_text.assign("c:").append(id);
    sqlite3_bind_int64(find, 1, kStreamKey);
    bind_text(db, find, 2, key_text);
    const int step = sqlite3_step(find);
    db.check(step, "looking up a key");
    if (step == SQLITE_ROW) ++counts.found;
    sqlite3_reset(find);
    ++counts.records;
  });
  sqlite3_finalize(find);
  return counts;
}

void print_scan_times(const std::string& body, double fetch_ms) {
  auto start = Clock::now();
  const std::int64_t recursive = count_records<kScanFlags>(body);
  const double recursive_ms = milliseconds_since(start);
  start = Clock::now();
  const std::int64_t iterative =
      count_records<kScanFlags | rapidjson::kParseIterativeFlag>(body);
  const double iterative_ms = milliseconds_since(start);
  if (recursive != iterative) fail("the two parsers counted differently");
  std::printf(
      "{\"mode\": \"scan\", \"records\": %lld, \"bytes\": %zu, "
      "\"fetch_ms\": %.1f, \"recursive_scan_ms\": %.1f, "
      "\"iterative_scan_ms\": %.1f}\n",
      static_cast<long long>(recursive), body.size(), fetch_ms, recursive_ms,
      iterative_ms);
}

int run(const std::string& mode, const std::string& url,
        const std::string& db_path) {
  const auto start = Clock::now();
  const std::string body = fetch(url);
  const double fetch_ms = milliseconds_since(start);
  if (mode == "scan") {
    print_scan_times(body, fetch_ms);
    return 0;
  }

  const auto work_start = Clock::now();
  Database db(db_path);
  const Counts counts =
      mode == "insert" ? insert_records(body, db) : look_up_records(body, db);
  const double work_ms = milliseconds_since(work_start);
  std::printf(
      "{\"mode\": \"%s\", \"records\": %lld, \"found\": %lld, \"bytes\": "
      "%zu, \"fetch_ms\": %.1f, \"scan_and_sql_ms\": %.1f, \"total_ms\": "
      "%.1f}\n",
      mode.c_str(), static_cast<long long>(counts.records),
      static_cast<long long>(counts.found), body.size(), fetch_ms, work_ms,
      milliseconds_since(start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool needs_db = mode == "insert" || mode == "lookup";
  if (!((needs_db && argc == 4) || (mode == "scan" && argc == 3))) {
    std::fprintf(stderr,
                 "usage: hubpoll_bench_limit insert|lookup URL DB\n"
                 "       hubpoll_bench_limit scan URL\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    return run(mode, argv[2], needs_db ? argv[3] : "");
  } catch (const std::runtime_error& error) {
    std::fprintf(stderr, "hubpoll_bench_limit %s: %s\n", mode.c_str(),
                 error.what());
    return 1;
  }
}
