// EntryMapper: turns directory entries (any core::EntryView: an LDIF record, an LDAP search
// entry) into core::Directory users and groups by a DirectorySchema, so that the LDIF and the
// LDAP source map entries exactly alike.
//
// Thread-safety: an EntryMapper is used by one thread at a time (thread-compatible; Add()
// reuses scratch space); a const EntryMapper may Classify() from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"
#include "core/ldap_filter.h"
#include "io/directory/directory_source.h"

namespace usersync::io {

// Turns directory entries into core::Directory users and groups by the schema: an entry that
// matches group_filter is a group, else one that matches user_filter is a user, else it is
// ignored. Works on any core::EntryView, so the LDIF and the LDAP source map entries the same.
//
// Users take the first value of each schema attribute, and of each extra attribute in order.
// Flavor kAd: an id attribute named objectGUID holds the 16-byte binary GUID and becomes its
// canonical string (lower-case, first three groups little-endian, as AD tools show it:
// bytes e0 04 25 3f 89 4f d3 11 9a 0c 03 05 e8 2c 33 01 → "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
// a value already in that 36-character form is lower-cased), userAccountControl with bit 2
// set (value & 2) marks the user disabled, and the filters see objectCategory (the DN of a
// schema class) also as its first RDN value, so "(objectCategory=person)" matches
// "CN=Person,CN=Schema,CN=Configuration,DC=corp" as it does on a domain controller.
class EntryMapper {
 public:
  enum class Kind : uint8_t { kUser, kGroup, kIgnored };

  // Parses the schema's filters. Errors: kInvalidArgument naming the filter
  // ("source.user_filter: invalid LDAP filter ...").
  static absl::StatusOr<EntryMapper> Create(DirectorySchema schema);

  // What `entry` is. Cost: the two filters' evaluation (a few attribute look-ups).
  Kind Classify(const core::EntryView& entry) const;

  // Classifies `entry` and adds it to `builder`: a group with AddGroup(dn, first group_name
  // value) and one AddMember per member value; a user with AddUser. Returns the kind.
  // Errors: kInvalidArgument `entry "DN": reason` for a value that cannot be mapped (an AD
  // objectGUID that is not 16 bytes, a userAccountControl that is not an integer); then
  // `*failed_attribute` (when given) names the attribute, and nothing was added.
  absl::StatusOr<Kind> Add(const core::EntryView& entry, core::DirectoryBuilder& builder,
                           std::string_view* failed_attribute = nullptr);

  // A DirectoryBuilder for this schema: its extra attributes, and its attribute names for the
  // columns (so that a user's invalid value is reported by its attribute, "givenName ...").
  core::DirectoryBuilder NewBuilder() const;

  // The extra attribute names, in order: pass them to DirectoryBuilder's constructor.
  const std::vector<std::string>& extra_names() const { return schema_.extra; }
  const DirectorySchema& schema() const { return schema_; }

 private:
  EntryMapper() = default;

  DirectorySchema schema_;
  core::LdapFilter user_filter_;
  core::LdapFilter group_filter_;
  bool binary_guid_id_ = false;  // flavor kAd and id attribute objectGUID
  bool ad_flavor_ = false;       // userAccountControl, objectCategory by class name
  core::UserRecord record_;      // reused: its extra vector keeps its capacity
};

// AD's 16-byte objectGUID in the canonical string form the mapper gives ids
// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", Data1..Data3 little-endian, lowercase).
// REQUIRES: bytes.size() == 16.
std::string GuidString(std::string_view bytes);

}  // namespace usersync::io
