// [source] with kind = "entra" (io/config/internal/source_entra.h).
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "io/config/config_test_util.h"

namespace usersync::io::config_test {
namespace {

std::string Entra(std::string_view keys) {
  return Cfg(std::string("kind = \"entra\"\ntenant_id = \"t-1\"\nclient_id = \"c-1\"\n") +
             std::string(keys));
}

TEST(ConfigEntra, DefaultsAreMicrosoftsCloudAndGraphNames) {
  absl::StatusOr<Config> config = Parse(Entra("service_principal_id = \"sp-1\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  const SourceConfig& source = config->source;
  EXPECT_EQ(source.kind, SourceKind::kEntra);
  EXPECT_EQ(source.entra.graph_url, "https://graph.microsoft.com");
  EXPECT_EQ(source.entra.scope, "https://graph.microsoft.com/.default");
  EXPECT_EQ(EntraTokenUrl(source.entra), "https://login.microsoftonline.com/t-1/oauth2/v2.0/token");
  EXPECT_EQ(source.entra.client_secret_env, "USERSYNC_ENTRA_CLIENT_SECRET");
  EXPECT_EQ(source.entra.service_principal_id, "sp-1");
  EXPECT_EQ(source.schema.id, "id");
  EXPECT_EQ(source.schema.user_name, "userPrincipalName");
  EXPECT_EQ(source.schema.last_name, "surname");
  EXPECT_EQ(source.schema.display_name, "displayName");
}

// A national cloud: both hosts configured, trailing slashes dropped, the scope following.
TEST(ConfigEntra, NationalCloudAndAttributeOverrides) {
  absl::StatusOr<Config> config = Parse(
      Entra("graph_url = \"https://microsoftgraph.chinacloudapi.cn/\"\n"
            "authority = \"https://login.chinacloudapi.cn/\"\n"
            "[source.attributes]\nemail = \"userPrincipalName\"\nextra = [\"department\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.entra.scope, "https://microsoftgraph.chinacloudapi.cn/.default");
  EXPECT_EQ(EntraTokenUrl(config->source.entra),
            "https://login.chinacloudapi.cn/t-1/oauth2/v2.0/token");
  EXPECT_EQ(config->source.schema.email, "userPrincipalName");
  EXPECT_THAT(config->source.schema.extra, ElementsAre("department"));
}

TEST(ConfigEntra, RefusesMissingIdsAndCleartextHosts) {
  EXPECT_THAT(Rejection(Cfg("kind = \"entra\"\nclient_id = \"c\"\n")), HasSubstr("tenant_id"));
  EXPECT_THAT(Rejection(Cfg("kind = \"entra\"\ntenant_id = \"t\"\n")), HasSubstr("client_id"));
  EXPECT_THAT(Rejection(Entra("graph_url = \"http://graph.example.com\"\n")),
              HasSubstr("source.graph_url"));
  EXPECT_THAT(Rejection(Entra("authority = \"ftp://x\"\n")), HasSubstr("source.authority"));
  EXPECT_TRUE(Parse(Entra("graph_url = \"http://127.0.0.1:9000\"\n")).ok());
  EXPECT_THAT(Rejection(Entra("client_secret_env = \"A\"\nclient_secret_file = \"f\"\n")),
              HasSubstr("client_secret_file"));
}

}  // namespace
}  // namespace usersync::io::config_test
