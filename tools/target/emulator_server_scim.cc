// EmulatorServer::Impl's SCIM resources (RFC 7644): /Users, /Groups, /ServiceProviderConfig
// and /Bulk. Admission (token, rate, faults) and routing are in emulator_server.cc.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_scim.h"
#include "tools/target/emulator_server_impl.h"

namespace usersync::io::emulator {
namespace {

constexpr int64_t kDefaultCount = 100;
constexpr int64_t kMaxCount = 1000;
constexpr int64_t kMaxBulkOperations = 1000;
constexpr int64_t kMaxBulkPayloadBytes = 1 << 20;
constexpr std::string_view kBulkIdPrefix = "bulkId:";
constexpr std::string_view kBulkResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

// startIndex (1-based, < 1 → 1) and count (default 100, < 0 → 0, > 1000 → 1000).
absl::Status ParsePaging(const httplib::Request& req, int64_t* start_index, int64_t* count) {
  *start_index = 1;
  *count = kDefaultCount;
  if (req.has_param("startIndex")) {
    if (!absl::SimpleAtoi(req.get_param_value("startIndex"), start_index)) {
      return ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                       "startIndex must be an integer");
    }
    *start_index = std::max<int64_t>(1, *start_index);
  }
  if (req.has_param("count")) {
    if (!absl::SimpleAtoi(req.get_param_value("count"), count)) {
      return ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                       "count must be an integer");
    }
    *count = std::clamp<int64_t>(*count, 0, kMaxCount);
  }
  return absl::OkStatus();
}

void BeginList(int64_t total, int64_t start_index, size_t items, JsonWriter* writer) {
  writer->BeginObject();
  writer->Key("schemas").BeginArray().String(kScimListSchema).EndArray();
  writer->Key("totalResults").Int(total);
  writer->Key("startIndex").Int(start_index);
  writer->Key("itemsPerPage").Int(static_cast<int64_t>(items));
  writer->Key("Resources").BeginArray();
}

absl::StatusOr<JsonValue> ParseBody(const httplib::Request& req) {
  absl::StatusOr<JsonValue> json = ParseJson(req.body);
  if (!json.ok()) {
    return ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                     StdSv(json.status().message()));
  }
  return json;
}

bool ListHas(const std::string& list, std::string_view name) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), Sv(name))) return true;
  }
  return false;
}

// Groups are listed with their members unless the request excludes them.
bool WantMembers(const httplib::Request& req) {
  if (req.has_param("excludedAttributes") &&
      ListHas(req.get_param_value("excludedAttributes"), "members")) {
    return false;
  }
  if (req.has_param("attributes")) return ListHas(req.get_param_value("attributes"), "members");
  return true;
}

int64_t ExpectedVersion(const httplib::Request& req) {
  if (!req.has_header("If-Match")) return 0;
  return ParseIfMatch(req.get_header_value("If-Match"));
}

}  // namespace

void EmulatorServer::Impl::ReplyUser(httplib::Response& res, int status, const UserView& view) {
  std::string body;
  body.reserve(1024);
  JsonWriter writer(&body);
  WriteUser(view, scim_base_url_, options_.user_groups, &writer);
  res.set_header("ETag", VersionTag(view.user->version));
  Reply(res, status, std::move(body));
}

void EmulatorServer::Impl::ReplyGroup(httplib::Response& res, int status, const GroupView& view,
                                      bool with_members) {
  std::string body;
  JsonWriter writer(&body);
  WriteGroup(view, scim_base_url_, with_members, &writer);
  res.set_header("ETag", VersionTag(view.group->version));
  Reply(res, status, std::move(body));
}

void EmulatorServer::Impl::ListUsers(const httplib::Request& req, httplib::Response& res) {
  int64_t start_index;
  int64_t count;
  if (absl::Status status = ParsePaging(req, &start_index, &count); !status.ok()) {
    return ReplyError(res, status);
  }
  StorePage<UserView> page;
  if (req.has_param("filter")) {
    absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
    if (!filter.ok()) return ReplyError(res, filter.status());
    std::optional<UserKey> key =
        FilterKey<UserKey>(filter->attribute, {{"username", UserKey::kUserName},
                                               {"externalid", UserKey::kExternalId},
                                               {"id", UserKey::kId}});
    if (!key.has_value()) {
      return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidFilter",
                                       absl::StrCat("cannot filter Users by ", filter->attribute)));
    }
    page = store_->FindUsers(*key, filter->value, start_index - 1, count);
  } else {
    page = store_->ListUsers(start_index - 1, count);
  }
  // Rendered after the store's lock is released: the views own their records.
  std::string body;
  body.reserve(256 + page.items.size() * 640);
  JsonWriter writer(&body);
  BeginList(page.total, start_index, page.items.size(), &writer);
  for (const UserView& view : page.items) {
    WriteUser(view, scim_base_url_, options_.user_groups, &writer);
  }
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::CreateUser(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<EmulatorUser> user = DecodeUser(*json, /*keep_id=*/false);
  if (!user.ok()) return ReplyError(res, user.status());
  absl::StatusOr<UserView> created = store_->CreateUser(*std::move(user));
  if (!created.ok()) {
    if (created.status().code() == absl::StatusCode::kAlreadyExists) {
      create_conflicts_.fetch_add(1, std::memory_order_relaxed);
    }
    CountSeatDenial(created.status());
    return ReplyError(res, created.status());
  }
  creates_.fetch_add(1, std::memory_order_relaxed);
  res.set_header("Location", absl::StrCat(scim_base_url_, "/Users/", created->user->id));
  ReplyUser(res, 201, *created);
}

void EmulatorServer::Impl::UserById(std::string_view id, const httplib::Request& req,
                                    httplib::Response& res) {
  const std::string& method = req.method;
  if (method == "GET") {
    absl::StatusOr<UserView> view = store_->GetUser(id);
    if (!view.ok()) return ReplyError(res, view.status());
    return ReplyUser(res, 200, *view);
  }
  if (method == "DELETE") {
    absl::Status status = store_->DeleteUser(id, ExpectedVersion(req));
    if (!status.ok()) return ReplyError(res, status);
    deletes_.fetch_add(1, std::memory_order_relaxed);
    res.status = 204;
    return;
  }
  if (method != "PUT" && method != "PATCH") return ReplyMethodNotAllowed(res, req);
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<UserView> updated;
  if (method == "PUT") {
    absl::StatusOr<EmulatorUser> replacement = DecodeUser(*json, /*keep_id=*/false);
    if (!replacement.ok()) return ReplyError(res, replacement.status());
    updated = store_->UpdateUser(id, ExpectedVersion(req), [&](EmulatorUser& user) {
      user = *replacement;  // the store keeps id, version and timestamps
      return absl::OkStatus();
    });
  } else {
    absl::StatusOr<std::vector<PatchOp>> ops = DecodePatch(*json, kScimUserSchema);
    if (!ops.ok()) return ReplyError(res, ops.status());
    updated = store_->UpdateUser(id, ExpectedVersion(req),
                                 [&](EmulatorUser& user) { return ApplyUserPatch(*ops, user); });
  }
  if (!updated.ok()) {
    CountSeatDenial(updated.status());
    return ReplyError(res, updated.status());
  }
  updates_.fetch_add(1, std::memory_order_relaxed);
  ReplyUser(res, 200, *updated);
}

void EmulatorServer::Impl::ListGroups(const httplib::Request& req, httplib::Response& res) {
  int64_t start_index;
  int64_t count;
  if (absl::Status status = ParsePaging(req, &start_index, &count); !status.ok()) {
    return ReplyError(res, status);
  }
  bool with_members = WantMembers(req);
  StorePage<GroupView> page;
  if (req.has_param("filter")) {
    absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
    if (!filter.ok()) return ReplyError(res, filter.status());
    std::optional<GroupKey> key =
        FilterKey<GroupKey>(filter->attribute, {{"displayname", GroupKey::kDisplayName},
                                                {"externalid", GroupKey::kExternalId},
                                                {"id", GroupKey::kId}});
    if (!key.has_value()) {
      return ReplyError(res,
                        ScimError(absl::StatusCode::kInvalidArgument, "invalidFilter",
                                  absl::StrCat("cannot filter Groups by ", filter->attribute)));
    }
    page = store_->FindGroups(*key, filter->value, start_index - 1, count, with_members);
  } else {
    page = store_->ListGroups(start_index - 1, count, with_members);
  }
  std::string body;
  JsonWriter writer(&body);
  BeginList(page.total, start_index, page.items.size(), &writer);
  for (const GroupView& view : page.items) {
    WriteGroup(view, scim_base_url_, with_members, &writer);
  }
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::CreateGroup(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  absl::StatusOr<DecodedGroup> decoded = DecodeGroup(*json);
  if (!decoded.ok()) return ReplyError(res, decoded.status());
  absl::StatusOr<GroupView> created =
      store_->CreateGroup(std::move(decoded->group), decoded->member_ids);
  if (!created.ok()) return ReplyError(res, created.status());
  group_creates_.fetch_add(1, std::memory_order_relaxed);
  res.set_header("Location", absl::StrCat(scim_base_url_, "/Groups/", created->group->id));
  ReplyGroup(res, 201, *created, /*with_members=*/true);
}

void EmulatorServer::Impl::GroupById(std::string_view id, const httplib::Request& req,
                                     httplib::Response& res) {
  const std::string& method = req.method;
  if (method == "GET") {
    bool with_members = WantMembers(req);
    absl::StatusOr<GroupView> view = store_->GetGroup(id, with_members);
    if (!view.ok()) return ReplyError(res, view.status());
    return ReplyGroup(res, 200, *view, with_members);
  }
  if (method == "DELETE") {
    absl::Status status = store_->DeleteGroup(id, ExpectedVersion(req));
    if (!status.ok()) return ReplyError(res, status);
    group_deletes_.fetch_add(1, std::memory_order_relaxed);
    res.status = 204;
    return;
  }
  if (method != "PUT" && method != "PATCH") return ReplyMethodNotAllowed(res, req);
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  GroupChange change;
  if (method == "PUT") {
    absl::StatusOr<DecodedGroup> decoded = DecodeGroup(*json);
    if (!decoded.ok()) return ReplyError(res, decoded.status());
    change.display_name = std::move(decoded->group.display_name);
    change.external_id = std::move(decoded->group.external_id);
    change.member_ops.push_back({GroupChange::MemberOp::Kind::kRemoveAll, ""});
    for (std::string& member_id : decoded->member_ids) {
      change.member_ops.push_back({GroupChange::MemberOp::Kind::kAdd, std::move(member_id)});
    }
  } else {
    absl::StatusOr<std::vector<PatchOp>> ops = DecodePatch(*json, kScimGroupSchema);
    if (!ops.ok()) return ReplyError(res, ops.status());
    absl::StatusOr<GroupChange> patch = GroupPatchToChange(*ops);
    if (!patch.ok()) return ReplyError(res, patch.status());
    change = *std::move(patch);
  }
  absl::StatusOr<GroupView> updated = store_->UpdateGroup(id, ExpectedVersion(req), change);
  if (!updated.ok()) return ReplyError(res, updated.status());
  group_updates_.fetch_add(1, std::memory_order_relaxed);
  if (method == "PATCH") {
    // 204 (RFC 7644 §3.5.2 allows it): a membership change must not cost O(members).
    res.set_header("ETag", VersionTag(updated->group->version));
    res.status = 204;
    return;
  }
  absl::StatusOr<GroupView> full = store_->GetGroup(id, /*with_members=*/true);
  if (!full.ok()) return ReplyError(res, full.status());
  ReplyGroup(res, 200, *full, /*with_members=*/true);
}

void EmulatorServer::Impl::CountSeatDenial(const absl::Status& status) {
  if (!NoSeatProduct(status).empty()) seat_denials_.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Replaces each string value "bulkId:X" in `value` by the id the operation with bulkId X
// created. Error: 409 invalidValue naming the first X that is unknown or whose POST failed.
absl::Status ResolveBulkIds(JsonValue* value,
                            const absl::flat_hash_map<std::string, std::string>& bulk_ids) {
  if (value->is_string()) {
    if (!absl::StartsWith(value->string, Sv(kBulkIdPrefix))) return absl::OkStatus();
    std::string_view bulk_id = std::string_view(value->string).substr(kBulkIdPrefix.size());
    auto it = bulk_ids.find(Sv(bulk_id));
    if (it == bulk_ids.end() || it->second.empty()) {
      return ScimError(
          absl::StatusCode::kAlreadyExists, "invalidValue",
          absl::StrCat("bulkId ", Sv(bulk_id),
                       it == bulk_ids.end() ? " is not defined by an earlier POST of this request"
                                            : " names an operation that failed"));
    }
    value->string = it->second;
    return absl::OkStatus();
  }
  for (JsonValue& item : value->items) USERSYNC_RETURN_IF_ERROR(ResolveBulkIds(&item, bulk_ids));
  for (auto& [key, member] : value->members) {
    USERSYNC_RETURN_IF_ERROR(ResolveBulkIds(&member, bulk_ids));
  }
  return absl::OkStatus();
}

}  // namespace

EmulatorServer::Impl::BulkResult EmulatorServer::Impl::RunBulkOperation(
    const JsonValue& op, absl::flat_hash_map<std::string, std::string>& bulk_ids) {
  BulkResult result;
  auto fail = [&](const absl::Status& status) {
    result.status = HttpStatusOf(status);
    result.response = ErrorBody(status);
    return result;
  };
  auto invalid = [&](std::string_view scim_type, std::string_view detail) {
    return fail(ScimError(absl::StatusCode::kInvalidArgument, scim_type, detail));
  };
  if (!op.is_object()) return invalid("invalidSyntax", "each operation must be an object");
  const JsonValue* method = op.Find("method");
  if (method == nullptr || !method->is_string()) {
    return invalid("invalidSyntax", "an operation needs a \"method\"");
  }
  result.method = absl::AsciiStrToUpper(method->string);
  const JsonValue* bulk_id = op.Find("bulkId");
  if (bulk_id != nullptr && !bulk_id->is_null()) {
    if (!bulk_id->is_string() || bulk_id->string.empty()) {
      return invalid("invalidValue", "bulkId must be a non-empty string");
    }
    result.bulk_id = bulk_id->string;
  }
  const bool is_post = result.method == "POST";
  if (!is_post && result.method != "PUT" && result.method != "PATCH" && result.method != "DELETE") {
    return invalid("invalidValue", absl::StrCat("method \"", method->string,
                                                "\" is not allowed in a bulk operation"));
  }
  if (is_post) {
    if (result.bulk_id.empty()) return invalid("invalidValue", "a POST operation needs a bulkId");
    if (bulk_ids.contains(result.bulk_id)) {
      return invalid("invalidValue", absl::StrCat("bulkId ", result.bulk_id, " is used twice"));
    }
    // Declared now, resolvable once the POST succeeds.
    bulk_ids.emplace(result.bulk_id, "");
  }
  const JsonValue* path = op.Find("path");
  if (path == nullptr || !path->is_string() || !absl::StartsWith(path->string, "/")) {
    return invalid("invalidPath", "an operation needs a \"path\" such as /Users");
  }
  std::vector<std::string> segments = absl::StrSplit(path->string.substr(1), '/');
  if (segments.empty() || (segments[0] != "Users" && segments[0] != "Groups") ||
      segments.size() != (is_post ? 1u : 2u) || (segments.size() == 2 && segments[1].empty())) {
    return invalid("invalidPath",
                   absl::StrCat("path \"", path->string, "\" must be ",
                                is_post ? "/Users or /Groups" : "/Users/{id} or /Groups/{id}"));
  }
  if (segments.size() == 2) {
    JsonValue id;
    id.type = JsonValue::Type::kString;
    id.string = segments[1];
    absl::Status resolved = ResolveBulkIds(&id, bulk_ids);
    if (!resolved.ok()) return fail(resolved);
    segments[1] = std::move(id.string);
  }
  std::string resolved_path = absl::StrCat("/", absl::StrJoin(segments, "/"));

  httplib::Request sub;
  sub.method = result.method;
  sub.path = absl::StrCat(Sv(kScimPrefix), resolved_path);
  if (result.method != "DELETE") {
    const JsonValue* data = op.Find("data");
    if (data == nullptr || !data->is_object()) {
      return invalid("invalidSyntax", absl::StrCat(result.method, " needs a \"data\" object"));
    }
    JsonValue resolved_data = *data;
    absl::Status resolved = ResolveBulkIds(&resolved_data, bulk_ids);
    if (!resolved.ok()) return fail(resolved);
    JsonWriter writer(&sub.body);
    WriteJson(resolved_data, &writer);
  }
  const JsonValue* version = op.Find("version");
  if (version != nullptr && version->is_string() && !version->string.empty()) {
    sub.headers.emplace("If-Match", version->string);
  }
  httplib::Response sub_res;
  RouteScim(resolved_path, sub, sub_res);
  result.status = sub_res.status;
  result.response = std::move(sub_res.body);
  result.version = sub_res.get_header_value("ETag");
  if (is_post) {
    result.location = sub_res.get_header_value("Location");
    if (result.status == 201) {
      size_t slash = result.location.rfind('/');
      bulk_ids[result.bulk_id] = result.location.substr(slash + 1);
    }
  } else if (result.status < 400) {
    result.location = absl::StrCat(scim_base_url_, resolved_path);
  }
  return result;
}

void EmulatorServer::Impl::Bulk(const httplib::Request& req, httplib::Response& res) {
  if (static_cast<int64_t>(req.body.size()) > kMaxBulkPayloadBytes) {
    return Reply(res, 413,
                 ErrorBody(413, "",
                           absl::StrCat("the bulk request holds ", req.body.size(),
                                        " bytes; maxPayloadSize is ", kMaxBulkPayloadBytes)));
  }
  absl::StatusOr<JsonValue> json = ParseBody(req);
  if (!json.ok()) return ReplyError(res, json.status());
  const JsonValue* operations = json->Find("Operations");
  if (!json->is_object() || operations == nullptr || !operations->is_array()) {
    return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                                     "a BulkRequest needs an \"Operations\" array"));
  }
  if (static_cast<int64_t>(operations->items.size()) > kMaxBulkOperations) {
    return Reply(res, 413,
                 ErrorBody(413, "",
                           absl::StrCat("the bulk request holds ", operations->items.size(),
                                        " operations; maxOperations is ", kMaxBulkOperations)));
  }
  int64_t fail_on_errors = 0;  // 0: never stop
  if (const JsonValue* limit = json->Find("failOnErrors"); limit != nullptr && !limit->is_null()) {
    if (!limit->is_number() || limit->number < 1 || limit->number != std::trunc(limit->number)) {
      return ReplyError(res, ScimError(absl::StatusCode::kInvalidArgument, "invalidValue",
                                       "failOnErrors must be an integer >= 1"));
    }
    fail_on_errors = static_cast<int64_t>(std::min(limit->number, 1e9));
  }
  bulk_requests_.fetch_add(1, std::memory_order_relaxed);
  absl::flat_hash_map<std::string, std::string> bulk_ids;
  int64_t errors = 0;
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("schemas").BeginArray().String(kBulkResponseSchema).EndArray();
  writer.Key("Operations").BeginArray();
  for (const JsonValue& op : operations->items) {
    if (fail_on_errors > 0 && errors >= fail_on_errors) break;
    bulk_operations_.fetch_add(1, std::memory_order_relaxed);
    BulkResult result = RunBulkOperation(op, bulk_ids);
    if (result.status >= 400) ++errors;
    writer.BeginObject();
    writer.Field("method", result.method);
    if (!result.bulk_id.empty()) writer.Field("bulkId", result.bulk_id);
    if (!result.location.empty()) writer.Field("location", result.location);
    if (!result.version.empty()) writer.Field("version", result.version);
    writer.Field("status", std::to_string(result.status));
    if (!result.response.empty()) writer.Key("response").Raw(result.response);
    writer.EndObject();
  }
  writer.EndArray().EndObject();
  Reply(res, 200, std::move(body));
}

void EmulatorServer::Impl::ServiceProviderConfig(httplib::Response& res) {
  JsonWriter writer;
  writer.BeginObject();
  writer.Key("schemas").BeginArray().String(kScimServiceProviderConfigSchema).EndArray();
  writer.Key("patch").BeginObject().Key("supported").Bool(true).EndObject();
  writer.Key("bulk").BeginObject();
  writer.Key("supported").Bool(options_.bulk);
  writer.Key("maxOperations").Int(options_.bulk ? kMaxBulkOperations : 0);
  writer.Key("maxPayloadSize").Int(options_.bulk ? kMaxBulkPayloadBytes : 0);
  writer.EndObject();
  writer.Key("filter").BeginObject();
  writer.Key("supported").Bool(true).Key("maxResults").Int(kMaxCount);
  writer.EndObject();
  writer.Key("changePassword").BeginObject().Key("supported").Bool(false).EndObject();
  writer.Key("sort").BeginObject().Key("supported").Bool(false).EndObject();
  writer.Key("etag").BeginObject().Key("supported").Bool(true).EndObject();
  writer.Key("authenticationSchemes").BeginArray().BeginObject();
  writer.Field("type", "oauthbearertoken");
  writer.Field("name", "OAuth Bearer Token");
  writer.Field("description", "Authentication with a bearer token (Authorization: Bearer)");
  writer.Key("primary").Bool(true);
  writer.EndObject().EndArray();
  writer.Key("meta").BeginObject();
  writer.Field("resourceType", "ServiceProviderConfig");
  writer.Field("location", absl::StrCat(scim_base_url_, "/ServiceProviderConfig"));
  writer.EndObject();
  writer.EndObject();
  Reply(res, 200, writer.Release());
}

}  // namespace usersync::io::emulator
