#include "io/directory_source.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "io/config/config.h"

namespace usersync::io {

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source) {
  if (source.kind == "ldif") return MakeLdifSource(source.path, source.schema);
  if (source.kind == "ldap") {
    return absl::UnimplementedError(
        "source.kind = \"ldap\" is not available in this build yet (issue 3); use kind = "
        "\"ldif\" with an export of the directory");
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown source.kind \"", source.kind, "\""));
}

}  // namespace usersync::io
