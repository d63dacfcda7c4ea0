#include "io/ldap/ldap_usn.h"

#include <string>

#include "gtest/gtest.h"

namespace usersync::io::ldap_internal {
namespace {

TEST(UsnCursor, RoundTripsWithTheDcsNameAndInvocationId) {
  const DcState state{12345, std::string("\x00\x01\xff\x10", 4),
                      "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,"
                      "CN=Configuration,DC=ad,DC=example,DC=test"};
  const std::string text = FormatUsnCursor(state);
  EXPECT_TRUE(text.starts_with("usn:12345:"));
  EXPECT_TRUE(IsUsnCursor(text));
  absl::StatusOr<DcState> parsed = ParseUsnCursor(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, state);
  // No invocationId readable: still a cursor, bound to the DC's name.
  absl::StatusOr<DcState> nameless = ParseUsnCursor("usn:7::CN=DC1");
  ASSERT_TRUE(nameless.ok()) << nameless.status();
  EXPECT_EQ(nameless->usn, 7);
  EXPECT_EQ(nameless->dc, "CN=DC1");
}

TEST(UsnCursor, AnythingElseIsOutOfRange) {
  for (const char* bad : {"20261207153000Z", "rfc4533:YQ==,Yg==", "usn:", "usn:12", "usn:x::CN=DC1",
                          "usn:-1::CN=DC1", "usn:5:!!:CN=DC1", "usn:5::"}) {
    EXPECT_EQ(ParseUsnCursor(bad).status().code(), absl::StatusCode::kOutOfRange) << bad;
  }
}

}  // namespace
}  // namespace usersync::io::ldap_internal
