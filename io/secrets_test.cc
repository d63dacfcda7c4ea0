#include "io/secrets.h"

#include <string>

#include "gtest/gtest.h"

namespace usersync::io {
namespace {

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearSecretsForTest(); }
  void TearDown() override { ClearSecretsForTest(); }
};

TEST_F(SecretsTest, NothingRegisteredLeavesTextAlone) {
  EXPECT_FALSE(ContainsSecret("Bearer s3cr3t-token"));
  EXPECT_EQ(Redact("Bearer s3cr3t-token"), "Bearer s3cr3t-token");
}

TEST_F(SecretsTest, RedactsEveryOccurrence) {
  RegisterSecret("s3cr3t-token");
  EXPECT_TRUE(ContainsSecret("HTTP 400: Authorization: Bearer s3cr3t-token"));
  EXPECT_EQ(Redact("a s3cr3t-token b s3cr3t-tokens3cr3t-token"),
            "a [redacted] b [redacted][redacted]");
  EXPECT_FALSE(ContainsSecret("s3cr3t-toke"));
}

// A server may echo the value as it sits in a URL or a form, or in a Basic header.
TEST_F(SecretsTest, RedactsPercentEncodedAndBase64Forms) {
  RegisterSecret("p@ss word/123");
  EXPECT_EQ(Redact("url: ?pw=p%40ss%20word%2F123&x=1"), "url: ?pw=[redacted]&x=1");
  // base64("p@ss word/123") = "cEBzcyB3b3JkLzEyMw==": its whole 3-byte groups are redacted.
  EXPECT_EQ(Redact("Authorization: Basic cEBzcyB3b3JkLzEyMw=="),
            "Authorization: Basic [redacted]Mw==");
}

TEST_F(SecretsTest, ShortValuesAreNotRegistered) {
  RegisterSecret("abc");
  RegisterSecret("");
  EXPECT_FALSE(ContainsSecret("abc abc"));
  EXPECT_EQ(Redact("abcd"), "abcd");
}

// With one secret inside another, the longer is redacted whole, not cut by the shorter.
TEST_F(SecretsTest, LongerSecretsFirst) {
  RegisterSecret("token");
  RegisterSecret("token-with-suffix");
  EXPECT_EQ(Redact("x token-with-suffix y token"), "x [redacted] y [redacted]");
}

}  // namespace
}  // namespace usersync::io
