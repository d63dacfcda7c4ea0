#include "io/operation_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/plan.h"
#include "core/str.h"

namespace usersync::io {
namespace {

using core::Field;
using core::Operation;
using core::OpKind;
using ::testing::HasSubstr;
using ::testing::Not;

// Field keys are core::FieldName's; "active" stays out of the precondition's field list.
TEST(OperationCodec, WritesChangesUnderTheirFieldNames) {
  Operation op;
  op.kind = OpKind::kReactivate;
  op.directory_id = "id-bob";
  op.account_id = "acc-7";
  op.changes = {{Field::kLastName, "Old", "New"}, {Field::kActive, "false", "true"}};
  op.precondition_version = "3";
  op.precondition_active = false;
  const std::string json = OperationJson(op);
  EXPECT_THAT(json, HasSubstr(R"("changes":{"last_name":{"before":"Old","after":"New"},)"
                              R"("active":{"before":"false","after":"true"}})"));
  EXPECT_THAT(json,
              HasSubstr(R"("precondition":{"version":"3","active":false,"last_name":"Old"})"));
  absl::StatusOr<Operation> parsed = ParseOperationJson(json, "op");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->changes.size(), 2u);
  EXPECT_EQ(parsed->changes[0].field, Field::kLastName);
  EXPECT_EQ(parsed->changes[1].field, Field::kActive);
  EXPECT_FALSE(parsed->precondition_active);
}

// Journal rows written by builds before the codec: a change as its `after` string, the spec's
// active flag as a string, keys missing. The journal mode reads them; the strict mode refuses.
TEST(OperationCodec, JournalModeReadsOlderPayloads) {
  const std::string update = R"({"op":"update","changes":{"last_name":"New","nickname":"x"}})";
  absl::StatusOr<Operation> op = ParseOperationJson(update, "journal", ParseMode::kJournal);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->kind, OpKind::kUpdate);
  ASSERT_EQ(op->changes.size(), 1u);  // a field this build does not know is not checked
  EXPECT_EQ(op->changes[0].field, Field::kLastName);
  EXPECT_EQ(op->changes[0].after, "New");
  EXPECT_FALSE(ParseOperationJson(update, "journal").ok());

  const std::string create =
      R"({"op":"create","changes":{},"spec":{"user_name":"a@x.com","active":"false"}})";
  op = ParseOperationJson(create, "journal", ParseMode::kJournal);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->spec.user_name, "a@x.com");
  EXPECT_FALSE(op->spec.active);

  // Today's payloads are the plan form: read the same in both modes.
  Operation written;
  written.kind = OpKind::kCreate;
  written.directory_id = "id-ann";
  written.spec.user_name = "ann@example.com";
  written.spec.user_group = "Sales";
  op = ParseOperationJson(OperationJson(written), "journal", ParseMode::kJournal);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->spec.user_group, "Sales");
  EXPECT_TRUE(op->spec.active);
  EXPECT_TRUE(ParseOperationJson(OperationJson(written), "hold").ok());
}

// A create's welcome-email setting travels with it (plan file, journal) to the driver.
TEST(OperationCodec, SuppressWelcomeRoundTrips) {
  Operation create;
  create.kind = OpKind::kCreate;
  create.directory_id = "id-ann";
  create.spec.user_name = "ann@example.com";
  create.spec.suppress_welcome = true;
  const std::string json = OperationJson(create);
  EXPECT_THAT(json, HasSubstr(R"("suppress_welcome":true)"));
  for (ParseMode mode : {ParseMode::kStrict, ParseMode::kJournal}) {
    absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json", mode);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->spec.suppress_welcome);
  }
}

// Mapped attributes: a change named "attribute:PATH" (also in the precondition), the spec's
// "attributes" object; a plan written before them (no "attributes") reads as none.
TEST(OperationCodec, MappedAttributesRoundTrip) {
  constexpr char kDepartment[] =
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
  Operation op;
  op.kind = OpKind::kUpdate;
  op.directory_id = "id-bob";
  op.account_id = "acc-7";
  op.precondition_version = "3";
  op.changes = {{Field::kAttribute, "Sales", "Marketing", kDepartment}};
  op.spec.user_name = "bob@example.com";
  op.spec.attributes = {{"title", "Engineer"}, {kDepartment, "Marketing"}};
  std::sort(op.spec.attributes.begin(), op.spec.attributes.end());
  const std::string json = OperationJson(op);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"changes\":{\"attribute:", kDepartment,
                                           "\":{\"before\":\"Sales\",\"after\":\"Marketing\"}}")));
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"attribute:", kDepartment, "\":\"Sales\"}")));
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"attributes\":{\"title\":\"Engineer\",\"", kDepartment,
                                           "\":\"Marketing\"}")));
  for (ParseMode mode : {ParseMode::kStrict, ParseMode::kJournal}) {
    absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json", mode);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->changes.size(), 1u);
    EXPECT_EQ(parsed->changes[0].field, Field::kAttribute);
    EXPECT_EQ(parsed->changes[0].path, kDepartment);
    EXPECT_EQ(parsed->changes[0].before, "Sales");
    EXPECT_EQ(parsed->spec.attributes, op.spec.attributes);
  }
  Operation older = op;
  older.changes = {{Field::kLastName, "Old", "New"}};
  older.spec.attributes.clear();
  const std::string older_json = OperationJson(older);
  EXPECT_THAT(older_json, Not(HasSubstr("attributes")));
  absl::StatusOr<Operation> parsed = ParseOperationJson(older_json, "plan.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->spec.attributes.empty());
  // An attribute change whose precondition is missing is refused like a field's.
  std::string broken = json;
  const std::string pre = absl::StrCat(",\"attribute:", kDepartment, "\":\"Sales\"");
  broken.erase(broken.find(pre), pre.size());
  parsed = ParseOperationJson(broken, "plan.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(),
              HasSubstr(absl::StrCat("precondition.attribute:", kDepartment, ": missing")));
}

// Every spec value a compact spec reads back as it was written.
void ExpectSameSpec(const core::AccountSpec& got, const core::AccountSpec& want) {
  for (Field field : core::kAllFields) {
    EXPECT_EQ(got.Get(field), want.Get(field)) << core::FieldName(field);
  }
  EXPECT_EQ(got.welcome_template, want.welcome_template);
  EXPECT_EQ(got.suppress_welcome, want.suppress_welcome);
  EXPECT_EQ(got.attributes, want.attributes);
}

std::string CompactJson(const Operation& op) {
  JsonWriter w;
  WriteOperation(w, op, SpecForm::kCompact);
  return w.Release();
}

// An update whose spec holds every default: user_name = email = the operation's email,
// external_id = its directory id, every other string "".
Operation DefaultSpecUpdate() {
  Operation op;
  op.kind = OpKind::kUpdate;
  op.directory_id = "id-bob";
  op.account_id = "acc-7";
  op.email = "bob@example.com";
  op.precondition_version = "3";
  op.changes = {{Field::kLastName, "Old", "New"}};
  op.spec.user_name = op.email;
  op.spec.email = op.email;
  op.spec.external_id = op.directory_id;
  return op;
}

// The compact spec (the plan file's) leaves out what holds its default and reads it back.
TEST(OperationCodec, CompactSpecLeavesOutDefaults) {
  const Operation op = DefaultSpecUpdate();
  const std::string json = CompactJson(op);
  EXPECT_THAT(json, HasSubstr(R"("spec":{}})"));
  absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ExpectSameSpec(parsed->spec, op.spec);
  EXPECT_EQ(parsed->spec.user_name, "bob@example.com");
  EXPECT_EQ(parsed->spec.external_id, "id-bob");
  // The full form, for holds and the journal, still writes every key.
  EXPECT_THAT(OperationJson(op), HasSubstr(R"("privileges":"","role_set":"")"));
}

// Each spec value, set away from its default and set to "" where the default is not "", goes
// through the compact form and back unchanged.
TEST(OperationCodec, CompactSpecRoundTripsEveryField) {
  std::vector<std::pair<std::string, Operation>> cases;
  for (Field field : core::kAllFields) {
    if (field == Field::kActive) continue;
    Operation set = DefaultSpecUpdate();
    *set.spec.Mutable(field) = absl::StrCat("v-", Sv(core::FieldName(field)), " \"é\"");
    cases.emplace_back(absl::StrCat(Sv(core::FieldName(field)), " set"), set);
    Operation empty = DefaultSpecUpdate();
    *empty.spec.Mutable(field) = "";
    cases.emplace_back(absl::StrCat(Sv(core::FieldName(field)), " empty"), empty);
  }
  Operation other = DefaultSpecUpdate();
  other.spec.welcome_template = "Welcome";
  other.spec.suppress_welcome = true;
  other.spec.active = false;
  other.spec.attributes = {{"department", ""}, {"title", "Engineer"}};
  cases.emplace_back("welcome, suppress_welcome, active, attributes", other);
  // user_name follows the spec's email, which differs from the operation's.
  Operation moved = DefaultSpecUpdate();
  moved.spec.email = "robert@example.com";
  moved.spec.user_name = moved.spec.email;
  cases.emplace_back("spec email not the operation's", moved);
  Operation create = DefaultSpecUpdate();
  create.kind = OpKind::kCreate;
  create.account_id.clear();
  create.changes.clear();
  create.spec.first_name = "Bob";
  cases.emplace_back("create", create);
  for (const auto& [name, op] : cases) {
    SCOPED_TRACE(name);
    const std::string json = CompactJson(op);
    absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status() << " " << json;
    ExpectSameSpec(parsed->spec, op.spec);
    EXPECT_EQ(CompactJson(*parsed), json);
    EXPECT_LT(json.size(), OperationJson(op).size());
  }
}

TEST(OperationCodec, JournalModeStillChecksTypes) {
  absl::StatusOr<Operation> op = ParseOperationJson(R"({"op":"update","changes":{"last_name":7}})",
                                                    "journal 4", ParseMode::kJournal);
  ASSERT_FALSE(op.ok());
  EXPECT_THAT(op.status().message(), HasSubstr("journal 4: changes.last_name: expected an object"));
}

}  // namespace
}  // namespace usersync::io
