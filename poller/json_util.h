// Small JSON helpers shared by the configuration reader, the event writer
// and the CLI. RapidJSON stays inside the .cpp files that include it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hubpoll {

struct TextPosition {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
};

// The line and column of byte `offset` in `text`.
TextPosition position_of(std::string_view text, std::size_t offset);

// Appends `value` to `out` as a quoted JSON string. Invalid UTF-8 is kept
// byte for byte; the caller decides whether it may reach the output.
void append_json_string(std::string& out, std::string_view value);

// Removes the whitespace between tokens of valid JSON text, so a record
// fits on one line. Strings are copied unchanged.
std::string compact_json(std::string_view json);

// The first `max_bytes` of `text` with every byte outside printable ASCII
// replaced by a space, so a server's error body fits in a log line.
std::string printable_preview(std::string_view text, std::size_t max_bytes);

// Escapes one JSON Pointer reference token (RFC 6901): `~` and `/`.
std::string json_pointer_token(std::string_view token);

// The edit distance between two short strings, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The byte offset of the first `[` or `{` that opens a value nested deeper
// than `max_depth` levels, or std::string_view::npos when none does. The
// top-level value is level 1. Brackets inside strings are skipped, and the
// text need not be valid JSON. Call it before a recursive parse or
// traversal, which a deep enough text makes overflow the stack.
std::size_t json_depth_exceeded(std::string_view text, std::size_t max_depth);

}  // namespace hubpoll
