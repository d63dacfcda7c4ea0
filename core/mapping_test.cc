#include "core/mapping.h"

#include <gtest/gtest.h>

#include "core/attribute_mapping.h"
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

// A value the target could not take as it is makes its user invalid, naming the attribute;
// nothing is replaced by U+FFFD, and a long value is named, not printed.
TEST(Mapping, ValuesMustBeUtf8AndBounded) {
  const std::string huge_name(kMaxValueBytes + 1, 'x');
  const std::string long_email = std::string(250, 'a') + "@example.com";
  const std::string long_local = std::string(65, 'a') + "@example.com";
  Mapped mapped = Map({{.name = "badfirst", .first_name = "Ren\xC3"},
                       {.name = "badlast", .last_name = "M\xFCller"},
                       {.name = "good", .first_name = "Ren\xC3\xA9"},
                       {.name = "huge", .last_name = huge_name},
                       {.name = "longemail", .email = long_email},
                       {.name = "longlocal", .email = long_local}});
  EXPECT_EQ(ReasonFor(mapped, "badfirst"), "first name is not valid UTF-8 (byte 0xC3 at offset 3)");
  EXPECT_EQ(ReasonFor(mapped, "badlast"), "last name is not valid UTF-8 (byte 0xFC at offset 1)");
  EXPECT_EQ(ReasonFor(mapped, "good"), "");
  EXPECT_EQ(ReasonFor(mapped, "huge"), "last name is 65537 bytes, over the limit of 65536");
  EXPECT_EQ(ReasonFor(mapped, "longemail"),
            "email is 262 octets, over the 254 of an address (RFC 5321)");
  EXPECT_EQ(ReasonFor(mapped, "longlocal"),
            "email's local part is 65 octets, over the 64 of an address (RFC 5321)");
  ASSERT_EQ(mapped.result.desired.size(), 1u);
}

// The messages name the source's attributes when the source gave them.
TEST(Mapping, InvalidValueNamesTheSourceAttribute) {
  DirectoryBuilder builder({"department"});
  ColumnNames names;
  names.first_name = "givenName";
  builder.SetColumnNames(names);
  UserRecord record;
  record.dn = "uid=a,o=x";
  record.id = "a";
  record.email = "a@example.com";
  record.first_name = "Ren\xC3";
  record.last_name = "L";
  record.extra = {""};
  builder.AddUser(record);
  record.dn = "uid=b,o=x";
  record.id = "b";
  record.email = "b@example.com";
  record.first_name = "B";
  record.extra = {"Sales\xFF"};
  builder.AddUser(record);
  const Directory dir = std::move(builder).Finish();
  // Unmapped, an extra attribute reaches nothing: its value does not make the user invalid.
  MappingResult result =
      MapUsers(dir, std::vector<uint8_t>(2, 1), AssignRules(dir, {}), MappingOptions{});
  ASSERT_EQ(result.invalid.size(), 1u);
  EXPECT_EQ(result.invalid[0].reason, "givenName is not valid UTF-8 (byte 0xC3 at offset 3)");
  // Mapped, it does, naming the target attribute it would have filled.
  AttributeMapping title;
  title.target = "title";
  title.source = "department";
  const std::vector<AttributeMapping> mappings = {title};
  const ResolvedMappings resolved(dir, mappings);
  result = MapUsers(dir, std::vector<uint8_t>(2, 1), AssignRules(dir, {}),
                    MappingOptions{{}, &resolved});
  ASSERT_EQ(result.invalid.size(), 2u);
  EXPECT_EQ(result.invalid[1].reason, "title is not valid UTF-8 (byte 0xFF at offset 5)");
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
  Mapped mapped =
      Map({{.name = "ann", .language = "not a language"}, {.name = "bob", .language = "de_DE"}});
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
