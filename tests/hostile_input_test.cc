// Directory values from a hostile or careless directory, end to end (issue 12, item 8): the real
// `usersync` against the real `usersync-target`, each case asserting what reached the target.
//   - a value that is not UTF-8 makes its user invalid, with the attribute named; never sent with
//     U+FFFD in its place;
//   - an email over 254 octets (RFC 5321's path limit), here a 1 MB one, makes its user invalid;
//   - member DNs compare by RFC 4514: "\2C" and "\," are the same comma.
// The other users of the same run are created: one bad entry does not stop the rest.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/support/plan_json.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::NumberedUsers;
using testing::ParsePlanJson;
using testing::PlanJson;
using testing::ProcessResult;
using testing::ScimAccount;
using testing::StaffDirectory;
using testing::SyncWorld;

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteConfig();
  }

  // The directory of user1..user3 with `from` replaced by `to` in its LDIF.
  void WriteDirectoryWith(const std::string& from, const std::string& to) {
    const std::string ldif = StaffDirectory(NumberedUsers(3)).Ldif();
    ASSERT_NE(ldif.find(from), std::string::npos) << from;
    world_.WriteLdif(absl::StrReplaceAll(ldif, {{from, to}}));
  }

  PlanJson Plan() {
    ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    return ParsePlanJson(plan.out);
  }

  // The invalid entry for `directory_id` in `plan`, or "" when the user is not invalid.
  static std::string InvalidReason(const PlanJson& plan, const std::string& directory_id) {
    for (const testing::InvalidUser& user : plan.invalid) {
      if (user.directory_id == directory_id) return user.reason;
    }
    return "";
  }

  // Syncs, then expects user1 and user3 created and user2 (the bad one) not sent.
  void ExpectOnlyUser2Refused() {
    ProcessResult sync = world_.Usersync({"sync"});
    EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
    std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
    EXPECT_TRUE(accounts.contains("user1@example.com"));
    EXPECT_TRUE(accounts.contains("user3@example.com"));
    EXPECT_EQ(accounts.size(), 2u);
    EXPECT_EQ(world_.Stats().creates, 2);
  }

  SyncWorld world_{"hostile-input"};
};

// givenName:: base64 of "Fir" 0xC3 (a lead byte with nothing after it).
TEST_F(HostileInputTest, InvalidUtf8MakesTheUserInvalidWithTheAttributeNamed) {
  WriteDirectoryWith("givenName: First\nsn: Sn2\n", "givenName:: Rmlyww==\nsn: Sn2\n");
  const std::string reason = InvalidReason(Plan(), "uuid-user2");
  EXPECT_TRUE(Contains(reason, "givenName"));
  EXPECT_TRUE(Contains(reason, "UTF-8"));
  ExpectOnlyUser2Refused();
}

// An email of 255 octets: over RFC 5321's 254, invalid, never sent.
TEST_F(HostileInputTest, EmailOver254OctetsMakesTheUserInvalid) {
  const std::string long_email = std::string(60, 'a') + "@" + std::string(182, 'b') + ".Example.com";
  ASSERT_EQ(long_email.size(), 255u);
  WriteDirectoryWith("mail: user2@Example.com\n", "mail: " + long_email + "\n");
  EXPECT_TRUE(Contains(InvalidReason(Plan(), "uuid-user2"), "254"));
  ExpectOnlyUser2Refused();
}

// A 1 MB email: invalid by its size; the reason does not quote it whole, nothing of it is sent.
TEST_F(HostileInputTest, OneMegabyteEmailMakesTheUserInvalid) {
  const std::string huge = std::string(1 << 20, 'a') + "@Example.com";
  WriteDirectoryWith("mail: user2@Example.com\n", "mail: " + huge + "\n");
  const std::string reason = InvalidReason(Plan(), "uuid-user2");
  EXPECT_TRUE(Contains(reason, "mail"));
  EXPECT_LT(reason.size(), 1000u) << "the reason quotes the whole value";
  ExpectOnlyUser2Refused();
}

// The member is written "uid=a\2Cb", the entry's DN "uid=a\,b": RFC 4514 says they are the same
// DN, so the user is in scope and created.
TEST_F(HostileInputTest, MemberDnHexEscapeEqualsBackslashEscape) {
  std::string ldif = StaffDirectory(NumberedUsers(1)).Ldif();
  absl::StrAppend(&ldif,
                  "member: uid=a\\2Cb,ou=people,dc=example,dc=com\n\n"
                  "dn: uid=a\\,b,ou=people,dc=example,dc=com\n"
                  "objectClass: inetOrgPerson\nuid: a,b\nentryUUID: uuid-ab\n"
                  "cn: A B\ngivenName: A\nsn: B\nmail: ab@Example.com\n");
  world_.WriteLdif(ldif);
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_TRUE(accounts.contains("ab@example.com")) << sync.out;
  EXPECT_TRUE(accounts.contains("user1@example.com"));
}

}  // namespace
}  // namespace usersync
