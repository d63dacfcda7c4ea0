// `usersync demo`: the whole loop on the embedded fixtures, needing nothing but the build.
// Starts the target emulator in-process on a free loopback port, seeded with
// fixtures/demo-accounts.jsonl; syncs fixtures/demo.ldif into it with fixtures/demo.toml (state
// and logs in a fresh temporary directory); then runs again to show that nothing is left to do.
#pragma once

#include <cstdio>
#include <string>

namespace usersync::io {

struct DemoOptions {
  std::string fixtures_dir;  // holds demo.toml, demo.ldif, demo-accounts.jsonl
  std::string work_dir;      // empty: a new directory under $TMPDIR (or /tmp)
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// Returns 0 when the second run planned no change, else the exit code that went wrong.
int RunDemoCommand(const DemoOptions& options);

}  // namespace usersync::io
