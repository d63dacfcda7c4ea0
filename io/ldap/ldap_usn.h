// Active Directory's uSNChanged watermark (internal to io/ldap): the cursor of a delta read and
// the domain controller state it is read from. Microsoft's "Polling for Changes Using the
// USNChanged Attribute"
// (learn.microsoft.com/windows/win32/ad/polling-for-changes-using-usnchanged): a DC numbers every
// change it commits (uSNChanged on the object, highestCommittedUSN in its rootDSE); USNs are the
// DC's own, so a delta must read the same DC (dsServiceName, its NTDS Settings DN) and that DC must
// not have been restored from a backup (its invocationId, on the NTDS Settings object, changes
// then). The next delta reads (uSNChanged>=usn+1).
//
// Why not DirSync (1.2.840.113556.1.4.841): it needs the "Replicating Directory Changes" right
// (or object-security mode, which Samba does not implement), and it returns only the changed
// attributes (a group's changed member values, not its list), which the delta would have to
// merge; uSNChanged needs read rights only and returns entries whole.
//
// Deletions: a deleted object becomes a tombstone in the domain's Deleted Objects container
// (its objectGUID and objectClass kept, a new uSNChanged), visible only with the show-deleted
// control (1.2.840.113556.1.4.417) and, by default, only to administrators. ReadTombstones
// reads those above a USN.
//
// Thread-safety: the functions are thread-safe; they use `ld` as their caller does.
#pragma once

#include <ldap.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "io/ldap/ldap_directory.h"

namespace usersync::io::ldap_internal {

struct DcState {
  int64_t usn = 0;            // highestCommittedUSN
  std::string invocation_id;  // the raw GUID bytes ("" when the bind DN may not read it)
  std::string dc;             // dsServiceName
  bool operator==(const DcState&) const = default;
};

// "usn:" usn ":" base64(invocation_id) ":" dc, e.g.
// "usn:12345:AAECAwQFBgcICQoLDA0ODw==:CN=NTDS Settings,CN=DC1,CN=Servers,...".
std::string FormatUsnCursor(const DcState& state);
bool IsUsnCursor(std::string_view cursor);
// Errors: kOutOfRange (not a cursor FormatUsnCursor made).
absl::StatusOr<DcState> ParseUsnCursor(std::string_view cursor);

// The DC's state now: highestCommittedUSN and dsServiceName from the rootDSE, invocationId from
// the NTDS Settings object. Errors: the searches'; kFailedPrecondition naming the URL when the
// rootDSE shows no highestCommittedUSN or dsServiceName (not Active Directory).
absl::StatusOr<DcState> ReadDcState(LDAP* ld, const LdapSourceOptions& options);

// An object deleted since a USN: its objectGUID (canonical string form, as ids are) and
// whether it was a group (objectClass group).
struct Tombstone {
  std::string guid;
  bool group = false;
};

inline constexpr char kShowDeletedOid[] = "1.2.840.113556.1.4.417";

// The tombstones with uSNChanged >= `since` under "CN=Deleted Objects," + the rootDSE's
// defaultNamingContext, read with the show-deleted control (one search, at most `max`
// answers). Errors: kPermissionDenied / kNotFound when the bind DN may not see the container
// (the caller leaves deletions to the full cycle); kOutOfRange when more than `max` come back;
// the search's otherwise.
absl::StatusOr<std::vector<Tombstone>> ReadTombstones(LDAP* ld, const LdapSourceOptions& options,
                                                      int64_t since, size_t max);

}  // namespace usersync::io::ldap_internal
