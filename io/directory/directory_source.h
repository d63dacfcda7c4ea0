// The directory-source seam: what a directory source is (DirectorySource), and the schema
// that says which entries are users and groups and which attribute feeds which field
// (DirectorySchema, DESIGN.md [source.attributes]). The LDIF reader (io/ldif) and the LDAP
// source (io/ldap) implement it; neither sees the other, the configuration or the run.
//
// Attribute names compare ASCII case-insensitively. Thread-safety: a source's Read() is called
// from one thread at a time; it may use threads of its own inside. A DirectorySchema is a plain
// value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"

namespace usersync::io {

// Which kind of server the directory comes from (`source.flavor`, parsed once by the config).
// kAd changes the defaults of the schema (see io/config/config.h) and how entries are mapped
// (io/directory/entry_mapper.h: objectGUID, userAccountControl, objectCategory).
enum class DirectoryFlavor : uint8_t { kOpenLdap, kAd };

struct DirectorySchema {
  DirectoryFlavor flavor = DirectoryFlavor::kOpenLdap;
  std::string user_filter = "(objectClass=inetOrgPerson)";
  std::string group_filter = "(objectClass=groupOfNames)";
  std::string id = "entryUUID";   // AD: objectGUID (binary; rendered in canonical string form)
  std::string user_name = "uid";  // AD: userPrincipalName
  std::string email = "mail";
  std::string first_name = "givenName";
  std::string last_name = "sn";
  std::string display_name = "cn";
  std::string language = "preferredLanguage";
  std::string member = "member";
  std::string group_name = "cn";
  std::vector<std::string> extra;
};

class DirectorySource {
 public:
  virtual ~DirectorySource() = default;
  // Reads the whole directory. Errors: kNotFound / kInvalidArgument (bad file or data, with
  // file and line), kUnavailable (server unreachable), kUnauthenticated (bind refused).
  virtual absl::StatusOr<core::Directory> Read() = 0;
};

}  // namespace usersync::io
