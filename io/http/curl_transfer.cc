#include "io/http/curl_transfer.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io::internal {
namespace {

std::string_view TrimHeaderValue(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
    v.remove_suffix(1);
  return v;
}

}  // namespace

void CurlTransfer::Configure(CURL* easy, const HttpRequest& request, const std::string& auth_header,
                             const TransferLimits& limits) {
  ReleaseHeaders();
  request_ = &request;
  max_response_bytes_ = limits.max_response_bytes;
  resend_allowed_ = request.idempotent;
  body_.clear();
  retry_after_.clear();
  location_.clear();
  errbuf_[0] = '\0';
  sends_ = 0;
  resend_refused_ = false;
  too_large_ = false;

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(limits.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlTransfer::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlTransfer::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &CurlTransfer::OnPrereq);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, this);
  // A Content-Length above the bound is refused before the body is read.
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(limits.max_response_bytes));
  SetMethodAndBody(easy);

  const bool has_body = !request.body.empty() || request.method == "POST" ||
                        request.method == "PUT" || request.method == "PATCH";
  if (!auth_header.empty()) headers_ = curl_slist_append(headers_, auth_header.c_str());
  headers_ = curl_slist_append(headers_, "Accept: application/scim+json, application/json");
  if (has_body) {
    headers_ = curl_slist_append(headers_,
                                 absl::StrCat("Content-Type: ", Sv(request.content_type)).c_str());
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
}

void CurlTransfer::SetMethodAndBody(CURL* easy) {
  const HttpRequest& req = *request_;
  const bool has_body =
      !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (req.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (req.method == "POST" || has_body) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    if (req.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (!has_body) return;
  // The size is known: Content-Length, never chunked; the body goes out with the headers.
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
}

void CurlTransfer::ReleaseHeaders() {
  if (headers_ != nullptr) {
    curl_slist_free_all(headers_);
    headers_ = nullptr;
  }
}

size_t CurlTransfer::OnBody(char* data, size_t size, size_t count, void* user) {
  auto* self = static_cast<CurlTransfer*>(user);
  const size_t n = size * count;
  std::string& body = self->body_;
  const auto bound = static_cast<size_t>(self->max_response_bytes_);
  if (n > bound || body.size() > bound - n) {
    self->too_large_ = true;
    return 0;  // CURLE_WRITE_ERROR: the transfer stops here
  }
  if (body.capacity() < body.size() + n + kResponsePadding) {
    // Doubling, but never past the bound: an answer near the bound costs one bound, not two.
    const size_t want = body.size() + n + kResponsePadding;
    body.reserve(std::max(want, std::min(body.capacity() * 2, bound + kResponsePadding)));
  }
  body.append(data, n);
  return n;
}

size_t CurlTransfer::OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* self = static_cast<CurlTransfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
    // A new response (after a 100 Continue or a redirect): forget the previous headers.
    self->retry_after_.clear();
    self->location_.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const std::string_view name = line.substr(0, colon);
  if (core::EqualsIgnoreCase(name, "Retry-After")) {
    self->retry_after_ = std::string(TrimHeaderValue(line.substr(colon + 1)));
  } else if (core::EqualsIgnoreCase(name, "Location")) {
    self->location_ = std::string(TrimHeaderValue(line.substr(colon + 1)));
  }
  return n;
}

int CurlTransfer::OnPrereq(void* user, char*, char*, int, int) {
  auto* self = static_cast<CurlTransfer*>(user);
  if (self->sends_ > 0 && !self->resend_allowed_) {
    // libcurl is about to send a non-idempotent request again by itself (its first copy went
    // out on a reused connection that died before any answer byte): the server may have acted
    // on that copy, so it must not. The transfer fails with CURLE_ABORTED_BY_CALLBACK.
    self->resend_refused_ = true;
    return CURL_PREREQFUNC_ABORT;
  }
  ++self->sends_;
  return CURL_PREREQFUNC_OK;
}

}  // namespace usersync::io::internal
