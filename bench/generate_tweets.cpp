// Writes a JSON array of generated Twitter v1.1 statuses, shaped like the
// responses of statuses/home_timeline: a nested user, entities with a photo,
// 64-bit ids as both numbers and strings, about 3.2 KB each when compact.
//
// The newest status is dated --newest, and each next one is one second
// older. A status's id is the Twitter Snowflake id of its date, so ids fall
// as dates fall and no two are equal.
#include <rapidjson/filewritestream.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "date/date.h"
#include "poller/time_types.h"

namespace {

using Seconds = date::sys_seconds;
using Writer = rapidjson::Writer<rapidjson::FileWriteStream>;

// Twitter's Snowflake ids count milliseconds from this instant in the bits
// above their lowest 22.
constexpr std::int64_t kSnowflakeEpochMs = 1288834974657;
constexpr int kSnowflakeTimeShift = 22;
// Number of distinct authors, so users repeat as in a home timeline.
constexpr int kAuthors = 64;
constexpr long long kMaxCount = 10'000'000;

std::int64_t snowflake_id(Seconds instant, std::int64_t sequence) {
  const std::int64_t ms = instant.time_since_epoch().count() * 1000;
  return ((ms - kSnowflakeEpochMs) << kSnowflakeTimeShift) + sequence;
}

// Twitter's created_at format, SimpleDateFormat `EEE MMM dd HH:mm:ss Z
// yyyy`, always in UTC.
std::string twitter_date(Seconds instant) {
  return date::format("%a %b %d %H:%M:%S +0000 %Y", instant);
}

// Eight hex digits that differ per status and field, so URLs and names do
// not repeat (splitmix64's finalizer).
std::string token(std::uint64_t status, std::uint64_t field) {
  std::uint64_t x = status * 0x9e3779b97f4a7c15ULL + field;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  char text[9];
  std::snprintf(text, sizeof(text), "%08" PRIx32,
                static_cast<std::uint32_t>(x));
  return text;
}

void write_string(Writer& writer, const char* key, const std::string& value) {
  writer.Key(key);
  writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_url(Writer& writer, const char* key, std::uint64_t status,
               std::uint64_t field) {
  write_string(writer, key, "https://example.invalid/" + token(status, field));
}

void write_int(Writer& writer, const char* key, std::int64_t value) {
  writer.Key(key);
  writer.Int64(value);
}

void write_bool(Writer& writer, const char* key, bool value) {
  writer.Key(key);
  writer.Bool(value);
}

void write_null(Writer& writer, const char* key) {
  writer.Key(key);
  writer.Null();
}

void write_id(Writer& writer, const char* number_key, const char* string_key,
              std::int64_t id) {
  write_int(writer, number_key, id);
  write_string(writer, string_key, std::to_string(id));
}

void write_indices(Writer& writer, int begin, int end) {
  writer.Key("indices");
  writer.StartArray();
  writer.Int(begin);
  writer.Int(end);
  writer.EndArray();
}

void write_size(Writer& writer, const char* name, int width, int height,
                const char* resize) {
  writer.Key(name);
  writer.StartObject();
  write_int(writer, "w", width);
  write_int(writer, "h", height);
  write_string(writer, "resize", resize);
  writer.EndObject();
}

// One attached photo, as in entities.media and extended_entities.media.
void write_media_list(Writer& writer, std::int64_t media_id,
                      std::uint64_t status) {
  writer.StartArray();
  writer.StartObject();
  write_id(writer, "id", "id_str", media_id);
  write_indices(writer, 13, 36);
  write_url(writer, "media_url", status, 1);
  write_url(writer, "media_url_https", status, 2);
  write_url(writer, "url", status, 3);
  write_url(writer, "display_url", status, 4);
  write_url(writer, "expanded_url", status, 5);
  write_string(writer, "type", "photo");
  writer.Key("sizes");
  writer.StartObject();
  write_size(writer, "medium", 1200, 600, "fit");
  write_size(writer, "small", 680, 340, "fit");
  write_size(writer, "large", 1252, 626, "fit");
  write_size(writer, "thumb", 150, 150, "crop");
  writer.EndObject();
  writer.EndObject();
  writer.EndArray();
}

void write_entities(Writer& writer, std::int64_t media_id,
                    std::uint64_t status) {
  writer.Key("entities");
  writer.StartObject();
  for (const char* empty : {"hashtags", "symbols", "user_mentions", "urls"}) {
    writer.Key(empty);
    writer.StartArray();
    writer.EndArray();
  }
  writer.Key("media");
  write_media_list(writer, media_id, status);
  writer.EndObject();

  writer.Key("extended_entities");
  writer.StartObject();
  writer.Key("media");
  write_media_list(writer, media_id, status);
  writer.EndObject();
}

void write_user_entities(Writer& writer, std::uint64_t author) {
  writer.Key("entities");
  writer.StartObject();
  writer.Key("url");
  writer.StartObject();
  writer.Key("urls");
  writer.StartArray();
  writer.StartObject();
  write_url(writer, "url", author, 101);
  write_url(writer, "expanded_url", author, 102);
  write_url(writer, "display_url", author, 103);
  write_indices(writer, 0, 23);
  writer.EndObject();
  writer.EndArray();
  writer.EndObject();
  writer.Key("description");
  writer.StartObject();
  writer.Key("urls");
  writer.StartArray();
  writer.EndArray();
  writer.EndObject();
  writer.EndObject();
}

void write_user(Writer& writer, int author) {
  const auto seed = static_cast<std::uint64_t>(author) + 1'000'000'000ULL;
  const Seconds joined =
      date::sys_days(date::year(2018) / 12 / 10) + std::chrono::hours(author);
  writer.Key("user");
  writer.StartObject();
  write_id(writer, "id", "id_str", snowflake_id(joined, author));
  write_string(writer, "name", "name_" + token(seed, 100));
  write_string(writer, "screen_name", "user_" + token(seed, 104));
  write_string(writer, "location", "");
  write_string(writer, "description", "Sample description " + token(seed, 105));
  write_url(writer, "url", seed, 101);
  write_user_entities(writer, seed);

  write_bool(writer, "protected", false);
  write_int(writer, "followers_count", author * 7 + 1);
  write_int(writer, "friends_count", author * 3 + 6);
  write_int(writer, "listed_count", 0);
  write_string(writer, "created_at", twitter_date(joined));
  write_int(writer, "favourites_count", 0);
  write_null(writer, "utc_offset");
  write_null(writer, "time_zone");
  write_bool(writer, "geo_enabled", false);
  write_bool(writer, "verified", false);
  write_int(writer, "statuses_count", 10 + author);

  write_null(writer, "lang");
  write_bool(writer, "contributors_enabled", false);
  write_bool(writer, "is_translator", false);
  write_bool(writer, "is_translation_enabled", false);

  write_string(writer, "profile_background_color", "000000");
  write_url(writer, "profile_background_image_url", seed, 106);
  write_url(writer, "profile_background_image_url_https", seed, 107);
  write_bool(writer, "profile_background_tile", false);
  write_url(writer, "profile_image_url", seed, 108);
  write_url(writer, "profile_image_url_https", seed, 109);
  write_url(writer, "profile_banner_url", seed, 110);
  write_string(writer, "profile_link_color", "1DA1F2");
  write_string(writer, "profile_sidebar_border_color", "000000");
  write_string(writer, "profile_sidebar_fill_color", "000000");
  write_string(writer, "profile_text_color", "000000");
  write_bool(writer, "profile_use_background_image", false);
  write_bool(writer, "has_extended_profile", false);
  write_bool(writer, "default_profile", false);
  write_bool(writer, "default_profile_image", true);
  write_bool(writer, "following", false);
  write_bool(writer, "follow_request_sent", false);
  write_bool(writer, "notifications", false);
  write_string(writer, "translator_type", "none");
  writer.EndObject();
}

// Status number `index` of the page, 0 being the newest.
void write_status(Writer& writer, Seconds newest, long long index) {
  const Seconds created = newest - std::chrono::seconds(index);
  const auto status = static_cast<std::uint64_t>(index);
  const std::int64_t id = snowflake_id(created, index % 4096);

  writer.StartObject();
  write_string(writer, "created_at", twitter_date(created));
  write_id(writer, "id", "id_str", id);
  // Non-ASCII text, as real statuses have, exercises UTF-8 validation.
  write_string(writer, "text",
               "Sample text " + token(status, 0) + " \u2014 caf\u00e9 \u2713");
  write_bool(writer, "truncated", false);
  write_entities(writer, id - 1'000'000, status);

  write_string(writer, "source",
               "<a href=\"https://example.invalid/app\" rel=\"nofollow\">"
               "Sample App</a>");
  write_null(writer, "in_reply_to_status_id");
  write_null(writer, "in_reply_to_status_id_str");
  write_null(writer, "in_reply_to_user_id");
  write_null(writer, "in_reply_to_user_id_str");
  write_null(writer, "in_reply_to_screen_name");

  write_user(writer, static_cast<int>(index % kAuthors));
  for (const char* key : {"geo", "coordinates", "place", "contributors"}) {
    write_null(writer, key);
  }
  write_bool(writer, "is_quote_status", false);
  write_int(writer, "retweet_count", index % 5);
  write_int(writer, "favorite_count", index % 11);
  write_bool(writer, "favorited", false);
  write_bool(writer, "retweeted", false);
  write_bool(writer, "possibly_sensitive", false);
  write_bool(writer, "possibly_sensitive_appealable", false);
  write_string(writer, "lang", "en");
  writer.EndObject();
}

struct Options {
  long long count = -1;
  std::string newest;
  std::string output;
};

int usage_error(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: hubpoll_bench_generate_tweets --count N "
               "--newest YYYY-MM-DDTHH:MM:SSZ --output FILE\n",
               message);
  return 2;
}

bool parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--count") {
      options.count = std::strtoll(argv[i + 1], nullptr, 10);
    } else if (name == "--newest") {
      options.newest = argv[i + 1];
    } else if (name == "--output") {
      options.output = argv[i + 1];
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    return usage_error("invalid arguments");
  }
  if (options.count < 0 || options.count > kMaxCount) {
    return usage_error("--count must be 0 to 10000000");
  }
  hubpoll::Instant newest_instant;
  if (!hubpoll::parse_iso8601(options.newest, newest_instant)) {
    return usage_error("--newest must be an ISO 8601 UTC time");
  }
  const Seconds newest =
      std::chrono::time_point_cast<std::chrono::seconds>(newest_instant);

  std::FILE* file = std::fopen(options.output.c_str(), "wb");
  if (file == nullptr) {
    std::fprintf(stderr, "opening %s failed: %s\n", options.output.c_str(),
                 std::strerror(errno));
    return 1;
  }
  static char buffer[1 << 16];
  rapidjson::FileWriteStream stream(file, buffer, sizeof(buffer));
  Writer writer(stream);
  writer.StartArray();
  for (long long i = 0; i < options.count; ++i) {
    write_status(writer, newest, i);
  }
  writer.EndArray();
  stream.Flush();
  const long bytes = std::ftell(file);
  if (std::ferror(file) != 0 || std::fclose(file) != 0) {
    std::fprintf(stderr, "writing %s failed\n", options.output.c_str());
    return 1;
  }
  std::printf("wrote %lld statuses, %ld bytes, to %s\n", options.count, bytes,
              options.output.c_str());
  return 0;
}
