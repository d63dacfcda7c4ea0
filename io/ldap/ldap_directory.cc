#include "io/ldap/ldap_directory.h"

#include <memory>
#include <utility>

#include "core/status_macros.h"
#include "io/ldap/ldap_query.h"
#include "io/ldap/ldap_reader.h"

namespace usersync::io {

LdapDirectorySource::LdapDirectorySource(LdapSourceOptions options)
    : options_(std::move(options)) {}

LdapDirectorySource::~LdapDirectorySource() = default;

absl::StatusOr<core::Directory> LdapDirectorySource::Read() {
  stats_ = LdapReadStats{};
  ldap_internal::LdapReader reader(options_);
  return reader.Read(stats_);
}

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeLdapSource(LdapSourceOptions options) {
  USERSYNC_RETURN_IF_ERROR(
      ldap_internal::CanonicalFilters(options.schema.user_filter, options.schema.group_filter)
          .status());
  return std::make_unique<LdapDirectorySource>(std::move(options));
}

}  // namespace usersync::io
