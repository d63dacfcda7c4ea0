#include "io/http/oauth2_client.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/http_pipeline.h"
#include "io/http/testing/fake_target_server.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

using http_testing::FakeTargetServer;

constexpr char kClientId[] = "my-client";
constexpr char kClientSecret[] = "s3cr+t/=";

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A token endpoint (/token) and an API (/api) that accepts only tokens it issued and has not
// revoked. Tokens are numbered: access-1, access-2, ...; with rotation, refresh-1, refresh-2, ...
class TokenServer {
 public:
  TokenServer() {
    server_.server().Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
      OnToken(req, res);
    });
    server_.server().Get("/api", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu);
      const std::string auth = req.get_header_value("Authorization");
      bool valid =
          auth == absl::StrCat("Bearer ", current_access) && auth != "Bearer " && !reject_all;
      if (reject_first && current_access == "access-1") valid = false;
      res.status = valid ? 200 : 401;
      if (valid && !file_to_check.empty()) file_when_used = ReadFile(file_to_check);
    });
    server_.Start();
  }

  std::string token_url() const { return server_.base("/token"); }
  std::string api_url() const { return server_.base("/api"); }

  absl::Mutex mu;
  bool rotate ABSL_GUARDED_BY(mu) = false;
  bool reject_first ABSL_GUARDED_BY(mu) = false;                      // /api refuses access-1
  bool reject_all ABSL_GUARDED_BY(mu) = false;                        // /api refuses every token
  ClientAuth expected_auth ABSL_GUARDED_BY(mu) = ClientAuth::kBasic;  // how /token decodes
  int expires_in ABSL_GUARDED_BY(mu) = 100;
  int fixed_status ABSL_GUARDED_BY(mu) = 0;  // answer this status with fixed_body instead
  std::string fixed_body ABSL_GUARDED_BY(mu);
  std::string current_refresh ABSL_GUARDED_BY(mu) = "refresh-0";
  std::string current_access ABSL_GUARDED_BY(mu);
  std::vector<std::string> refresh_tokens_sent ABSL_GUARDED_BY(mu);
  std::vector<std::string> scopes_sent ABSL_GUARDED_BY(mu);  // client_credentials grants
  std::string file_to_check ABSL_GUARDED_BY(mu);  // read when /api first accepts a token
  std::string file_when_used ABSL_GUARDED_BY(mu);
  int issued ABSL_GUARDED_BY(mu) = 0;

 private:
  void OnToken(const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    if (fixed_status != 0) {
      res.status = fixed_status;
      res.set_content(fixed_body, "application/json");
      return;
    }
    // Spelled out here, not through BasicCredentials: the test must not share the code it checks.
    const std::string basic = absl::StrCat(
        "Basic ", absl::Base64Escape(absl::StrCat(
                      kClientId, ":",
                      expected_auth == ClientAuth::kBasic ? kClientSecret : "s3cr%2Bt%2F%3D")));
    if (req.get_header_value("Authorization") != basic) {
      res.status = 401;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    const std::string refresh = req.get_param_value("refresh_token");
    refresh_tokens_sent.push_back(refresh);
    const bool client_grant = req.get_param_value("grant_type") == "client_credentials" &&
                              !req.has_param("refresh_token");
    if (client_grant) scopes_sent.push_back(req.get_param_value("scope"));
    if (!client_grant &&
        (req.get_param_value("grant_type") != "refresh_token" || refresh != current_refresh)) {
      res.status = 400;
      res.set_content(R"({"error":"invalid_grant","error_description":"refresh token revoked"})",
                      "application/json");
      return;
    }
    ++issued;
    current_access = absl::StrCat("access-", issued);
    std::string body = absl::StrCat(R"({"access_token":")", current_access,
                                    R"(","token_type":"Bearer","expires_in":)", expires_in,
                                    R"(,"principal":"admin@example.com")");
    if (rotate) {
      current_refresh = absl::StrCat("refresh-", issued);
      absl::StrAppend(&body, R"(,"refresh_token":")", current_refresh, "\"");
    }
    res.set_content(body + "}", "application/json");
  }

  FakeTargetServer server_;
};

class OAuth2ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = absl::StrCat(::testing::TempDir(), "/oauth2_refresh_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(file_) << "refresh-0\n";
  }

  std::shared_ptr<OAuth2Client> MakeClient(ClientAuth client_auth = ClientAuth::kBasic) {
    OAuth2ClientOptions options;
    options.endpoint.client_auth = client_auth;
    options.endpoint.token_url = server_.token_url();
    options.endpoint.client_id = kClientId;
    options.endpoint.client_secret = kClientSecret;
    options.refresh_token_file = file_;
    options.clock = &clock_;
    absl::StatusOr<std::shared_ptr<OAuth2Client>> client = OAuth2Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *client : nullptr;
  }

  FakeClock clock_;
  TokenServer server_;
  std::string file_;
};

// A 100 s token is kept for 90 s (the margin is min(60 s, 10% of its life)), then renewed.
TEST_F(OAuth2ClientTest, RenewsBeforeExpiry) {
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Token().value_or(""), "access-1");
  clock_.Advance(std::chrono::seconds(89));
  EXPECT_EQ(client->Token().value_or(""), "access-1");
  EXPECT_EQ(client->renewals(), 1);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(client->Token().value_or(""), "access-2");
  EXPECT_EQ(client->renewals(), 2);
  // No rotation: the same refresh token is sent again and the file is untouched.
  absl::MutexLock lock(&server_.mu);
  EXPECT_EQ(server_.refresh_tokens_sent, (std::vector<std::string>{"refresh-0", "refresh-0"}));
  EXPECT_EQ(ReadFile(file_), "refresh-0\n");
}

// The client credentials grant (Entra, Graph): no refresh token file, the scope in every grant,
// renewed before expiry and once after a 401 like the refresh-token grant.
TEST_F(OAuth2ClientTest, ClientCredentialsGrantNeedsNoFile) {
  OAuth2ClientOptions options;
  options.endpoint.token_url = server_.token_url();
  options.endpoint.client_id = kClientId;
  options.endpoint.client_secret = kClientSecret;
  options.grant = OAuth2Grant::kClientCredentials;
  options.scope = "https://graph.microsoft.com/.default";
  options.refresh_token_file = "/nonexistent/never-read";
  options.clock = &clock_;
  absl::StatusOr<std::shared_ptr<OAuth2Client>> client = OAuth2Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->Token().value_or(""), "access-1");
  clock_.Advance(std::chrono::seconds(91));
  EXPECT_EQ((*client)->Token().value_or(""), "access-2");
  EXPECT_EQ((*client)->RenewAfterRejection("access-2").value_or(""), "access-3");
  EXPECT_EQ((*client)->RenewAfterRejection("access-2").value_or(""), "access-3");
  absl::MutexLock lock(&server_.mu);
  EXPECT_EQ(server_.scopes_sent,
            std::vector<std::string>(3, "https://graph.microsoft.com/.default"));
}

// A rotated refresh token is in the file, owner-only, before the new access token is first used.
TEST_F(OAuth2ClientTest, RotationIsStoredBeforeTheNewTokenIsUsed) {
  {
    absl::MutexLock lock(&server_.mu);
    server_.rotate = true;
    server_.file_to_check = file_;
  }
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  PipelineOptions options = http_testing::FastPipeline();
  options.access_tokens = client;
  auto pipeline = HttpPipeline::Start(options);
  ASSERT_TRUE(pipeline.ok());
  HttpRequest request = Get(server_.api_url());
  EXPECT_TRUE((*pipeline)->Call(request).status.ok());
  clock_.Advance(std::chrono::seconds(95));
  EXPECT_TRUE((*pipeline)->Call(request).status.ok());
  {
    absl::MutexLock lock(&server_.mu);
    EXPECT_EQ(server_.file_when_used, "refresh-2\n");
    EXPECT_EQ(server_.refresh_tokens_sent, (std::vector<std::string>{"refresh-0", "refresh-1"}));
  }
  EXPECT_EQ(ReadFile(file_), "refresh-2\n");
  struct stat info {};
  ASSERT_EQ(stat(file_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
}

// A burst of 401s for one token renews once; each request is sent again and succeeds.
TEST_F(OAuth2ClientTest, RenewsOnceOnABurstOf401) {
  {
    absl::MutexLock lock(&server_.mu);
    server_.reject_first = true;
  }
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  PipelineOptions options = http_testing::FastPipeline();
  options.max_retries = 0;  // the resend after a 401 is not a retry
  // 4 connections: the loopback server's listen backlog is 5, and a connect beyond it waits for
  // the kernel's 1 s SYN retransmit.
  options.concurrency = 4;
  options.access_tokens = client;
  auto pipeline = HttpPipeline::Start(options);
  ASSERT_TRUE(pipeline.ok());
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    (*pipeline)->Submit(Get(server_.api_url()), [&ok](HttpResponse response) {
      if (response.status.ok()) ++ok;
    });
  }
  (*pipeline)->Drain();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(client->renewals(), 2);  // the first token, then one renewal after the 401s
}

// A second 401 with a fresh token is final: the request fails, and does not loop.
TEST_F(OAuth2ClientTest, SecondUnauthorizedIsFinal) {
  {
    absl::MutexLock lock(&server_.mu);
    server_.reject_all = true;
  }
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  PipelineOptions options = http_testing::FastPipeline();
  options.access_tokens = client;
  auto pipeline = HttpPipeline::Start(options);
  ASSERT_TRUE(pipeline.ok());
  HttpResponse response = (*pipeline)->Call(Get(server_.api_url()));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(client->renewals(), 2);
}

TEST_F(OAuth2ClientTest, InvalidGrantSaysToAuthorizeAgain) {
  std::ofstream(file_) << "refresh-revoked\n";
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> token = client->Token();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(token.status().message().find("invalid_grant: refresh token revoked"),
            std::string::npos)
      << token.status();
  EXPECT_NE(token.status().message().find("usersync authorize -c CONFIG"), std::string::npos);
  EXPECT_EQ(token.status().message().find("refresh-revoked"), std::string::npos);
}

TEST_F(OAuth2ClientTest, WrongClientSecretIsInvalidClient) {
  OAuth2ClientOptions options;
  options.endpoint.token_url = server_.token_url();
  options.endpoint.client_id = kClientId;
  options.endpoint.client_secret = "wrong-secret";
  options.refresh_token_file = file_;
  options.clock = &clock_;
  auto client = OAuth2Client::Create(options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::string> token = (*client)->Token();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(token.status().message().find("check target.client_id"), std::string::npos);
}

// target.client_auth = "basic_form" against a server that decodes it so: accepted. The same
// client against a server of raw Basic (GoTo's guide): invalid_client, with the hint to switch.
TEST_F(OAuth2ClientTest, ClientAuthModeMustMatchTheServer) {
  {
    absl::MutexLock lock(&server_.mu);
    server_.expected_auth = ClientAuth::kBasicForm;
  }
  EXPECT_TRUE(MakeClient(ClientAuth::kBasicForm)->Token().ok());
  absl::StatusOr<std::string> raw = MakeClient(ClientAuth::kBasic)->Token();
  EXPECT_EQ(raw.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(raw.status().message().find("target.client_auth = \"basic_form\""), std::string::npos)
      << raw.status();
  {
    absl::MutexLock lock(&server_.mu);
    server_.expected_auth = ClientAuth::kBasic;
  }
  absl::StatusOr<std::string> form = MakeClient(ClientAuth::kBasicForm)->Token();
  EXPECT_EQ(form.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(form.status().message().find("invalid_client"), std::string::npos) << form.status();
  EXPECT_NE(form.status().message().find("try target.client_auth = \"basic\""), std::string::npos)
      << form.status();
  EXPECT_EQ(form.status().message().find(kClientSecret), std::string::npos);
}

TEST_F(OAuth2ClientTest, OversizedAnswerIsRefused) {
  {
    absl::MutexLock lock(&server_.mu);
    server_.fixed_status = 200;
    server_.fixed_body = absl::StrCat(R"({"access_token":")", std::string(100 << 10, 'a'), "\"}");
  }
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Token().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(OAuth2ClientTest, UnreachableEndpointIsUnavailable) {
  OAuth2ClientOptions options;
  options.endpoint.token_url = "http://127.0.0.1:1/token";
  options.refresh_token_file = file_;
  auto client = OAuth2Client::Create(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Token().status().code(), absl::StatusCode::kUnavailable);
}

// The Basic header's value is a secret of its own: an echo of it is redacted.
TEST_F(OAuth2ClientTest, BasicCredentialsAreRegisteredAsASecret) {
  ClearSecretsForTest();
  TokenEndpointOptions endpoint;
  endpoint.token_url = "http://127.0.0.1:1/token";
  endpoint.client_id = "usersync-client";
  endpoint.client_secret = "s3cr3t+with/=";
  const std::string header = BasicCredentials(endpoint.client_auth, endpoint.client_id,
                                              endpoint.client_secret);
  EXPECT_FALSE(ContainsSecret(absl::StrCat("echo: Basic ", header)));
  EXPECT_FALSE(RequestToken(endpoint, "grant_type=refresh_token&refresh_token=x").ok());
  EXPECT_EQ(Redact(absl::StrCat("echo: Basic ", header)), "echo: Basic [redacted]");
}

TEST_F(OAuth2ClientTest, MissingRefreshTokenFileSaysToAuthorize) {
  OAuth2ClientOptions options;
  options.refresh_token_file = file_ + ".missing";
  auto client = OAuth2Client::Create(options);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(client.status().message().find("usersync authorize"), std::string::npos);
}

TEST(ParseTokenAnswer, ReadsGoToAnswerAndRefusesBadOnes) {
  // GoTo's documented answer (GOTO_API_RESEARCH.md 9d), without the page's trailing comma.
  auto answer =
      ParseTokenAnswer(R"({"access_token":"eyJ.a","token_type":"Bearer","refresh_token":"eyJ.r",)"
                       R"("expires_in":3600,"scope":"users.v1.lines.read","principal":"m@c.com"})");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->access_token, "eyJ.a");
  EXPECT_EQ(answer->refresh_token, "eyJ.r");
  EXPECT_EQ(answer->expires_in, std::chrono::seconds(3600));
  for (std::string_view bad : {
           R"({"expires_in":3600})",                      // no access token
           R"({"access_token":"a b"})",                   // not a header-safe token
           R"({"access_token":"a\r\nX-Evil: 1"})",        // header injection
           R"({"access_token":"a","expires_in":0})",      // no life
           R"({"access_token":"a","token_type":"mac"})",  // not a bearer token
           R"({"access_token":"a","refresh_token":""})",  // empty refresh token
           R"(["access_token"])",                         // not an object
       }) {
    EXPECT_EQ(ParseTokenAnswer(bad).status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

// Both modes on a secret holding '+', '/', '=' and a space, read back from the base64.
TEST(BasicCredentials, RawOrFormEncoded) {
  const auto decoded = [](ClientAuth mode) {
    std::string text;
    EXPECT_TRUE(absl::Base64Unescape(BasicCredentials(mode, "app", "a+b/c= d"), &text));
    return text;
  };
  EXPECT_EQ(decoded(ClientAuth::kBasic), "app:a+b/c= d");
  EXPECT_EQ(decoded(ClientAuth::kBasicForm), "app:a%2Bb%2Fc%3D%20d");
  // The header comment's worked example.
  EXPECT_EQ(BasicCredentials(ClientAuth::kBasic, "app", "a+b="), "YXBwOmErYj0=");
  EXPECT_EQ(BasicCredentials(ClientAuth::kBasicForm, "app", "a+b="), "YXBwOmElMkJiJTNE");
  // Only unreserved characters: the same bytes either way.
  EXPECT_EQ(BasicCredentials(ClientAuth::kBasic, "app", "a-Z_0.9~"),
            BasicCredentials(ClientAuth::kBasicForm, "app", "a-Z_0.9~"));
}

TEST(FormEncode, EncodesAllButUnreserved) {
  EXPECT_EQ(FormEncode("a-Z_0.9~"), "a-Z_0.9~");
  EXPECT_EQ(FormEncode("s3cr+t/= &"), "s3cr%2Bt%2F%3D%20%26");
}

}  // namespace
}  // namespace usersync::io
