// The LDAP directory source (`source.kind = "ldap"`, DESIGN.md): reads users and groups from
// OpenLDAP or Active Directory with OpenLDAP's libldap into a core::Directory.
//
// How a read goes:
//  - One connection binds first, on the calling thread, so that a wrong password or an
//    unreachable server fails fast with a clear error before anything else starts.
//  - Users are read by `connections` searches at once, each on its own connection and thread,
//    each on a disjoint partition of the user search (io/ldap/ldap_query.h: first-letter
//    prefix ranges of the naming attribute with a final complement partition, so every entry
//    comes back exactly once). connections = 1 is one plain paged search. Groups are read on a
//    connection of their own at the same time.
//  - Every search is paged (RFC 2696, `page_size`). The next page is requested before the
//    entries of the current one are decoded, so decoding overlaps the server's work. A server
//    that refuses the page size (adminLimitExceeded / sizeLimitExceeded, e.g. slapd's 500
//    entries for a non-admin bind) gets a smaller one (1000, 500, 100, then 10), with a
//    warning.
//  - Only the attributes the schema uses are asked for; which search returned an entry says
//    what it is (users are searched with (&user_filter(!group_filter)), so an entry matching
//    both is a group, as in the LDIF source). Entries are mapped by io::EntryMapper, exactly as
//    the LDIF source maps them.
//  - Active Directory's ranged retrieval: a group that comes back with `member;range=0-1499`
//    (Windows does so past 1,500 values; flavor kAd asks for `member;range=0-1499`, which
//    makes Samba do it too; smaller groups come back as `member;range=0-*`) has the rest read with
//    base-scope searches for `member;range=1500-*` and on until a range ends in `*`. A range that
//    cannot be read fails the read with kDataLoss naming the group and how many members were read:
//    never a silent truncation.
//  - A connection that drops (LDAP_SERVER_DOWN, a timeout, busy/unavailable) is reopened and
//    its partition restarted from scratch, its partial entries discarded; after
//    `max_attempts` the read fails with kUnavailable.
//  - Entries are merged into one core::DirectoryBuilder on the calling thread while the
//    searches go on, in a fixed order (deterministic): the groups once their search is
//    complete, then the user partitions in order, each in chunks of `merge_chunk_entries` as
//    they are decoded (eager). A partition that restarts after some of its entries were
//    merged cannot be taken back out of the builder: the searches then run to their end (a
//    final failure is the answer), and the whole directory is read again with every
//    partition buffered until complete, with a warning. Each connection reads through a
//    read-ahead buffer (libldap alone makes three system calls per entry).
//  - TLS: ldaps://, or ldap:// with start_tls. Certificates are verified against `ca_file` (or
//    the system's CAs) unless tls_verify = false, which logs a warning. Referrals are not
//    chased (search references are skipped).
//
// Errors of Read(): kUnauthenticated "bind as DN refused: invalid credentials";
// kUnavailable naming the URL (cannot connect, TLS failure, connection lost too often);
// kPermissionDenied (the server wants stronger authentication); kNotFound (no such base);
// kDeadlineExceeded folded into kUnavailable after the retries; kResourceExhausted (the server
// refuses even a page of 10); kDataLoss (a ranged member list cut short);
// kInvalidArgument `entry "DN": reason` for a value the mapper cannot take. Messages never hold
// the password.
//
// Thread-safety: a source is used by one thread at a time; Read() starts and joins threads of
// its own. The password is held in memory only as long as the source lives.
//
// Files: ldap_connection (connect, TLS, bind, result codes, base-entry reads), ldap_query
// (filters, partitions, ranges; no libldap), ldap_reader (the threads, retries and the merge),
// ldap_search (one paged search, entry decoding, ranged members), ldap_entry_batch (decoded
// entries), ldap_sync_control (RFC 4533 controls and cursor; no libldap), ldap_sync_search (a
// refreshOnly sync search), ldap_usn (AD's uSNChanged cursor, DC state, tombstones).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "io/clock.h"
#include "io/directory/directory_source.h"

namespace usersync::io {

namespace ldap_internal {
class Connection;
}  // namespace ldap_internal

// What the LDAP source needs, filled by its caller (the configuration's reading is not this
// module's business: the caller also reads the bind password from wherever it is kept).
struct LdapSourceOptions {
  std::string url;  // ldap://HOST:PORT, ldaps://HOST:PORT
  bool start_tls = false;
  std::string ca_file;     // PEM; empty: the system's trust store
  bool tls_verify = true;  // false: any certificate is accepted (and a warning is logged)
  std::string bind_dn;     // empty: anonymous
  std::string bind_password;
  std::string base_dn;
  int page_size = 1000;
  int connections = 1;  // parallel user searches (partitions); groups get one more
  std::chrono::milliseconds network_timeout{10'000};  // connect (TCP and TLS handshake)
  std::chrono::milliseconds timeout{120'000};         // longest wait for any one answer
  DirectorySchema schema;
  // Attempts per partition (the first one included) before the read fails.
  int max_attempts = 5;
  // Backoff between attempts: full jitter over min(cap, base * 2^retry).
  std::chrono::milliseconds retry_base{250};
  std::chrono::milliseconds retry_cap{4'000};
  // Bounds on one answer, so that a broken or hostile server cannot exhaust memory: an entry
  // with more values than max_entry_values, or more bytes of values than max_entry_bytes,
  // fails the read naming its DN; so does a page of more than 2 * page_size entries (RFC 2696:
  // a page holds at most page_size); libldap refuses a single message over max_entry_bytes +
  // 1 MiB before it is decoded. Errors: kResourceExhausted (exit 4). The defaults hold a
  // group of 5 million members (OpenLDAP sends a group whole).
  size_t max_entry_values = 5'000'000;
  size_t max_entry_bytes = size_t{256} << 20;
  // Where warnings go (tls_verify off, a smaller page, a reconnect). Not owned.
  std::FILE* log = stderr;
  // Eager merge: each user partition hands its decoded entries to the merging thread in
  // chunks of this many, so the Directory is built while the server is still sending (the
  // merge is ~20% of a read's client CPU: at 1M users it no longer runs after the last page).
  // 0: buffered, each partition merged once it is complete (the fallback after a restart).
  size_t merge_chunk_entries = 4096;
  // When a connection has nothing to read, the reader waits this long before it sleeps in
  // poll(2). A server writes one entry at a time; woken for each few hundred bytes, the reader
  // would take ~150,000 wake-ups per million entries, and each can preempt the server when
  // both run on one machine. Waiting lets a batch of entries gather: a few times fewer
  // wake-ups, 0.5-1.8 s less at a million users on 2 cores (bench/RESULTS.md). Costs at
  // most this much latency per page request. 0: no wait.
  std::chrono::microseconds read_coalesce{100};
  // Where the answer deadlines (`timeout`) read the time. Not owned; outlives the source.
  const Clock* clock = &RealClock();
  // Delta reads (flavor openldap only): entries whose modifyTimestamp is at or after the last
  // read's start minus this margin are read again (clock skew between usersync and the
  // server; reading a change twice is harmless).
  std::chrono::seconds watermark_margin{300};
  // Tests only: called on the merging thread after each eager chunk is merged, with the user
  // entries merged so far in this attempt (a test kills the server there, mid-read).
  std::function<void(int64_t merged_users)> chunk_merged_for_test = nullptr;
};

// What the last Read() did.
struct LdapReadStats {
  int64_t users = 0;
  int64_t groups = 0;
  int64_t ranged_groups = 0;   // groups whose members took ranged retrieval
  int64_t range_searches = 0;  // follow-up base searches for member;range=...
  int64_t restarts = 0;        // partitions restarted after a dropped connection
  int page_size = 0;           // the page size finally used
  int partitions = 0;          // user searches run at once
};

class LdapDirectorySource final : public DirectorySource {
 public:
  explicit LdapDirectorySource(LdapSourceOptions options);
  ~LdapDirectorySource() override;

  // Reads the whole directory (see the file comment). Blocks until every search thread has
  // ended, on success and on error alike.
  absl::StatusOr<core::Directory> Read() override;

  // Delta reads. The cursor says which mechanism made it:
  //  - OpenLDAP, RFC 4533 content synchronization, when the server lists the Sync Request
  //    control (1.3.6.1.4.1.4203.1.9.1.1: the syncprov overlay) in its rootDSE, gives a cookie,
  //    and schema.id is entryUUID. Cursor "rfc4533:" base64(users cookie) "," base64(groups
  //    cookie); StartCursor gets the cookies of "now" from two refreshOnly searches that match
  //    nothing (no entry is read twice). ReadDelta runs two refreshOnly sync searches (users,
  //    groups) from the cookies: entries changed since come whole (a group with its whole
  //    member list); deletions come as the deleted entryUUIDs (a session log: slapd's
  //    syncprov-sessionlog) or as a present phase (every unchanged entryUUID; what is neither
  //    present nor changed is gone, an entry that left the filter included). A deleted user is
  //    found by its id (= entryUUID); the snapshot keeps no group UUIDs, so when a group may be
  //    gone (a deletion named that is no user's, or fewer groups accounted for than the
  //    snapshot holds) the groups are listed once (names and members) and the missing DNs
  //    removed.
  //  - OpenLDAP otherwise, modifyTimestamp watermarks. Cursor: a GeneralizedTime
  //    ("20261207153000Z", the start of the last read by the options' clock); users and
  //    groups with (modifyTimestamp>=cursor - watermark_margin) added to their filters, given
  //    whole. Deletions leave no entry to find: the next full cycle sees them.
  //  - Active Directory (flavor ad), uSNChanged watermarks (io/ldap/ldap_usn.h). Cursor
  //    "usn:N:INVOCATIONID:DC": the DC's highestCommittedUSN read before the read, bound to the
  //    DC (dsServiceName, invocationId: another DC or a restored one is kOutOfRange); users
  //    and groups with (uSNChanged>=N+1) added to their filters, given whole. Deleted users
  //    come from the tombstones (Deleted Objects, show-deleted control) when the bind DN may
  //    read them (by default administrators only); a deleted group makes the groups listed
  //    once. Otherwise deletions, and entries moved out of the base, wait for the full cycle.
  // kOutOfRange (one full cycle, which starts a cursor of the right kind): a cursor of the
  // other OpenLDAP mechanism than the server's now (syncprov added or removed; a server that
  // lists the control but gives no cookie stays on watermarks), a stale cookie
  // (e-syncRefreshRequired), the Sync Request refused, a size limit on a sync search (it cannot
  // be paged), a malformed sync control (named, with the server). Errors otherwise as Read().
  // Cost: one extra connection per call (the rootDSE).
  bool SupportsDelta() const override;
  absl::StatusOr<std::string> StartCursor() override;
  absl::StatusOr<DirectoryDelta> ReadDelta(std::string_view cursor,
                                           const core::Directory& previous) override;

  // Counts of the last Read() (also after a failed one, up to the failure).
  const LdapReadStats& stats() const { return stats_; }

 private:
  // Whether delta reads use RFC 4533 (see ReadDelta); reads the rootDSE.
  absl::StatusOr<bool> UsesContentSync();
  // The RFC 4533 cursor of now; nullopt, with a warning, when the server gives no cookie.
  absl::StatusOr<std::optional<std::string>> SyncCursorNow();
  absl::StatusOr<DirectoryDelta> ReadSyncDelta(std::string_view cursor,
                                               const core::Directory& previous);
  absl::StatusOr<DirectoryDelta> ReadWatermarkDelta(std::string_view cursor);
  absl::StatusOr<std::string> UsnCursorNow();
  absl::StatusOr<DirectoryDelta> ReadUsnDelta(std::string_view cursor,
                                              const core::Directory& previous);
  // AD deletions since USN `since` (tombstones): users of `previous` removed, and the groups
  // listed when a group was deleted. Silent when the bind DN may not read them.
  absl::Status AddTombstones(ldap_internal::Connection& conn, int64_t since,
                             const core::Directory& previous, DirectoryDelta& delta);
  // Users and groups whose entries match `changed` too (a filter), whole.
  absl::StatusOr<DirectoryDelta> ReadChangedSince(std::string_view changed);
  // The DNs of `previous` groups the server no longer has (every group listed; `listed` = how
  // many).
  absl::StatusOr<std::vector<std::string>> GroupsGone(const core::Directory& previous,
                                                      int64_t& listed);

  LdapSourceOptions options_;
  LdapReadStats stats_;
};

// The source for `source.kind = "ldap"`, its filters checked before anything connects. Errors:
// kInvalidArgument naming the filter's key ("source.user_filter: ...").
absl::StatusOr<std::unique_ptr<DirectorySource>> MakeLdapSource(LdapSourceOptions options);

}  // namespace usersync::io
