#include "poller/event.h"

#include <openssl/sha.h>

#include "poller/json_util.h"

namespace hubpoll {

std::string make_event_id(std::string_view instance_id,
                          std::string_view resource, std::string_view object_id,
                          std::string_view event_type, Instant updated_date) {
  // NUL separators keep ("ab", "c") and ("a", "bc") apart.
  std::string input;
  for (const std::string_view part :
       {instance_id, resource, object_id, event_type}) {
    input.append(part);
    input.push_back('\0');
  }
  input += std::to_string(updated_date.time_since_epoch().count());

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0xf]);
  }
  return id;
}

std::string format_event_line(const Event& event,
                              std::string_view element_key) {
  std::string line;
  line.reserve(event.raw.size() + 320);
  const auto member = [&line](const char* name, std::string_view value) {
    line += line.empty() ? "{\"" : ",\"";
    line += name;
    line += "\":";
    append_json_string(line, value);
  };
  member("eventId", event.event_id);
  member("elementKey", element_key);
  member("instanceId", event.instance_id);
  member("objectType", event.resource);
  member("objectId", event.object_id);
  member("eventType", event.event_type);
  member("date", format_iso8601(event.date));
  member("pollDate", format_iso8601(event.poll_date));
  // The raw record was validated as JSON when it was scanned.
  line += ",\"raw\":";
  line += event.raw;
  line += '}';
  return line;
}

}  // namespace hubpoll
