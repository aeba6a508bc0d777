// Twitter v1.1 records for the sandbox: loading the recorded fixtures,
// generating records in the same shapes, and shifting their dates. Internal to
// hubpoll_sandbox.
#pragma once

#include <date/date.h>
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "poller/result.h"

namespace hubpoll::sandbox {

// The resources served under /elements/api-v2/hubs/social/, in this order in
// every RecordSets.
inline constexpr std::string_view kStatuses = "statuses";
inline constexpr std::string_view kUsers = "users";
inline constexpr std::string_view kLists = "lists";
inline constexpr std::string_view kReceivedMessages =
    "direct-messages/received-messages";
inline constexpr std::string_view kSentMessages =
    "direct-messages/sent-messages";

// One resource's records: `records` is a JSON array of objects.
struct ResourceRecords {
  std::string resource;
  rapidjson::Document records;
};

// The five resources' records, in the order of the constants above.
using RecordSets = std::vector<ResourceRecords>;

// Formats as Twitter does, always in UTC: Sat Jul 13 02:27:22 +0000 2019.
std::string format_twitter_date(date::sys_seconds instant);

// Parses Twitter's format, `Www Mmm dd HH:MM:SS +hhmm yyyy` with English
// names and any UTC offset. The whole text must match and the weekday must
// agree with the date. Returns false on anything else.
bool parse_twitter_date(std::string_view text, date::sys_seconds& instant);

// Reads statuses (home_timeline.json and the `statuses` of
// search_tweets.json, distinct by `id_str`), users (users_search.json) and
// lists (lists.json) from `fixtures_dir`, and generates the direct messages,
// because the recorded message list is empty. Records are neither sorted nor
// shifted. Fails with the file's path when a file is missing, is not valid
// JSON (with the offset and reason) or does not hold a list of objects.
Result<RecordSets> load_recorded_records(const std::string& fixtures_dir);

// Generates records for the five resources in Twitter v1.1 shapes, the same on
// every call. Each resource's newest record is dated 2019-07-13 02:27:22 UTC,
// with the others spaced so that a 15-minute window starting at the newest
// contains at least two records of each resource and misses some.
RecordSets generate_records();

// Sorts `records` (a JSON array) by top-level `created_at`, newest first.
// Records without a date in Twitter's format go last, in their given order.
void sort_newest_first(rapidjson::Document& records);

// Moves every `created_at` in Twitter's format, at any depth of each record,
// by one delta chosen so that the newest top-level `created_at` becomes
// `newest`. Gaps between all dates are preserved. Does nothing when no
// top-level `created_at` parses.
void shift_dates(rapidjson::Document& records, date::sys_seconds newest);

}  // namespace hubpoll::sandbox
