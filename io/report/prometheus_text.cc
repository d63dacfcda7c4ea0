#include "io/report/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

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

}  // namespace usersync::io
