// Notifications after a run (issue 16 item 1; README "Notifications"): at the point where the
// metrics file is written (WriteRunMetrics calls NotifyRun, so every sync, `run` round, apply
// and release passes here), the run's condition is decided from its exit code, the repeat rule
// (io/notify/notify_policy.h) decides against the state store's last notification whether a
// message is due, and one message goes to each configured channel: email, webhook, command.
//
// A notification that cannot be sent is a line in logs.dir/errors.log and a warning on stderr;
// it never changes the run's exit code. The last notified state is recorded when at least one
// channel delivered (a message no channel took is tried again by the next run). Paused runs,
// dry runs and runs without a state store notify nothing.
//
// Thread-compatible: call from the command's thread. It blocks for at most the senders' bounds
// (notify.timeout for the SMTP session, each webhook attempt with its backoff, the command).
#pragma once

#include <string>
#include <string_view>

#include "io/commands/run_context.h"
#include "io/commands/run_metrics.h"

namespace usersync::io {

// The condition (kNotifyConditions) of a run that exited `exit_code`; "ok" for exit 0.
std::string_view RunCondition(int exit_code, bool quarantined);

// Sends the run's notification if one is due (see above). No-op without [notify] channels.
void NotifyRun(const Session& session, const RunOutcome& outcome);

}  // namespace usersync::io
