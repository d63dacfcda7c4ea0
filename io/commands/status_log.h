// The daily status log (issue 16 item 4; the connector usersync replaces wrote one beside its
// error log): logs.dir/status-YYYY-MM-DD.log (the UTC day the run ended), two lines appended at
// the end of every sync, apply and release run:
//   2026-12-07T13:00:05.123Z run mode=sync exit=0 matched=40 update=1 new=2 invalid=5
//       account_only=3 departed=1 create=2 update_ops=1 deactivate=1 failed=0 held=0
//       requests=4 apply_ms=410 rate=9.8
//   2026-12-07T13:00:05.123Z day 2026-12-07 runs=3 exit_0=2 exit_4=1 matched=... create=...
//       failed=0 held=0 requests=... apply_ms=... rate=...
// (one line each; wrapped here). The "day" line sums every run of the day so far, so the last
// one in a file is the day's summary: runs by exit code, users per category (summed over runs),
// operations done by kind, failures, holds, and the rate achieved while applying. Fields are
// logfmt (key=value), for grep and awk. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/commands/run_metrics.h"

namespace usersync::io {

// key=value fields in order.
using StatusFields = std::vector<std::pair<std::string, int64_t>>;

// The counts of one run (categories when it planned, operations when it applied).
StatusFields RunStatusFields(const Session& session, const RunOutcome& outcome);

// The day's totals: `previous_day_line` (the last "day" line of the file, "" for none) plus
// `run`. "runs" and "exit_N" count the runs; every other field adds up; "rate" is computed.
StatusFields AddToDay(std::string_view previous_day_line, const StatusFields& run);

// "k=v k=v ... rate=R" (rate = requests per second of apply_ms, one decimal; 0 when none).
std::string FormatStatusFields(const StatusFields& fields);

// Appends the run's line and the day's line to logs.dir/status-DAY.log. A failure is a warning
// on `options.err` (a log never changes a run's exit code). Not for a paused outcome.
void AppendDailyStatus(const Session& session, const RunOutcome& outcome);

}  // namespace usersync::io
