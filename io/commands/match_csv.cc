#include "io/commands/match_csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/normalize.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io {
namespace {

// One data line of a CSV file: its number and its fields.
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

// The reason a line of fields is not a row of `header`, or "".
std::string FieldsError(const std::vector<std::string>& fields,
                        const std::vector<std::string>& header) {
  if (fields.size() != header.size()) {
    return absl::StrCat("expected ", header.size(), header.size() == 1 ? " field (" : " fields (",
                        absl::StrJoin(header, ","), "), found ", fields.size());
  }
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    if (fields[field_idx].empty()) return absl::StrCat(header[field_idx], " is empty");
  }
  return "";
}

bool IsHeader(const std::vector<std::string>& fields, const std::vector<std::string>& header) {
  if (fields.size() != header.size()) return false;
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    if (core::AsciiLower(fields[field_idx]) != header[field_idx]) return false;
  }
  return true;
}

// Parses `content` (named `path` in errors) as a header equal to `header` and rows of as many
// non-empty fields. Every bad line is appended to `errors`; the good rows are returned.
std::vector<CsvRow> ParseCsvRows(std::string_view content, const std::string& path,
                                 const std::vector<std::string>& header,
                                 std::vector<LineError>* errors) {
  std::vector<CsvRow> rows;
  bool header_seen = false;
  int line_number = 0;
  for (absl::string_view split_line : absl::StrSplit(Sv(content), '\n')) {
    std::string_view line = StdSv(split_line);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (core::TrimWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number, ": ");
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvLine(line);
    if (!fields.ok()) {
      errors->emplace_back(line_number, absl::StrCat(where, fields.status().message()));
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      if (!IsHeader(*fields, header)) {
        errors->emplace_back(line_number, absl::StrCat(where, "the header must be \"",
                                                       absl::StrJoin(header, ","), "\""));
      }
      continue;
    }
    if (std::string why = FieldsError(*fields, header); !why.empty()) {
      errors->emplace_back(line_number, absl::StrCat(where, why));
      continue;
    }
    rows.push_back({line_number, *std::move(fields)});
  }
  if (!header_seen) errors->emplace_back(0, absl::StrCat(path, ": empty: no header"));
  return rows;
}

absl::StatusOr<std::string> ReadCsvFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, got);
  std::fclose(file);
  return content;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  bool was_quoted = false;
  for (size_t pos = 0; pos < line.size(); ++pos) {
    const char c = line[pos];
    if (quoted) {
      if (c == '"' && pos + 1 < line.size() && line[pos + 1] == '"') {
        fields.back().push_back('"');
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && !was_quoted && core::TrimWhitespace(fields.back()).empty()) {
      fields.back().clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted field is not closed");
  for (std::string& field : fields) field = std::string(core::TrimWhitespace(field));
  return fields;
}

std::vector<MatchPair> ParseMatchCsv(std::string_view content, const std::string& path,
                                     std::vector<LineError>* errors) {
  std::vector<MatchPair> pairs;
  for (CsvRow& row : ParseCsvRows(content, path, {"source_id", "target_id"}, errors)) {
    pairs.push_back({std::move(row.fields[0]), std::move(row.fields[1]), row.line});
  }
  return pairs;
}

std::vector<MatchPair> ParseUnlinkCsv(std::string_view content, const std::string& path,
                                      std::vector<LineError>* errors) {
  std::vector<MatchPair> ids;
  for (CsvRow& row : ParseCsvRows(content, path, {"source_id"}, errors)) {
    ids.push_back({std::move(row.fields[0]), "", row.line});
  }
  return ids;
}

absl::StatusOr<std::vector<MatchPair>> ReadMatchCsv(const std::string& path,
                                                    std::vector<LineError>* errors) {
  USERSYNC_ASSIGN_OR_RETURN(std::string content, ReadCsvFile(path));
  return ParseMatchCsv(content, path, errors);
}

absl::StatusOr<std::vector<MatchPair>> ReadUnlinkCsv(const std::string& path,
                                                     std::vector<LineError>* errors) {
  USERSYNC_ASSIGN_OR_RETURN(std::string content, ReadCsvFile(path));
  return ParseUnlinkCsv(content, path, errors);
}

}  // namespace usersync::io
