#include "core/match.h"

#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestUser;
using testing::SyncedAccount;

class MatchTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::string>& users) {
    DirectoryBuilder builder;
    for (const std::string& name : users) AddTestUser(builder, {.name = name});
    dir_ = std::move(builder).Finish();
    rules_ = AssignRules(dir_, {});
    mapping_ = MapUsers(dir_, std::vector<uint8_t>(dir_.user_count(), 1), rules_, {});
  }
  MatchResult Match(std::vector<Link> links = {}, std::vector<Link> manual = {},
                    std::vector<MatchMethod> order = {MatchMethod::kLink, MatchMethod::kManual,
                                                      MatchMethod::kEmail}) {
    return MatchAccounts(dir_, mapping_, accounts_, links, manual, order);
  }
  Directory dir_;
  RuleAssignment rules_;
  MappingResult mapping_;
  Accounts accounts_;
};

TEST_F(MatchTest, EmailMatchIsCaseInsensitive) {
  Build({"ann"});
  Account account = SyncedAccount(accounts_, "ann", "acc-1");
  account.email = accounts_.Store("  ANN@Example.com");
  account.external_id = {};
  accounts_.items.push_back(account);
  MatchResult result = Match();
  EXPECT_EQ(result.account_of_desired[0], 0);
  EXPECT_EQ(result.method[0], MatchMethod::kEmail);
}

// The stored link wins over an email match to another account.
TEST_F(MatchTest, LinkBeatsEmail) {
  Build({"ann"});
  Account by_email = SyncedAccount(accounts_, "ann", "acc-email");
  by_email.external_id = {};
  Account linked = SyncedAccount(accounts_, "other", "acc-linked");
  accounts_.items = {by_email, linked};
  MatchResult result = Match({Link{"id-ann", "acc-linked", true}});
  EXPECT_EQ(result.account_of_desired[0], 1);
  EXPECT_EQ(result.method[0], MatchMethod::kLink);
  EXPECT_EQ(result.desired_of_account[0], -1);
}

TEST_F(MatchTest, ManualBeatsEmail) {
  Build({"ann"});
  Account by_email = SyncedAccount(accounts_, "ann", "acc-email");
  by_email.external_id = {};
  Account chosen = SyncedAccount(accounts_, "legacy", "acc-manual");
  chosen.external_id = {};
  accounts_.items = {by_email, chosen};
  MatchResult result = Match({}, {Link{"id-ann", "acc-manual", true}});
  EXPECT_EQ(result.account_of_desired[0], 1);
  EXPECT_EQ(result.method[0], MatchMethod::kManual);
}

TEST_F(MatchTest, OrderCanDisableMethods) {
  Build({"ann"});
  Account by_email = SyncedAccount(accounts_, "ann", "acc-email");
  by_email.external_id = {};
  accounts_.items = {by_email};
  MatchResult result = Match({}, {}, {MatchMethod::kLink});
  EXPECT_EQ(result.account_of_desired[0], -1);
}

TEST_F(MatchTest, ExternalIdCountsAsLinkWhenNoStoredLink) {
  Build({"ann"});
  Account account = SyncedAccount(accounts_, "ann-old-address", "acc-1");
  account.external_id = accounts_.Store("id-ann");
  accounts_.items = {account};
  MatchResult result = Match();
  EXPECT_EQ(result.account_of_desired[0], 0);
  EXPECT_EQ(result.method[0], MatchMethod::kLink);
}

TEST_F(MatchTest, DanglingLinkIsAConflictNotAGuess) {
  Build({"ann"});
  Account account = SyncedAccount(accounts_, "ann", "acc-new");
  account.external_id = {};
  accounts_.items = {account};
  MatchResult result = Match({Link{"id-ann", "acc-gone", true}});
  EXPECT_EQ(result.account_of_desired[0], -1);
  EXPECT_NE(result.conflict[0].find("acc-gone no longer exists"), std::string::npos);
  ASSERT_EQ(result.dangling_links.size(), 1u);
}

TEST_F(MatchTest, AccountClaimedTwiceIsAConflict) {
  Build({"ann", "bob"});
  Account account = SyncedAccount(accounts_, "bob", "acc-1");
  account.external_id = {};
  accounts_.items = {account};
  // ann is linked to the account; bob's email matches it too.
  MatchResult result = Match({Link{"id-ann", "acc-1", true}});
  EXPECT_EQ(result.account_of_desired[0], 0);
  EXPECT_EQ(result.account_of_desired[1], -1);
  EXPECT_NE(result.conflict[1].find("linked to directory id id-ann"), std::string::npos);
}

TEST_F(MatchTest, EmailMatchRefusesAccountOwnedByAnotherDirectoryUser) {
  Build({"ann", "bob"});
  Account account = SyncedAccount(accounts_, "ann", "acc-1");
  account.external_id = accounts_.Store("id-bob");  // bob's account, now with ann's email
  accounts_.items = {account};
  MatchResult result = Match();
  EXPECT_EQ(result.account_of_desired[1], 0);  // bob, by externalId
  EXPECT_EQ(result.account_of_desired[0], -1);
  EXPECT_FALSE(result.conflict[0].empty());
}

}  // namespace
}  // namespace usersync::core
