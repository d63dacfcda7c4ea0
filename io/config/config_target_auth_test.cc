// The [target] keys of OAuth 2.0 (README's "OAuth 2.0" table): values read, paths resolved,
// every refusal with file:line.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config.h"
#include "io/config/config_test_util.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kOAuth[] =
    "auth = \"oauth2\"\n"
    "token_url = \"https://auth.example.com/oauth/token\"\n"
    "authorize_url = \"https://auth.example.com/oauth/authorize\"\n"
    "client_id = \"my-client\"\n"
    "refresh_token_file = \"secrets/refresh_token\"\n";

TEST(ConfigTargetAuth, BearerIsTheDefault) {
  absl::StatusOr<Config> config = Parse(Cfg());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.auth, TargetAuth::kBearer);
}

TEST(ConfigTargetAuth, OAuthKeysAreRead) {
  absl::StatusOr<Config> config = Parse(Cfg("", kOAuth));
  ASSERT_TRUE(config.ok()) << config.status();
  const OAuth2Config& oauth = config->target.oauth2;
  EXPECT_EQ(config->target.auth, TargetAuth::kOAuth2);
  EXPECT_EQ(oauth.token_url, "https://auth.example.com/oauth/token");
  EXPECT_EQ(oauth.authorize_url, "https://auth.example.com/oauth/authorize");
  EXPECT_EQ(oauth.client_id, "my-client");
  EXPECT_EQ(oauth.client_secret_env, "USERSYNC_CLIENT_SECRET");
  EXPECT_THAT(oauth.refresh_token_file, HasSubstr("/secrets/refresh_token"));
  EXPECT_EQ(oauth.refresh_token_file.front(), '/');
  EXPECT_TRUE(config->target.token_env.empty());  // no bearer token is read
}

TEST(ConfigTargetAuth, PlainHttpTokenUrlOnlyOnLoopbackOrWhenAllowed) {
  const std::string keys = "auth = \"oauth2\"\nclient_id = \"c\"\nrefresh_token_file = \"r\"\n";
  EXPECT_TRUE(Parse(Cfg("", keys + "token_url = \"http://127.0.0.1:9/t\"\n")).ok());
  EXPECT_TRUE(
      Parse(Cfg("", keys + "token_url = \"http://auth.lan/t\"\nallow_insecure = true\n")).ok());
}

// target.grant = "client_credentials": no refresh token file (refused if given), a scope.
TEST(ConfigTargetAuth, ClientCredentialsGrantNeedsNoRefreshTokenFile) {
  const std::string keys =
      "auth = \"oauth2\"\ngrant = \"client_credentials\"\nclient_id = \"c\"\n"
      "token_url = \"https://login.example.com/t/oauth2/v2.0/token\"\n";
  absl::StatusOr<Config> config =
      Parse(Cfg("", keys + "scope = \"https://api.example/.default\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->target.oauth2.client_credentials);
  EXPECT_EQ(config->target.oauth2.scope, "https://api.example/.default");
  EXPECT_TRUE(config->target.oauth2.refresh_token_file.empty());
  EXPECT_THAT(Rejection(Cfg("", keys + "refresh_token_file = \"r\"\n")),
              HasSubstr("target.refresh_token_file"));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "scope = \"s\"\n")),
              HasSubstr("target.scope"));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "grant = \"password\"\n")),
              HasSubstr("target.grant"));
  EXPECT_FALSE(Parse(Cfg("", std::string(kOAuth))).value().target.oauth2.client_credentials);
}

TEST(ConfigTargetAuth, SecretFileReplacesTheVariable) {
  absl::StatusOr<Config> config =
      Parse(Cfg("", std::string(kOAuth) + "client_secret_file = \"client_secret\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->target.oauth2.client_secret_env.empty());
  EXPECT_THAT(config->target.oauth2.client_secret_file, HasSubstr("client_secret"));
}

TEST(ConfigTargetAuth, ClientAuthIsRawBasicUnlessSaid) {
  absl::StatusOr<Config> config = Parse(Cfg("", kOAuth));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.oauth2.client_auth, ClientAuth::kBasic);
  config = Parse(Cfg("", std::string(kOAuth) + "client_auth = \"basic_form\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.oauth2.client_auth, ClientAuth::kBasicForm);
  config = Parse(Cfg("", std::string(kOAuth) + "client_auth = \"basic\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.oauth2.client_auth, ClientAuth::kBasic);
}

// A client id with ':' cannot travel in raw Basic; form-encoded (%3A) it can.
TEST(ConfigTargetAuth, ColonInClientIdNeedsBasicForm) {
  const std::string keys =
      "auth = \"oauth2\"\ntoken_url = \"https://a/t\"\nrefresh_token_file = \"r\"\n"
      "client_id = \"tenant:app\"\n";
  // The keys start on line 6; client_id is on 9, client_auth (when set) on 10.
  EXPECT_THAT(
      Rejection(Cfg("", keys)),
      AllOf(HasSubstr("usersync.toml:9:"), HasSubstr("target.client_id"), HasSubstr("basic_form")));
  EXPECT_THAT(
      Rejection(Cfg("", keys + "client_auth = \"basic\"\n")),
      AllOf(HasSubstr("usersync.toml:10:"), HasSubstr("target.client_auth"), HasSubstr("':'")));
  absl::StatusOr<Config> form = Parse(Cfg("", keys + "client_auth = \"basic_form\"\n"));
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->target.oauth2.client_id, "tenant:app");
}

TEST(ConfigTargetAuth, RefusalsNameTheKeyAndLine) {
  // [source] 1, url 2, blank 3, [target] 4, url 5, the keys from 6.
  EXPECT_THAT(Rejection(Cfg("", "auth = \"basic\"\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.auth")));
  EXPECT_THAT(Rejection(Cfg("", "client_id = \"x\"\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.client_id"),
                    HasSubstr("only with target.auth = \"oauth2\"")));
  EXPECT_THAT(Rejection(Cfg("",
                            "auth = \"oauth2\"\nclient_id = \"x\"\n"
                            "refresh_token_file = \"r\"\n")),
              HasSubstr("missing required key 'target.token_url'"));
  EXPECT_THAT(Rejection(Cfg("",
                            "auth = \"oauth2\"\ntoken_url = \"https://a/t\"\n"
                            "refresh_token_file = \"r\"\n")),
              HasSubstr("missing required key 'target.client_id'"));
  EXPECT_THAT(Rejection(Cfg("",
                            "auth = \"oauth2\"\ntoken_url = \"https://a/t\"\n"
                            "client_id = \"x\"\n")),
              HasSubstr("missing required key 'target.refresh_token_file'"));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "token_env = \"T\"\n")),
              AllOf(HasSubstr("usersync.toml:11:"), HasSubstr("target.token_env")));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "client_secret_env = \"S\"\n"
                                                      "client_secret_file = \"f\"\n")),
              AllOf(HasSubstr("usersync.toml:12:"), HasSubstr("target.client_secret_file")));
  EXPECT_THAT(Rejection(Cfg("", "auth = \"oauth2\"\ntoken_url = \"ftp://a/t\"\n")),
              AllOf(HasSubstr("usersync.toml:7:"), HasSubstr("target.token_url")));
  EXPECT_THAT(Rejection(Cfg("", "auth = \"oauth2\"\ntoken_url = \"https://id:pw@a/t\"\n")),
              AllOf(HasSubstr("usersync.toml:7:"), HasSubstr("credentials")));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "client_secret_env = \"not a name\"\n")),
              HasSubstr("target.client_secret_env"));
  EXPECT_THAT(Rejection(Cfg("", "auth = \"oauth2\"\ntoken_url = \"http://auth.example.com/t\"\n")),
              AllOf(HasSubstr("usersync.toml:7:"), HasSubstr("in clear")));
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "client_auth = \"post\"\n")),
              AllOf(HasSubstr("usersync.toml:11:"), HasSubstr("target.client_auth"),
                    HasSubstr("\"basic\" or \"basic_form\""), HasSubstr("\"post\"")));
  EXPECT_THAT(Rejection(Cfg("", "client_auth = \"basic\"\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.client_auth"),
                    HasSubstr("only with target.auth = \"oauth2\"")));
  // A secret written into the file is refused as such.
  EXPECT_THAT(Rejection(Cfg("", std::string(kOAuth) + "client_secret = \"s3cr3t\"\n")),
              AllOf(HasSubstr("client_secret"), Not(HasSubstr("s3cr3t"))));
}

}  // namespace
}  // namespace usersync::io
