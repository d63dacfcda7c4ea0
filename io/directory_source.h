// The directory source that the configuration names (`source.kind`): the one place that knows
// both the configuration and the readers. The sources themselves (io/ldif, io/ldap) and their
// interface (io/directory/directory_source.h) know neither the configuration nor each other.
//
// TODO(commands): this factory moves into the commands' run context, which reads the secrets.
// Thread-safety: MakeDirectorySource may be called from any thread.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "io/directory/directory_source.h"

namespace usersync::io {

struct SourceConfig;

// The source that `source.kind` names. For "ldap" it reads the bind password (ReadSecret of
// bind_password_env / bind_password_file) and checks the filters. Errors: kInvalidArgument for
// an unknown kind, a secret that cannot be read or an invalid filter (naming the key, never the
// secret).
absl::StatusOr<std::unique_ptr<DirectorySource>> MakeDirectorySource(const SourceConfig& source);

}  // namespace usersync::io
