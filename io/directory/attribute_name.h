// Attribute descriptions as both directory readers meet them: "cn;lang-en" in an LDIF file,
// "member;range=0-1499" from Active Directory. An attribute is looked up by its type, the
// description without its options, ASCII case-insensitively (core::EqualsIgnoreCase).
//
// Pure functions, header-only, thread-safe.
#pragma once

#include <string_view>

namespace usersync::io {

// The attribute type of an attribute description without its options: "cn;lang-en" → "cn",
// "member;range=0-*" → "member", "mail" → "mail". The result views `description`.
inline std::string_view AttributeBaseName(std::string_view description) {
  return description.substr(0, description.find(';'));
}

}  // namespace usersync::io
