#include "core/normalize.h"

#include <gtest/gtest.h>

namespace usersync::core {
namespace {

TEST(Normalize, EmailIsTrimmedAndLowerCased) {
  EXPECT_EQ(NormalizeEmail("  Ann.Lee@Example.COM \t"), "ann.lee@example.com");
  EXPECT_EQ(NormalizeEmail(""), "");
}

TEST(Normalize, ValidEmails) {
  EXPECT_TRUE(IsValidEmail("ann@example.com"));
  EXPECT_TRUE(IsValidEmail("ann.lee+tag@eu.example.com"));
  EXPECT_TRUE(IsValidEmail("o'brien@example.co.uk"));
}

TEST(Normalize, InvalidEmails) {
  EXPECT_FALSE(IsValidEmail("ann"));
  EXPECT_FALSE(IsValidEmail("@example.com"));
  EXPECT_FALSE(IsValidEmail("ann@"));
  EXPECT_FALSE(IsValidEmail("ann@example"));
  EXPECT_FALSE(IsValidEmail("ann@@example.com"));
  EXPECT_FALSE(IsValidEmail("ann lee@example.com"));
  EXPECT_FALSE(IsValidEmail("ann@exa mple.com"));
  EXPECT_FALSE(IsValidEmail("ann@-example.com"));
  EXPECT_FALSE(IsValidEmail("ann@example..com"));
  EXPECT_FALSE(IsValidEmail(".ann@example.com"));
  EXPECT_FALSE(IsValidEmail("a..b@example.com"));
}

TEST(Normalize, DomainWithin) {
  EXPECT_TRUE(DomainIsWithin("example.com", "example.com"));
  EXPECT_TRUE(DomainIsWithin("eu.example.com", "example.com"));
  EXPECT_TRUE(DomainIsWithin("EU.Example.com", "example.com"));
  EXPECT_FALSE(DomainIsWithin("badexample.com", "example.com"));
  EXPECT_FALSE(DomainIsWithin("example.org", "example.com"));
  EXPECT_FALSE(DomainIsWithin("com", "example.com"));
}

TEST(Normalize, DnIgnoresCaseAndSpacesAroundSeparators) {
  EXPECT_EQ(NormalizeDn(" CN=Ann Lee , OU=People,dc=Example "), "cn=ann lee,ou=people,dc=example");
  EXPECT_EQ(NormalizeDn("uid = bob ,ou=people"), "uid=bob,ou=people");
  EXPECT_EQ(NormalizeDn("cn=Lee\\, Ann,ou=x"), "cn=lee\\, ann,ou=x");
  EXPECT_EQ(NormalizeDn("cn=a+sn=b , o=x"), "cn=a+sn=b,o=x");
}

// One buffer reused across DNs of different lengths gives what NormalizeDn gives.
TEST(Normalize, DnIntoReusedBufferMatchesNormalizeDn) {
  std::string buffer = "left over from an earlier, much longer call";
  for (std::string_view dn : {" CN=Ann Lee , OU=People,dc=Example ", "uid = bob ,ou=people",
                              "cn=Lee\\, Ann,ou=x", "cn=trailing\\ ,o=x", "", "   ", "O=X"}) {
    NormalizeDnInto(dn, &buffer);
    EXPECT_EQ(buffer, NormalizeDn(dn)) << dn;
  }
  NormalizeDnInto("cn=Lee\\ , o=x", &buffer);
  EXPECT_EQ(buffer, "cn=lee\\ ,o=x");  // an escaped space before a separator is kept
}

TEST(Normalize, LanguageTags) {
  EXPECT_TRUE(IsLanguageTag("en"));
  EXPECT_TRUE(IsLanguageTag("en_US"));
  EXPECT_TRUE(IsLanguageTag("de-DE"));
  EXPECT_TRUE(IsLanguageTag("zh_Hans_CN"));
  EXPECT_FALSE(IsLanguageTag("e"));
  EXPECT_FALSE(IsLanguageTag("english language"));
  EXPECT_FALSE(IsLanguageTag("en_"));
  EXPECT_FALSE(IsLanguageTag("12"));
}

}  // namespace
}  // namespace usersync::core
