// SendEmail (notify_senders.h): libcurl's SMTP upload, as curl's own smtp-tls.c example does it.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/str.h"
#include "io/notify/notify_senders.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string_view rest;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->rest.size());
  std::memcpy(buffer, upload->rest.data(), n);
  upload->rest.remove_prefix(n);
  return n;
}

bool HasLineBreak(std::string_view value) {
  return value.find_first_of("\r\n") != std::string_view::npos;
}

// "<addr>" for MAIL FROM / RCPT TO.
std::string Angle(std::string_view address) { return absl::StrCat("<", Sv(address), ">"); }

// The message as RFC 5322 text: headers, a blank line, the body with CRLF line ends. libcurl
// dot-stuffs the body itself.
std::string MessageText(const NotifyConfig& notify, const EmailMessage& message) {
  std::string to;
  for (const std::string& address : notify.email)
    absl::StrAppend(&to, to.empty() ? "" : ", ", address);
  const std::string body = absl::StrReplaceAll(message.body, {{"\r\n", "\n"}});
  return absl::StrCat("Date: ", message.date, "\r\nFrom: ", notify.from, "\r\nTo: ", to,
                      "\r\nSubject: ", message.subject,
                      "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
                      absl::StrReplaceAll(body, {{"\n", "\r\n"}}));
}

}  // namespace

absl::Status SendEmail(const NotifyConfig& notify, const std::string& password,
                       const EmailMessage& message) {
  if (HasLineBreak(message.subject) || HasLineBreak(notify.from) ||
      std::any_of(notify.email.begin(), notify.email.end(), HasLineBreak)) {
    return absl::InvalidArgumentError("an email header value holds a line break");
  }
  GlobalInit();
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return absl::ResourceExhaustedError("SMTP: curl_easy_init failed");
  const std::string text = MessageText(notify, message);
  Upload upload{text};
  curl_slist* recipients = nullptr;
  for (const std::string& address : notify.email) {
    recipients = curl_slist_append(recipients, Angle(address).c_str());
  }
  const std::string from = Angle(notify.from);
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(easy, CURLOPT_URL, notify.smtp_url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(notify.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(easy, CURLOPT_READDATA, &upload);
  // smtps:// is TLS from the start; on smtp:// STARTTLS is required (CURLUSESSL_ALL fails the
  // session when the server does not offer it) unless smtp_tls = "none" (loopback only).
  curl_easy_setopt(easy, CURLOPT_USE_SSL,
                   notify.smtp_tls == "none" ? CURLUSESSL_NONE : CURLUSESSL_ALL);
  if (!notify.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, notify.ca_file.c_str());
  if (!notify.smtp_user.empty()) {
    curl_easy_setopt(easy, CURLOPT_USERNAME, notify.smtp_user.c_str());
    curl_easy_setopt(easy, CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode code = curl_easy_perform(easy);
  long smtp_code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &smtp_code);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(easy);
  if (code == CURLE_OK) return absl::OkStatus();
  return absl::UnavailableError(Redact(absl::StrCat(
      "SMTP ", notify.smtp_url, ": ", error[0] != '\0' ? error : curl_easy_strerror(code),
      smtp_code > 0 ? absl::StrCat(" (last answer ", smtp_code, ")") : "")));
}

}  // namespace usersync::io
