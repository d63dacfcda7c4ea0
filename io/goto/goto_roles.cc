#include "io/goto/goto_roles.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace usersync::io {

std::optional<std::string_view> CanonicalGotoPrivilege(std::string_view name) {
  const absl::string_view trimmed =
      absl::StripAsciiWhitespace(absl::string_view(name.data(), name.size()));
  for (std::string_view privilege : kGotoPrivileges) {
    if (absl::EqualsIgnoreCase(trimmed, absl::string_view(privilege.data(), privilege.size()))) {
      return privilege;
    }
  }
  return std::nullopt;
}

std::string GotoPrivilegeList() {
  std::string out;
  for (std::string_view privilege : kGotoPrivileges) {
    if (!out.empty()) out.append(", ");
    out.append(privilege);
  }
  return out;
}

}  // namespace usersync::io
