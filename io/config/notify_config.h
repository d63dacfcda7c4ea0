// The [notify] section's values (README.md "Notifications"; parsed by
// io/config/internal/notify.cc): where a run's notification goes (email over SMTP, a webhook,
// a command), on which conditions, and how often a standing condition is repeated. Secrets are
// never here: only the name of the variable or the file that holds the SMTP password.
// Plain values; thread-compatible.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace usersync::io {

// The conditions a notification is sent for (notify.on), as the configuration spells them:
//   failed       exit 1 (some operations failed), or 2 after the store was opened (a missing
//                secret, an unusable configuration of the source)
//   held         exit 3 (deprovisioning held by the safety threshold)
//   unreachable  exit 4 (the source or the target unreachable, a token refused)
//   quarantined  exit 4 because the target failed mid-run and the run stopped early
//   drift        exit 5 (apply refused operations whose accounts changed since the plan)
//   recovered    a run that exits 0 after a notified condition
inline constexpr const char* kNotifyConditions[] = {"failed",      "held",  "unreachable",
                                                    "quarantined", "drift", "recovered"};

struct NotifyConfig {
  // Email: recipients (empty: no email). smtp_url is smtp://HOST[:PORT] (STARTTLS, required
  // unless smtp_tls = "none") or smtps://HOST[:PORT] (TLS from the start).
  std::vector<std::string> email;
  std::string smtp_url;
  std::string from;
  std::string smtp_tls = "starttls";  // "starttls" | "none" (loopback hosts only)
  std::string smtp_user;              // empty: no authentication
  std::string smtp_password_env;      // one of these two when smtp_user is set
  std::string smtp_password_file;     // resolved
  std::string ca_file;                // resolved; empty: the system's CAs

  // Webhook: an http(s) URL without credentials (empty: none).
  std::string webhook;
  int webhook_attempts = 3;  // 1..10; waits 1 s, 2 s, 4 s ... between them

  // Command: the program (an absolute path or one beside the config) and its arguments; no
  // shell. Empty: none.
  std::vector<std::string> command;

  // Each sender's bound: the SMTP session, each webhook attempt, the command's run.
  std::chrono::milliseconds timeout{30'000};
  // A condition that stands is notified again after this long; 0: only when it first occurs.
  std::chrono::milliseconds repeat_every{std::chrono::hours(24)};
  // Which conditions are notified (kNotifyConditions; default all).
  std::vector<std::string> on = {std::begin(kNotifyConditions), std::end(kNotifyConditions)};

  bool enabled() const { return !email.empty() || !webhook.empty() || !command.empty(); }
};

}  // namespace usersync::io
