// The HTTP/1.1 bytes of HostileProxy (hostile_proxy.h): reading a request from a client
// socket, one exchange with the upstream target, writing an answer, and the rewrites the
// faults make to queries and SCIM ListResponse bodies. Plain functions on blocking sockets;
// thread-compatible. Internal to tests/support.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::testing::hostile {

using Headers = std::vector<std::pair<std::string, std::string>>;  // in order, names as sent

struct HttpRequest {
  std::string method;
  std::string target;  // path?query
  Headers headers;
  std::string body;

  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', or ""
};

struct HttpAnswer {
  int status = 0;
  std::string reason;
  Headers headers;  // without Content-Length, Transfer-Encoding, Connection, Keep-Alive
  std::string body;
};

// The value of header `name` (case-insensitive), or nullopt.
std::optional<std::string> HeaderValue(const Headers& headers, std::string_view name);

// Reads the next request from `fd` into `request`, answering "100 Continue" when the client
// expects it. `buffered` holds bytes read past the previous request and keeps those past this
// one. Returns false when the client closed the connection cleanly before a request; errors:
// InvalidArgument (not HTTP/1.1 as this proxy reads it: no Content-Length on a body, chunked,
// head over 64 KiB, body over 16 MiB), Unavailable (the socket failed mid-request).
absl::StatusOr<bool> ReadRequest(int fd, std::string& buffered, HttpRequest& request);

// Sends `request` to 127.0.0.1:`port` on a new connection (Connection: close) and reads the
// whole answer (Content-Length, chunked or close-delimited; at most 64 MiB).
// Errors: Unavailable (connect, send, receive, a malformed answer).
absl::StatusOr<HttpAnswer> Exchange(int port, const HttpRequest& request);

// Writes `answer` to `fd` with "Content-Length: body size" (or `content_length` when given:
// a lie) and "Connection: keep-alive" (or close). False when the send failed.
bool WriteAnswer(int fd, const HttpAnswer& answer, bool keep_alive,
                 std::optional<int64_t> content_length = std::nullopt);
// send(2) of all of `bytes` without SIGPIPE. False when the send failed.
bool SendAll(int fd, std::string_view bytes);

// `target` with query parameter `name` set to `value` (added when absent).
std::string WithQueryParam(std::string_view target, std::string_view name, std::string_view value);
// `body` with the number after "totalResults": replaced by `total` (unchanged when absent).
std::string WithTotalResults(std::string_view body, std::string_view total);
// `body` with the first element of its "Resources" array repeated after itself (unchanged
// when there is no such array or it is empty).
std::string WithFirstResourceRepeated(std::string_view body);

}  // namespace usersync::testing::hostile
