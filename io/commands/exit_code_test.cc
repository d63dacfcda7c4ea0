#include "io/commands/exit_code.h"

#include <gtest/gtest.h>

#include "io/executor.h"

namespace usersync::io {
namespace {

// Every canonical code: the exit code is decided by what failed, never by where.
TEST(ExitCodeFor, EveryStatusCode) {
  const struct {
    absl::StatusCode code;
    int exit_code;
  } kCases[] = {
      {absl::StatusCode::kOk, kExitOk},
      {absl::StatusCode::kCancelled, kExitSomeFailed},
      {absl::StatusCode::kUnknown, kExitSomeFailed},
      {absl::StatusCode::kInvalidArgument, kExitUsage},
      {absl::StatusCode::kDeadlineExceeded, kExitUnreachable},
      {absl::StatusCode::kNotFound, kExitUsage},
      {absl::StatusCode::kAlreadyExists, kExitUsage},
      {absl::StatusCode::kPermissionDenied, kExitUnreachable},
      {absl::StatusCode::kResourceExhausted, kExitUnreachable},
      {absl::StatusCode::kFailedPrecondition, kExitUsage},
      {absl::StatusCode::kAborted, kExitSomeFailed},
      {absl::StatusCode::kOutOfRange, kExitUsage},
      {absl::StatusCode::kUnimplemented, kExitSomeFailed},
      {absl::StatusCode::kInternal, kExitSomeFailed},
      {absl::StatusCode::kUnavailable, kExitUnreachable},
      {absl::StatusCode::kDataLoss, kExitUnreachable},
      {absl::StatusCode::kUnauthenticated, kExitUnreachable},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(ExitCodeFor(absl::Status(c.code, "x")), c.exit_code)
        << absl::StatusCodeToString(c.code);
  }
}

// A syntax error in the directory file (the LDIF reader's kInvalidArgument) is bad input, 2;
// another run holding the state store (RunLock's kUnavailable) is 4.
TEST(ExitCodeFor, MalformedInputIs2AndABusyStoreIs4) {
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("dir.ldif:12: no colon")), 2);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("dir.ldif: cannot open")), 2);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("held by pid 42")), 4);
}

TEST(ExitCodeFor, TotalsInOrderOfGravity) {
  ApplyTotals totals;
  EXPECT_EQ(ExitCodeFor(totals), kExitOk);
  totals.held = 2;
  EXPECT_EQ(ExitCodeFor(totals), kExitHeld);
  totals.not_started = 1;
  EXPECT_EQ(ExitCodeFor(totals), kExitSomeFailed);
  totals.not_started = 0;
  totals.cancelled = 1;
  EXPECT_EQ(ExitCodeFor(totals), kExitSomeFailed);
  totals.cancelled = 0;
  totals.failed = 1;
  EXPECT_EQ(ExitCodeFor(totals), kExitSomeFailed);
  totals.quarantined = true;
  EXPECT_EQ(ExitCodeFor(totals), kExitUnreachable);
}

// Logs that could not be written make a run that did everything else right exit 1.
TEST(ExitCodeFor, LostLogsAre1EvenWithEverythingDone) {
  ApplyTotals totals;
  totals.done = 5;
  totals.held = 1;
  totals.logs_failed = true;
  EXPECT_EQ(ExitCodeFor(totals), kExitSomeFailed);
}

}  // namespace
}  // namespace usersync::io
