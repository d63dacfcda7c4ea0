// usersync-graph: the Microsoft Graph face (tools/target/emulator_graph.h) as a program, for the
// integration tests and the demo. Flags → GraphFaceOptions, the seed read, one "listening on"
// line, then serve until SIGINT or SIGTERM. The client secret comes from an environment
// variable (--client-secret-env), never argv. Exit 0 on a signal, 1 on any error.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "httplib.h"
#include "tools/target/emulator_graph.h"

namespace {
httplib::Server* g_server = nullptr;
void Stop(int) {
  if (g_server != nullptr) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  using usersync::io::emulator::GraphFace;
  using usersync::io::emulator::GraphFaceOptions;
  CLI::App app{"usersync-graph: a Microsoft Graph v1.0 face for tests"};
  GraphFaceOptions options;
  int port = 0;
  std::string seed_path;
  std::string secret_env = "USERSYNC_GRAPH_CLIENT_SECRET";
  int token_ttl_seconds = 3600;
  app.add_option("--port", port, "TCP port (0: pick a free one)")->required();
  app.add_option("--seed", seed_path, "the seed JSON (users, groups, servicePrincipals)")
      ->required();
  app.add_option("--tenant", options.tenant_id, "tenant id in the token endpoint's path");
  app.add_option("--client-id", options.client_id, "the client id tokens are issued to")
      ->required();
  app.add_option("--client-secret-env", secret_env, "variable holding the client secret");
  app.add_option("--token-ttl", token_ttl_seconds, "access token lifetime in seconds");
  app.add_option("--throttle-every", options.throttle_every, "answer every Nth request 429");
  app.add_option("--retry-after", options.retry_after_seconds, "Retry-After of a 429, seconds");
  CLI11_PARSE(app, argc, argv);
  const char* secret = std::getenv(secret_env.c_str());
  options.client_secret = secret == nullptr ? "" : secret;
  options.token_ttl = std::chrono::seconds(token_ttl_seconds);

  std::ifstream in(seed_path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "usersync-graph: cannot read %s\n", seed_path.c_str());
    return 1;
  }
  auto seed = usersync::io::emulator::ParseGraphSeed(text.str());
  if (!seed.ok()) {
    std::fprintf(stderr, "usersync-graph: %s\n", std::string(seed.status().message()).c_str());
    return 1;
  }
  httplib::Server server;
  const int bound = port == 0 ? server.bind_to_any_port("127.0.0.1")
                              : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::fprintf(stderr, "usersync-graph: cannot listen on port %d\n", port);
    return 1;
  }
  const std::string base_url = "http://127.0.0.1:" + std::to_string(bound);
  GraphFace face(options, *std::move(seed));
  face.Register(server, base_url);
  g_server = &server;
  std::signal(SIGINT, Stop);
  std::signal(SIGTERM, Stop);
  std::printf("usersync-graph listening on %s\n", base_url.c_str());
  std::fflush(stdout);
  server.listen_after_bind();
  return 0;
}
