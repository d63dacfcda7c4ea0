#include "io/commands/run_metrics.h"

#include <array>
#include <chrono>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "io/atomic_file.h"
#include "io/commands/apply_run.h"
#include "io/commands/run_notify.h"
#include "io/commands/status_log.h"
#include "io/output.h"
#include "io/report/prometheus_text.h"
#include "io/state/state_store.h"

namespace usersync::io {
namespace {

constexpr std::array<core::OpKind, 6> kKinds = {
    core::OpKind::kCreate,     core::OpKind::kUpdate,     core::OpKind::kLink,
    core::OpKind::kReactivate, core::OpKind::kDeactivate, core::OpKind::kDelete};

// The metrics' constant label: the configuration file's stem ("acme" for /etc/usersync/acme.toml).
PrometheusLabels ConfigLabel(const Session& session) {
  return {{"config", std::filesystem::path(session.config.path).stem().string()}};
}

PrometheusLabels With(PrometheusLabels labels, std::string name, std::string value) {
  labels.emplace_back(std::move(name), std::move(value));
  return labels;
}

double UnixSeconds(absl::Time time) { return absl::ToDoubleSeconds(time - absl::UnixEpoch()); }

int64_t Count(const absl::flat_hash_map<std::string, int64_t>& by_kind, std::string_view kind) {
  auto it = by_kind.find(std::string(kind));
  return it == by_kind.end() ? 0 : it->second;
}

// What the state store says, whatever this run did: the last success and the pending holds.
void StoreMetrics(const Session& session, const PrometheusLabels& config, PrometheusText& text) {
  if (session.state == nullptr) return;
  absl::StatusOr<std::vector<RunRow>> last = session.state->LastSuccess();
  absl::Time finished;
  std::string error;
  if (last.ok() && !last->empty() &&
      absl::ParseTime(absl::RFC3339_full, last->front().finished_at, &finished, &error)) {
    text.Family("usersync_last_success_timestamp_seconds",
                "When the last sync, apply or release that exited 0 finished (unix time).",
                "gauge");
    text.Sample("usersync_last_success_timestamp_seconds", config, UnixSeconds(finished));
  }
  absl::StatusOr<std::vector<HoldRow>> holds = session.state->LoadHolds();
  if (holds.ok()) {
    text.Family("usersync_held_operations",
                "Deactivations/deletions held by the safety threshold, waiting for "
                "`usersync release`.",
                "gauge");
    text.Sample("usersync_held_operations", config, static_cast<double>(holds->size()));
  }
}

void PhaseMetrics(const Session& session, const RunOutcome& outcome, const PrometheusLabels& config,
                  PrometheusText& text) {
  const std::pair<const char*, double> phases[] = {
      {"read_directory", session.read_seconds},
      {"list_target", session.list_seconds},
      {"plan", session.plan_seconds},
      {"apply", outcome.applied != nullptr ? outcome.applied->seconds : -1}};
  text.Family("usersync_last_run_phase_seconds",
              "How long each phase of the last run took (only the phases it reached).", "gauge");
  for (const auto& [phase, seconds] : phases) {
    if (seconds >= 0)
      text.Sample("usersync_last_run_phase_seconds", With(config, "phase", phase), seconds);
  }
  if (session.plan_seconds < 0) return;  // no plan: no users
  text.Family("usersync_last_run_users", "Users per category in the last run's plan.", "gauge");
  for (size_t category = 0; category < core::kCategoryCount; ++category) {
    const std::string name(core::CategoryName(static_cast<core::Category>(category)));
    text.Sample("usersync_last_run_users", With(config, "category", name),
                static_cast<double>(session.plan.summary[category]));
  }
}

void OperationMetrics(const RunOutcome& outcome, const PrometheusLabels& config,
                      PrometheusText& text) {
  if (outcome.applied == nullptr || outcome.ops == nullptr) return;
  const ApplyTotals& totals = outcome.applied->totals;
  text.Family("usersync_last_run_operations",
              "Operations of the last run by kind and outcome (done, failed, cancelled, held, "
              "not_started).",
              "gauge");
  for (core::OpKind kind : kKinds) {
    const std::string_view name = core::OpKindName(kind);
    int64_t planned = 0;
    for (const core::Operation& op : *outcome.ops) planned += op.kind == kind ? 1 : 0;
    const int64_t done = Count(totals.done_by_kind, name);
    const int64_t failed = Count(totals.failed_by_kind, name);
    const int64_t cancelled = Count(totals.cancelled_by_kind, name);
    const int64_t held = Count(totals.held_by_kind, name);
    const std::pair<const char*, int64_t> outcomes[] = {
        {"done", done},
        {"failed", failed},
        {"cancelled", cancelled},
        {"held", held},
        {"not_started", std::max<int64_t>(0, planned - done - failed - cancelled - held)}};
    for (const auto& [outcome_name, count] : outcomes) {
      text.Sample("usersync_last_run_operations",
                  With(With(config, "kind", std::string(name)), "outcome", outcome_name),
                  static_cast<double>(count));
    }
  }
}

// The target driver's counters since the session opened it: the listing and reads included.
void TrafficMetrics(const TargetStats& stats, const PrometheusLabels& config,
                    PrometheusText& text) {
  text.Family("usersync_last_run_requests",
              "HTTP requests the last run sent to the target (listing and retries included).",
              "gauge");
  text.Sample("usersync_last_run_requests", config, static_cast<double>(stats.requests));
  text.Family("usersync_last_run_throttled_responses",
              "HTTP 429 (Too Many Requests) answers the last run received.", "gauge");
  text.Sample("usersync_last_run_throttled_responses", config,
              static_cast<double>(stats.throttled));
  text.Family("usersync_last_run_retries", "Requests the last run sent again.", "gauge");
  text.Sample("usersync_last_run_retries", config, static_cast<double>(stats.retries));
}

}  // namespace

std::string RunMetricsText(const Session& session, const RunOutcome& outcome) {
  const PrometheusLabels config = ConfigLabel(session);
  PrometheusText text;
  text.Family("usersync_provisioning_paused",
              "1 while `usersync pause` holds provisioning off (no run takes place), else 0.",
              "gauge");
  text.Sample("usersync_provisioning_paused", config, outcome.paused ? 1 : 0);
  StoreMetrics(session, config, text);
  if (outcome.paused) return text.text();

  text.Family("usersync_last_run_timestamp_seconds", "When the last run ended (unix time).",
              "gauge");
  text.Sample("usersync_last_run_timestamp_seconds", config,
              UnixSeconds(absl::FromChrono(session.clock.WallNow())));
  text.Family("usersync_last_run_exit_code",
              "The last run's exit code (0 done, 1 some failed, 2 usage, 3 held, 4 unreachable, "
              "5 drift).",
              "gauge");
  text.Sample("usersync_last_run_exit_code", config, outcome.exit_code);
  text.Family("usersync_last_run_info", "The last run's command, as the label mode.", "gauge");
  text.Sample("usersync_last_run_info", With(config, "mode", std::string(outcome.mode)), 1);
  PhaseMetrics(session, outcome, config, text);
  OperationMetrics(outcome, config, text);
  if (outcome.applied != nullptr) TrafficMetrics(outcome.applied->after, config, text);
  return text.text();
}

void WriteRunMetrics(const Session& session, const RunOutcome& outcome) {
  const std::string path =
      (std::filesystem::path(session.config.logs_dir) / kMetricsFileName).string();
  if (absl::Status s = WriteFileAtomically(path, RunMetricsText(session, outcome)); !s.ok()) {
    Print(session.options.err,
          absl::StrCat("usersync: warning: the metrics file was not written: ", s.message(), "\n"));
  }
  AppendDailyStatus(session, outcome);
  NotifyRun(session, outcome);
}

}  // namespace usersync::io
