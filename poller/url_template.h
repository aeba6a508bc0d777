// Poller URL templates with `${...}` placeholders.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "poller/date_pattern.h"
#include "poller/result.h"
#include "poller/time_types.h"
#include "poller/zone.h"

namespace hubpoll {

// The instants a template is expanded against.
struct ExpansionTimes {
  Instant window_start;
  Instant poll_start;
};

// A compiled URL template. Placeholders:
//   ${date:FMT}, ${gmtDate:FMT}     window start formatted in GMT
//   ${dateTimeZone:ZONE:FMT}        window start formatted in ZONE
//   ${now:FMT}                      poll start formatted in GMT
//   ${epoch}, ${epoch:ms}           window start in epoch milliseconds
//   ${epoch:s}, ${epoch:us}         window start in epoch seconds, microseconds
// FMT is a Java SimpleDateFormat pattern and may hold colons, and braces or
// quotes inside quotes. Substituted values are percent-encoded keeping only
// RFC 3986 unreserved characters. The template's own text is normalised once:
// characters outside the reserved and unreserved sets are encoded, existing
// `%XX` escapes are kept, so nothing is encoded twice.
class UrlTemplate {
 public:
  // Compiles `text`. An unknown placeholder name, an invalid pattern or zone,
  // or an unterminated `${` is an error naming the 1-based column.
  static Result<UrlTemplate> compile(std::string_view text);

  std::string expand(const ExpansionTimes& times) const;

  const std::string& text() const { return text_; }

  struct Part;  // a literal or a placeholder; defined in the .cpp

 private:
  std::string text_;
  std::shared_ptr<const std::vector<Part>> parts_;
};

// Percent-encodes every byte outside RFC 3986's unreserved set
// (ALPHA / DIGIT / "-" / "." / "_" / "~").
std::string percent_encode(std::string_view value);

}  // namespace hubpoll
