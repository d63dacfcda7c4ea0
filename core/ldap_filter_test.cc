#include "core/ldap_filter.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::core {
namespace {

using ::testing::HasSubstr;

// A test entry: attributes in insertion order, looked up case-insensitively.
class TestEntry final : public EntryView {
 public:
  TestEntry& Add(std::string name, std::vector<std::string> values) {
    attrs_.push_back({std::move(name), std::move(values), {}});
    for (Attr& attr : attrs_) {
      attr.views.assign(attr.values.begin(), attr.values.end());
    }
    return *this;
  }
  std::string_view Dn() const override { return "uid=test,dc=example,dc=com"; }
  std::span<const std::string_view> Values(std::string_view name) const override {
    for (const Attr& attr : attrs_) {
      if (EqualsIgnoreCase(attr.name, name)) return attr.views;
    }
    return {};
  }

 private:
  struct Attr {
    std::string name;
    std::vector<std::string> values;
    std::vector<std::string_view> views;
  };
  std::vector<Attr> attrs_;
};

LdapFilter MustParse(std::string_view text) {
  absl::StatusOr<LdapFilter> filter = ParseLdapFilter(text);
  EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
  return filter.ok() ? *std::move(filter) : LdapFilter{};
}

bool Match(std::string_view text, const EntryView& entry) {
  return Matches(MustParse(text), entry);
}

std::string ParseError(std::string_view text) {
  absl::StatusOr<LdapFilter> filter = ParseLdapFilter(text);
  EXPECT_FALSE(filter.ok()) << text << " parsed as "
                            << (filter.ok() ? FormatLdapFilter(*filter) : "");
  if (filter.ok()) return "";
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(filter.status().message());
}

TEST(LdapFilterParse, Equality) {
  LdapFilter filter = MustParse("(objectClass=inetOrgPerson)");
  EXPECT_EQ(filter.kind, LdapFilter::Kind::kEquality);
  EXPECT_EQ(filter.attribute, "objectClass");
  EXPECT_EQ(filter.value, "inetOrgPerson");
}

TEST(LdapFilterParse, NestedAndOrNot) {
  LdapFilter filter = MustParse("(&(objectClass=person)(|(mail=*@example.com)(uid=a*))(!(cn=x)))");
  ASSERT_EQ(filter.kind, LdapFilter::Kind::kAnd);
  ASSERT_EQ(filter.children.size(), 3u);
  EXPECT_EQ(filter.children[0].kind, LdapFilter::Kind::kEquality);
  ASSERT_EQ(filter.children[1].kind, LdapFilter::Kind::kOr);
  ASSERT_EQ(filter.children[1].children.size(), 2u);
  EXPECT_EQ(filter.children[1].children[0].kind, LdapFilter::Kind::kSubstrings);
  EXPECT_EQ(filter.children[1].children[0].initial, "");
  EXPECT_EQ(filter.children[1].children[0].final_part, "@example.com");
  EXPECT_EQ(filter.children[1].children[1].initial, "a");
  EXPECT_EQ(filter.children[1].children[1].final_part, "");
  ASSERT_EQ(filter.children[2].kind, LdapFilter::Kind::kNot);
  ASSERT_EQ(filter.children[2].children.size(), 1u);
  EXPECT_EQ(filter.children[2].children[0].value, "x");
}

TEST(LdapFilterParse, AllItemKinds) {
  EXPECT_EQ(MustParse("(cn=*)").kind, LdapFilter::Kind::kPresent);
  EXPECT_EQ(MustParse("(uidNumber>=1000)").kind, LdapFilter::Kind::kGreaterOrEqual);
  EXPECT_EQ(MustParse("(uidNumber<=1000)").kind, LdapFilter::Kind::kLessOrEqual);
  EXPECT_EQ(MustParse("(cn~=ann)").kind, LdapFilter::Kind::kApprox);
  LdapFilter sub = MustParse("(cn=a*b**c*d)");
  ASSERT_EQ(sub.kind, LdapFilter::Kind::kSubstrings);
  EXPECT_EQ(sub.initial, "a");
  EXPECT_EQ(sub.any, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(sub.final_part, "d");
  EXPECT_EQ(MustParse("(cn=)").value, "");  // an empty assertion value is legal
}

TEST(LdapFilterParse, EscapesAndOptions) {
  LdapFilter filter = MustParse(R"((cn=a\2a\28b\29\5cc\00\c3\A9))");
  EXPECT_EQ(filter.kind, LdapFilter::Kind::kEquality);
  EXPECT_EQ(filter.value, std::string("a*(b)\\c\0\xc3\xa9", 10));
  LdapFilter with_option = MustParse("(cn;lang-en=Ann)");
  EXPECT_EQ(with_option.attribute, "cn");
  EXPECT_EQ(with_option.options, ";lang-en");
  LdapFilter oid = MustParse("(2.5.4.3=Ann)");
  EXPECT_EQ(oid.attribute, "2.5.4.3");
}

TEST(LdapFilterParse, AbsoluteTrueFalseBareItemAndSpaces) {
  EXPECT_EQ(MustParse("(&)").kind, LdapFilter::Kind::kAnd);
  EXPECT_TRUE(MustParse("(|)").children.empty());
  LdapFilter bare = MustParse("  objectClass=person ");
  EXPECT_EQ(bare.kind, LdapFilter::Kind::kEquality);
  EXPECT_EQ(bare.value, "person");
  LdapFilter spaced = MustParse(" (& (a=1) (b=2) ) ");
  EXPECT_EQ(spaced.children.size(), 2u);
}

TEST(LdapFilterParse, ErrorsNamePosition) {
  EXPECT_THAT(ParseError("(&(a=b)"), HasSubstr("position 8: expected ')'"));
  EXPECT_THAT(ParseError("(a=b"), HasSubstr("position 5: expected ')'"));
  EXPECT_THAT(ParseError(""), HasSubstr("empty filter"));
  EXPECT_THAT(ParseError("   "), HasSubstr("empty filter"));
  EXPECT_THAT(ParseError("(=b)"), HasSubstr("position 2: expected an attribute name"));
  EXPECT_THAT(ParseError("(a!b)"), HasSubstr("position 3: expected '='"));
  EXPECT_THAT(ParseError("(a=\\4)"), HasSubstr("position 4: '\\' must be followed by two hex"));
  EXPECT_THAT(ParseError("(a=\\zz)"), HasSubstr("position 4:"));
  EXPECT_THAT(ParseError("(a=b(c)"), HasSubstr("position 5: unescaped '('"));
  EXPECT_THAT(ParseError("(a>=b*)"), HasSubstr("position 6: '*' is only allowed with '='"));
  EXPECT_THAT(ParseError("(cn:dn:=x)"), HasSubstr("position 4: extensible match"));
  EXPECT_THAT(ParseError("(a=b))"), HasSubstr("position 6: unexpected characters"));
  EXPECT_THAT(ParseError("(!(a=b)(c=d))"), HasSubstr("position 8: '!' takes exactly one"));
  EXPECT_THAT(ParseError("("), HasSubstr("position 2: expected a filter component"));
  EXPECT_THAT(ParseError("(&(a=b)x)"), HasSubstr("position 8: expected ')'"));
  EXPECT_THAT(ParseError("a=b)"), HasSubstr("position 4: unexpected ')'"));
  EXPECT_THAT(ParseError("(cn;=x)"), HasSubstr("empty attribute option"));
  EXPECT_THAT(ParseError(std::string_view("(a=\0b)", 6)), HasSubstr("position 4: NUL byte"));
}

TEST(LdapFilterParse, ErrorQuotesFilter) {
  EXPECT_EQ(ParseError("(a=b"), "invalid LDAP filter \"(a=b\": position 5: expected ')'");
}

TEST(LdapFilterParse, DeepNestingIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "(!";
  std::string message = ParseError(deep);
  EXPECT_THAT(message, HasSubstr("position 129: filter nested too deeply"));
  EXPECT_LT(message.size(), 400u);  // the quoted filter is shortened
  std::string ok;
  for (int i = 0; i < 30; ++i) ok += "(!";
  ok += "(a=b)";
  for (int i = 0; i < 30; ++i) ok += ")";
  EXPECT_TRUE(ParseLdapFilter(ok).ok());
}

TEST(LdapFilterParse, FormatRoundTrips) {
  for (std::string_view text :
       {"(&(objectClass=person)(|(mail=*@example.com)(uid=a*b*c))(!(cn=x\\2a)))", "(cn=*)",
        "(uidNumber>=10)", "(a<=b)", "(a~=b)", "(&)", "(|)", "(cn=\\28x\\29\\5c\\00)",
        "(cn;lang-en;x-y=Ann)", "(userCertificate;binary=*)"}) {
    EXPECT_EQ(FormatLdapFilter(MustParse(text)), text);
  }
}

TEST(LdapFilterMatch, EqualityIsCaseInsensitiveOnNamesAndValues) {
  TestEntry entry;
  entry.Add("objectClass", {"top", "person", "inetOrgPerson"}).Add("mail", {"Ann.Lee@Example.COM"});
  EXPECT_TRUE(Match("(objectclass=INETORGPERSON)", entry));
  EXPECT_TRUE(Match("(OBJECTCLASS=top)", entry));
  EXPECT_TRUE(Match("(mail=ann.lee@example.com)", entry));
  EXPECT_FALSE(Match("(objectClass=groupOfNames)", entry));
  EXPECT_FALSE(Match("(mail=ann.lee@example.co)", entry));
  EXPECT_TRUE(Match("(mail~=ANN.LEE@example.com)", entry));
  EXPECT_TRUE(Match("(mail=  ann.lee@example.com )", entry));  // surrounding spaces
}

TEST(LdapFilterMatch, MultiValuedAndAbsent) {
  TestEntry entry;
  entry.Add("member", {"uid=a,dc=x", "uid=b,dc=x"});
  EXPECT_TRUE(Match("(member=uid=b,dc=x)", entry));
  EXPECT_TRUE(Match("(member=*)", entry));
  EXPECT_FALSE(Match("(cn=*)", entry));
  EXPECT_FALSE(Match("(cn=x)", entry));
  EXPECT_TRUE(Match("(!(cn=x))", entry));
  EXPECT_FALSE(Match("(cn>=a)", entry));
  EXPECT_FALSE(Match("(cn=a*)", entry));
}

TEST(LdapFilterMatch, Substrings) {
  TestEntry entry;
  entry.Add("cn", {"Ann Marie Lee"});
  EXPECT_TRUE(Match("(cn=ann*)", entry));
  EXPECT_TRUE(Match("(cn=*LEE)", entry));
  EXPECT_TRUE(Match("(cn=*marie*)", entry));
  EXPECT_TRUE(Match("(cn=a*m*e*l*e)", entry));
  EXPECT_TRUE(Match("(cn=Ann Marie Lee*)", entry));
  EXPECT_FALSE(Match("(cn=Lee*)", entry));
  EXPECT_FALSE(Match("(cn=*Ann)", entry));
  EXPECT_FALSE(Match("(cn=*lee*marie*)", entry));  // order matters
  // "any" pieces may not overlap the initial or final piece.
  TestEntry short_entry;
  short_entry.Add("cn", {"abc"});
  EXPECT_FALSE(Match("(cn=ab*bc)", short_entry));
  EXPECT_FALSE(Match("(cn=a*c*c)", short_entry));
  EXPECT_TRUE(Match("(cn=a*b*c)", short_entry));
  EXPECT_TRUE(Match("(cn=abc*)", short_entry));
}

TEST(LdapFilterMatch, AndOrNot) {
  TestEntry entry;
  entry.Add("objectClass", {"inetOrgPerson"}).Add("uid", {"ann"});
  EXPECT_TRUE(Match("(&(objectClass=inetOrgPerson)(uid=ann))", entry));
  EXPECT_FALSE(Match("(&(objectClass=inetOrgPerson)(uid=bob))", entry));
  EXPECT_TRUE(Match("(|(uid=bob)(uid=ann))", entry));
  EXPECT_FALSE(Match("(|(uid=bob)(uid=cid))", entry));
  EXPECT_TRUE(Match("(&(objectClass=inetOrgPerson)(!(uid=bob)))", entry));
  EXPECT_FALSE(Match("(!(&(objectClass=inetOrgPerson)(uid=ann)))", entry));
  EXPECT_TRUE(Match("(&)", entry));
  EXPECT_FALSE(Match("(|)", entry));
}

TEST(LdapFilterMatch, OrderingIsNumericForIntegers) {
  TestEntry entry;
  entry.Add("uidNumber", {"1000"}).Add("sn", {"Miller"});
  EXPECT_TRUE(Match("(uidNumber>=999)", entry));  // "1000" < "999" as text
  EXPECT_FALSE(Match("(uidNumber<=999)", entry));
  EXPECT_TRUE(Match("(uidNumber<=1000)", entry));
  EXPECT_TRUE(Match("(uidNumber>=1000)", entry));
  EXPECT_TRUE(Match("(sn>=m)", entry));
  EXPECT_TRUE(Match("(sn<=MZ)", entry));
  EXPECT_FALSE(Match("(sn>=n)", entry));
}

TEST(LdapFilterMatch, EscapedValuesMatchLiterally) {
  TestEntry entry;
  entry.Add("cn", {"a*(b)"});
  EXPECT_TRUE(Match("(cn=a\\2a\\28b\\29)", entry));
  EXPECT_TRUE(Match("(cn=a\\2a*)", entry));
  EXPECT_FALSE(Match("(cn=ab*)", entry));
}

TEST(LdapFilterEscape, SpecialCharacters) {
  EXPECT_EQ(EscapeFilterValue("plain value"), "plain value");
  EXPECT_EQ(EscapeFilterValue("a*(b)"), "a\\2a\\28b\\29");
  EXPECT_EQ(EscapeFilterValue("back\\slash"), "back\\5cslash");
  EXPECT_EQ(EscapeFilterValue(std::string_view("nul\0", 4)), "nul\\00");
  EXPECT_EQ(EscapeFilterValue("Zo\xc3\xab"), "Zo\xc3\xab");  // UTF-8 is kept
  EXPECT_EQ(EscapeFilterValue(""), "");
}

TEST(LdapFilterEscape, EscapedValueParsesBackToItself) {
  const std::string nasty("*)(uid=*)(|(a=\\\0\xff", 17);
  LdapFilter filter = MustParse("(cn=" + EscapeFilterValue(nasty) + ")");
  EXPECT_EQ(filter.kind, LdapFilter::Kind::kEquality);
  EXPECT_EQ(filter.value, nasty);
}

}  // namespace
}  // namespace usersync::core
