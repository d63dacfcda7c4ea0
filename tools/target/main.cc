// usersync-target: the target emulator as a program (DESIGN.md "Command line").
// Flags → EmulatorOptions → EmulatorServer::Start → one "listening on" line → wait for
// SIGINT/SIGTERM → Stop. Exit codes: 0 stopped by a signal; 2 bad usage (a flag value, a
// seed accounts line); 1 anything else (port in use, database).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "io/client_auth.h"
#include "tools/target/emulator_server.h"

namespace {

using usersync::io::ClientAuth;
using usersync::io::ParseClientAuth;
using usersync::io::emulator::EmulatorOptions;
using usersync::io::emulator::EmulatorServer;
using usersync::io::emulator::License;
using usersync::io::emulator::LicenseCatalog;

int Fail(int code, const std::string& message) {
  std::cerr << "usersync-target: " << message << "\n";
  return code;
}

// The command line: the options plus the flags that need a second step.
struct Flags {
  EmulatorOptions options;
  std::vector<std::string> seats;
  std::vector<std::string> licenses;
  std::vector<std::string> role_sets;
  std::string token_env;
  std::string oauth_client;                 // ID:SECRET
  std::string oauth_client_auth = "basic";  // how /oauth/token decodes the Basic header
  int64_t access_token_ttl_s = 3600;
  bool no_retry_after = false;
  bool no_bulk = false;
  bool no_user_groups = false;
};

void AddFlags(CLI::App& app, Flags& flags) {
  EmulatorOptions& options = flags.options;
  app.add_option("--port", options.port, "TCP port (0: pick a free one)")->required();
  app.add_option("--host", options.host, "address to listen on")->capture_default_str();
  auto* token =
      app.add_option("--token", options.token, "bearer token clients must send (empty: no auth)");
  app.add_option("--token-env", flags.token_env, "read the token from this environment variable")
      ->excludes(token);
  app.add_option("--rate", options.rate, "requests/s for the whole server (0: unlimited)");
  app.add_option("--burst", options.burst, "requests admitted at once (default max(1, rate))");
  app.add_option("--fail-rate", options.fail_rate, "fraction of requests answered 503");
  app.add_option("--latency-ms", options.latency_ms, "delay before each answer");
  app.add_flag("--no-retry-after", flags.no_retry_after,
               "send SCIM 429s without Retry-After (the GoTo face never sends it)");
  app.add_flag("--no-bulk", flags.no_bulk,
               "do not offer SCIM /Bulk (ServiceProviderConfig says so)");
  app.add_flag("--no-user-groups", flags.no_user_groups,
               "SCIM User resources carry no \"groups\" attribute (membership only on Groups)");
  app.add_flag("--allow-duplicate-user-names", options.allow_duplicate_user_names,
               "a create whose userName is taken stores a second account (no 409)");
  app.add_option("--seats", flags.seats,
                 "seats per product, PRODUCT=N (repeatable; sets the seats of the license carrying "
                 "PRODUCT; products not named are unlimited)");
  app.add_option("--license", flags.licenses,
                 "a GoTo license, KEY=PRODUCT[+PRODUCT...][:SEATS] (repeatable; replaces the "
                 "default catalog of one unlimited license per G2M, G2T, G2W, OPENVOICE)");
  app.add_option("--role-set", flags.role_sets,
                 "a GoTo role set (custom role), ID=NAME (repeatable; none: 1001=Helpdesk, "
                 "1002=Sales managers)");
  app.add_option("--db", options.db_path, "persist the accounts in this SQLite file");
  app.add_option("--seed-accounts", options.seed_accounts_path,
                 "JSON Lines file, one SCIM User resource a line");
  app.add_option("--account-key", options.account_key, "the GoTo face's account key")
      ->capture_default_str();
  app.add_flag("--goto-member-status", options.goto_member_status,
               "GoTo batch create answers also carry this emulator's per-entry status, errorCode, "
               "product and message (default: GoTo's documented bare [{key, email}])");
  app.add_option("--seed", options.seed, "RNG seed for fault injection")->capture_default_str();
  app.add_option("--threads", options.threads, "worker threads")->capture_default_str();
  app.add_option("--oauth-client", flags.oauth_client,
                 "serve POST /oauth/token for this OAuth client, ID:SECRET (HTTP Basic)");
  app.add_option("--oauth-client-auth", flags.oauth_client_auth,
                 "how /oauth/token decodes the Basic header: basic (raw ID:SECRET, GoTo's guide) "
                 "or basic_form (each part form-encoded, RFC 6749 2.3.1)")
      ->check(CLI::IsMember({"basic", "basic_form"}))
      ->capture_default_str();
  app.add_option("--access-token-ttl", flags.access_token_ttl_s,
                 "seconds an access token from /oauth/token lives")
      ->capture_default_str();
  app.add_flag("--rotate-refresh-tokens", options.oauth.rotate_refresh_tokens,
               "every refresh grant spends its refresh token and issues a new one");
}

// Completes flags.options from the parsed flags. Errors: InvalidArgument (usage).
absl::Status FinishOptions(Flags& flags) {
  EmulatorOptions& options = flags.options;
  options.retry_after = !flags.no_retry_after;
  options.bulk = !flags.no_bulk;
  options.user_groups = !flags.no_user_groups;
  for (const std::string& entry : flags.seats) {
    size_t eq = entry.find('=');
    int64_t count = 0;
    if (eq == std::string::npos || eq == 0 || !absl::SimpleAtoi(entry.substr(eq + 1), &count) ||
        count < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seats: expected PRODUCT=N, got '", entry, "'"));
    }
    options.seats[entry.substr(0, eq)] = count;
  }
  for (const std::string& entry : flags.licenses) {
    absl::StatusOr<License> license = LicenseCatalog::ParseFlag(entry);
    if (!license.ok()) return license.status();
    options.licenses.push_back(*std::move(license));
  }
  for (const std::string& entry : flags.role_sets) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--role-set: expected ID=NAME, got '", entry, "'"));
    }
    options.role_sets.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  if (!flags.oauth_client.empty()) {
    const size_t colon = flags.oauth_client.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == flags.oauth_client.size()) {
      return absl::InvalidArgumentError("--oauth-client: expected ID:SECRET");
    }
    options.oauth.client_id = flags.oauth_client.substr(0, colon);
    options.oauth.client_secret = flags.oauth_client.substr(colon + 1);
  }
  // CLI11 checked the value: one of the two names.
  options.oauth.client_auth = ParseClientAuth(flags.oauth_client_auth).value_or(ClientAuth::kBasic);
  if (flags.access_token_ttl_s < 1) {
    return absl::InvalidArgumentError("--access-token-ttl: must be at least 1 second");
  }
  options.oauth.access_token_ttl = std::chrono::seconds(flags.access_token_ttl_s);
  if (!flags.token_env.empty()) {
    const char* value = std::getenv(flags.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("--token-env: environment variable ", flags.token_env, " is not set"));
    }
    options.token = value;
  }
  return absl::OkStatus();
}

// Starts the server, prints the "listening on" line and serves until SIGINT or SIGTERM.
int Serve(const EmulatorOptions& options) {
  // Block the stop signals before any thread starts (threads inherit the mask), then wait for
  // one of them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<EmulatorServer>> server = EmulatorServer::Start(options);
  if (!server.ok()) {
    int code = server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    return Fail(code, std::string(server.status().message()));
  }
  std::printf("usersync-target listening on %s\n", (*server)->base_url().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app("usersync-target: a SCIM 2.0 and GoTo admin API target emulator on loopback",
               "usersync-target");
  AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (absl::Status status = FinishOptions(flags); !status.ok()) {
    return Fail(2, std::string(status.message()));
  }
  return Serve(flags.options);
}
