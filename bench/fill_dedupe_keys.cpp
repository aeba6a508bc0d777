// Adds dedupe keys straight into an existing hubpoll store, so a benchmark
// can poll against a long history without polling it in first.
//
// usage: hubpoll_bench_fill_keys STORE INSTANCE RESOURCE COUNT FIRST_ID
//                                NEWEST_MS
//
// The stream (INSTANCE, RESOURCE) must already exist, so run hubpoll once
// on the store first. Its schema is then hubpoll's own. The keys are
// "c:" + each id from FIRST_ID up, as hubpoll keys created records, marked
// emitted, and dated in order across the 24 hours before NEWEST_MS
// (milliseconds since the epoch). Keep NEWEST_MS within the last 6 days so
// that hubpoll's pruning (7 days by default) deletes none of them.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

constexpr std::int64_t kMaxKeys = 100'000'000;
// Rows per transaction, so the write-ahead log stays much smaller than the
// whole fill.
constexpr std::int64_t kBatchRows = 1'000'000;
constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

bool check(sqlite3* db, int code, const char* operation) {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) {
    return true;
  }
  std::fprintf(stderr, "%s failed: %s\n", operation, sqlite3_errmsg(db));
  return false;
}

// Returns the stream's key, or -1 when it is missing or unreadable.
std::int64_t find_stream(sqlite3* db, const char* instance,
                         const char* resource) {
  sqlite3_stmt* select = nullptr;
  if (!check(db,
             sqlite3_prepare_v2(db,
                                "SELECT stream_key FROM streams WHERE "
                                "instance_id = ? AND resource = ?",
                                -1, &select, nullptr),
             "preparing the stream query")) {
    return -1;
  }
  sqlite3_bind_text(select, 1, instance, -1, SQLITE_STATIC);
  sqlite3_bind_text(select, 2, resource, -1, SQLITE_STATIC);
  const std::int64_t key =
      sqlite3_step(select) == SQLITE_ROW ? sqlite3_column_int64(select, 0) : -1;
  sqlite3_finalize(select);
  return key;
}

bool execute(sqlite3* db, const char* sql) {
  return check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
}

using Statement = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

// Inserts keys [begin, end) of the fill in one transaction.
bool insert_batch(sqlite3* db, sqlite3_stmt* insert, std::int64_t stream_key,
                  std::int64_t first_id, std::int64_t begin, std::int64_t end,
                  std::int64_t count, std::int64_t newest_ms) {
  if (!execute(db, "BEGIN")) return false;
  for (std::int64_t i = begin; i < end; ++i) {
    const std::string key = "c:" + std::to_string(first_id + i);
    sqlite3_bind_int64(insert, 1, stream_key);
    sqlite3_bind_text(insert, 2, key.c_str(), static_cast<int>(key.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 3, newest_ms - kDayMs + kDayMs * i / count);
    const int step = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (!check(db, step, "inserting a key")) return false;
  }
  return execute(db, "COMMIT");
}

bool insert_keys(sqlite3* db, std::int64_t stream_key, std::int64_t count,
                 std::int64_t first_id, std::int64_t newest_ms) {
  sqlite3_stmt* prepared = nullptr;
  const int code = sqlite3_prepare_v2(
      db,
      "INSERT INTO dedupe_keys (stream_key, key, record_ms, emitted) "
      "VALUES (?, ?, ?, 1)",
      -1, &prepared, nullptr);
  Statement insert(prepared, &sqlite3_finalize);
  if (!check(db, code, "preparing the insert")) return false;

  for (std::int64_t begin = 0; begin < count; begin += kBatchRows) {
    const std::int64_t end = std::min(count, begin + kBatchRows);
    if (!insert_batch(db, insert.get(), stream_key, first_id, begin, end, count,
                      newest_ms)) {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: hubpoll_bench_fill_keys STORE INSTANCE RESOURCE "
                 "COUNT FIRST_ID NEWEST_MS\n");
    return 2;
  }
  const std::int64_t count = std::strtoll(argv[4], nullptr, 10);
  const std::int64_t first_id = std::strtoll(argv[5], nullptr, 10);
  const std::int64_t newest_ms = std::strtoll(argv[6], nullptr, 10);
  if (count < 1 || count > kMaxKeys || first_id < 0 || newest_ms < kDayMs) {
    std::fprintf(stderr,
                 "COUNT must be 1 to %lld, FIRST_ID at least 0 and NEWEST_MS "
                 "a time after 1970-01-02 in milliseconds\n",
                 static_cast<long long>(kMaxKeys));
    return 2;
  }

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, nullptr) !=
      SQLITE_OK) {
    std::fprintf(stderr, "opening store %s failed: %s\n", argv[1],
                 db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
  }
  // A large page cache speeds up filling the key and date indexes.
  bool ok = execute(db, "PRAGMA cache_size = -262144");
  const std::int64_t stream_key = find_stream(db, argv[2], argv[3]);
  if (ok && stream_key < 0) {
    std::fprintf(stderr,
                 "store %s has no stream %s/%s; run hubpoll on it first\n",
                 argv[1], argv[2], argv[3]);
    ok = false;
  }
  ok = ok && insert_keys(db, stream_key, count, first_id, newest_ms) &&
       execute(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);
  if (!ok) return 1;
  std::printf("added %lld keys to stream %lld of %s\n",
              static_cast<long long>(count), static_cast<long long>(stream_key),
              argv[1]);
  return 0;
}
