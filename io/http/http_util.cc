#include "io/http/http_util.h"

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/json_writer.h"

namespace usersync::io {

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string FilterEq(std::string_view attribute, std::string_view value) {
  std::string filter(attribute);
  filter.append(" eq ");
  JsonWriter::AppendQuoted(&filter, value);
  return filter;
}

absl::Status WithPrefix(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Sv(prefix), ": ", status.message()));
}

std::string IdFromLocation(std::string_view location) {
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  const size_t slash = location.rfind('/');
  return std::string(slash == std::string_view::npos ? location : location.substr(slash + 1));
}

}  // namespace usersync::io
