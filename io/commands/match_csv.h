// The CSV files of `usersync match --csv FILE` (a header "source_id,target_id" and one match a
// line) and of `usersync match --unlink --csv FILE` (a header "source_id" and one directory id a
// line). RFC 4180 quoting; blank lines skipped; CRLF accepted; headers compared ignoring case. Pure
// parsing plus one file read; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io {

struct MatchPair {
  std::string source_id;  // directory id
  std::string target_id;  // account id ("" in an unlink file)
  int line = 0;           // CSV line number (0: from the command line)
};

// A bad line of a CSV import: its number and "FILE:LINE: reason".
using LineError = std::pair<int, std::string>;

// Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote) into trimmed fields.
// kInvalidArgument for a quoted field that is not closed.
absl::StatusOr<std::vector<std::string>> SplitCsvLine(std::string_view line);

// Parses `content`, named `path` in errors. Every bad line (syntax, field count, an empty id,
// a wrong or missing header) is appended to `errors`; the good pairs are returned.
std::vector<MatchPair> ParseMatchCsv(std::string_view content, const std::string& path,
                                     std::vector<LineError>* errors);

// Parses an unlink file as ParseMatchCsv parses a match file: header "source_id", one field a
// line; the ids come back as pairs with an empty target_id.
std::vector<MatchPair> ParseUnlinkCsv(std::string_view content, const std::string& path,
                                      std::vector<LineError>* errors);

// Read FILE and parse it as ParseMatchCsv / ParseUnlinkCsv. kNotFound when the file cannot be
// opened.
absl::StatusOr<std::vector<MatchPair>> ReadMatchCsv(const std::string& path,
                                                    std::vector<LineError>* errors);
absl::StatusOr<std::vector<MatchPair>> ReadUnlinkCsv(const std::string& path,
                                                     std::vector<LineError>* errors);

}  // namespace usersync::io
