#include "io/commands/match_csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::io {
namespace {

// The reason a line of fields is not a match, or "".
std::string FieldsError(const std::vector<std::string>& fields) {
  if (fields.size() != 2) {
    return absl::StrCat("expected 2 fields (source_id,target_id), found ", fields.size());
  }
  if (fields[0].empty() || fields[1].empty()) {
    return absl::StrCat(fields[0].empty() ? "source_id" : "target_id", " is empty");
  }
  return "";
}

bool IsHeader(const std::vector<std::string>& fields) {
  return fields.size() == 2 && core::AsciiLower(fields[0]) == "source_id" &&
         core::AsciiLower(fields[1]) == "target_id";
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
      if (!IsHeader(*fields)) {
        errors->emplace_back(line_number,
                             absl::StrCat(where, "the header must be \"source_id,target_id\""));
      }
      continue;
    }
    if (std::string why = FieldsError(*fields); !why.empty()) {
      errors->emplace_back(line_number, absl::StrCat(where, why));
      continue;
    }
    pairs.push_back({(*fields)[0], (*fields)[1], line_number});
  }
  if (!header_seen) errors->emplace_back(0, absl::StrCat(path, ": empty: no header"));
  return pairs;
}

absl::StatusOr<std::vector<MatchPair>> ReadMatchCsv(const std::string& path,
                                                    std::vector<LineError>* errors) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, got);
  std::fclose(file);
  return ParseMatchCsv(content, path, errors);
}

}  // namespace usersync::io
