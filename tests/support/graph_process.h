// GraphProcess: a usersync-graph process (the Microsoft Graph face, tools/graph/) for
// integration tests, on a free loopback port, killed (SIGKILL) by the destructor. The client
// secret goes over in an environment variable, never argv. Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace usersync::testing {

inline constexpr char kGraphTenant[] = "test-tenant";
inline constexpr char kGraphClientId[] = "usersync-test-client";
inline constexpr char kGraphClientSecret[] = "graph-secret+/=5d1e";  // needs form encoding

class GraphProcess {
 public:
  // Starts usersync-graph --port 0 --seed SEED_PATH --tenant kGraphTenant --client-id
  // kGraphClientId `extra_args`. Errors: Unavailable (no listening line within 10 s; the
  // message holds the exit code and stderr), Internal (cannot spawn).
  static absl::StatusOr<std::unique_ptr<GraphProcess>> Start(const std::string& seed_path,
                                                             std::vector<std::string> extra_args);

  std::string base_url() const;  // http://127.0.0.1:PORT
  // GET /_graph/stats as JSON text; POST /_graph/storm?count=N.
  std::string StatsJson() const;
  void Storm(int count) const;
  // POST /_graph/mutate with `json` (the face's test-only change; recorded for delta queries)
  // and POST /_graph/expire_deltas (every deltaLink issued so far answers syncStateNotFound).
  // Each returns the HTTP status (204 when done).
  int Mutate(const std::string& json) const;
  int ExpireDeltas() const;

 private:
  GraphProcess() = default;
  ChildProcess process_;
  int port_ = 0;
};

}  // namespace usersync::testing
