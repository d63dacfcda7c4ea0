#include "io/report/plan_report.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>

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
    absl::StrAppend(&out, core::ChangeName(change), ": \"", Sv(change.before), "\" → \"",
                    Sv(change.after), "\"");
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

// A plan's fingerprint, mixed an operation at a time (PlanFingerprint's two kinds). Stable
// across builds, processes and byte orders. Not cryptographic: it tells an edited plan file
// from the one `plan --out` wrote, not a forged one.
class Fingerprint {
 public:
  explicit Fingerprint(PlanFormat format) : format_(format) {}

  void Mix(std::string_view operation_json) {
    if (format_ == PlanFormat::kFull) {
      MixFnv(operation_json);
      MixFnv("\n");
    } else {
      MixWords(operation_json);
    }
  }
  std::string Hex() const {
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash_));
    return std::string(hex, 16);
  }

 private:
  static constexpr uint64_t kFnvPrime = 0x100000001b3ull;
  static constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio, odd

  // FNV-1a 64, a byte at a time: the fingerprint of plan files before issue 17.
  void MixFnv(std::string_view bytes) {
    for (unsigned char byte : bytes) {
      hash_ ^= byte;
      hash_ *= kFnvPrime;
    }
  }

  static uint64_t Mixed(uint64_t h) {
    h *= kMul;
    return h ^ (h >> 29);
  }

  // Eight bytes (little-endian) a step, the length closing each operation: one multiply per
  // eight bytes where FNV-1a makes one a byte (about 1 s of a million-operation plan file).
  void MixWords(std::string_view bytes) {
    uint64_t h = Mixed(hash_ ^ bytes.size());
    size_t at = 0;
    for (; at + 8 <= bytes.size(); at += 8) h = Mixed(h ^ LoadLittleEndian(bytes.data() + at, 8));
    if (at < bytes.size()) h = Mixed(h ^ LoadLittleEndian(bytes.data() + at, bytes.size() - at));
    hash_ = Mixed(h ^ (h >> 32));
  }

  static uint64_t LoadLittleEndian(const char* data, size_t size) {
    uint64_t word = 0;
    if (size == 8 && std::endian::native == std::endian::little) {
      std::memcpy(&word, data, 8);
      return word;
    }
    for (size_t byte_idx = 0; byte_idx < size; ++byte_idx) {
      word |= uint64_t{static_cast<unsigned char>(data[byte_idx])} << (8 * byte_idx);
    }
    return word;
  }

  PlanFormat format_;
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
                      Sv(op.reason));
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

std::string PlanFingerprint(std::span<const core::Operation> ops, PlanFormat format) {
  Fingerprint fingerprint(format);
  const SpecForm form = format == PlanFormat::kFull ? SpecForm::kFull : SpecForm::kCompact;
  std::string scratch;
  for (const Operation& op : ops) {
    scratch.clear();
    JsonWriter w(&scratch);
    WriteOperation(w, op, form);
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
  w.Key("plan_format").Int(static_cast<int>(PlanFormat::kCompact));
  // The fingerprint is taken from the operations as they are written (the same bytes
  // PlanFingerprint hashes: the writer's comma before each one is not part of it), so plan_id
  // comes after them.
  Fingerprint fingerprint(PlanFormat::kCompact);
  w.Key("operations").BeginArray();
  for (const Operation& op : plan.operations) {
    const size_t begin = buffer.size();
    WriteOperation(w, op, SpecForm::kCompact);
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
