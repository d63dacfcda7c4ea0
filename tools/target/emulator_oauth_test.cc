#include "tools/target/emulator_oauth.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/client_auth.h"

namespace usersync::io::emulator {
namespace {

constexpr char kBasic[] = "Basic ";

// "Basic base64(id:secret)", id and secret as given (the callers form-encode by hand: '+' → %2B).
std::string Basic(const std::string& id, const std::string& secret) {
  return absl::StrCat(kBasic, absl::Base64Escape(absl::StrCat(id, ":", secret)));
}

httplib::Response Post(OAuthAuthority& authority, const std::string& authorization,
                       std::initializer_list<std::pair<std::string, std::string>> params) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/oauth/token";
  req.set_header("Authorization", authorization);
  for (const auto& [name, value] : params) req.params.emplace(name, value);
  httplib::Response res;
  authority.HandleToken(req, res);
  return res;
}

// The string value of "key" in a flat JSON object ("" when absent).
std::string Field(const std::string& json, const std::string& key) {
  const std::string marker = absl::StrCat("\"", key, "\":\"");
  const size_t start = json.find(marker);
  if (start == std::string::npos) return "";
  const size_t from = start + marker.size();
  return json.substr(from, json.find('"', from) - from);
}

OAuthOptions Rotating() {
  OAuthOptions options;
  options.client_id = "cid";
  options.client_secret = "s+cret";
  options.client_auth = ClientAuth::kBasicForm;  // the tests below send the secret as s%2Bcret
  options.rotate_refresh_tokens = true;
  return options;
}

TEST(OAuthAuthority, CodeBuysTokensOnceAndRotationSpendsTheOldRefreshToken) {
  OAuthAuthority authority(Rotating());
  const std::string auth = Basic("cid", "s%2Bcret");
  const std::string code = authority.IssueCode();
  httplib::Response first =
      Post(authority, auth, {{"grant_type", "authorization_code"}, {"code", code}});
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string access = Field(first.body, "access_token");
  const std::string refresh = Field(first.body, "refresh_token");
  EXPECT_TRUE(authority.AcceptsAccessToken(access));
  EXPECT_FALSE(authority.AcceptsAccessToken("at-made-up"));
  // The code is spent.
  EXPECT_EQ(Post(authority, auth, {{"grant_type", "authorization_code"}, {"code", code}}).status,
            400);

  httplib::Response renewed =
      Post(authority, auth, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}});
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  const std::string next = Field(renewed.body, "refresh_token");
  EXPECT_NE(next, refresh);
  EXPECT_EQ(authority.stats().last_refresh_token, next);
  // The old refresh token was spent by its use; the new one works.
  httplib::Response reused =
      Post(authority, auth, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}});
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(reused.body, R"({"error":"invalid_grant"})");
  EXPECT_EQ(
      Post(authority, auth, {{"grant_type", "refresh_token"}, {"refresh_token", next}}).status,
      200);
  EXPECT_EQ(authority.stats().access_tokens_issued, 3);
  EXPECT_EQ(authority.stats().grants_refused, 2);
}

TEST(OAuthAuthority, WithoutRotationTheAnswerCarriesNoRefreshToken) {
  OAuthOptions options = Rotating();
  options.rotate_refresh_tokens = false;
  OAuthAuthority authority(options);
  const std::string auth = Basic("cid", "s%2Bcret");
  httplib::Response first = Post(
      authority, auth, {{"grant_type", "authorization_code"}, {"code", authority.IssueCode()}});
  const std::string refresh = Field(first.body, "refresh_token");
  for (int round = 0; round < 2; ++round) {
    httplib::Response renewed =
        Post(authority, auth, {{"grant_type", "refresh_token"}, {"refresh_token", refresh}});
    EXPECT_EQ(renewed.status, 200);
    EXPECT_EQ(renewed.body.find("refresh_token"), std::string::npos) << renewed.body;
  }
}

TEST(OAuthAuthority, RefusesAWrongClientAndAnUnknownGrant) {
  OAuthAuthority authority(Rotating());
  // The secret unencoded: '+' decodes to a space, so it does not match (RFC 6749 §2.3.1).
  EXPECT_EQ(Post(authority, Basic("cid", "s+cret"), {{"grant_type", "refresh_token"}}).status, 401);
  EXPECT_EQ(Post(authority, "Bearer x", {{"grant_type", "refresh_token"}}).status, 401);
  httplib::Response unknown =
      Post(authority, Basic("cid", "s%2Bcret"), {{"grant_type", "password"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"({"error":"unsupported_grant_type"})");
}

// "basic" (the default, GoTo's guide): the raw id:secret matches, split at the first ':' (the
// secret may hold one); the form-encoded one is refused as a strict server refuses it.
TEST(OAuthAuthority, BasicModeComparesTheRawSecret) {
  OAuthOptions options;
  options.client_id = "cid";
  options.client_secret = "a+b/c= d:e";
  OAuthAuthority authority(options);
  const auto grant = [&](const std::string& authorization) {
    return Post(authority, authorization,
                {{"grant_type", "authorization_code"}, {"code", authority.IssueCode()}});
  };
  EXPECT_EQ(grant(Basic("cid", "a+b/c= d:e")).status, 200);
  httplib::Response form = grant(Basic("cid", "a%2Bb%2Fc%3D%20d%3Ae"));
  EXPECT_EQ(form.status, 401);
  EXPECT_EQ(form.body, R"({"error":"invalid_client"})");
  EXPECT_EQ(grant(Basic("cid", "a+b/c= d")).status, 401);
  EXPECT_EQ(grant(Basic("cid:", "a+b/c= d:e")).status, 401);
}

}  // namespace
}  // namespace usersync::io::emulator
