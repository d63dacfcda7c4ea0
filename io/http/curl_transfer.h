// CurlTransfer: one attempt of one HttpRequest on a libcurl easy handle: the options it sets
// and the callbacks that collect the answer. Internal to HttpPipeline (http_pipeline.cc).
//
// What it guarantees beyond plain libcurl:
//   - The answer's body is bounded: a body that would pass `max_response_bytes` stops the
//     transfer (the write callback returns 0 → CURLE_WRITE_ERROR, too_large() is true), and a
//     Content-Length announcing more is refused before any byte is read
//     (CURLOPT_MAXFILESIZE_LARGE → CURLE_FILESIZE_EXCEEDED). Memory stays under the bound plus
//     kResponsePadding whatever the server streams.
//   - A non-idempotent request is sent at most once per attempt. libcurl resends a request by
//     itself when a reused keep-alive connection dies before any answer byte (transfer.c,
//     Curl_retry_request: "Connection died, retrying a fresh connect"); for a POST the server
//     already stored, that is a duplicate. Every request start goes through the pre-request
//     callback (CURLOPT_PREREQFUNCTION, libcurl >= 7.80), which refuses a second start of a
//     non-idempotent request: the transfer fails with CURLE_ABORTED_BY_CALLBACK and
//     resend_refused() says the outcome is unknown. Bodies stay CURLOPT_POSTFIELDS (sent with
//     the headers): a read callback whose seek callback refuses the rewind stops the resend
//     too, but sends the body after the headers as a second write, and measured slower
//     (bench/pipeline_create_bench.cc). Idempotent requests keep libcurl's resend.
//   - sends() counts the requests libcurl really started (its own resends included; a
//     connection that never came up sends nothing).
//
// Threading: used on the pipeline thread only. Ownership: the transfer must not move while
// attached to an easy handle (the callbacks hold `this`); the request and `auth_header` passed
// to Configure must outlive the transfer.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/http/http_pipeline.h"

namespace usersync::io::internal {

struct TransferLimits {
  int64_t max_response_bytes = 0;
  std::chrono::milliseconds timeout{0};  // the whole attempt, connection included
  std::chrono::milliseconds connect_timeout{0};
};

class CurlTransfer {
 public:
  CurlTransfer() = default;
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;
  ~CurlTransfer() { ReleaseHeaders(); }

  // Clears the previous attempt's results and sets every option `easy` needs to send
  // `request` once (`easy` was just made or curl_easy_reset). `auth_header` ("Authorization:
  // Bearer ...") may be empty.
  void Configure(CURL* easy, const HttpRequest& request, const std::string& auth_header,
                 const TransferLimits& limits);

  // Frees the header list once the easy handle is done with it.
  void ReleaseHeaders();

  std::string& body() { return body_; }
  const std::string& retry_after() const { return retry_after_; }
  std::string& location() { return location_; }
  const char* error_text() const { return errbuf_; }
  int sends() const { return sends_; }
  bool resend_refused() const { return resend_refused_; }
  bool too_large() const { return too_large_; }

 private:
  static size_t OnBody(char* data, size_t size, size_t count, void* user);
  static size_t OnHeader(char* data, size_t size, size_t count, void* user);
  static int OnPrereq(void* user, char* primary_ip, char* local_ip, int primary_port,
                      int local_port);

  void SetMethodAndBody(CURL* easy);

  const HttpRequest* request_ = nullptr;
  int64_t max_response_bytes_ = 0;
  bool resend_allowed_ = true;  // the request is idempotent
  std::string body_;
  std::string retry_after_;
  std::string location_;
  char errbuf_[CURL_ERROR_SIZE] = {};
  curl_slist* headers_ = nullptr;
  int sends_ = 0;
  bool resend_refused_ = false;
  bool too_large_ = false;
};

}  // namespace usersync::io::internal
