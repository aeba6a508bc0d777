// Event ids and the JSON forms of events.
#pragma once

#include <string>
#include <string_view>

#include "poller/time_types.h"
#include "store/event_store.h"

namespace hubpoll {

// A stable id derived from instance, resource, object id, type and updated
// date, so replays and retries carry the same id: the first 128 bits of
// their SHA-256, formatted like a UUID.
std::string make_event_id(std::string_view instance_id,
                          std::string_view resource, std::string_view object_id,
                          std::string_view event_type, Instant updated_date);

// One line of the stdout sink, without the newline: eventId, elementKey,
// instanceId, objectType, objectId, eventType, date, pollDate and raw.
std::string format_event_line(const Event& event, std::string_view element_key);

}  // namespace hubpoll
