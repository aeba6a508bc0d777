#include "sandbox/twitter_records.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <unordered_set>
#include <utility>

namespace hubpoll::sandbox {
namespace {

using rapidjson::Document;
using rapidjson::SizeType;
using rapidjson::Value;
using Allocator = Document::AllocatorType;
using std::chrono::seconds;

constexpr const char* kTwitterDateFormat = "%a %b %d %H:%M:%S +0000 %Y";

// Indexed as date::weekday encodes days (0 is Sunday) and as months count
// from January.
constexpr std::string_view kWeekdayNames[] = {"Sun", "Mon", "Tue", "Wed",
                                              "Thu", "Fri", "Sat"};
constexpr std::string_view kMonthNames[] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};

template <std::size_t N>
std::optional<unsigned> name_index(const std::string_view (&names)[N],
                                   std::string_view text, std::size_t at) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text.substr(at, 3) == names[i]) return static_cast<unsigned>(i);
  }
  return std::nullopt;
}

std::optional<unsigned> parse_digits(std::string_view text, std::size_t at,
                                     std::size_t count) {
  unsigned value = 0;
  for (char c : text.substr(at, count)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// ---------------------------------------------------------------------------
// Recorded fixtures

std::string fixture_path(const std::string& fixtures_dir,
                         std::string_view name) {
  std::filesystem::path path(fixtures_dir);
  path /= std::string(name) + ".json";
  return path.string();
}

Result<Document> read_fixture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorKind::kIo,
                      "reading fixture " + path + ": " + std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());

  Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                        text.size());
  if (document.HasParseError()) {
    return make_error(
        ErrorKind::kConfig,
        "parsing fixture " + path + ": " +
            rapidjson::GetParseError_En(document.GetParseError()) +
            " (at byte offset " + std::to_string(document.GetErrorOffset()) +
            ")");
  }
  return document;
}

Status check_record_array(const Value& records, const std::string& label) {
  if (!records.IsArray()) {
    return make_error(ErrorKind::kConfig,
                      label + ": expected a JSON array of records");
  }
  for (SizeType i = 0; i < records.Size(); ++i) {
    if (!records[i].IsObject()) {
      return make_error(
          ErrorKind::kConfig,
          label + ": record " + std::to_string(i) + " is not a JSON object");
    }
  }
  return {};
}

// Reads a fixture whose body is an array of records.
Result<Document> read_record_array(const std::string& fixtures_dir,
                                   std::string_view name) {
  const std::string path = fixture_path(fixtures_dir, name);
  Result<Document> document = read_fixture(path);
  if (!document) return document;

  Status shape = check_record_array(*document, "fixture " + path);
  if (!shape) return shape.error();
  return document;
}

// Appends the `statuses` of search_tweets.json that home_timeline.json does
// not already hold, because a tweet can be in both responses.
Status merge_search_statuses(const std::string& fixtures_dir,
                             Document& statuses) {
  const std::string path = fixture_path(fixtures_dir, "search_tweets");
  Result<Document> search = read_fixture(path);
  if (!search) return search.error();

  const std::string label = "fixture " + path + " member \"statuses\"";
  if (!search->IsObject() || !search->HasMember("statuses")) {
    return make_error(
        ErrorKind::kConfig,
        "fixture " + path + ": expected an object with a \"statuses\" array");
  }
  const Value& found = (*search)["statuses"];
  Status shape = check_record_array(found, label);
  if (!shape) return shape;

  std::unordered_set<std::string> seen_ids;
  for (const Value& status : statuses.GetArray()) {
    auto id = status.FindMember("id_str");
    if (id != status.MemberEnd() && id->value.IsString()) {
      seen_ids.insert(id->value.GetString());
    }
  }
  for (const Value& status : found.GetArray()) {
    auto id = status.FindMember("id_str");
    const bool has_id = id != status.MemberEnd() && id->value.IsString();
    if (has_id && !seen_ids.insert(id->value.GetString()).second) continue;
    statuses.PushBack(Value(status, statuses.GetAllocator()),
                      statuses.GetAllocator());
  }
  return {};
}

// ---------------------------------------------------------------------------
// Generated records

constexpr std::uint64_t kSeed = 20190713;
constexpr int kUserCount = 30;
constexpr int kStatusCount = 60;
constexpr int kListCount = 5;
constexpr int kMessageCount = 20;

// Users before this index are new accounts, created minutes apart. The others
// are years old, and they author the statuses, lists and messages, so that no
// record predates its author's account.
constexpr int kFirstEstablishedUser = 4;
// The account whose direct messages are served.
constexpr int kOwnerUser = kFirstEstablishedUser;

// Twitter's snowflake ids count milliseconds from this instant.
constexpr std::int64_t kTwitterEpochMs = 1288834974657;

const date::sys_seconds kNewestGenerated =
    date::sys_days{date::year{2019} / 7 / 13} + std::chrono::hours{2} +
    std::chrono::minutes{27} + seconds{22};

constexpr const char* kSource =
    "<a href=\"https://example.invalid/sandbox\" rel=\"nofollow\">"
    "hubpoll sandbox</a>";

struct Person {
  const char* name;
  const char* handle;
  const char* location;
};

constexpr Person kPeople[] = {
    {"Zoë Martín", "zoe_martin", "Zürich"},
    {"José Álvarez", "jose_alvarez", "São Paulo"},
    {"Chloé Dubois", "chloe_dubois", "Montréal"},
    {"Ana Lima", "ana_lima", "Lisboa"},
    {"Jürgen Weiß", "juergen_weiss", "Köln"},
    {"Ingrid Sørensen", "ingrid_sorensen", "Århus"},
    {"Priya Natarajan", "priya_natarajan", "Chennai"},
    {"佐藤 健二", "kenji_sato", "東京"},
    {"Amara Okafor", "amara_okafor", "Lagos"},
    {"Lucía Fernández", "lucia_fernandez", "Málaga"},
};

constexpr const char* kPhrases[] = {
    "Café opening at nine ✓",      "Déjà vu on the release train 🚀",
    "Plain ASCII status update",   "Größe und Maße geprüft 😀",
    "naïve résumé tips, part two", "Meetup tonight, bring a friend 🎉",
    "日本語のテスト投稿",          "Back from the coast 👋 ✓",
};

constexpr const char* kHashtags[] = {
    "café", "release", "travel", "coffee", "sandbox", "naïve", "meetup",
};

constexpr const char* kMessages[] = {
    "Merci pour hier ✓",     "Are we still on for Friday? 🎉",
    "Plain ASCII message",   "Schöne Grüße aus Köln",
    "Sent you the résumé 📄",
};

// Draws from a fixed-seed std::mt19937_64, whose output the C++ standard
// fixes, instead of std::uniform_int_distribution, whose output differs
// between standard libraries. The modulo bias is irrelevant for sample data.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  std::int64_t between(std::int64_t low, std::int64_t high) {
    const auto span = static_cast<std::uint64_t>(high - low + 1);
    return low + static_cast<std::int64_t>(engine_() % span);
  }

  std::uint64_t bits() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// A Twitter snowflake id: milliseconds since the Twitter epoch in the high
// bits, so ids grow with time and exceed 2^53, and random low bits, so most
// are odd and no double represents them exactly.
std::uint64_t snowflake_id(date::sys_seconds created, Random& random) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      created.time_since_epoch())
                      .count() +
                  random.between(0, 999);
  return (static_cast<std::uint64_t>(ms - kTwitterEpochMs) << 22) |
         (random.bits() & 0x3FFFFF);
}

// Counts Unicode code points in UTF-8 text, the unit of Twitter's entity
// indices.
std::size_t code_point_count(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char byte) {
        return (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
      }));
}

// Builds a JSON object member by member. Member names must be string
// literals, because the object refers to them instead of copying.
class JsonObject {
 public:
  explicit JsonObject(Allocator& allocator)
      : value_(rapidjson::kObjectType), allocator_(allocator) {}

  JsonObject& text(const char* name, std::string_view value) {
    Value copy(value.data(), static_cast<SizeType>(value.size()), allocator_);
    return member(name, std::move(copy));
  }

  JsonObject& number(const char* name, std::uint64_t value) {
    return member(name, Value(value));
  }

  JsonObject& flag(const char* name, bool value) {
    return member(name, Value(value));
  }

  JsonObject& null(const char* name) { return member(name, Value()); }

  JsonObject& twitter_date(const char* name, date::sys_seconds instant) {
    return text(name, format_twitter_date(instant));
  }

  // Adds `id` as a number and `id_str` as its decimal text, as Twitter does.
  JsonObject& id(std::uint64_t id) {
    number("id", id);
    return text("id_str", std::to_string(id));
  }

  JsonObject& member(const char* name, Value&& value) {
    value_.AddMember(rapidjson::StringRef(name), value, allocator_);
    return *this;
  }

  // Adds a deep copy of `value`, which may use another allocator.
  JsonObject& copy(const char* name, const Value& value) {
    return member(name, Value(value, allocator_));
  }

  Value take() { return std::move(value_); }

 private:
  Value value_;
  Allocator& allocator_;
};

Value index_pair(std::size_t start, std::size_t end, Allocator& allocator) {
  Value indices(rapidjson::kArrayType);
  indices.PushBack(Value(static_cast<std::uint64_t>(start)), allocator);
  indices.PushBack(Value(static_cast<std::uint64_t>(end)), allocator);
  return indices;
}

// Builds a tweet's text together with its `entities`, with indices counted
// in code points as Twitter does.
class TweetText {
 public:
  explicit TweetText(Allocator& allocator)
      : hashtags_(rapidjson::kArrayType),
        mentions_(rapidjson::kArrayType),
        urls_(rapidjson::kArrayType),
        allocator_(allocator) {}

  void plain(std::string_view text) { text_ += text; }

  void hashtag(std::string_view tag) {
    const std::size_t start = length();
    text_ += '#';
    text_ += tag;
    hashtags_.PushBack(JsonObject(allocator_)
                           .text("text", tag)
                           .member("indices", indices_from(start))
                           .take(),
                       allocator_);
  }

  void mention(const Value& user) {
    const std::size_t start = length();
    text_ += '@';
    text_ += user["screen_name"].GetString();
    mentions_.PushBack(JsonObject(allocator_)
                           .copy("screen_name", user["screen_name"])
                           .copy("name", user["name"])
                           .id(user["id"].GetUint64())
                           .member("indices", indices_from(start))
                           .take(),
                       allocator_);
  }

  void link(std::string_view slug) {
    const std::size_t start = length();
    const std::string url = "https://t.co/" + std::string(slug);
    text_ += url;
    urls_.PushBack(
        JsonObject(allocator_)
            .text("url", url)
            .text("expanded_url",
                  "https://example.invalid/" + std::string(slug))
            .text("display_url", "example.invalid/" + std::string(slug))
            .member("indices", indices_from(start))
            .take(),
        allocator_);
  }

  const std::string& text() const { return text_; }

  Value take_entities() {
    return JsonObject(allocator_)
        .member("hashtags", std::move(hashtags_))
        .member("symbols", Value(rapidjson::kArrayType))
        .member("user_mentions", std::move(mentions_))
        .member("urls", std::move(urls_))
        .take();
  }

 private:
  std::size_t length() const { return code_point_count(text_); }

  Value indices_from(std::size_t start) {
    return index_pair(start, length(), allocator_);
  }

  std::string text_;
  Value hashtags_;
  Value mentions_;
  Value urls_;
  Allocator& allocator_;
};

// The parts of a generated tweet's text, kept so that a retweet can repeat
// them.
struct TweetContent {
  std::string_view phrase;
  std::string_view hashtag;
  const Value* mentioned;
  std::string link_slug;
};

void write_content(const TweetContent& content, TweetText& text) {
  text.plain(content.phrase);
  text.plain(" ");
  text.hashtag(content.hashtag);
  text.plain(" ");
  text.mention(*content.mentioned);
  text.plain(" ");
  text.link(content.link_slug);
}

Value make_user(int index, date::sys_seconds created, std::uint64_t id,
                Random& random, Allocator& allocator) {
  const Person& person = kPeople[index % std::size(kPeople)];
  const std::string handle =
      person.handle + std::string("_") + std::to_string(index);
  Value description_urls(rapidjson::kArrayType);
  Value entities = JsonObject(allocator)
                       .member("description",
                               JsonObject(allocator)
                                   .member("urls", std::move(description_urls))
                                   .take())
                       .take();
  return JsonObject(allocator)
      .id(id)
      .text("name", person.name)
      .text("screen_name", handle)
      .text("location", person.location)
      .text("description", "Sample account ✓ in the hubpoll sandbox")
      .null("url")
      .member("entities", std::move(entities))
      .flag("protected", false)
      .number("followers_count", random.between(0, 5000))
      .number("friends_count", random.between(0, 900))
      .number("listed_count", random.between(0, 40))
      .twitter_date("created_at", created)
      .number("favourites_count", random.between(0, 3000))
      .null("utc_offset")
      .null("time_zone")
      .flag("geo_enabled", false)
      .flag("verified", false)
      .number("statuses_count", random.between(1, 20000))
      .null("lang")
      .text("profile_image_url_https",
            "https://example.invalid/profile/" + handle + ".png")
      .flag("default_profile", true)
      .flag("default_profile_image", false)
      .flag("following", false)
      .flag("follow_request_sent", false)
      .flag("notifications", false)
      .text("translator_type", "none")
      .take();
}

Value make_tweet(date::sys_seconds created, const Value& author,
                 TweetText& text, Random& random, Allocator& allocator) {
  return JsonObject(allocator)
      .twitter_date("created_at", created)
      .id(snowflake_id(created, random))
      .text("text", text.text())
      .flag("truncated", false)
      .member("entities", text.take_entities())
      .text("source", kSource)
      .null("in_reply_to_status_id")
      .null("in_reply_to_status_id_str")
      .null("in_reply_to_user_id")
      .null("in_reply_to_user_id_str")
      .null("in_reply_to_screen_name")
      .copy("user", author)
      .null("geo")
      .null("coordinates")
      .null("place")
      .null("contributors")
      .flag("is_quote_status", false)
      .number("retweet_count", random.between(0, 50))
      .number("favorite_count", random.between(0, 200))
      .flag("favorited", false)
      .flag("retweeted", false)
      .text("lang", "und")
      .take();
}

Document new_array() {
  Document document;
  document.SetArray();
  return document;
}

class RecordGenerator {
 public:
  RecordGenerator() { generate_users(); }

  Document users() const {
    Document users;
    users.CopyFrom(users_, users.GetAllocator());
    return users;
  }

  Document statuses() const {
    Random random(kSeed + 1);
    Document statuses = new_array();
    date::sys_seconds created = kNewestGenerated;
    for (int i = 0; i < kStatusCount; ++i) {
      if (i > 0) created -= seconds{random.between(60, 120)};
      statuses.PushBack(make_status(i, created, random, statuses),
                        statuses.GetAllocator());
    }
    return statuses;
  }

  Document lists() const {
    Random random(kSeed + 2);
    Document lists = new_array();
    Allocator& allocator = lists.GetAllocator();
    date::sys_seconds created = kNewestGenerated;
    for (int i = 0; i < kListCount; ++i) {
      if (i > 0) created -= seconds{random.between(300, 480)};
      lists.PushBack(make_list(i, created, random, allocator), allocator);
    }
    return lists;
  }

  Document direct_messages(bool sent) const {
    Random random(kSeed + (sent ? 4 : 3));
    Document messages = new_array();
    Allocator& allocator = messages.GetAllocator();
    date::sys_seconds created = kNewestGenerated;
    for (int i = 0; i < kMessageCount; ++i) {
      if (i > 0) created -= seconds{random.between(120, 300)};
      const Value& owner = users_[kOwnerUser];
      const Value& other = users_[kOwnerUser + 1 + (i * 3) % 25];
      const Value& sender = sent ? owner : other;
      const Value& recipient = sent ? other : owner;
      messages.PushBack(
          make_message(i, created, sender, recipient, random, allocator),
          allocator);
    }
    return messages;
  }

 private:
  // The first users are new accounts minutes apart, so that the users
  // resource has recent records. The others are spread over earlier years.
  void generate_users() {
    Random random(kSeed);
    users_.SetArray();
    date::sys_seconds created = kNewestGenerated;
    for (int i = 0; i < kUserCount; ++i) {
      if (i > 0 && i < kFirstEstablishedUser) {
        created -= seconds{random.between(120, 240)};
      } else if (i >= kFirstEstablishedUser) {
        created -= seconds{random.between(1, 60) * 86400};
      }
      // Accounts from before 2016 have small sequential ids, newer ones
      // snowflake ids, as on Twitter.
      const bool small_id = i >= kFirstEstablishedUser && i % 3 != 0;
      const std::uint64_t id =
          small_id
              ? static_cast<std::uint64_t>(random.between(100000, 4000000000))
              : snowflake_id(created, random);
      users_.PushBack(make_user(i, created, id, random, users_.GetAllocator()),
                      users_.GetAllocator());
    }
  }

  // Authors, mentions and list owners are established accounts only.
  const Value& established_user(int n) const {
    const int span = kUserCount - kFirstEstablishedUser;
    return users_[static_cast<SizeType>(kFirstEstablishedUser + n % span)];
  }

  TweetContent content_for(int i) const {
    return TweetContent{kPhrases[i % std::size(kPhrases)],
                        kHashtags[(i * 3) % std::size(kHashtags)],
                        &established_user(i * 5 + 1), "s" + std::to_string(i)};
  }

  // Every seventh status is a retweet of an older status by another user,
  // so that `retweeted_status` carries its own dates.
  Value make_status(int i, date::sys_seconds created, Random& random,
                    Document& statuses) const {
    Allocator& allocator = statuses.GetAllocator();
    const Value& author = established_user(i);
    const TweetContent content = content_for(i);
    TweetText text(allocator);
    if (i % 7 != 3) {
      write_content(content, text);
      return make_tweet(created, author, text, random, allocator);
    }

    const Value& original_author = established_user(i + 11);
    const date::sys_seconds original_created =
        created - seconds{random.between(3600, 6 * 3600)};
    TweetText original_text(allocator);
    write_content(content, original_text);
    Value original = make_tweet(original_created, original_author,
                                original_text, random, allocator);

    text.plain("RT ");
    text.mention(original_author);
    text.plain(": ");
    write_content(content, text);
    Value retweet = make_tweet(created, author, text, random, allocator);
    retweet.AddMember("retweeted_status", original, allocator);
    return retweet;
  }

  Value make_list(int i, date::sys_seconds created, Random& random,
                  Allocator& allocator) const {
    const Value& owner = users_[kOwnerUser];
    const std::string slug = "reading-list-" + std::to_string(i + 1);
    const std::string owner_handle = owner["screen_name"].GetString();
    return JsonObject(allocator)
        .id(snowflake_id(created, random))
        .text("name", "Reading list " + std::to_string(i + 1))
        .text("uri", "/" + owner_handle + "/lists/" + slug)
        .number("subscriber_count", random.between(0, 30))
        .number("member_count", random.between(1, 120))
        .text("mode", i % 2 == 0 ? "public" : "private")
        .text("description", "Cafés, trains and résumés ✓")
        .text("slug", slug)
        .text("full_name", "@" + owner_handle + "/" + slug)
        .twitter_date("created_at", created)
        .flag("following", true)
        .copy("user", owner)
        .take();
  }

  Value make_message(int i, date::sys_seconds created, const Value& sender,
                     const Value& recipient, Random& random,
                     Allocator& allocator) const {
    Value entities = JsonObject(allocator)
                         .member("hashtags", Value(rapidjson::kArrayType))
                         .member("symbols", Value(rapidjson::kArrayType))
                         .member("urls", Value(rapidjson::kArrayType))
                         .member("user_mentions", Value(rapidjson::kArrayType))
                         .take();
    return JsonObject(allocator)
        .twitter_date("created_at", created)
        .id(snowflake_id(created, random))
        .text("text", kMessages[i % std::size(kMessages)])
        .copy("sender_id", sender["id"])
        .copy("sender_id_str", sender["id_str"])
        .copy("sender_screen_name", sender["screen_name"])
        .copy("recipient_id", recipient["id"])
        .copy("recipient_id_str", recipient["id_str"])
        .copy("recipient_screen_name", recipient["screen_name"])
        .copy("sender", sender)
        .copy("recipient", recipient)
        .member("entities", std::move(entities))
        .take();
  }

  Document users_;
};

ResourceRecords resource_records(std::string_view resource, Document records) {
  return ResourceRecords{std::string(resource), std::move(records)};
}

// ---------------------------------------------------------------------------
// Dates

std::optional<date::sys_seconds> created_at(const Value& record) {
  auto member = record.FindMember("created_at");
  if (member == record.MemberEnd() || !member->value.IsString()) {
    return std::nullopt;
  }
  date::sys_seconds instant;
  const Value& text = member->value;
  if (!parse_twitter_date({text.GetString(), text.GetStringLength()},
                          instant)) {
    return std::nullopt;
  }
  return instant;
}

void shift_created_at(Value& value, seconds delta, Allocator& allocator) {
  if (value.IsArray()) {
    for (Value& element : value.GetArray()) {
      shift_created_at(element, delta, allocator);
    }
    return;
  }
  if (!value.IsObject()) return;

  for (auto& member : value.GetObject()) {
    if (member.name != "created_at" || !member.value.IsString()) {
      shift_created_at(member.value, delta, allocator);
      continue;
    }
    date::sys_seconds instant;
    const Value& text = member.value;
    if (parse_twitter_date({text.GetString(), text.GetStringLength()},
                           instant)) {
      const std::string shifted = format_twitter_date(instant + delta);
      member.value.SetString(shifted.data(),
                             static_cast<SizeType>(shifted.size()), allocator);
    }
  }
}

}  // namespace

std::string format_twitter_date(date::sys_seconds instant) {
  return date::format(kTwitterDateFormat, instant);
}

bool parse_twitter_date(std::string_view text, date::sys_seconds& instant) {
  // Www Mmm dd HH:MM:SS +hhmm yyyy
  if (text.size() != 30 || text[3] != ' ' || text[7] != ' ' ||
      text[10] != ' ' || text[13] != ':' || text[16] != ':' ||
      text[19] != ' ' || text[25] != ' ') {
    return false;
  }
  const std::optional<unsigned> weekday = name_index(kWeekdayNames, text, 0);
  const std::optional<unsigned> month = name_index(kMonthNames, text, 4);
  const std::optional<unsigned> day = parse_digits(text, 8, 2);
  const std::optional<unsigned> hour = parse_digits(text, 11, 2);
  const std::optional<unsigned> minute = parse_digits(text, 14, 2);
  const std::optional<unsigned> second = parse_digits(text, 17, 2);
  const std::optional<unsigned> offset_hours = parse_digits(text, 21, 2);
  const std::optional<unsigned> offset_minutes = parse_digits(text, 23, 2);
  const std::optional<unsigned> year = parse_digits(text, 26, 4);
  const bool sign_ok = text[20] == '+' || text[20] == '-';
  if (!weekday || !month || !day || !hour || !minute || !second ||
      !offset_hours || !offset_minutes || !year || !sign_ok || *hour > 23 ||
      *minute > 59 || *second > 59 || *offset_minutes > 59) {
    return false;
  }

  const date::year_month_day ymd{date::year(static_cast<int>(*year)),
                                 date::month(*month + 1), date::day(*day)};
  if (!ymd.ok()) return false;
  const date::sys_days days(ymd);
  if (date::weekday(days) != date::weekday(*weekday)) return false;

  const seconds offset{(*offset_hours * 60 + *offset_minutes) * 60};
  const seconds time_of_day{(*hour * 60 + *minute) * 60 + *second};
  instant = days + time_of_day - (text[20] == '-' ? -offset : offset);
  return true;
}

Result<RecordSets> load_recorded_records(const std::string& fixtures_dir) {
  Result<Document> statuses = read_record_array(fixtures_dir, "home_timeline");
  if (!statuses) return statuses.error();
  Status merged = merge_search_statuses(fixtures_dir, *statuses);
  if (!merged) return merged.error();

  Result<Document> users = read_record_array(fixtures_dir, "users_search");
  if (!users) return users.error();
  Result<Document> lists = read_record_array(fixtures_dir, "lists");
  if (!lists) return lists.error();

  // NOTE: the recorded direct message list is empty, so messages are
  // generated even in recorded mode, between generated users.
  const RecordGenerator generator;
  RecordSets sets;
  sets.push_back(resource_records(kStatuses, std::move(*statuses)));
  sets.push_back(resource_records(kUsers, std::move(*users)));
  sets.push_back(resource_records(kLists, std::move(*lists)));
  sets.push_back(
      resource_records(kReceivedMessages, generator.direct_messages(false)));
  sets.push_back(
      resource_records(kSentMessages, generator.direct_messages(true)));
  return sets;
}

RecordSets generate_records() {
  const RecordGenerator generator;
  RecordSets sets;
  sets.push_back(resource_records(kStatuses, generator.statuses()));
  sets.push_back(resource_records(kUsers, generator.users()));
  sets.push_back(resource_records(kLists, generator.lists()));
  sets.push_back(
      resource_records(kReceivedMessages, generator.direct_messages(false)));
  sets.push_back(
      resource_records(kSentMessages, generator.direct_messages(true)));
  return sets;
}

void sort_newest_first(Document& records) {
  struct Entry {
    std::optional<date::sys_seconds> created;
    SizeType index;
  };
  std::vector<Entry> entries;
  entries.reserve(records.Size());
  for (SizeType i = 0; i < records.Size(); ++i) {
    entries.push_back(Entry{created_at(records[i]), i});
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) {
                     if (a.created.has_value() != b.created.has_value()) {
                       return a.created.has_value();
                     }
                     return a.created.has_value() && *a.created > *b.created;
                   });

  Allocator& allocator = records.GetAllocator();
  Value sorted(rapidjson::kArrayType);
  sorted.Reserve(records.Size(), allocator);
  for (const Entry& entry : entries) {
    sorted.PushBack(records[entry.index].Move(), allocator);
  }
  // Assigning through Value& moves `sorted` in and keeps the allocator,
  // where Document's own assignment would replace the whole document.
  Value& root = records;
  root = sorted;
}

void shift_dates(Document& records, date::sys_seconds newest) {
  std::optional<date::sys_seconds> current_newest;
  for (const Value& record : records.GetArray()) {
    std::optional<date::sys_seconds> created = created_at(record);
    if (created && (!current_newest || *created > *current_newest)) {
      current_newest = created;
    }
  }
  if (!current_newest) return;

  // NOTE: nested dates move by the same delta even when they are newer than
  // the record's own date (a user's latest `status` in users_search.json is
  // years newer than the account), so such nested dates land in the future.
  const seconds delta = newest - *current_newest;
  for (Value& record : records.GetArray()) {
    shift_created_at(record, delta, records.GetAllocator());
  }
}

}  // namespace hubpoll::sandbox
