// `usersync status`: what the runs did, read from the state store alone (DESIGN.md "Command
// line": recent runs, daily status). See commands.h.
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "io/commands/commands.h"
#include "io/commands/pause.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_context.h"
#include "io/config/config.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/state/provisioning_pause.h"
#include "io/state/state_store.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

constexpr int kRecentRuns = 10;
constexpr absl::Duration kPeriod = absl::Hours(24);

// What a run's summary JSON says, as far as status reports it. Runs of every mode write
// done/failed/held; a run that could not start writes only "error".
struct RunFacts {
  int64_t operations = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t held = 0;
  std::string error;
  bool parsed = false;  // the summary was a JSON object (else it is reported, not trusted)
};

RunFacts ReadFacts(const std::string& summary) {
  RunFacts facts;
  if (summary.empty()) return facts;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(summary);
  simdjson::ondemand::document doc;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS) return facts;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return facts;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return facts;
    int64_t* number = key == "operations" ? &facts.operations
                      : key == "done"     ? &facts.done
                      : key == "failed"   ? &facts.failed
                      : key == "held"     ? &facts.held
                                          : nullptr;
    if (number != nullptr) {
      if (field.value().get_int64().get(*number) != simdjson::SUCCESS) return facts;
    } else if (key == "error") {
      std::string_view error;
      if (field.value().get_string().get(error) != simdjson::SUCCESS) return facts;
      facts.error = std::string(error);
    }
  }
  facts.parsed = true;
  return facts;
}

const char* ExitMeaning(int exit_code) {
  switch (exit_code) {
    case kExitOk:
      return "ok";
    case kExitSomeFailed:
      return "some operations failed";
    case kExitUsage:
      return "bad usage or configuration";
    case kExitHeld:
      return "deprovisioning held";
    case kExitUnreachable:
      return "source or target unreachable";
    case kExitDrift:
      return "plan drifted";
    case -1:
      return "not finished";
    default:
      return "unknown exit code";
  }
}

// "4m12s", "1.3s": from two RFC 3339 stamps; "" when either is missing or unreadable.
std::string Duration(const RunRow& run) {
  absl::Time start, end;
  std::string error;
  if (run.finished_at.empty() ||
      !absl::ParseTime(absl::RFC3339_full, run.started_at, &start, &error) ||
      !absl::ParseTime(absl::RFC3339_full, run.finished_at, &end, &error)) {
    return "";
  }
  const double seconds = absl::ToDoubleSeconds(end - start);
  if (seconds < 60) return absl::StrFormat("%.1fs", seconds);
  return absl::FormatDuration(absl::Seconds(static_cast<int64_t>(seconds)));
}

std::string Result(const RunRow& run, const RunFacts& facts) {
  if (run.exit_code == -1) return "not finished: running now, or stopped by a crash";
  if (!facts.error.empty()) return facts.error;
  if (!facts.parsed) return "summary unreadable";
  if (facts.operations == 0 && facts.done == 0 && facts.failed == 0 && facts.held == 0) {
    return "nothing to do";
  }
  return absl::StrFormat("%d done, %d failed, %d held of %d operations", facts.done, facts.failed,
                         facts.held, facts.operations);
}

struct PeriodTotals {
  int64_t runs = 0;
  // Index exit code + 1 for -1 (not finished) to 5; the last slot counts any other code.
  std::array<int64_t, 8> by_exit{};
  int64_t done = 0;
  int64_t failed = 0;
  int64_t held = 0;
};

PeriodTotals Totals(const std::vector<RunRow>& runs) {
  PeriodTotals totals;
  for (const RunRow& run : runs) {
    ++totals.runs;
    const int slot = run.exit_code >= -1 && run.exit_code <= 5 ? run.exit_code + 1 : 7;
    ++totals.by_exit[slot];
    const RunFacts facts = ReadFacts(run.summary);
    totals.done += facts.done;
    totals.failed += facts.failed;
    totals.held += facts.held;
  }
  return totals;
}

std::string TableReport(const std::string& store_path, const std::string& since,
                        const PeriodTotals& totals, size_t held, size_t unknown,
                        const std::vector<RunRow>& recent, const std::string& config_path,
                        const std::optional<PauseRow>& pause,
                        const std::optional<RunProgress>& running) {
  std::string out = absl::StrCat("State store: ", store_path, "\n");
  if (running.has_value()) {
    absl::StrAppend(&out, "Running now: the run started ", running->started_at, " (pid ",
                    running->pid, ") is ", running->phase);
    if (running->total > 0) {
      absl::StrAppend(&out, ": ", running->done, "/", running->total, " operations");
    }
    absl::StrAppend(&out, " (as of ", running->updated_at, ")\n");
  }
  absl::StrAppend(&out, "Provisioning: ",
                  pause.has_value() ? absl::StrCat("PAUSED: ", PausedText(*pause, config_path))
                                    : std::string("on"),
                  "\n");
  absl::StrAppend(&out, "Last 24 hours (since ", since, "): ", totals.runs, " run(s)");
  std::string by_exit;
  for (int code = -1; code <= 6; ++code) {
    const int64_t count = totals.by_exit[code + 1];
    if (count == 0) continue;
    absl::StrAppend(&by_exit, by_exit.empty() ? "" : ", ", count, " ", ExitMeaning(code),
                    code >= 0 && code <= 5 ? absl::StrCat(" (exit ", code, ")") : "");
  }
  if (!by_exit.empty()) absl::StrAppend(&out, ": ", by_exit);
  absl::StrAppend(&out, "; operations: ", totals.done, " done, ", totals.failed, " failed, ",
                  totals.held, " held\n");
  absl::StrAppend(&out, "Held for release: ", held, " operation(s)",
                  held > 0 ? absl::StrCat(" (usersync release -c ", config_path, ")") : "", "\n");
  absl::StrAppend(&out, "Outcome unknown: ", unknown, " operation(s)",
                  unknown > 0 ? " (the next sync checks them at the target)" : "", "\n");
  if (recent.empty()) {
    absl::StrAppend(&out, "No runs yet.\n");
    return out;
  }
  absl::StrAppend(&out, "Recent runs (newest first):\n");
  absl::StrAppend(&out, absl::StrFormat("  %6s  %-24s  %8s  %-8s  %4s  %s\n", "run", "started",
                                        "took", "mode", "exit", "result"));
  for (const RunRow& run : recent) {
    const std::string exit = run.exit_code == -1 ? "-" : absl::StrCat(run.exit_code);
    absl::StrAppend(
        &out, absl::StrFormat("  %6d  %-24s  %8s  %-8s  %4s  %s\n", run.run_id, run.started_at,
                              Duration(run), run.mode, exit, Result(run, ReadFacts(run.summary))));
  }
  return out;
}

std::string JsonReport(const std::string& store_path, const std::string& since,
                       const PeriodTotals& totals, size_t held, size_t unknown,
                       const std::vector<RunRow>& recent, const std::optional<PauseRow>& pause,
                       const std::optional<RunProgress>& running) {
  JsonWriter w;
  w.BeginObject().Field("state_store", store_path);
  w.Key("running");  // null: no run in progress
  running.has_value() ? w.BeginObject()
                            .Key("pid")
                            .Int(running->pid)
                            .Field("started_at", running->started_at)
                            .Field("phase", running->phase)
                            .Key("done")
                            .Int(running->done)
                            .Key("total")
                            .Int(running->total)
                            .Field("updated_at", running->updated_at)
                            .EndObject()
                      : w.Null();
  w.Key("paused");  // null: provisioning is on
  pause.has_value()
      ? w.BeginObject().Field("since", pause->since).Field("reason", pause->reason).EndObject()
      : w.Null();
  w.Key("last_24_hours").BeginObject().Field("since", since).Key("runs").Int(totals.runs);
  w.Key("by_exit_code").BeginObject();
  for (int code = -1; code <= 6; ++code) {
    const int64_t count = totals.by_exit[code + 1];
    if (count == 0) continue;
    w.Key(code == -1 ? "unfinished" : code == 6 ? "other" : absl::StrCat(code)).Int(count);
  }
  w.EndObject();
  w.Key("done").Int(totals.done).Key("failed").Int(totals.failed).Key("held").Int(totals.held);
  w.EndObject();
  w.Key("held_operations").Int(static_cast<int64_t>(held));
  w.Key("unknown_outcome").Int(static_cast<int64_t>(unknown));
  w.Key("runs").BeginArray();
  for (const RunRow& run : recent) {
    w.BeginObject().Key("run_id").Int(run.run_id).Field("mode", run.mode);
    w.Field("started_at", run.started_at);
    w.Key("finished_at");
    run.finished_at.empty() ? w.Null() : w.String(run.finished_at);
    w.Key("exit_code");
    run.exit_code == -1 ? w.Null() : w.Int(run.exit_code);
    const RunFacts facts = ReadFacts(run.summary);
    w.Key("summary");
    facts.parsed ? w.Raw(run.summary) : w.Null();
    w.EndObject();
  }
  w.EndArray().EndObject();
  std::string out = w.Release();
  out.push_back('\n');
  return out;
}

}  // namespace

int RunStatusCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  const std::string& path = session.config.state_path;
  const std::string since = Rfc3339(absl::FromChrono(session.clock.WallNow()) - kPeriod);
  // Status never creates a store: none yet means no run has recorded anything.
  std::error_code error;
  if (path != ":memory:" && !std::filesystem::exists(path, error)) {
    const PeriodTotals none;
    Print(options.out, options.format == "json"
                           ? JsonReport(path, since, none, 0, 0, {}, std::nullopt, std::nullopt)
                           : absl::StrCat("State store: ", path,
                                          " does not exist yet: no run has been recorded.\n"));
    return kExitOk;
  }
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::OpenReadOnly(path);
  absl::StatusOr<std::vector<RunRow>> recent =
      state.ok() ? (*state)->RecentRuns(kRecentRuns) : state.status();
  absl::StatusOr<std::vector<RunRow>> period =
      recent.ok() ? (*state)->RunsSince(since) : recent.status();
  absl::StatusOr<std::vector<HoldRow>> holds =
      period.ok() ? (*state)->LoadHolds() : period.status();
  absl::StatusOr<std::vector<JournalEntry>> unknown =
      holds.ok() ? (*state)->LoadUnsettled() : holds.status();
  absl::StatusOr<std::optional<PauseRow>> pause =
      unknown.ok() ? LoadPause(**state) : unknown.status();
  if (!pause.ok()) return Report(options, pause.status());
  const PeriodTotals totals = Totals(*period);
  // A sync or apply in progress keeps its phase in logs.dir (progress_run.h); gone or stale
  // (its process died): none.
  absl::StatusOr<RunProgress> progress = ReadRunProgress(RunProgressPath(session.config));
  const std::optional<RunProgress> running =
      progress.ok() ? std::optional<RunProgress>(*progress) : std::nullopt;
  Print(options.out, options.format == "json"
                         ? JsonReport(path, since, totals, holds->size(), unknown->size(), *recent,
                                      *pause, running)
                         : TableReport(path, since, totals, holds->size(), unknown->size(), *recent,
                                       options.config_path, *pause, running));
  return kExitOk;
}

}  // namespace usersync::io
