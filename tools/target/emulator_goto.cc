#include "tools/target/emulator_goto.h"

#include <httplib.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "tools/target/emulator_goto_wire.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_scim.h"

namespace usersync::io::emulator {
namespace {

using namespace goto_internal;  // NOLINT(build/namespaces): the GoTo face's wire shapes

constexpr char kJsonContentType[] = "application/json";
constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 1000;
constexpr size_t kMaxBatchUsers = 1000;
constexpr std::string_view kDefaultTemplate = "default";
constexpr std::string_view kDefaultLanguage = "en_US";

void ReplyJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.body = std::move(body);
  res.set_header("Content-Type", kJsonContentType);
}

void ReplyError(httplib::Response& res, int status, std::string_view error_code,
                std::string_view message) {
  ReplyJson(res, status, GotoErrorBody(error_code, message));
}

void ReplyBadRequest(httplib::Response& res, const absl::Status& status) {
  ReplyError(res, 400, "INVALID_REQUEST", StdSv(status.message()));
}

void ReplyInternal(httplib::Response& res, const absl::Status& status) {
  ReplyError(res, 500, "INTERNAL", StdSv(status.message()));
}

// A query parameter as a non-negative integer (`fallback` when absent).
absl::StatusOr<int64_t> NonNegativeParam(const httplib::Request& req, const char* name,
                                         int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(req.get_param_value(name), &value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be a non-negative integer"));
  }
  return value;
}

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// A batch create's body (POST /users), decoded.
struct Batch {
  bool suppress_email = false;
  const JsonValue* users = nullptr;  // the "users" array, in the body decoded
  std::vector<NewMember> members;
};

absl::StatusOr<Batch> DecodeBatch(const JsonValue& body, const LicenseCatalog& licenses) {
  if (!body.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  Batch batch;
  if (const JsonValue* suppress = body.Find("suppressEmail");
      suppress != nullptr && !suppress->is_null()) {
    if (!suppress->is_bool()) return Invalid("suppressEmail", "must be a boolean");
    batch.suppress_email = suppress->boolean;
  }
  batch.users = body.Find("users");
  if (batch.users == nullptr || !batch.users->is_array()) {
    return Invalid("users", "an array of users is required");
  }
  const std::vector<JsonValue>& items = batch.users->items;
  if (items.empty()) return Invalid("users", "must not be empty");
  if (items.size() > kMaxBatchUsers) {
    return Invalid("users", absl::StrCat("at most ", kMaxBatchUsers, " users per request, got ",
                                         items.size()));
  }
  batch.members.reserve(items.size());
  for (size_t index = 0; index < items.size(); ++index) {
    absl::StatusOr<NewMember> member = DecodeMember(items[index], index);
    if (!member.ok()) return member.status();
    batch.members.push_back(*std::move(member));
  }
  // "licenseKeys" beside "users" grants every member of the batch the products of those
  // licenses (GOTO_API_RESEARCH.md §3b); an unknown key refuses the whole batch.
  if (const JsonValue* keys = body.Find("licenseKeys"); keys != nullptr && !keys->is_null()) {
    absl::StatusOr<std::vector<std::string>> key_list = LicenseKeyList(*keys, "licenseKeys");
    if (!key_list.ok()) return key_list.status();
    absl::StatusOr<std::vector<std::string>> products = licenses.ProductsOf(*key_list);
    if (!products.ok()) return products.status();
    for (NewMember& member : batch.members) member.user.products = *products;
  }
  return batch;
}

// The users created, by the user group their member named: name → new user ids.
std::map<std::string, std::vector<std::string>> NewUsersByGroup(
    const std::vector<NewMember>& members, const std::vector<absl::StatusOr<UserView>>& results) {
  std::map<std::string, std::vector<std::string>> by_group;
  for (size_t index = 0; index < results.size(); ++index) {
    if (results[index].ok() && !members[index].user_group.empty()) {
      by_group[members[index].user_group].push_back(results[index]->user->id);
    }
  }
  return by_group;
}

// A batch create's answer: the body (one result per member) and what it counts.
struct BatchAnswer {
  std::string body;
  bool all_created = true;
  int64_t created = 0;
  int64_t conflicts = 0;
  int64_t no_seats = 0;
  std::vector<OutboxEntry> emails;  // welcome emails to send
};

OutboxEntry WelcomeEmail(const EmulatorUser& user, const NewMember& member, int64_t now_ms) {
  OutboxEntry entry;
  entry.email = user.user_name;
  entry.user_key = user.id;
  entry.template_name =
      member.welcome_template.empty() ? std::string(kDefaultTemplate) : member.welcome_template;
  entry.language = user.language.empty() ? std::string(kDefaultLanguage) : user.language;
  entry.time_ms = now_ms;
  return entry;
}

// `member_status` false: only GoTo's documented {key, email} per entry; a member refused for
// NO_SEAT has no key and is left out of the answer.
BatchAnswer AnswerBatch(const Batch& batch, const std::vector<absl::StatusOr<UserView>>& results,
                        bool member_status, int64_t now_ms) {
  BatchAnswer answer;
  answer.body.reserve(64 + results.size() * 120);
  JsonWriter writer(&answer.body);
  // GoTo's documented answer is a bare array of {key, email}, existing users included
  // (GOTO_API_RESEARCH.md §3a); status, errorCode, product and message are this face's own.
  writer.BeginArray();
  for (size_t index = 0; index < results.size(); ++index) {
    const absl::StatusOr<UserView>& result = results[index];
    if (result.ok()) {
      const EmulatorUser& user = *result->user;
      writer.BeginObject();
      WriteGotoKey(user.id, &writer);
      writer.Field("email", user.user_name);
      if (member_status) writer.Field("status", "created");
      writer.EndObject();
      ++answer.created;
      if (!batch.suppress_email) {
        answer.emails.push_back(WelcomeEmail(user, batch.members[index], now_ms));
      }
      continue;
    }
    answer.all_created = false;
    // The decoded email: the member's user was moved into the store's call.
    const JsonValue* email = batch.users->items[index].Find("email");
    const std::string_view email_text = email != nullptr ? std::string_view(email->string) : "";
    std::string product = NoSeatProduct(result.status());
    if (!product.empty()) {
      ++answer.no_seats;
      if (!member_status) continue;  // no key to give: absent from the documented answer
      writer.BeginObject().Field("email", email_text);
      writer.Field("status", "error").Field("errorCode", "NO_SEAT").Field("product", product);
    } else {
      ++answer.conflicts;
      writer.BeginObject();
      WriteGotoKey(ConflictingUserId(result.status()), &writer);
      writer.Field("email", email_text);
      if (member_status) writer.Field("status", "conflict").Field("errorCode", "USER_EXISTS");
    }
    if (member_status) writer.Field("message", StdSv(result.status().message()));
    writer.EndObject();
  }
  writer.EndArray();
  return answer;
}

// Applies a PUT's fields to `user`; true when it suspends an active user.
bool ApplyChange(const UserChange& change, EmulatorUser& user) {
  bool was_active = user.active;
  if (change.email.has_value()) user.user_name = user.email = *change.email;
  if (change.first_name.has_value()) user.first_name = *change.first_name;
  if (change.last_name.has_value()) user.last_name = *change.last_name;
  if (change.first_name.has_value() || change.last_name.has_value()) {
    user.display_name = absl::StrCat(user.first_name, " ", user.last_name);
  }
  if (change.language.has_value()) user.language = *change.language;
  if (change.products.has_value()) user.products = *change.products;
  if (change.roles.has_value()) user.roles = *change.roles;
  if (change.active.has_value()) user.active = *change.active;
  if (change.external_id.has_value()) user.external_id = *change.external_id;
  if (change.device_groups.has_value()) user.rule_settings.device_groups = *change.device_groups;
  if (change.settings_template.has_value()) {
    user.rule_settings.settings_template = *change.settings_template;
  }
  return was_active && !user.active;
}

// A refused PUT's answer: the HTTP status and the GoTo error body.
std::pair<int, std::string> UpdateError(const absl::Status& status) {
  std::string product = NoSeatProduct(status);
  JsonWriter writer;
  writer.BeginObject();
  int http_status = 500;
  if (!product.empty()) {
    http_status = 409;
    writer.Field("errorCode", "NO_SEAT").Field("product", product);
  } else if (absl::IsAlreadyExists(status)) {
    http_status = 409;
    writer.Field("errorCode", "USER_EXISTS").Field("userKey", ConflictingUserId(status));
  } else if (absl::IsNotFound(status)) {
    http_status = 404;
    writer.Field("errorCode", "NOT_FOUND");
  } else if (absl::IsFailedPrecondition(status)) {
    http_status = 412;
    writer.Field("errorCode", "VERSION_MISMATCH");
  } else if (absl::IsInvalidArgument(status)) {
    http_status = 400;
    writer.Field("errorCode", "INVALID_REQUEST");
  } else {
    writer.Field("errorCode", "INTERNAL");
  }
  writer.Field("message", StdSv(status.message())).EndObject();
  return {http_status, writer.Release()};
}

}  // namespace

std::string GotoErrorBody(std::string_view error_code, std::string_view message) {
  JsonWriter writer;
  writer.BeginObject().Field("errorCode", error_code).Field("message", message).EndObject();
  return writer.Release();
}

GotoFace::GotoFace(EmulatorStore* store, std::string account_key, LicenseCatalog licenses,
                   bool member_status, RoleSetList role_sets)
    : store_(store),
      account_key_(std::move(account_key)),
      licenses_(std::move(licenses)),
      member_status_(member_status),
      role_sets_(std::move(role_sets)) {}

void GotoFace::Handle(std::string_view path, const httplib::Request& req, httplib::Response& res) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::vector<std::string> segments = absl::StrSplit(Sv(path), '/');
  const std::string& method = req.method;
  auto not_found = [&] {
    ReplyError(res, 404, "NOT_FOUND", absl::StrCat("no endpoint ", req.path));
  };
  auto not_allowed = [&] {
    ReplyError(res, 405, "METHOD_NOT_ALLOWED",
               absl::StrCat("method ", method, " is not allowed on ", req.path));
  };
  if (segments.size() == 1 && segments[0] == "me") {
    if (method != "GET") return not_allowed();
    return Me(res);
  }
  if (segments.size() < 2 || segments[0] != "accounts") return not_found();
  if (segments[1] != account_key_) {
    return ReplyError(res, 404, "NOT_FOUND", absl::StrCat("no account ", segments[1]));
  }
  if (segments.size() == 2) {
    if (method != "GET") return not_allowed();
    JsonWriter writer;
    writer.BeginObject().Field("accountKey", account_key_).Field("name", "usersync-target");
    writer.EndObject();
    return ReplyJson(res, 200, writer.Release());
  }
  if (std::optional<GotoRoleSets::Answer> answer = role_sets_.Handle(segments, req, *store_)) {
    return ReplyJson(res, answer->status, std::move(answer->body));
  }
  const std::string& resource = segments[2];
  if (resource == "users" && segments.size() == 3) {
    if (method == "GET") return ListUsers(req, res);
    if (method == "POST") return CreateUsers(req, res);
    return not_allowed();
  }
  if (resource == "users" && segments.size() == 4) {
    if (method == "GET") return GetUser(segments[3], res);
    if (method == "PUT") return UpdateUser(segments[3], req, res);
    return not_allowed();
  }
  if (resource == "licenses" && segments.size() == 3) {
    if (method == "GET") return Licenses(res);
    return not_allowed();
  }
  if (resource == "groups" && segments.size() == 3) {
    if (method == "GET") return ListGroups(res);
    if (method == "POST") return CreateGroup(req, res);
    return not_allowed();
  }
  not_found();
}

void GotoFace::Me(httplib::Response& res) const {
  // [DOC] GOTO_API_RESEARCH.md §1a: "accounts": [{"key", "name"}]; [3P] §1b: a root
  // "accountKey". The token's user here is the emulator's one administrator.
  JsonWriter writer;
  writer.BeginObject().Field("accountKey", account_key_).Key("accounts").BeginArray();
  writer.BeginObject().Field("key", account_key_).Field("name", "usersync-target").EndObject();
  writer.EndArray().EndObject();
  ReplyJson(res, 200, writer.Release());
}

namespace {

// Whether the raw query's filter holds a '+'. GoTo is said to refuse a space encoded as '+'
// ([3P] PowerShell GoTo wizard, GOTO_API_RESEARCH.md §2b: "encode spaces with + signs instead
// of %20. The GoTo API doesn't accept this."); a '+' that is meant is sent as %2B.
bool FilterHasPlus(const httplib::Request& req) {
  const std::string_view target = req.target;
  const size_t query = target.find('?');
  if (query == std::string_view::npos) return false;
  size_t at = target.find("filter=", query);
  while (at != std::string_view::npos && target[at - 1] != '?' && target[at - 1] != '&') {
    at = target.find("filter=", at + 1);
  }
  if (at == std::string_view::npos) return false;
  const std::string_view value = target.substr(at, target.find('&', at) - at);
  return value.find('+') != std::string_view::npos;
}

}  // namespace

void GotoFace::ListUsers(const httplib::Request& req, httplib::Response& res) {
  if (FilterHasPlus(req)) {
    return ReplyError(res, 400, "INVALID_FILTER",
                      "a space in filter is encoded as '+': GoTo accepts only %20");
  }
  absl::StatusOr<int64_t> page_size = NonNegativeParam(req, "pageSize", kDefaultPageSize);
  if (!page_size.ok()) return ReplyBadRequest(res, page_size.status());
  absl::StatusOr<int64_t> offset = NonNegativeParam(req, "offset", 0);
  if (!offset.ok()) return ReplyBadRequest(res, offset.status());
  int64_t count = std::min(*page_size, kMaxPageSize);
  StorePage<UserView> page;
  if (req.has_param("filter")) {
    user_filters_.fetch_add(1, std::memory_order_relaxed);
    absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
    if (!filter.ok()) {
      return ReplyError(res, 400, "INVALID_FILTER",
                        absl::StrCat("unsupported filter \"", req.get_param_value("filter"),
                                     "\": use email, key or externalId eq \"value\""));
    }
    std::optional<UserKey> key =
        FilterKey<UserKey>(filter->attribute, {{"email", UserKey::kUserName},
                                               {"key", UserKey::kId},
                                               {"userkey", UserKey::kId},
                                               {"externalid", UserKey::kExternalId}});
    if (!key.has_value()) {
      return ReplyError(res, 400, "INVALID_FILTER",
                        absl::StrCat("cannot filter users by ", filter->attribute,
                                     ": use email, key or externalId"));
    }
    page = store_->FindUsers(*key, filter->value, *offset, count);
  } else {
    page = store_->ListUsers(*offset, count);
  }
  std::string body;
  body.reserve(64 + page.items.size() * 400);
  JsonWriter writer(&body);
  writer.BeginObject().Key("results").BeginArray();
  for (const UserView& view : page.items) {
    WriteGotoUser(view, licenses_, &writer, role_sets_.Of(view.user->id));
  }
  writer.EndArray().Key("total").Int(page.total).EndObject();
  ReplyJson(res, 200, std::move(body));
}

void GotoFace::GetUser(std::string_view user_key, httplib::Response& res) {
  user_reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<UserView> view = store_->GetUser(user_key);
  if (!view.ok()) {
    return ReplyError(res, 404, "NOT_FOUND", absl::StrCat("no user ", Sv(user_key)));
  }
  JsonWriter writer;
  WriteGotoUser(*view, licenses_, &writer, role_sets_.Of(view->user->id));
  ReplyJson(res, 200, writer.Release());
}

void GotoFace::CreateUsers(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> body = ParseJson(req.body);
  if (!body.ok()) return ReplyBadRequest(res, body.status());
  absl::StatusOr<Batch> batch = DecodeBatch(*body, licenses_);
  if (!batch.ok()) return ReplyBadRequest(res, batch.status());
  batch_creates_.fetch_add(1, std::memory_order_relaxed);
  batch_members_.fetch_add(static_cast<int64_t>(batch->members.size()), std::memory_order_relaxed);

  std::vector<EmulatorUser> new_users;
  new_users.reserve(batch->members.size());
  for (NewMember& member : batch->members) new_users.push_back(std::move(member.user));
  std::vector<absl::StatusOr<UserView>> results = store_->CreateUsersEach(std::move(new_users));
  for (const absl::StatusOr<UserView>& result : results) {
    const absl::Status& status = result.status();
    if (!status.ok() && !absl::IsAlreadyExists(status) && NoSeatProduct(status).empty()) {
      return ReplyInternal(res, status);  // the database failed: nothing was created
    }
  }

  // Groups, then the welcome emails, then the answer.
  for (auto& [name, user_ids] : NewUsersByGroup(batch->members, results)) {
    absl::StatusOr<GroupPtr> group = EnsureGroup(name);
    if (!group.ok()) return ReplyInternal(res, group.status());
    GroupChange change;
    for (std::string& user_id : user_ids) {
      change.member_ops.push_back({GroupChange::MemberOp::Kind::kAdd, std::move(user_id)});
    }
    absl::StatusOr<GroupView> updated = store_->UpdateGroup((*group)->id, 0, change);
    if (!updated.ok()) return ReplyInternal(res, updated.status());
  }

  BatchAnswer answer = AnswerBatch(*batch, results, member_status_, NowMs());
  creates_.fetch_add(answer.created, std::memory_order_relaxed);
  create_conflicts_.fetch_add(answer.conflicts, std::memory_order_relaxed);
  seat_denials_.fetch_add(answer.no_seats, std::memory_order_relaxed);
  if (!answer.emails.empty()) {
    absl::MutexLock lock(&outbox_mu_);
    for (OutboxEntry& entry : answer.emails) outbox_.push_back(std::move(entry));
  }
  ReplyJson(res, answer.all_created ? 201 : 409, std::move(answer.body));
}

void GotoFace::UpdateUser(std::string_view user_key, const httplib::Request& req,
                          httplib::Response& res) {
  absl::StatusOr<JsonValue> body = ParseJson(req.body);
  if (!body.ok()) return ReplyBadRequest(res, body.status());
  absl::StatusOr<UserChange> change = DecodeChange(*body);
  if (!change.ok()) return ReplyBadRequest(res, change.status());
  if (change->license_keys.has_value()) {
    absl::StatusOr<std::vector<std::string>> products = licenses_.ProductsOf(*change->license_keys);
    if (!products.ok()) return ReplyBadRequest(res, products.status());
    change->products = *std::move(products);
  }
  int64_t expected_version = 0;
  if (req.has_header("If-Match")) {
    expected_version = ParseIfMatch(req.get_header_value("If-Match"));
  }
  // The group first (created on demand), so that a PUT refused for it changes nothing; a
  // group created for a PUT that then fails stays, empty, as GoTo's would.
  GroupPtr group;
  if (change->user_group.has_value() && !change->user_group->empty()) {
    if (!store_->GetUser(user_key).ok()) {
      return ReplyError(res, 404, "NOT_FOUND", absl::StrCat("no user ", Sv(user_key)));
    }
    absl::StatusOr<GroupPtr> ensured = EnsureGroup(*change->user_group);
    if (!ensured.ok()) return ReplyInternal(res, ensured.status());
    group = *std::move(ensured);
  }
  bool suspended = false;
  absl::StatusOr<UserView> updated =
      store_->UpdateUser(user_key, expected_version, [&](EmulatorUser& user) {
        suspended = ApplyChange(*change, user);
        return absl::OkStatus();
      });
  if (!updated.ok()) {
    if (!NoSeatProduct(updated.status()).empty()) {
      seat_denials_.fetch_add(1, std::memory_order_relaxed);
    }
    auto [http_status, error_body] = UpdateError(updated.status());
    return ReplyJson(res, http_status, std::move(error_body));
  }
  if (suspended) suspensions_.fetch_add(1, std::memory_order_relaxed);
  updates_.fetch_add(1, std::memory_order_relaxed);
  UserView view = *std::move(updated);
  if (change->user_group.has_value()) {
    absl::Status status = SetUserGroup(view.user->id, group);
    if (!status.ok()) return ReplyInternal(res, status);
    absl::StatusOr<UserView> reread = store_->GetUser(view.user->id);
    if (!reread.ok()) {
      return ReplyError(res, 404, "NOT_FOUND", absl::StrCat("no user ", Sv(user_key)));
    }
    view = *std::move(reread);
  }
  JsonWriter writer;
  WriteGotoUser(view, licenses_, &writer, role_sets_.Of(view.user->id));
  ReplyJson(res, 200, writer.Release());
}

void GotoFace::Licenses(httplib::Response& res) {
  std::vector<std::string> products;
  for (const License& license : licenses_.licenses()) {
    products.insert(products.end(), license.products.begin(), license.products.end());
  }
  const std::vector<SeatUsage> usages = store_->SeatUsages(products);
  JsonWriter writer;
  writer.BeginObject().Key("results").BeginArray();
  for (const License& license : licenses_.licenses()) {
    // userCount: the active users holding a product that resolves to this license (the
    // store counts seats per product; for a license of several products, the largest count).
    int64_t user_count = 0;
    for (const SeatUsage& usage : usages) {
      if (licenses_.Resolve(usage.product) == &license) {
        user_count = std::max(user_count, usage.used);
      }
    }
    writer.BeginObject();
    writer.Key("key").Raw(license.key);
    writer.Field("description", absl::StrJoin(license.products, " + "));
    writer.Field("type", "STANDARD");
    writer.Key("enabled").Bool(true);
    if (license.seats >= 0) writer.Key("seats").Int(license.seats);  // unlimited: no "seats"
    writer.Key("userCount").Int(user_count);
    writer.Key("products").BeginArray();
    for (const std::string& product : license.products) writer.String(product);
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndArray().Key("total").Int(static_cast<int64_t>(licenses_.licenses().size()));
  writer.EndObject();
  ReplyJson(res, 200, writer.Release());
}

void GotoFace::ListGroups(httplib::Response& res) {
  StorePage<GroupView> page =
      store_->ListGroups(0, std::numeric_limits<int64_t>::max(), /*with_members=*/false);
  JsonWriter writer;
  writer.BeginObject().Key("results").BeginArray();
  for (const GroupView& view : page.items) WriteGroupSummary(view, &writer);
  writer.EndArray().Key("total").Int(page.total).EndObject();
  ReplyJson(res, 200, writer.Release());
}

void GotoFace::CreateGroup(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> body = ParseJson(req.body);
  if (!body.ok()) return ReplyBadRequest(res, body.status());
  const JsonValue* name = body->Find("name");
  if (!body->is_object() || name == nullptr || !name->is_string() || name->string.empty()) {
    return ReplyBadRequest(res, Invalid("name", "a non-empty string is required"));
  }
  EmulatorGroup group;
  group.display_name = name->string;
  absl::StatusOr<GroupView> created = store_->CreateGroup(std::move(group), {});
  if (absl::IsAlreadyExists(created.status())) {
    StorePage<GroupView> existing =
        store_->FindGroups(GroupKey::kDisplayName, name->string, 0, 1, false);
    JsonWriter writer;
    writer.BeginObject().Field("errorCode", "GROUP_EXISTS");
    writer.Field("groupKey", existing.items.empty() ? "" : existing.items[0].group->id);
    writer.Field("message", StdSv(created.status().message())).EndObject();
    return ReplyJson(res, 409, writer.Release());
  }
  if (!created.ok()) return ReplyInternal(res, created.status());
  group_creates_.fetch_add(1, std::memory_order_relaxed);
  JsonWriter writer;
  WriteGroupSummary(*created, &writer);
  ReplyJson(res, 201, writer.Release());
}

absl::StatusOr<GroupPtr> GotoFace::EnsureGroup(const std::string& name) {
  // Two tries: another request may create the same group between the look-up and the create.
  for (int attempt = 0; attempt < 2; ++attempt) {
    StorePage<GroupView> found = store_->FindGroups(GroupKey::kDisplayName, name, 0, 1, false);
    if (!found.items.empty()) return found.items[0].group;
    EmulatorGroup group;
    group.display_name = name;
    absl::StatusOr<GroupView> created = store_->CreateGroup(std::move(group), {});
    if (created.ok()) {
      group_creates_.fetch_add(1, std::memory_order_relaxed);
      return created->group;
    }
    if (!absl::IsAlreadyExists(created.status())) return created.status();
  }
  return absl::InternalError(absl::StrCat("cannot create user group ", name));
}

absl::Status GotoFace::SetUserGroup(const std::string& user_id, const GroupPtr& group) {
  absl::StatusOr<UserView> view = store_->GetUser(user_id);
  if (!view.ok()) return view.status();
  bool member = false;
  for (const GroupPtr& current : view->groups) {
    if (group != nullptr && current->id == group->id) {
      member = true;
      continue;
    }
    GroupChange change;
    change.member_ops.push_back({GroupChange::MemberOp::Kind::kRemove, user_id});
    absl::StatusOr<GroupView> updated = store_->UpdateGroup(current->id, 0, change);
    // A group deleted meanwhile no longer holds the user either.
    if (!updated.ok() && !absl::IsNotFound(updated.status())) return updated.status();
  }
  if (group == nullptr || member) return absl::OkStatus();
  GroupChange change;
  change.member_ops.push_back({GroupChange::MemberOp::Kind::kAdd, user_id});
  return store_->UpdateGroup(group->id, 0, change).status();
}

GotoStats GotoFace::stats() const {
  GotoStats stats;
  stats.creates = creates_.load();
  stats.create_conflicts = create_conflicts_.load();
  stats.updates = updates_.load();
  stats.batch_creates = batch_creates_.load();
  stats.batch_members = batch_members_.load();
  stats.suspensions = suspensions_.load();
  stats.seat_denials = seat_denials_.load();
  stats.group_creates = group_creates_.load();
  stats.user_reads = user_reads_.load();
  stats.user_filters = user_filters_.load();
  absl::MutexLock lock(&outbox_mu_);
  stats.welcome_emails = static_cast<int64_t>(outbox_.size());
  return stats;
}

std::vector<OutboxEntry> GotoFace::outbox() const {
  absl::MutexLock lock(&outbox_mu_);
  return outbox_;
}

std::string GotoFace::OutboxJson() const {
  std::vector<OutboxEntry> entries = outbox();
  std::string body;
  body.reserve(32 + entries.size() * 160);
  JsonWriter writer(&body);
  writer.BeginObject().Key("results").BeginArray();
  for (const OutboxEntry& entry : entries) {
    writer.BeginObject();
    writer.Field("email", entry.email);
    writer.Field("userKey", entry.user_key);
    writer.Field("template", entry.template_name);
    writer.Field("language", entry.language);
    writer.Field("time", FormatTimestamp(entry.time_ms));
    writer.EndObject();
  }
  writer.EndArray().EndObject();
  return body;
}

}  // namespace usersync::io::emulator
