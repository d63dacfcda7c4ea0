#include "tools/target/emulator_store_db.h"

#include <sqlite3.h>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"

namespace usersync::io::emulator {
namespace {

constexpr char kSchema[] =
    // One process owns the database: exclusive locking saves the per-transaction file
    // locks and shared-memory index of WAL, and keeps a second server off the file.
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA journal_mode=WAL;"
    // An emulator's store must survive its process, not a power cut: no fsync.
    "PRAGMA synchronous=OFF;"
    "CREATE TABLE IF NOT EXISTS users(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " user_name TEXT NOT NULL, external_id TEXT NOT NULL, email TEXT NOT NULL,"
    " first_name TEXT NOT NULL, last_name TEXT NOT NULL, display_name TEXT NOT NULL,"
    " language TEXT NOT NULL, products TEXT NOT NULL, roles TEXT NOT NULL,"
    " active INTEGER NOT NULL, version INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    " last_modified_ms INTEGER NOT NULL, attributes TEXT NOT NULL DEFAULT '[]',"
    " rule_settings TEXT NOT NULL DEFAULT '{}');"
    "CREATE TABLE IF NOT EXISTS groups(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " display_name TEXT NOT NULL, external_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, last_modified_ms INTEGER NOT NULL);"
    // rowid order = the order memberships were made (the order they load in).
    "CREATE TABLE IF NOT EXISTS members(group_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    " UNIQUE(group_id, user_id));"
    "CREATE INDEX IF NOT EXISTS members_by_user ON members(user_id);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

std::string EncodeList(const std::vector<std::string>& values) {
  JsonWriter writer;
  writer.BeginArray();
  for (const std::string& value : values) writer.String(value);
  writer.EndArray();
  return writer.Release();
}

absl::StatusOr<std::vector<std::string>> DecodeList(std::string_view text) {
  std::vector<std::string> values;
  if (text == "[]" || text.empty()) return values;
  absl::StatusOr<JsonValue> json = ParseJson(text);
  if (!json.ok() || !json->is_array())
    return absl::DataLossError("a list column is not a JSON array");
  for (JsonValue& item : json->items) {
    if (!item.is_string()) return absl::DataLossError("a list column holds a non-string");
    values.push_back(std::move(item.string));
  }
  return values;
}

std::string Text(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// RuleSettings as one JSON object column: {"privileges": [...], "managedGroups": [...],
// "deviceGroups": [...], "settingsTemplate": "...", "welcomeTemplate": "..."}.
std::string EncodeRuleSettings(const RuleSettings& settings) {
  JsonWriter writer;
  writer.BeginObject();
  for (const auto& [name, list] : settings.Lists()) {
    writer.Key(name).BeginArray();
    for (const std::string& value : *list) writer.String(value);
    writer.EndArray();
  }
  writer.Field("settingsTemplate", settings.settings_template);
  writer.Field("welcomeTemplate", settings.welcome_template);
  writer.EndObject();
  return writer.Release();
}

absl::StatusOr<RuleSettings> DecodeRuleSettings(std::string_view text) {
  RuleSettings settings;
  if (text.empty() || text == "{}") return settings;
  absl::StatusOr<JsonValue> json = ParseJson(text);
  if (!json.ok() || !json->is_object()) {
    return absl::DataLossError("the rule_settings column is not a JSON object");
  }
  for (const auto& [key, value] : json->members) {
    if (std::vector<std::string>* list = settings.MutableList(key)) {
      for (const JsonValue& item : value.items) {
        if (item.is_string()) list->push_back(item.string);
      }
    } else if (key == "settingsTemplate" && value.is_string()) {
      settings.settings_template = value.string;
    } else if (key == "welcomeTemplate" && value.is_string()) {
      settings.welcome_template = value.string;
    }
  }
  return settings;
}

absl::StatusOr<EmulatorUser> UserOfRow(sqlite3_stmt* stmt) {
  EmulatorUser user;
  user.seq = sqlite3_column_int64(stmt, 0);
  user.id = Text(stmt, 1);
  user.user_name = Text(stmt, 2);
  user.external_id = Text(stmt, 3);
  user.email = Text(stmt, 4);
  user.first_name = Text(stmt, 5);
  user.last_name = Text(stmt, 6);
  user.display_name = Text(stmt, 7);
  user.language = Text(stmt, 8);
  USERSYNC_ASSIGN_OR_RETURN(user.products, DecodeList(Text(stmt, 9)));
  USERSYNC_ASSIGN_OR_RETURN(user.roles, DecodeList(Text(stmt, 10)));
  user.active = sqlite3_column_int(stmt, 11) != 0;
  user.version = sqlite3_column_int64(stmt, 12);
  user.created_ms = sqlite3_column_int64(stmt, 13);
  user.last_modified_ms = sqlite3_column_int64(stmt, 14);
  // Stored flat, [path, value, path, value, ...].
  USERSYNC_ASSIGN_OR_RETURN(std::vector<std::string> flat, DecodeList(Text(stmt, 15)));
  if (flat.size() % 2 != 0) return absl::DataLossError("the attributes column is not pairs");
  for (size_t idx = 0; idx + 1 < flat.size(); idx += 2) {
    user.attributes.emplace_back(std::move(flat[idx]), std::move(flat[idx + 1]));
  }
  USERSYNC_ASSIGN_OR_RETURN(user.rule_settings, DecodeRuleSettings(Text(stmt, 16)));
  return user;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmulatorStore::Db>> EmulatorStore::Db::Open(
    const std::string& path) {
  auto db = std::unique_ptr<Db>(new Db());
  int rc =
      sqlite3_open_v2(path.c_str(), &db->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("emulator db ", path,
                     ": cannot open: ", db->db_ ? sqlite3_errmsg(db->db_) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db->db_, 5000);
  absl::Status status = db->Exec(kSchema);
  // A database written before mapped attributes or rule settings were kept lacks their
  // columns: add them.
  if (status.ok()) status = db->AddColumn("attributes", "TEXT NOT NULL DEFAULT '[]'");
  if (status.ok()) status = db->AddColumn("rule_settings", "TEXT NOT NULL DEFAULT '{}'");
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " (", path, ")"));
  }
  return db;
}

EmulatorStore::Db::~Db() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  if (db_ != nullptr) sqlite3_close(db_);
}

// A database written before mapped attributes has no `attributes` column: add it (empty).
absl::Status EmulatorStore::Db::AddColumn(std::string_view name, std::string_view declaration) {
  bool present = false;
  USERSYNC_RETURN_IF_ERROR(
      Query("SELECT name FROM pragma_table_info('users')", [&](sqlite3_stmt* stmt) {
        present = present || Text(stmt, 0) == name;
        return absl::OkStatus();
      }));
  if (present) return absl::OkStatus();
  const std::string sql =
      absl::StrCat("ALTER TABLE users ADD COLUMN ", Sv(name), " ", Sv(declaration));
  return Exec(sql.c_str());
}

absl::Status EmulatorStore::Db::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return absl::InternalError(absl::StrCat("emulator db: ", text));
  }
  return absl::OkStatus();
}

absl::Status EmulatorStore::Db::InTransaction(absl::FunctionRef<absl::Status(Db&)> body) {
  absl::Status status = Exec("BEGIN IMMEDIATE");
  if (status.ok()) status = body(*this);
  if (status.ok()) status = Exec("COMMIT");
  // The transaction may already be gone (SQLite rolls back on some errors by itself).
  if (!status.ok() && !sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::Status EmulatorStore::Db::PutUser(const EmulatorUser& user) {
  sqlite3_stmt* stmt = Prepare(
      "INSERT OR REPLACE INTO users(seq, id, user_name, external_id, email, first_name,"
      " last_name, display_name, language, products, roles, active, version, created_ms,"
      " last_modified_ms, attributes, rule_settings)"
      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (stmt == nullptr) return Error("prepare");
  sqlite3_bind_int64(stmt, 1, user.seq);
  int column = 2;
  for (const std::string* text :
       {&user.id, &user.user_name, &user.external_id, &user.email, &user.first_name,
        &user.last_name, &user.display_name, &user.language}) {
    BindText(stmt, column++, *text);
  }
  BindText(stmt, 10, EncodeList(user.products));
  BindText(stmt, 11, EncodeList(user.roles));
  sqlite3_bind_int(stmt, 12, user.active ? 1 : 0);
  sqlite3_bind_int64(stmt, 13, user.version);
  sqlite3_bind_int64(stmt, 14, user.created_ms);
  sqlite3_bind_int64(stmt, 15, user.last_modified_ms);
  std::vector<std::string> flat;
  for (const auto& [path, value] : user.attributes) {
    flat.push_back(path);
    flat.push_back(value);
  }
  BindText(stmt, 16, EncodeList(flat));
  BindText(stmt, 17, EncodeRuleSettings(user.rule_settings));
  return Step(stmt, "write user");
}

absl::Status EmulatorStore::Db::DeleteUser(std::string_view id) {
  USERSYNC_RETURN_IF_ERROR(
      Run("DELETE FROM members WHERE user_id = ?", "delete memberships", {id}));
  return Run("DELETE FROM users WHERE id = ?", "delete user", {id});
}

absl::Status EmulatorStore::Db::PutGroup(const EmulatorGroup& group) {
  sqlite3_stmt* stmt = Prepare(
      "INSERT OR REPLACE INTO groups(seq, id, display_name, external_id, version, created_ms,"
      " last_modified_ms) VALUES(?,?,?,?,?,?,?)");
  if (stmt == nullptr) return Error("prepare");
  sqlite3_bind_int64(stmt, 1, group.seq);
  BindText(stmt, 2, group.id);
  BindText(stmt, 3, group.display_name);
  BindText(stmt, 4, group.external_id);
  sqlite3_bind_int64(stmt, 5, group.version);
  sqlite3_bind_int64(stmt, 6, group.created_ms);
  sqlite3_bind_int64(stmt, 7, group.last_modified_ms);
  return Step(stmt, "write group");
}

absl::Status EmulatorStore::Db::DeleteGroup(std::string_view id) {
  USERSYNC_RETURN_IF_ERROR(RemoveAllMembers(id));
  return Run("DELETE FROM groups WHERE id = ?", "delete group", {id});
}

absl::Status EmulatorStore::Db::AddMember(std::string_view group_id, std::string_view user_id) {
  return Run("INSERT OR REPLACE INTO members(group_id, user_id) VALUES(?,?)", "add member",
             {group_id, user_id});
}

absl::Status EmulatorStore::Db::RemoveMember(std::string_view group_id, std::string_view user_id) {
  return Run("DELETE FROM members WHERE group_id = ? AND user_id = ?", "remove member",
             {group_id, user_id});
}

absl::Status EmulatorStore::Db::RemoveAllMembers(std::string_view group_id) {
  return Run("DELETE FROM members WHERE group_id = ?", "remove members", {group_id});
}

absl::Status EmulatorStore::Db::PutNextSeq(int64_t next_seq) {
  sqlite3_stmt* stmt = Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('next_seq', ?)");
  if (stmt == nullptr) return Error("prepare");
  sqlite3_bind_int64(stmt, 1, next_seq);
  return Step(stmt, "write counter");
}

absl::Status EmulatorStore::Db::ForEachUser(absl::FunctionRef<absl::Status(EmulatorUser)> row) {
  return Query(
      "SELECT seq, id, user_name, external_id, email, first_name, last_name, display_name,"
      " language, products, roles, active, version, created_ms, last_modified_ms, attributes,"
      " rule_settings FROM users ORDER BY seq",
      [&](sqlite3_stmt* stmt) -> absl::Status {
        USERSYNC_ASSIGN_OR_RETURN(EmulatorUser user, UserOfRow(stmt));
        return row(std::move(user));
      });
}

absl::Status EmulatorStore::Db::ForEachGroup(absl::FunctionRef<absl::Status(EmulatorGroup)> row) {
  return Query(
      "SELECT seq, id, display_name, external_id, version, created_ms, last_modified_ms"
      " FROM groups ORDER BY seq",
      [&](sqlite3_stmt* stmt) -> absl::Status {
        EmulatorGroup group;
        group.seq = sqlite3_column_int64(stmt, 0);
        group.id = Text(stmt, 1);
        group.display_name = Text(stmt, 2);
        group.external_id = Text(stmt, 3);
        group.version = sqlite3_column_int64(stmt, 4);
        group.created_ms = sqlite3_column_int64(stmt, 5);
        group.last_modified_ms = sqlite3_column_int64(stmt, 6);
        return row(std::move(group));
      });
}

absl::Status EmulatorStore::Db::ForEachMember(
    absl::FunctionRef<absl::Status(const std::string& group_id, const std::string& user_id)> row) {
  return Query("SELECT group_id, user_id FROM members ORDER BY rowid",
               [&](sqlite3_stmt* stmt) { return row(Text(stmt, 0), Text(stmt, 1)); });
}

absl::StatusOr<int64_t> EmulatorStore::Db::NextSeq() {
  int64_t next_seq = 0;
  USERSYNC_RETURN_IF_ERROR(
      Query("SELECT value FROM meta WHERE key = 'next_seq'", [&](sqlite3_stmt* stmt) {
        next_seq = sqlite3_column_int64(stmt, 0);
        return absl::OkStatus();
      }));
  return next_seq;
}

absl::Status EmulatorStore::Db::Error(std::string_view operation) {
  return absl::InternalError(
      absl::StrCat("emulator db: ", Sv(operation), ": ", sqlite3_errmsg(db_)));
}

sqlite3_stmt* EmulatorStore::Db::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return nullptr;
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status EmulatorStore::Db::Step(sqlite3_stmt* stmt, std::string_view operation) {
  int rc = sqlite3_step(stmt);
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : Error(operation);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return status;
}

absl::Status EmulatorStore::Db::Run(const char* sql, std::string_view operation,
                                    std::initializer_list<std::string_view> ids) {
  sqlite3_stmt* stmt = Prepare(sql);
  if (stmt == nullptr) return Error("prepare");
  int index = 1;
  for (std::string_view id : ids) BindText(stmt, index++, id);
  return Step(stmt, operation);
}

absl::Status EmulatorStore::Db::Query(const char* sql,
                                      absl::FunctionRef<absl::Status(sqlite3_stmt*)> row) {
  sqlite3_stmt* stmt = Prepare(sql);
  if (stmt == nullptr) return Error("prepare");
  absl::Status status;
  while (status.ok()) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    status = rc == SQLITE_ROW ? row(stmt) : Error("read");
  }
  sqlite3_reset(stmt);
  return status;
}

}  // namespace usersync::io::emulator
