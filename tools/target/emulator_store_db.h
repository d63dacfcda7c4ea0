// EmulatorStore::Db: the store's SQLite write-through (private to the store; only
// emulator_store*.cc include this). Tables users, groups, members (rowid order = the order the
// memberships were made) and meta (the id counter). Statements are prepared once and cached.
//
// Thread-safety: none; the store calls it under its own lock. Owns the sqlite3 handle.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/target/emulator_store.h"

struct sqlite3_stmt;

namespace usersync::io::emulator {

class EmulatorStore::Db {
 public:
  // Opens or creates the database at `path` and its tables. Errors: Internal.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();

  // Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back when `body` or the commit fails,
  // and returns that error.
  absl::Status InTransaction(absl::FunctionRef<absl::Status(Db&)> body);

  // Each is one statement (its own transaction unless inside InTransaction).
  absl::Status PutUser(const EmulatorUser& user);
  absl::Status DeleteUser(std::string_view id);  // and its memberships
  absl::Status PutGroup(const EmulatorGroup& group);
  absl::Status DeleteGroup(std::string_view id);  // and its memberships
  absl::Status AddMember(std::string_view group_id, std::string_view user_id);
  absl::Status RemoveMember(std::string_view group_id, std::string_view user_id);
  absl::Status RemoveAllMembers(std::string_view group_id);
  absl::Status PutNextSeq(int64_t next_seq);

  // Reading back, for the store's Load: every row in order (users and groups by seq,
  // memberships by rowid); stops at the first error, `row`'s included. DataLoss for a row
  // that cannot be decoded.
  absl::Status ForEachUser(absl::FunctionRef<absl::Status(EmulatorUser)> row);
  absl::Status ForEachGroup(absl::FunctionRef<absl::Status(EmulatorGroup)> row);
  absl::Status ForEachMember(
      absl::FunctionRef<absl::Status(const std::string& group_id, const std::string& user_id)> row);
  // The counter recorded by PutNextSeq, or 0 when none is.
  absl::StatusOr<int64_t> NextSeq();

 private:
  Db() = default;

  absl::Status Exec(const char* sql);
  // Adds column `name` to the users table of a database written before it existed.
  absl::Status AddColumn(std::string_view name, std::string_view declaration);
  absl::Status Error(std::string_view operation);
  sqlite3_stmt* Prepare(const char* sql);
  absl::Status Step(sqlite3_stmt* stmt, std::string_view operation);
  // Binds `ids` to the statement's first parameters and runs it once.
  absl::Status Run(const char* sql, std::string_view operation,
                   std::initializer_list<std::string_view> ids);
  absl::Status Query(const char* sql, absl::FunctionRef<absl::Status(sqlite3_stmt*)> row);

  sqlite3* db_ = nullptr;
  // Keyed by the SQL text's address: every statement is a string literal.
  absl::flat_hash_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace usersync::io::emulator
