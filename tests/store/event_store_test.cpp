#include "store/event_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "store/sqlite.h"
#include "support/temp_dir.h"

namespace hubpoll {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Instant at_hour(int hour) {
  return Instant(std::chrono::hours(hour) + std::chrono::hours(24 * 20000));
}

Event make_event(const std::string& id, const std::string& object_id,
                 Instant date) {
  Event event;
  event.event_id = id;
  event.object_id = object_id;
  event.event_type = "CREATED";
  event.date = date;
  event.poll_date = date;
  event.raw = R"({"id_str":")" + object_id + R"("})";
  return event;
}

std::unique_ptr<EventStore> open_store(const testing::TempDir& dir) {
  auto store = EventStore::open(dir.file("events.db"));
  REQUIRE(store.ok());
  return std::move(*store);
}

PollCommit commit_with_events(std::int64_t stream_key, int count,
                              Instant poll_start) {
  PollCommit commit;
  commit.stream_key = stream_key;
  commit.poll_start = poll_start;
  commit.window_start = poll_start - minutes(15);
  commit.sink = "stdout";
  for (int i = 0; i < count; ++i) {
    const std::string id = std::to_string(i);
    commit.events.push_back(make_event("event-" + id, id, poll_start));
    commit.keys.push_back(DedupeEntry{"c:" + id, poll_start, true});
  }
  commit.stats.fetched = count;
  commit.stats.emitted = count;
  return commit;
}

TEST_CASE("a new store file is private to its owner", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  struct stat info {};
  REQUIRE(::stat(dir.file("events.db").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
}

TEST_CASE("a store opens in WAL mode at the current schema", "[store]") {
  testing::TempDir dir;
  open_store(dir);
  auto database = sqlite::Database::open(dir.file("events.db"));
  REQUIRE(database.ok());
  auto mode = database->prepare("PRAGMA journal_mode");
  REQUIRE(mode.ok());
  REQUIRE(*mode->step());
  CHECK(mode->column_text(0) == "wal");
  auto version = database->prepare("PRAGMA user_version");
  REQUIRE(version.ok());
  REQUIRE(*version->step());
  CHECK(version->column_int(0) == 2);
}

std::vector<Notification> drain(EventStore& store, const std::string& sink,
                                Instant now);

TEST_CASE("a version 1 store is migrated in place", "[store]") {
  testing::TempDir dir;
  {
    auto store = open_store(dir);
    auto stream = store->stream(StreamId{"i", "statuses"});
    REQUIRE(
        store
            ->commit_poll(commit_with_events(stream->stream_key, 3, at_hour(1)))
            .ok());
  }
  {
    auto database = sqlite::Database::open(dir.file("events.db"));
    REQUIRE(database.ok());
    REQUIRE(database
                ->execute("DROP INDEX notifications_pending; "
                          "PRAGMA user_version = 1")
                .ok());
  }
  auto store = open_store(dir);
  auto database = sqlite::Database::open(dir.file("events.db"));
  auto index = database->prepare(
      "SELECT COUNT(*) FROM sqlite_master WHERE name = "
      "'notifications_pending'");
  REQUIRE(index.ok());
  REQUIRE(*index->step());
  CHECK(index->column_int(0) == 1);
  CHECK(drain(*store, "stdout", at_hour(1)).size() == 1);
}

TEST_CASE("reopening a store keeps its data", "[store]") {
  testing::TempDir dir;
  std::int64_t stream_key = 0;
  {
    auto store = open_store(dir);
    auto stream = store->stream(StreamId{"i", "statuses"});
    REQUIRE(stream.ok());
    stream_key = stream->stream_key;
    REQUIRE(
        store->commit_poll(commit_with_events(stream_key, 2, at_hour(1))).ok());
  }
  auto store = open_store(dir);
  auto stream = store->stream(StreamId{"i", "statuses"});
  REQUIRE(stream.ok());
  CHECK(stream->stream_key == stream_key);
  REQUIRE(stream->watermark.has_value());
  CHECK(*stream->watermark == at_hour(1));
  CHECK(*store->find_key(stream_key, "c:1") == KeyState::kEmitted);
}

TEST_CASE("a store from a newer hubpoll is rejected", "[store]") {
  testing::TempDir dir;
  {
    auto database = sqlite::Database::open(dir.file("events.db"));
    REQUIRE(database.ok());
    REQUIRE(database->execute("PRAGMA user_version = 99").ok());
  }
  auto store = EventStore::open(dir.file("events.db"));
  REQUIRE_FALSE(store.ok());
  CHECK_THAT(store.error().message,
             Catch::Contains("schema version 99 is newer"));
}

TEST_CASE("streams are kept apart by instance and resource", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  auto a = store->stream(StreamId{"one", "statuses"});
  auto b = store->stream(StreamId{"two", "statuses"});
  auto c = store->stream(StreamId{"one", "users"});
  REQUIRE((a.ok() && b.ok() && c.ok()));
  CHECK(a->stream_key != b->stream_key);
  CHECK(a->stream_key != c->stream_key);
  CHECK_FALSE(a->watermark.has_value());
  REQUIRE(store->commit_poll(commit_with_events(a->stream_key, 1, at_hour(1)))
              .ok());
  CHECK(*store->find_key(a->stream_key, "c:0") == KeyState::kEmitted);
  CHECK(*store->find_key(b->stream_key, "c:0") == KeyState::kAbsent);
}

TEST_CASE("a seen key becomes emitted and never goes back", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;

  PollCommit seen = commit_with_events(key, 0, at_hour(1));
  seen.keys.push_back(DedupeEntry{"c:5", at_hour(0), false});
  REQUIRE(store->commit_poll(seen).ok());
  CHECK(*store->find_key(key, "c:5") == KeyState::kSeen);

  PollCommit emitted = commit_with_events(key, 0, at_hour(2));
  emitted.keys.push_back(DedupeEntry{"c:5", at_hour(0), true});
  REQUIRE(store->commit_poll(emitted).ok());
  CHECK(*store->find_key(key, "c:5") == KeyState::kEmitted);

  REQUIRE(store->commit_poll(seen).ok());
  CHECK(*store->find_key(key, "c:5") == KeyState::kEmitted);
}

TEST_CASE("a failed commit leaves nothing of the poll", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  REQUIRE(store->commit_poll(commit_with_events(key, 1, at_hour(1))).ok());

  // The second event's raw text cannot be read, after the new keys and
  // the first event were written.
  PollCommit commit = commit_with_events(key, 0, at_hour(2));
  commit.keys.push_back(DedupeEntry{"c:new", at_hour(2), true});
  commit.events.push_back(make_event("event-new", "new", at_hour(2)));
  commit.events.push_back(make_event("event-lost", "lost", at_hour(2)));
  commit.load_raw = [](std::size_t index, std::string& raw) -> Status {
    if (index == 1) return make_error(ErrorKind::kIo, "spill file lost");
    raw = "{}";
    return {};
  };
  auto stored = store->commit_poll(commit);
  REQUIRE_FALSE(stored.ok());
  CHECK(stored.error().message == "spill file lost");

  CHECK(*store->find_key(key, "c:new") == KeyState::kAbsent);
  auto stream = store->stream(StreamId{"i", "r"});
  CHECK(*stream->watermark == at_hour(1));
  const auto notifications = drain(*store, "stdout", at_hour(3));
  REQUIRE(notifications.size() == 1);
  CHECK(notifications.front().events.size() == 1);
}

TEST_CASE("an event already stored is skipped with its notification",
          "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  auto first = store->commit_poll(commit_with_events(key, 2, at_hour(1)));
  REQUIRE(first.ok());
  CHECK(*first == 2);
  drain(*store, "stdout", at_hour(1));

  PollCommit again = commit_with_events(key, 3, at_hour(2));
  auto stored = store->commit_poll(again);
  REQUIRE(stored.ok());
  CHECK(*stored == 1);
  const auto notifications = drain(*store, "stdout", at_hour(2));
  REQUIRE(notifications.size() == 1);
  REQUIRE(notifications.front().events.size() == 1);
  CHECK(notifications.front().events.front().event_id == "event-2");
  CHECK(store->stream(StreamId{"i", "r"})->last_stats.emitted == 1);
}

std::vector<Notification> drain(EventStore& store, const std::string& sink,
                                Instant now) {
  std::vector<Notification> drained;
  while (true) {
    auto due = store.due_notifications(sink, now, 100);
    REQUIRE(due.ok());
    if (due->empty()) return drained;
    for (Notification& notification : *due) {
      REQUIRE(store.mark_delivered(notification.sequence, now, 200).ok());
      drained.push_back(std::move(notification));
    }
  }
}

TEST_CASE("notifications hold at most the configured number of events",
          "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  REQUIRE(store->commit_poll(commit_with_events(key, 23, at_hour(1))).ok());

  const auto notifications = drain(*store, "stdout", at_hour(1));
  REQUIRE(notifications.size() == 3);
  CHECK(notifications[0].events.size() == 10);
  CHECK(notifications[1].events.size() == 10);
  CHECK(notifications[2].events.size() == 3);
  CHECK(notifications[0].events.front().event_id == "event-0");
  CHECK(notifications[2].events.back().event_id == "event-22");
  CHECK(notifications[0].notification_id == "n-event-0");
  CHECK(notifications[0].resource == "r");
  CHECK(notifications[0].instance_id == "i");
  CHECK(store->due_notifications("webhook", at_hour(1), 100)->empty());
}

TEST_CASE("a stream waits while its oldest notification waits", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t first = store->stream(StreamId{"i", "a"})->stream_key;
  const std::int64_t second = store->stream(StreamId{"i", "b"})->stream_key;
  REQUIRE(store->commit_poll(commit_with_events(first, 12, at_hour(1))).ok());
  PollCommit other = commit_with_events(second, 1, at_hour(1));
  other.events[0].event_id = "other-0";
  REQUIRE(store->commit_poll(other).ok());

  auto due = store->due_notifications("stdout", at_hour(1), 100);
  REQUIRE(due->size() == 3);
  CHECK((*due)[0].resource == "a");
  CHECK((*due)[1].resource == "a");
  CHECK((*due)[1].sequence > (*due)[0].sequence);
  CHECK((*due)[2].resource == "b");

  // A head waiting for a retry holds back its stream only.
  REQUIRE(store
              ->mark_failed((*due)[0].sequence, at_hour(1), 503, "HTTP 503",
                            at_hour(2))
              .ok());
  auto waiting = store->due_notifications("stdout", at_hour(1), 100);
  REQUIRE(waiting->size() == 1);
  CHECK(waiting->front().resource == "b");
  auto later = store->due_notifications("stdout", at_hour(2), 100);
  REQUIRE(later->size() == 3);
  CHECK(later->front().sequence == (*due)[0].sequence);
  CHECK(later->front().attempts == 1);

  auto limited = store->due_notifications("stdout", at_hour(2), 2);
  CHECK(limited->size() == 2);
}

TEST_CASE("dead notifications stop blocking and can be re-queued", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  PollCommit commit = commit_with_events(key, 12, at_hour(1));
  commit.sink = "webhook";
  REQUIRE(store->commit_poll(commit).ok());
  auto head = store->due_notifications("webhook", at_hour(1), 1);
  REQUIRE(head->size() == 1);
  REQUIRE(store
              ->mark_failed(head->front().sequence, at_hour(1), 400,
                            "HTTP 400 from receiver: bad", std::nullopt)
              .ok());
  auto state = store->notification_state(head->front().notification_id);
  REQUIRE(state.ok());
  CHECK(state->state == "dead");
  CHECK(state->last_status == 400);
  CHECK(state->last_error == "HTTP 400 from receiver: bad");

  auto next = store->due_notifications("webhook", at_hour(1), 100);
  REQUIRE(next->size() == 1);
  CHECK(next->front().sequence != head->front().sequence);

  CHECK(*store->retry_dead("webhook", at_hour(3)) == 1);
  auto attempts = store->attempts(head->front().sequence);
  REQUIRE(attempts.ok());
  REQUIRE(attempts->size() == 1);
  CHECK(attempts->front().http_status == 400);
  CHECK(store->notification_state(head->front().notification_id)->state ==
        "pending");
}

TEST_CASE("delivered notifications are no longer due", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  REQUIRE(store->commit_poll(commit_with_events(key, 12, at_hour(1))).ok());
  auto due = store->due_notifications("stdout", at_hour(1), 100);
  REQUIRE(due->size() == 2);
  REQUIRE(store->mark_delivered(due->front().sequence, at_hour(1), 0).ok());
  auto remaining = store->due_notifications("stdout", at_hour(1), 100);
  REQUIRE(remaining->size() == 1);
  CHECK(remaining->front().sequence == due->back().sequence);
  REQUIRE(
      store->mark_all_delivered({remaining->front().sequence}, at_hour(1), 0)
          .ok());
  CHECK(store->due_notifications("stdout", at_hour(1), 100)->empty());
  CHECK(store->notification_state(due->back().notification_id)->state ==
        "delivered");
}

TEST_CASE("a commit without a sink queues no notifications", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  PollCommit commit = commit_with_events(key, 3, at_hour(1));
  commit.sink.clear();
  REQUIRE(store->commit_poll(commit).ok());
  CHECK(store->due_notifications("stdout", at_hour(1), 100)->empty());
  CHECK(*store->find_key(key, "c:2") == KeyState::kEmitted);
}

TEST_CASE("failures are recorded without moving the watermark", "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  REQUIRE(store->commit_poll(commit_with_events(key, 1, at_hour(1))).ok());
  PollStats stats;
  stats.fetched = 4;
  REQUIRE(store->record_failure(key, at_hour(2), "HTTP 503", stats).ok());
  auto stream = store->stream(StreamId{"i", "r"});
  CHECK(*stream->watermark == at_hour(1));
  CHECK(*stream->last_poll == at_hour(2));
  CHECK(stream->last_result == "HTTP 503");
  CHECK(stream->last_stats.fetched == 4);
}

TEST_CASE("pruning removes old keys and delivered events in batches",
          "[store]") {
  testing::TempDir dir;
  auto store = open_store(dir);
  const std::int64_t key = store->stream(StreamId{"i", "r"})->stream_key;
  PollCommit old_poll = commit_with_events(key, 5, at_hour(1));
  REQUIRE(store->commit_poll(old_poll).ok());
  PollCommit new_poll = commit_with_events(key, 0, at_hour(10));
  new_poll.keys.push_back(DedupeEntry{"c:recent", at_hour(10), true});
  REQUIRE(store->commit_poll(new_poll).ok());

  // Pending notifications keep their events even when old.
  auto pruned = store->prune(at_hour(5), at_hour(5), 1000);
  REQUIRE(pruned.ok());
  CHECK(*pruned == 5);  // the five old keys; the events are still pending
  CHECK(*store->find_key(key, "c:0") == KeyState::kAbsent);
  CHECK(*store->find_key(key, "c:recent") == KeyState::kEmitted);

  drain(*store, "stdout", at_hour(10));
  auto first_batch = store->prune(at_hour(5), at_hour(5), 3);
  REQUIRE(first_batch.ok());
  CHECK(*first_batch == 3);
  auto second_batch = store->prune(at_hour(5), at_hour(5), 3);
  REQUIRE(second_batch.ok());
  CHECK(*second_batch == 2);
}

TEST_CASE("a second writer lock names the holder", "[store]") {
  testing::TempDir dir;
  const std::string path = dir.file("events.db");
  auto first = acquire_writer_lock(path);
  REQUIRE(first.ok());
  auto second = acquire_writer_lock(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().kind == ErrorKind::kLocked);
  CHECK_THAT(
      second.error().message,
      Catch::Contains("locked by process " + std::to_string(::getpid())));
  first->reset();
  CHECK(acquire_writer_lock(path).ok());
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

TEST_CASE("connections opening a new store together migrate it once",
          "[store]") {
  testing::TempDir dir;
  const std::string path = dir.file("events.db");
  std::vector<std::thread> openers;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&, i] {
      auto store = EventStore::open(path);
      if (!store) errors[i] = store.error().message;
    });
  }
  for (std::thread& opener : openers) opener.join();
  for (int i = 0; i < 4; ++i) {
    INFO("connection " << i);
    CHECK(errors[i] == "");
  }
}

}  // namespace
}  // namespace hubpoll

namespace hubpoll {
namespace {

TEST_CASE("a key lookup leaves no read transaction open", "[store]") {
  testing::TempDir dir;
  auto first = open_store(dir);
  auto second = open_store(dir);
  const std::int64_t a = first->stream(StreamId{"i", "a"})->stream_key;
  const std::int64_t b = second->stream(StreamId{"i", "b"})->stream_key;
  REQUIRE(first->commit_poll(commit_with_events(a, 1, at_hour(1))).ok());

  // A lookup that finds its key, then a commit from another connection,
  // then a commit from the first: the last failed with "database is
  // locked" while the lookup's statement still held its snapshot.
  REQUIRE(*first->find_key(a, "c:0") == KeyState::kEmitted);
  PollCommit other = commit_with_events(b, 1, at_hour(1));
  other.events[0].event_id = "other-0";
  REQUIRE(second->commit_poll(other).ok());
  PollCommit again = commit_with_events(a, 0, at_hour(2));
  auto stored = first->commit_poll(again);
  INFO((stored.ok() ? "" : stored.error().message));
  CHECK(stored.ok());
}

}  // namespace
}  // namespace hubpoll
