// [scope] users, filter and require_rule (io/config/internal/scope.h) and target.products
// (io/config/internal/target_products.h) at load: what is read, and each refusal with its
// file:line.
#include "absl/strings/str_cat.h"
#include "core/plan.h"
#include "io/config/config_test_util.h"

namespace usersync::io::config_test {
namespace {

using ::testing::IsEmpty;

// Cfg() with a [scope] section holding `keys` after the target. Lines: [source] 1-2, [target]
// 4-5 (+ target_extra), then [scope] on 7 and its keys from 8.
std::string WithScope(const std::string& keys, const std::string& source_extra = "") {
  return Cfg(source_extra, "", absl::StrCat("[scope]\n", keys));
}

TEST(ConfigScope, UsersFilterAndRequireRuleAreRead) {
  absl::StatusOr<Config> config =
      Parse(WithScope("groups = [\"cn=staff,dc=example,dc=com\"]\n"
                      "users = [\" uid=eve,ou=people,dc=example,dc=com \", \"7f3c-id\"]\n"
                      "filter = \"(&(departmentNumber=42)(mail=*@example.com))\"\n"
                      "require_rule = true\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->scope_users, ElementsAre("uid=eve,ou=people,dc=example,dc=com", "7f3c-id"));
  ASSERT_TRUE(config->scope_filter.has_value());
  EXPECT_EQ(config->scope_filter->text, "(&(departmentNumber=42)(mail=*@example.com))");
  EXPECT_EQ(config->scope_filter->columns.email, "mail");
  EXPECT_TRUE(config->require_rule);

  const core::PlanConfig plan = ToPlanConfig(*config);
  EXPECT_THAT(plan.scope_users, ElementsAre("uid=eve,ou=people,dc=example,dc=com", "7f3c-id"));
  EXPECT_TRUE(plan.scope_filter.has_value());
  EXPECT_TRUE(plan.require_rule);
}

TEST(ConfigScope, DefaultsKeepEveryoneInScopeWithoutRequireRule) {
  absl::StatusOr<Config> config = Parse(WithScope(""));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->scope_users, IsEmpty());
  EXPECT_FALSE(config->scope_filter.has_value());
  EXPECT_FALSE(config->require_rule);
  EXPECT_THAT(config->source.schema.extra, IsEmpty());
  // An empty filter string is no filter.
  config = Parse(WithScope("filter = \"  \"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->scope_filter.has_value());
}

// The filter is evaluated on the snapshot: attributes it names that no fixed column holds are
// read as extra attributes (each once, whatever their case), fixed columns are not repeated.
TEST(ConfigScope, FilterAttributesAreAddedToTheExtraAttributesTheSourceReads) {
  absl::StatusOr<Config> config =
      Parse(WithScope("filter = \"(|(Title=Contractor)(MAIL=x@example.com)(employeeType=*)"
                      "(departmentNumber=4))\"\n",
                      "[source.attributes]\nextra = [\"title\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->source.schema.extra,
              ElementsAre("title", "employeeType", "departmentNumber"));
}

TEST(ConfigScope, BadFilterIsRefusedWithFileAndLine) {
  EXPECT_THAT(Rejection(WithScope("require_rule = false\nfilter = \"(&(title=a)\"\n")),
              AllOf(HasSubstr("usersync.toml:9:"), HasSubstr("key 'scope.filter'"),
                    HasSubstr("is not an RFC 4515 filter"), HasSubstr("(&(title=a)")));
  // Extensible match is not evaluated on the snapshot: refused, not ignored.
  EXPECT_THAT(Rejection(WithScope("filter = \"(cn:caseExactMatch:=Ann)\"\n")),
              AllOf(HasSubstr("usersync.toml:8:"), HasSubstr("scope.filter")));
}

TEST(ConfigScope, MultiValuedAttributesInTheFilterAreRefusedWithAHint) {
  EXPECT_THAT(
      Rejection(WithScope("filter = \"(memberOf=cn=staff,dc=example,dc=com)\"\n")),
      AllOf(HasSubstr("usersync.toml:8:"), HasSubstr("names memberOf"), HasSubstr("scope.groups")));
  EXPECT_THAT(Rejection(WithScope("filter = \"(&(objectclass=person)(title=a))\"\n")),
              AllOf(HasSubstr("names objectclass"), HasSubstr("source.user_filter")));
}

TEST(ConfigScope, EmptyUserAndWrongTypesAreRefused) {
  EXPECT_THAT(Rejection(WithScope("users = [\"id-1\", \" \"]\n")),
              AllOf(HasSubstr("usersync.toml:8:"), HasSubstr("key 'scope.users' holds an empty")));
  EXPECT_THAT(Rejection(WithScope("require_rule = \"yes\"\n")),
              AllOf(HasSubstr("usersync.toml:8:"), HasSubstr("scope.require_rule")));
  EXPECT_THAT(Rejection(WithScope("user = [\"id-1\"]\n")), HasSubstr("did you mean 'users'?"));
}

// Lines: [source] 1-2, [target] 4-6 (products on 6), then the rule from 7 (its products on 10).
std::string WithProducts(const std::string& products, const std::string& rule_products,
                         const std::string& kind = "") {
  return Cfg("", absl::StrCat(kind, "products = [", products, "]"),
             absl::StrCat("[[rules]]\nname = \"Organizers\"\ngroup = \"cn=org\"\nproducts = [",
                          rule_products, "]\n"));
}

TEST(ConfigTargetProducts, RuleProductsInTheListLoad) {
  absl::StatusOr<Config> config =
      Parse(WithProducts("\"G2M\", \"G2W\", \"G2T\", \"OPENVOICE\", \"G2M\"", "\"G2W\", \"G2M\""));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->target.products, ElementsAre("G2M", "G2W", "G2T", "OPENVOICE"));
}

// Without the list a SCIM target accepts any product, as before target.products existed.
TEST(ConfigTargetProducts, WithoutTheListAnyProductLoads) {
  absl::StatusOr<Config> config =
      Parse(Cfg("", "", "[[rules]]\nname = \"A\"\ngroup = \"cn=a\"\nproducts = [\"GTM\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->target.products, IsEmpty());
}

TEST(ConfigTargetProducts, AProductTypoIsRefusedNamingTheRuleTheProductAndTheList) {
  const std::string message =
      Rejection(WithProducts("\"G2M\", \"G2W\", \"G2T\", \"OPENVOICE\"", "\"G2W\", \"GTM\""));
  EXPECT_THAT(message, AllOf(HasSubstr("usersync.toml:10:20:"), HasSubstr("rules[0] 'Organizers'"),
                             HasSubstr("names product \"GTM\""),
                             HasSubstr("not in target.products (G2M, G2W, G2T, OPENVOICE)")));
  // A difference of case only: exact names, with a hint.
  EXPECT_THAT(Rejection(WithProducts("\"G2M\"", "\"g2m\"")), HasSubstr("did you mean \"G2M\"?"));
}

TEST(ConfigTargetProducts, AnEmptyListAndAGotoTargetAreRefused) {
  EXPECT_THAT(Rejection(WithProducts("", "\"G2M\"")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("key 'target.products' is empty"),
                    HasSubstr("leave the key out")));
  EXPECT_THAT(
      Rejection(WithProducts("\"G2M\"", "\"G2M\"", "kind = \"goto\"\naccount_key = \"1\"\n")),
      AllOf(HasSubstr("key 'target.products' applies to a SCIM target only"),
            HasSubstr("/licenses")));
}

}  // namespace
}  // namespace usersync::io::config_test
