#include "tests/support/temp_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <system_error>

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace usersync::testing {
namespace {

namespace fs = std::filesystem;

std::string FileNameSafe(std::string name) {
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

}  // namespace

std::string CurrentTestName() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return FileNameSafe(info == nullptr ? "no-test" : info->name());
}

absl::StatusOr<fs::path> FreshTempDir(std::string name) {
  // The pid keeps two checkouts (or two runs) testing at once out of each other's files.
  const fs::path dir = fs::path(::testing::TempDir()) /
                       absl::StrCat(FileNameSafe(std::move(name)), "-", ::getpid());
  std::error_code error;
  fs::remove_all(dir, error);
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir.string()));
  return dir;
}

absl::Status WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace usersync::testing
