// Fuzz target: the configuration loader (io/config/config.h ParseConfig) over TOML text, and
// the core's view of a configuration that loads (ToPlanConfig).
// Properties: no crash or UB, no exception escaping (toml++ throws; ParseConfig converts), and
// an error message is never empty.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/plan.h"
#include "fuzz/fuzz_check.h"
#include "io/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // base_dir names no real folder: relative paths resolve under it and exist nowhere.
  const absl::StatusOr<usersync::io::Config> config = usersync::io::ParseConfig(
      usersync::fuzz::AsText(data, size), "fuzz.toml", "/nonexistent/usersync-fuzz");
  if (!config.ok()) {
    usersync::fuzz::Check(!config.status().message().empty(), "an error says what is wrong");
    return 0;
  }
  const usersync::core::PlanConfig plan = usersync::io::ToPlanConfig(*config);
  (void)plan;
  return 0;
}
