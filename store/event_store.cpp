#include "store/event_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite.h"

namespace hubpoll {
namespace {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

// Each entry upgrades the schema from its index to the next version. New
// versions append an entry; existing entries never change.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE streams (
  stream_key INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  resource TEXT NOT NULL,
  watermark_ms INTEGER,
  window_start_ms INTEGER,
  last_poll_ms INTEGER,
  last_result TEXT NOT NULL DEFAULT '',
  last_fetched INTEGER NOT NULL DEFAULT 0,
  last_emitted INTEGER NOT NULL DEFAULT 0,
  last_rejected INTEGER NOT NULL DEFAULT 0,
  last_reject_reason TEXT NOT NULL DEFAULT '',
  UNIQUE (instance_id, resource)
);
CREATE TABLE dedupe_keys (
  stream_key INTEGER NOT NULL,
  key TEXT NOT NULL,
  record_ms INTEGER NOT NULL,
  emitted INTEGER NOT NULL,
  PRIMARY KEY (stream_key, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_by_date ON dedupe_keys (record_ms);
CREATE TABLE events (
  sequence INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  stream_key INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  event_ms INTEGER NOT NULL,
  poll_ms INTEGER NOT NULL,
  raw TEXT NOT NULL
);
CREATE INDEX events_by_poll ON events (poll_ms);
CREATE TABLE notifications (
  sequence INTEGER PRIMARY KEY,
  notification_id TEXT NOT NULL UNIQUE,
  stream_key INTEGER NOT NULL,
  sink TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  created_ms INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (state, sink, next_attempt_ms);
CREATE TABLE notification_events (
  notification_sequence INTEGER NOT NULL,
  event_sequence INTEGER NOT NULL,
  PRIMARY KEY (notification_sequence, event_sequence)
) WITHOUT ROWID;
CREATE TABLE delivery_attempts (
  attempt_key INTEGER PRIMARY KEY,
  notification_sequence INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  http_status INTEGER,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_by_notification
  ON delivery_attempts (notification_sequence);
)sql",
    // Finds each stream's pending notifications in order without a sort.
    R"sql(
CREATE INDEX notifications_pending
  ON notifications (sink, state, stream_key, sequence);
)sql",
};

constexpr int kSchemaVersion =
    static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

std::int64_t to_ms(Instant instant) {
  return instant.time_since_epoch().count();
}

Instant from_ms(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

std::optional<Instant> optional_instant(const Statement& row, int column) {
  if (row.column_is_null(column)) return std::nullopt;
  return from_ms(row.column_int(column));
}

Result<int> schema_version(Database& database) {
  auto query = database.prepare("PRAGMA user_version");
  if (!query) return query.error();
  auto has_row = query->step();
  if (!has_row) return has_row.error();
  return static_cast<int>(query->column_int(0));
}

// Runs the migrations the store lacks, all in one write transaction so
// that connections opening the store at the same time migrate it once.
Status migrate(Database& database, const std::string& path) {
  auto transaction = Transaction::begin(database);
  if (!transaction) return transaction.error();
  auto version = schema_version(database);
  if (!version) return version.error();
  if (*version > kSchemaVersion) {
    return make_error(ErrorKind::kStore,
                      path + ": store schema version " +
                          std::to_string(*version) +
                          " is newer than this hubpoll supports (" +
                          std::to_string(kSchemaVersion) + ")");
  }
  if (*version == kSchemaVersion) return transaction->commit();
  for (int next = *version; next < kSchemaVersion; ++next) {
    Status status = database.execute(kMigrations[next]);
    if (!status) return status;
  }
  Status status = database.execute("PRAGMA user_version = " +
                                   std::to_string(kSchemaVersion));
  if (!status) return status;
  return transaction->commit();
}

// Creates the file with mode 0600 before SQLite opens it, so events are
// never readable by other users, even for a moment.
Status create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorKind::kIo,
                      "creating store " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return {};
}

class SqliteEventStore final : public EventStore {
 public:
  explicit SqliteEventStore(Database database)
      : database_(std::move(database)) {}

  Status prepare_statements();

  Result<StreamState> stream(const StreamId& id) override;
  Result<KeyState> find_key(std::int64_t stream_key,
                            const std::string& key) override;
  Result<std::int64_t> commit_poll(const PollCommit& commit) override;
  Status record_failure(std::int64_t stream_key, Instant poll_start,
                        const std::string& reason,
                        const PollStats& stats) override;
  Result<std::vector<Notification>> due_notifications(
      const std::string& sink, Instant now, std::size_t limit) override;
  Status mark_delivered(std::int64_t notification_sequence, Instant now,
                        int http_status) override;
  Status mark_all_delivered(const std::vector<std::int64_t>& sequences,
                            Instant now, int http_status) override;
  Status mark_failed(std::int64_t notification_sequence, Instant now,
                     int http_status, const std::string& error,
                     std::optional<Instant> retry_at) override;
  Result<std::int64_t> retry_dead(const std::string& sink,
                                  Instant now) override;
  Result<std::vector<Attempt>> attempts(
      std::int64_t notification_sequence) override;
  Result<NotificationState> notification_state(
      const std::string& notification_id) override;
  Result<std::int64_t> prune(Instant keys_before, Instant events_before,
                             std::int64_t batch) override;
  Result<std::vector<StreamSummary>> stream_summaries() override;
  Result<std::vector<Event>> find_events(std::int64_t stream_key,
                                         const EventQuery& query,
                                         std::int64_t after_sequence,
                                         std::size_t limit) override;
  Status queue_notification(const QueuedNotification& notification) override;

 private:
  Status write_keys(const PollCommit& commit);
  // An event of the commit that was stored: its index in the commit and
  // its row in the events table.
  struct StoredEvent {
    std::size_t index;
    std::int64_t sequence;
  };

  Status write_events(const PollCommit& commit,
                      std::vector<StoredEvent>& stored);
  Status write_notifications(const PollCommit& commit,
                             const std::vector<StoredEvent>& stored);
  Status write_stream_state(const PollCommit& commit, std::int64_t emitted);
  Status update_after_attempt(std::int64_t notification_sequence,
                              const char* state, Instant now, int http_status,
                              const std::string& error, Instant next_attempt);
  Result<std::vector<Event>> notification_events(std::int64_t sequence,
                                                 const std::string& instance,
                                                 const std::string& resource);

  Database database_;
  Statement find_key_;
  Statement insert_key_;
  Statement insert_event_;
  Statement select_notification_events_;
};

Status SqliteEventStore::prepare_statements() {
  auto find_key = database_.prepare(
      "SELECT emitted FROM dedupe_keys WHERE stream_key = ? AND key = ?");
  if (!find_key) return find_key.error();
  find_key_ = std::move(*find_key);

  auto notification_events = database_.prepare(
      "SELECT e.sequence, e.event_id, e.object_id, e.event_type, e.event_ms, "
      "e.poll_ms, e.raw FROM notification_events l JOIN events e "
      "ON e.sequence = l.event_sequence WHERE l.notification_sequence = ? "
      "ORDER BY e.sequence");
  if (!notification_events) return notification_events.error();
  select_notification_events_ = std::move(*notification_events);

  // An existing key stays as it is unless this poll emits it.
  auto insert_key = database_.prepare(
      "INSERT INTO dedupe_keys (stream_key, key, record_ms, emitted) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (stream_key, key) DO UPDATE SET "
      "emitted = MAX(emitted, excluded.emitted)");
  if (!insert_key) return insert_key.error();
  insert_key_ = std::move(*insert_key);

  auto insert_event = database_.prepare(
      "INSERT INTO events (event_id, stream_key, object_id, event_type, "
      "event_ms, poll_ms, raw) VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (event_id) DO NOTHING");
  if (!insert_event) return insert_event.error();
  insert_event_ = std::move(*insert_event);
  return {};
}

Result<StreamState> SqliteEventStore::stream(const StreamId& id) {
  auto insert = database_.prepare(
      "INSERT OR IGNORE INTO streams (instance_id, resource) VALUES (?, ?)");
  if (!insert) return insert.error();
  insert->bind(1, id.instance_id).bind(2, id.resource);
  Status status = insert->run();
  if (!status) return status.error();

  auto select = database_.prepare(
      "SELECT stream_key, watermark_ms, window_start_ms, last_poll_ms, "
      "last_result, last_fetched, last_emitted, last_rejected, "
      "last_reject_reason FROM streams WHERE instance_id = ? AND resource = ?");
  if (!select) return select.error();
  select->bind(1, id.instance_id).bind(2, id.resource);
  auto row = select->step();
  if (!row) return row.error();
  StreamState state;
  state.stream_key = select->column_int(0);
  state.watermark = optional_instant(*select, 1);
  state.window_start = optional_instant(*select, 2);
  state.last_poll = optional_instant(*select, 3);
  state.last_result = select->column_text(4);
  state.last_stats.fetched = select->column_int(5);
  state.last_stats.emitted = select->column_int(6);
  state.last_stats.rejected = select->column_int(7);
  state.last_stats.last_reject_reason = select->column_text(8);
  return state;
}

Result<KeyState> SqliteEventStore::find_key(std::int64_t stream_key,
                                            const std::string& key) {
  find_key_.bind(1, stream_key).bind(2, key);
  auto row = find_key_.step();
  KeyState state = KeyState::kAbsent;
  if (row && *row) {
    state = find_key_.column_int(0) != 0 ? KeyState::kEmitted : KeyState::kSeen;
  }
  // A statement left on a row keeps its read transaction open, and a later
  // write from this connection would then fail at once with
  // SQLITE_BUSY_SNAPSHOT when another connection has committed meanwhile.
  find_key_.reset();
  if (!row) return row.error();
  return state;
}

Result<std::int64_t> SqliteEventStore::commit_poll(const PollCommit& commit) {
  auto transaction = Transaction::begin(database_);
  if (!transaction) return transaction.error();

  Status status = write_keys(commit);
  if (!status) return status.error();
  std::vector<StoredEvent> stored;
  status = write_events(commit, stored);
  if (!status) return status.error();
  status = write_notifications(commit, stored);
  if (!status) return status.error();
  status = write_stream_state(commit, static_cast<std::int64_t>(stored.size()));
  if (!status) return status.error();
  status = transaction->commit();
  if (!status) return status.error();
  return static_cast<std::int64_t>(stored.size());
}

Status SqliteEventStore::write_keys(const PollCommit& commit) {
  for (const DedupeEntry& entry : commit.keys) {
    insert_key_.reset();
    insert_key_.bind(1, commit.stream_key)
        .bind(2, entry.key)
        .bind(3, to_ms(entry.record_date))
        .bind(4, std::int64_t{entry.emitted ? 1 : 0});
    Status status = insert_key_.run();
    if (!status) return status;
  }
  return {};
}

Status SqliteEventStore::write_events(const PollCommit& commit,
                                      std::vector<StoredEvent>& stored) {
  stored.reserve(commit.events.size());
  std::string loaded_raw;
  for (std::size_t i = 0; i < commit.events.size(); ++i) {
    const Event& event = commit.events[i];
    std::string_view raw = event.raw;
    if (commit.load_raw) {
      Status loaded = commit.load_raw(i, loaded_raw);
      if (!loaded) return loaded;
      raw = loaded_raw;
    }
    insert_event_.reset();
    insert_event_.bind(1, event.event_id)
        .bind(2, commit.stream_key)
        .bind(3, event.object_id)
        .bind(4, event.event_type)
        .bind(5, to_ms(event.date))
        .bind(6, to_ms(event.poll_date))
        .bind(7, raw);
    Status status = insert_event_.run();
    if (!status) return status;
    // An event already stored (its key was pruned while the hub kept
    // returning the record) is neither stored nor notified again.
    if (database_.changes() == 0) continue;
    stored.push_back(StoredEvent{i, database_.last_insert_rowid()});
  }
  return {};
}

Status SqliteEventStore::write_notifications(
    const PollCommit& commit, const std::vector<StoredEvent>& stored) {
  if (commit.sink.empty() || stored.empty()) return {};
  auto insert = database_.prepare(
      "INSERT INTO notifications (notification_id, stream_key, sink, state, "
      "created_ms, next_attempt_ms) VALUES (?, ?, ?, 'pending', ?, ?)");
  if (!insert) return insert.error();
  auto link = database_.prepare(
      "INSERT INTO notification_events (notification_sequence, "
      "event_sequence) VALUES (?, ?)");
  if (!link) return link.error();

  const std::size_t group =
      std::max<std::size_t>(1, commit.max_events_per_notification);
  for (std::size_t first = 0; first < stored.size(); first += group) {
    // The first event's id is stable, so the notification id is too.
    insert->reset();
    insert->bind(1, "n-" + commit.events[stored[first].index].event_id)
        .bind(2, commit.stream_key)
        .bind(3, commit.sink)
        .bind(4, to_ms(commit.poll_start))
        .bind(5, to_ms(commit.poll_start));
    Status status = insert->run();
    if (!status) return status;
    const std::int64_t notification = database_.last_insert_rowid();
    const std::size_t last = std::min(first + group, stored.size());
    for (std::size_t i = first; i < last; ++i) {
      link->reset();
      link->bind(1, notification).bind(2, stored[i].sequence);
      status = link->run();
      if (!status) return status;
    }
  }
  return {};
}

Status SqliteEventStore::write_stream_state(const PollCommit& commit,
                                            std::int64_t emitted) {
  auto update = database_.prepare(
      "UPDATE streams SET watermark_ms = ?, window_start_ms = ?, "
      "last_poll_ms = ?, last_result = 'ok', last_fetched = ?, "
      "last_emitted = ?, last_rejected = ?, last_reject_reason = ? "
      "WHERE stream_key = ?");
  if (!update) return update.error();
  update->bind(1, to_ms(commit.poll_start))
      .bind(2, to_ms(commit.window_start))
      .bind(3, to_ms(commit.poll_start))
      .bind(4, commit.stats.fetched)
      .bind(5, emitted)
      .bind(6, commit.stats.rejected)
      .bind(7, commit.stats.last_reject_reason)
      .bind(8, commit.stream_key);
  return update->run();
}

Status SqliteEventStore::record_failure(std::int64_t stream_key,
                                        Instant poll_start,
                                        const std::string& reason,
                                        const PollStats& stats) {
  auto update = database_.prepare(
      "UPDATE streams SET last_poll_ms = ?, last_result = ?, "
      "last_fetched = ?, last_emitted = 0, last_rejected = ?, "
      "last_reject_reason = ? WHERE stream_key = ?");
  if (!update) return update.error();
  update->bind(1, to_ms(poll_start))
      .bind(2, reason)
      .bind(3, stats.fetched)
      .bind(4, stats.rejected)
      .bind(5, stats.last_reject_reason)
      .bind(6, stream_key);
  return update->run();
}

Result<std::vector<Notification>> SqliteEventStore::due_notifications(
    const std::string& sink, Instant now, std::size_t limit) {
  // Every pending notification of each stream whose oldest pending one is
  // due, so a batch can go out in one pass without overtaking a retry.
  auto select = database_.prepare(
      "SELECT n.sequence, n.notification_id, n.created_ms, n.attempts, "
      "s.instance_id, s.resource FROM (SELECT stream_key, MIN(sequence) AS "
      "head FROM notifications WHERE sink = ?1 AND state = 'pending' GROUP BY "
      "stream_key) h JOIN notifications first ON first.sequence = h.head "
      "JOIN notifications n ON n.sink = ?1 AND n.state = 'pending' AND "
      "n.stream_key = h.stream_key JOIN streams s ON s.stream_key = "
      "n.stream_key WHERE first.next_attempt_ms <= ?2 ORDER BY n.sequence "
      "LIMIT ?3");
  if (!select) return select.error();
  select->bind(1, sink)
      .bind(2, to_ms(now))
      .bind(3, static_cast<std::int64_t>(limit));
  std::vector<Notification> due;
  while (true) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) break;
    Notification notification;
    notification.sequence = select->column_int(0);
    notification.notification_id = select->column_text(1);
    notification.sink = sink;
    notification.created = from_ms(select->column_int(2));
    notification.attempts = static_cast<int>(select->column_int(3));
    notification.instance_id = select->column_text(4);
    notification.resource = select->column_text(5);
    due.push_back(std::move(notification));
  }
  for (Notification& notification : due) {
    auto events = notification_events(
        notification.sequence, notification.instance_id, notification.resource);
    if (!events) return events.error();
    notification.events = std::move(*events);
  }
  return due;
}

Result<std::vector<Event>> SqliteEventStore::notification_events(
    std::int64_t sequence, const std::string& instance,
    const std::string& resource) {
  Statement* select = &select_notification_events_;
  select->reset();
  select->bind(1, sequence);
  std::vector<Event> events;
  while (true) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) break;
    Event event;
    event.sequence = select->column_int(0);
    event.event_id = select->column_text(1);
    event.object_id = select->column_text(2);
    event.event_type = select->column_text(3);
    event.date = from_ms(select->column_int(4));
    event.poll_date = from_ms(select->column_int(5));
    event.raw = select->column_text(6);
    event.instance_id = instance;
    event.resource = resource;
    events.push_back(std::move(event));
  }
  select->reset();
  return events;
}

Status SqliteEventStore::mark_delivered(std::int64_t notification_sequence,
                                        Instant now, int http_status) {
  return update_after_attempt(notification_sequence, "delivered", now,
                              http_status, "", now);
}

Status SqliteEventStore::mark_all_delivered(
    const std::vector<std::int64_t>& sequences, Instant now, int http_status) {
  auto transaction = Transaction::begin(database_);
  if (!transaction) return transaction.error();
  auto update = database_.prepare(
      "UPDATE notifications SET state = 'delivered', attempts = attempts + 1, "
      "last_status = ?, next_attempt_ms = ? WHERE sequence = ?");
  if (!update) return update.error();
  auto attempt = database_.prepare(
      "INSERT INTO delivery_attempts (notification_sequence, attempt, at_ms, "
      "http_status) SELECT sequence, attempts, ?, ? FROM notifications "
      "WHERE sequence = ?");
  if (!attempt) return attempt.error();
  for (const std::int64_t sequence : sequences) {
    update->reset();
    update->bind(1, std::int64_t{http_status})
        .bind(2, to_ms(now))
        .bind(3, sequence);
    Status status = update->run();
    if (!status) return status;
    attempt->reset();
    attempt->bind(1, to_ms(now))
        .bind(2, std::int64_t{http_status})
        .bind(3, sequence);
    status = attempt->run();
    if (!status) return status;
  }
  return transaction->commit();
}

Status SqliteEventStore::mark_failed(std::int64_t notification_sequence,
                                     Instant now, int http_status,
                                     const std::string& error,
                                     std::optional<Instant> retry_at) {
  return update_after_attempt(notification_sequence,
                              retry_at ? "pending" : "dead", now, http_status,
                              error, retry_at.value_or(now));
}

Status SqliteEventStore::update_after_attempt(
    std::int64_t notification_sequence, const char* state, Instant now,
    int http_status, const std::string& error, Instant next_attempt) {
  auto transaction = Transaction::begin(database_);
  if (!transaction) return transaction.error();
  auto update = database_.prepare(
      "UPDATE notifications SET state = ?, attempts = attempts + 1, "
      "last_status = ?, last_error = ?, next_attempt_ms = ? "
      "WHERE sequence = ?");
  if (!update) return update.error();
  update->bind(1, std::string_view(state))
      .bind(2, std::int64_t{http_status})
      .bind(3, error)
      .bind(4, to_ms(next_attempt))
      .bind(5, notification_sequence);
  Status status = update->run();
  if (!status) return status;
  auto attempt = database_.prepare(
      "INSERT INTO delivery_attempts (notification_sequence, attempt, at_ms, "
      "http_status, error) SELECT sequence, attempts, ?, ?, ? FROM "
      "notifications WHERE sequence = ?");
  if (!attempt) return attempt.error();
  attempt->bind(1, to_ms(now))
      .bind(2, std::int64_t{http_status})
      .bind(3, error)
      .bind(4, notification_sequence);
  status = attempt->run();
  if (!status) return status;
  return transaction->commit();
}

Result<std::int64_t> SqliteEventStore::retry_dead(const std::string& sink,
                                                  Instant now) {
  auto update = database_.prepare(
      "UPDATE notifications SET state = 'pending', attempts = 0, "
      "next_attempt_ms = ? WHERE state = 'dead' AND sink = ?");
  if (!update) return update.error();
  update->bind(1, to_ms(now)).bind(2, sink);
  Status status = update->run();
  if (!status) return status.error();
  return static_cast<std::int64_t>(database_.changes());
}

Result<std::vector<EventStore::Attempt>> SqliteEventStore::attempts(
    std::int64_t notification_sequence) {
  auto select = database_.prepare(
      "SELECT at_ms, http_status, error FROM delivery_attempts WHERE "
      "notification_sequence = ? ORDER BY attempt_key");
  if (!select) return select.error();
  select->bind(1, notification_sequence);
  std::vector<Attempt> attempts;
  while (true) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) return attempts;
    attempts.push_back(Attempt{from_ms(select->column_int(0)),
                               static_cast<int>(select->column_int(1)),
                               select->column_text(2)});
  }
}

Result<EventStore::NotificationState> SqliteEventStore::notification_state(
    const std::string& notification_id) {
  auto select = database_.prepare(
      "SELECT state, attempts, last_status, last_error FROM notifications "
      "WHERE notification_id = ?");
  if (!select) return select.error();
  select->bind(1, notification_id);
  auto row = select->step();
  if (!row) return row.error();
  if (!*row) {
    return make_error(ErrorKind::kStore,
                      "notification " + notification_id + " not found");
  }
  return NotificationState{
      select->column_text(0), static_cast<int>(select->column_int(1)),
      static_cast<int>(select->column_int(2)), select->column_text(3)};
}

Result<std::int64_t> SqliteEventStore::prune(Instant keys_before,
                                             Instant events_before,
                                             std::int64_t batch) {
  auto transaction = Transaction::begin(database_);
  if (!transaction) return transaction.error();
  // Bounded by date so that SQLite walks the date index; a scan by primary
  // key visited every key of a stream. Keys that share the boundary date go
  // together, so one call can delete a poll's keys beyond `batch`.
  auto keys = database_.prepare(
      "DELETE FROM dedupe_keys WHERE record_ms < ?1 AND record_ms <= (SELECT "
      "MAX(record_ms) FROM (SELECT record_ms FROM dedupe_keys WHERE "
      "record_ms < ?1 ORDER BY record_ms LIMIT ?2))");
  if (!keys) return keys.error();
  keys->bind(1, to_ms(keys_before)).bind(2, batch);
  Status status = keys->run();
  if (!status) return status.error();
  std::int64_t deleted = database_.changes();

  // Events still referenced by an undelivered notification stay.
  auto events = database_.prepare(
      "DELETE FROM events WHERE sequence IN (SELECT e.sequence FROM events e "
      "WHERE e.poll_ms < ? AND NOT EXISTS (SELECT 1 FROM notification_events "
      "l JOIN notifications n ON n.sequence = l.notification_sequence WHERE "
      "l.event_sequence = e.sequence AND n.state = 'pending') LIMIT ?)");
  if (!events) return events.error();
  events->bind(1, to_ms(events_before)).bind(2, batch);
  status = events->run();
  if (!status) return status.error();
  deleted += database_.changes();

  status = transaction->commit();
  if (!status) return status.error();
  return deleted;
}

Result<std::vector<EventStore::StreamSummary>>
SqliteEventStore::stream_summaries() {
  auto select = database_.prepare(
      "SELECT s.stream_key, s.instance_id, s.resource, s.watermark_ms, "
      "s.window_start_ms, s.last_poll_ms, s.last_result, s.last_fetched, "
      "s.last_emitted, s.last_rejected, s.last_reject_reason, "
      "(SELECT COUNT(*) FROM notifications n WHERE n.stream_key = "
      "s.stream_key AND n.state = 'pending'), "
      "(SELECT COUNT(*) FROM notifications n WHERE n.stream_key = "
      "s.stream_key AND n.state = 'dead') "
      "FROM streams s ORDER BY s.instance_id, s.resource");
  if (!select) return select.error();
  std::vector<StreamSummary> summaries;
  while (true) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) return summaries;
    StreamSummary summary;
    summary.state.stream_key = select->column_int(0);
    summary.id.instance_id = select->column_text(1);
    summary.id.resource = select->column_text(2);
    summary.state.watermark = optional_instant(*select, 3);
    summary.state.window_start = optional_instant(*select, 4);
    summary.state.last_poll = optional_instant(*select, 5);
    summary.state.last_result = select->column_text(6);
    summary.state.last_stats.fetched = select->column_int(7);
    summary.state.last_stats.emitted = select->column_int(8);
    summary.state.last_stats.rejected = select->column_int(9);
    summary.state.last_stats.last_reject_reason = select->column_text(10);
    summary.pending_notifications = select->column_int(11);
    summary.dead_notifications = select->column_int(12);
    summaries.push_back(std::move(summary));
  }
}

Result<std::vector<Event>> SqliteEventStore::find_events(
    std::int64_t stream_key, const EventQuery& query,
    std::int64_t after_sequence, std::size_t limit) {
  const char* date_column = query.by_poll_date ? "e.poll_ms" : "e.event_ms";
  std::string sql =
      "SELECT e.sequence, e.event_id, e.object_id, e.event_type, e.event_ms, "
      "e.poll_ms, e.raw, s.instance_id, s.resource FROM events e JOIN "
      "streams s ON s.stream_key = e.stream_key WHERE e.stream_key = ? AND "
      "e.sequence > ?";
  if (query.since) sql += std::string(" AND ") + date_column + " >= ?";
  if (query.until) sql += std::string(" AND ") + date_column + " < ?";
  if (!query.event_ids.empty()) {
    sql += " AND e.event_id IN (?";
    for (std::size_t i = 1; i < query.event_ids.size(); ++i) sql += ", ?";
    sql += ")";
  }
  sql += " ORDER BY e.sequence LIMIT ?";

  auto select = database_.prepare(sql);
  if (!select) return select.error();
  int parameter = 1;
  select->bind(parameter++, stream_key);
  select->bind(parameter++, after_sequence);
  if (query.since) select->bind(parameter++, to_ms(*query.since));
  if (query.until) select->bind(parameter++, to_ms(*query.until));
  for (const std::string& id : query.event_ids) select->bind(parameter++, id);
  select->bind(parameter, static_cast<std::int64_t>(limit));

  std::vector<Event> events;
  while (true) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) return events;
    Event event;
    event.sequence = select->column_int(0);
    event.event_id = select->column_text(1);
    event.object_id = select->column_text(2);
    event.event_type = select->column_text(3);
    event.date = from_ms(select->column_int(4));
    event.poll_date = from_ms(select->column_int(5));
    event.raw = select->column_text(6);
    event.instance_id = select->column_text(7);
    event.resource = select->column_text(8);
    events.push_back(std::move(event));
  }
}

Status SqliteEventStore::queue_notification(
    const QueuedNotification& notification) {
  auto transaction = Transaction::begin(database_);
  if (!transaction) return transaction.error();
  auto insert = database_.prepare(
      "INSERT INTO notifications (notification_id, stream_key, sink, state, "
      "created_ms, next_attempt_ms) VALUES (?, ?, ?, 'pending', ?, ?)");
  if (!insert) return insert.error();
  insert->bind(1, notification.notification_id)
      .bind(2, notification.stream_key)
      .bind(3, notification.sink)
      .bind(4, to_ms(notification.created))
      .bind(5, to_ms(notification.created));
  Status status = insert->run();
  if (!status) return status;
  const std::int64_t sequence = database_.last_insert_rowid();

  auto link = database_.prepare(
      "INSERT INTO notification_events (notification_sequence, "
      "event_sequence) VALUES (?, ?)");
  if (!link) return link.error();
  for (const std::int64_t event : notification.event_sequences) {
    link->reset();
    link->bind(1, sequence).bind(2, event);
    status = link->run();
    if (!status) return status;
  }
  return transaction->commit();
}

class FileWriterLock final : public WriterLock {
 public:
  explicit FileWriterLock(int fd) : fd_(fd) {}
  ~FileWriterLock() override { ::close(fd_); }
  FileWriterLock(const FileWriterLock&) = delete;
  FileWriterLock& operator=(const FileWriterLock&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path) {
  Status created = create_private_file(path);
  if (!created) return created.error();
  auto database = Database::open(path);
  if (!database) return database.error();
  Status status = database->execute(
      "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; "
      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
      "PRAGMA cache_size = -8192;");
  if (!status) return status.error();
  status = migrate(*database, path);
  if (!status) return status.error();
  auto store = std::make_unique<SqliteEventStore>(std::move(*database));
  status = store->prepare_statements();
  if (!status) return status.error();
  return std::unique_ptr<EventStore>(std::move(store));
}

Result<std::unique_ptr<WriterLock>> acquire_writer_lock(
    const std::string& store_path) {
  const std::string lock_path = store_path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorKind::kIo, "opening lock file " + lock_path + ": " +
                                          std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const ssize_t read_bytes = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return make_error(ErrorKind::kIo,
                        "locking " + lock_path + ": " + std::strerror(error));
    }
    std::string pid = read_bytes > 0 ? std::string(holder, read_bytes) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
      pid.pop_back();
    }
    return make_error(ErrorKind::kLocked,
                      "store " + store_path + " is locked by process " +
                          (pid.empty() ? "(unknown)" : pid) + " (lock file " +
                          lock_path + ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    return make_error(ErrorKind::kIo, "writing lock file " + lock_path + ": " +
                                          std::strerror(error));
  }
  return std::unique_ptr<WriterLock>(std::make_unique<FileWriterLock>(fd));
}

}  // namespace hubpoll
