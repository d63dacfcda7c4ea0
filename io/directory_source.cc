#include "io/directory_source.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/config/config.h"
#include "io/ldap/ldap_directory.h"

namespace usersync::io {

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source) {
  switch (source.kind) {
    case SourceKind::kLdif:
      return MakeLdifSource(source.path, source.schema);
    case SourceKind::kLdap:
      return MakeLdapSource(source);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown source.kind \"", Sv(SourceKindName(source.kind)), "\""));
}

}  // namespace usersync::io
