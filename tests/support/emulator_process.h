// EmulatorProcess: a usersync-target process (USERSYNC_TARGET_BINARY) for integration tests,
// on a free loopback port, killed (SIGKILL) by the destructor.
//
// The token is handed over in an environment variable (--token-env), never in argv. Start()
// waits (up to 10 s) for the "usersync-target listening on http://HOST:PORT" line and takes
// the port from it. Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace usersync::testing {

class EmulatorProcess {
 public:
  // Starts usersync-target --port 0 [--token-env VAR] `extra_args`. `token` empty: no auth.
  // Errors: Internal (cannot spawn), Unavailable (no listening line in 10 s, or the process
  // exited; the message holds its exit code and stderr).
  static absl::StatusOr<std::unique_ptr<EmulatorProcess>> Start(
      std::vector<std::string> extra_args = {}, std::string token = "test-token");

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:PORT
  std::string scim_url() const;  // http://127.0.0.1:PORT/scim/v2
  const std::string& token() const { return token_; }
  ChildProcess& process() { return process_; }

 private:
  EmulatorProcess() = default;
  ChildProcess process_;
  std::string token_;
  int port_ = 0;
};

}  // namespace usersync::testing
