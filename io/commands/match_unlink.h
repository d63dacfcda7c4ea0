// `usersync match --unlink DIRECTORY_ID...` / `match --unlink --csv FILE`: forgets the stored
// link (and the manual match, if any) of each directory id, so that the next plan matches it
// again (link → manual → email) or creates its account. The way out when an account was deleted
// at the target ("linked account ... no longer exists") or the state store met another tenant.
//
// Needs only the configuration and the state store: neither the directory nor the target is
// read, so it works while the target refuses to be planned on (core::DanglingLinksRefusal). It
// takes the state store's RunLock (a sync in progress would write links back). All or nothing:
// an id with no link and no manual match is named (by CSV line number in the CSV form), exit 2,
// and nothing is changed. What was forgotten is printed and recorded as a run of mode "unlink"
// whose summary lists each id with its former account. Thread-compatible.
#pragma once

#include "io/commands/commands.h"

namespace usersync::io {

// REQUIRES: options.unlink. Exit 0, 2 (usage, unknown id, bad CSV), 4 (RunLock held).
int RunUnlinkCommand(const CommandOptions& options);

}  // namespace usersync::io
