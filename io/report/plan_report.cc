#include "io/report/plan_report.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "io/operation_codec.h"
#include "io/report/apply_estimate.h"

namespace usersync::io {
namespace {

using core::Category;
using core::Operation;
using core::UserRow;

constexpr Category kCategories[] = {Category::kMatched,     Category::kUpdate,
                                    Category::kNew,         Category::kInvalid,
                                    Category::kAccountOnly, Category::kDeparted};

std::string_view DisplayName(Category category) {
  return category == Category::kAccountOnly ? "account-only" : core::CategoryName(category);
}

std::string Pad(std::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

std::string DescribeChanges(const Operation& op) {
  std::string out;
  for (const core::Change& change : op.changes) {
    if (!out.empty()) out.append("; ");
    absl::StrAppend(&out, core::ChangeName(change), ": \"", change.before, "\" → \"", change.after,
                    "\"");
  }
  return out;
}

namespace {

void CsvField(std::string* out, std::string_view value) {
  const bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// FNV-1a 64 over each operation's JSON and a newline: stable across builds and processes.
class Fingerprint {
 public:
  void Mix(std::string_view operation_json) {
    MixBytes(operation_json);
    MixBytes("\n");
  }
  std::string Hex() const {
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash_));
    return std::string(hex, 16);
  }

 private:
  void MixBytes(std::string_view bytes) {
    for (unsigned char byte : bytes) {
      hash_ ^= byte;
      hash_ *= 0x100000001b3ull;
    }
  }
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

// The plan JSON goes to its sink in pieces of about this size (a million-user plan is close to
// a gigabyte: never whole in memory).
constexpr size_t kPlanJsonPiece = size_t{1} << 20;

}  // namespace

std::string SummaryLine(const core::Plan& plan) {
  std::string out;
  for (Category category : kCategories) {
    if (!out.empty()) out.append(" · ");
    absl::StrAppend(&out, Sv(DisplayName(category)), " ", plan.count(category));
  }
  return out;
}

std::string PlanTable(const core::Plan& plan, size_t max_operations) {
  std::string out = absl::StrCat("Plan: ", SummaryLine(plan), "\n");
  for (const std::string& warning : plan.warnings)
    absl::StrAppend(&out, "warning: ", warning, "\n");
  if (plan.operations.empty()) {
    out.append("No changes: the target is in step with the directory.\n");
  } else {
    absl::StrAppend(&out, plan.operations.size(), " operation(s):\n");
    const size_t shown = std::min(max_operations, plan.operations.size());
    for (size_t op_idx = 0; op_idx < shown; ++op_idx) {
      const Operation& op = plan.operations[op_idx];
      absl::StrAppend(&out, "  ", Pad(core::OpKindName(op.kind), 10), " ", Pad(op.email, 32), " ",
                      op.reason);
      if (op.held) out.append(" [HELD]");
      out.push_back('\n');
      if (!op.changes.empty() && op.kind != core::OpKind::kDeactivate) {
        absl::StrAppend(&out, "  ", std::string(44, ' '), DescribeChanges(op), "\n");
      }
    }
    if (shown < plan.operations.size()) {
      absl::StrAppend(&out, "  ... and ", plan.operations.size() - shown,
                      " more (use --format json for all)\n");
    }
  }
  size_t invalid = 0;
  for (const UserRow& row : plan.rows) {
    if (row.category != Category::kInvalid) continue;
    if (invalid++ == 0)
      out.append("Invalid directory users (not provisioned; retried next run):\n");
    if (invalid <= 50) absl::StrAppend(&out, "  ", Pad(row.dn, 48), " ", Sv(row.reason), "\n");
  }
  if (invalid > 50) absl::StrAppend(&out, "  ... and ", invalid - 50, " more\n");
  if (plan.deprovision_held) absl::StrAppend(&out, "HELD: ", plan.hold_reason, "\n");
  return out;
}

std::string PlanFingerprint(std::span<const core::Operation> ops) {
  Fingerprint fingerprint;
  std::string scratch;
  for (const Operation& op : ops) {
    scratch.clear();
    JsonWriter w(&scratch);
    WriteOperation(w, op);
    fingerprint.Mix(scratch);
  }
  return fingerprint.Hex();
}

absl::Status WritePlanJson(const core::Plan& plan, const PlanOrigin& origin,
                           const PlanEstimate* estimate, ByteSink sink) {
  std::string buffer;
  JsonWriter w(&buffer);
  // Hands the buffer to the sink once it holds kPlanJsonPiece bytes, between values.
  const auto pass_on = [&]() -> absl::Status {
    if (buffer.size() < kPlanJsonPiece) return absl::OkStatus();
    absl::Status passed = sink(buffer);
    buffer.clear();
    return passed;
  };
  w.BeginObject();
  w.Key("summary").BeginObject();
  for (Category category : kCategories)
    w.Key(core::CategoryName(category)).Int(plan.count(category));
  w.EndObject();
  if (!origin.config_path.empty()) w.Field("config", origin.config_path);
  if (!origin.target_url.empty()) w.Field("target", origin.target_url);
  // The fingerprint is taken from the operations as they are written (the same bytes
  // PlanFingerprint hashes: the writer's comma before each one is not part of it), so plan_id
  // comes after them.
  Fingerprint fingerprint;
  w.Key("operations").BeginArray();
  for (const Operation& op : plan.operations) {
    const size_t begin = buffer.size();
    WriteOperation(w, op);
    std::string_view written(buffer);
    written.remove_prefix(begin);
    if (!written.empty() && written.front() == ',') written.remove_prefix(1);
    fingerprint.Mix(written);
    USERSYNC_RETURN_IF_ERROR(pass_on());
  }
  w.EndArray();
  w.Field("plan_id", fingerprint.Hex());
  w.Key("invalid").BeginArray();
  for (const UserRow& row : plan.rows) {
    if (row.category != Category::kInvalid) continue;
    w.BeginObject().Field("directory_id", row.directory_id).Field("dn", row.dn);
    w.Field("email", row.email).Field("reason", row.reason).EndObject();
    USERSYNC_RETURN_IF_ERROR(pass_on());
  }
  w.EndArray();
  w.Key("deprovision_held").Bool(plan.deprovision_held);
  if (plan.deprovision_held) w.Field("hold_reason", plan.hold_reason);
  w.Key("warnings").BeginArray();
  for (const std::string& warning : plan.warnings) w.String(warning);
  w.EndArray();
  if (estimate != nullptr) {
    w.Key("estimate");
    WriteEstimateJson(w, estimate->cost, estimate->model);
  }
  w.EndObject();
  buffer.push_back('\n');
  return sink(buffer);
}

std::string PlanJson(const core::Plan& plan, const PlanOrigin& origin,
                     const PlanEstimate* estimate) {
  std::string out;
  // Appending to a string cannot fail.
  (void)WritePlanJson(plan, origin, estimate, [&out](std::string_view piece) {
    out.append(piece);
    return absl::OkStatus();
  });
  return out;
}

std::string UsersTable(const core::Plan& plan) {
  std::string out = absl::StrCat(Pad("CATEGORY", 13), " ", Pad("EMAIL", 34), " ",
                                 Pad("PRODUCTS", 12), " ", Pad("ACCOUNT", 38), " REASON\n");
  for (const UserRow& row : plan.rows) {
    absl::StrAppend(&out, Pad(DisplayName(row.category), 13), " ",
                    Pad(row.email.empty() ? row.dn : row.email, 34), " ", Pad(row.products, 12),
                    " ", Pad(row.account_id.empty() ? "-" : row.account_id, 38), " ",
                    Sv(row.reason), "\n");
  }
  absl::StrAppend(&out, "\n", SummaryLine(plan), "\n");
  return out;
}

std::string UsersCsv(const core::Plan& plan) {
  std::string out = "category,directory_id,dn,email,account_id,products,rule,reason\r\n";
  for (const UserRow& row : plan.rows) {
    const std::string_view fields[] = {core::CategoryName(row.category),
                                       row.directory_id,
                                       row.dn,
                                       row.email,
                                       row.account_id,
                                       row.products,
                                       row.rule,
                                       row.reason};
    for (size_t field_idx = 0; field_idx < std::size(fields); ++field_idx) {
      if (field_idx > 0) out.push_back(',');
      CsvField(&out, fields[field_idx]);
    }
    out.append("\r\n");
  }
  return out;
}

std::string UsersJson(const core::Plan& plan) {
  JsonWriter w;
  w.BeginArray();
  for (const UserRow& row : plan.rows) {
    w.BeginObject();
    w.Field("category", core::CategoryName(row.category));
    w.Field("directory_id", row.directory_id).Field("dn", row.dn).Field("email", row.email);
    w.Field("account_id", row.account_id).Field("products", row.products);
    w.Field("rule", row.rule).Field("reason", row.reason);
    w.EndObject();
  }
  w.EndArray();
  std::string out = w.Release();
  out.push_back('\n');
  return out;
}

}  // namespace usersync::io
