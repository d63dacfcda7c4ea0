#include "io/commands/match_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

class MatchValidatorTest : public ::testing::Test {
 protected:
  MatchValidatorTest() {
    core::DirectoryBuilder builder;
    for (const char* id : {"id-1", "id-2", "id-3", "id-4"}) {
      const std::string dn = std::string("uid=") + id + ",dc=example,dc=com";
      const std::string email = std::string(id) + "@example.com";
      core::UserRecord user;
      user.dn = dn;
      user.id = id;
      user.email = email;
      builder.AddUser(user);
    }
    directory_ = std::move(builder).Finish();
    for (const char* id : {"acc-1", "acc-2", "acc-3", "acc-4", "acc-5"}) {
      core::Account account;
      account.id = accounts_.Store(id);
      accounts_.items.push_back(account);
    }
    links_.push_back({"id-1", "acc-1", "created"});
    manual_.push_back({"id-2", "acc-2"});
    core::UserRow row;
    row.category = core::Category::kMatched;
    row.directory_id = "id-3";
    row.account_id = "acc-3";
    row.reason = "email";
    plan_.rows.push_back(row);
  }

  MatchValidator Validator() {
    return MatchValidator(directory_, accounts_, links_, manual_, plan_);
  }

  core::Directory directory_;
  core::Accounts accounts_;
  std::vector<LinkRow> links_;
  std::vector<ManualMatch> manual_;
  core::Plan plan_;
};

TEST_F(MatchValidatorTest, AcceptsAFreePairAndWhatIsAlreadySo) {
  MatchValidator validator = Validator();
  EXPECT_EQ(validator.Check({"id-4", "acc-4", 2}), "");
  EXPECT_EQ(validator.Check({"id-1", "acc-1", 3}), "");  // the stored link itself
  EXPECT_EQ(validator.Account("acc-5")->id, "acc-5");
  EXPECT_EQ(validator.Account("acc-9"), nullptr);
}

TEST_F(MatchValidatorTest, RefusesUnknownIds) {
  MatchValidator validator = Validator();
  EXPECT_THAT(validator.Check({"id-9", "acc-4", 2}), HasSubstr("no directory user has id 'id-9'"));
  EXPECT_THAT(validator.Check({"id-4", "acc-9", 2}), HasSubstr("the target has no account"));
}

TEST_F(MatchValidatorTest, RefusesWhatContradictsLinksMatchesAndThePlan) {
  EXPECT_THAT(Validator().Check({"id-1", "acc-5", 2}),
              HasSubstr("already linked to account 'acc-1'"));
  EXPECT_THAT(Validator().Check({"id-4", "acc-1", 2}),
              HasSubstr("already linked to directory id 'id-1'"));
  EXPECT_THAT(Validator().Check({"id-2", "acc-5", 2}),
              HasSubstr("already matched to account 'acc-2'"));
  EXPECT_THAT(Validator().Check({"id-4", "acc-2", 2}),
              HasSubstr("already matched to directory id 'id-2'"));
  EXPECT_THAT(Validator().Check({"id-4", "acc-3", 2}),
              HasSubstr("already claimed by directory user 'id-3' (matched: email)"));
  EXPECT_THAT(Validator().Check({"id-3", "acc-5", 2}),
              HasSubstr("already matches account 'acc-3'"));
}

// A CSV import may not name one directory id or one account twice.
TEST_F(MatchValidatorTest, RefusesAnIdNamedTwice) {
  MatchValidator validator = Validator();
  EXPECT_EQ(validator.Check({"id-4", "acc-4", 2}), "");
  EXPECT_THAT(validator.Check({"id-4", "acc-5", 3}),
              HasSubstr("directory id 'id-4' is matched on line 2 already"));
  EXPECT_THAT(validator.Check({"id-1", "acc-4", 4}),
              HasSubstr("account 'acc-4' is matched on line 2 already"));
}

}  // namespace
}  // namespace usersync::io
