// Rotation of the run's logs in logs.dir ([logs] max_size, keep, keep_days;
// io/config/internal/logs.h), done when a run that writes them starts (ApplyRun::Begin), before
// it opens them: audit.jsonl and errors.log of at least max_size bytes move to FILE.1 (FILE.1 to
// FILE.2 …, FILE.keep dropped), and status-YYYY-MM-DD.log files of days more than keep_days
// before today are deleted. usersync.prom is replaced every run and never rotated.
// Thread-compatible; one run at a time holds the RunLock, so no two rotate at once.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "io/config/config.h"

namespace usersync::io {

// Rotates what the policy says is due. Errors: kInternal naming the file (the caller warns; a
// run is not stopped by a log it could not rotate). A missing directory is nothing to do.
absl::Status RotateLogs(const std::string& dir, const LogsConfig& policy, absl::Time now);

}  // namespace usersync::io
