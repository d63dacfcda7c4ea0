// What the fuzz targets (fuzz/*_fuzzer.cc) share: a property check that aborts, so that
// libFuzzer, and the replay driver the unit tests run (fuzz/replay_main.cc), report a broken
// property the way they report a crash.
//
// Thread-safety: everything here is thread-safe (it only writes to stderr and aborts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string_view>

namespace usersync::fuzz {

// The fuzzer's input as text (no copy). Views `data` for the length of the call.
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The sum of the bytes of `text`: reading every byte a decoded view covers makes ASan report a
// view into freed or foreign memory. Callers add it into a volatile sink.
inline size_t TouchText(std::string_view text) {
  return std::accumulate(text.begin(), text.end(), size_t{0},
                         [](size_t sum, char c) { return sum + static_cast<unsigned char>(c); });
}

// Aborts with `what` and the values compared when `ok` is false.
inline void Check(bool ok, const char* what, std::string_view first = {},
                  std::string_view second = {}) {
  if (ok) return;
  const auto print = [](const char* label, std::string_view text) {
    std::fputs(label, stderr);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fputs("\"\n", stderr);
  };
  std::fprintf(stderr, "fuzz property broken: %s\n", what);
  print("  first:  \"", first);
  print("  second: \"", second);
  std::abort();
}

}  // namespace usersync::fuzz
