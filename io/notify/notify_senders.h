// The three ways a notification leaves (README "Notifications"): an email over SMTP (libcurl),
// a webhook (an HTTP POST of the JSON summary, retried) and a command (the JSON on its stdin).
// Each is bounded in time and returns why it failed; none retries forever, none throws, none
// puts a secret in its error (the SMTP password is never echoed; server answers pass Redact).
//
// Threading: each call blocks the calling thread (libcurl easy handles, waitpid) and shares
// nothing, so calls from different threads are independent. libcurl's global init runs once.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "io/clock.h"
#include "io/config/notify_config.h"

namespace usersync::io {

struct EmailMessage {
  std::string subject;
  std::string body;  // plain text, LF line ends (sent as CRLF)
  std::string date;  // RFC 5322 date header value ("Mon, 07 Dec 2026 13:00:00 +0000")
};

// Sends `message` to notify.email through notify.smtp_url: STARTTLS required on smtp:// (unless
// smtp_tls = "none"), TLS from the start on smtps://; AUTH with notify.smtp_user and `password`
// when the user is set. The whole session is bounded by notify.timeout. Errors: kUnavailable
// "SMTP smtp://HOST:PORT: <libcurl's reason>" (the server's last answer included when it gave
// one), kInvalidArgument for a header value with a line break.
absl::Status SendEmail(const NotifyConfig& notify, const std::string& password,
                       const EmailMessage& message);

// POSTs `json` (Content-Type: application/json) to notify.webhook. A 2xx answer is success; a
// connection failure, a timeout (notify.timeout per attempt), 408, 429 or 5xx is tried again
// after 1 s, 2 s, 4 s ... (on `clock`), up to notify.webhook_attempts attempts in all; any other
// answer stops at once. Errors: kUnavailable "webhook HOST: <last reason> (after N attempts)".
absl::Status PostWebhook(const NotifyConfig& notify, const std::string& json, const Clock& clock);

// Runs notify.command (argv[0] a path, no shell, no PATH search) with `json` on its stdin and
// its stdout and stderr on this process's stderr; waits at most notify.timeout, then kills it
// (SIGKILL). OK when it exits 0; else kUnavailable naming the program and its exit status, the
// signal, or the timeout.
absl::Status RunNotifyCommand(const NotifyConfig& notify, const std::string& json);

}  // namespace usersync::io
