#include "io/report/prometheus_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io {
namespace {

// HELP text escapes backslash and newline; label values also the double quote.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];  // the shortest text that reads back as the same double
  const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end.ptr);
}

absl::Status WriteError(const std::string& path, std::string_view what, int error) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot write ", path, " (", Sv(what), "): ", std::strerror(error)));
}

// Writes all of `content` to `fd` and flushes it to disk; 0 or the errno.
int WriteAndSync(int fd, std::string_view content) {
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<size_t>(n);
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view help, std::string_view type) {
  absl::StrAppend(&text_, "# HELP ", Sv(name), " ", Escape(help, false), "\n", "# TYPE ", Sv(name),
                  " ", Sv(type), "\n");
}

void PrometheusText::Sample(std::string_view name, const PrometheusLabels& labels, double value) {
  absl::StrAppend(&text_, Sv(name));
  if (!labels.empty()) {
    text_.push_back('{');
    for (size_t label_idx = 0; label_idx < labels.size(); ++label_idx) {
      const auto& [label, label_value] = labels[label_idx];
      absl::StrAppend(&text_, label_idx == 0 ? "" : ",", label, "=\"", Escape(label_value, true),
                      "\"");
    }
    text_.push_back('}');
  }
  absl::StrAppend(&text_, " ", FormatValue(value), "\n");
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content, int mode) {
  const std::filesystem::path target(path);
  std::error_code dir_error;
  if (target.has_parent_path())
    std::filesystem::create_directories(target.parent_path(), dir_error);
  if (dir_error) return WriteError(path, "creating its directory", dir_error.value());
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return WriteError(path, absl::StrCat("creating ", temp), errno);
  int error = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? 0 : errno;
  if (error == 0) error = WriteAndSync(fd, content);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    return WriteError(path, "writing it", error);
  }
  return absl::OkStatus();
}

}  // namespace usersync::io
