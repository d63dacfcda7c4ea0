#include "io/commands/holds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "io/report/audit_log.h"
#include "io/state/state_store.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

core::Operation Deactivate(const std::string& id, bool held) {
  core::Operation op;
  op.kind = core::OpKind::kDeactivate;
  op.directory_id = "id-" + id;
  op.account_id = "acc-" + id;
  op.email = id + "@example.com";
  op.reason = "departed: out of scope";
  op.held = held;
  return op;
}

class HoldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / "holds_test" /
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    state_ = *StateStore::Open((dir / "state.db").string());
    logs_ = *RunLogs::Open((dir / "logs").string());
  }

  int64_t Run() { return *state_->BeginRun("sync", "2026-12-07T00:00:00.000Z"); }

  std::unique_ptr<StateStore> state_;
  std::unique_ptr<RunLogs> logs_;
};

TEST_F(HoldsTest, HeldIntentsAreTheHeldOperations) {
  const std::vector<JournalIntent> intents =
      HeldIntents({Deactivate("a", true), Deactivate("b", false), Deactivate("c", true)});
  ASSERT_EQ(intents.size(), 2u);
  EXPECT_EQ(intents[0].op, "deactivate");
  EXPECT_EQ(intents[0].account_id, "acc-a");
  EXPECT_EQ(intents[1].directory_id, "id-c");
  EXPECT_THAT(intents[1].payload, HasSubstr("departed: out of scope"));
}

// The same held operations keep their hold ids; another set replaces them; none clears them.
TEST_F(HoldsTest, RecordHoldsKeepsTheSameSetAndReplacesAnother) {
  const std::vector<core::Operation> ops = {Deactivate("a", true), Deactivate("b", true)};
  const std::vector<HoldRow> first = RecordHolds(*state_, Run(), ops, *logs_, stderr);
  ASSERT_EQ(first.size(), 2u);
  const std::vector<HoldRow> again = RecordHolds(*state_, Run(), ops, *logs_, stderr);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].hold_id, first[0].hold_id);
  EXPECT_EQ(again[1].hold_id, first[1].hold_id);

  const std::vector<HoldRow> other =
      RecordHolds(*state_, Run(), {Deactivate("c", true)}, *logs_, stderr);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].account_id, "acc-c");
  EXPECT_TRUE(RecordHolds(*state_, Run(), {Deactivate("c", false)}, *logs_, stderr).empty());
}

TEST_F(HoldsTest, TextListsHoldsWithTheirReasonsAndHowToRelease) {
  const std::vector<HoldRow> holds = RecordHolds(
      *state_, Run(), {Deactivate("a", true), Deactivate("b", true), Deactivate("c", true)}, *logs_,
      stderr);
  ASSERT_EQ(holds.size(), 3u);
  EXPECT_EQ(HoldLine(holds[0]),
            absl::StrCat("  hold ", holds[0].hold_id,
                         ": deactivate a@example.com (account acc-a, directory id id-a): "
                         "departed: out of scope\n"));
  const std::string text = HoldsText(holds, "u.toml", 2);
  EXPECT_THAT(text, HasSubstr("3 held operation(s):\n"));
  EXPECT_THAT(text, HasSubstr("  ... and 1 more (`usersync release -c u.toml` lists them all)"));
  EXPECT_THAT(text, HasSubstr("Release them with `usersync release -c u.toml --id ID...`"));
  EXPECT_EQ(HoldsText({}, "u.toml", 2), "");
}

}  // namespace
}  // namespace usersync::io
