#include "core/mapping.h"

#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestUser;
using testing::TestUser;

struct Mapped {
  Directory dir;
  RuleAssignment rules;
  MappingResult result;
};

Mapped Map(const std::vector<TestUser>& users, std::vector<std::string> domains = {"example.com"}) {
  Mapped out;
  DirectoryBuilder builder;
  for (const TestUser& user : users) AddTestUser(builder, user);
  out.dir = std::move(builder).Finish();
  out.rules = AssignRules(out.dir, {});
  out.result = MapUsers(out.dir, std::vector<uint8_t>(out.dir.user_count(), 1), out.rules,
                        MappingOptions{std::move(domains)});
  return out;
}

std::string ReasonFor(const Mapped& mapped, std::string_view name) {
  uint32_t user = *mapped.dir.FindUserByDn(testing::UserDn(name));
  for (const InvalidUser& invalid : mapped.result.invalid) {
    if (invalid.user == user) return invalid.reason;
  }
  return "";
}

TEST(Mapping, EmailIsNormalized) {
  Mapped mapped = Map({{.name = "ann", .email = "  Ann.Lee@Example.COM "}});
  ASSERT_EQ(mapped.result.desired.size(), 1u);
  EXPECT_EQ(mapped.result.desired[0].email, "ann.lee@example.com");
}

TEST(Mapping, InvalidReasons) {
  Mapped mapped = Map({{.name = "noemail", .email = ""},
                       {.name = "notaddress", .email = "not an address"},
                       {.name = "foreign", .email = "x@gmail.com"},
                       {.name = "nofirst", .first_name = ""},
                       {.name = "nolast", .last_name = ""},
                       {.name = "sub", .email = "sub@eu.example.com"}});
  EXPECT_EQ(ReasonFor(mapped, "noemail"), "no email");
  EXPECT_NE(ReasonFor(mapped, "notaddress").find("not an address"), std::string::npos);
  EXPECT_EQ(ReasonFor(mapped, "foreign"), "email outside the validated domains: x@gmail.com");
  EXPECT_EQ(ReasonFor(mapped, "nofirst"), "no first name");
  EXPECT_EQ(ReasonFor(mapped, "nolast"), "no last name");
  EXPECT_EQ(ReasonFor(mapped, "sub"), "");
  ASSERT_EQ(mapped.result.desired.size(), 1u);
}

// Two users whose emails differ only in case share one normalized email: both are invalid,
// each naming the other; a third user is unaffected.
TEST(Mapping, DuplicateEmailsMakeEveryHolderInvalid) {
  Mapped mapped = Map({{.name = "ann", .email = "Shared@example.com"},
                       {.name = "bob", .email = "shared@EXAMPLE.com"},
                       {.name = "cid"}});
  EXPECT_EQ(ReasonFor(mapped, "ann"),
            "duplicate email shared@example.com (also uid=bob,ou=people,dc=example,dc=com)");
  EXPECT_EQ(ReasonFor(mapped, "bob"),
            "duplicate email shared@example.com (also uid=ann,ou=people,dc=example,dc=com)");
  ASSERT_EQ(mapped.result.desired.size(), 1u);
  EXPECT_EQ(mapped.result.desired[0].email, "cid@example.com");
}

TEST(Mapping, NoValidatedDomainsAcceptsAnyDomain) {
  Mapped mapped = Map({{.name = "ann", .email = "ann@gmail.com"}}, {});
  EXPECT_EQ(mapped.result.desired.size(), 1u);
}

TEST(Mapping, BadLanguageIsAWarningNotABlock) {
  Mapped mapped = Map({{.name = "ann", .language = "not a language"},
                       {.name = "bob", .language = "de_DE"}});
  ASSERT_EQ(mapped.result.desired.size(), 2u);
  EXPECT_EQ(mapped.result.desired[0].language, "");
  EXPECT_EQ(mapped.result.desired[1].language, "de_DE");
  ASSERT_EQ(mapped.result.warnings.size(), 1u);
  EXPECT_NE(mapped.result.warnings[0].message.find("not a language tag"), std::string::npos);
}

TEST(Mapping, OutOfScopeUsersAreSkipped) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob", .email = ""});
  Directory dir = std::move(builder).Finish();
  RuleAssignment rules = AssignRules(dir, {});
  MappingResult result = MapUsers(dir, {1, 0}, rules, MappingOptions{});
  EXPECT_EQ(result.desired.size(), 1u);
  EXPECT_TRUE(result.invalid.empty());
}

}  // namespace
}  // namespace usersync::core
