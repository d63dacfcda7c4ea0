#include "io/http/oauth2_token_endpoint.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/http/curl_transfer.h"
#include "io/http/json_util.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

constexpr int64_t kMaxExpiresIn = 365 * 24 * 3600;
constexpr size_t kMaxErrorText = 200;

// Visible ASCII only: a token becomes part of a header line.
bool IsTokenText(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// An OAuth error field, cut and stripped of control characters (it is printed).
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxErrorText)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  }
  return out;
}

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(absl::StrCat("token answer: ", Sv(what)));
}

// The `error` and `error_description` of an error answer (§5.2); empty when the body is not one.
void ReadErrorAnswer(const std::string& body, std::string* error, std::string* description) {
  simdjson::padded_string copy;
  json::od::document doc;
  if (json::ThreadParser().iterate(json::Padded(body, &copy)).get(doc)) return;
  json::od::object object;
  if (doc.get_object().get(object)) return;
  for (auto field_result : object) {
    json::od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return;
    std::string_view value;
    if (field.value().get_string().get(value)) continue;
    if (key == "error") *error = Printable(value);
    if (key == "error_description") *description = Printable(value);
  }
}

absl::Status ErrorFromAnswer(const TokenEndpointOptions& options, int http_status,
                             const std::string& body) {
  const std::string where =
      absl::StrCat("token endpoint ", options.token_url, ": HTTP ", http_status);
  if (http_status == 429 || http_status >= 500) {
    return absl::UnavailableError(absl::StrCat(where, " (try again later)"));
  }
  std::string error;
  std::string description;
  ReadErrorAnswer(body, &error, &description);
  std::string detail = error.empty() ? "" : absl::StrCat(" ", error);
  if (!description.empty()) absl::StrAppend(&detail, ": ", description);
  if (error == "invalid_grant") {
    return absl::UnauthenticatedError(absl::StrCat(
        where, detail,
        " (the refresh token or authorization code was refused: it expired, was revoked or was "
        "already used; run `usersync authorize -c CONFIG` to authorize again)"));
  }
  if (error == "invalid_client") {
    const bool basic = options.client_auth == ClientAuth::kBasic;
    return absl::UnauthenticatedError(absl::StrCat(
        where, detail,
        " (the client was refused: check target.client_id and the client secret; they were sent "
        "with target.client_auth = \"",
        Sv(ClientAuthName(options.client_auth)), "\" (",
        basic ? "the raw id:secret" : "each form-encoded first, as RFC 6749 §2.3.1 says",
        "): a server that decodes them the other way refuses a secret holding characters such as "
        "'+', '/' or '=', so try target.client_auth = \"",
        Sv(ClientAuthName(basic ? ClientAuth::kBasicForm : ClientAuth::kBasic)), "\")"));
  }
  return absl::UnauthenticatedError(absl::StrCat(where, detail));
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat("cannot ", Sv(what), " ", path, ": ", std::strerror(errno)));
}

}  // namespace

std::string FormEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string BasicCredentials(ClientAuth mode, std::string_view client_id,
                             std::string_view client_secret) {
  if (mode == ClientAuth::kBasicForm) {
    return absl::Base64Escape(absl::StrCat(FormEncode(client_id), ":", FormEncode(client_secret)));
  }
  return absl::Base64Escape(absl::StrCat(Sv(client_id), ":", Sv(client_secret)));
}

absl::StatusOr<TokenAnswer> ParseTokenAnswer(std::string_view body) {
  std::string owned(body);
  simdjson::padded_string copy;
  json::od::document doc;
  if (json::ThreadParser().iterate(json::Padded(owned, &copy)).get(doc)) {
    return Bad("not JSON");
  }
  json::od::object object;
  if (doc.get_object().get(object)) return Bad("not a JSON object");
  TokenAnswer answer;
  bool has_access = false;
  for (auto field_result : object) {
    json::od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return Bad("broken JSON");
    }
    if (key == "access_token" || key == "refresh_token") {
      std::string_view value;
      if (field.value().get_string().get(value) || !IsTokenText(value)) {
        return Bad(
            absl::StrCat(Sv(key), " must be 1 to ", kMaxTokenBytes, " visible ASCII characters"));
      }
      (key == "access_token" ? answer.access_token : answer.refresh_token) = std::string(value);
      has_access = has_access || key == "access_token";
    } else if (key == "expires_in") {
      int64_t seconds = 0;
      if (json::GetIntOrDigits(field.value(), &seconds) || seconds < 1 || seconds > kMaxExpiresIn) {
        return Bad(
            absl::StrCat("expires_in must be a number of seconds from 1 to ", kMaxExpiresIn));
      }
      answer.expires_in = std::chrono::seconds(seconds);
    } else if (key == "token_type") {
      std::string_view type;
      if (field.value().get_string().get(type) || !absl::EqualsIgnoreCase(Sv(type), "bearer")) {
        return Bad("token_type must be \"Bearer\"");
      }
    }  // principal, scope, ...: not ours to read (the iteration skips them)
  }
  if (!has_access) return Bad("no access_token");
  return answer;
}

absl::StatusOr<TokenAnswer> RequestToken(const TokenEndpointOptions& options,
                                         std::string_view form) {
  GlobalInitOnce();
  HttpRequest request;
  request.method = "POST";
  request.url = options.token_url;
  request.body = std::string(form);
  request.content_type = "application/x-www-form-urlencoded";
  request.idempotent = false;  // a refresh grant may rotate: never sent twice by libcurl
  const std::string credentials =
      BasicCredentials(options.client_auth, options.client_id, options.client_secret);
  // A server that echoes the whole header (as a 400 body may) must not carry the secret into
  // a log: the base64 of "id:secret" is a form of it that RegisterSecret(secret) cannot know.
  RegisterSecret(credentials);
  const std::string auth_header = absl::StrCat("Authorization: Basic ", credentials);
  internal::TransferLimits limits;
  limits.max_response_bytes = options.max_answer_bytes;
  limits.timeout = options.timeout;
  limits.connect_timeout = options.connect_timeout;

  CURL* easy = curl_easy_init();
  if (easy == nullptr) return absl::InternalError("token endpoint: curl_easy_init failed");
  internal::CurlTransfer transfer;
  transfer.Configure(easy, request, auth_header, limits);
  const CURLcode code = curl_easy_perform(easy);
  long http_status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_status);
  transfer.ReleaseHeaders();
  curl_easy_cleanup(easy);

  if (code == CURLE_WRITE_ERROR || code == CURLE_FILESIZE_EXCEEDED) {
    return absl::ResourceExhaustedError(absl::StrCat("token endpoint ", options.token_url,
                                                     ": answer larger than ",
                                                     options.max_answer_bytes, " bytes"));
  }
  if (code != CURLE_OK) {
    const char* text = transfer.error_text();
    return absl::UnavailableError(
        absl::StrCat("cannot reach the token endpoint ", options.token_url, ": ",
                     text[0] != '\0' ? std::string(text) : std::string(curl_easy_strerror(code))));
  }
  if (http_status < 200 || http_status > 299) {
    return ErrorFromAnswer(options, static_cast<int>(http_status), transfer.body());
  }
  absl::StatusOr<TokenAnswer> answer = ParseTokenAnswer(transfer.body());
  if (!answer.ok()) {
    return absl::DataLossError(
        absl::StrCat("token endpoint ", options.token_url, ": ", answer.status().message()));
  }
  return answer;
}

absl::Status WriteSecretFileAtomically(const std::string& path, std::string_view contents) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string temp = absl::StrCat(path, ".tmp.XXXXXX");
  const int fd = mkstemp(temp.data());  // mode 0600, whatever the umask
  if (fd < 0) return Errno("create a temporary file beside", path);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status status = Errno("write", temp);
      close(fd);
      unlink(temp.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
    absl::Status status = Errno("sync", temp);
    close(fd);
    unlink(temp.c_str());
    return status;
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status status = Errno("replace", path);
    unlink(temp.c_str());
    return status;
  }
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    (void)fsync(dir_fd);  // the rename itself survives a crash (best effort: it is done)
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace usersync::io
