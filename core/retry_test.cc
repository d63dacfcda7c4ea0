#include "core/retry.h"

#include "gtest/gtest.h"

namespace usersync::core {
namespace {

TEST(RetryPolicy, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("x")));
  EXPECT_TRUE(IsRetryable(absl::DeadlineExceededError("x")));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
  EXPECT_FALSE(IsRetryable(absl::UnauthenticatedError("x")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("x")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsRetryable(absl::NotFoundError("x")));
  EXPECT_FALSE(IsRetryable(absl::AlreadyExistsError("x")));
  EXPECT_FALSE(IsRetryable(absl::InternalError("x")));
  EXPECT_FALSE(IsRetryable(absl::ResourceExhaustedError("x")));
  EXPECT_FALSE(IsRetryable(absl::CancelledError("x")));
}

TEST(RetryStatusFromHttp, Mapping) {
  struct Case {
    int http;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {200, absl::StatusCode::kOk},
      {201, absl::StatusCode::kOk},
      {204, absl::StatusCode::kOk},
      {400, absl::StatusCode::kInvalidArgument},
      {422, absl::StatusCode::kInvalidArgument},
      {418, absl::StatusCode::kInvalidArgument},
      {401, absl::StatusCode::kUnauthenticated},
      {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},
      {410, absl::StatusCode::kNotFound},
      {405, absl::StatusCode::kUnimplemented},
      {409, absl::StatusCode::kAlreadyExists},
      {412, absl::StatusCode::kFailedPrecondition},
      {408, absl::StatusCode::kUnavailable},
      {429, absl::StatusCode::kUnavailable},
      {502, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},
      {504, absl::StatusCode::kUnavailable},
      {500, absl::StatusCode::kInternal},
      {599, absl::StatusCode::kInternal},
      {507, absl::StatusCode::kResourceExhausted},
      {0, absl::StatusCode::kUnknown},
      {302, absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StatusFromHttp(c.http, "ctx").code(), c.code) << c.http;
  }
}

TEST(RetryStatusFromHttp, MessageIsTheContext) {
  EXPECT_EQ(StatusFromHttp(409, "POST /Users: HTTP 409 uniqueness").message(),
            "POST /Users: HTTP 409 uniqueness");
  EXPECT_EQ(StatusFromHttp(503, "").message(), "HTTP 503");
  EXPECT_TRUE(StatusFromHttp(204, "ignored").ok());
}

}  // namespace
}  // namespace usersync::core
