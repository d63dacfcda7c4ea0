// Delta cycles against a real OpenLDAP slapd (issue 15 item 4), in three set-ups:
//  - without syncprov: `sync --delta` reads, after a full cycle, only the entries whose
//    modifyTimestamp moved since (minus a safety margin); a group's membership change is read
//    through the group (it does not move its members' timestamps). The entries are loaded with
//    an old modifyTimestamp, so the margin (5 minutes) does not reach them. Deletions wait for
//    the next full cycle (README "Delta cycles");
//  - with syncprov: RFC 4533 refreshOnly from a cookie; deletions come as a present phase;
//  - with syncprov and its session log: deletions come as deleted entryUUIDs.
// Either way the delta applies exactly the changes; the cycle line says which feed read them.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "io/ldap/ldap_directory.h"
#include "io/ldap/ldap_sync_control.h"
#include "tests/support/plan_json.h"
#include "tests/support/slapd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::ProcessResult;
using testing::SlapdFixture;
using testing::SlapdOptions;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

constexpr char kPasswordEnv[] = "USERSYNC_TEST_LDAP_PASSWORD";
constexpr char kAdminDn[] = "cn=admin,dc=example,dc=com";
constexpr char kAdminPassword[] = "admin-secret";
constexpr char kOld[] = "modifyTimestamp: 20200101000000Z\n";

std::string UserDn(int idx) {
  return absl::StrCat("uid=user", idx, ",ou=people,dc=example,dc=com");
}

// user1..user10; cn=staff holds user1..user8 and cn=team, which holds user9. user10 is in no
// group. Every entry was last modified in 2020.
std::string Ldif() {
  std::string out = absl::StrCat(
      "dn: dc=example,dc=com\nobjectClass: top\nobjectClass: dcObject\n"
      "objectClass: organization\no: Example\ndc: example\n",
      kOld, "\ndn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n",
      kOld, "\ndn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n",
      kOld, "\n");
  for (int idx = 1; idx <= 10; ++idx) {
    absl::StrAppend(&out, "dn: ", UserDn(idx), "\nobjectClass: inetOrgPerson\nuid: user", idx,
                    "\nentryUUID: 00000000-0000-4000-8000-0000000000", 10 + idx, "\ncn: User ", idx,
                    "\ngivenName: Given", idx, "\nsn: Sn", idx, "\nmail: user", idx,
                    "@example.com\n", kOld, "\n");
  }
  absl::StrAppend(&out, "dn: cn=staff,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\n",
                  "cn: staff\nmember: cn=team,ou=groups,dc=example,dc=com\n");
  for (int idx = 1; idx <= 8; ++idx) absl::StrAppend(&out, "member: ", UserDn(idx), "\n");
  absl::StrAppend(&out, kOld, "\ndn: cn=team,ou=groups,dc=example,dc=com\n",
                  "objectClass: groupOfNames\ncn: team\nmember: ", UserDn(9), "\n", kOld, "\n");
  return out;
}

enum class Feed { kWatermark, kPresentPhase, kSessionLog };

SlapdOptions OptionsFor(Feed feed) {
  SlapdOptions options;
  options.syncprov = feed != Feed::kWatermark;
  if (feed == Feed::kSessionLog) options.extra_database_config = "syncprov-sessionlog 100\n";
  return options;
}

// The parameter: how slapd offers its changes (RFC 4533's provider, the syncprov overlay, with
// or without a session log; or not at all).
class LdapDeltaIntegrationTest : public ::testing::TestWithParam<Feed> {
 protected:
  void SetUp() override {
    const SlapdOptions options = OptionsFor(GetParam());
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start(Ldif(), options);
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
    ASSERT_TRUE(world_.StartTarget().ok());
    WriteSourceConfig("");
  }

  // The configuration with `extra` lines in [source].
  void WriteSourceConfig(const std::string& extra) {
    WorldConfig config;
    config.source = absl::StrCat("kind = \"ldap\"\nurl = \"", slapd_->url(), "\"\nbind_dn = \"",
                                 kAdminDn, "\"\nbind_password_env = \"", kPasswordEnv,
                                 "\"\nbase_dn = \"dc=example,dc=com\"\n",
                                 // Two of nine users deleted at once must not be held.
                                 "max_shrink_percent = 100\n", extra);
    world_.WriteConfig(config);
  }

  ProcessResult Sync(std::vector<std::string> args) {
    return world_.Usersync(std::move(args), {{kPasswordEnv, kAdminPassword}});
  }

  // Applies `ldif` (changetype records) with ldapmodify as the admin.
  void Modify(const std::string& ldif) {
    world_.WriteFile("change.ldif", ldif);
    ASSERT_TRUE(
        testing::RunToSuccess({"/usr/bin/ldapmodify", "-x", "-H", slapd_->url(), "-D", kAdminDn,
                               "-w", kAdminPassword, "-f", world_.Path("change.ldif")})
            .ok());
  }

  // A full cycle (9 users active), then `change` applied, then a delta cycle, which must read
  // by this test's feed. Returns how many operations a full plan still has afterwards.
  size_t FullThenDelta(const std::string& change) {
    ProcessResult first = Sync({"sync", "--delta"});
    EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_EQ(world_.Stats().active_users, 9);
    Modify(change);
    ProcessResult delta = Sync({"sync", "--delta"});
    EXPECT_EQ(delta.exit_code, 0) << delta.out << delta.err;
    EXPECT_TRUE(Contains(delta.out, "Cycle: delta (")) << delta.out;
    EXPECT_TRUE(Contains(delta.out, FeedLine(GetParam()))) << delta.out;
    return FullPlanOperations();
  }

  // The operations of a full `plan` now.
  size_t FullPlanOperations() {
    ProcessResult plan = Sync({"plan", "--format", "json"});
    const testing::PlanJson json = testing::ParsePlanJson(plan.out);
    EXPECT_TRUE(json.parsed) << plan.out << plan.err;
    return json.operations.size();
  }

  // What the cycle line says read the changes.
  static std::string FeedLine(Feed feed) {
    return feed == Feed::kWatermark ? "read by modifyTimestamp watermark)"
                                    : "read by RFC 4533 content sync)";
  }

  std::unique_ptr<SlapdFixture> slapd_;
  SyncWorld world_{"ldapdelta"};
};

// Three users changed (two in scope, one not) and one group's membership (user10 joins
// cn=team, nested in cn=staff): the delta reads those four entries and makes two updates and
// one create; a full plan afterwards has nothing to do.
TEST_P(LdapDeltaIntegrationTest, ThreeUsersAndAGroupMakeADeltaOfExactlyThose) {
  ProcessResult first = Sync({"sync", "--delta"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_TRUE(Contains(first.out, "Cycle: full (no snapshot of an earlier cycle"));
  EXPECT_EQ(world_.Stats().active_users, 9);

  Modify(absl::StrCat("dn: ", UserDn(2), "\nchangetype: modify\nreplace: sn\nsn: Renamed\n\n",
                      "dn: ", UserDn(4), "\nchangetype: modify\nreplace: givenName\n",
                      "givenName: Newname\n\n", "dn: ", UserDn(10),
                      "\nchangetype: modify\nreplace: sn\nsn: Joined\n\n",
                      "dn: cn=team,ou=groups,dc=example,dc=com\nchangetype: modify\n",
                      "add: member\nmember: ", UserDn(10), "\n"));
  const TargetStats before = world_.Stats();
  ProcessResult delta = Sync({"sync", "--delta"});
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_TRUE(Contains(delta.out,
                       "Cycle: delta (read 4 directory entries, 4 changed; 3 users "
                       "planned"))
      << delta.out;
  EXPECT_TRUE(Contains(delta.out, FeedLine(GetParam()))) << delta.out;
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.updates - before.updates, 2);
  EXPECT_EQ(after.active_users, 10);
  EXPECT_EQ(world_.ScimAccounts()["user2@example.com"].family_name, "Renamed");

  EXPECT_EQ(FullPlanOperations(), 0u);
}

// user3 deleted, and cn=team (user9's only way into the scoped cn=staff). RFC 4533 sees both
// deletions: the delta deactivates the two users, and a full plan afterwards has nothing to
// do. A watermark sees neither (no entry is left to carry a timestamp; cn=staff still names
// cn=team): the delta changes nothing, and the full plan holds the two deactivations.
TEST_P(LdapDeltaIntegrationTest, DeletionsAreSeenByContentSyncOnly) {
  const size_t left =
      FullThenDelta(absl::StrCat("dn: ", UserDn(3), "\nchangetype: delete\n\n",
                                 "dn: cn=team,ou=groups,dc=example,dc=com\nchangetype: delete\n"));
  const bool content_sync = GetParam() != Feed::kWatermark;
  EXPECT_EQ(world_.Stats().active_users, content_sync ? 7 : 9);
  EXPECT_EQ(left, content_sync ? 0u : 2u);

  // Nothing changed since: the next delta reads nothing and plans nothing.
  ProcessResult quiet = Sync({"sync", "--delta"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_TRUE(Contains(quiet.out, "Cycle: delta (read 0 directory entries, 0 changed; 0 users"))
      << quiet.out;
}

// user2 stops matching user_filter. RFC 4533 sees it leave (a present phase does not name it;
// the session log names it as no longer matching) and the delta deactivates it; a watermark
// cannot (the changed entry no longer matches the search) and the full plan holds the
// deactivation.
TEST_P(LdapDeltaIntegrationTest, AUserLeavingTheUserFilterIsSeenByContentSyncOnly) {
  WriteSourceConfig("user_filter = \"(&(objectClass=inetOrgPerson)(!(employeeType=gone)))\"\n");
  const size_t left = FullThenDelta(absl::StrCat(
      "dn: ", UserDn(2), "\nchangetype: modify\nadd: employeeType\n", "employeeType: gone\n"));
  const bool content_sync = GetParam() != Feed::kWatermark;
  EXPECT_EQ(world_.Stats().active_users, content_sync ? 8 : 9);
  EXPECT_EQ(left, content_sync ? 0u : 1u);
}

// The server gains or loses syncprov between two cycles: the stored cursor is of the other
// mechanism, so one full cycle runs with the reason, and the delta after it reads by the new
// mechanism.
TEST_P(LdapDeltaIntegrationTest, AMechanismChangeFallsBackToOneFullCycle) {
  ProcessResult first = Sync({"sync", "--delta"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const Feed now = GetParam() == Feed::kWatermark ? Feed::kPresentPhase : Feed::kWatermark;
  ASSERT_TRUE(slapd_->Reconfigure(OptionsFor(now)).ok());

  ProcessResult full = Sync({"sync", "--delta"});
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_TRUE(Contains(full.out, now == Feed::kWatermark
                                     ? "Cycle: full (the cursor is an RFC 4533 cookie, but "
                                     : "Cycle: full (the cursor is a modifyTimestamp watermark"))
      << full.out;

  Modify(absl::StrCat("dn: ", UserDn(5), "\nchangetype: modify\nreplace: sn\nsn: Moved\n"));
  ProcessResult delta = Sync({"sync", "--delta"});
  ASSERT_EQ(delta.exit_code, 0) << delta.out << delta.err;
  EXPECT_TRUE(Contains(delta.out, "Cycle: delta (read 1 directory entries, 1 changed; 1 users"))
      << delta.out;
  EXPECT_TRUE(Contains(delta.out, FeedLine(now))) << delta.out;
  EXPECT_EQ(world_.ScimAccounts()["user5@example.com"].family_name, "Moved");
}

// The source itself against slapd: a cookie older than every entry cannot be served
// incrementally; slapd 2.5 then refreshes everything (every entry sent whole, nothing
// removed), which is still exact. (e-syncRefreshRequired, which a server may answer instead,
// is in io/ldap/ldap_directory_test.cc.) The cursor of "now" reads no entry at all.
TEST(LdapContentSync, StaleCookieRefreshesEverythingAndAFreshOneReadsNothing) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
      SlapdFixture::Start(Ldif(), OptionsFor(Feed::kPresentPhase));
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  io::LdapSourceOptions options;
  options.url = (*slapd)->url();
  options.bind_dn = kAdminDn;
  options.bind_password = kAdminPassword;
  options.base_dn = "dc=example,dc=com";
  options.log = nullptr;
  io::LdapDirectorySource source(options);
  absl::StatusOr<std::string> now = source.StartCursor();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_TRUE(now->starts_with("rfc4533:")) << *now;
  absl::StatusOr<core::Directory> dir = source.Read();
  ASSERT_TRUE(dir.ok()) << dir.status();

  const std::string old_cookie = "rid=000,csn=20000101000000.000000Z#000000#000#000000";
  absl::StatusOr<io::DirectoryDelta> stale =
      source.ReadDelta(io::ldap_internal::FormatSyncCursor({old_cookie, old_cookie}), *dir);
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->changes.users.size(), 10u);
  EXPECT_EQ(stale->changes.groups.size(), 2u);
  EXPECT_TRUE(stale->changes.removed_users.empty());
  EXPECT_TRUE(stale->changes.removed_groups.empty());

  absl::StatusOr<io::DirectoryDelta> fresh = source.ReadDelta(*now, *dir);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->entries_read, 0);
  EXPECT_TRUE(fresh->changes.empty());
  EXPECT_EQ(fresh->feed, "RFC 4533 content sync");
  EXPECT_TRUE(fresh->cursor.starts_with("rfc4533:"));
}

INSTANTIATE_TEST_SUITE_P(Slapd, LdapDeltaIntegrationTest,
                         ::testing::Values(Feed::kWatermark, Feed::kPresentPhase,
                                           Feed::kSessionLog),
                         [](const ::testing::TestParamInfo<Feed>& param) {
                           switch (param.param) {
                             case Feed::kWatermark:
                               return std::string("WithoutSyncprov");
                             case Feed::kPresentPhase:
                               return std::string("WithSyncprov");
                             case Feed::kSessionLog:
                               return std::string("WithSyncprovSessionLog");
                           }
                           return std::string();
                         });

}  // namespace
}  // namespace usersync
