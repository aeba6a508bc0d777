// Finds the records of a page in a JSON body as it streams in, and pulls out
// each record's id, dates and raw text without building a DOM.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "poller/result.h"

namespace hubpoll {

// The fields to extract. Paths are dotted member names (`user.id`) from the
// record's root; array elements are never matched.
struct ScanSpec {
  std::string records_field;  // empty: the root array, or the only array
  std::string id_path;
  std::vector<std::string> value_paths;  // date fields, in caller's order
};

// One record of the page, valid only during the callback.
struct ScannedRecord {
  std::size_t index = 0;  // 0-based position in the page
  bool is_object = true;
  // The id as text: a string's value, or a number's exact JSON text. Empty
  // when absent; id_problem then gives the reason.
  std::string id;
  std::string id_problem;
  // One entry per ScanSpec::value_paths: the string value or number text,
  // or nullopt when absent or of another type.
  std::vector<std::optional<std::string>> values;
  std::string_view raw;  // the record's JSON text as received
};

// Supplies the body piece by piece: returns the next chunk, or an empty view
// at the end. A chunk must stay valid until the next call.
using ChunkSource = std::function<Result<std::string_view>()>;

// Called for each record in page order. An error stops the scan and is
// returned by scan_records.
using RecordCallback = std::function<Status(const ScannedRecord&)>;

// Scans one page. Errors: malformed JSON or invalid UTF-8 (with the byte
// offset), nesting deeper than 512 levels, a body that is not an array or an
// object with a records array,
// and errors from `source` or `on_record`. Memory stays bounded by the
// largest record, not the page.
Status scan_records(const ScanSpec& spec, const ChunkSource& source,
                    const RecordCallback& on_record);

// Scans a body held in memory.
Status scan_records(const ScanSpec& spec, std::string_view body,
                    const RecordCallback& on_record);

}  // namespace hubpoll
