// Notifications (issue 16 item 1) end to end: the real `usersync` and `usersync-target`, and
// real receivers on loopback (tests/notify_sink.py: an SMTP server from Debian's
// python3-aiosmtpd, and an HTTP server): one email for a run that cannot reach its target,
// none for the next failing cycle, one for the recovery; the webhook's JSON (through a 503 and
// a retry) and the command's stdin for held deprovisioning; a channel that cannot deliver is a
// line in errors.log and leaves the exit code alone.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/hostile_proxy.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::ChildProcess;
using testing::Contains;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;
using testing::WorldConfig;

namespace fs = std::filesystem;

// Debian's interpreter: python3-aiosmtpd installs for it (tools/dev installs the package),
// whatever other python3 comes first on PATH.
constexpr char kSystemPython[] = "/usr/bin/python3";
constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitHeld = 3;
constexpr int kExitUnreachable = 4;

class NotifyIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(world_.Path("inbox"));
    ASSERT_NO_FATAL_FAILURE(StartSink({}));
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(3));
  }

  // (Re)starts tests/notify_sink.py saving into inbox/, with `extra` arguments (CERT KEY
  // PASSWORD: STARTTLS and AUTH required), and reads its ports.
  void StartSink(const std::vector<std::string>& extra) {
    sink_ = std::make_unique<ChildProcess>();
    std::vector<std::string> argv = {kSystemPython,
                                     std::string(USERSYNC_SOURCE_DIR) + "/tests/notify_sink.py",
                                     world_.Path("inbox")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ASSERT_TRUE(sink_->Start(argv).ok());
    smtp_port_ = PortLine("smtp ");
    http_port_ = PortLine("http ");
    ASSERT_FALSE(smtp_port_.empty()) << sink_->stderr_output();
    ASSERT_FALSE(http_port_.empty()) << sink_->stderr_output();
  }

  // The port after `prefix` on the sink's next stdout line ("" when it did not say).
  std::string PortLine(const std::string& prefix) {
    absl::StatusOr<std::string> line = sink_->ReadStdoutLine(std::chrono::seconds(20));
    if (!line.ok() || line->rfind(prefix, 0) != 0) return "";
    return line->substr(prefix.size());
  }

  // The world's configuration with `notify` as its [notify] body; no retries on a dead target.
  // `target_url` empty: the world's emulator.
  void WriteConfig(const std::string& notify, const std::string& target_url = "") {
    WorldConfig config;
    config.target_url = target_url;
    config.target_keys = "rate = 1000\nburst = 100\nmax_retries = 0\n";
    config.deprovision = "max_changes = 1\nmax_changes_percent = 100\n";
    config.extra = absl::StrCat("[notify]\n", notify);
    world_.WriteConfig(config);
  }

  std::string EmailKeys() const {
    return absl::StrCat("email = \"ops@example.com\"\nsmtp_url = \"smtp://127.0.0.1:", smtp_port_,
                        "\"\nsmtp_tls = \"none\"\nfrom = \"usersync@example.com\"\n");
  }

  // How many files the sink saved whose names start with `kind` ("mail", "webhook").
  int Count(const std::string& kind) const {
    int count = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(world_.Path("inbox"))) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kind + "-", 0) == 0 && name.find(".tmp") == std::string::npos) ++count;
    }
    return count;
  }

  std::string Inbox(const std::string& name) const { return world_.ReadFile("inbox/" + name); }

  SyncWorld world_{"notify"};
  std::unique_ptr<ChildProcess> sink_;
  std::string smtp_port_;
  std::string http_port_;
};

// The target down: one email (documented subject, the error, no token); the next failing cycle
// sends none; the cycle that succeeds again sends "recovered".
TEST_F(NotifyIntegrationTest, EmailsOnceForAStandingFailureAndOnRecovery) {
  WriteConfig(EmailKeys());
  world_.StopTarget();  // its port now refuses connections

  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, kExitUnreachable) << first.out << first.err;
  ASSERT_EQ(Count("mail"), 1) << first.err;
  const std::string mail = Inbox("mail-1.eml");
  EXPECT_TRUE(Contains(mail, "Subject: usersync: usersync: unreachable (exit 4)\r\n"));
  EXPECT_TRUE(Contains(mail, "X-Envelope-To: ops@example.com"));
  EXPECT_TRUE(Contains(mail, "From: usersync@example.com"));
  EXPECT_TRUE(Contains(mail, "with exit code 4: the source or the target could not be reached"));
  EXPECT_TRUE(Contains(mail, "Error: listing the target's accounts"));
  EXPECT_TRUE(Lacks(mail, world_.token()));
  EXPECT_TRUE(Contains(first.err, "usersync: notified (failure: unreachable) by email"));

  ProcessResult second = world_.Usersync({"sync"});
  ASSERT_EQ(second.exit_code, kExitUnreachable) << second.out << second.err;
  EXPECT_EQ(Count("mail"), 1) << "a standing failure was notified again";

  ASSERT_TRUE(world_.StartTarget().ok());  // a new port: point the configuration at it
  WriteConfig(EmailKeys());
  ProcessResult recovered = world_.Usersync({"sync"});
  ASSERT_EQ(recovered.exit_code, kExitOk) << recovered.out << recovered.err;
  ASSERT_EQ(Count("mail"), 2);
  const std::string again = Inbox("mail-2.eml");
  EXPECT_TRUE(Contains(again, "Subject: usersync: usersync: recovered (exit 0)\r\n"));
  EXPECT_TRUE(Contains(again, "Operations: 3 planned, 3 done, 0 failed"));
  EXPECT_TRUE(Lacks(again, world_.token()));

  ProcessResult quiet = world_.Usersync({"sync"});
  ASSERT_EQ(quiet.exit_code, kExitOk) << quiet.out << quiet.err;
  EXPECT_EQ(Count("mail"), 2) << "a healthy run after the recovery sent a message";
}

// repeat_every: a standing failure is notified again once it has passed (1 ms: at the next run),
// as a reminder naming since when it stands.
TEST_F(NotifyIntegrationTest, RemindsOfAStandingFailureAfterRepeatEvery) {
  WriteConfig(EmailKeys() + "repeat_every = \"1ms\"\n");
  world_.StopTarget();
  for (int cycle = 0; cycle < 2; ++cycle) {
    ProcessResult run = world_.Usersync({"sync"});
    ASSERT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
  }
  ASSERT_EQ(Count("mail"), 2);
  const std::string first = Inbox("mail-1.eml");
  const std::string reminder = Inbox("mail-2.eml");
  const size_t at = first.find("ended at ");
  ASSERT_NE(at, std::string::npos) << first;
  const std::string since = first.substr(at + 9, 24);  // 2026-12-07T01:00:00.000Z
  EXPECT_TRUE(Contains(
      reminder, "Subject: usersync: usersync: still unreachable since " + since + " (exit 4)\r\n"));
  EXPECT_TRUE(Contains(reminder, "This has stood since " + since + " (a reminder)."));
}

// Every create answered 400 with the request's Authorization header echoed in the error (a
// hostile proxy in front of the emulator): exit 1; the email and the webhook list the first 10
// of the 12 failures, and the token is in neither.
TEST_F(NotifyIntegrationTest, ListsTheFirstFailuresWithoutTheToken) {
  ASSERT_TRUE(world_.StartTarget({"--no-bulk"}).ok());
  testing::HostileProxy::Rule echo;
  echo.pattern = "POST /scim/v2/Users";
  echo.fault = testing::Fault::kEchoAuthorization;
  absl::StatusOr<std::unique_ptr<testing::HostileProxy>> proxy =
      testing::HostileProxy::Start(world_.target().port(), {echo});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  world_.WriteDirectory(NumberedUsers(12));
  WriteConfig(EmailKeys() + absl::StrCat("webhook = \"http://127.0.0.1:", http_port_, "/hook\"\n"),
              (*proxy)->scim_url());

  ProcessResult run = world_.Usersync({"sync"});
  ASSERT_EQ(run.exit_code, kExitSomeFailed) << run.out << run.err;
  ASSERT_GT((*proxy)->applied(0), 0);
  ASSERT_EQ(Count("mail"), 1) << run.err;
  ASSERT_EQ(Count("webhook"), 1) << run.err;
  const std::string mail = Inbox("mail-1.eml");
  EXPECT_TRUE(Contains(mail, "Subject: usersync: usersync: failed (exit 1)\r\n"));
  EXPECT_TRUE(Contains(mail, "Operations: 12 planned, 0 done, 12 failed"));
  EXPECT_TRUE(Contains(mail, "Failures (10 of 12):\r\n  create user"));
  EXPECT_TRUE(Contains(mail, "POST /scim/v2/Users: HTTP 400 ("));
  const std::string json = Inbox("webhook-1.json");
  EXPECT_TRUE(Contains(json, R"("failures_total":12)"));
  EXPECT_TRUE(Contains(json, R"("http_status":400)"));
  for (const std::string& text : {mail, json}) EXPECT_TRUE(Lacks(text, world_.token()));
}

// The SMTP server requires STARTTLS (a self-signed certificate, trusted through notify.ca_file)
// and AUTH: the default smtp_tls upgrades the session and logs in with the password from
// smtp_password_env; the password is in no message. A wrong password: nothing sent, errors.log
// says why without the password, and the exit code stands.
TEST_F(NotifyIntegrationTest, EmailOverStartTlsWithAuthentication) {
  ASSERT_TRUE(testing::RunToSuccess(
                  {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   world_.Path("key.pem"), "-out", world_.Path("cert.pem"), "-days", "2", "-subj",
                   "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"})
                  .ok());
  const std::string password = "smtp-pass-5d1e0b";
  ASSERT_NO_FATAL_FAILURE(StartSink({world_.Path("cert.pem"), world_.Path("key.pem"), password}));
  // smtp:// with the default smtp_tls: STARTTLS required.
  const std::string keys =
      absl::StrCat("email = \"ops@example.com\"\nsmtp_url = \"smtp://127.0.0.1:", smtp_port_,
                   "\"\nfrom = \"usersync@example.com\"\nsmtp_user = \"usersync\"\n",
                   "smtp_password_env = \"NOTIFY_SMTP_PASSWORD\"\nca_file = \"cert.pem\"\n");
  WriteConfig(keys);
  world_.StopTarget();

  ProcessResult run = world_.Usersync({"sync"}, {{"NOTIFY_SMTP_PASSWORD", password}});
  ASSERT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
  ASSERT_EQ(Count("mail"), 1) << run.err << sink_->stderr_output();
  const std::string mail = Inbox("mail-1.eml");
  EXPECT_TRUE(Contains(mail, "X-Auth-Login: usersync\r\nX-TLS: yes\r\n"));
  EXPECT_TRUE(Contains(mail, "Subject: usersync: usersync: unreachable (exit 4)\r\n"));
  EXPECT_TRUE(Lacks(mail, password));

  // The recovery is due. (After a refused AUTH aiosmtpd leaves libcurl waiting: the session
  // ends at notify.timeout, 3 s here.)
  ASSERT_TRUE(world_.StartTarget().ok());
  WriteConfig(keys + "timeout = \"3s\"\n");
  const std::string wrong = "wrong-pass-77c2a9";
  ProcessResult refused = world_.Usersync({"sync"}, {{"NOTIFY_SMTP_PASSWORD", wrong}});
  ASSERT_EQ(refused.exit_code, kExitOk) << refused.out << refused.err;
  EXPECT_EQ(Count("mail"), 1);
  EXPECT_TRUE(
      Contains(refused.err, "notification (recovered) by email not sent: SMTP smtp://127.0.0.1:"));
  const std::string errors = world_.ReadFile("logs/errors.log");
  EXPECT_TRUE(Contains(errors, "by email not sent"));
  EXPECT_TRUE(Lacks(errors, wrong));
  EXPECT_TRUE(Lacks(refused.err, wrong));
}

// Held deprovisioning (exit 3): the webhook gets the JSON summary (after a 503 and a retry)
// and the command gets the same JSON on its stdin.
TEST_F(NotifyIntegrationTest, WebhookAndCommandGetTheJsonSummary) {
  world_.WriteFile("hook.sh", "#!/bin/sh\ncat > \"$1\"\n");
  ASSERT_EQ(::chmod(world_.Path("hook.sh").c_str(), 0755), 0);
  const std::string keys =
      absl::StrCat("webhook = \"http://127.0.0.1:", http_port_, "/fail-once\"\n",
                   "command = [\"hook.sh\", \"", world_.Path("stdin.json"), "\"]\n");
  WriteConfig(keys);
  ProcessResult created = world_.Usersync({"sync"});
  ASSERT_EQ(created.exit_code, kExitOk) << created.out << created.err;
  EXPECT_EQ(Count("webhook"), 0) << "a healthy first run sent a message";

  world_.WriteDirectory(NumberedUsers(1));  // two departures beyond max_changes = 1
  ProcessResult held = world_.Usersync({"sync"});
  ASSERT_EQ(held.exit_code, kExitHeld) << held.out << held.err;
  ASSERT_EQ(Count("webhook"), 1) << held.err;
  const std::string json = Inbox("webhook-1.json");
  for (const std::string part :
       {R"("event":"failure")", R"("condition":"held")", R"("exit_code":3)", R"("mode":"sync")",
        R"("config":"usersync")", R"j("subject":"usersync: usersync: held (exit 3)")j",
        R"("held":2)", R"("pending_holds":2)", R"("failures":[])", R"("quarantined":false)",
        R"("users":{)"}) {
    EXPECT_TRUE(Contains(json, part));
  }
  EXPECT_TRUE(Lacks(json, world_.token()));
  EXPECT_EQ(world_.ReadFile("stdin.json"), json);
  EXPECT_TRUE(
      Contains(held.err, "usersync: notified (failure: held) by webhook, command (exit 0)\n"));
}

// A channel that cannot deliver: the run's exit code stands, errors.log says why, and the next
// run tries again (nothing was recorded as notified).
TEST_F(NotifyIntegrationTest, UndeliveredNotificationIsLoggedAndKeepsTheExitCode) {
  // A port bound but not listening: connections to it are refused while the test holds it.
  const int dead = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(dead, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(dead, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::getsockname(dead, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string dead_port = std::to_string(ntohs(address.sin_port));
  WriteConfig(absl::StrCat("email = \"ops@example.com\"\nsmtp_url = \"smtp://127.0.0.1:", dead_port,
                           "\"\nsmtp_tls = \"none\"\nfrom = \"usersync@example.com\"\n"));
  world_.StopTarget();
  for (int cycle = 0; cycle < 2; ++cycle) {
    ProcessResult run = world_.Usersync({"sync"});
    EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
    EXPECT_TRUE(Contains(run.err,
                         "usersync: warning: notification (unreachable) by email not "
                         "sent: SMTP smtp://127.0.0.1:"));
  }
  const std::string errors = world_.ReadFile("logs/errors.log");
  EXPECT_TRUE(Contains(errors, "notification (unreachable) by email not sent"));
  ::close(dead);
}

}  // namespace
}  // namespace usersync
