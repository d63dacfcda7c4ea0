#include "io/executor.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/clock.h"
#include "io/report/audit_log.h"
#include "io/state/state_store.h"
#include "io/target_api.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A TargetApi that answers each operation with `answer(op)` at once (on the caller's thread,
// which the executor's queue allows), or, with `hold` set, keeps it until Cancel(), which
// completes every held operation as kCancelled. `on_execute` runs before each answer. With
// `batch` > 0 it answers creates as a batching driver under HoldPartialBatches would: when
// `batch` of them wait, or on Flush (ending the hold flushes).
class FakeTarget : public TargetApi {
 public:
  std::function<OpOutcome(const core::Operation&)> answer = [](const core::Operation& op) {
    return OpOutcome{absl::OkStatus(),
                     op.account_id.empty() ? "new-" + op.directory_id.str() : op.account_id.str(),
                     201, 1};
  };
  bool hold = false;
  size_t batch = 0;
  std::function<void(int64_t executed)> on_execute;

  absl::Status Check() override { return absl::OkStatus(); }
  absl::StatusOr<core::Accounts> ListAccounts() override { return core::Accounts(); }
  void Execute(const core::Operation& op, std::function<void(OpOutcome)> done) override {
    ++executed;
    if (on_execute) on_execute(executed);
    if (cancelled) {
      done(OpOutcome{absl::CancelledError("cancelled"), "", 0, 0});
    } else if (hold) {
      held.push_back(std::move(done));
    } else if (batch > 0 && op.kind == core::OpKind::kCreate) {
      batched.emplace_back(std::move(done), answer(op));
      if (batched.size() >= batch) AnswerBatched();
    } else {
      done(answer(op));
    }
  }
  void HoldPartialBatches(bool hold_them) override {
    if (!hold_them) Flush();
  }
  void Flush() override {
    ++flushes;
    AnswerBatched();
  }
  void AnswerBatched() {
    std::vector<std::pair<std::function<void(OpOutcome)>, OpOutcome>> answering =
        std::move(batched);
    batched.clear();
    for (auto& [done, outcome] : answering) done(outcome);
  }
  void Drain() override {}
  void Cancel() override {
    ++cancel_calls;
    cancelled = true;
    std::vector<std::function<void(OpOutcome)>> waiting = std::move(held);
    for (auto& done : waiting) done(OpOutcome{absl::CancelledError("cancelled"), "", 0, 0});
  }
  TargetStats stats() const override { return {}; }

  int64_t executed = 0;
  int cancel_calls = 0;
  bool cancelled = false;
  std::vector<std::function<void(OpOutcome)>> held;
  std::vector<std::pair<std::function<void(OpOutcome)>, OpOutcome>> batched;
  int flushes = 0;
};

std::vector<core::Operation> Creates(int count) {
  std::vector<core::Operation> ops;
  for (int op_idx = 0; op_idx < count; ++op_idx) {
    core::Operation op;
    op.kind = core::OpKind::kCreate;
    op.directory_id = "d" + std::to_string(op_idx);
    op.email = op.directory_id + "@example.com";
    op.spec.user_name = op.email;
    op.spec.email = op.email;
    op.spec.external_id = op.directory_id;
    ops.push_back(std::move(op));
  }
  return ops;
}

std::string ReadAll(std::FILE* file) {
  std::rewind(file);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) out.append(buffer, n);
  return out;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto state = StateStore::Open(":memory:");
    ASSERT_TRUE(state.ok()) << state.status();
    state_ = *std::move(state);
    const fs::path dir = fs::path(::testing::TempDir()) / "executor_test" /
                         ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir);
    auto logs = RunLogs::Open(dir.string());
    ASSERT_TRUE(logs.ok()) << logs.status();
    logs_ = *std::move(logs);
    err_ = std::tmpfile();
    ASSERT_NE(err_, nullptr);
    auto run = state_->BeginRun("sync", "2026-01-01T00:00:00Z");
    ASSERT_TRUE(run.ok());
    run_id_ = *run;
  }
  void TearDown() override {
    if (err_ != nullptr) std::fclose(err_);
  }

  ExecutorContext Context() {
    ExecutorContext context;
    context.state = state_.get();
    context.target = &target_;
    context.logs = logs_.get();
    context.run_id = run_id_;
    context.err = err_;
    context.interrupted = &interrupted_;
    context.clock = &clock_;
    return context;
  }

  // Applies 200 creates, journaled and sent in batches of 128 (the first batch's outcomes are
  // known when the second starts), and returns how many journal rows were settled when the
  // second batch started. `advance_clock`: 100 ms pass while the first batch is sent.
  size_t SettledWhenTheSecondBatchStarts(bool advance_clock) {
    size_t settled = 0;
    target_.on_execute = [&](int64_t executed) {
      if (executed == 128 && advance_clock) clock_.Advance(std::chrono::milliseconds(100));
      if (executed != 129) return;
      for (const JournalEntry& entry : Journal()) settled += entry.state != "intent";
    };
    EXPECT_EQ(ApplyOperations(Creates(200), Context()).done, 200);
    ExpectEveryRowSettled();  // the run's end settles the rest
    return settled;
  }

  // The target answers every operation with `outcome`.
  void AnswerEvery(const OpOutcome& outcome) {
    target_.answer = [outcome](const core::Operation&) { return outcome; };
  }

  void ExpectEveryRowSettled() {
    auto unsettled = state_->LoadUnsettled();
    ASSERT_TRUE(unsettled.ok()) << unsettled.status();
    EXPECT_THAT(*unsettled, IsEmpty());
  }

  std::vector<JournalEntry> Journal() {
    auto journal = state_->JournalForRun(run_id_);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : std::vector<JournalEntry>{};
  }

  std::unique_ptr<StateStore> state_;
  std::unique_ptr<RunLogs> logs_;
  std::FILE* err_ = nullptr;
  int64_t run_id_ = 0;
  FakeTarget target_;
  std::atomic<bool> interrupted_{false};
  FakeClock clock_;  // moves only when a test advances it
};

TEST_F(ExecutorTest, AppliesEverythingAndLinksCreates) {
  std::vector<core::Operation> ops = Creates(300);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_EQ(totals.done, 300);
  EXPECT_EQ(totals.failed + totals.cancelled + totals.not_started, 0);
  EXPECT_FALSE(totals.quarantined);
  EXPECT_FALSE(totals.interrupted);
  EXPECT_EQ(target_.cancel_calls, 0);
  auto links = state_->LoadLinks();
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 300u);
  for (const LinkRow& link : *links) EXPECT_EQ(link.origin, "created");
  ExpectEveryRowSettled();
}

// Creates held for a batch larger than the executor's bound (a driver that did not say how many
// it wants, OperationsWanted 0) would wait for each other for ever: after 2 s without an
// outcome the executor flushes them, and the run completes. Real clock: the test takes ~2 s.
TEST_F(ExecutorTest, HeldCreatesThatCannotFillABatchAreFlushed) {
  target_.batch = 1000;
  ExecutorContext context = Context();
  context.clock = nullptr;
  const ApplyTotals totals = ApplyOperations(Creates(600), context);
  EXPECT_EQ(totals.done, 600);
  EXPECT_GE(target_.flushes, 2);  // the safety net, then the end of the hold
  ExpectEveryRowSettled();
}

// Outcomes are settled in the journal every 256 outcomes or every 100 ms of the context's
// clock, whichever comes first; the run's end settles the rest.
TEST_F(ExecutorTest, OutcomesWaitForTheClockToBeSettled) {
  EXPECT_EQ(SettledWhenTheSecondBatchStarts(/*advance_clock=*/false), 0u);
}

TEST_F(ExecutorTest, SettlesTheJournalAfterHundredMillisecondsOfItsClock) {
  EXPECT_EQ(SettledWhenTheSecondBatchStarts(/*advance_clock=*/true), 128u);
}

// The target answers 503 to everything: the run stops once the window of 50 is full of
// failures, cancels, and leaves the other operations unsent.
TEST_F(ExecutorTest, QuarantineStopsAfterAWindowOfTargetFailures) {
  AnswerEvery(OpOutcome{absl::UnavailableError("POST /Users: HTTP 503"), "", 503, 3});
  std::vector<core::Operation> ops = Creates(2000);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_TRUE(totals.quarantined);
  EXPECT_EQ(target_.cancel_calls, 1);
  // The first batch of 128 was sent (and answered at once) before the window could judge.
  EXPECT_EQ(target_.executed, 128);
  EXPECT_EQ(totals.failed, 128);
  EXPECT_EQ(totals.not_started, 2000 - 128);
  EXPECT_EQ(totals.window_failed, 50);
  EXPECT_EQ(totals.window_size, 50);
  EXPECT_EQ(totals.last_failure, "POST /Users: HTTP 503");
  EXPECT_THAT(ReadAll(err_),
              HasSubstr("usersync: stopped early: 50 of the last 50 operations failed (POST "
                        "/Users: HTTP 503): target unreachable or token revoked"));
  EXPECT_EQ(Journal().size(), 128u);
  ExpectEveryRowSettled();
}

// Data errors (409, 400) say nothing about the target's health: no quarantine.
TEST_F(ExecutorTest, DataErrorsNeverQuarantine) {
  AnswerEvery(OpOutcome{absl::AlreadyExistsError("POST /Users: HTTP 409"), "", 409, 1});
  std::vector<core::Operation> ops = Creates(500);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_FALSE(totals.quarantined);
  EXPECT_EQ(totals.failed, 500);
  EXPECT_EQ(totals.window_failed, 0);
  EXPECT_EQ(target_.cancel_calls, 0);
}

// Failures below the threshold (every other operation: 25 of 50) do not stop the run.
TEST_F(ExecutorTest, FailuresBelowTheThresholdGoOn) {
  int calls = 0;
  target_.answer = [&calls](const core::Operation& op) {
    if (++calls % 2 == 0) return OpOutcome{absl::UnavailableError("HTTP 503"), "", 503, 7};
    return OpOutcome{absl::OkStatus(), "a-" + op.directory_id, 201, 1};
  };
  std::vector<core::Operation> ops = Creates(400);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_FALSE(totals.quarantined);
  EXPECT_EQ(totals.done, 200);
  EXPECT_EQ(totals.failed, 200);
  EXPECT_EQ(totals.window_failed, 25);
}

// Ctrl-C while 256 operations wait at the target: they are cancelled and recorded as not done,
// nothing more starts, and no journal row stays "intent".
TEST_F(ExecutorTest, InterruptCancelsQueuedOperationsAndRecordsThem) {
  target_.hold = true;
  target_.on_execute = [this](int64_t executed) {
    if (executed == 200) interrupted_ = true;
  };
  std::vector<core::Operation> ops = Creates(1000);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_TRUE(totals.interrupted);
  EXPECT_FALSE(totals.quarantined);
  EXPECT_EQ(target_.cancel_calls, 1);
  EXPECT_EQ(target_.executed, 256);  // two batches journaled and started; none after
  EXPECT_EQ(totals.cancelled, 256);
  EXPECT_EQ(totals.not_started, 1000 - 256);
  EXPECT_EQ(totals.done, 0);
  std::vector<JournalEntry> journal = Journal();
  ASSERT_EQ(journal.size(), 256u);
  for (const JournalEntry& entry : journal) {
    EXPECT_EQ(entry.state, "failed");
    EXPECT_EQ(entry.error, "cancelled by interrupt");
  }
  EXPECT_THAT(ReadAll(err_), HasSubstr("usersync: interrupted: stopped starting operations"));
}

// The audit log on a full disk: the first batch's outcomes cannot be logged, so the run stops
// before the next batch is sent; the journal still records every outcome.
TEST_F(ExecutorTest, AFailedLogWriteStopsTheRunBeforeTheNextBatch) {
  const fs::path dir = fs::path(::testing::TempDir()) / "executor_test_full_disk";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::create_symlink("/dev/full", dir / "audit.jsonl");
  auto logs = RunLogs::Open(dir.string());
  ASSERT_TRUE(logs.ok()) << logs.status();
  logs_ = *std::move(logs);
  std::vector<core::Operation> ops = Creates(1000);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_TRUE(totals.logs_failed);
  EXPECT_FALSE(totals.quarantined);
  EXPECT_EQ(target_.executed, 128);  // the first batch, answered at once; none after
  EXPECT_EQ(totals.done, 128);
  EXPECT_EQ(totals.not_started, 1000 - 128);
  EXPECT_THAT(ReadAll(err_),
              HasSubstr((dir / "audit.jsonl").string() +
                        ": No space left on device; the run stopped; the state store's journal "
                        "holds what was done"));
  EXPECT_EQ(Journal().size(), 128u);
  ExpectEveryRowSettled();
}

// A create whose POST went through but whose next step failed still gets its "created" link.
TEST_F(ExecutorTest, CreateThatFailedAfterItsPostIsStillLinkedAsCreated) {
  AnswerEvery(OpOutcome{absl::UnavailableError("PATCH /Groups/g: HTTP 503"), "acct-1", 503, 2});
  std::vector<core::Operation> ops = Creates(1);
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_EQ(totals.failed, 1);
  auto links = state_->LoadLinks();
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].account_id, "acct-1");
  EXPECT_EQ((*links)[0].origin, "created");
}

// A link whose products the target refused (no seat) while the rest was applied fails, with
// "no seat for G2W" in the error log, and still stores its link: the account was touched. The
// same failure without the rest applied stores none.
TEST_F(ExecutorTest, LinkWithOnlyItsProductsRefusedIsStillLinked) {
  std::vector<core::Operation> ops = Creates(2);
  for (core::Operation& op : ops) {
    op.kind = core::OpKind::kLink;
    op.account_id = "acct-" + op.directory_id;
    op.changes = {{core::Field::kLanguage, "", "de_DE"}, {core::Field::kProducts, "", "G2W"}};
  }
  target_.answer = [](const core::Operation& op) {
    OpOutcome outcome{absl::ResourceExhaustedError("PUT: no seat for G2W at the target"),
                      op.account_id.str(), 409, 2};
    outcome.rest_applied = op.directory_id == "d0";
    return outcome;
  };
  ApplyTotals totals = ApplyOperations(ops, Context());
  EXPECT_EQ(totals.failed, 2);
  auto links = state_->LoadLinks();
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].directory_id, "d0");
  EXPECT_EQ((*links)[0].origin, "linked");
  ExpectEveryRowSettled();
}

// An "intent" row whose payload cannot be read says nothing of what was planned, so nothing
// proves it was applied: it settles as failed (re-planned), even when the account exists.
TEST_F(ExecutorTest, SettleInterruptedNeverCountsAnUnreadablePayloadAsDone) {
  std::vector<JournalIntent> intents = {
      {"update", "upd-unreadable", "acct-u1", "u1@example.com", "{not json"},
  };
  auto ids = state_->RecordIntents(run_id_, intents);
  ASSERT_TRUE(ids.ok()) << ids.status();
  core::Accounts accounts;
  core::Account account;
  account.id = accounts.Store("acct-u1");
  account.active = true;  // no other value: an empty planned operation differs in none
  accounts.items.push_back(account);

  std::vector<LinkRow> links;
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  RecoveryTotals totals =
      SettleInterrupted(*state_, *logs_, accounts, /*target_has_display_name=*/true, &links, out);
  std::fclose(out);
  EXPECT_EQ(totals.done, 0);
  EXPECT_EQ(totals.not_done, 1);
  ExpectEveryRowSettled();
  const std::vector<JournalEntry> journal = Journal();
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].state, "failed");
  EXPECT_THAT(journal[0].error, HasSubstr("planned again"));
  EXPECT_TRUE(links.empty());
}

// SettleInterrupted decides each "intent" row from the target's snapshot.
TEST_F(ExecutorTest, SettleInterruptedChecksEachRowAgainstTheTarget) {
  auto spec = [](const std::string& id, const std::string& group) {
    return "{\"op\":\"create\",\"directory_id\":\"" + id +
           "\",\"changes\":{},\"spec\":{\"user_name\":\"" + id +
           "@example.com\",\"external_id\":\"" + id + "\",\"last_name\":\"L\",\"user_group\":\"" +
           group + "\",\"active\":\"true\"}}";
  };
  std::vector<JournalIntent> intents = {
      {"create", "done-create", "", "done-create@example.com", spec("done-create", "Staff")},
      {"create", "half-create", "", "half-create@example.com", spec("half-create", "Staff")},
      {"create", "lost-create", "", "lost-create@example.com", spec("lost-create", "Staff")},
      {"update", "upd-done", "acct-u1", "u1@example.com",
       "{\"op\":\"update\",\"changes\":{\"last_name\":\"New\"}}"},
      {"update", "upd-lost", "acct-u2", "u2@example.com",
       "{\"op\":\"update\",\"changes\":{\"last_name\":\"New\"}}"},
      {"delete", "del-done", "acct-gone", "gone@example.com", "{\"op\":\"delete\",\"changes\":{}}"},
      {"deactivate", "deact-lost", "acct-d", "d@example.com",
       "{\"op\":\"deactivate\",\"changes\":{}}"},
  };
  auto ids = state_->RecordIntents(run_id_, intents);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_TRUE(state_
                  ->UpsertLinks(std::vector<LinkRow>{{"del-done", "acct-gone", "created"},
                                                     {"upd-done", "acct-u1", "manual"}})
                  .ok());

  core::Accounts accounts;
  auto add = [&accounts](std::string_view id, std::string_view external_id,
                         std::string_view last_name, std::string_view group, bool active) {
    core::Account account;
    account.id = accounts.Store(id);
    account.external_id = accounts.Store(external_id);
    account.user_name = accounts.Store(std::string(external_id) + "@example.com");
    account.last_name = accounts.Store(last_name);
    account.user_group = accounts.Store(group);
    account.active = active;
    accounts.items.push_back(account);
  };
  add("acct-c1", "done-create", "L", "Staff", true);
  add("acct-c2", "half-create", "L", "", true);  // POST done, group step not
  add("acct-u1", "upd-done", "New", "", true);
  add("acct-u2", "upd-lost", "Old", "", true);
  add("acct-d", "deact-lost", "L", "", true);

  std::vector<LinkRow> links = {{"del-done", "acct-gone", "created"},
                                {"upd-done", "acct-u1", "manual"}};
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  RecoveryTotals totals =
      SettleInterrupted(*state_, *logs_, accounts, /*target_has_display_name=*/true, &links, out);
  EXPECT_EQ(totals.done, 3);      // done-create, upd-done, del-done
  EXPECT_EQ(totals.not_done, 4);  // half-create, lost-create, upd-lost, deact-lost
  EXPECT_THAT(ReadAll(out), HasSubstr("Recovered 7 operation(s)"));
  std::fclose(out);

  ExpectEveryRowSettled();
  std::map<std::string, JournalEntry> by_id;
  for (const JournalEntry& entry : Journal()) by_id[entry.directory_id] = entry;
  EXPECT_EQ(by_id["done-create"].state, "done");
  EXPECT_EQ(by_id["done-create"].account_id, "acct-c1");
  EXPECT_EQ(by_id["half-create"].state, "failed");
  EXPECT_THAT(by_id["half-create"].error, HasSubstr("user_group"));
  EXPECT_EQ(by_id["lost-create"].state, "failed");
  EXPECT_EQ(by_id["upd-done"].state, "done");
  EXPECT_EQ(by_id["upd-lost"].state, "failed");
  EXPECT_THAT(by_id["upd-lost"].error, HasSubstr("last_name"));
  EXPECT_EQ(by_id["del-done"].state, "done");
  EXPECT_EQ(by_id["deact-lost"].state, "failed");

  // Both creates that happened are usersync's; the manual link keeps its origin; the deleted
  // account's link is gone. The caller's copy matches the store.
  auto stored = state_->LoadLinks();
  ASSERT_TRUE(stored.ok());
  std::map<std::string, std::string> origin;
  for (const LinkRow& link : *stored)
    origin[link.directory_id] = link.origin + ":" + link.account_id;
  EXPECT_EQ(origin, (std::map<std::string, std::string>{{"done-create", "created:acct-c1"},
                                                        {"half-create", "created:acct-c2"},
                                                        {"upd-done", "manual:acct-u1"}}));
  std::map<std::string, std::string> in_memory;
  for (const LinkRow& link : links) {
    in_memory[link.directory_id] = link.origin + ":" + link.account_id;
  }
  EXPECT_EQ(in_memory, origin);
}

}  // namespace
}  // namespace usersync::io
