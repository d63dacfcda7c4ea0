// RFC 4533 (LDAP Content Synchronization) on the wire, internal to io/ldap: the Sync Request
// control usersync sends (refreshOnly, with a cookie), the Sync State, Sync Done and Sync Info
// values a server answers with, entryUUIDs in their string form, and the delta cursor that
// carries the cookies between cycles. BER through lber (ber_printf / ber_scanf); no
// connection, no libldap search (ldap_sync_search.cc does the searching).
//
// The ASN.1 (RFC 4533 section 2):
//   syncRequestValue ::= SEQUENCE { mode ENUMERATED { refreshOnly(1), refreshAndPersist(3) },
//                                   cookie OCTET STRING OPTIONAL, reloadHint BOOLEAN DEFAULT FALSE
//                                   }
//   syncStateValue   ::= SEQUENCE { state ENUMERATED { present(0), add(1), modify(2), delete(3) },
//                                   entryUUID OCTET STRING (SIZE(16)), cookie OCTET STRING OPTIONAL
//                                   }
//   syncDoneValue    ::= SEQUENCE { cookie OCTET STRING OPTIONAL,
//                                   refreshDeletes BOOLEAN DEFAULT FALSE }
//   syncInfoValue    ::= CHOICE {
//       newcookie      [0] OCTET STRING,
//       refreshDelete  [1] SEQUENCE { cookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
//       refreshPresent [2] SEQUENCE { cookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
//       syncIdSet      [3] SEQUENCE { cookie OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE,
//                                     syncUUIDs SET OF OCTET STRING (SIZE(16)) } }
//
// Decoders never trust the server: a value that does not parse, a UUID that is not 16 bytes, a
// cookie over kMaxSyncCookieBytes or more UUIDs than asked for give kDataLoss naming the
// control ("malformed Sync Done control (1.3.6.1.4.1.4203.1.9.1.3): ..."); the caller adds
// the server's URL. All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io::ldap_internal {

inline constexpr char kSyncRequestOid[] = "1.3.6.1.4.1.4203.1.9.1.1";
inline constexpr char kSyncStateOid[] = "1.3.6.1.4.1.4203.1.9.1.2";
inline constexpr char kSyncDoneOid[] = "1.3.6.1.4.1.4203.1.9.1.3";
inline constexpr char kSyncInfoOid[] = "1.3.6.1.4.1.4203.1.9.1.4";
// e-syncRefreshRequired: the server cannot serve the cookie incrementally.
inline constexpr int kSyncRefreshRequired = 4096;
// OpenLDAP's cookies are ~60 bytes ("rid=000,csn=20261207175036.204470Z#000000#000#000000"),
// one csn per provider in multi-provider setups: 64 KiB is far beyond any real one.
inline constexpr size_t kMaxSyncCookieBytes = 64 * 1024;

using SyncUuid = std::array<uint8_t, 16>;

// The control value of a refreshOnly Sync Request: the cookie when not empty, no reloadHint
// (a server that cannot serve the cookie then answers e-syncRefreshRequired or refreshes
// everything, both of which the reader handles).
std::string EncodeSyncRequest(std::string_view cookie);

enum class SyncState : uint8_t { kPresent = 0, kAdd = 1, kModify = 2, kDelete = 3 };

struct SyncStateValue {
  SyncState state = SyncState::kPresent;
  SyncUuid uuid{};
  std::optional<std::string> cookie;
};
absl::StatusOr<SyncStateValue> DecodeSyncState(std::string_view value);

struct SyncDoneValue {
  std::optional<std::string> cookie;
  bool refresh_deletes = false;
};
absl::StatusOr<SyncDoneValue> DecodeSyncDone(std::string_view value);

struct SyncInfoValue {
  enum class Kind : uint8_t { kNewCookie, kRefreshDelete, kRefreshPresent, kIdSet };
  Kind kind = Kind::kNewCookie;
  std::optional<std::string> cookie;
  bool refresh_done = true;      // kRefreshDelete, kRefreshPresent
  bool refresh_deletes = false;  // kIdSet: true = the UUIDs were deleted, false = present
  std::vector<SyncUuid> uuids;   // kIdSet
};
// `max_uuids`: more UUIDs in one syncIdSet is kDataLoss (a bound on a hostile server).
absl::StatusOr<SyncInfoValue> DecodeSyncInfo(std::string_view value, size_t max_uuids);

// "7385f73a-86b2-1041-862f-a9ed76351c1b": the form OpenLDAP gives the entryUUID attribute in
// (lowercase), so that it compares with a directory id read as entryUUID.
std::string UuidString(const SyncUuid& uuid);
// The inverse, case-insensitive; nullopt for anything but 8-4-4-4-12 hex digits.
std::optional<SyncUuid> ParseUuid(std::string_view text);

// The delta cursor of an RFC 4533 read: one cookie per search (users, groups), as
// "rfc4533:" base64(users) "," base64(groups). The watermark cursor is a bare GeneralizedTime
// ("20261207153000Z"), so the prefix says which mechanism made a cursor.
inline constexpr std::string_view kSyncCursorPrefix = "rfc4533:";
struct SyncCursor {
  std::string users;
  std::string groups;
  bool operator==(const SyncCursor&) const = default;
};
std::string FormatSyncCursor(const SyncCursor& cursor);
bool IsSyncCursor(std::string_view cursor);
// Errors: kOutOfRange (not a cursor FormatSyncCursor made: the caller reads in full).
absl::StatusOr<SyncCursor> ParseSyncCursor(std::string_view cursor);

}  // namespace usersync::io::ldap_internal
