#include "io/directory_source.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "io/config/config.h"
#include "io/ldap/ldap_directory.h"

namespace usersync::io {

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source) {
  if (source.kind == "ldif") return MakeLdifSource(source.path, source.schema);
  if (source.kind == "ldap") return MakeLdapSource(source);
  return absl::InvalidArgumentError(absl::StrCat("unknown source.kind \"", source.kind, "\""));
}

}  // namespace usersync::io
