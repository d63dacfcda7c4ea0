#include "io/commands/exit_code.h"

#include "io/executor.h"

namespace usersync::io {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDataLoss:
      return kExitUnreachable;
    default:
      return kExitSomeFailed;
  }
}

int ExitCodeFor(const ApplyTotals& totals) {
  if (totals.quarantined) return kExitUnreachable;
  if (totals.logs_failed) return kExitSomeFailed;
  if (totals.failed > 0 || totals.cancelled > 0 || totals.not_started > 0) return kExitSomeFailed;
  if (totals.held > 0) return kExitHeld;
  return kExitOk;
}

}  // namespace usersync::io
