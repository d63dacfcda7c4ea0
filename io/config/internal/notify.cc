#include "io/config/internal/notify.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "io/config/transport_check.h"

namespace usersync::io::internal {
namespace {

constexpr std::string_view kKeys[] = {"email",
                                      "smtp_url",
                                      "from",
                                      "smtp_tls",
                                      "smtp_user",
                                      "smtp_password_env",
                                      "smtp_password_file",
                                      "ca_file",
                                      "webhook",
                                      "webhook_attempts",
                                      "command",
                                      "timeout",
                                      "repeat_every",
                                      "on"};

// A string or an array of strings; an empty string or item is refused.
absl::Status StringOrArray(const Section& section, std::string_view key,
                           std::vector<std::string>* out) {
  const toml::node* node = section.Node(key);
  if (node == nullptr) return absl::OkStatus();
  if (node->is_string()) {
    std::string one;
    USERSYNC_RETURN_IF_ERROR(section.String(key, &one));
    *out = {one};
  } else if (node->is_array()) {
    USERSYNC_RETURN_IF_ERROR(section.StringArray(key, out));
  } else {
    return section.TypeError(*node, key, "a string or an array of strings");
  }
  for (const std::string& item : *out) {
    if (item.empty()) return section.ValueError(key, "holds an empty string");
  }
  return absl::OkStatus();
}

// A URL of one of `schemes` without "user:password@" (a secret in the file).
absl::Status CheckNotifyUrl(const Section& section, std::string_view key, const std::string& url,
                            std::initializer_list<std::string_view> schemes) {
  const bool known = std::any_of(schemes.begin(), schemes.end(),
                                 [&](std::string_view scheme) { return StartsWith(url, scheme); });
  if (!known) {
    std::string names;
    for (std::string_view scheme : schemes) {
      absl::StrAppend(&names, names.empty() ? "" : " or ", Sv(scheme));
    }
    return section.ValueError(key, absl::StrCat("must start with ", names));
  }
  if (UrlHasPassword(url)) {
    return section.ValueError(key,
                              "must not carry credentials (user:password@): they would be "
                              "a secret in the file");
  }
  return absl::OkStatus();
}

// The local mail transfer agent, for an email without notify.smtp_url.
constexpr std::string_view kLocalMta = "smtp://localhost:25";

// "usersync@HOST" (this machine's name), for an email without notify.from.
std::string DefaultSender() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "usersync@localhost";
  return absl::StrCat("usersync@", host);
}

absl::Status ReadEmail(const Section& section, const std::string& base_dir, NotifyConfig* notify) {
  USERSYNC_RETURN_IF_ERROR(StringOrArray(section, "email", &notify->email));
  USERSYNC_RETURN_IF_ERROR(section.String("smtp_url", &notify->smtp_url));
  USERSYNC_RETURN_IF_ERROR(section.String("from", &notify->from));
  // DESIGN.md's [notify] names only the recipients: without smtp_url the local mail transfer
  // agent relays, on loopback, where mail in clear crosses no network.
  const bool local_mta = notify->smtp_url.empty();
  if (local_mta) notify->smtp_tls = "none";
  constexpr std::string_view kTls[] = {"starttls", "none"};
  USERSYNC_RETURN_IF_ERROR(section.Enum("smtp_tls", kTls, &notify->smtp_tls));
  USERSYNC_RETURN_IF_ERROR(section.String("smtp_user", &notify->smtp_user));
  USERSYNC_RETURN_IF_ERROR(section.String("smtp_password_env", &notify->smtp_password_env));
  USERSYNC_RETURN_IF_ERROR(CheckEnvName(section, "smtp_password_env", notify->smtp_password_env));
  USERSYNC_RETURN_IF_ERROR(section.String("smtp_password_file", &notify->smtp_password_file));
  USERSYNC_RETURN_IF_ERROR(section.String("ca_file", &notify->ca_file));
  notify->smtp_password_file = ResolveInput(base_dir, notify->smtp_password_file);
  notify->ca_file = ResolveInput(base_dir, notify->ca_file);
  if (notify->email.empty()) return absl::OkStatus();
  if (local_mta) notify->smtp_url = std::string(kLocalMta);
  if (notify->from.empty()) notify->from = DefaultSender();
  USERSYNC_RETURN_IF_ERROR(
      CheckNotifyUrl(section, "smtp_url", notify->smtp_url, {"smtp://", "smtps://"}));
  if (notify->smtp_tls == "none" &&
      (!StartsWith(notify->smtp_url, "smtp://") || !IsLoopbackUrl(notify->smtp_url))) {
    return section.ValueError("smtp_tls",
                              "= \"none\" is accepted only for smtp:// to a loopback "
                              "host (mail in clear would cross the network)");
  }
  const bool has_env = !notify->smtp_password_env.empty();
  const bool has_file = !notify->smtp_password_file.empty();
  if (!notify->smtp_user.empty() && has_env == has_file) {
    return section.ValueError("smtp_user",
                              "needs exactly one of 'notify.smtp_password_env' "
                              "and 'notify.smtp_password_file'");
  }
  return absl::OkStatus();
}

absl::Status ReadWebhook(const Section& section, NotifyConfig* notify) {
  USERSYNC_RETURN_IF_ERROR(section.String("webhook", &notify->webhook));
  USERSYNC_RETURN_IF_ERROR(section.Int("webhook_attempts", &notify->webhook_attempts));
  if (notify->webhook_attempts < 1 || notify->webhook_attempts > 10) {
    return section.ValueError("webhook_attempts", "must be 1 to 10");
  }
  if (notify->webhook.empty()) return absl::OkStatus();
  USERSYNC_RETURN_IF_ERROR(
      CheckNotifyUrl(section, "webhook", notify->webhook, {"https://", "http://"}));
  if (StartsWith(notify->webhook, "http://") && !IsLoopbackUrl(notify->webhook)) {
    return section.ValueError("webhook", "must be https:// (http:// only to a loopback host)");
  }
  return absl::OkStatus();
}

absl::Status ReadWhen(const Section& section, NotifyConfig* notify) {
  USERSYNC_RETURN_IF_ERROR(section.Duration("timeout", &notify->timeout));
  if (notify->timeout <= std::chrono::milliseconds(0) ||
      notify->timeout > std::chrono::minutes(10)) {
    return section.ValueError("timeout", "must be above 0 and at most 10m");
  }
  USERSYNC_RETURN_IF_ERROR(section.Duration("repeat_every", &notify->repeat_every));
  USERSYNC_RETURN_IF_ERROR(section.StringArray("on", &notify->on));
  for (const std::string& condition : notify->on) {
    if (std::none_of(std::begin(kNotifyConditions), std::end(kNotifyConditions),
                     [&](const char* known) { return condition == known; })) {
      std::vector<std::string_view> allowed(std::begin(kNotifyConditions),
                                            std::end(kNotifyConditions));
      return section.ValueError(
          "on", absl::StrCat("holds \"", condition, "\"; each must be ", Section::Quoted(allowed)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseNotify(const Ctx& ctx, const toml::table* table, const std::string& base_dir,
                         NotifyConfig* notify) {
  if (table == nullptr) return absl::OkStatus();
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "notify", kKeys));
  const Section section(ctx, table, "notify");
  USERSYNC_RETURN_IF_ERROR(ReadEmail(section, base_dir, notify));
  USERSYNC_RETURN_IF_ERROR(ReadWebhook(section, notify));
  USERSYNC_RETURN_IF_ERROR(StringOrArray(section, "command", &notify->command));
  if (!notify->command.empty()) {
    notify->command.front() = ResolveInput(base_dir, notify->command.front());
  }
  return ReadWhen(section, notify);
}

}  // namespace usersync::io::internal
