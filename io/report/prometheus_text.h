// PrometheusText: builds a file in Prometheus's text exposition format 0.0.4 (the format
// node_exporter's textfile collector reads: "# HELP", "# TYPE", then `name{label="v"} value`
// lines), and io/atomic_file.h's WriteFileAtomically puts it in place so that a reader never sees
// half of it.
//
//   PrometheusText text;
//   text.Family("usersync_run_requests", "HTTP requests the last run sent.", "gauge");
//   text.Sample("usersync_run_requests", {{"config", "acme"}}, 1200);
//   // # HELP usersync_run_requests HTTP requests the last run sent.
//   // # TYPE usersync_run_requests gauge
//   // usersync_run_requests{config="acme"} 1200
//
// Thread-compatible; owns its text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace usersync::io {

using PrometheusLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // Opens the metric family `name` (REQUIRES: [a-zA-Z_:][a-zA-Z0-9_:]*, each family once, its
  // samples right after it): HELP (backslashes and newlines escaped) and TYPE ("gauge",
  // "counter", "untyped").
  void Family(std::string_view name, std::string_view help, std::string_view type);
  // One sample of the family opened last. Label values are escaped (\\, \", \n); label names
  // REQUIRE [a-zA-Z_][a-zA-Z0-9_]*. The value is written exactly (integers without a point,
  // others as the shortest text that reads back the same; NaN and infinities as Prometheus
  // spells them).
  void Sample(std::string_view name, const PrometheusLabels& labels, double value);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace usersync::io
