// [notify] (io/config/internal/notify.h): what is read, and each refusal with its file:line.
#include "absl/strings/str_cat.h"
#include "io/config/config_test_util.h"

namespace usersync::io::config_test {
namespace {

std::string WithNotify(const std::string& keys) {
  return Cfg("", "", absl::StrCat("[notify]\n", keys));
}

TEST(ConfigNotify, NoSectionNoChannels) {
  absl::StatusOr<Config> config = Parse(Cfg());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->notify.enabled());
  EXPECT_EQ(config->notify.repeat_every, std::chrono::hours(24));
  EXPECT_EQ(config->notify.on.size(), 6u);
}

TEST(ConfigNotify, EveryKeyIsRead) {
  absl::StatusOr<Config> config = Parse(WithNotify(
      "email = [\"ops@example.com\", \"oncall@example.com\"]\n"
      "smtp_url = \"smtps://mail.example.com:465\"\nfrom = \"usersync@example.com\"\n"
      "smtp_user = \"usersync\"\nsmtp_password_env = \"SMTP_PASSWORD\"\n"
      "webhook = \"https://hooks.example.com/usersync\"\nwebhook_attempts = 5\n"
      "command = [\"hooks/page.sh\", \"--urgent\"]\n"
      "timeout = \"10s\"\nrepeat_every = \"12h\"\non = [\"unreachable\", \"recovered\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  const NotifyConfig& notify = config->notify;
  EXPECT_THAT(notify.email, ElementsAre("ops@example.com", "oncall@example.com"));
  EXPECT_EQ(notify.smtp_url, "smtps://mail.example.com:465");
  EXPECT_EQ(notify.smtp_password_env, "SMTP_PASSWORD");
  EXPECT_EQ(notify.webhook_attempts, 5);
  EXPECT_THAT(notify.command, ElementsAre("/etc/usersync/hooks/page.sh", "--urgent"));
  EXPECT_EQ(notify.timeout, std::chrono::seconds(10));
  EXPECT_EQ(notify.repeat_every, std::chrono::hours(12));
  EXPECT_THAT(notify.on, ElementsAre("unreachable", "recovered"));
  EXPECT_TRUE(notify.enabled());
}

// DESIGN.md's [notify] names only the recipients: the local MTA relays, from usersync@HOST.
TEST(ConfigNotify, EmailAloneGoesThroughTheLocalMta) {
  absl::StatusOr<Config> config = Parse(WithNotify("email = \"ops@example.com\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->notify.smtp_url, "smtp://localhost:25");
  EXPECT_EQ(config->notify.smtp_tls, "none");
  EXPECT_THAT(config->notify.from, ::testing::StartsWith("usersync@"));
  EXPECT_GT(config->notify.from.size(), std::string_view("usersync@").size());
  // A relay named explicitly keeps STARTTLS required.
  config = Parse(WithNotify("email = \"a@b.c\"\nsmtp_url = \"smtp://mail.example.com:587\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->notify.smtp_tls, "starttls");
}

TEST(ConfigNotify, RefusesIncompleteOrUnsafeSettings) {
  EXPECT_THAT(
      Rejection(WithNotify("email = \"a@b.c\"\nfrom = \"u@b.c\"\n"
                           "smtp_url = \"smtp://u:pw@mail.example.com\"\n")),
      AllOf(HasSubstr("'notify.smtp_url' must not carry credentials"), Not(HasSubstr("pw"))));
  EXPECT_THAT(
      Rejection(WithNotify("email = \"a@b.c\"\nfrom = \"u@b.c\"\n"
                           "smtp_url = \"smtp://mail.example.com\"\nsmtp_tls = \"none\"\n")),
      HasSubstr("only for smtp:// to a loopback host"));
  EXPECT_THAT(Rejection(WithNotify("email = \"a@b.c\"\nfrom = \"u@b.c\"\n"
                                   "smtp_url = \"smtp://mail.example.com\"\nsmtp_user = \"u\"\n")),
              HasSubstr("needs exactly one of 'notify.smtp_password_env'"));
  EXPECT_THAT(Rejection(WithNotify("webhook = \"http://hooks.example.com/x\"\n")),
              HasSubstr("must be https://"));
  EXPECT_THAT(Rejection(WithNotify("on = [\"failed\", \"sometimes\"]\n")),
              HasSubstr("holds \"sometimes\""));
  EXPECT_THAT(Rejection(WithNotify("timeout = \"0s\"\n")), HasSubstr("'notify.timeout'"));
  EXPECT_THAT(Rejection(WithNotify("command = 42\n")), HasSubstr("'notify.command'"));
  EXPECT_THAT(Rejection(WithNotify("smtp_password = \"hunter22\"\n")), Not(HasSubstr("hunter22")));
}

}  // namespace
}  // namespace usersync::io::config_test
