// The SCIM attributes beyond usersync's fixed fields that [[mappings]] may target (README
// "Attribute mappings"), shared by the configuration (which refuses other paths), the codec
// (which writes, PATCHes and reads them) and the emulator's SCIM face (which stores them).
//
// A closed list of single-valued strings: core User attributes of RFC 7643 §4.1.1 (nickName,
// profileUrl, title, userType, locale, timezone) and §4.1.1 name sub-attributes (middleName,
// honorificPrefix, honorificSuffix), and the enterprise extension of RFC 7643 §4.3
// (employeeNumber, costCenter, organization, division, department, manager.value), each named by
// its full path "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" (RFC 7644
// §3.10). Multi-valued ones (phoneNumbers, addresses) are not offered. Header-only constants.
#pragma once

#include <algorithm>
#include <string_view>

#include "core/str.h"

namespace usersync::io {

inline constexpr std::string_view kEnterpriseUserUrn =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// Sorted (byte order), as AccountSpec::attributes is.
inline constexpr std::string_view kScimMappedAttributes[] = {
    "locale",
    "name.honorificPrefix",
    "name.honorificSuffix",
    "name.middleName",
    "nickName",
    "profileUrl",
    "timezone",
    "title",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
    "userType",
};

inline bool IsScimMappedAttribute(std::string_view path) {
  return std::binary_search(std::begin(kScimMappedAttributes), std::end(kScimMappedAttributes),
                            path);
}

// An attribute path split for the wire: `schema` is the extension URN ("" for a core attribute),
// `parent` the complex attribute ("name", "manager"; "" for a simple one), `name` the attribute.
// "urn:...:User:manager.value" → {kEnterpriseUserUrn, "manager", "value"}; "name.middleName" →
// {"", "name", "middleName"}; "title" → {"", "", "title"}.
struct ScimPath {
  std::string_view schema;
  std::string_view parent;
  std::string_view name;
};

inline ScimPath SplitScimPath(std::string_view path) {
  ScimPath out;
  if (path.size() > kEnterpriseUserUrn.size() &&
      path.substr(0, kEnterpriseUserUrn.size()) == kEnterpriseUserUrn &&
      path[kEnterpriseUserUrn.size()] == ':') {
    out.schema = kEnterpriseUserUrn;
    path.remove_prefix(kEnterpriseUserUrn.size() + 1);
  }
  const size_t dot = path.find('.');
  if (dot != std::string_view::npos) {
    out.parent = path.substr(0, dot);
    path.remove_prefix(dot + 1);
  }
  out.name = path;
  return out;
}

// The mapped attribute `name` of complex attribute `parent` ("" for none) in `schema` (""
// for the core schema, else kEnterpriseUserUrn), compared case-insensitively (RFC 7643 §2.1):
// its canonical path in kScimMappedAttributes (static storage), or "" when usersync maps none.
inline std::string_view FindScimMappedAttribute(std::string_view schema, std::string_view parent,
                                                std::string_view name) {
  for (std::string_view path : kScimMappedAttributes) {
    const ScimPath split = SplitScimPath(path);
    if (split.schema == schema && core::EqualsIgnoreCase(split.parent, parent) &&
        core::EqualsIgnoreCase(split.name, name)) {
      return path;
    }
  }
  return {};
}

}  // namespace usersync::io
