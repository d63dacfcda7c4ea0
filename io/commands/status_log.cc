#include "io/commands/status_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/commands/apply_run.h"
#include "io/output.h"
#include "io/report/audit_log.h"

namespace usersync::io {
namespace {

void Add(StatusFields& fields, std::string_view key, int64_t value) {
  for (auto& [name, total] : fields) {
    if (name == key) {
      total += value;
      return;
    }
  }
  fields.emplace_back(std::string(key), value);
}

int64_t Get(const StatusFields& fields, std::string_view key) {
  for (const auto& [name, value] : fields) {
    if (name == key) return value;
  }
  return 0;
}

// The last line of `path` that holds " day ", or "".
std::string LastDayLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (line.find(" day ") != std::string::npos) last = line;
  }
  return last;
}

}  // namespace

StatusFields RunStatusFields(const Session& session, const RunOutcome& outcome) {
  StatusFields fields;
  if (session.plan_seconds >= 0) {  // it planned
    for (size_t c = 0; c < core::kCategoryCount; ++c) {
      fields.emplace_back(std::string(core::CategoryName(static_cast<core::Category>(c))),
                          session.plan.summary[c]);
    }
  }
  if (outcome.applied != nullptr) {
    const ApplyTotals& totals = outcome.applied->totals;
    for (core::OpKind kind :
         {core::OpKind::kCreate, core::OpKind::kUpdate, core::OpKind::kDeactivate,
          core::OpKind::kReactivate, core::OpKind::kDelete, core::OpKind::kLink}) {
      const std::string name(core::OpKindName(kind));
      const auto found = totals.done_by_kind.find(name);
      if (found == totals.done_by_kind.end()) continue;
      // "update" is also a category: the operations get their own key.
      fields.emplace_back(name == "update" ? "update_ops" : name, found->second);
    }
    fields.emplace_back("failed", totals.failed);
    fields.emplace_back("held", totals.held);
    fields.emplace_back("requests",
                        outcome.applied->after.requests - outcome.applied->before.requests);
    fields.emplace_back("apply_ms", static_cast<int64_t>(outcome.applied->seconds * 1000));
  }
  return fields;
}

StatusFields AddToDay(std::string_view previous_day_line, const StatusFields& run) {
  StatusFields day;
  for (absl::string_view token : absl::StrSplit(Sv(previous_day_line), ' ', absl::SkipEmpty())) {
    const size_t eq = token.find('=');
    int64_t value = 0;
    if (eq == absl::string_view::npos || token.substr(0, eq) == "rate" ||
        !absl::SimpleAtoi(token.substr(eq + 1), &value)) {
      continue;
    }
    day.emplace_back(std::string(token.substr(0, eq)), value);
  }
  Add(day, "runs", 1);
  for (const auto& [name, value] : run) {
    if (name == "exit") {
      Add(day, absl::StrCat("exit_", value), 1);
    } else {
      Add(day, name, value);
    }
  }
  return day;
}

std::string FormatStatusFields(const StatusFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  }
  const int64_t ms = Get(fields, "apply_ms");
  if (ms > 0 || Get(fields, "requests") > 0) {
    absl::StrAppend(&out,
                    absl::StrFormat(" rate=%.1f",
                                    ms > 0 ? 1000.0 * static_cast<double>(Get(fields, "requests")) /
                                                 static_cast<double>(ms)
                                           : 0.0));
  }
  return out;
}

void AppendDailyStatus(const Session& session, const RunOutcome& outcome) {
  if (outcome.paused) return;
  const absl::Time now = absl::FromChrono(session.clock.WallNow());
  const std::string day = absl::FormatTime("%Y-%m-%d", now, absl::UTCTimeZone());
  const std::string path =
      (std::filesystem::path(session.config.logs_dir) / absl::StrCat("status-", day, ".log"))
          .string();
  StatusFields run = RunStatusFields(session, outcome);
  run.insert(run.begin(), {"exit", outcome.exit_code});
  const std::string stamp = Rfc3339(now);
  std::string text =
      absl::StrCat(stamp, " run mode=", Sv(outcome.mode), " ", FormatStatusFields(run), "\n");
  absl::StrAppend(&text, stamp, " day ", day, " ",
                  FormatStatusFields(AddToDay(LastDayLine(path), run)), "\n");
  std::error_code error;
  std::filesystem::create_directories(session.config.logs_dir, error);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  const bool written =
      fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int saved = errno;
  if (fd >= 0) ::close(fd);
  if (!written) {
    Print(session.options.err, absl::StrCat("usersync: warning: the daily status log ", path,
                                            " was not written: ", std::strerror(saved), "\n"));
  }
}

}  // namespace usersync::io
