#include "io/notify/notify_message.h"

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

// What each condition means, for the body's first line.
std::string_view Meaning(std::string_view condition) {
  if (condition == "failed") return "some operations failed (or the run could not start)";
  if (condition == "held") return "deprovisioning was held by the safety threshold";
  if (condition == "unreachable") return "the source or the target could not be reached";
  if (condition == "quarantined") return "the target kept failing: the run stopped early";
  if (condition == "drift") return "apply refused operations whose accounts changed";
  return "the last run succeeded";
}

void WriteOperations(JsonWriter& w, const NotifyOperations& ops) {
  w.Key("operations").BeginObject();
  w.Key("planned").Int(ops.planned).Key("done").Int(ops.done).Key("failed").Int(ops.failed);
  w.Key("cancelled").Int(ops.cancelled).Key("held").Int(ops.held);
  w.Key("not_started").Int(ops.not_started);
  w.EndObject();
}

void WriteFailures(JsonWriter& w, const NotifySummary& summary) {
  w.Key("failures").BeginArray();
  for (const NotifyFailure& failure : summary.failures) {
    w.BeginObject().Field("op", failure.op).Field("email", failure.email);
    w.Field("directory_id", failure.directory_id).Key("http_status").Int(failure.http_status);
    w.Field("error", failure.error).EndObject();
  }
  w.EndArray();
  w.Key("failures_total").Int(summary.failures_total);
}

}  // namespace

std::string NotifyJson(const NotifySummary& summary) {
  JsonWriter w;
  w.BeginObject();
  w.Field("event", summary.event).Field("condition", summary.condition);
  w.Field("since", summary.since).Field("time", summary.time);
  w.Field("config", summary.config).Field("config_path", summary.config_path);
  w.Field("host", summary.host).Field("mode", summary.mode);
  w.Key("run_id").Int(summary.run_id).Key("exit_code").Int(summary.exit_code);
  w.Field("subject", NotifySubject(summary));
  if (!summary.error.empty()) w.Field("error", summary.error);
  if (!summary.users.empty()) {
    w.Key("users").BeginObject();
    for (const auto& [category, count] : summary.users) w.Key(category).Int(count);
    w.EndObject();
  }
  if (summary.applied) WriteOperations(w, summary.operations);
  w.Key("quarantined").Bool(summary.quarantined);
  if (summary.pending_holds >= 0) w.Key("pending_holds").Int(summary.pending_holds);
  WriteFailures(w, summary);
  w.Field("errors_log", summary.errors_log).Field("audit_log", summary.audit_log);
  w.EndObject();
  return Redact(w.Release());
}

std::string NotifySubject(const NotifySummary& summary) {
  std::string what = summary.condition == "ok" ? "recovered" : summary.condition;
  if (summary.event == "reminder") what = absl::StrCat("still ", what, " since ", summary.since);
  return Redact(
      absl::StrCat("usersync: ", summary.config, ": ", what, " (exit ", summary.exit_code, ")"));
}

std::string NotifyText(const NotifySummary& summary) {
  std::string text = absl::StrCat("usersync ", summary.mode, " with ", summary.config_path, " on ",
                                  summary.host, " ended at ", summary.time, " with exit code ",
                                  summary.exit_code, ": ", Sv(Meaning(summary.condition)), ".\n");
  if (summary.event == "reminder") {
    absl::StrAppend(&text, "This has stood since ", summary.since, " (a reminder).\n");
  }
  if (!summary.error.empty()) absl::StrAppend(&text, "\nError: ", summary.error, "\n");
  if (!summary.users.empty()) {
    absl::StrAppend(&text, "\nUsers:");
    for (const auto& [category, count] : summary.users) {
      absl::StrAppend(&text, " ", category, " ", count);
    }
    absl::StrAppend(&text, "\n");
  }
  if (summary.applied) {
    const NotifyOperations& ops = summary.operations;
    absl::StrAppend(&text, "Operations: ", ops.planned, " planned, ", ops.done, " done, ",
                    ops.failed, " failed, ", ops.cancelled, " cancelled, ", ops.held, " held, ",
                    ops.not_started, " not started\n");
  }
  if (summary.quarantined) absl::StrAppend(&text, "The run stopped early (quarantine).\n");
  if (summary.pending_holds > 0) {
    absl::StrAppend(
        &text, "Held operations waiting for `usersync release`: ", summary.pending_holds, "\n");
  }
  if (summary.failures_total > 0) {
    absl::StrAppend(&text, "\nFailures (", summary.failures.size(), " of ", summary.failures_total,
                    "):\n");
    for (const NotifyFailure& failure : summary.failures) {
      absl::StrAppend(&text, "  ", failure.op, " ", failure.email, " (", failure.directory_id,
                      "): ", failure.error, "\n");  // the error names the HTTP status itself
    }
  }
  absl::StrAppend(&text, "\nErrors: ", summary.errors_log, "\nAudit log: ", summary.audit_log,
                  "\n");
  return Redact(text);
}

}  // namespace usersync::io
