// Directory sources: where core::Directory comes from (an LDIF file, or LDAP).
//
// DirectorySchema says which entries are users and groups, and which attribute feeds which
// field (DESIGN.md [source.attributes]). Attribute names compare case-insensitively.
// A source's Read() is called from one thread; it may use threads of its own inside.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"

namespace usersync::io {

struct DirectorySchema {
  std::string flavor = "openldap";  // "openldap" | "ad"
  std::string user_filter = "(objectClass=inetOrgPerson)";
  std::string group_filter = "(objectClass=groupOfNames)";
  std::string id = "entryUUID";  // AD: objectGUID (binary; rendered in canonical string form)
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

// The LDIF source (RFC 2849 file). Defined in io/ldif/ldif_reader.cc.
std::unique_ptr<DirectorySource> MakeLdifSource(std::string path, DirectorySchema schema);

struct SourceConfig;
// The source that `source.kind` names. Errors: kInvalidArgument for an unknown kind,
// kUnimplemented for a kind this build does not have.
absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source);

}  // namespace usersync::io
