#include "poller/record_scanner.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cassert>

namespace hubpoll {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// A RapidJSON input stream over chunks from a ChunkSource. Bytes from the
// mark onward are retained so that a record's raw text can be cut out when
// it ends. Bytes before both the mark and the read position are dropped on
// refill, which bounds memory by the largest record.
class ChunkStream {
 public:
  using Ch = char;

  explicit ChunkStream(const ChunkSource& source) : source_(source) {}

  Ch Peek() {
    if (pos_ == buffer_.size() && !refill()) return '\0';
    return buffer_[pos_];
  }
  Ch Take() {
    const Ch c = Peek();
    if (pos_ < buffer_.size()) ++pos_;
    return c;
  }
  std::size_t Tell() const { return base_ + pos_; }

  // Input-only stream: RapidJSON's in-situ writes are never used.
  Ch* PutBegin() {
    assert(false);
    return nullptr;
  }
  void Put(Ch) { assert(false); }
  void Flush() { assert(false); }
  std::size_t PutEnd(Ch*) {
    assert(false);
    return 0;
  }

  void set_mark(std::size_t offset) { mark_ = offset; }
  void clear_mark() { mark_ = kNoMark; }

  // The retained bytes from absolute offset `begin` to `end`.
  std::string_view slice(std::size_t begin, std::size_t end) const {
    return std::string_view(buffer_).substr(begin - base_, end - begin);
  }

  const Status& source_status() const { return source_status_; }

 private:
  static constexpr std::size_t kNoMark = static_cast<std::size_t>(-1);

  bool refill() {
    if (finished_) return false;
    const std::size_t keep_from =
        mark_ == kNoMark ? pos_ : std::min(mark_ - base_, pos_);
    buffer_.erase(0, keep_from);
    base_ += keep_from;
    pos_ -= keep_from;
    auto chunk = source_();
    if (!chunk) {
      source_status_ = chunk.error();
      finished_ = true;
      return false;
    }
    if (chunk->empty()) {
      finished_ = true;
      return false;
    }
    buffer_.append(chunk->data(), chunk->size());
    return true;
  }

  const ChunkSource& source_;
  std::string buffer_;
  std::size_t base_ = 0;  // absolute offset of buffer_[0]
  std::size_t pos_ = 0;   // read position within buffer_
  std::size_t mark_ = kNoMark;
  bool finished_ = false;
  Status source_status_;
};

// Receives RapidJSON SAX events and turns the records array's elements into
// ScannedRecord callbacks.
class ScanHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ScanHandler> {
 public:
  ScanHandler(const ScanSpec& spec, ChunkStream& stream,
              const RecordCallback& on_record)
      : spec_(spec),
        stream_(stream),
        on_record_(on_record),
        id_path_(split_path(spec.id_path)) {
    for (const std::string& path : spec.value_paths) {
      value_paths_.push_back(split_path(path));
    }
    record_.values.resize(value_paths_.size());
  }

  bool StartObject() { return start_container(true); }
  bool EndObject(rapidjson::SizeType) { return end_container(); }
  bool StartArray() { return start_container(false); }
  bool EndArray(rapidjson::SizeType) { return end_container(); }

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    frames_.back().key.assign(text, length);
    return true;
  }

  bool String(const char* text, rapidjson::SizeType length, bool) {
    return scalar(std::string_view(text, length), ScalarType::kString);
  }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    return scalar(std::string_view(text, length), ScalarType::kNumber);
  }
  bool Null() { return scalar({}, ScalarType::kNull); }
  bool Bool(bool) { return scalar({}, ScalarType::kBoolean); }

  // Checks what the whole body held once parsing succeeded.
  Status finish() const {
    if (root_kind_ == RootKind::kScalar) {
      return payload_error(
          "the body is a single JSON value, expected an array of records or "
          "an object holding one");
    }
    if (records_depth_ < 0) {
      if (!spec_.records_field.empty()) {
        return payload_error("the body has no array member \"" +
                             spec_.records_field + "\"");
      }
      return payload_error(
          "the body is an object without an array of records; set "
          "recordsField to the member that holds them");
    }
    return {};
  }

  const Status& callback_status() const { return callback_status_; }
  const Status& shape_status() const { return shape_status_; }

 private:
  // Far deeper than any API record, and shallow enough that a hostile body
  // cannot grow the frame stack without bound.
  static constexpr int kMaxDepth = 512;

  enum class RootKind { kNone, kArray, kObject, kScalar };
  enum class ScalarType { kString, kNumber, kNull, kBoolean };

  struct Frame {
    bool is_object = false;
    std::string key;
  };

  static Error payload_error(std::string message) {
    return make_error(ErrorKind::kPayload, std::move(message));
  }

  bool in_record() const { return record_depth_ > 0; }
  int depth() const { return static_cast<int>(frames_.size()); }

  // True when the value about to start is an element of the records array.
  bool at_record_level() const {
    return records_depth_ > 0 && depth() == records_depth_ && !in_record() &&
           skip_depth_ == 0;
  }

  // Whether the records array starts here, given the array about to start.
  bool records_array_starts_here() {
    if (records_depth_ >= 0) {
      if (depth() == 1 && root_kind_ == RootKind::kObject &&
          spec_.records_field.empty()) {
        shape_status_ = payload_error(
            "the body object has more than one array member; set "
            "recordsField to the one that holds the records");
      }
      return false;
    }
    if (depth() == 0) return spec_.records_field.empty();
    if (depth() != 1 || root_kind_ != RootKind::kObject) return false;
    return spec_.records_field.empty() ||
           frames_.back().key == spec_.records_field;
  }

  bool start_container(bool is_object) {
    if (depth() >= kMaxDepth) {
      shape_status_ = payload_error("the body is nested deeper than " +
                                    std::to_string(kMaxDepth) + " levels");
      return false;
    }
    if (root_kind_ == RootKind::kNone) {
      root_kind_ = is_object ? RootKind::kObject : RootKind::kArray;
    }
    if (at_record_level()) {
      if (is_object) {
        begin_record();
      } else {
        skip_depth_ = depth() + 1;
      }
    } else if (in_record()) {
      note_container_value(is_object);
    } else if (!is_object && records_array_starts_here()) {
      records_depth_ = depth() + 1;
    }
    frames_.push_back(Frame{is_object, {}});
    return shape_status_.ok();
  }

  bool end_container() {
    const int ending = depth();
    frames_.pop_back();
    if (in_record() && ending == record_depth_) return end_record();
    if (skip_depth_ > 0 && ending == skip_depth_) {
      skip_depth_ = 0;
      return emit_non_object();
    }
    return true;
  }

  bool scalar(std::string_view text, ScalarType type) {
    if (root_kind_ == RootKind::kNone) root_kind_ = RootKind::kScalar;
    if (at_record_level()) return emit_non_object();
    if (!in_record()) return true;
    const bool has_text =
        type == ScalarType::kString || type == ScalarType::kNumber;
    if (path_matches(id_path_)) {
      if (has_text) {
        record_.id.assign(text.data(), text.size());
        id_is_number_ = type == ScalarType::kNumber;
      } else {
        record_.id_problem =
            type == ScalarType::kNull ? "id is null" : "id is a boolean";
      }
    }
    if (!has_text) return true;
    for (std::size_t i = 0; i < value_paths_.size(); ++i) {
      if (path_matches(value_paths_[i])) record_.values[i] = std::string(text);
    }
    return true;
  }

  // A container inside a record: an id of that type is invalid.
  void note_container_value(bool is_object) {
    if (path_matches(id_path_)) {
      record_.id_problem =
          std::string("id is ") + (is_object ? "an object" : "an array");
    }
  }

  // Whether the value about to be read is at `path` within the record.
  bool path_matches(const std::vector<std::string>& path) const {
    const int relative = depth() - record_depth_ + 1;
    if (relative != static_cast<int>(path.size())) return false;
    for (int i = 0; i < relative; ++i) {
      const Frame& frame = frames_[record_depth_ - 1 + i];
      if (!frame.is_object || frame.key != path[i]) return false;
    }
    return true;
  }

  void begin_record() {
    // The iterative parser reports StartObject before consuming the brace.
    record_begin_ = stream_.Tell();
    stream_.set_mark(record_begin_);
    record_depth_ = depth() + 1;
    record_.is_object = true;
    record_.id.clear();
    record_.id_problem.clear();
    id_is_number_ = false;
    for (auto& value : record_.values) value.reset();
  }

  bool end_record() {
    // EndObject also comes before the closing brace is consumed.
    record_.raw = stream_.slice(record_begin_, stream_.Tell() + 1);
    record_.index = next_index_++;
    if (record_.id.empty() && record_.id_problem.empty()) {
      record_.id_problem = "id field \"" + spec_.id_path + "\" is missing";
    } else if (id_is_number_ && !is_integer_text(record_.id)) {
      record_.id_problem = "id " + record_.id + " is not an integer";
      record_.id.clear();
    }
    record_depth_ = 0;
    Status status = on_record_(record_);
    stream_.clear_mark();
    if (!status) {
      callback_status_ = status;
      return false;
    }
    return true;
  }

  bool emit_non_object() {
    ScannedRecord record;
    record.index = next_index_++;
    record.is_object = false;
    record.id_problem = "record is not a JSON object";
    record.values.resize(value_paths_.size());
    Status status = on_record_(record);
    if (!status) {
      callback_status_ = status;
      return false;
    }
    return true;
  }

  // A JSON integer: an optional minus, no leading zeros, and not -0.
  static bool is_integer_text(const std::string& text) {
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    if (text[i] == '0' && (text.size() > i + 1 || i == 1)) return false;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    return true;
  }

  const ScanSpec& spec_;
  ChunkStream& stream_;
  const RecordCallback& on_record_;
  std::vector<std::string> id_path_;
  std::vector<std::vector<std::string>> value_paths_;

  std::vector<Frame> frames_;
  RootKind root_kind_ = RootKind::kNone;
  int records_depth_ = -1;  // depth of the records array's elements
  int record_depth_ = 0;    // depth of the current record's members
  int skip_depth_ = 0;      // depth of a non-object element being skipped
  std::size_t record_begin_ = 0;
  std::size_t next_index_ = 0;
  bool id_is_number_ = false;
  ScannedRecord record_;
  Status callback_status_;
  Status shape_status_;
};

}  // namespace

Status scan_records(const ScanSpec& spec, const ChunkSource& source,
                    const RecordCallback& on_record) {
  ChunkStream stream(source);
  ScanHandler handler(spec, stream, on_record);
  rapidjson::Reader reader;
  // Iterative parsing keeps deeply nested input off the call stack; numbers
  // stay text so 64-bit ids are never rounded through a double.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag;
  const rapidjson::ParseResult parsed = reader.Parse<kFlags>(stream, handler);
  if (!stream.source_status()) return stream.source_status();
  if (!handler.callback_status()) return handler.callback_status();
  if (!handler.shape_status()) return handler.shape_status();
  if (parsed.IsError()) {
    if (parsed.Code() == rapidjson::kParseErrorDocumentEmpty) {
      return make_error(ErrorKind::kPayload, "the body is empty");
    }
    return make_error(ErrorKind::kPayload,
                      std::string("invalid JSON at byte ") +
                          std::to_string(parsed.Offset()) + ": " +
                          rapidjson::GetParseError_En(parsed.Code()));
  }
  return handler.finish();
}

Status scan_records(const ScanSpec& spec, std::string_view body,
                    const RecordCallback& on_record) {
  bool delivered = false;
  const ChunkSource source = [&]() -> Result<std::string_view> {
    if (delivered) return std::string_view();
    delivered = true;
    return body;
  };
  return scan_records(spec, source, on_record);
}

}  // namespace hubpoll
