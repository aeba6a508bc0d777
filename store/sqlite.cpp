#include "store/sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace hubpoll::sqlite {
namespace {

Error store_error(std::string message) {
  return make_error(ErrorKind::kStore, std::move(message));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      database_(other.database_),
      bind_status_(std::move(other.bind_status_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    database_ = other.database_;
    bind_status_ = std::move(other.bind_status_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(handle_); }

Statement& Statement::bind(int index, std::int64_t value) {
  const int code = sqlite3_bind_int64(handle_, index, value);
  if (bind_status_ && code != SQLITE_OK) {
    bind_status_ = database_->check(code, "binding a parameter");
  }
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  const int code = sqlite3_bind_text64(handle_, index, text.data(), text.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_status_ && code != SQLITE_OK) {
    bind_status_ = database_->check(code, "binding a parameter");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int code = sqlite3_bind_null(handle_, index);
  if (bind_status_ && code != SQLITE_OK) {
    bind_status_ = database_->check(code, "binding a parameter");
  }
  return *this;
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_.error();
  const int code = sqlite3_step(handle_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  Status status = database_->check(code, sqlite3_sql(handle_));
  return status.error();
}

Status Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

std::int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(handle_, index);
}

std::string Statement::column_text(int index) const {
  return std::string(column_view(index));
}

std::string_view Statement::column_view(int index) const {
  const auto* text =
      reinterpret_cast<const char*>(sqlite3_column_text(handle_, index));
  if (text == nullptr) return {};
  return std::string_view(
      text, static_cast<std::size_t>(sqlite3_column_bytes(handle_, index)));
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(handle_, index) == SQLITE_NULL;
}

void Statement::reset() {
  sqlite3_reset(handle_);
  sqlite3_clear_bindings(handle_);
  bind_status_ = Status();
}

Result<Database> Database::open(const std::string& path) {
  sqlite3* handle = nullptr;
  const int code = sqlite3_open_v2(
      path.c_str(), &handle,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  Database database(handle);
  if (code != SQLITE_OK) {
    return store_error(
        "opening store " + path + ": " +
        (handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(code)));
  }
  sqlite3_extended_result_codes(handle, 1);
  return database;
}

Database::Database(Database&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Database::~Database() { sqlite3_close_v2(handle_); }

Status Database::execute(std::string_view sql) {
  const std::string statements(sql);
  char* message = nullptr;
  const int code =
      sqlite3_exec(handle_, statements.c_str(), nullptr, nullptr, &message);
  if (code == SQLITE_OK) return {};
  std::string text = message != nullptr ? message : sqlite3_errstr(code);
  sqlite3_free(message);
  return store_error("store: " + text);
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* handle = nullptr;
  const int code =
      sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &handle, nullptr);
  if (code != SQLITE_OK) {
    Status status = check(code, sql);
    return status.error();
  }
  return Statement(handle, this);
}

Status Database::check(int code, std::string_view what) const {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) {
    return {};
  }
  const ErrorKind kind =
      (code & 0xff) == SQLITE_BUSY ? ErrorKind::kLocked : ErrorKind::kStore;
  return make_error(kind, "store: " + std::string(sqlite3_errmsg(handle_)) +
                              " (" + sqlite3_errstr(code) + ") in " +
                              std::string(what.substr(0, 80)));
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(handle_);
}

int Database::changes() const { return sqlite3_changes(handle_); }

Result<Transaction> Transaction::begin(Database& database) {
  Status status = database.execute("BEGIN IMMEDIATE");
  if (!status) return status.error();
  return Transaction(&database);
}

Transaction::Transaction(Transaction&& other) noexcept
    : database_(std::exchange(other.database_, nullptr)) {}

Transaction::~Transaction() {
  if (database_ != nullptr) {
    // A failed rollback leaves SQLite to roll back when the connection
    // closes; a destructor has no one to report it to.
    (void)database_->execute("ROLLBACK");
  }
}

Status Transaction::commit() {
  Status status = database_->execute("COMMIT");
  if (status) database_ = nullptr;
  return status;
}

}  // namespace hubpoll::sqlite
