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
  EXPECT_EQ(buffer, "cn=lee\\ ,o=x");  // an escaped space before a separator stays escaped
}

// RFC 4514: a character may be written as itself, as "\c" or as a hex pair in either case;
// all of them name the same entry.
TEST(Normalize, DnEscapesHaveOneForm) {
  const std::string canonical = NormalizeDn("cn=a\\,b,dc=x");
  EXPECT_EQ(canonical, "cn=a\\,b,dc=x");
  EXPECT_EQ(NormalizeDn("cn=a\\2Cb,dc=x"), canonical);
  EXPECT_EQ(NormalizeDn("cn=a\\2cb,dc=x"), canonical);
  EXPECT_EQ(NormalizeDn("CN = A\\2Cb , DC=X"), canonical);
  EXPECT_EQ(NormalizeDn("cn=\\41nn,dc=x"), "cn=ann,dc=x");
  EXPECT_EQ(NormalizeDn("cn=\\41nn,dc=x"), NormalizeDn("cn=Ann,dc=x"));
  EXPECT_EQ(NormalizeDn("cn=a\\ b"), NormalizeDn("cn=a b"));
  EXPECT_EQ(NormalizeDn("cn=a\\3Db"), NormalizeDn("cn=a=b"));
  EXPECT_EQ(NormalizeDn("cn=a\\2Bb"), NormalizeDn("cn=a\\+b"));
  EXPECT_EQ(NormalizeDn("cn=a\\5Cb"), NormalizeDn("cn=a\\\\b"));
  EXPECT_EQ(NormalizeDn("cn=\\22q\\22"), NormalizeDn("cn=\\\"q\\\""));
  EXPECT_EQ(NormalizeDn("cn=Ren\\C3\\A9"), NormalizeDn("cn=Ren\xC3\xA9"));
}

// A normalized DN is its own normal form, escaped spaces at a value's edges included (the fuzz
// target found "cn=\ leading\20" losing its spaces on a second pass).
TEST(Normalize, DnNormalFormIsStable) {
  for (const char* dn : {"cn=\\ leading\\20,ou=x\\+y+uid=7,dc=e", "cn=\\ ,dc=x", "cn=a\\ ",
                         "cn=\\20\\20a b\\20,dc=x", "cn=a\\ b,dc=x", "cn= a ,dc=x", "\\ +",
                         "c\\ =x", "cn=a\\09,dc=x", "\\=  \\301e", "c\\3Dn=x"}) {
    SCOPED_TRACE(dn);
    const std::string once = NormalizeDn(dn);
    EXPECT_EQ(NormalizeDn(once), once);
  }
  EXPECT_EQ(NormalizeDn("cn=\\ leading\\20,dc=e"), "cn=\\ leading\\ ,dc=e");
  EXPECT_EQ(NormalizeDn("cn=\\20\\20a b\\20,dc=x"), "cn=\\ \\ a b\\ ,dc=x");
  EXPECT_EQ(NormalizeDn("cn=a\\ b,dc=x"), "cn=a b,dc=x");
}

// Escaping never merges two different entries: an escaped separator is part of the value, and
// an escaped space at either end of a value is kept.
TEST(Normalize, DnEscapedSeparatorsStayDistinct) {
  EXPECT_NE(NormalizeDn("cn=a\\,b=c"), NormalizeDn("cn=a,b=c"));
  EXPECT_NE(NormalizeDn("cn=a\\2Cb=c"), NormalizeDn("cn=a,b=c"));
  EXPECT_NE(NormalizeDn("cn=a\\+sn=b"), NormalizeDn("cn=a+sn=b"));
  EXPECT_NE(NormalizeDn("cn=a\\ ,dc=x"), NormalizeDn("cn=a,dc=x"));
  EXPECT_NE(NormalizeDn("cn=\\ a,dc=x"), NormalizeDn("cn=a,dc=x"));
  EXPECT_NE(NormalizeDn("cn=a\\ "), NormalizeDn("cn=a"));
  EXPECT_EQ(NormalizeDn("cn=a\\\\ "), NormalizeDn("cn=a\\\\"));  // "\\" then a plain space
  EXPECT_EQ(NormalizeDn("cn=a\\"), "cn=a\\");                    // a lone trailing backslash
}

TEST(Normalize, Utf8Validation) {
  EXPECT_EQ(InvalidUtf8Offset(""), std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("plain ASCII, longer than eight bytes"), std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("Ren\xC3\xA9 M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80"),
            std::string_view::npos);
  EXPECT_EQ(InvalidUtf8Offset("Ren\xC3"), 3u);            // cut off
  EXPECT_EQ(InvalidUtf8Offset("abcdefghij\xFFk"), 10u);   // never a lead byte
  EXPECT_EQ(InvalidUtf8Offset("x\xC0\xAF"), 1u);          // overlong '/'
  EXPECT_EQ(InvalidUtf8Offset("x\xE0\x80\xAF"), 1u);      // overlong
  EXPECT_EQ(InvalidUtf8Offset("x\xED\xA0\x80"), 1u);      // a surrogate
  EXPECT_EQ(InvalidUtf8Offset("x\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(InvalidUtf8Offset("\xC3\xA9\x80"), 2u);       // a lone continuation byte
  EXPECT_EQ(InvalidUtf8Offset("\xE2\x82"
                              "A"),
            0u);  // a bad continuation byte
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
