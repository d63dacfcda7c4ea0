// Delta cycles against a real OpenLDAP slapd (issue 15 item 4): `sync --delta` reads, after a
// full cycle, only the entries whose modifyTimestamp moved since (minus a safety margin), and
// applies exactly their changes; a group's membership change is read through the group (it
// does not move its members' timestamps). The entries are loaded with an old modifyTimestamp,
// so the margin (5 minutes) does not reach them. Run with and without slapd's syncprov overlay;
// RFC 4533 itself is not implemented: the watermark is the only way, and deletions wait for the
// full cycle (README "Delta cycles").
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
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

// The parameter: whether slapd runs the syncprov overlay (RFC 4533's provider). usersync does
// not speak RFC 4533 yet; the watermark must work with the overlay as without it.
class LdapDeltaIntegrationTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SlapdOptions options;
    options.syncprov = GetParam();
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start(Ldif(), options);
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
    ASSERT_TRUE(world_.StartTarget().ok());
    WorldConfig config;
    config.source = absl::StrCat("kind = \"ldap\"\nurl = \"", slapd_->url(), "\"\nbind_dn = \"",
                                 kAdminDn, "\"\nbind_password_env = \"", kPasswordEnv,
                                 "\"\nbase_dn = \"dc=example,dc=com\"\n");
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
                       "planned"));
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.updates - before.updates, 2);
  EXPECT_EQ(after.active_users, 10);
  EXPECT_EQ(world_.ScimAccounts()["user2@example.com"].family_name, "Renamed");

  ProcessResult plan = Sync({"plan", "--format", "json"});
  const testing::PlanJson json = testing::ParsePlanJson(plan.out);
  ASSERT_TRUE(json.parsed) << plan.out << plan.err;
  EXPECT_TRUE(json.operations.empty()) << plan.out;
}

INSTANTIATE_TEST_SUITE_P(Slapd, LdapDeltaIntegrationTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? std::string("WithSyncprov")
                                              : std::string("WithoutSyncprov");
                         });

}  // namespace
}  // namespace usersync
