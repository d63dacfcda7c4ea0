// Blocking HTTP for integration tests, on libcurl's easy interface: one request, one
// connection (no reuse), no retries, 30 s timeout. Thread-safe (each call has its own
// handle; curl_global_init runs once).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "io/http/http_util.h"

namespace usersync::testing {

struct HttpResult {
  long status = 0;  // 0: the request failed before an HTTP answer (see `error`)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; the last value wins
  std::string error;                           // curl's message when status == 0
};

// Sends `method` to `url` with "Authorization: Bearer `token`" (none when `token` is empty)
// and `body` (Content-Type application/scim+json when not empty). `extra_headers` are
// "Name: value" lines (e.g. "If-Match: W/\"2\"").
HttpResult HttpRequest(const std::string& method, const std::string& url, const std::string& token,
                       const std::string& body = "",
                       const std::vector<std::string>& extra_headers = {});

inline HttpResult HttpGet(const std::string& url, const std::string& token) {
  return HttpRequest("GET", url, token);
}
inline HttpResult HttpPost(const std::string& url, const std::string& token,
                           const std::string& body) {
  return HttpRequest("POST", url, token, body);
}
inline HttpResult HttpPut(const std::string& url, const std::string& token,
                          const std::string& body) {
  return HttpRequest("PUT", url, token, body);
}
inline HttpResult HttpPatch(const std::string& url, const std::string& token,
                            const std::string& body) {
  return HttpRequest("PATCH", url, token, body);
}
inline HttpResult HttpDelete(const std::string& url, const std::string& token) {
  return HttpRequest("DELETE", url, token);
}

// Percent-encoding for query values: the one io/http uses.
using io::UrlEncode;

}  // namespace usersync::testing
