// OAuth 2.0 end to end (issue 13 item 6): `usersync authorize` buys the first refresh token from
// the emulator's token endpoint, then a paced sync outlives several 2 s access tokens while the
// emulator rotates the refresh token on every renewal.
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/http_client.h"
#include "tests/support/sync_world.h"

namespace usersync::testing {
namespace {

constexpr char kClientId[] = "usersync-test";
constexpr char kClientSecret[] = "cl1ent+secret/9=";  // '+', '/', '=': form-encoded in Basic
constexpr char kSecretEnv[] = "USERSYNC_TEST_CLIENT_SECRET";

// The string value of "key" in a flat JSON object ("" when absent).
std::string JsonString(const std::string& json, const std::string& key) {
  const std::string marker = absl::StrCat("\"", key, "\":\"");
  const size_t start = json.find(marker);
  if (start == std::string::npos) return "";
  const size_t from = start + marker.size();
  return json.substr(from, json.find('"', from) - from);
}

class OAuthIntegration : public ::testing::Test {
 protected:
  // Starts the emulator with OAuth and writes a configuration that authenticates with it, on
  // the emulator's `target_kind` face ("scim" or "goto").
  void SetUpWorld(std::vector<std::string> emulator_args, std::string target_keys,
                  std::string target_kind = "scim") {
    ASSERT_TRUE(world_.ok());
    emulator_args.insert(emulator_args.end(),
                         {"--oauth-client", absl::StrCat(kClientId, ":", kClientSecret)});
    ASSERT_TRUE(world_.StartTarget(emulator_args).ok());
    WorldConfig config;
    config.target_auth = absl::StrCat(
        "auth = \"oauth2\"\ntoken_url = \"", world_.target().base_url(),
        "/oauth/token\"\nauthorize_url = \"https://auth.example.com/oauth/authorize\"\n"
        "client_id = \"",
        kClientId, "\"\nclient_secret_env = \"", kSecretEnv,
        "\"\nrefresh_token_file = \"refresh_token\"\n");
    config.target_keys = std::move(target_keys);
    config.target_kind = std::move(target_kind);
    world_.WriteConfig(config);
  }

  std::string NewCode() const {
    HttpResult result =
        HttpGet(world_.target().base_url() + "/_emulator/oauth/code", world_.token());
    EXPECT_EQ(result.status, 200) << result.body;
    return JsonString(result.body, "code");
  }

  // Authorizes (one access token and the first refresh token, stored 0600).
  void Authorize() {
    ProcessResult authorize = world_.Usersync({"authorize", "--code", NewCode()}, env_);
    ASSERT_EQ(authorize.exit_code, 0) << authorize.out << authorize.err;
    EXPECT_EQ(world_.ReadFile("refresh_token"), LastRefreshToken() + "\n");
    struct stat info {};
    ASSERT_EQ(stat(world_.Path("refresh_token").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600);
  }

  // After a run whose output is `output`: at least `min_tokens` access tokens were issued, the
  // stored refresh token is the last one issued, and neither it nor the secret was printed.
  void ExpectTokensRotated(int min_tokens, const std::string& output) const {
    HttpResult raw = HttpGet(world_.target().base_url() + "/_emulator/stats", world_.token());
    const size_t at = raw.body.find("\"oauth_access_tokens_issued\":");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::stoi(raw.body.substr(at + 29)), min_tokens) << raw.body;
    const std::string last = LastRefreshToken();
    EXPECT_EQ(world_.ReadFile("refresh_token"), last + "\n");
    EXPECT_TRUE(Lacks(output, last));
    EXPECT_TRUE(Lacks(output, kClientSecret));
  }

  std::string LastRefreshToken() const {
    HttpResult result = HttpGet(world_.target().base_url() + "/_emulator/stats", world_.token());
    return JsonString(result.body, "oauth_last_refresh_token");
  }

  const EnvList env_ = {{kSecretEnv, kClientSecret}};
  SyncWorld world_{"oauth"};
};

TEST_F(OAuthIntegration, SyncOutlivesExpiringTokensAndStoresTheLastRotation) {
  // No /Bulk: 300 single creates at 50/s take ~6 s, three lifetimes of a 2 s token.
  SetUpWorld({"--no-bulk", "--access-token-ttl", "2", "--rotate-refresh-tokens"},
             "rate = 50\nburst = 5\nadaptive = false\n");
  world_.WriteDirectory(NumberedUsers(300));
  ASSERT_NO_FATAL_FAILURE(Authorize());

  ProcessResult sync = world_.Usersync({"sync"}, env_);
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 300);
  EXPECT_EQ(world_.ScimAccounts().size(), 300u);
  // The code exchange issued one token; the sync renewed at least twice more (6 s of 2 s tokens).
  ExpectTokensRotated(3, sync.out + sync.err);
}

// target.grant = "client_credentials" (issue 15 item 2): no authorize step and no refresh token
// file; 2 s tokens are renewed with the client's own credentials while 300 creates go out.
TEST_F(OAuthIntegration, ClientCredentialsGrantSyncsWithoutAuthorize) {
  ASSERT_TRUE(world_.ok());
  ASSERT_TRUE(world_
                  .StartTarget({"--no-bulk", "--access-token-ttl", "2", "--oauth-client",
                                absl::StrCat(kClientId, ":", kClientSecret)})
                  .ok());
  WorldConfig config;
  config.target_auth =
      absl::StrCat("auth = \"oauth2\"\ngrant = \"client_credentials\"\n", "token_url = \"",
                   world_.target().base_url(), "/oauth/token\"\nclient_id = \"", kClientId,
                   "\"\nclient_secret_env = \"", kSecretEnv, "\"\n");
  config.target_keys = "rate = 50\nburst = 5\nadaptive = false\n";
  world_.WriteConfig(config);
  world_.WriteDirectory(NumberedUsers(300));
  ProcessResult sync = world_.Usersync({"sync"}, env_);
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(world_.Stats().creates, 300);
  HttpResult raw = HttpGet(world_.target().base_url() + "/_emulator/stats", world_.token());
  const size_t at = raw.body.find("\"oauth_access_tokens_issued\":");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(raw.body.substr(at + 29)), 3) << raw.body;
  EXPECT_TRUE(Lacks(sync.out + sync.err, kClientSecret));
  ProcessResult authorize = world_.Usersync({"authorize", "--code", "x"}, env_);
  EXPECT_NE(authorize.exit_code, 0);
  EXPECT_TRUE(Contains(authorize.err, "nothing to authorize")) << authorize.err;
}

// Issue 13's Done-when on GoTo: a reviewed plan of 2,000 creates applied in batches of 20 at
// 10 requests/s (about 100 POSTs, ~10 s: five lifetimes of a 2 s token) while the refresh token
// rotates on every renewal: no failed operation, and the stored refresh token is the last one.
TEST_F(OAuthIntegration, GotoApplyOutlivesExpiringTokensAndStoresTheLastRotation) {
  SetUpWorld({"--access-token-ttl", "2", "--rotate-refresh-tokens"},
             "rate = 10\nburst = 2\nadaptive = false\nbatch = 20\n", "goto");
  world_.WriteDirectory(NumberedUsers(2000));
  ASSERT_NO_FATAL_FAILURE(Authorize());

  ProcessResult plan = world_.Usersync({"plan", "--out", world_.Path("plan.json")}, env_);
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  ProcessResult apply = world_.Usersync({"apply", "--plan", world_.Path("plan.json")}, env_);
  EXPECT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 2000);
  EXPECT_EQ(stats.users, 2000);
  EXPECT_EQ(stats.create_conflicts, 0);
  EXPECT_TRUE(Contains(apply.out, "Result: 2000 done")) << apply.out;
  EXPECT_TRUE(Contains(apply.out, " 0 failed, 0 held, 0 refused")) << apply.out;
  EXPECT_EQ(world_.ReadFile("logs/errors.log"), "");  // no failed operation
  // The code exchange issued one token; ~10 s of 2 s tokens renewed it at least twice more.
  ExpectTokensRotated(3, plan.out + plan.err + apply.out + apply.err);
}

// A refresh token the server no longer honours: exit 4, and the message says what to do.
TEST_F(OAuthIntegration, RevokedRefreshTokenSaysToAuthorizeAgain) {
  SetUpWorld({}, "rate = 1000\nburst = 100\n");
  world_.WriteDirectory(NumberedUsers(3));
  world_.WriteFile("refresh_token", "rt-revoked-long-ago\n");
  ProcessResult sync = world_.Usersync({"sync"}, env_);
  EXPECT_EQ(sync.exit_code, 4) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, "invalid_grant"));
  EXPECT_TRUE(Contains(sync.err, "usersync authorize"));
  EXPECT_TRUE(Lacks(sync.out + sync.err, "rt-revoked-long-ago"));
}

// A code buys one refresh token; the same code again is refused (spent on use).
TEST_F(OAuthIntegration, AuthorizeRefusesASpentCode) {
  SetUpWorld({}, "rate = 1000\nburst = 100\n");
  const std::string code = NewCode();
  ProcessResult first = world_.Usersync({"authorize", "--code", code}, env_);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Contains(first.out, "Authorized"));
  ProcessResult again = world_.Usersync({"authorize", "--code", code}, env_);
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_TRUE(Contains(again.err, "invalid_grant"));
  EXPECT_TRUE(Lacks(first.out + first.err + again.out + again.err, code));
}

}  // namespace
}  // namespace usersync::testing

namespace usersync::testing {
namespace {

// target.client_auth against the emulator's --oauth-client-auth, with kClientSecret holding '+',
// '/' and '=' (raw and form-encoded Basic differ for it).
class OAuthClientAuthIntegration : public OAuthIntegration {
 protected:
  // The emulator decodes Basic as `server_mode`; the configuration sends `client_mode` ("" leaves
  // target.client_auth out: the default).
  void SetUpModes(const std::string& server_mode, const std::string& client_mode) {
    std::string keys = "rate = 1000\nburst = 100\n";
    if (!client_mode.empty()) absl::StrAppend(&keys, "client_auth = \"", client_mode, "\"\n");
    SetUpWorld({"--oauth-client-auth", server_mode}, keys);
    world_.WriteDirectory(NumberedUsers(3));
  }

  // Neither the secret nor its form-encoded spelling is printed.
  static bool LacksSecret(const std::string& text) {
    return Lacks(text, kClientSecret) && Lacks(text, "cl1ent%2Bsecret%2F9%3D");
  }

  void ExpectAuthorizeAndSyncSucceed() {
    ProcessResult authorize = world_.Usersync({"authorize", "--code", NewCode()}, env_);
    ASSERT_EQ(authorize.exit_code, 0) << authorize.out << authorize.err;
    ProcessResult sync = world_.Usersync({"sync"}, env_);
    EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
    EXPECT_EQ(world_.ScimAccounts().size(), 3u);
    EXPECT_TRUE(LacksSecret(authorize.out + authorize.err + sync.out + sync.err));
  }

  // Exit 4, invalid_client, and the hint to the other target.client_auth.
  void ExpectRefused(const ProcessResult& result, const std::string& other_mode) {
    EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err, "invalid_client")) << result.err;
    EXPECT_TRUE(Contains(result.err, absl::StrCat("target.client_auth = \"", other_mode, "\"")))
        << result.err;
    EXPECT_TRUE(LacksSecret(result.out + result.err));
  }
};

TEST_F(OAuthClientAuthIntegration, RawBasicOnBothSidesAuthorizesAndSyncs) {
  SetUpModes("basic", "basic");
  ExpectAuthorizeAndSyncSucceed();
}

TEST_F(OAuthClientAuthIntegration, FormEncodedBasicOnBothSidesAuthorizesAndSyncs) {
  SetUpModes("basic_form", "basic_form");
  ExpectAuthorizeAndSyncSucceed();
}

// The defaults of the client and the emulator agree (both raw, as GoTo's guide).
TEST_F(OAuthClientAuthIntegration, DefaultsMatch) {
  SetUpModes("basic", "");
  ExpectAuthorizeAndSyncSucceed();
}

// A raw-Basic server (GoTo's guide) refuses the form-encoded secret: authorize exits 4.
TEST_F(OAuthClientAuthIntegration, FormEncodedClientAgainstRawServerIsInvalidClient) {
  SetUpModes("basic", "basic_form");
  ExpectRefused(world_.Usersync({"authorize", "--code", NewCode()}, env_), "basic");
  EXPECT_TRUE(world_.ReadFile("refresh_token").empty());
}

// A form-decoding server refuses the raw secret ('+' decodes to a space): sync exits 4.
TEST_F(OAuthClientAuthIntegration, RawClientAgainstFormServerIsInvalidClient) {
  SetUpModes("basic_form", "basic");
  world_.WriteFile("refresh_token", "rt-never-reached\n");
  ExpectRefused(world_.Usersync({"sync"}, env_), "basic_form");
  EXPECT_EQ(world_.Stats().creates, 0);
}

}  // namespace
}  // namespace usersync::testing
