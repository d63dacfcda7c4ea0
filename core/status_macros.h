// Status propagation macros. Abseil 20220623 (Debian 12) ships no RETURN_IF_ERROR or
// ASSIGN_OR_RETURN of its own, so usersync keeps this pair. Header-only, no state.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define USERSYNC_STATUS_CONCAT_INNER_(a, b) a##b
#define USERSYNC_STATUS_CONCAT_(a, b) USERSYNC_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define USERSYNC_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status usersync_status_ = (expr);            \
    if (!usersync_status_.ok()) return usersync_status_; \
  } while (0)

// `lhs` = the value of `rexpr` (an absl::StatusOr<T>), or returns its error.
#define USERSYNC_ASSIGN_OR_RETURN(lhs, rexpr) \
  USERSYNC_ASSIGN_OR_RETURN_IMPL_(USERSYNC_STATUS_CONCAT_(usersync_statusor_, __LINE__), lhs, rexpr)

#define USERSYNC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = std::move(statusor).value()
