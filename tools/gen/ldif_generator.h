// The fixture generator behind `usersync-gen-ldif`: a deterministic (seeded) directory of N
// users and G groups, written as RFC 2849 LDIF (for slapadd, the LDIF source, Samba) or fed
// straight into a core::DirectoryBuilder (for benchmarks that need the same shape in memory).
//
// Shape (flavor "openldap"; "ad" differs only in the entries' attributes, see below). All
// choices come from a hash of (seed, entry index), so the same options give the same bytes.
//
//   dc=example,dc=com                     the base entry (dcObject + organization)
//   ├── ou=people                         N users, uid=<first>.<last><i> (first letters spread
//   │                                     like real names, so prefix partitions balance)
//   └── ou=groups
//       ├── cn=goto-users                 the scope: holds the G generated groups through
//       │   │                             nesting, so about 97% of the users (the rest are
//       │   │                             "outside": in cn=contractors or in no group at all)
//       │   ├── dept-0 .. dept-7          roots of a tree of fan-out 8 (team-8 .. team-G-26):
//       │   │   └── team-8 ─► team-72 ─► ...  about log8(G) levels
//       │   │       (every ~50th group at depth >= 3 also lists its grandparent: a cycle)
//       │   ├── dept-0 ∋ goto-users       a cycle through the scope group itself
//       │   ├── dept-0 ∋ chain-0 ─► chain-1 ─► ... ─► chain-24 ∋ chain-0
//       │   │                             (G >= 100: 25 groups deep, then a cycle)
//       │   ├── organizers, trainers      rule groups: ~2% / ~1% of the scoped users
//       │   │                             directly, plus one nested team each
//       │   └── uid=ghost,ou=people,...   a dangling member (as is one member of every
//       │                                 1000th generated group)
//       └── cn=contractors                half of the outside users; not in the scope
//
// Every scoped user has one home group (uniform over the G generated groups; when the scoped
// users number 20,000+, a quarter of them go to 1..30 "big" teams instead, which then hold
// 5,000+ members each) plus `memberships` further groups on average (distinct, never the
// home). Member values are DNs exactly as the entries spell them, so they all resolve but the
// dangling ones. A generated group that would be empty lists itself (groupOfNames needs a
// member; openldap only).
//
// Messy data, per user (exclusive, about these rates): 1% mixed-case email
// (Ann.lee17@EXAMPLE.COM), 0.3% mixed case padded with spaces (written base64), 0.3% no mail,
// 0.2% a foreign domain (@gmail.com), 0.2% sharing the previous user's mailbox in other case
// (a duplicate pair: both invalid when both are in scope), 0.2% no givenName, 0.2% a
// preferredLanguage that is no language tag. About 9% of the users have a UTF-8 first or last
// name (Zoë, Jürgen, Müller: cn/givenName/sn written base64). Flavor "ad": 1% of users are
// disabled (userAccountControl 514, else 512).
//
// Entries: openldap users are inetOrgPerson with entryUUID (unique: its last 48 bits are the
// user index), uid, cn, givenName, sn, mail, preferredLanguage (on ~20%), departmentNumber,
// title, employeeNumber; groups are groupOfNames with entryUUID. "ad" users are
// top/person/organizationalPerson/user with objectCategory (CN=Person,CN=Schema,...),
// cn = "First Last i", sAMAccountName, userPrincipalName (uid@domain), objectGUID (16 binary
// bytes, written base64), givenName, sn, displayName, mail, userAccountControl, department,
// title, employeeID; groups are top/group with cn, sAMAccountName, objectGUID, member.
//
// Speed: the LDIF writer formats into a 1 MiB buffer and hands it to write(2): no allocation
// per entry or line (1M users with 2M member values: about 500 MB; see bench/RESULTS.md for
// the rate measured). Planning the memberships costs 4 bytes per member edge.
//
// Thread-safety: an LdifGenerator is immutable after Create(); Write*() and BuildDirectory()
// may run from several threads at once (each keeps its own buffers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/directory.h"
#include "io/directory/directory_source.h"

namespace usersync::io {
namespace gen_internal {
struct Plan;
class EntrySink;
}  // namespace gen_internal

struct LdifGenOptions {
  int64_t users = 1000;
  int64_t groups = 100;  // generated groups; 4 fixed ones come on top
  uint64_t seed = 1;
  std::string flavor = "openldap";  // "openldap" | "ad"
  // dc=... components (the email domain is their values joined by dots) or o=...
  std::string base_dn = "dc=example,dc=com";
  bool version_line = true;  // "version: 1" first (slapadd wants it absent)
  // Average group memberships of a scoped user besides its home group (fractions: some users
  // get one more). Capped at groups - 1.
  double memberships = 1.0;
};

// What a generator makes, counted while planning (before anything is written). Counts named
// "in scope" are of users that goto-users holds (nested) and that are not disabled: they are
// what a sync with the summary's scope group and validated domain reports.
struct LdifGenSummary {
  int64_t users = 0;
  int64_t groups = 0;        // generated
  int64_t fixed_groups = 0;  // goto-users, organizers, trainers, contractors
  int64_t entries = 0;       // every record: base, 2 OUs, users, groups

  int64_t member_values = 0;     // every member value of every group
  int64_t user_members = 0;      // ... naming a user
  int64_t group_members = 0;     // ... naming a group (nesting, cycles, self placeholders)
  int64_t dangling_members = 0;  // ... naming no entry
  int64_t self_members = 0;      // empty groups listing themselves (openldap only)
  int64_t largest_group = 0;     // member values of the biggest group
  int64_t groups_5000 = 0;       // groups with 5,000+ member values
  int64_t max_depth = 0;         // nesting levels below goto-users (goto-users ∋ dept-0: 1)
  int64_t cycles = 0;            // back edges that close a cycle

  int64_t scope_users = 0;  // users goto-users holds, directly or nested (disabled included)
  int64_t outside_users = 0;
  int64_t contractors = 0;  // outside users in cn=contractors
  int64_t disabled = 0;     // ad only
  int64_t in_scope = 0;     // scope_users minus the disabled ones
  int64_t organizers = 0;   // direct user members of the rule groups
  int64_t trainers = 0;

  // Messy data over all users.
  int64_t mixed_case_emails = 0;  // padded ones not included
  int64_t padded_emails = 0;
  int64_t no_email = 0;
  int64_t foreign_domain = 0;
  int64_t duplicate_email_users = 0;  // both users of each pair
  int64_t no_given_name = 0;
  int64_t bad_language = 0;
  int64_t utf8_names = 0;
  // Invalid users in scope, by reason, and their total.
  int64_t invalid_no_email = 0;
  int64_t invalid_foreign_domain = 0;
  int64_t invalid_duplicate_email = 0;
  int64_t invalid_no_given_name = 0;
  int64_t invalid = 0;

  std::string domain;          // "example.com": the validated domain
  std::string scope_group_dn;  // cn=goto-users,ou=groups,BASE
  std::string organizers_dn;
  std::string trainers_dn;
};

// "key: value" lines, one a line, for stderr and scripts (e.g. "users: 1000000").
std::string FormatGenSummary(const LdifGenSummary& summary);

class LdifGenerator {
 public:
  // Plans the directory: validates the options and computes every membership and count.
  // Errors: kInvalidArgument for negative sizes, more than 2^31 users or groups, an unknown
  // flavor, a base DN that is not made of dc= (or o=) components, memberships < 0.
  // Cost: O(users + member edges) time; 4 bytes per member edge.
  static absl::StatusOr<std::unique_ptr<LdifGenerator>> Create(LdifGenOptions options);
  ~LdifGenerator();
  LdifGenerator(const LdifGenerator&) = delete;
  LdifGenerator& operator=(const LdifGenerator&) = delete;

  const LdifGenSummary& summary() const { return summary_; }
  const LdifGenOptions& options() const { return options_; }

  // Writes the LDIF to `fd` (not closed) and returns the bytes written. Errors: kUnavailable
  // "NAME: write failed: <errno text>", NAME being `name_for_errors`.
  absl::StatusOr<uint64_t> WriteFd(int fd, const std::string& name_for_errors) const;
  // Creates or truncates `path`, writes the LDIF there and returns the bytes written. Errors:
  // as WriteFd; kPermissionDenied / kNotFound / kUnavailable when `path` cannot be opened.
  absl::StatusOr<uint64_t> WriteFile(const std::string& path) const;
  // The whole LDIF in memory (tests, small directories).
  std::string WriteString() const;

  // The same entries, mapped by io::EntryMapper with DefaultSchema() into a Directory, with no
  // LDIF text in between (benchmarks). Errors: those of EntryMapper (none expected).
  absl::StatusOr<core::Directory> BuildDirectory() const;

  // The schema that reads these entries: DirectorySchema's defaults for "openldap"; for "ad"
  // the config's AD defaults (objectGUID, userPrincipalName, user/group object classes).
  DirectorySchema DefaultSchema() const;

 private:
  using Plan = gen_internal::Plan;

  explicit LdifGenerator(LdifGenOptions options);
  // Emits every entry into `sink`, in LDIF order.
  void Emit(gen_internal::EntrySink& sink) const;

  LdifGenOptions options_;
  LdifGenSummary summary_;
  std::unique_ptr<Plan> plan_;
};

}  // namespace usersync::io
