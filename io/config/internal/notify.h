// The [notify] section (README "Notifications"; the values in io/config/notify_config.h). Used
// by io/config/config.cc's ParseTable; not a public API.
//
// - email: a string or an array of addresses; with it, smtp_url (smtp:// or smtps://, no
//   credentials in it) and from are required. smtp_tls = "none" (no STARTTLS) is accepted only
//   for smtp:// to a loopback host, so a password never crosses the network in clear.
// - smtp_user: with it, exactly one of smtp_password_env and smtp_password_file.
// - webhook: an http(s) URL without credentials; http:// only to a loopback host.
// - command: a string (the program) or an array (the program and its arguments); the program's
//   path is resolved like the other input files.
// - on: a subset of kNotifyConditions. timeout: above 0, at most 10 minutes. repeat_every: a
//   duration (0: no reminder). webhook_attempts: 1..10.
//
// Errors are kInvalidArgument "<file>:<line>:<col>: key 'notify.X' ...". Thread-compatible.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads [notify] (`table` may be null: no notifications) into `*notify`; relative paths
// resolve against `base_dir`.
absl::Status ParseNotify(const Ctx& ctx, const toml::table* table, const std::string& base_dir,
                         NotifyConfig* notify);

}  // namespace usersync::io::internal
