// Exit codes of the usersync command line (DESIGN.md "Command line"), decided by *what* went
// wrong, never by where: one function maps a Status to its code, one maps an applied batch's
// totals to its code. README.md has the table. Pure functions; thread-safe.
#pragma once

#include "absl/status/status.h"

namespace usersync::io {

struct ApplyTotals;

enum ExitCode : int {
  kExitOk = 0,
  kExitSomeFailed = 1,
  kExitUsage = 2,
  kExitHeld = 3,
  kExitUnreachable = 4,
  kExitDrift = 5,
};

// The exit code of a command that stopped on `status` (kExitOk for an OK status):
//   kInvalidArgument, kNotFound, kFailedPrecondition, kAlreadyExists, kOutOfRange → 2: bad usage
//     or configuration, a missing secret, a directory or plan file that is malformed, missing or
//     edited, a corrupt or unusable state store;
//   kUnavailable, kUnauthenticated, kPermissionDenied, kDeadlineExceeded, kResourceExhausted,
//     kDataLoss → 4: a source or target unreachable, a bind or token refused, an answer that is
//     garbage, another run holding the state store (RunLock answers kUnavailable);
//   anything else (kCancelled, kUnknown, kInternal, kUnimplemented, kAborted) → 1.
int ExitCodeFor(const absl::Status& status);

// The exit code of an applied batch: the target failing (quarantined) 4; failed, cancelled or
// not started operations 1; held deprovisioning 3; else 0.
int ExitCodeFor(const ApplyTotals& totals);

}  // namespace usersync::io
