#include "io/report/apply_estimate.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/json_writer.h"

namespace usersync::io {

std::string HumanSeconds(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.1fs", seconds);
  const int64_t whole = static_cast<int64_t>(std::llround(seconds));
  if (whole < 3600) return absl::StrFormat("%dm%02ds", whole / 60, whole % 60);
  return absl::StrFormat("%dh%02dm", whole / 3600, (whole % 3600) / 60);
}

std::string EstimateLine(const core::ApplyCost& cost, const core::CostModel& model) {
  if (cost.requests == 0) return "Applying: nothing to send.\n";
  std::string line = absl::StrCat("Applying: ", model.batching_known ? "" : "at most ",
                                  cost.requests, " requests");
  if (cost.batch_requests > 0) {
    absl::StrAppend(&line, " (", cost.batch_requests, " batch creates of up to ",
                    model.create_batch, " users)");
  }
  if (!cost.rate_limited) {
    absl::StrAppend(&line, "; no rate limit: the time is the target's to decide");
  } else {
    absl::StrAppend(&line, absl::StrFormat(" at %g/s, burst %g: about %s", model.rate, model.burst,
                                           HumanSeconds(cost.seconds)));
  }
  if (!model.batching_known && cost.creates > 1) {
    absl::StrAppend(&line, " (fewer if the SCIM server offers /Bulk for the creates)");
  }
  line.push_back('\n');
  return line;
}

void WriteEstimateJson(JsonWriter& w, const core::ApplyCost& cost, const core::CostModel& model) {
  w.BeginObject();
  w.Key("operations").Int(cost.operations).Key("requests").Int(cost.requests);
  w.Key("batch_requests").Int(cost.batch_requests);
  w.Key("seconds");
  if (cost.rate_limited) {
    w.Double(cost.seconds);
  } else {
    w.Null();
  }
  w.Key("rate").Double(model.rate).Key("burst").Double(model.burst);
  w.Key("create_batch").Int(model.create_batch);
  w.Key("upper_bound").Bool(!model.batching_known);
  w.EndObject();
}

std::string EstimateComparison(const core::ApplyCost& cost, int64_t requests, double seconds) {
  std::string line = absl::StrCat("Estimate: ", cost.requests, " requests");
  if (cost.rate_limited) absl::StrAppend(&line, " in about ", HumanSeconds(cost.seconds));
  absl::StrAppend(&line, "; actual: ", requests, " requests in ", HumanSeconds(seconds));
  if (cost.rate_limited && cost.seconds >= 1) {
    absl::StrAppend(&line, absl::StrFormat(" (%.2fx the estimated time)", seconds / cost.seconds));
  }
  line.push_back('\n');
  return line;
}

}  // namespace usersync::io
