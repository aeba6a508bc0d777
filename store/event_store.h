// The SQLite event store: per-resource state, dedupe keys, the event log and
// the notification outbox.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "poller/result.h"
#include "poller/time_types.h"

namespace hubpoll {

// One (instance, resource) pair, the unit of polling and de-duplication.
struct StreamId {
  std::string instance_id;
  std::string resource;
};

// Counts of one poll, kept for `status`.
struct PollStats {
  std::int64_t fetched = 0;
  std::int64_t emitted = 0;
  std::int64_t rejected = 0;
  std::string last_reject_reason;
};

// The stored state of one stream.
struct StreamState {
  std::int64_t stream_key = 0;          // the row id used by the other tables
  std::optional<Instant> watermark;     // start of the last successful poll
  std::optional<Instant> window_start;  // window of the last successful poll
  std::optional<Instant> last_poll;
  std::string last_result;  // "ok", or the error that failed the last poll
  PollStats last_stats;
};

enum class KeyState { kAbsent, kSeen, kEmitted };

// A de-duplication key and the record date it was made from. Keys of
// records that fell before the window are stored with emitted = false.
struct DedupeEntry {
  std::string key;
  Instant record_date;
  bool emitted = false;
};

struct Event {
  std::string event_id;
  std::string resource;
  std::string instance_id;
  std::string object_id;
  std::string event_type;  // CREATED or UPDATED
  Instant date;            // the record's updated date
  Instant poll_date;
  std::string raw;            // the record's JSON text as fetched
  std::int64_t sequence = 0;  // store order, assigned on commit
};

// Everything one successful poll of one stream writes, committed together.
struct PollCommit {
  std::int64_t stream_key = 0;
  Instant poll_start;
  Instant window_start;
  std::vector<DedupeEntry> keys;
  std::vector<Event> events;  // in emission order
  // Supplies the raw text of events[index] when the events were built
  // without it, so a large page need not hold every record in memory.
  std::function<Status(std::size_t index, std::string& raw)> load_raw;
  // Destination of the new events' notifications ("stdout" or "webhook");
  // empty when notifications are disabled.
  std::string sink;
  std::size_t max_events_per_notification = 10;
  PollStats stats;
};

// A notification to deliver, with its events in order.
struct Notification {
  std::int64_t sequence = 0;
  std::string notification_id;
  std::string sink;
  std::string instance_id;
  std::string resource;
  Instant created;
  int attempts = 0;
  std::vector<Event> events;
};

// The store. One instance per process and thread; a file lock beside the
// database (see acquire_writer_lock) keeps a second writer out.
class EventStore {
 public:
  // Opens or creates the store at `path` (mode 0600), enables WAL and
  // migrates the schema to the current version.
  static Result<std::unique_ptr<EventStore>> open(const std::string& path);

  virtual ~EventStore() = default;

  // Returns the stream's state, creating its row on first use.
  virtual Result<StreamState> stream(const StreamId& id) = 0;

  virtual Result<KeyState> find_key(std::int64_t stream_key,
                                    const std::string& key) = 0;

  // Writes the poll's keys, events, notifications, stats and new watermark
  // in one transaction, and returns how many events were stored. Keys
  // already present are upgraded to emitted when the commit emits them and
  // left alone otherwise. An event whose id is already stored is skipped
  // with its notification, since events outlive their dedupe keys.
  virtual Result<std::int64_t> commit_poll(const PollCommit& commit) = 0;

  // Records a failed poll for `status`, leaving the watermark alone.
  virtual Status record_failure(std::int64_t stream_key, Instant poll_start,
                                const std::string& reason,
                                const PollStats& stats) = 0;

  // Pending notifications for `sink` of each stream whose oldest pending
  // notification is due at `now`, oldest first, at most `limit`. A stream
  // waits as a whole while its oldest is waiting for a retry, so its events
  // go out in order. A caller that fails one must skip the stream's later
  // ones until the next call.
  virtual Result<std::vector<Notification>> due_notifications(
      const std::string& sink, Instant now, std::size_t limit) = 0;

  // Records a successful attempt; `http_status` is 0 for the stdout sink.
  virtual Status mark_delivered(std::int64_t notification_sequence, Instant now,
                                int http_status) = 0;

  // Records successful attempts of several notifications in one
  // transaction.
  virtual Status mark_all_delivered(const std::vector<std::int64_t>& sequences,
                                    Instant now, int http_status) = 0;

  // Records a failed attempt. With `retry_at` the notification stays
  // pending until then; without it, it is dead. `http_status` is 0 when no
  // response arrived.
  virtual Status mark_failed(std::int64_t notification_sequence, Instant now,
                             int http_status, const std::string& error,
                             std::optional<Instant> retry_at) = 0;

  // Makes every dead notification of `sink` pending and due at `now`, with
  // its attempt count reset. Returns how many were re-queued.
  virtual Result<std::int64_t> retry_dead(const std::string& sink,
                                          Instant now) = 0;

  // The attempts made so far for one notification, oldest first.
  struct Attempt {
    Instant at;
    int http_status = 0;
    std::string error;
  };
  virtual Result<std::vector<Attempt>> attempts(
      std::int64_t notification_sequence) = 0;

  // The state of one notification: "pending", "delivered" or "dead", and
  // its last error.
  struct NotificationState {
    std::string state;
    int attempts = 0;
    int last_status = 0;
    std::string last_error;
  };
  virtual Result<NotificationState> notification_state(
      const std::string& notification_id) = 0;

  // Deletes dedupe keys dated before `keys_before` and events polled before
  // `events_before`, at most `batch` rows of each. Returns the rows deleted.
  virtual Result<std::int64_t> prune(Instant keys_before, Instant events_before,
                                     std::int64_t batch) = 0;

  // One stream with its state and its outbox counts, for `status`.
  struct StreamSummary {
    StreamId id;
    StreamState state;
    std::int64_t pending_notifications = 0;
    std::int64_t dead_notifications = 0;
  };

  // Every stream in the store, ordered by instance and resource. Reads
  // only: unlike stream(), it never creates a row.
  virtual Result<std::vector<StreamSummary>> stream_summaries() = 0;

  // A selection of stored events for a replay. Empty lists select all.
  struct EventQuery {
    std::optional<Instant> since;  // inclusive
    std::optional<Instant> until;  // exclusive
    bool by_poll_date = false;     // compare poll dates, not event dates
    std::vector<std::string> event_ids;
  };

  // Up to `limit` events of one stream that match `query`, with a sequence
  // above `after_sequence`, in store order. Reads only.
  virtual Result<std::vector<Event>> find_events(std::int64_t stream_key,
                                                 const EventQuery& query,
                                                 std::int64_t after_sequence,
                                                 std::size_t limit) = 0;

  // A notification made outside a poll, such as a replay, for events that
  // are already stored.
  struct QueuedNotification {
    std::int64_t stream_key = 0;
    std::string notification_id;  // must be unique in the store
    std::string sink;
    Instant created;  // also the first attempt's due time
    std::vector<std::int64_t> event_sequences;  // in delivery order
  };

  // Inserts the notification and its event links in one transaction,
  // leaving dedupe keys, watermarks and the events themselves alone.
  virtual Status queue_notification(const QueuedNotification& notification) = 0;
};

// Holds the single-writer lock of a store until destroyed.
class WriterLock {
 public:
  virtual ~WriterLock() = default;
};

// Takes the writer lock of the store at `store_path` (a lock file beside
// it). Fails with ErrorKind::kLocked naming the holder's process id when
// another live process holds it. A lock left by a killed process is free,
// because the kernel drops it with the process.
Result<std::unique_ptr<WriterLock>> acquire_writer_lock(
    const std::string& store_path);

}  // namespace hubpoll
