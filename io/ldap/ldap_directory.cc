#include "io/ldap/ldap_directory.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/directory_changes.h"
#include "core/status_macros.h"
#include "core/str.h"
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

namespace {

constexpr char kGeneralizedTime[] = "%Y%m%d%H%M%SZ";

std::string GeneralizedTime(absl::Time time) {
  return absl::FormatTime(kGeneralizedTime, time, absl::UTCTimeZone());
}

}  // namespace

bool LdapDirectorySource::SupportsDelta() const {
  return options_.schema.flavor == DirectoryFlavor::kOpenLdap;
}

absl::StatusOr<std::string> LdapDirectorySource::StartCursor() {
  return GeneralizedTime(absl::FromChrono(options_.clock->WallNow()));
}

absl::StatusOr<DirectoryDelta> LdapDirectorySource::ReadDelta(std::string_view cursor,
                                                              const core::Directory& previous) {
  (void)previous;  // every change comes back whole
  absl::Time since;
  std::string error;
  // %E4Y: exactly four digits of year (%Y would take the digits that follow too).
  if (!absl::ParseTime("%E4Y%m%d%H%M%SZ", std::string(cursor), absl::UTCTimeZone(), &since,
                       &error)) {
    return absl::OutOfRangeError(
        absl::StrCat("the LDAP watermark \"", Sv(cursor), "\" is no time"));
  }
  DirectoryDelta delta;
  delta.cursor = GeneralizedTime(absl::FromChrono(options_.clock->WallNow()));
  const std::string changed = absl::StrCat(
      "(modifyTimestamp>=", GeneralizedTime(since - absl::FromChrono(options_.watermark_margin)),
      ")");
  LdapSourceOptions options = options_;
  DirectorySchema& schema = options.schema;
  // The reader searches users with (&user(!group)): an unchanged group must stay no user.
  schema.user_filter =
      absl::StrCat("(&", schema.user_filter, "(!", options_.schema.group_filter, ")", changed, ")");
  schema.group_filter = absl::StrCat("(&", schema.group_filter, changed, ")");
  stats_ = LdapReadStats{};
  ldap_internal::LdapReader reader(options);
  USERSYNC_ASSIGN_OR_RETURN(const core::Directory read, reader.Read(stats_));
  for (uint32_t user_idx = 0; user_idx < read.user_count(); ++user_idx) {
    delta.changes.users.push_back(core::UserAt(read, user_idx));
  }
  const std::vector<std::vector<std::string_view>> members = core::MemberDns(read);
  for (uint32_t group_idx = 0; group_idx < read.group_count(); ++group_idx) {
    delta.changes.groups.push_back({std::string(read.group_dn[group_idx]),
                                    std::string(read.group_name[group_idx]),
                                    true,
                                    {members[group_idx].begin(), members[group_idx].end()},
                                    {}});
  }
  delta.entries_read = static_cast<int64_t>(read.user_count() + read.group_count());
  return delta;
}

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeLdapSource(LdapSourceOptions options) {
  USERSYNC_RETURN_IF_ERROR(
      ldap_internal::CanonicalFilters(options.schema.user_filter, options.schema.group_filter)
          .status());
  return std::make_unique<LdapDirectorySource>(std::move(options));
}

}  // namespace usersync::io
