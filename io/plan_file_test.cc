#include "io/plan_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/plan.h"
#include "core/str.h"
#include "io/report/plan_report.h"

namespace usersync::io {
namespace {

using core::Operation;
using core::OpKind;
using ::testing::HasSubstr;
using ::testing::Not;

core::AccountSpec Spec(const std::string& name) {
  core::AccountSpec spec;
  spec.user_name = name + "@example.com";
  spec.email = spec.user_name;
  spec.external_id = "id-" + name;
  spec.first_name = "Ann";
  spec.last_name = "Lee \"quoted\" é";
  spec.display_name = "Ann Lee";
  spec.language = "en_US";
  spec.products = "G2M,G2W";
  spec.admin_role = "manager";
  spec.user_group = "Sales";
  spec.welcome_template = "default";
  spec.settings_template = "Default";
  return spec;
}

// One operation of each kind, with changes and preconditions as ComputePlan makes them.
core::Plan SamplePlan() {
  core::Plan plan;
  Operation create;
  create.kind = OpKind::kCreate;
  create.directory_id = "id-ann";
  create.dn = "uid=ann,ou=people,dc=example,dc=com";
  create.email = "ann@example.com";
  create.reason = "in scope, no account; rule Staff";
  create.spec = Spec("ann");
  plan.operations.push_back(create);

  Operation update;
  update.kind = OpKind::kUpdate;
  update.directory_id = "id-bob";
  update.account_id = "acc-7";
  update.email = "bob@example.com";
  update.reason = "linked; changed: last_name";
  update.changes = {{core::Field::kLastName, "Old", "New"}, {core::Field::kProducts, "", "G2M"}};
  update.spec = Spec("bob");
  update.precondition_version = "W/\"3\"";
  plan.operations.push_back(update);

  Operation reactivate = update;
  reactivate.kind = OpKind::kReactivate;
  reactivate.account_id = "acc-8";
  reactivate.changes = {{core::Field::kActive, "false", "true"}};
  reactivate.precondition_active = false;
  plan.operations.push_back(reactivate);

  Operation link = update;
  link.kind = OpKind::kLink;
  link.account_id = "acc-9";
  link.changes = {};
  link.precondition_version = "";
  plan.operations.push_back(link);

  Operation deactivate;
  deactivate.kind = OpKind::kDeactivate;
  deactivate.directory_id = "id-cy";
  deactivate.account_id = "acc-10";
  deactivate.email = "cy@example.com";
  deactivate.reason = "departed: no longer in a scoped group";
  deactivate.changes = {{core::Field::kActive, "true", "false"}};
  deactivate.precondition_version = "W/\"1\"";
  deactivate.held = true;
  plan.operations.push_back(deactivate);

  Operation remove = deactivate;
  remove.kind = OpKind::kDelete;
  remove.account_id = "acc-11";
  remove.changes = {};
  remove.held = false;
  plan.operations.push_back(remove);
  return plan;
}

void ExpectSameOperation(const Operation& got, const Operation& want) {
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.directory_id, want.directory_id);
  EXPECT_EQ(got.dn, want.dn);
  EXPECT_EQ(got.account_id, want.account_id);
  EXPECT_EQ(got.email, want.email);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.held, want.held);
  EXPECT_EQ(got.precondition_version, want.precondition_version);
  EXPECT_EQ(got.precondition_active, want.precondition_active);
  ASSERT_EQ(got.changes.size(), want.changes.size());
  for (size_t idx = 0; idx < got.changes.size(); ++idx) {
    EXPECT_EQ(got.changes[idx].field, want.changes[idx].field);
    EXPECT_EQ(got.changes[idx].before, want.changes[idx].before);
    EXPECT_EQ(got.changes[idx].after, want.changes[idx].after);
  }
  if (want.kind != OpKind::kDeactivate && want.kind != OpKind::kDelete) {
    EXPECT_EQ(got.spec.user_name, want.spec.user_name);
    EXPECT_EQ(got.spec.last_name, want.spec.last_name);
    EXPECT_EQ(got.spec.products, want.spec.products);
    EXPECT_EQ(got.spec.admin_role, want.spec.admin_role);
    EXPECT_EQ(got.spec.welcome_template, want.spec.welcome_template);
    EXPECT_EQ(got.spec.active, want.spec.active);
  }
}

TEST(PlanFile, RoundTripsEveryOperationKind) {
  const core::Plan plan = SamplePlan();
  const std::string json = PlanJson(plan, {"/etc/usersync.toml", "http://t/scim/v2"});
  absl::StatusOr<PlanFile> file = ParsePlanJson(json, "plan.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->config_path, "/etc/usersync.toml");
  EXPECT_EQ(file->target_url, "http://t/scim/v2");
  EXPECT_EQ(file->plan_id, PlanFingerprint(plan.operations));
  EXPECT_EQ(file->computed_plan_id, file->plan_id);
  ASSERT_EQ(file->operations.size(), plan.operations.size());
  for (size_t idx = 0; idx < plan.operations.size(); ++idx) {
    SCOPED_TRACE(idx);
    ExpectSameOperation(file->operations[idx], plan.operations[idx]);
  }
}

TEST(PlanFile, FingerprintChangesWhenAnOperationIsEdited) {
  const core::Plan plan = SamplePlan();
  std::string json = PlanJson(plan);
  const size_t at = json.find("\"New\"");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 5, "\"Mallory\"");
  absl::StatusOr<PlanFile> file = ParsePlanJson(json, "plan.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_NE(file->computed_plan_id, file->plan_id);
}

// A plan larger than one piece is streamed in several, each ending between two values; together
// they are PlanJson's text, and they read back with the same fingerprint. A sink's error stops
// the stream and is returned.
TEST(PlanFile, StreamedPlanJsonReadsBackWhole) {
  core::Plan plan = SamplePlan();
  const std::vector<Operation> sample = plan.operations;
  for (int copy = 0; copy < 3000; ++copy) {
    for (Operation op : sample) {
      op.directory_id = absl::StrCat(Sv(op.directory_id), "-", copy);
      plan.operations.push_back(std::move(op));
    }
  }
  std::vector<std::string> pieces;
  ASSERT_TRUE(WritePlanJson(plan, {}, nullptr, [&pieces](std::string_view piece) {
                pieces.emplace_back(piece);
                return absl::OkStatus();
              }).ok());
  ASSERT_GE(pieces.size(), 3u);
  std::string joined;
  for (const std::string& piece : pieces) {
    EXPECT_TRUE(piece.back() == '}' || piece.back() == '\n') << piece.substr(piece.size() - 20);
    joined += piece;
  }
  EXPECT_EQ(joined, PlanJson(plan));
  absl::StatusOr<PlanFile> file = ParsePlanJson(joined, "plan.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->plan_id, PlanFingerprint(plan.operations));
  EXPECT_EQ(file->computed_plan_id, file->plan_id);
  EXPECT_EQ(file->operations.size(), plan.operations.size());

  int calls = 0;
  const absl::Status stopped = WritePlanJson(plan, {}, nullptr, [&calls](std::string_view) {
    return ++calls == 2 ? absl::ResourceExhaustedError("disk full") : absl::OkStatus();
  });
  EXPECT_EQ(stopped.message(), "disk full");
  EXPECT_EQ(calls, 2);
}

TEST(PlanFile, OperationJsonRoundTrips) {
  const core::Plan plan = SamplePlan();
  for (const Operation& op : plan.operations) {
    absl::StatusOr<Operation> parsed = ParseOperationJson(OperationJson(op), "hold 3");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ExpectSameOperation(*parsed, op);
  }
}

// Each malformed input is refused with an error naming the origin and the key.
TEST(PlanFile, ErrorsNameTheKey) {
  const std::string good = OperationJson(SamplePlan().operations[1]);
  struct Case {
    std::string from;
    std::string to;
    std::string expected;
  };
  const Case cases[] = {
      {"\"op\":\"update\"", "\"op\":\"frobnicate\"", "op: unknown op \"frobnicate\""},
      {"\"op\":\"update\",", "", "op: missing"},
      {"\"held\":false", "\"held\":\"no\"", "held: expected true or false"},
      {"\"version\":\"W/\\\"3\\\"\"", "\"version\":3", "precondition.version: expected a string"},
      {"\"version\":\"W/\\\"3\\\"\",", "", "precondition.version: missing"},
      {"\"last_name\":\"Old\",", "\"last_name\":\"Other\",",
       "precondition.last_name: \"Other\" disagrees with changes.last_name.before \"Old\""},
      {"\"last_name\":{\"before\"", "\"surname\":{\"before\"", "changes.surname: unknown field"},
      {"\"account_id\":\"acc-7\"", "\"account_id\":null",
       "account_id: op \"update\" needs an account id"},
      {"\"first_name\":\"Ann\"", "\"first_name\":7", "spec.first_name: expected a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    std::string json = good;
    const size_t at = json.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from << " in " << json;
    json.replace(at, c.from.size(), c.to);
    absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json");
    ASSERT_FALSE(parsed.ok()) << json;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("plan.json: "));
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.expected));
  }
}

// A plan file written before a rule's privileges, role set, managed groups, device groups and
// welcome-email setting were planned holds none of them: it still reads, empty and false (what
// they meant then).
TEST(PlanFile, SpecWithoutTheLaterFieldsStillReads) {
  std::string json = OperationJson(SamplePlan().operations[1]);
  for (const std::string key :
       {"\"privileges\":\"\",", "\"role_set\":\"\",", "\"managed_groups\":\"\",",
        "\"device_groups\":\"\",", "\"suppress_welcome\":false,"}) {
    const size_t at = json.find(key);
    ASSERT_NE(at, std::string::npos) << key << " in " << json;
    json.erase(at, key.size());
  }
  absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->spec.privileges, "");
  EXPECT_EQ(parsed->spec.role_set, "");
  EXPECT_EQ(parsed->spec.managed_groups, "");
  EXPECT_EQ(parsed->spec.device_groups, "");
  EXPECT_FALSE(parsed->spec.suppress_welcome);
  EXPECT_EQ(parsed->spec.first_name, SamplePlan().operations[1].spec.first_name);
}

// A plan file as `usersync plan --out` wrote it before the compact form (issue 17): every spec
// key, no "plan_format", plan_id FNV-1a 64 over each operation's bytes. Its operations were
// written by the build at 663c2b4 (two from the demo, one from the 1M benchmark); plan_id was
// computed over them apart from this code.
constexpr char kPlanBeforeCompactForm[] =
    R"json({"summary":{"matched":0,"update":1,"new":1,"invalid":0,"account_only":0,"departed":1},"operations":[{"op":"link","directory_id":"81287bca-9514-4cdb-a951-000000000000","account_id":"910a2dec-8902-45cc-811e-000000000001","email":"fatima.hansen0@example.com","dn":"uid=fatima.hansen0,ou=people,dc=example,dc=com","reason":"matched by email; changed: external_id; rule Everyone","held":false,"changes":{"external_id":{"before":"","after":"81287bca-9514-4cdb-a951-000000000000"}},"precondition":{"version":"W/\"1\"","active":true,"external_id":""},"spec":{"user_name":"fatima.hansen0@example.com","email":"fatima.hansen0@example.com","external_id":"81287bca-9514-4cdb-a951-000000000000","first_name":"Fatima","last_name":"Hansen","display_name":"Fatima Hansen","language":"","products":"G2M","admin_role":"","privileges":"","role_set":"","user_group":"","managed_groups":"","device_groups":"","settings_template":"","welcome_template":"","suppress_welcome":false,"active":true}},
{"op":"create","directory_id":"00000000-0000-4000-8000-000000000006","account_id":null,"email":"frank.miller@example.com","dn":"uid=frank,ou=people,dc=example,dc=com","reason":"in scope, no account; rule Everyone","held":false,"changes":{},"precondition":{"account_exists":false},"spec":{"user_name":"frank.miller@example.com","email":"frank.miller@example.com","external_id":"00000000-0000-4000-8000-000000000006","first_name":"Frank","last_name":"Miller","display_name":"Frank Miller","language":"","products":"G2M","admin_role":"","privileges":"","role_set":"","user_group":"","managed_groups":"","device_groups":"","settings_template":"","welcome_template":"","suppress_welcome":false,"active":true}},
{"op":"deactivate","directory_id":"00000000-0000-4000-8000-000000000046","account_id":"5de186dc-ba77-4920-86e5-000000000010","email":"connor.reid@example.com","dn":"uid=connor,ou=people,dc=example,dc=com","reason":"departed: no longer in a scoped group","held":false,"changes":{"active":{"before":"true","after":"false"}},"precondition":{"version":"W/\"1\"","active":true}}],"plan_id":"f4c32283b3e41d6a","invalid":[],"deprovision_held":false,"warnings":[]})json";

TEST(PlanFile, ReadsAPlanFileWrittenBeforeTheCompactForm) {
  absl::StatusOr<PlanFile> file = ParsePlanJson(kPlanBeforeCompactForm, "old.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->plan_id, "f4c32283b3e41d6a");
  EXPECT_EQ(file->computed_plan_id, file->plan_id);  // not taken for an edited file
  ASSERT_EQ(file->operations.size(), 3u);
  const Operation& link = file->operations[0];
  EXPECT_EQ(link.kind, OpKind::kLink);
  EXPECT_EQ(link.precondition_version, "W/\"1\"");
  ASSERT_EQ(link.changes.size(), 1u);
  EXPECT_EQ(link.changes[0].after, "81287bca-9514-4cdb-a951-000000000000");
  EXPECT_EQ(link.spec.user_name, "fatima.hansen0@example.com");
  EXPECT_EQ(link.spec.external_id, "81287bca-9514-4cdb-a951-000000000000");
  EXPECT_EQ(link.spec.last_name, "Hansen");
  EXPECT_EQ(link.spec.products, "G2M");
  EXPECT_EQ(link.spec.admin_role, "");
  EXPECT_TRUE(link.spec.active);
  EXPECT_EQ(file->operations[1].kind, OpKind::kCreate);
  EXPECT_EQ(file->operations[1].spec.display_name, "Frank Miller");
  EXPECT_EQ(file->operations[2].kind, OpKind::kDeactivate);

  // Written again, it is the compact form, with the same operations.
  core::Plan plan;
  plan.operations = file->operations;
  absl::StatusOr<PlanFile> again = ParsePlanJson(PlanJson(plan), "new.json");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->computed_plan_id, again->plan_id);
  for (size_t idx = 0; idx < 3; ++idx) {
    SCOPED_TRACE(idx);
    ExpectSameOperation(again->operations[idx], file->operations[idx]);
  }

  // An edit of the old form is still seen.
  std::string edited = kPlanBeforeCompactForm;
  const size_t at = edited.find("\"last_name\":\"Hansen\"");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 20, "\"last_name\":\"Hanson\"");
  file = ParsePlanJson(edited, "old.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_NE(file->computed_plan_id, file->plan_id);
}

// A plan file leaves out the spec keys that hold their default, says so in "plan_format", and
// its fingerprint sees an edit of a key it left out (spelled out with another value).
TEST(PlanFile, WritesTheCompactForm) {
  const core::Plan plan = SamplePlan();
  const std::string json = PlanJson(plan);
  EXPECT_THAT(json, HasSubstr("\"plan_format\":2,"));
  EXPECT_THAT(json, Not(HasSubstr("\"privileges\"")));
  EXPECT_THAT(json, Not(HasSubstr("\"user_name\"")));  // = the spec's email
  EXPECT_THAT(json, HasSubstr("\"admin_role\":\"manager\""));
  std::string edited = json;
  const std::string spec = "\"spec\":{";
  const size_t at = edited.find(spec);
  ASSERT_NE(at, std::string::npos);
  edited.insert(at + spec.size(), "\"privileges\":\"all\",");
  absl::StatusOr<PlanFile> file = ParsePlanJson(edited, "plan.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->operations[0].spec.privileges, "all");
  EXPECT_NE(file->computed_plan_id, file->plan_id);
  // A default spelled out is no edit.
  edited = json;
  edited.insert(at + spec.size(), "\"privileges\":\"\",");
  file = ParsePlanJson(edited, "plan.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->computed_plan_id, file->plan_id);
}

TEST(PlanFile, RefusesALaterPlanFormat) {
  std::string json = PlanJson(SamplePlan());
  const size_t at = json.find("\"plan_format\":2");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 15, "\"plan_format\":3");
  absl::StatusOr<PlanFile> file = ParsePlanJson(json, "plan.json");
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()),
              HasSubstr("plan.json: plan_format: 3: written by a later usersync"));
}

TEST(PlanFile, CreateMustNotNameAnAccount) {
  std::string json = OperationJson(SamplePlan().operations[0]);
  const std::string from = "\"account_id\":null";
  const size_t at = json.find(from);
  ASSERT_NE(at, std::string::npos) << json;
  json.replace(at, from.size(), "\"account_id\":\"acc-1\"");
  absl::StatusOr<Operation> parsed = ParseOperationJson(json, "plan.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("a create names no account"));
}

TEST(PlanFile, NamesTheOperationIndexInAPlan) {
  core::Plan plan = SamplePlan();
  std::string json = PlanJson(plan);
  const std::string from = "\"op\":\"deactivate\"";
  const size_t at = json.find(from);
  ASSERT_NE(at, std::string::npos);
  json.replace(at, from.size(), "\"op\":\"suspend\"");
  absl::StatusOr<PlanFile> file = ParsePlanJson(json, "/tmp/p.json");
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()),
              HasSubstr("/tmp/p.json: operations[4].op: unknown op \"suspend\""));
}

TEST(PlanFile, RefusesWhatIsNotAPlan) {
  EXPECT_THAT(std::string(ParsePlanJson("[1, 2]", "x.json").status().message()),
              HasSubstr("expected a JSON object"));
  EXPECT_THAT(std::string(ParsePlanJson("{\"summary\": {}}", "x.json").status().message()),
              HasSubstr("operations: missing"));
  EXPECT_THAT(std::string(ParsePlanJson("{\"operations\": []}", "x.json").status().message()),
              HasSubstr("plan_id: missing"));
  EXPECT_FALSE(ParsePlanJson("{\"operations\": [", "x.json").ok());
  EXPECT_FALSE(ParsePlanJson("not json", "x.json").ok());
}

TEST(PlanFile, MissingFileIsNotFound) {
  absl::StatusOr<PlanFile> file = ReadPlanFile("/nonexistent/dir/plan.json");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("/nonexistent/dir/plan.json"));
}

// --- Drift -----------------------------------------------------------------------------------

class DriftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    planned_ = SamplePlan().operations;
    planned_.resize(2);  // the create of ann, the update of bob (acc-7)
    current_.operations = planned_;
    core::Account bob;
    bob.id = accounts_.Store("acc-7");
    bob.user_name = accounts_.Store("bob@example.com");
    bob.email = bob.user_name;
    bob.last_name = accounts_.Store("Old");
    bob.products = accounts_.Store("");
    bob.version = accounts_.Store("W/\"3\"");
    accounts_.items.push_back(bob);
  }

  std::vector<Operation> planned_;
  core::Accounts accounts_;
  core::Plan current_;
};

TEST_F(DriftTest, NothingChangedNothingDrifts) {
  DriftReport report = CheckDrift(planned_, accounts_, current_);
  EXPECT_EQ(report.drifted, 0u);
  EXPECT_EQ(report.not_in_plan, 0u);
  ASSERT_EQ(report.reasons.size(), 2u);
  EXPECT_TRUE(report.reasons[0].empty());
  EXPECT_TRUE(report.reasons[1].empty());
}

TEST_F(DriftTest, AccountChangedAtTheTarget) {
  accounts_.items[0].last_name = accounts_.Store("Hacked");
  accounts_.items[0].version = accounts_.Store("W/\"4\"");
  current_.operations[1].changes[0].before = "Hacked";  // the plan made now sees it too
  DriftReport report = CheckDrift(planned_, accounts_, current_);
  EXPECT_EQ(report.drifted, 1u);
  EXPECT_TRUE(report.reasons[0].empty());
  EXPECT_THAT(report.reasons[1],
              ::testing::ElementsAre(
                  "account acc-7: last_name is now 'Hacked', plan expected 'Old'",
                  "account acc-7: modified at the target since the plan (version W/\"4\", plan "
                  "expected W/\"3\")"));
}

TEST_F(DriftTest, AccountGoneOrDeactivated) {
  accounts_.items[0].active = false;
  EXPECT_THAT(CheckDrift(planned_, accounts_, current_).reasons[1],
              ::testing::Contains("account acc-7: active is now false, plan expected true"));
  accounts_.items.clear();
  EXPECT_THAT(CheckDrift(planned_, accounts_, current_).reasons[1],
              ::testing::Contains("account acc-7 no longer exists at the target"));
}

TEST_F(DriftTest, CreateRefusedWhenTheAccountNowExists) {
  core::Account ann;
  ann.id = accounts_.Store("acc-new");
  ann.user_name = accounts_.Store("ANN@example.com");
  accounts_.items.push_back(ann);
  DriftReport report = CheckDrift(planned_, accounts_, current_);
  EXPECT_EQ(report.drifted, 1u);
  EXPECT_THAT(report.reasons[0],
              ::testing::Contains("an account with userName ann@example.com now exists at the "
                                  "target (acc-new); plan expected none"));
}

TEST_F(DriftTest, DirectoryNowWantsSomethingElse) {
  current_.operations[0].spec.last_name = "Renamed";  // ann's create
  current_.operations[1].changes[0].after = "Newer";  // bob's last name
  current_.operations[1].changes.push_back({core::Field::kFirstName, "Bob", "Robert"});
  Operation extra = planned_[0];
  extra.directory_id = "id-zed";
  current_.operations.push_back(extra);  // not in the plan: ignored, but counted
  DriftReport report = CheckDrift(planned_, accounts_, current_);
  EXPECT_EQ(report.drifted, 2u);
  EXPECT_EQ(report.not_in_plan, 1u);
  EXPECT_THAT(report.reasons[0],
              ::testing::ElementsAre(
                  "directory user id-ann: last_name should now be 'Renamed', plan writes "
                  "'Lee \"quoted\" é'"));
  EXPECT_THAT(report.reasons[1],
              ::testing::ElementsAre(
                  "directory user id-bob: last_name should now be 'Newer', plan writes 'New'",
                  "directory user id-bob: first_name now changes too ('Bob' → 'Robert')"));
}

TEST_F(DriftTest, UserNoLongerPlannedNamesItsCategory) {
  current_.operations.erase(current_.operations.begin() + 1);
  core::UserRow row;
  row.category = core::Category::kMatched;
  row.directory_id = "id-bob";
  row.reason = "linked, in sync";
  current_.rows.push_back(row);
  EXPECT_THAT(CheckDrift(planned_, accounts_, current_).reasons[1],
              ::testing::ElementsAre(
                  "directory user id-bob: no longer planned; now matched (linked, in sync)"));
}

}  // namespace
}  // namespace usersync::io
