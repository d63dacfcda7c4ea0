// Print: what the commands write for a person or a script to read. Each call writes `text`
// whole and flushes, so output interleaves sanely with stderr and survives a crash right
// after it. Every registered secret (io/secrets.h) is redacted first, whatever the text's
// source: a server's echo of the token never reaches the screen. Thread-compatible (stdio's
// own locking per call).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "io/secrets.h"

namespace usersync::io {

inline void Print(std::FILE* file, std::string_view text) {
  std::string redacted;
  if (ContainsSecret(text)) {
    redacted = Redact(text);
    text = redacted;
  }
  std::fwrite(text.data(), 1, text.size(), file);
  std::fflush(file);
}

}  // namespace usersync::io
