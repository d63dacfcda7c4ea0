#include "core/retry.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace usersync::core {

bool IsRetryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Status StatusFromHttp(int http_status, std::string_view context) {
  if (http_status >= 200 && http_status <= 299) return absl::OkStatus();
  const std::string message =
      context.empty() ? absl::StrCat("HTTP ", http_status) : std::string(context);
  switch (http_status) {
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
    case 410:
      return absl::NotFoundError(message);
    case 409:
      return absl::AlreadyExistsError(message);
    case 405:
    case 501:
      return absl::UnimplementedError(message);
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::UnavailableError(message);
    case 412:
      return absl::FailedPreconditionError(message);
    case 507:
      return absl::ResourceExhaustedError(message);
    default:
      break;
  }
  if (http_status >= 400 && http_status <= 499) return absl::InvalidArgumentError(message);
  if (http_status >= 500 && http_status <= 599) return absl::InternalError(message);
  return absl::UnknownError(message);
}

}  // namespace usersync::core
