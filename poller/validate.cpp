#include "poller/validate.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "poller/json_util.h"
#include "poller/record_scanner.h"
#include "poller/secrets.h"

namespace hubpoll {

// Generated at build time from schemas/*.schema.json.
extern const char kPollersSchemaJson[];
extern const char kInstanceSchemaJson[];

namespace {

using rapidjson::Value;

constexpr long long kMaxSeconds = 365LL * 24 * 3600;
constexpr long long kMaxPageSize = 10000;
constexpr long long kMaxRefreshMinutes = 7 * 24 * 60;
// The largest integer a JSON reader that stores numbers as IEEE doubles
// (JavaScript, many others) keeps exactly.
constexpr std::uint64_t kMaxExactDouble = 1ULL << 53;
// How far back the probe's URL window reaches, so a quiet hub still returns
// records to sample.
constexpr std::chrono::hours kProbeWindow{24 * 7};
constexpr std::size_t kErrorBodyPreview = 200;
// Iterative parsing keeps the stack flat at any depth. Validating the
// encoding rejects invalid UTF-8, which would otherwise reach URLs.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Patterns suggested when a sampled date does not parse, in the order tried.
constexpr std::array<std::string_view, 8> kCommonDatePatterns = {
    "EEE MMM dd HH:mm:ss Z yyyy",     // Twitter v1.1
    "EEE, dd MMM yyyy HH:mm:ss zzz",  // RFC 1123
    "yyyy-MM-dd'T'HH:mm:ssXXX",       // ISO 8601
    "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",   // ISO 8601 with milliseconds
    "yyyy-MM-dd'T'HH:mm:ss'Z'",       // ISO 8601 in UTC
    "yyyy-MM-dd HH:mm:ss",           "yyyy-MM-dd", "milliseconds",
};

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string text_of(const Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

const Value* find_member(const Value& object, std::string_view key) {
  if (!object.IsObject()) return nullptr;
  const Value name(rapidjson::StringRef(key.data(), key.size()));
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string join_pointer(const std::string& base, std::string_view token) {
  return base + "/" + json_pointer_token(token);
}

// ---------------------------------------------------------------------------
// Positions of values in JSON text.

struct ValuePosition {
  std::size_t key_offset = std::string::npos;  // npos outside objects
  std::size_t value_offset = 0;
};

// A key that occurs twice in one object.
struct DuplicateKey {
  std::string key;
  std::size_t first_offset = 0;  // of the first occurrence's opening quote
  std::size_t offset = 0;        // of the repeated occurrence's opening quote
};

// Start offsets of every value in a JSON text, by JSON pointer. Built with a
// SAX pass because RapidJSON's DOM keeps no offsets.
class PositionIndex {
 public:
  static PositionIndex build(std::string_view text);

  // The position of the member's key for object members, else of the value.
  // A pointer not in the index resolves to its longest indexed prefix, so a
  // missing key points at the object that lacks it.
  std::optional<std::size_t> offset_of(std::string pointer) const;

  // The start of the value itself (an opening quote for strings).
  std::optional<std::size_t> value_offset_of(const std::string& pointer) const;

  void add(const std::string& pointer, ValuePosition position) {
    positions_.emplace(pointer, position);
  }

  void add_duplicate(DuplicateKey duplicate) {
    duplicates_.push_back(std::move(duplicate));
  }

  // Repeated keys, in text order. Only the first occurrence has a position.
  const std::vector<DuplicateKey>& duplicates() const { return duplicates_; }

 private:
  std::unordered_map<std::string, ValuePosition> positions_;
  std::vector<DuplicateKey> duplicates_;
};

// A read-only stream over NUL-terminated text. RapidJSON copies a
// StringStream into locals while it parses a token, so the original's
// Tell() lags behind; a stream without that optimisation stays exact.
class OffsetStream {
 public:
  using Ch = char;
  explicit OffsetStream(const char* text) : begin_(text), current_(text) {}
  Ch Peek() const { return *current_; }
  Ch Take() { return *current_++; }
  std::size_t Tell() const {
    return static_cast<std::size_t>(current_ - begin_);
  }
  // Writing is never used by a parse that is not in situ.
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  std::size_t PutEnd(Ch*) { return 0; }

 private:
  const char* begin_;
  const char* current_;
};

// The SAX handler behind PositionIndex::build. The reader calls each method
// just after consuming the token, so the stream's offset is the token's end.
class PositionRecorder {
 public:
  PositionRecorder(const OffsetStream& stream, std::string_view text,
                   PositionIndex& index)
      : stream_(stream), text_(text), index_(index) {}

  bool Null() { return scalar(); }
  bool Bool(bool) { return scalar(); }
  bool Int(int) { return scalar(); }
  bool Uint(unsigned) { return scalar(); }
  bool Int64(std::int64_t) { return scalar(); }
  bool Uint64(std::uint64_t) { return scalar(); }
  bool Double(double) { return scalar(); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(); }
  bool String(const char*, rapidjson::SizeType, bool) {
    return record(string_start(end()));
  }
  bool Key(const char* name, rapidjson::SizeType length, bool) {
    Frame& frame = frames_.back();
    const std::string key(name, length);
    frame.key_pointer = join_pointer(frame.pointer, key);
    frame.key_offset = string_start(end());
    const auto [first, inserted] = frame.keys.emplace(key, frame.key_offset);
    if (!inserted) {
      index_.add_duplicate(DuplicateKey{key, first->second, frame.key_offset});
    }
    return true;
  }
  bool StartObject() { return open(true); }
  bool StartArray() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

 private:
  struct Frame {
    bool is_object = false;
    std::string pointer;
    std::size_t next_index = 0;
    std::string key_pointer;
    std::size_t key_offset = 0;
    std::map<std::string, std::size_t> keys;  // offsets of the keys so far
  };

  std::size_t end() const { return stream_.Tell(); }

  // The opening quote of the string whose closing quote is at `end` - 1.
  // JSON strings hold no raw newlines, and a quote inside one is preceded by
  // an odd number of backslashes.
  std::size_t string_start(std::size_t end) const {
    std::size_t i = end - 1;
    while (i > 0) {
      --i;
      if (text_[i] != '"') continue;
      std::size_t backslashes = 0;
      while (i > backslashes && text_[i - 1 - backslashes] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 0) return i;
    }
    return 0;
  }

  bool scalar() {
    std::size_t start = end();
    while (
        start > 0 &&
        std::string_view("0123456789+-.eEtruefalsn").find(text_[start - 1]) !=
            std::string_view::npos) {
      --start;
    }
    return record(start);
  }

  std::string record_pointer(std::size_t start) {
    if (frames_.empty()) {
      index_.add("", ValuePosition{std::string::npos, start});
      return "";
    }
    Frame& frame = frames_.back();
    if (frame.is_object) {
      index_.add(frame.key_pointer, ValuePosition{frame.key_offset, start});
      return frame.key_pointer;
    }
    const std::string pointer =
        frame.pointer + "/" + std::to_string(frame.next_index++);
    index_.add(pointer, ValuePosition{std::string::npos, start});
    return pointer;
  }

  bool record(std::size_t start) {
    record_pointer(start);
    return true;
  }

  bool open(bool is_object) {
    Frame frame;
    frame.is_object = is_object;
    frame.pointer = record_pointer(end() - 1);
    frames_.push_back(std::move(frame));
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  const OffsetStream& stream_;
  std::string_view text_;
  PositionIndex& index_;
  std::vector<Frame> frames_;
};

PositionIndex PositionIndex::build(std::string_view text) {
  PositionIndex index;
  const std::string terminated(text);  // StringStream reads to a NUL
  OffsetStream stream(terminated.c_str());
  PositionRecorder recorder(stream, terminated, index);
  rapidjson::Reader reader;
  // A syntax error leaves the positions read so far, which is all there is.
  reader.Parse<rapidjson::kParseIterativeFlag>(stream, recorder);
  return index;
}

std::optional<std::size_t> PositionIndex::offset_of(std::string pointer) const {
  while (true) {
    const auto it = positions_.find(pointer);
    if (it != positions_.end()) {
      const ValuePosition& position = it->second;
      return position.key_offset != std::string::npos ? position.key_offset
                                                      : position.value_offset;
    }
    if (pointer.empty()) return std::nullopt;
    pointer.erase(pointer.rfind('/'));
  }
}

std::optional<std::size_t> PositionIndex::value_offset_of(
    const std::string& pointer) const {
  const auto it = positions_.find(pointer);
  if (it == positions_.end()) return std::nullopt;
  return it->second.value_offset;
}

// The 1-based column that a DatePattern or UrlTemplate error message names
// ("... at column 7"), or 0.
std::size_t column_in_message(const std::string& message) {
  const std::string marker = "column ";
  const std::size_t at = message.rfind(marker);
  if (at == std::string::npos) return 0;
  std::size_t column = 0;
  for (std::size_t i = at + marker.size();
       i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
    column = column * 10 + static_cast<std::size_t>(message[i] - '0');
  }
  return column;
}

// ---------------------------------------------------------------------------
// Where diagnostics of one JSON document go.

// One JSON document being checked: a file, or a poller configuration
// embedded in an instance as an object or as JSON text.
class DocumentContext {
 public:
  DocumentContext(const std::string& file, std::string_view text,
                  ValidationReport& report)
      : file_(file),
        text_(text),
        report_(report),
        index_(std::make_shared<PositionIndex>(PositionIndex::build(text))) {}

  // A context for the value at `pointer` of this document, which
  // `description` names in messages. With `inner_text`, that value is a
  // string holding JSON text, so diagnostics inside it point at the string
  // and name the place inside it. `inner_text` must outlive the context.
  DocumentContext nested(const std::string& pointer, std::string description,
                         std::string_view inner_text = {}) const {
    DocumentContext context = *this;
    context.base_pointer_ = base_pointer_ + pointer;
    context.embedded_as_text_ = !inner_text.empty();
    context.inner_text_ = inner_text;
    context.description_ = std::move(description);
    return context;
  }

  void error(const std::string& resource, const std::string& pointer,
             std::string message, std::string hint = {},
             std::size_t column_in_string = 0) {
    add(Severity::kError, resource, pointer, std::move(message),
        std::move(hint), column_in_string);
  }

  void warning(const std::string& resource, const std::string& pointer,
               std::string message, std::string hint = {}) {
    add(Severity::kWarning, resource, pointer, std::move(message),
        std::move(hint), 0);
  }

  // Records a schema error, which later errors at the same pointer repeat.
  void schema_error(const std::string& resource, const std::string& pointer,
                    std::string message) {
    add(Severity::kError, resource, pointer, std::move(message), {}, 0);
    schema_pointers_->insert(full_pointer(pointer));
  }

  // Records an error at byte `offset` of the text, such as a syntax error.
  // Inside embedded text, the line and column go into the message instead.
  void error_at_offset(std::size_t offset, std::string message);

  bool has_schema_error(const std::string& pointer) const {
    return schema_pointers_->count(full_pointer(pointer)) != 0;
  }

  const std::string& file() const { return file_; }

 private:
  std::string full_pointer(const std::string& pointer) const {
    return embedded_as_text_ ? base_pointer_ : base_pointer_ + pointer;
  }

  void add(Severity severity, const std::string& resource,
           const std::string& pointer, std::string message, std::string hint,
           std::size_t column_in_string);

  void place(Diagnostic& diagnostic, std::size_t column_in_string) const;

  std::string file_;
  std::string_view text_;
  ValidationReport& report_;
  std::shared_ptr<const PositionIndex> index_;
  std::string base_pointer_;
  bool embedded_as_text_ = false;
  std::string_view inner_text_;  // the embedded JSON text, when there is one
  std::string description_;
  std::shared_ptr<std::set<std::string>> schema_pointers_ =
      std::make_shared<std::set<std::string>>();
};

void DocumentContext::add(Severity severity, const std::string& resource,
                          const std::string& pointer, std::string message,
                          std::string hint, std::size_t column_in_string) {
  Diagnostic diagnostic;
  diagnostic.severity = severity;
  diagnostic.file = file_;
  diagnostic.resource = resource;
  diagnostic.pointer = full_pointer(pointer);
  // The schema already reported this value, more generally.
  if (severity == Severity::kError &&
      schema_pointers_->count(diagnostic.pointer) != 0 && !embedded_as_text_) {
    return;
  }
  if (embedded_as_text_) {
    const std::string where = pointer.empty() ? "" : " at " + pointer;
    message = "in " + description_ + where + ": " + message;
    column_in_string = 0;
  }
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  place(diagnostic, column_in_string);
  report_.diagnostics.push_back(std::move(diagnostic));
}

void DocumentContext::error_at_offset(std::size_t offset, std::string message) {
  if (embedded_as_text_) {
    const TextPosition inner = position_of(inner_text_, offset);
    error("", "",
          message + " (line " + std::to_string(inner.line) + ", column " +
              std::to_string(inner.column) + ")");
    return;
  }
  Diagnostic diagnostic;
  diagnostic.file = file_;
  diagnostic.pointer = base_pointer_;
  diagnostic.message = std::move(message);
  const TextPosition position = position_of(text_, offset);
  diagnostic.line = position.line;
  diagnostic.column = position.column;
  report_.diagnostics.push_back(std::move(diagnostic));
}

// Sets the line and column. `column_in_string` (1-based, 0 for none) moves
// the column into a string value when the file spells the string without
// escapes, so a column inside a pattern lands on the right character.
void DocumentContext::place(Diagnostic& diagnostic,
                            std::size_t column_in_string) const {
  std::optional<std::size_t> offset = index_->offset_of(diagnostic.pointer);
  if (column_in_string > 0) {
    const auto value = index_->value_offset_of(diagnostic.pointer);
    if (value && text_[*value] == '"') {
      const std::size_t close = text_.find('"', *value + 1);
      const std::string_view body =
          text_.substr(*value + 1, close - *value - 1);
      if (body.find('\\') == std::string_view::npos &&
          column_in_string <= body.size()) {
        offset = *value + column_in_string;
      }
    }
  }
  if (!offset) return;
  const TextPosition position = position_of(text_, *offset);
  diagnostic.line = position.line;
  diagnostic.column = position.column;
}

// ---------------------------------------------------------------------------
// JSON syntax and schemas.

std::string too_deep_message() {
  return "arrays and objects are nested more than " +
         std::to_string(kMaxConfigDepth) +
         " levels deep here, so the text is not read further; "
         "configurations need only a few levels";
}

std::string parse_error_message(rapidjson::ParseErrorCode code) {
  if (code == rapidjson::kParseErrorStringInvalidEncoding) {
    return "invalid UTF-8 in a string; save the file as UTF-8";
  }
  return std::string("invalid JSON: ") + rapidjson::GetParseError_En(code);
}

void report_duplicate_keys(std::string_view text, DocumentContext& context) {
  const PositionIndex index = PositionIndex::build(text);
  for (const DuplicateKey& duplicate : index.duplicates()) {
    const TextPosition first = position_of(text, duplicate.first_offset);
    context.error_at_offset(
        duplicate.offset, "duplicate key " + quoted(duplicate.key) +
                              ", first at line " + std::to_string(first.line) +
                              ", column " + std::to_string(first.column));
  }
}

// Parses `text`, or reports why it cannot: nesting deeper than
// kMaxConfigDepth, a syntax error or invalid UTF-8. Also reports keys that
// occur twice in one object.
std::optional<rapidjson::Document> parse_or_report(std::string_view text,
                                                   DocumentContext& context) {
  const std::size_t too_deep = json_depth_exceeded(text, kMaxConfigDepth);
  if (too_deep != std::string_view::npos) {
    context.error_at_offset(too_deep, too_deep_message());
    return std::nullopt;
  }
  rapidjson::Document document;
  document.Parse<kParseFlags>(text.data(), text.size());
  if (document.HasParseError()) {
    context.error_at_offset(document.GetErrorOffset(),
                            parse_error_message(document.GetParseError()));
    return std::nullopt;
  }
  report_duplicate_keys(text, context);
  return document;
}

// Reports text nested deeper than kMaxConfigDepth before a DocumentContext
// indexes it, because the index stores a pointer per level. Returns whether
// the text was within the limit.
bool check_depth(std::string_view text, const std::string& file,
                 ValidationReport& report) {
  const std::size_t too_deep = json_depth_exceeded(text, kMaxConfigDepth);
  if (too_deep == std::string_view::npos) return true;
  Diagnostic diagnostic;
  diagnostic.file = file;
  diagnostic.message = too_deep_message();
  const TextPosition position = position_of(text, too_deep);
  diagnostic.line = position.line;
  diagnostic.column = position.column;
  report.diagnostics.push_back(std::move(diagnostic));
  return false;
}

std::string json_type_name(const Value& value) {
  if (value.IsNull()) return "null";
  if (value.IsBool()) return "boolean";
  if (value.IsObject()) return "object";
  if (value.IsArray()) return "array";
  if (value.IsString()) return "string";
  if (value.IsInt64() || value.IsUint64()) return "integer";
  return "number";
}

// Renders a schema value (a number, string or list) for a message.
std::string schema_value_text(const Value& value) {
  if (value.IsString()) return quoted(text_of(value));
  if (value.IsArray()) {
    std::string text;
    for (const Value& item : value.GetArray()) {
      if (!text.empty()) text += " or ";
      text += item.IsString() ? text_of(item) : schema_value_text(item);
    }
    return text;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

std::string missing_required_keys(const Value& required, const Value& object) {
  std::string missing;
  for (const Value& key : required.GetArray()) {
    if (!key.IsString() || (object.IsObject() && object.HasMember(key))) {
      continue;
    }
    if (!missing.empty()) missing += ", ";
    missing += quoted(text_of(key));
  }
  return missing;
}

// The value as a message shows it: strings quoted, containers by type.
std::string found_text(const Value& value) {
  if (value.IsString()) return quoted(text_of(value));
  if (value.IsObject() || value.IsArray()) return "an " + json_type_name(value);
  return schema_value_text(value);
}

// The enum's values, quoted and joined with "or".
std::string enum_text(const Value& values) {
  std::string text;
  for (const Value& item : values.GetArray()) {
    if (!text.empty()) text += " or ";
    text += item.IsString() ? quoted(text_of(item)) : schema_value_text(item);
  }
  return text;
}

// Whether one of the oneOf `alternatives` has type `type` and, unless
// `keyword` is empty, uses `keyword`.
bool has_alternative(const Value& alternatives, std::string_view type,
                     std::string_view keyword) {
  return std::any_of(
      alternatives.Begin(), alternatives.End(), [&](const Value& alternative) {
        const Value* name = find_member(alternative, "type");
        return name != nullptr && name->IsString() && text_of(*name) == type &&
               (keyword.empty() ||
                find_member(alternative, keyword) != nullptr);
      });
}

// A message for a value that matches none of a oneOf's alternatives. The
// schemas use oneOf for the two forms that the Cloud Elements formats allow:
// a JSON boolean or integer, or the same value as a string.
std::string describe_one_of(const Value& alternatives, const Value& schema,
                            const Value& value) {
  const std::string found = ", found " + found_text(value);
  if (alternatives.IsArray()) {
    if (has_alternative(alternatives, "boolean", "") &&
        has_alternative(alternatives, "string", "enum")) {
      return "expected true or false (as a boolean or a string)" + found;
    }
    if (has_alternative(alternatives, "integer", "") &&
        has_alternative(alternatives, "string", "pattern")) {
      return "expected a whole number (as an integer or a string of digits)" +
             found;
    }
  }
  if (const Value* description = find_member(schema, "description")) {
    std::string expected = text_of(*description);
    if (!expected.empty() && expected.back() == '.') expected.pop_back();
    return "expected " + expected + found;
  }
  return "matches none of the allowed forms" + found;
}

// A message for the first schema failure RapidJSON reports: the keyword,
// the schema object that contains it and the value that failed. Covers the
// keywords of schemas/*.schema.json.
std::string describe_schema_failure(const std::string& keyword,
                                    const Value& schema, const Value& value) {
  const Value* constraint = find_member(schema, keyword);
  if (constraint == nullptr) {
    return "is invalid (rejected by the JSON Schema keyword " +
           quoted(keyword) + ")";
  }
  const std::string found = ", found " + found_text(value);
  if (keyword == "type") {
    const std::string expected = constraint->IsString()
                                     ? text_of(*constraint)
                                     : schema_value_text(*constraint);
    return "expected " + expected + ", found " + json_type_name(value);
  }
  if (keyword == "required") {
    return "missing required key " + missing_required_keys(*constraint, value);
  }
  if (keyword == "oneOf") return describe_one_of(*constraint, schema, value);
  if (keyword == "enum") return "expected " + enum_text(*constraint) + found;
  if (keyword == "pattern") {
    return found_text(value) + " does not match the pattern " +
           quoted(text_of(*constraint));
  }
  if (keyword == "minLength" && value.IsString() &&
      value.GetStringLength() == 0) {
    return "must not be empty";
  }
  const std::string limit = schema_value_text(*constraint);
  if (keyword == "minLength") {
    return "must be at least " + limit + " characters long" + found;
  }
  if (keyword == "minimum") return "must be at least " + limit + found;
  if (keyword == "maximum") return "must be at most " + limit + found;
  if (keyword == "minProperties") {
    return "must have at least " + limit + " member(s), found " +
           std::to_string(value.IsObject() ? value.MemberCount() : 0);
  }
  return "is invalid (rejected by the JSON Schema keyword " + quoted(keyword) +
         ")";
}

// The embedded schemas, compiled once.
struct CompiledSchemas {
  rapidjson::Document pollers_json;
  rapidjson::Document resource_json;
  rapidjson::Document instance_json;
  std::unique_ptr<rapidjson::SchemaDocument> pollers;
  std::unique_ptr<rapidjson::SchemaDocument> resource;
  std::unique_ptr<rapidjson::SchemaDocument> instance;
};

rapidjson::Document parse_embedded_schema(const char* json) {
  rapidjson::Document document;
  document.Parse(json);
  if (document.HasParseError() || !document.IsObject()) {
    throw std::logic_error("an embedded JSON Schema is not a JSON object");
  }
  return document;
}

std::unique_ptr<CompiledSchemas> compile_schemas() {
  auto schemas = std::make_unique<CompiledSchemas>();
  schemas->pollers_json = parse_embedded_schema(kPollersSchemaJson);
  schemas->instance_json = parse_embedded_schema(kInstanceSchemaJson);

  // One resource alone, so each resource's first failure is reported
  // instead of only the file's first: RapidJSON 1.1.0 stops at one failure.
  auto& resource = schemas->resource_json;
  resource.SetObject();
  resource.AddMember("$ref", "#/definitions/resource", resource.GetAllocator());
  Value definitions(schemas->pollers_json["definitions"],
                    resource.GetAllocator());
  resource.AddMember("definitions", definitions, resource.GetAllocator());

  schemas->pollers =
      std::make_unique<rapidjson::SchemaDocument>(schemas->pollers_json);
  schemas->resource =
      std::make_unique<rapidjson::SchemaDocument>(schemas->resource_json);
  schemas->instance =
      std::make_unique<rapidjson::SchemaDocument>(schemas->instance_json);
  return schemas;
}

const CompiledSchemas& compiled_schemas() {
  static const std::unique_ptr<CompiledSchemas> schemas = compile_schemas();
  return *schemas;
}

struct SchemaFailure {
  std::string pointer;
  std::string message;
};

std::optional<SchemaFailure> first_schema_failure(
    const Value& document, const rapidjson::SchemaDocument& schema,
    const Value& schema_json) {
  rapidjson::SchemaValidator validator(schema);
  if (document.Accept(validator)) return std::nullopt;

  rapidjson::StringBuffer pointer;
  validator.GetInvalidDocumentPointer().Stringify(pointer);
  const Value* schema_object =
      validator.GetInvalidSchemaPointer().Get(schema_json);
  const Value* value = validator.GetInvalidDocumentPointer().Get(document);
  static const Value kEmpty(rapidjson::kObjectType);
  const std::string message = describe_schema_failure(
      validator.GetInvalidSchemaKeyword(),
      schema_object != nullptr ? *schema_object : kEmpty,
      value != nullptr ? *value : kEmpty);
  return SchemaFailure{pointer.GetString(), message};
}

void check_poller_schema(const Value& root, DocumentContext& context) {
  const CompiledSchemas& schemas = compiled_schemas();
  if (root.IsObject() && root.ObjectEmpty()) {
    context.schema_error("", "",
                         "no resources are configured; add one, such as "
                         "\"statuses\": {\"url\": \"/hubs/social/statuses\", "
                         "\"idField\": \"id_str\"}");
    return;
  }
  if (!root.IsObject()) {
    auto failure =
        first_schema_failure(root, *schemas.pollers, schemas.pollers_json);
    if (failure) context.schema_error("", failure->pointer, failure->message);
    return;
  }
  for (const auto& member : root.GetObject()) {
    auto failure = first_schema_failure(member.value, *schemas.resource,
                                        schemas.resource_json);
    if (!failure) continue;
    const std::string name = text_of(member.name);
    context.schema_error(name, join_pointer("", name) + failure->pointer,
                         failure->message);
  }
}

// ---------------------------------------------------------------------------
// Static checks of poller configurations.

// Replaces pattern letters outside quotes, leaving literal text alone.
std::string replace_pattern_letters(std::string_view pattern,
                                    std::string_view from, char to) {
  std::string fixed(pattern);
  bool quoted_text = false;
  for (char& c : fixed) {
    if (c == '\'') {
      quoted_text = !quoted_text;
    } else if (!quoted_text && from.find(c) != std::string_view::npos) {
      c = to;
    }
  }
  return fixed;
}

Instant example_instant(int hour, int minute) {
  using namespace date;
  return sys_days{2021_y / December / 29} + std::chrono::hours(hour) +
         std::chrono::minutes(minute);
}

// Warns about patterns that compile but print or read the wrong date, with
// an example computed by the formatter.
void warn_pattern_pitfalls(const DatePattern& pattern,
                           const std::string& resource,
                           const std::string& pointer,
                           DocumentContext& context) {
  const Zone utc;
  if (pattern.uses_week_year()) {
    const Instant day = example_instant(12, 0);
    const std::string fixed = replace_pattern_letters(pattern.text(), "Y", 'y');
    auto fixed_pattern = DatePattern::compile(fixed);
    std::string hint = "use y for the calendar year: " + quoted(fixed);
    if (fixed_pattern) {
      hint += ", which prints " + quoted(fixed_pattern->format(day, utc));
    }
    context.warning(resource, pointer,
                    quoted(pattern.text()) +
                        " uses week-year Y, which differs from the calendar "
                        "year in the last days of December: it prints "
                        "2021-12-29 as " +
                        quoted(pattern.format(day, utc)),
                    std::move(hint));
  }
  if (pattern.has_12_hour_without_marker()) {
    const Instant afternoon = example_instant(15, 30);
    const std::string fixed =
        replace_pattern_letters(pattern.text(), "hK", 'H');
    auto fixed_pattern = DatePattern::compile(fixed);
    std::string hint = "use HH for hours 0-23: " + quoted(fixed);
    if (fixed_pattern) {
      hint += ", which prints " + quoted(fixed_pattern->format(afternoon, utc));
    }
    hint += "; or add the AM/PM marker a";
    context.warning(resource, pointer,
                    quoted(pattern.text()) +
                        " has a 12-hour field (h or K) without the AM/PM "
                        "marker a, so morning and afternoon look the same: "
                        "it prints 2021-12-29 15:30 UTC as " +
                        quoted(pattern.format(afternoon, utc)),
                    std::move(hint));
  }
}

void check_date_field(const std::string& resource, const Value& dates,
                      const std::string& dates_pointer,
                      const std::string& prefix, DocumentContext& context) {
  const std::string field_key = prefix + "DateField";
  const std::string format_key = prefix + "DateFormat";
  const std::string zone_key = prefix + "DateTimezone";
  const Value* field = find_member(dates, field_key);
  const Value* format = find_member(dates, format_key);
  const Value* zone = find_member(dates, zone_key);
  const std::string format_pointer = join_pointer(dates_pointer, format_key);

  if (field != nullptr && format == nullptr) {
    context.error(resource, format_pointer,
                  format_key + " is missing (" + field_key + " is set)",
                  "add the Java SimpleDateFormat pattern of " + field_key +
                      ", such as \"EEE MMM dd HH:mm:ss Z yyyy\"");
  }
  if (field == nullptr && format != nullptr) {
    context.warning(
        resource, format_pointer,
        format_key + " is ignored because " + field_key + " is not set",
        "add " + field_key + " or remove " + format_key);
  }
  if (format != nullptr && format->IsString()) {
    auto pattern = DatePattern::compile(text_of(*format));
    if (!pattern) {
      context.error(resource, format_pointer, pattern.error().message, {},
                    column_in_message(pattern.error().message));
    } else {
      warn_pattern_pitfalls(*pattern, resource, format_pointer, context);
    }
  }
  if (zone != nullptr && zone->IsString()) {
    auto parsed = Zone::parse(text_of(*zone));
    if (!parsed) {
      context.error(resource, join_pointer(dates_pointer, zone_key),
                    parsed.error().message);
    }
  }
}

// An integer given as a JSON integer or as a string of digits with an
// optional minus sign.
struct WholeNumber {
  std::string text;                // as written, for messages
  std::optional<long long> value;  // empty when it does not fit in long long
};

std::optional<WholeNumber> whole_number(const Value& value) {
  if (value.IsInt64()) {
    return WholeNumber{std::to_string(value.GetInt64()), value.GetInt64()};
  }
  if (value.IsUint64())
    return WholeNumber{std::to_string(value.GetUint64()), {}};
  if (!value.IsString()) return std::nullopt;
  const std::string text = text_of(value);
  const std::size_t digits = text.rfind('-', 0) == 0 ? 1 : 0;
  if (text.size() == digits ||
      text.find_first_not_of("0123456789", digits) != std::string::npos) {
    return std::nullopt;
  }
  errno = 0;
  const long long number = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return WholeNumber{text, {}};
  return WholeNumber{text, number};
}

void check_range(const std::string& resource, const Value& object,
                 const std::string& object_pointer, const char* key,
                 long long min, long long max, const char* unit,
                 DocumentContext& context) {
  const Value* value = find_member(object, key);
  if (value == nullptr) return;
  const std::optional<WholeNumber> number = whole_number(*value);
  const std::string pointer = join_pointer(object_pointer, key);
  if (!number) {
    context.error(resource, pointer,
                  std::string(key) + ": expected a whole number of " + unit +
                      ", found " + found_text(*value));
    return;
  }
  if (!number->value || *number->value < min || *number->value > max) {
    context.error(resource, pointer,
                  std::string(key) + ": " + number->text + " " + unit +
                      " is out of range (" + std::to_string(min) + " to " +
                      std::to_string(max) + ")");
  }
}

// The 1-based column of the first placeholder in `url` whose date pattern
// is empty, such as ${date:}, or 0. UrlTemplate::compile accepts those, and
// they expand to nothing.
std::size_t empty_pattern_column(std::string_view url) {
  for (std::size_t at = url.find("${"); at != std::string_view::npos;
       at = url.find("${", at + 2)) {
    const std::string_view body = url.substr(at + 2);
    const std::size_t close = body.find('}');
    if (close == std::string_view::npos) return 0;
    const std::string_view placeholder = body.substr(0, close);
    const bool dated = placeholder.rfind("date:", 0) == 0 ||
                       placeholder.rfind("gmtDate:", 0) == 0 ||
                       placeholder.rfind("now:", 0) == 0 ||
                       placeholder.rfind("dateTimeZone:", 0) == 0;
    if (dated && placeholder.back() == ':') return at + 1;
  }
  return 0;
}

void check_url(const std::string& resource, const Value& object,
               const std::string& pointer, DocumentContext& context) {
  const Value* url = find_member(object, "url");
  if (url == nullptr || !url->IsString()) return;  // the schema reports it
  auto compiled = UrlTemplate::compile(text_of(*url));
  if (!compiled) {
    context.error(resource, join_pointer(pointer, "url"),
                  compiled.error().message,
                  "placeholders are ${date:FMT}, ${gmtDate:FMT}, "
                  "${dateTimeZone:ZONE:FMT}, ${now:FMT} and "
                  "${epoch[:ms|s|us]}",
                  column_in_message(compiled.error().message));
    return;
  }
  const std::size_t empty_column = empty_pattern_column(text_of(*url));
  if (empty_column > 0) {
    context.error(resource, join_pointer(pointer, "url"),
                  "a placeholder at column " + std::to_string(empty_column) +
                      " has an empty date pattern, so it expands to nothing",
                  "write the pattern after the last ':', such as "
                  "${date:yyyy-MM-dd'T'HH:mm:ssXXX}",
                  empty_column);
  }
}

// Unknown keys, through the configuration reader's own check. The reader
// stops at a resource's first error, so each resource is read on its own.
void warn_unknown_keys(const std::string& name, const Value& object,
                       DocumentContext& context) {
  rapidjson::Document single(rapidjson::kObjectType);
  single.AddMember(Value(name.c_str(), single.GetAllocator()),
                   Value(object, single.GetAllocator()), single.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  single.Accept(writer);

  // NOTE: a resource whose url or idField is invalid is read no further, so
  // unknown keys inside its datesConfiguration go unreported.
  const std::string source = "resource";
  std::vector<ConfigWarning> warnings;
  (void)parse_poller_config(buffer.GetString(), source, &warnings);
  for (const ConfigWarning& warning : warnings) {
    std::string pointer = warning.location.substr(source.size() + 2);
    std::string message = warning.message;
    std::string hint;
    const std::size_t suggestion = message.find(" (did you mean ");
    if (suggestion != std::string::npos) {
      hint = message.substr(suggestion + 2);
      hint.pop_back();  // the closing parenthesis
      message.erase(suggestion);
    }
    context.warning(name, pointer, std::move(message), std::move(hint));
  }
}

void check_resource(const std::string& name, const Value& object,
                    DocumentContext& context, bool warn_keys) {
  const std::string pointer = join_pointer("", name);
  if (name.empty()) {
    context.error(name, pointer, "the resource name is empty",
                  "name the resource after the hub path it polls, such as "
                  "\"statuses\"");
  }
  if (!object.IsObject()) return;  // the schema reports it
  // The schema's `required` failure names the same keys at `pointer`.
  for (const char* key : {"url", "idField"}) {
    if (!object.HasMember(key) && !context.has_schema_error(pointer)) {
      context.error(name, join_pointer(pointer, key),
                    std::string(key) + " is missing");
    }
  }
  check_url(name, object, pointer, context);

  const Value* id_field = find_member(object, "idField");
  if (id_field != nullptr && id_field->IsString() &&
      id_field->GetStringLength() == 0) {
    context.error(name, join_pointer(pointer, "idField"),
                  "idField must not be empty",
                  "name the record's id, such as \"id_str\"");
  }

  if (const Value* dates = find_member(object, "datesConfiguration")) {
    const std::string dates_pointer =
        join_pointer(pointer, "datesConfiguration");
    check_date_field(name, *dates, dates_pointer, "updated", context);
    check_date_field(name, *dates, dates_pointer, "created", context);
  }

  check_range(name, object, pointer, "createdCheckTolerance", 0, kMaxSeconds,
              "seconds", context);
  check_range(name, object, pointer, "pageSize", 1, kMaxPageSize, "records",
              context);
  check_range(name, object, pointer, "pollDelay", 0, kMaxSeconds, "seconds",
              context);
  if (warn_keys) warn_unknown_keys(name, object, context);
}

void check_poller_config(const Value& root, DocumentContext& context) {
  check_poller_schema(root, context);
  if (!root.IsObject()) return;
  for (const auto& member : root.GetObject()) {
    check_resource(text_of(member.name), member.value, context, true);
  }
}

std::vector<std::string> member_names(const Value& object) {
  std::vector<std::string> names;
  if (!object.IsObject()) return names;
  for (const auto& member : object.GetObject()) {
    names.push_back(text_of(member.name));
  }
  return names;
}

// ---------------------------------------------------------------------------
// Static checks of instance configurations.

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Unknown configuration keys, from the instance reader's own check. Keys of
// embedded poller configurations are left to check_poller_config.
void warn_unknown_instance_keys(std::string_view text,
                                DocumentContext& context) {
  const std::string source = "instance";
  std::vector<ConfigWarning> warnings;
  (void)parse_instance_config(text, source, &warnings);
  for (const ConfigWarning& warning : warnings) {
    std::string pointer = warning.location.substr(source.size() + 2);
    if (pointer.find(": ") != std::string::npos) continue;
    std::string message = warning.message;
    std::string hint;
    const std::size_t suggestion = message.find(" (did you mean ");
    if (suggestion != std::string::npos) {
      hint = message.substr(suggestion + 2);
      hint.pop_back();
      message.erase(suggestion);
    }
    context.warning("", pointer, std::move(message), std::move(hint));
  }
}

std::optional<bool> boolean_setting(const Value& value) {
  if (value.IsBool()) return value.GetBool();
  if (value.IsString() && text_of(value) == "true") return true;
  if (value.IsString() && text_of(value) == "false") return false;
  return std::nullopt;
}

constexpr const char* kSettingsPointer = "/configuration";

void check_notification(const Value& settings, DocumentContext& context) {
  const Value* enabled = find_member(settings, "event.notification.enabled");
  const Value* callback =
      find_member(settings, "event.notification.callback.url");
  const std::string callback_pointer =
      join_pointer(kSettingsPointer, "event.notification.callback.url");
  const bool has_callback = callback != nullptr && callback->IsString() &&
                            callback->GetStringLength() > 0;
  if (enabled != nullptr && boolean_setting(*enabled).value_or(false) &&
      !has_callback) {
    context.error("", callback_pointer,
                  "event.notification.callback.url is missing, but "
                  "event.notification.enabled is true",
                  "add \"event.notification.callback.url\" with the http or "
                  "https URL that receives events, or set "
                  "event.notification.enabled to \"false\"");
  }
  if (has_callback) {
    const std::string url = text_of(*callback);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      context.error("", callback_pointer,
                    "event.notification.callback.url must be an http or "
                    "https URL, got " +
                        quoted(url));
    }
  }
}

void check_refresh_interval(const Value& settings, DocumentContext& context) {
  check_range("", settings, kSettingsPointer, "event.poller.refresh_interval",
              1, kMaxRefreshMinutes, "minutes", context);
}

// Checks a poller configuration embedded as an object or as JSON text at
// `key` of the settings, and returns its resource names.
std::vector<std::string> check_embedded_pollers(const Value& value,
                                                const std::string& key,
                                                DocumentContext& context) {
  const std::string pointer = join_pointer(kSettingsPointer, key);
  if (value.IsObject()) {
    DocumentContext nested = context.nested(pointer, key);
    check_poller_config(value, nested);
    return member_names(value);
  }
  const std::string_view text(value.GetString(), value.GetStringLength());
  DocumentContext nested =
      context.nested(pointer, "the JSON text of " + key, text);
  auto document = parse_or_report(text, nested);
  if (!document) return {};
  check_poller_config(*document, nested);
  return member_names(*document);
}

// The legacy `resource|url|xpath|updField|updFormat|updZone|crField|
// crFormat|crZone` lines, each checked as the resource it converts to.
std::vector<std::string> check_legacy_urls(std::string_view text,
                                           DocumentContext& context) {
  const std::string pointer =
      join_pointer(kSettingsPointer, "event.poller.urls");
  static constexpr std::array<const char*, 6> kDateKeys = {
      "updatedDateField", "updatedDateFormat", "updatedDateTimezone",
      "createdDateField", "createdDateFormat", "createdDateTimezone"};
  std::vector<std::string> names;
  std::size_t line_number = 0;
  for (const std::string& line : split(text, '\n')) {
    ++line_number;
    if (trim(line).empty()) continue;
    const std::string description =
        "line " + std::to_string(line_number) + " of event.poller.urls";
    DocumentContext nested = context.nested(pointer, description, line);
    const std::vector<std::string> fields = split(line, '|');
    if (fields.size() != 9) {
      nested.error("", "",
                   "looks like a legacy pipe-per-line entry, which needs 9 "
                   "|-separated fields, but has " +
                       std::to_string(fields.size()),
                   "resource|url|xpath|updField|updFormat|updZone|crField|"
                   "crFormat|crZone");
      continue;
    }
    rapidjson::Document entry(rapidjson::kObjectType);
    auto& allocator = entry.GetAllocator();
    entry.AddMember("url", Value(trim(fields[1]).c_str(), allocator),
                    allocator);
    entry.AddMember("idField", "id", allocator);
    Value dates(rapidjson::kObjectType);
    for (std::size_t i = 0; i < kDateKeys.size(); ++i) {
      const std::string cell = trim(fields[3 + i]);
      if (cell.empty()) continue;
      dates.AddMember(Value(kDateKeys[i], allocator),
                      Value(cell.c_str(), allocator), allocator);
    }
    entry.AddMember("datesConfiguration", dates, allocator);
    const std::string name = trim(fields[0]);
    check_resource(name, entry, nested, false);
    names.push_back(name);
  }
  return names;
}

bool is_legacy_urls(const std::string& text) {
  return std::count(text.begin(), text.end(), '|') >= 8 &&
         split(text.substr(0, text.find('\n')), '|').size() == 9;
}

// Whether a line reads as a legacy entry with the wrong number of fields:
// more than two | and a field that starts with / like a URL path. A list of
// resource names has neither.
bool looks_like_legacy_urls(const std::string& text) {
  for (const std::string& line : split(text, '\n')) {
    if (std::count(line.begin(), line.end(), '|') <= 2) continue;
    for (const std::string& field : split(line, '|')) {
      if (trim(field).rfind('/', 0) == 0) return true;
    }
  }
  return false;
}

void check_enabled_resources(const std::string& list,
                             const std::vector<std::string>& known,
                             DocumentContext& context) {
  const std::string pointer =
      join_pointer(kSettingsPointer, "event.poller.urls");
  std::vector<std::string> unknown;
  std::size_t empty_names = 0;
  for (const std::string& part : split(list, '|')) {
    const std::string name = trim(part);
    if (name.empty()) {
      ++empty_names;
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      unknown.push_back(name);
    }
  }
  if (empty_names > 0) {
    context.error("", pointer,
                  std::to_string(empty_names) + " empty resource name(s) in " +
                      quoted(list),
                  "separate resource names with single |");
  }
  // With no resource names known, the poller configuration failed to load
  // and has its own error, so every name would be reported as unknown.
  if (unknown.empty() || known.empty()) return;
  std::string names;
  for (const std::string& name : unknown) {
    names += (names.empty() ? "" : ", ") + quoted(name);
  }
  std::string known_names;
  for (const std::string& name : known) {
    known_names += (known_names.empty() ? "" : ", ") + name;
  }
  context.error("", pointer,
                "event.poller.urls names " + std::to_string(unknown.size()) +
                    " resource(s) that the poller configuration does not "
                    "define: " +
                    names,
                "configured resources: " + known_names);
}

void check_poller_urls(const Value& value,
                       const std::vector<std::string>& known,
                       DocumentContext& context) {
  const std::string key = "event.poller.urls";
  if (value.IsObject()) {
    check_embedded_pollers(value, key, context);
    return;
  }
  if (!value.IsString()) return;  // the schema reports it
  const std::string text = trim(text_of(value));
  if (!text.empty() && text.front() == '{') {
    check_embedded_pollers(value, key, context);
  } else if (is_legacy_urls(text) || looks_like_legacy_urls(text)) {
    check_legacy_urls(text, context);
  } else {
    check_enabled_resources(text, known, context);
  }
}

void check_instance(const Value& root, std::string_view text,
                    const std::vector<std::string>& known_resources,
                    DocumentContext& context) {
  const CompiledSchemas& schemas = compiled_schemas();
  auto failure =
      first_schema_failure(root, *schemas.instance, schemas.instance_json);
  if (failure) context.schema_error("", failure->pointer, failure->message);
  // The loader parses embedded texts recursively. A too deep one is reported
  // by check_embedded_pollers.
  if (instance_within_depth_limit(text)) {
    warn_unknown_instance_keys(text, context);
  }

  const Value* settings = find_member(root, "configuration");
  if (settings == nullptr || !settings->IsObject()) return;
  check_notification(*settings, context);
  check_refresh_interval(*settings, context);

  std::vector<std::string> known = known_resources;
  const std::string embedded_key = "event.poller.configuration";
  if (const Value* embedded = find_member(*settings, embedded_key)) {
    if (embedded->IsObject() || embedded->IsString()) {
      known = check_embedded_pollers(*embedded, embedded_key, context);
    }
  }
  if (const Value* urls = find_member(*settings, "event.poller.urls")) {
    check_poller_urls(*urls, known, context);
  }
}

// ---------------------------------------------------------------------------
// Probing a hub.

std::string join_url(const std::string& base, const std::string& path) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (path.empty() || path.front() != '/') url.push_back('/');
  return url + path;
}

std::string add_query_parameter(const std::string& url, const std::string& name,
                                const std::string& value) {
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + name + "=" + percent_encode(value);
}

// The parts of one sampled record that the probe checks.
struct SampledRecord {
  std::size_t index = 0;
  std::string id;
  std::string id_problem;
  bool id_missing = false;      // the record has no member at the id path
  std::string large_number_id;  // the id's JSON text when above 2^53
  std::string string_twin;      // the `<name>_str` member next to that id
  std::vector<std::optional<std::string>> values;
};

// A date field checked once even when both dates name it with the same
// pattern and zone, as the Twitter configurations do.
struct ProbedDate {
  std::string config_key;  // updatedDateFormat or createdDateFormat
  DateField field;
};

std::vector<ProbedDate> dates_to_probe(const ResourceConfig& resource) {
  std::vector<ProbedDate> dates;
  if (resource.updated_date) {
    dates.push_back(ProbedDate{"updatedDateFormat", *resource.updated_date});
  }
  if (resource.created_date) {
    const DateField& created = *resource.created_date;
    const bool same_as_updated =
        !dates.empty() && dates[0].field.path == created.path &&
        dates[0].field.pattern.text() == created.pattern.text() &&
        dates[0].field.zone.name() == created.zone.name();
    if (!same_as_updated)
      dates.push_back(ProbedDate{"createdDateFormat", created});
  }
  return dates;
}

bool is_above_exact_double(const Value& value) {
  if (value.IsUint64()) return value.GetUint64() > kMaxExactDouble;
  if (value.IsInt64()) {
    return value.GetInt64() < -static_cast<std::int64_t>(kMaxExactDouble);
  }
  return value.IsNumber() &&
         std::fabs(value.GetDouble()) > static_cast<double>(kMaxExactDouble);
}

// The object that contains the last step of the dotted `path`, or null.
const Value* parent_of(const Value& record,
                       const std::vector<std::string>& steps) {
  const Value* parent = &record;
  for (std::size_t i = 0; i + 1 < steps.size() && parent != nullptr; ++i) {
    parent = find_member(*parent, steps[i]);
  }
  return parent;
}

// Whether the record object in `raw` has a member at the dotted `path`.
bool has_member_at(std::string_view raw, const std::string& path) {
  rapidjson::Document record;
  record.Parse<kParseFlags>(raw.data(), raw.size());
  if (record.HasParseError() || !record.IsObject()) return false;
  const std::vector<std::string> steps = split(path, '.');
  const Value* parent = parent_of(record, steps);
  return parent != nullptr && find_member(*parent, steps.back()) != nullptr;
}

// Looks at the id in the record's own text, because the scanner reports a
// number's text without its type.
void inspect_numeric_id(std::string_view raw, const std::string& id_path,
                        SampledRecord& sample) {
  rapidjson::Document record;
  record.Parse<kParseFlags>(raw.data(), raw.size());
  if (record.HasParseError()) return;
  const std::vector<std::string> steps = split(id_path, '.');
  const Value* parent = parent_of(record, steps);
  if (parent == nullptr) return;
  const Value* id = find_member(*parent, steps.back());
  if (id == nullptr || !is_above_exact_double(*id)) return;
  sample.large_number_id = sample.id;
  const std::string twin = steps.back() + "_str";
  if (const Value* text = find_member(*parent, twin)) {
    if (text->IsString()) sample.string_twin = twin;
  }
}

std::string with_twin(const std::string& id_path, const std::string& twin) {
  const std::size_t dot = id_path.rfind('.');
  return dot == std::string::npos ? twin : id_path.substr(0, dot + 1) + twin;
}

// The first common pattern that parses every present sampled value.
std::optional<std::string> suggest_pattern(
    const std::vector<std::string>& values, const Zone& zone) {
  for (const std::string_view candidate : kCommonDatePatterns) {
    auto pattern = DatePattern::compile(candidate);
    if (!pattern) continue;
    const bool parses_all = std::all_of(
        values.begin(), values.end(),
        [&](const std::string& v) { return pattern->parse(v, zone).ok(); });
    if (parses_all) return std::string(candidate);
  }
  return std::nullopt;
}

// Reports one page of samples of one resource.
class SampleChecker {
 public:
  SampleChecker(const ResourceConfig& resource, const ProbeOptions& options,
                ValidationReport& report)
      : resource_(resource), options_(options), report_(report) {}

  void check_ids(const std::vector<SampledRecord>& samples);
  void check_dates(const std::vector<SampledRecord>& samples,
                   const std::vector<ProbedDate>& dates);
  void error(const std::string& pointer, std::string message,
             std::string hint = {});
  void warning(const std::string& pointer, std::string message);
  std::string resource_pointer(std::string_view key) const;

 private:
  void check_date(const std::vector<SampledRecord>& samples,
                  std::size_t value_index, const ProbedDate& date);

  const ResourceConfig& resource_;
  const ProbeOptions& options_;
  ValidationReport& report_;
};

std::string SampleChecker::resource_pointer(std::string_view key) const {
  const std::string pointer =
      options_.pointer_prefix + join_pointer("", resource_.name);
  return key.empty() ? pointer : join_pointer(pointer, key);
}

void SampleChecker::error(const std::string& pointer, std::string message,
                          std::string hint) {
  Diagnostic diagnostic;
  diagnostic.file = options_.file;
  diagnostic.resource = resource_.name;
  diagnostic.pointer = pointer;
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  report_.diagnostics.push_back(std::move(diagnostic));
}

void SampleChecker::warning(const std::string& pointer, std::string message) {
  error(pointer, std::move(message));
  report_.diagnostics.back().severity = Severity::kWarning;
}

std::string record_label(std::size_t index, std::size_t count) {
  return "record " + std::to_string(index + 1) + " of " + std::to_string(count);
}

void SampleChecker::check_ids(const std::vector<SampledRecord>& samples) {
  const std::string pointer = resource_pointer("idField");
  const std::string& path = resource_.id_field;
  std::size_t missing = 0;
  const SampledRecord* first_missing = nullptr;
  std::size_t invalid = 0;
  const SampledRecord* first_invalid = nullptr;
  std::size_t too_large = 0;
  const SampledRecord* first_too_large = nullptr;
  std::map<std::string, std::vector<std::size_t>> positions;
  for (const SampledRecord& sample : samples) {
    if (sample.id.empty() && sample.id_missing) {
      if (missing++ == 0) first_missing = &sample;
      continue;
    }
    if (sample.id.empty()) {
      if (invalid++ == 0) first_invalid = &sample;
      continue;
    }
    positions[sample.id].push_back(sample.index + 1);
    if (!sample.large_number_id.empty() && too_large++ == 0) {
      first_too_large = &sample;
    }
  }
  if (first_missing != nullptr) {
    error(pointer,
          "idField " + quoted(path) + " is missing in " +
              std::to_string(missing) + " of " +
              std::to_string(samples.size()) + " sampled records, first in " +
              record_label(first_missing->index, samples.size()),
          "set idField to the record's id member");
  }
  if (first_invalid != nullptr) {
    error(pointer,
          "idField " + quoted(path) + " is present but not a valid id in " +
              std::to_string(invalid) + " of " +
              std::to_string(samples.size()) + " sampled records, first in " +
              record_label(first_invalid->index, samples.size()) + ": " +
              first_invalid->id_problem,
          "set idField to a member that contains a string or an integer");
  }
  if (first_too_large != nullptr) {
    const std::string& twin = first_too_large->string_twin;
    error(pointer,
          "idField " + quoted(path) + " is a JSON number above 2^53 in " +
              std::to_string(too_large) + " of " +
              std::to_string(samples.size()) + " sampled records (first " +
              first_too_large->large_number_id +
              "), which readers that store numbers as doubles round",
          twin.empty() ? "use an id field that contains text"
                       : "use " + quoted(with_twin(path, twin)) +
                             ", the same id as text");
  }
  for (const auto& [id, records] : positions) {
    if (records.size() < 2) continue;
    std::string where;
    for (const std::size_t position : records) {
      where += (where.empty() ? "" : ", ") + std::to_string(position);
    }
    error(pointer,
          "idField " + quoted(path) + " is not unique: " + quoted(id) +
              " appears in records " + where + " of " +
              std::to_string(samples.size()),
          "set idField to a member that identifies each record");
  }
}

void SampleChecker::check_dates(const std::vector<SampledRecord>& samples,
                                const std::vector<ProbedDate>& dates) {
  for (std::size_t i = 0; i < dates.size(); ++i) {
    check_date(samples, i, dates[i]);
  }
}

void SampleChecker::check_date(const std::vector<SampledRecord>& samples,
                               std::size_t value_index,
                               const ProbedDate& date) {
  const DateField& field = date.field;
  std::vector<std::string> present;
  std::size_t failures = 0;
  std::string first_failure;
  for (const SampledRecord& sample : samples) {
    const std::optional<std::string>& value = sample.values[value_index];
    if (value) present.push_back(*value);
    std::string reason;
    if (!value) {
      reason = field.path + " is missing";
    } else if (auto parsed = field.pattern.parse(*value, field.zone); !parsed) {
      reason = parsed.error().message;
    } else {
      continue;
    }
    if (failures++ == 0) {
      first_failure =
          record_label(sample.index, samples.size()) + ": " + reason;
    }
  }
  if (failures == 0) return;

  std::string hint;
  if (present.empty()) {
    hint = "set " +
           std::string(date.config_key)
               .replace(date.config_key.find("Format"), 6, "Field") +
           " to a member that every record has";
  } else if (auto suggestion = suggest_pattern(present, field.zone)) {
    hint = "use " + quoted(*suggestion) + ", which parses all " +
           std::to_string(present.size()) + " sampled values";
  } else {
    hint =
        "none of the common patterns parses every sampled value; write a "
        "pattern for values such as " +
        quoted(present.front());
  }
  error(join_pointer(resource_pointer("datesConfiguration"), date.config_key),
        std::to_string(failures) + " of " + std::to_string(samples.size()) +
            " sampled " + field.path + " values do not parse with " +
            quoted(field.pattern.text()) + "; first in " + first_failure,
        std::move(hint));
}

// Fetches the first page of `resource` and collects its records.
Status fetch_samples(const ResourceConfig& resource,
                     const ProbeOptions& options, Instant now,
                     const std::vector<ProbedDate>& dates,
                     std::vector<SampledRecord>& samples) {
  std::string url =
      join_url(options.base_url,
               resource.url.expand(ExpansionTimes{now - kProbeWindow, now}));
  url =
      add_query_parameter(url, "pageSize", std::to_string(resource.page_size));
  HttpRequest request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  if (!options.authorization.empty()) {
    request.headers.emplace_back("Authorization", options.authorization);
  }
  auto response = send_request(request, options.limits);
  if (!response) return response.error();
  HttpResponse& body = **response;
  if (body.status() < 200 || body.status() >= 300) {
    // Read past the preview so a secret cut at its end is still found.
    auto preview = body.read_body(kErrorBodyPreview + 4096);
    return make_error(
        ErrorKind::kHttpStatus,
        "HTTP " + std::to_string(body.status()) + " from " + body.origin() +
            ": " +
            (preview ? printable_preview(redact(*preview, options.secrets),
                                         kErrorBodyPreview)
                     : std::string("(body unreadable)")));
  }

  ScanSpec spec;
  spec.records_field = resource.records_field;
  spec.id_path = resource.id_field;
  for (const ProbedDate& date : dates)
    spec.value_paths.push_back(date.field.path);
  const ChunkSource source = [&body]() { return body.next_chunk(); };
  return scan_records(spec, source, [&](const ScannedRecord& record) {
    SampledRecord sample;
    sample.index = record.index;
    sample.id = record.id;
    sample.id_problem = record.id_problem;
    sample.values = record.values;
    if (!record.id.empty()) {
      inspect_numeric_id(record.raw, resource.id_field, sample);
    } else {
      sample.id_missing =
          record.is_object && !has_member_at(record.raw, resource.id_field);
    }
    samples.push_back(std::move(sample));
    return Status();
  });
}

void probe_resource(const ResourceConfig& resource, const ProbeOptions& options,
                    Instant now, ValidationReport& report) {
  SampleChecker checker(resource, options, report);
  const std::vector<ProbedDate> dates = dates_to_probe(resource);
  std::vector<SampledRecord> samples;
  Status fetched = fetch_samples(resource, options, now, dates, samples);
  if (!fetched) {
    checker.error(
        checker.resource_pointer("url"),
        "probing " + resource.name + " failed: " + fetched.error().message);
  }
  if (samples.empty()) {
    if (fetched) {
      checker.warning(checker.resource_pointer(""),
                      "the first page had no records, so the id and dates "
                      "were not checked");
    }
    return;
  }
  checker.check_ids(samples);
  checker.check_dates(samples, dates);
}

}  // namespace

std::size_t ValidationReport::error_count() const {
  return static_cast<std::size_t>(std::count_if(
      diagnostics.begin(), diagnostics.end(),
      [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

std::size_t ValidationReport::warning_count() const {
  return diagnostics.size() - error_count();
}

const char* severity_name(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

void validate_poller_text(std::string_view text, const std::string& file,
                          ValidationReport& report) {
  if (!check_depth(text, file, report)) return;
  DocumentContext context(file, text, report);
  auto document = parse_or_report(text, context);
  if (!document) return;
  check_poller_config(*document, context);
}

void validate_instance_text(std::string_view text, const std::string& file,
                            const std::vector<std::string>& known_resources,
                            ValidationReport& report) {
  if (!check_depth(text, file, report)) return;
  DocumentContext context(file, text, report);
  auto document = parse_or_report(text, context);
  if (!document) return;
  check_instance(*document, text, known_resources, context);
}

bool instance_within_depth_limit(std::string_view instance_text) {
  if (json_depth_exceeded(instance_text, kMaxConfigDepth) !=
      std::string_view::npos) {
    return false;
  }
  rapidjson::Document document;
  document.Parse<kParseFlags>(instance_text.data(), instance_text.size());
  if (document.HasParseError()) return true;
  const Value* settings = find_member(document, "configuration");
  if (settings == nullptr) return true;
  for (const char* key : {"event.poller.configuration", "event.poller.urls"}) {
    const Value* value = find_member(*settings, key);
    if (value != nullptr && value->IsString() &&
        json_depth_exceeded(
            std::string_view(value->GetString(), value->GetStringLength()),
            kMaxConfigDepth) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> resource_names(std::string_view poller_text) {
  rapidjson::Document document;
  document.Parse<kParseFlags>(poller_text.data(), poller_text.size());
  if (document.HasParseError()) return {};
  return member_names(document);
}

void probe_resources(const std::vector<const ResourceConfig*>& resources,
                     const ProbeOptions& options, Instant now,
                     ValidationReport& report) {
  for (const ResourceConfig* resource : resources) {
    probe_resource(*resource, options, now, report);
  }
}

void locate_diagnostics(std::string_view text, const std::string& file,
                        ValidationReport& report) {
  const PositionIndex index = PositionIndex::build(text);
  for (Diagnostic& diagnostic : report.diagnostics) {
    if (diagnostic.file != file || diagnostic.line != 0 ||
        diagnostic.pointer.empty()) {
      continue;
    }
    const auto offset = index.offset_of(diagnostic.pointer);
    if (!offset) continue;
    const TextPosition position = position_of(text, *offset);
    diagnostic.line = position.line;
    diagnostic.column = position.column;
  }
}

}  // namespace hubpoll
