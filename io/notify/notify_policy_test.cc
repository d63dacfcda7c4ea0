#include "io/notify/notify_policy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "io/notify/notify_message.h"
#include "io/report/audit_log.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

const absl::Time kStart = absl::FromUnixSeconds(1'796'000'000);

NotifyStateRow Row(std::string condition, absl::Time since, absl::Time sent) {
  return {std::move(condition), Rfc3339(since), Rfc3339(sent)};
}

TEST(NotifyPolicy, HealthyRunsWithNothingNotifiedSendNothing) {
  const NotifyDecision none = DecideNotify(std::nullopt, "ok", kStart, hours(24), true);
  EXPECT_EQ(none.event, NotifyEvent::kNone);
  EXPECT_FALSE(none.next.has_value());
  const NotifyDecision after_ok =
      DecideNotify(Row("ok", kStart, kStart), "ok", kStart + absl::Hours(1), hours(24), true);
  EXPECT_EQ(after_ok.event, NotifyEvent::kNone);
  EXPECT_FALSE(after_ok.next.has_value());
}

// The worked example of notify_policy.h, run by run.
TEST(NotifyPolicy, FirstOccurrenceReminderOtherConditionAndRecovery) {
  const NotifyDecision first = DecideNotify(std::nullopt, "unreachable", kStart, hours(24), true);
  ASSERT_EQ(first.event, NotifyEvent::kFirst);
  ASSERT_TRUE(first.next.has_value());
  EXPECT_EQ(first.next->condition, "unreachable");
  EXPECT_EQ(first.next->since, Rfc3339(kStart));

  const NotifyStateRow stored = *first.next;
  const NotifyDecision standing =
      DecideNotify(stored, "unreachable", kStart + absl::Hours(23), hours(24), true);
  EXPECT_EQ(standing.event, NotifyEvent::kNone);
  EXPECT_FALSE(standing.next.has_value());

  const NotifyDecision reminder =
      DecideNotify(stored, "unreachable", kStart + absl::Hours(24), hours(24), true);
  ASSERT_EQ(reminder.event, NotifyEvent::kReminder);
  EXPECT_EQ(reminder.next->since, Rfc3339(kStart));  // still since the first run
  EXPECT_EQ(reminder.next->last_sent, Rfc3339(kStart + absl::Hours(24)));

  const NotifyDecision other =
      DecideNotify(*reminder.next, "failed", kStart + absl::Hours(25), hours(24), true);
  ASSERT_EQ(other.event, NotifyEvent::kFirst);
  EXPECT_EQ(other.next->condition, "failed");

  const NotifyDecision recovered =
      DecideNotify(*other.next, "ok", kStart + absl::Hours(26), hours(24), true);
  ASSERT_EQ(recovered.event, NotifyEvent::kRecovery);
  EXPECT_EQ(recovered.next->condition, "ok");
}

TEST(NotifyPolicy, NoReminderWhenRepeatIsZero) {
  const NotifyDecision decision = DecideNotify(Row("held", kStart, kStart), "held",
                                               kStart + absl::Hours(1000), milliseconds(0), true);
  EXPECT_EQ(decision.event, NotifyEvent::kNone);
}

// "recovered" left out of notify.on: nothing is sent, but the state goes back to ok, so that
// the next failure is a first occurrence again.
TEST(NotifyPolicy, RecoveryNotNotifiedStillResetsTheState) {
  const NotifyDecision decision =
      DecideNotify(Row("failed", kStart, kStart), "ok", kStart + absl::Hours(1), hours(24), false);
  EXPECT_EQ(decision.event, NotifyEvent::kNone);
  ASSERT_TRUE(decision.next.has_value());
  EXPECT_EQ(decision.next->condition, "ok");
}

TEST(NotifyPolicy, UnreadableStampMakesAReminderDue) {
  const NotifyDecision decision =
      DecideNotify(NotifyStateRow{"failed", "x", "garbage"}, "failed", kStart, hours(24), true);
  EXPECT_EQ(decision.event, NotifyEvent::kReminder);
}

NotifySummary Summary() {
  NotifySummary summary;
  summary.event = "failure";
  summary.condition = "failed";
  summary.since = "2026-12-07T01:00:00.000Z";
  summary.time = "2026-12-07T01:00:00.000Z";
  summary.config = "acme";
  summary.config_path = "/etc/usersync/acme.toml";
  summary.host = "sync1";
  summary.mode = "sync";
  summary.run_id = 7;
  summary.exit_code = 1;
  summary.applied = true;
  summary.operations = {.planned = 12, .done = 10, .failed = 2};
  summary.failures = {{"create", "a@example.com", "uuid-a", 400, "HTTP 400: bad email"},
                      {"update", "b@example.com", "uuid-b", 0, "Bearer notify-secret-77 refused"}};
  summary.failures_total = 2;
  return summary;
}

TEST(NotifyMessage, SubjectNamesConfigConditionAndExitCode) {
  NotifySummary summary = Summary();
  EXPECT_EQ(NotifySubject(summary), "usersync: acme: failed (exit 1)");
  summary.event = "reminder";
  EXPECT_EQ(NotifySubject(summary),
            "usersync: acme: still failed since 2026-12-07T01:00:00.000Z (exit 1)");
  summary.event = "recovery";
  summary.condition = "ok";
  summary.exit_code = 0;
  EXPECT_EQ(NotifySubject(summary), "usersync: acme: recovered (exit 0)");
}

TEST(NotifyMessage, JsonAndTextCarryCountsAndFailuresWithoutSecrets) {
  RegisterSecret("notify-secret-77");
  const NotifySummary summary = Summary();
  const std::string json = NotifyJson(summary);
  EXPECT_NE(json.find(R"("operations":{"planned":12,"done":10,"failed":2,)"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("failures_total":2)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("http_status":400)"), std::string::npos) << json;
  EXPECT_EQ(json.find("notify-secret-77"), std::string::npos) << json;
  EXPECT_EQ(json.find("pending_holds"), std::string::npos) << "unknown holds are left out";

  const std::string text = NotifyText(summary);
  EXPECT_NE(text.find("Operations: 12 planned, 10 done, 2 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("Failures (2 of 2):\n  create a@example.com (uuid-a): HTTP 400: bad email"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("notify-secret-77"), std::string::npos) << text;
  ClearSecretsForTest();
}

}  // namespace
}  // namespace usersync::io
