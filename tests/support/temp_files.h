// Files for tests: a fresh directory under ::testing::TempDir() named after the test, and
// whole-file reads and writes. Thread-compatible.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usersync::testing {

// The running test's name without its suite ("Name", "Name/At50" for a parameterized one),
// with '/' turned into '_' so that it names a file; "no-test" outside a test.
std::string CurrentTestName();

// ::testing::TempDir()/NAME, removed and created afresh ('/' in NAME becomes '_').
// Errors: Internal when it cannot be created.
absl::StatusOr<std::filesystem::path> FreshTempDir(std::string name);

// Writes (truncates) a file. Errors: Internal when it cannot be written.
absl::Status WriteFile(const std::filesystem::path& path, std::string_view contents);

// A file's contents; "" when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace usersync::testing
