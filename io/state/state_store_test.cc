#include "io/state/state_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string TempPath(std::string_view name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "state_store_test";
  fs::create_directories(dir);
  const fs::path path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  return path.string();
}

std::unique_ptr<StateStore> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Runs one SQL statement on `path` directly, outside StateStore; returns its first integer.
int64_t RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t value = -1;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

std::string RawText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

MATCHER_P3(IsLink, directory_id, account_id, origin, "") {
  return arg.directory_id == directory_id && arg.account_id == account_id && arg.origin == origin;
}

TEST(StateStore, OpensInMemory) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<LinkRow>> links = store->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, IsEmpty());
}

TEST(StateStore, LinksUpsertRemoveLoad) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const std::vector<LinkRow> first = {{"u2", "a2", "created"}, {"u1", "a1", "linked"}};
  ASSERT_TRUE(store->UpsertLinks(first).ok());
  // Upsert replaces an existing directory id's account and origin.
  const std::vector<LinkRow> second = {{"u1", "a9", "manual"}, {"u3", "a3", "created"}};
  ASSERT_TRUE(store->UpsertLinks(second).ok());
  absl::StatusOr<std::vector<LinkRow>> links = store->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, ElementsAre(IsLink("u1", "a9", "manual"), IsLink("u2", "a2", "created"),
                                  IsLink("u3", "a3", "created")));

  const std::vector<std::string> remove = {"u2", "u-unknown"};
  ASSERT_TRUE(store->RemoveLinks(remove).ok());
  links = store->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, ElementsAre(IsLink("u1", "a9", "manual"), IsLink("u3", "a3", "created")));
}

TEST(StateStore, ManualMatches) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SaveManualMatch({"u2", "a2"}).ok());
  ASSERT_TRUE(store->SaveManualMatch({"u1", "a1"}).ok());
  ASSERT_TRUE(store->SaveManualMatch({"u2", "a7"}).ok());  // replaces the earlier match
  absl::StatusOr<std::vector<ManualMatch>> matches = store->LoadManualMatches();
  ASSERT_TRUE(matches.ok()) << matches.status();
  ASSERT_EQ(matches->size(), 2u);
  EXPECT_EQ((*matches)[0].directory_id, "u1");
  EXPECT_EQ((*matches)[0].account_id, "a1");
  EXPECT_EQ((*matches)[1].directory_id, "u2");
  EXPECT_EQ((*matches)[1].account_id, "a7");
}

// Unlink forgets both the link and the manual match of each id, and nothing else.
TEST(StateStore, UnlinkForgetsLinksAndManualMatches) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const std::vector<LinkRow> links = {{"u1", "a1", "created"}, {"u2", "a2", "manual"}};
  ASSERT_TRUE(store->UpsertLinks(links).ok());
  ASSERT_TRUE(store->SaveManualMatch({"u2", "a2"}).ok());
  ASSERT_TRUE(store->SaveManualMatch({"u3", "a3"}).ok());
  const std::vector<std::string> ids = {"u2", "u3"};
  ASSERT_TRUE(store->Unlink(ids).ok());
  absl::StatusOr<std::vector<LinkRow>> left = store->LoadLinks();
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_THAT(*left, ElementsAre(IsLink("u1", "a1", "created")));
  absl::StatusOr<std::vector<ManualMatch>> matches = store->LoadManualMatches();
  ASSERT_TRUE(matches.ok()) << matches.status();
  EXPECT_THAT(*matches, IsEmpty());
}

TEST(StateStore, RunsBeginFinishRecent) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<int64_t> first = store->BeginRun("sync", "2024-01-01T00:00:00Z");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(store->FinishRun(*first, 0, R"({"created":3})", "2024-01-01T00:01:00Z").ok());
  absl::StatusOr<int64_t> second = store->BeginRun("dry-run", "2024-01-02T00:00:00Z");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);

  absl::StatusOr<std::vector<RunRow>> runs = store->RecentRuns(10);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  // Newest first; the unfinished run has no end and exit code -1.
  EXPECT_EQ((*runs)[0].run_id, *second);
  EXPECT_EQ((*runs)[0].mode, "dry-run");
  EXPECT_EQ((*runs)[0].started_at, "2024-01-02T00:00:00Z");
  EXPECT_EQ((*runs)[0].finished_at, "");
  EXPECT_EQ((*runs)[0].exit_code, -1);
  EXPECT_EQ((*runs)[1].run_id, *first);
  EXPECT_EQ((*runs)[1].finished_at, "2024-01-01T00:01:00Z");
  EXPECT_EQ((*runs)[1].exit_code, 0);
  EXPECT_EQ((*runs)[1].summary, R"({"created":3})");

  runs = store->RecentRuns(1);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].run_id, *second);

  absl::Status missing = store->FinishRun(*second + 100, 1, "{}", "2024-01-03T00:00:00Z");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

// RunsSince: the runs started at or after a time, newest first, whatever their state.
TEST(StateStore, RunsSinceSelectsByStartTime) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  for (const char* started :
       {"2024-01-01T23:59:59.999Z", "2024-01-02T00:00:00.000Z", "2024-01-02T10:30:00.500Z"}) {
    ASSERT_TRUE(store->BeginRun("sync", started).ok());
  }
  absl::StatusOr<std::vector<RunRow>> runs = store->RunsSince("2024-01-02T00:00:00.000Z");
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].started_at, "2024-01-02T10:30:00.500Z");
  EXPECT_EQ((*runs)[1].started_at, "2024-01-02T00:00:00.000Z");
  runs = store->RunsSince("2024-01-03T00:00:00.000Z");
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_TRUE(runs->empty());
}

TEST(StateStore, JournalIntentSettleUnsettled) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<int64_t> run = store->BeginRun("sync", "2024-01-01T00:00:00Z");
  ASSERT_TRUE(run.ok()) << run.status();
  const std::vector<JournalIntent> intents = {
      {"create", "u1", "", "a@example.com", R"({"op":"create"})"},
      {"update", "u2", "acc2", "b@example.com", R"({"op":"update"})"},
      {"deactivate", "u3", "acc3", "c@example.com", "{}"},
  };
  absl::StatusOr<std::vector<int64_t>> ids = store->RecordIntents(*run, intents);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_LT((*ids)[0], (*ids)[1]);
  EXPECT_LT((*ids)[1], (*ids)[2]);

  // The create learns its account id; the update fails; the deactivation stays unknown.
  const std::vector<JournalSettlement> settlements = {
      {(*ids)[0], true, "acc1", 201, 1, ""},
      {(*ids)[1], false, "", 422, 2, "HTTP 422: bad language"},
  };
  ASSERT_TRUE(store->Settle(settlements).ok());

  absl::StatusOr<std::vector<JournalEntry>> unsettled = store->LoadUnsettled();
  ASSERT_TRUE(unsettled.ok()) << unsettled.status();
  ASSERT_EQ(unsettled->size(), 1u);
  EXPECT_EQ((*unsettled)[0].op_id, (*ids)[2]);
  EXPECT_EQ((*unsettled)[0].op, "deactivate");
  EXPECT_EQ((*unsettled)[0].state, "intent");
  EXPECT_EQ((*unsettled)[0].run_id, *run);

  absl::StatusOr<std::vector<JournalEntry>> journal = store->JournalForRun(*run);
  ASSERT_TRUE(journal.ok()) << journal.status();
  ASSERT_EQ(journal->size(), 3u);
  const JournalEntry& created = (*journal)[0];
  EXPECT_EQ(created.state, "done");
  EXPECT_EQ(created.account_id, "acc1");
  EXPECT_EQ(created.email, "a@example.com");
  EXPECT_EQ(created.http_status, 201);
  EXPECT_EQ(created.attempts, 1);
  EXPECT_EQ(created.payload, R"({"op":"create"})");
  const JournalEntry& updated = (*journal)[1];
  EXPECT_EQ(updated.state, "failed");
  EXPECT_EQ(updated.account_id, "acc2");  // an empty settlement account id keeps the row's
  EXPECT_EQ(updated.http_status, 422);
  EXPECT_EQ(updated.attempts, 2);
  EXPECT_EQ(updated.error, "HTTP 422: bad language");

  absl::StatusOr<std::vector<JournalEntry>> other_run = store->JournalForRun(*run + 1);
  ASSERT_TRUE(other_run.ok());
  EXPECT_THAT(*other_run, IsEmpty());
}

// A batch that names an unknown op id settles nothing.
TEST(StateStore, SettleIsAllOrNothing) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const std::vector<JournalIntent> intents = {{"create", "u1", "", "a@example.com", "{}"}};
  absl::StatusOr<std::vector<int64_t>> ids = store->RecordIntents(1, intents);
  ASSERT_TRUE(ids.ok()) << ids.status();
  const std::vector<JournalSettlement> settlements = {{(*ids)[0], true, "acc1", 201, 1, ""},
                                                      {(*ids)[0] + 42, true, "", 200, 1, ""}};
  absl::Status status = store->Settle(settlements);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  absl::StatusOr<std::vector<JournalEntry>> unsettled = store->LoadUnsettled();
  ASSERT_TRUE(unsettled.ok());
  ASSERT_EQ(unsettled->size(), 1u);
  EXPECT_EQ((*unsettled)[0].account_id, "");
  // The store is usable after the rollback.
  const std::vector<JournalSettlement> good = {{(*ids)[0], true, "acc1", 201, 1, ""}};
  EXPECT_TRUE(store->Settle(good).ok());
}

TEST(StateStore, ReopenPersists) {
  const std::string path = TempPath("reopen.db");
  int64_t op_id = 0;
  int64_t run_id = 0;
  {
    std::unique_ptr<StateStore> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    const std::vector<LinkRow> links = {{"u1", "a1", "created"}};
    ASSERT_TRUE(store->UpsertLinks(links).ok());
    ASSERT_TRUE(store->SaveManualMatch({"u5", "a5"}).ok());
    absl::StatusOr<int64_t> run = store->BeginRun("sync", "2024-01-01T00:00:00Z");
    ASSERT_TRUE(run.ok());
    run_id = *run;
    const std::vector<JournalIntent> intents = {{"create", "u2", "", "b@example.com", "{}"}};
    absl::StatusOr<std::vector<int64_t>> ids = store->RecordIntents(run_id, intents);
    ASSERT_TRUE(ids.ok());
    op_id = (*ids)[0];
    // A crash here: the intent is never settled, the run never finished.
  }
  std::unique_ptr<StateStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<LinkRow>> links = store->LoadLinks();
  ASSERT_TRUE(links.ok());
  EXPECT_THAT(*links, ElementsAre(IsLink("u1", "a1", "created")));
  absl::StatusOr<std::vector<ManualMatch>> matches = store->LoadManualMatches();
  ASSERT_TRUE(matches.ok());
  ASSERT_EQ(matches->size(), 1u);
  EXPECT_EQ((*matches)[0].account_id, "a5");
  absl::StatusOr<std::vector<JournalEntry>> unsettled = store->LoadUnsettled();
  ASSERT_TRUE(unsettled.ok());
  ASSERT_EQ(unsettled->size(), 1u);
  EXPECT_EQ((*unsettled)[0].op_id, op_id);
  EXPECT_EQ((*unsettled)[0].run_id, run_id);
  absl::StatusOr<std::vector<RunRow>> runs = store->RecentRuns(5);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].finished_at, "");
}

TEST(StateStore, FileIsWalWithSchemaVersion) {
  const std::string path = TempPath("wal.db");
  { ASSERT_NE(OpenOrDie(path), nullptr); }
  EXPECT_EQ(RawText(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), StateStore::SchemaVersion());
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_master WHERE name = 'journal_by_state'"),
            1);
}

// Refused at open with the way out (exit 2): nothing a retry would fix.
TEST(StateStore, NotADatabaseIsRefusedWithTheWayOut) {
  const std::string path = TempPath("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int line = 0; line < 200; ++line) out << "this is not a SQLite database, line " << line;
  }
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()),
              testing::AllOf(HasSubstr(path), HasSubstr("damaged"), HasSubstr("backup")));
}

TEST(StateStore, ForeignSqliteDatabaseIsRefusedAndUntouched) {
  const std::string path = TempPath("foreign.db");
  RawQuery(path, "CREATE TABLE invoices(id INTEGER PRIMARY KEY)");
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()),
              testing::AllOf(HasSubstr(path), HasSubstr("not a usersync state store")));
  EXPECT_EQ(RawText(path, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_master"), 1);
}

TEST(StateStore, NewerSchemaIsRefused) {
  const std::string path = TempPath("newer.db");
  { ASSERT_NE(OpenOrDie(path), nullptr); }
  RawQuery(path, "PRAGMA user_version = 999");
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("999"));
}

TEST(StateStore, CannotOpenIsUnavailable) {
  const std::string path = TempPath("no-such-dir") + "/sub/state.db";
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
}

TEST(StateStore, HoldsSaveLoadRelease) {
  std::unique_ptr<StateStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const std::vector<JournalIntent> first = {{"deactivate", "u1", "a1", "a@example.com", "{}"},
                                            {"deactivate", "u2", "a2", "b@example.com", "{}"}};
  ASSERT_TRUE(store->SaveHolds(1, first).ok());
  // A later run holds anew: the earlier pending holds are replaced.
  const std::vector<JournalIntent> second = {{"deactivate", "u2", "a2", "b@example.com", "{}"},
                                             {"delete", "u3", "a3", "c@example.com", "{}"},
                                             {"deactivate", "u4", "a4", "d@example.com", "{}"}};
  ASSERT_TRUE(store->SaveHolds(2, second).ok());
  absl::StatusOr<std::vector<HoldRow>> holds = store->LoadHolds();
  ASSERT_TRUE(holds.ok()) << holds.status();
  ASSERT_EQ(holds->size(), 3u);
  EXPECT_EQ((*holds)[0].run_id, 2);
  EXPECT_EQ((*holds)[0].directory_id, "u2");
  EXPECT_EQ((*holds)[1].op, "delete");
  EXPECT_EQ((*holds)[1].account_id, "a3");
  EXPECT_EQ((*holds)[1].email, "c@example.com");

  // Releasing by id returns the released rows; an unknown id releases nothing.
  const std::vector<int64_t> bad = {(*holds)[0].hold_id, 12345};
  absl::StatusOr<std::vector<HoldRow>> released = store->ReleaseHolds(bad);
  EXPECT_EQ(released.status().code(), absl::StatusCode::kNotFound) << released.status();
  EXPECT_THAT(std::string(released.status().message()), HasSubstr("12345"));
  ASSERT_EQ(store->LoadHolds()->size(), 3u);

  const std::vector<int64_t> one = {(*holds)[1].hold_id};
  released = store->ReleaseHolds(one);
  ASSERT_TRUE(released.ok()) << released.status();
  ASSERT_EQ(released->size(), 1u);
  EXPECT_EQ((*released)[0].directory_id, "u3");
  // Released already: not found the second time.
  EXPECT_EQ(store->ReleaseHolds(one).status().code(), absl::StatusCode::kNotFound);

  released = store->ReleaseAllHolds();
  ASSERT_TRUE(released.ok()) << released.status();
  ASSERT_EQ(released->size(), 2u);
  EXPECT_EQ((*released)[0].directory_id, "u2");
  EXPECT_EQ((*released)[1].directory_id, "u4");
  holds = store->LoadHolds();
  ASSERT_TRUE(holds.ok());
  EXPECT_THAT(*holds, IsEmpty());
  released = store->ReleaseAllHolds();
  ASSERT_TRUE(released.ok());
  EXPECT_THAT(*released, IsEmpty());
}

// 100k intents in one transaction, then settled in one; no timing assertion.
TEST(StateStore, HundredThousandIntentsInOneBatch) {
  const std::string path = TempPath("bulk.db");
  std::unique_ptr<StateStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  constexpr int kCount = 100'000;
  std::vector<JournalIntent> intents;
  intents.reserve(kCount);
  for (int user_idx = 0; user_idx < kCount; ++user_idx) {
    const std::string id = std::to_string(user_idx);
    intents.push_back({"create", "u" + id, "", "user" + id + "@example.com",
                       R"({"op":"create","directory_id":"u)" + id + R"("})"});
  }
  absl::StatusOr<std::vector<int64_t>> ids = store->RecordIntents(7, intents);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), static_cast<size_t>(kCount));
  std::vector<JournalSettlement> settlements;
  settlements.reserve(kCount - 1);
  for (int user_idx = 1; user_idx < kCount; ++user_idx) {
    settlements.push_back({(*ids)[user_idx], true, "acc" + std::to_string(user_idx), 201, 1, ""});
  }
  ASSERT_TRUE(store->Settle(settlements).ok());
  absl::StatusOr<std::vector<JournalEntry>> unsettled = store->LoadUnsettled();
  ASSERT_TRUE(unsettled.ok()) << unsettled.status();
  ASSERT_EQ(unsettled->size(), 1u);
  EXPECT_EQ((*unsettled)[0].directory_id, "u0");
  absl::StatusOr<std::vector<JournalEntry>> journal = store->JournalForRun(7);
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->size(), static_cast<size_t>(kCount));
  EXPECT_EQ(journal->back().account_id, "acc" + std::to_string(kCount - 1));
}

}  // namespace
}  // namespace usersync::io
