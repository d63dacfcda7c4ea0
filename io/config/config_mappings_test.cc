// [[mappings]] at load (io/config/internal/mappings.h, README "Attribute mappings"): targets per
// target kind, exactly one of source / constant / expression, one mapping per target, unknown
// keys, expression errors at file:line:column, and the directory attributes the mappings read
// joining the ones the sources read.
#include "absl/strings/str_cat.h"
#include "core/expression.h"
#include "io/config/config_test_util.h"

namespace usersync::io::config_test {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kGotoTarget[] = "kind = \"goto\"\naccount_key = \"1\"\n";
constexpr char kDepartment[] =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

// A [[mappings]] table with `keys`.
std::string Mapping(const std::string& keys) { return absl::StrCat("[[mappings]]\n", keys); }

TEST(ConfigMappings, SourceConstantExpressionAndDefaultAreRead) {
  absl::StatusOr<Config> config = Parse(Cfg(
      "", "",
      Mapping(absl::StrCat("target = \"", kDepartment,
                           "\"\nsource = \"departmentNumber\"\ndefault = \"Unassigned\"\n")) +
          Mapping("target = \"userType\"\nconstant = \"Employee\"\n") +
          Mapping("target = \"displayName\"\nexpression = 'Join(\" \", [givenName], [sn])'\n")));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->mappings.size(), 3u);
  const core::AttributeMapping& department = config->mappings[0];
  EXPECT_EQ(department.target, kDepartment);
  EXPECT_EQ(department.field, core::Field::kAttribute);
  EXPECT_EQ(department.kind, core::MappingSourceKind::kSource);
  EXPECT_EQ(department.source, "departmentNumber");
  EXPECT_EQ(department.default_value, "Unassigned");
  EXPECT_EQ(config->mappings[1].constant, "Employee");
  // A built-in target: the mapping replaces the built-in display name.
  EXPECT_EQ(config->mappings[2].field, core::Field::kDisplayName);
  EXPECT_EQ(config->mappings[2].expression->text(), "Join(\" \", [givenName], [sn])");
  // departmentNumber is read by the sources now; givenName and sn are fixed columns already.
  EXPECT_THAT(config->source.schema.extra, ElementsAre("departmentNumber"));
  EXPECT_THAT(ToPlanConfig(*config).mappings, SizeIs(3));
}

TEST(ConfigMappings, GotoTargetsAreGotoFields) {
  absl::StatusOr<Config> config = Parse(
      Cfg("", kGotoTarget, Mapping("target = \"firstName\"\nexpression = 'Trim([givenName])'\n")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mappings[0].field, core::Field::kFirstName);
  EXPECT_THAT(Rejection(Cfg("", kGotoTarget, Mapping("target = \"title\"\nsource = \"title\"\n"))),
              AllOf(HasSubstr("usersync.toml:10:"), HasSubstr("\"title\" is not a target"),
                    HasSubstr("GoTo's public API shows no such user field"),
                    HasSubstr("firstName, lastName, locale")));
}

TEST(ConfigMappings, UnknownTargetIsRefusedWithTheList) {
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"tittle\"\nsource = \"title\"\n"))),
              AllOf(HasSubstr("usersync.toml:8:10: key 'mappings[0].target' = \"tittle\""),
                    HasSubstr("targets: externalId"), HasSubstr("title")));
  // The enterprise extension's attributes take their full path; the message says which.
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"department\"\nsource = \"d\"\n"))),
              HasSubstr(absl::StrCat("take their full path: \"", kDepartment, "\"")));
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"userName\"\nsource = \"uid\"\n"))),
              HasSubstr("cannot be mapped: it is the normalized email"));
}

TEST(ConfigMappings, ExactlyOneOfSourceConstantExpression) {
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"title\"\ndefault = \"x\"\n"))),
              AllOf(HasSubstr("usersync.toml:7:1:"), HasSubstr("gives none of 'source'")));
  EXPECT_THAT(
      Rejection(Cfg("", "", Mapping("target = \"title\"\nsource = \"t\"\nconstant = \"x\"\n"))),
      AllOf(HasSubstr("usersync.toml:7:1:"), HasSubstr("gives more than one")));
}

TEST(ConfigMappings, UnknownKeyMissingTargetAndBadSourceAreRefused) {
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"title\"\nsorce = \"title\"\n"))),
              AllOf(HasSubstr("usersync.toml:9:9:"), HasSubstr("sorce")));
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("source = \"title\"\n"))),
              AllOf(HasSubstr("usersync.toml:7:1:"), HasSubstr("missing required key 'target'")));
  EXPECT_THAT(Rejection(Cfg("", "", Mapping("target = \"title\"\nsource = \"job title\"\n"))),
              AllOf(HasSubstr("usersync.toml:9:10:"), HasSubstr("not a directory attribute name")));
}

TEST(ConfigMappings, TwoMappingsForOneTargetAreRefused) {
  EXPECT_THAT(
      Rejection(Cfg("", "",
                    Mapping("target = \"title\"\nsource = \"title\"\n") +
                        Mapping("target = \"title\"\nconstant = \"x\"\n"))),
      AllOf(HasSubstr("usersync.toml:11:10:"), HasSubstr("mappings[0] (line 7) maps already")));
}

// The column is the expression's error column within the line: `expression = '` is 14 bytes,
// so the expression's byte 1 is column 15 (the unknown "Jion"); byte 15 (the end) is 29.
TEST(ConfigMappings, ExpressionErrorsNameLineAndColumn) {
  EXPECT_THAT(
      Rejection(Cfg("", "", Mapping("target = \"title\"\nexpression = 'Jion(\" \", [sn])'\n"))),
      AllOf(HasSubstr("usersync.toml:9:15: key 'expression': unknown function 'Jion'"),
            HasSubstr("Join")));
  EXPECT_THAT(
      Rejection(Cfg("", "", Mapping("target = \"title\"\nexpression = 'Join(\" \", [sn]'\n"))),
      HasSubstr("usersync.toml:9:29: key 'expression': missing ')'"));
}

TEST(ConfigMappings, ExpressionAttributesAreReadBySources) {
  absl::StatusOr<Config> config =
      Parse(Cfg("[source.attributes]\nextra = [\"title\"]\n", "",
                Mapping("target = \"title\"\nexpression = 'Join(\"-\", [title], [initials])'\n")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->source.schema.extra, ElementsAre("title", "initials"));
  EXPECT_THAT(config->warnings, IsEmpty());
}

// extra attributes flow only through mappings: one no mapping reads is a warning, with its line.
TEST(ConfigMappings, AnExtraAttributeNoMappingReadsWarns) {
  absl::StatusOr<Config> config =
      Parse(Cfg("[source.attributes]\nextra = [\"title\", \"pager\"]\n", "",
                Mapping("target = \"title\"\nsource = \"title\"\n")));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_THAT(config->warnings, SizeIs(1));
  EXPECT_THAT(config->warnings[0], AllOf(HasSubstr("usersync.toml:4:"), HasSubstr("\"pager\""),
                                         HasSubstr("which no [[mappings]] entry reads")));
}

// matching.order names a mapped target attribute: the enterprise ones by their last part.
TEST(ConfigMappings, MatchingOrderTakesMappedAttributes) {
  absl::StatusOr<Config> config = Parse(Cfg(
      "", "",
      absl::StrCat("[matching]\norder = [\"link\", \"employeeNumber\", \"externalId\", "
                   "\"email\"]\n",
                   Mapping("target = \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                           "employeeNumber\"\nsource = \"employeeNumber\"\n"))));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->match_order,
              ElementsAre(core::MatchMethod::kLink, core::MatchMethod::kAttribute,
                          core::MatchMethod::kAttribute, core::MatchMethod::kEmail));
  ASSERT_EQ(config->match_attributes.size(), 2u);
  EXPECT_EQ(config->match_attributes[0].path,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
  EXPECT_EQ(config->match_attributes[1].field, core::Field::kExternalId);
  // An attribute no mapping fills has nothing to match on; an unknown name is refused.
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = [\"employeeNumber\"]\n")),
              HasSubstr("which no [[mappings]] entry fills"));
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = [\"badge\"]\n")),
              AllOf(HasSubstr("usersync.toml:8:9:"), HasSubstr("methods are \"link\"")));
}

}  // namespace
}  // namespace usersync::io::config_test
