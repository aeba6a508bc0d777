#include "poller/url_template.h"

#include <optional>

namespace hubpoll {

struct UrlTemplate::Part {
  enum class Kind { kLiteral, kWindowDate, kPollDate, kEpoch };

  Kind kind = Kind::kLiteral;
  std::string literal;  // already normalised, for kLiteral
  std::optional<DatePattern> pattern;
  Zone zone;
  long long epoch_divisor = 1;     // 1000 for seconds
  long long epoch_multiplier = 1;  // 1000 for microseconds
};

namespace {

constexpr std::string_view kHexDigits = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 reserved characters that stay as they are in the template's own
// text. The single quote is a sub-delimiter there but is encoded, as query
// expressions such as `where=q='name'` are sent with %27.
bool is_kept_reserved(unsigned char c) {
  switch (c) {
    case ':':
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':
    case '!':
    case '$':
    case '&':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

void append_escaped(std::string& out, unsigned char c) {
  out += '%';
  out += kHexDigits[c >> 4];
  out += kHexDigits[c & 0x0F];
}

// Encodes the template's literal text once: existing %XX escapes are kept.
std::string normalise_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '%' && i + 2 < text.size() && is_hex_digit(text[i + 1]) &&
        is_hex_digit(text[i + 2])) {
      out += text.substr(i, 3);
      i += 2;
    } else if (is_unreserved(c) || is_kept_reserved(c)) {
      out += static_cast<char>(c);
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

Error template_error(std::string_view text, size_t index,
                     const std::string& reason) {
  return make_error(ErrorKind::kConfig,
                    "invalid URL template '" + std::string(text) + "': " +
                        reason + " at column " + std::to_string(index + 1));
}

// Finds the `}` that closes a placeholder body starting at `index`, skipping
// braces inside single-quoted pattern text.
size_t find_closing_brace(std::string_view text, size_t index) {
  bool quoted = false;
  for (size_t i = index; i < text.size(); ++i) {
    if (text[i] == '\'') {
      quoted = !quoted;
    } else if (text[i] == '}' && !quoted) {
      return i;
    }
  }
  return std::string_view::npos;
}

void append_integer(std::string& out, long long value) {
  out += std::to_string(value);
}

long long floor_divide(long long value, long long divisor) {
  long long quotient = value / divisor;
  if (value % divisor != 0 && value < 0) --quotient;
  return quotient;
}

using Part = UrlTemplate::Part;

Result<Part> compile_pattern_part(std::string_view text, size_t column,
                                  std::string_view format, Part::Kind kind,
                                  Zone zone) {
  if (format.empty()) {
    return template_error(text, column,
                          "placeholder has an empty date pattern");
  }
  auto pattern = DatePattern::compile(format);
  if (!pattern.ok()) {
    return template_error(text, column,
                          "placeholder has an invalid date pattern (" +
                              pattern.error().message + ")");
  }
  Part part;
  part.kind = kind;
  part.pattern = std::move(pattern.value());
  part.zone = std::move(zone);
  return part;
}

// `${dateTimeZone:ZONE:FMT}`: zone offsets such as +05:30 contain colons, so
// the longest prefix that names a zone is taken as ZONE.
Result<Part> compile_zone_part(std::string_view text, size_t column,
                               std::string_view argument) {
  for (size_t colon = argument.rfind(':'); colon != std::string_view::npos;
       colon = colon == 0 ? std::string_view::npos
                          : argument.rfind(':', colon - 1)) {
    auto zone = Zone::parse(argument.substr(0, colon));
    if (!zone.ok()) continue;
    return compile_pattern_part(text, column, argument.substr(colon + 1),
                                Part::Kind::kWindowDate,
                                std::move(zone.value()));
  }
  return template_error(
      text, column,
      "placeholder ${dateTimeZone:ZONE:FORMAT} needs a known time zone "
      "followed by ':' and a date pattern");
}

Result<Part> compile_epoch_part(std::string_view text, size_t column,
                                std::optional<std::string_view> unit) {
  Part part;
  part.kind = Part::Kind::kEpoch;
  if (!unit || *unit == "ms") return part;
  if (*unit == "s") {
    part.epoch_divisor = 1000;
    return part;
  }
  if (*unit == "us") {
    part.epoch_multiplier = 1000;
    return part;
  }
  return template_error(
      text, column,
      "unknown epoch unit '" + std::string(*unit) + "', expected s, ms or us");
}

// Compiles the body of `${...}` that starts at `column`.
Result<Part> compile_placeholder(std::string_view text, size_t column,
                                 std::string_view body) {
  const size_t colon = body.find(':');
  const std::string_view name = body.substr(0, colon);
  std::optional<std::string_view> argument;
  if (colon != std::string_view::npos) argument = body.substr(colon + 1);

  if (name == "epoch") return compile_epoch_part(text, column, argument);
  if (!argument) {
    if (name == "date" || name == "gmtDate" || name == "now" ||
        name == "dateTimeZone") {
      return template_error(text, column,
                            "placeholder ${" + std::string(name) +
                                "} needs a date pattern after ':'");
    }
  } else if (name == "date" || name == "gmtDate") {
    return compile_pattern_part(text, column, *argument,
                                Part::Kind::kWindowDate,
                                Zone::fixed(std::chrono::seconds(0)));
  } else if (name == "now") {
    return compile_pattern_part(text, column, *argument, Part::Kind::kPollDate,
                                Zone::fixed(std::chrono::seconds(0)));
  } else if (name == "dateTimeZone") {
    return compile_zone_part(text, column, *argument);
  }
  return template_error(text, column,
                        "unknown placeholder ${" + std::string(name) +
                            "}, expected date, gmtDate, dateTimeZone, now "
                            "or epoch");
}

}  // namespace

Result<UrlTemplate> UrlTemplate::compile(std::string_view text) {
  std::vector<Part> parts;
  size_t literal_start = 0;
  size_t index = 0;
  auto flush_literal = [&](size_t end) {
    if (end == literal_start) return;
    Part part;
    part.literal =
        normalise_literal(text.substr(literal_start, end - literal_start));
    parts.push_back(std::move(part));
  };

  while ((index = text.find("${", index)) != std::string_view::npos) {
    const size_t body_start = index + 2;
    const size_t close = find_closing_brace(text, body_start);
    if (close == std::string_view::npos) {
      return template_error(text, index, "unterminated placeholder '${'");
    }
    auto part = compile_placeholder(
        text, index, text.substr(body_start, close - body_start));
    if (!part.ok()) return part.error();
    flush_literal(index);
    parts.push_back(std::move(part.value()));
    index = close + 1;
    literal_start = index;
  }
  flush_literal(text.size());

  UrlTemplate compiled;
  compiled.text_ = std::string(text);
  compiled.parts_ = std::make_shared<const std::vector<Part>>(std::move(parts));
  return compiled;
}

std::string UrlTemplate::expand(const ExpansionTimes& times) const {
  std::string out;
  out.reserve(text_.size() + 32);
  for (const auto& part : *parts_) {
    switch (part.kind) {
      case Part::Kind::kLiteral:
        out += part.literal;
        break;
      case Part::Kind::kWindowDate:
        out +=
            percent_encode(part.pattern->format(times.window_start, part.zone));
        break;
      case Part::Kind::kPollDate:
        out +=
            percent_encode(part.pattern->format(times.poll_start, part.zone));
        break;
      case Part::Kind::kEpoch: {
        const long long millis = times.window_start.time_since_epoch().count();
        append_integer(out, floor_divide(millis, part.epoch_divisor) *
                                part.epoch_multiplier);
        break;
      }
    }
  }
  return out;
}

std::string percent_encode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out += c;
    } else {
      append_escaped(out, byte);
    }
  }
  return out;
}

}  // namespace hubpoll
