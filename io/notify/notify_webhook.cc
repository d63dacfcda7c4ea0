// PostWebhook (notify_senders.h): one libcurl easy handle, a bounded number of attempts.
#include <curl/curl.h>

#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "io/config/transport_check.h"
#include "io/notify/notify_senders.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The answer's body is not needed: drop it (bounded memory whatever the receiver sends).
size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

struct Attempt {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  std::string reason;
};

Attempt PostOnce(CURL* easy, const NotifyConfig& notify, const std::string& json) {
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "User-Agent: usersync-notify");
  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_URL, notify.webhook.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(notify.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, json.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!notify.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, notify.ca_file.c_str());
  Attempt attempt;
  attempt.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &attempt.http_status);
  curl_slist_free_all(headers);
  attempt.reason = attempt.code != CURLE_OK
                       ? std::string(error[0] != '\0' ? error : curl_easy_strerror(attempt.code))
                       : absl::StrCat("HTTP ", attempt.http_status);
  return attempt;
}

bool Succeeded(const Attempt& attempt) {
  return attempt.code == CURLE_OK && attempt.http_status >= 200 && attempt.http_status < 300;
}

bool Retryable(const Attempt& attempt) {
  if (attempt.code != CURLE_OK) return true;
  const long status = attempt.http_status;
  return status == 408 || status == 429 || status >= 500;
}

}  // namespace

absl::Status PostWebhook(const NotifyConfig& notify, const std::string& json, const Clock& clock) {
  GlobalInit();
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return absl::ResourceExhaustedError("webhook: curl_easy_init failed");
  Attempt attempt;
  int attempts = 0;
  std::chrono::seconds backoff(1);
  while (true) {
    attempt = PostOnce(easy, notify, json);
    ++attempts;
    if (Succeeded(attempt)) break;
    if (!Retryable(attempt) || attempts >= notify.webhook_attempts) break;
    clock.SleepFor(backoff);
    backoff *= 2;
  }
  curl_easy_cleanup(easy);
  if (Succeeded(attempt)) return absl::OkStatus();
  // The host only: a webhook URL's path often carries the receiver's secret.
  return absl::UnavailableError(
      Redact(absl::StrCat("webhook ", UrlHost(notify.webhook), ": ", attempt.reason, " (after ",
                          attempts, attempts == 1 ? " attempt)" : " attempts)")));
}

}  // namespace usersync::io
