// `usersync history USER` (issue 16 item 4) end to end, through the real `usersync` binary and
// the real `usersync-target`: after three cycles (the user is created, renamed in the
// directory, then leaves the scope group) the history shows the create, the update and the
// deactivation in order, each with the plan's reason and the changed fields, whichever
// identifier names the user.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::DirectoryUser;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;

TEST(HistoryIntegrationTest, CreateUpdateDeactivateWithReasons) {
  SyncWorld world("history");
  ASSERT_TRUE(world.StartTarget().ok());
  std::vector<DirectoryUser> users = NumberedUsers(5);
  world.WriteDirectory(users);
  world.WriteConfig();
  ASSERT_EQ(world.Usersync({"sync"}).exit_code, 0);
  users[1].sn = "Renamed";
  world.WriteDirectory(users);
  ASSERT_EQ(world.Usersync({"sync"}).exit_code, 0);
  users[1].in_scope = false;
  world.WriteDirectory(users);
  const ProcessResult third = world.Usersync({"sync"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;

  ProcessResult history = world.Usersync({"history", "user2@example.com"});
  ASSERT_EQ(history.exit_code, 0) << history.out << history.err;
  const std::string& out = history.out;
  EXPECT_TRUE(Contains(out, "History of user2@example.com (3 operation(s), oldest first):"));
  const size_t create = out.find("create");
  const size_t update = out.find("update");
  const size_t deactivate = out.find("deactivate");
  ASSERT_NE(create, std::string::npos) << out;
  ASSERT_NE(update, std::string::npos) << out;
  ASSERT_NE(deactivate, std::string::npos) << out;
  EXPECT_LT(create, update);
  EXPECT_LT(update, deactivate);
  EXPECT_TRUE(Contains(out, "why: in scope, no account; rule Staff"));
  EXPECT_TRUE(Contains(out, "changed: last_name: \"Sn2\" → \"Renamed\""));
  EXPECT_TRUE(Contains(out, "why: departed"));
  EXPECT_TRUE(Lacks(out, "user1@"));  // another user's rows stay out

  // The same history by the user's DN (as the plan wrote it, any case).
  ProcessResult by_dn = world.Usersync({"history", "UID=user2,ou=people,dc=example,dc=com"});
  ASSERT_EQ(by_dn.exit_code, 0) << by_dn.out << by_dn.err;
  EXPECT_TRUE(Contains(by_dn.out, "(3 operation(s), oldest first)"));

  // audit.jsonl carries the same reason and changes (issue 16 item 4).
  const std::string audit = world.ReadFile("logs/audit.jsonl");
  EXPECT_TRUE(
      Contains(audit, R"("reason":"linked; changed: last_name, display_name; rule Staff")"));
  EXPECT_TRUE(
      Contains(audit, R"("changes":[{"field":"last_name","before":"Sn2","after":"Renamed"},)"));

  ProcessResult nobody = world.Usersync({"history", "nobody@example.com"});
  EXPECT_EQ(nobody.exit_code, 2) << nobody.out << nobody.err;
  EXPECT_TRUE(Contains(nobody.err, "nothing in the journal of "));
}

}  // namespace
}  // namespace usersync
