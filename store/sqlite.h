// Thin RAII handles over the SQLite C API for the store's own use. Every
// SQLite return code passes through one checker that turns it into an Error
// with the statement and the database's message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "poller/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hubpoll::sqlite {

class Database;

// A prepared statement. Bind parameters are 1-based as in SQLite. Not
// thread-safe; owned by one Database and must not outlive it.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_null(int index);

  // Runs one step. Returns true while a row is available, false when done.
  Result<bool> step();

  // Runs to completion, ignoring rows.
  Status run();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  std::string_view column_view(int index) const;  // valid until next step
  bool column_is_null(int index) const;

  // Clears bindings and rewinds, ready for the next use.
  void reset();

 private:
  friend class Database;
  Statement(sqlite3_stmt* handle, Database* database)
      : handle_(handle), database_(database) {}

  sqlite3_stmt* handle_ = nullptr;
  Database* database_ = nullptr;
  Status bind_status_;  // the first bind failure, reported by step()
};

// An open SQLite connection. Not thread-safe: one per thread.
class Database {
 public:
  // Opens or creates `path` with the given file mode for a new file.
  static Result<Database> open(const std::string& path);

  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows.
  Status execute(std::string_view sql);

  Result<Statement> prepare(std::string_view sql);

  // Converts a SQLite return code to a Status, naming `what` and the
  // connection's last message.
  Status check(int code, std::string_view what) const;

  std::int64_t last_insert_rowid() const;
  int changes() const;

 private:
  explicit Database(sqlite3* handle) : handle_(handle) {}

  sqlite3* handle_ = nullptr;
};

// Rolls back unless commit() succeeds before the end of its scope.
class Transaction {
 public:
  // BEGIN IMMEDIATE: takes the write lock now, so a busy store fails here
  // rather than halfway through the writes.
  static Result<Transaction> begin(Database& database);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  explicit Transaction(Database* database) : database_(database) {}

  Database* database_ = nullptr;
};

}  // namespace hubpoll::sqlite
