// `usersync authorize` in-process against the emulator's token endpoint: the URL it prints, the
// code read from standard input (alone or as the address the browser came back to), the state
// check, and the refresh token stored owner-only.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/commands/commands.h"
#include "io/commands/exit_code.h"
#include "tools/target/emulator_server.h"

namespace usersync::io {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "s3cr+t-client";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions options;
    options.token = "admin-token";
    options.oauth.client_id = "cid";
    options.oauth.client_secret = kSecret;
    options.oauth.rotate_refresh_tokens = true;
    auto server = emulator::EmulatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    dir_ = std::filesystem::path(::testing::TempDir()) / "authorize_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "client_secret") << kSecret << "\n";
    std::ofstream(dir_ / "usersync.toml")
        << "[source]\nkind = \"ldif\"\npath = \"directory.ldif\"\n[target]\nurl = \""
        << server_->scim_base_url() << "\"\nauth = \"oauth2\"\ntoken_url = \""
        << server_->base_url()
        << "/oauth/token\"\nauthorize_url = \"https://auth.example.com/oauth/authorize\"\n"
           "redirect_uri = \"https://example.com/cb\"\nclient_id = \"cid\"\n"
           "client_secret_file = \"client_secret\"\nrefresh_token_file = \"refresh_token\"\n";
  }

  std::string NewCode() {
    httplib::Client client(server_->base_url());
    auto res = client.Get("/_emulator/oauth/code", {{"Authorization", "Bearer admin-token"}});
    EXPECT_TRUE(res && res->status == 200);
    const std::string body = res ? res->body : "";
    const size_t start = body.find("\"code\":\"") + 8;
    return body.substr(start, body.find('"', start) - start);
  }

  // Runs authorize with `input` on standard input; out and err land in out_ and err_.
  int Run(const std::string& input) {
    std::FILE* in = fmemopen(const_cast<char*>(input.data()), input.size(), "r");
    char* out_buf = nullptr;
    size_t out_size = 0;
    char* err_buf = nullptr;
    size_t err_size = 0;
    std::FILE* out = open_memstream(&out_buf, &out_size);
    std::FILE* err = open_memstream(&err_buf, &err_size);
    CommandOptions options;
    options.config_path = (dir_ / "usersync.toml").string();
    options.in = in;
    options.out = out;
    options.err = err;
    const int code = RunAuthorizeCommand(options);
    std::fclose(in);
    std::fclose(out);
    std::fclose(err);
    out_.assign(out_buf, out_size);
    err_.assign(err_buf, err_size);
    free(out_buf);
    free(err_buf);
    return code;
  }

  std::unique_ptr<emulator::EmulatorServer> server_;
  std::filesystem::path dir_;
  std::string out_;
  std::string err_;
};

TEST_F(AuthorizeTest, PrintsTheUrlReadsThePastedAddressAndStoresTheRefreshToken) {
  const std::string code = NewCode();
  ASSERT_EQ(Run(absl::StrCat("https://example.com/cb?code=", code, "\n")), kExitOk) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr("https://auth.example.com/oauth/authorize?client_id=cid"
                                    "&response_type=code"
                                    "&redirect_uri=https%3A%2F%2Fexample.com%2Fcb&state="),
                          HasSubstr("refresh_token")));
  const std::string refresh = server_->stats().oauth_last_refresh_token;
  ASSERT_FALSE(refresh.empty());
  EXPECT_EQ(ReadAll((dir_ / "refresh_token").string()), refresh + "\n");
  struct stat info {};
  ASSERT_EQ(stat((dir_ / "refresh_token").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_THAT(out_ + err_, AllOf(Not(HasSubstr(refresh)), Not(HasSubstr(kSecret))));
}

TEST_F(AuthorizeTest, TheCodeAloneWorksToo) {
  ASSERT_EQ(Run(absl::StrCat("  ", NewCode(), "\r\n")), kExitOk) << err_;
  EXPECT_EQ(ReadAll((dir_ / "refresh_token").string()),
            server_->stats().oauth_last_refresh_token + "\n");
}

// An address answering another authorization request (its state differs) is refused unsent.
TEST_F(AuthorizeTest, AnotherStateIsRefused) {
  const std::string code = NewCode();
  EXPECT_EQ(Run(absl::StrCat("https://example.com/cb?code=", code, "&state=other\n")), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("another state"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "refresh_token"));
  EXPECT_EQ(server_->stats().oauth_access_tokens_issued, 0);
}

TEST_F(AuthorizeTest, NoCodeIsRefused) {
  EXPECT_EQ(Run(""), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("no authorization code"));
}

}  // namespace
}  // namespace usersync::io
