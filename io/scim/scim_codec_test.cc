#include "io/scim/scim_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/http/testing/test_accounts.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

// The shared Ann, with what these tests expect to see escaped and localized.
core::AccountSpec AnnSpec() {
  core::AccountSpec spec = http_testing::AnnSpec();
  spec.external_id = "u-1";
  spec.last_name = "Lee \"Jr\"";
  spec.language = "en_US";
  spec.welcome_template.clear();
  return spec;
}

TEST(ScimCodec, EncodeUser) {
  EXPECT_EQ(EncodeUser(AnnSpec()),
            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
            R"("userName":"ann@example.com","externalId":"u-1",)"
            R"("name":{"givenName":"Ann","familyName":"Lee \"Jr\""},"displayName":"Ann Lee",)"
            R"("emails":[{"value":"ann@example.com","type":"work","primary":true}],)"
            R"("active":true,"preferredLanguage":"en_US",)"
            R"("entitlements":[{"value":"G2M"},{"value":"G2W"}],"roles":[{"value":"manager"}]})");
}

TEST(ScimCodec, EncodeUserMinimal) {
  core::AccountSpec spec;
  spec.user_name = "bo@example.com";
  spec.first_name = "Bo";
  spec.last_name = "Ng";
  spec.active = false;
  EXPECT_EQ(EncodeUser(spec),
            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
            R"("userName":"bo@example.com","name":{"givenName":"Bo","familyName":"Ng"},)"
            R"("active":false,"entitlements":[],"roles":[]})");
}

TEST(ScimCodec, EncodePatchOnePerChangedField) {
  core::AccountSpec spec = AnnSpec();
  spec.language = "";
  spec.admin_role = "";
  const std::vector<core::Change> changes = {{core::Field::kFirstName, "Anne", "Ann"},
                                             {core::Field::kLanguage, "de_DE", ""},
                                             {core::Field::kProducts, "G2M", "G2M,G2W"},
                                             {core::Field::kAdminRole, "full", ""},
                                             {core::Field::kUserGroup, "Ops", "Sales"},
                                             {core::Field::kEmail, "a@x.com", "ann@example.com"},
                                             {core::Field::kActive, "false", "true"}};
  EXPECT_EQ(
      EncodePatch(changes, spec),
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
      R"({"op":"replace","path":"name.givenName","value":"Ann"},)"
      R"({"op":"remove","path":"preferredLanguage"},)"
      R"({"op":"replace","path":"entitlements","value":[{"value":"G2M"},{"value":"G2W"}]},)"
      R"({"op":"remove","path":"roles"},)"
      R"({"op":"replace","path":"emails","value":[{"value":"ann@example.com","type":"work","primary":true}]},)"
      R"({"op":"replace","path":"active","value":true}]})");
}

// user_group is group membership, not a user attribute: a patch with only it is empty.
TEST(ScimCodec, EncodePatchOnlyUserGroupIsEmpty) {
  EXPECT_EQ(EncodePatch({{core::Field::kUserGroup, "Ops", "Sales"}}, AnnSpec()), "");
  EXPECT_EQ(EncodePatch({}, AnnSpec()), "");
}

TEST(ScimCodec, EncodeActiveAndGroupPatches) {
  EXPECT_EQ(EncodeActivePatch(false),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
            R"("Operations":[{"op":"replace","path":"active","value":false}]})");
  EXPECT_EQ(EncodeGroupMembershipPatch("id-1", true),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
            R"("Operations":[{"op":"add","path":"members","value":[{"value":"id-1"}]}]})");
  EXPECT_EQ(EncodeGroupMembershipPatch("id\"1", false),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
            R"("Operations":[{"op":"remove","path":"members[value eq \"id\\\"1\"]"}]})");
  EXPECT_EQ(EncodeGroup("Sales"), R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)"
                                  R"("displayName":"Sales","members":[]})");
}

// The rule settings with no core attribute go in usersync's extension (io/scim_extension.h):
// its URN joins "schemas" and its object holds the attributes with a value.
TEST(ScimCodec, EncodeUserWithRuleSettings) {
  core::AccountSpec spec;
  spec.user_name = "bo@example.com";
  spec.first_name = "Bo";
  spec.last_name = "Ng";
  spec.admin_role = "manager";
  spec.privileges = "MANAGE_USERS";
  spec.managed_groups = "Sales,Support";
  spec.device_groups = "Kiosks";
  spec.welcome_template = "onboarding";
  EXPECT_EQ(EncodeUser(spec),
            R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
            R"("urn:usersync:params:scim:schemas:extension:goto:2.0:User"],)"
            R"("userName":"bo@example.com","name":{"givenName":"Bo","familyName":"Ng"},)"
            R"("active":true,"entitlements":[],"roles":[{"value":"manager"}],)"
            R"("urn:usersync:params:scim:schemas:extension:goto:2.0:User":{)"
            R"("privileges":["MANAGE_USERS"],"managedGroups":["Sales","Support"],)"
            R"("deviceGroups":["Kiosks"],"welcomeTemplate":"onboarding"}})");
}

// A PATCH names an extension attribute by "<URN>:<attribute>": replaced with its value, removed
// when it becomes empty.
TEST(ScimCodec, EncodePatchOfRuleSettings) {
  core::AccountSpec spec;
  spec.device_groups = "Kiosks,Laptops";
  spec.settings_template = "";
  const std::vector<core::Change> changes = {
      {core::Field::kDeviceGroups, "Kiosks", "Kiosks,Laptops"},
      {core::Field::kSettingsTemplate, "Standard", ""}};
  EXPECT_EQ(EncodePatch(changes, spec),
            R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
            R"({"op":"replace","path":)"
            R"("urn:usersync:params:scim:schemas:extension:goto:2.0:User:deviceGroups",)"
            R"("value":["Kiosks","Laptops"]},)"
            R"({"op":"remove","path":)"
            R"("urn:usersync:params:scim:schemas:extension:goto:2.0:User:settingsTemplate"}]})");
}

// The listing reads the extension back (attribute names in any case); a User without it has
// those fields unreturned, so the plan does not compare them.
TEST(ScimCodec, DecodeRuleSettings) {
  const std::string body = R"({"totalResults": 2, "Resources": [
      {"id": "1", "userName": "a@x.com",
       "URN:usersync:params:scim:schemas:extension:goto:2.0:User": {
         "privileges": ["RUN_REPORTS", "MANAGE_USERS"], "managedgroups": ["Sales"],
         "deviceGroups": ["Laptops", "Kiosks", "Laptops"], "settingsTemplate": "Standard",
         "welcomeTemplate": "onboarding"}},
      {"id": "2", "userName": "b@x.com"}]})";
  core::Accounts accounts;
  int64_t total = 0;
  ASSERT_TRUE(DecodeListResponse(body, &accounts, &total).ok());
  ASSERT_EQ(accounts.items.size(), 2u);
  const core::Account& a = accounts.items[0];
  EXPECT_EQ(a.privileges, "MANAGE_USERS,RUN_REPORTS");
  EXPECT_EQ(a.managed_groups, "Sales");
  EXPECT_EQ(a.device_groups, "Kiosks,Laptops");
  EXPECT_EQ(a.settings_template, "Standard");
  EXPECT_TRUE(a.Returned(core::Field::kDeviceGroups));
  const core::Account& b = accounts.items[1];
  for (core::Field field : {core::Field::kPrivileges, core::Field::kManagedGroups,
                            core::Field::kDeviceGroups, core::Field::kSettingsTemplate}) {
    EXPECT_FALSE(b.Returned(field)) << core::FieldName(field);
  }
  EXPECT_TRUE(b.Returned(core::Field::kLanguage));
}

TEST(ScimCodec, FilterEscapesQuotesAndBackslashes) {
  EXPECT_EQ(FilterEq("userName", "ann@example.com"), R"(userName eq "ann@example.com")");
  EXPECT_EQ(FilterEq("userName", R"(a"b\c@x.com)"), R"(userName eq "a\"b\\c@x.com")");
  EXPECT_EQ(UrlEncode(R"(userName eq "a+b@x.com")"), "userName%20eq%20%22a%2Bb%40x.com%22");
}

constexpr char kListPage[] = R"({
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2501, "startIndex": 1, "itemsPerPage": 2,
  "Resources": [
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
     "id": "2819c223", "externalId": "u-1", "userName": "ann@example.com",
     "name": {"familyName": "Lee", "givenName": "Ann", "formatted": "Ann Lee"},
     "displayName": "Ann Lee", "preferredLanguage": "en_US", "active": true,
     "emails": [{"value": "ann@home.example", "type": "home"},
                {"value": "Ann@Example.com", "type": "work", "primary": true}],
     "entitlements": [{"value": "G2W"}, {"value": "G2M"}, {"value": "G2W"}],
     "roles": [{"value": "full"}],
     "groups": [{"value": "g1", "display": "Sales"}, {"value": "g2", "display": "Ops"}],
     "meta": {"resourceType": "User", "version": "W/\"3694e05e9dff590\""}},
    {"id": "x2", "userName": "bo@example.com", "active": false,
     "emails": [{"value": "bo@example.com"}], "displayName": null, "roles": []}
  ]})";

TEST(ScimCodec, DecodeListResponse) {
  core::Accounts accounts;
  int64_t total = -1;
  ASSERT_TRUE(DecodeListResponse(kListPage, &accounts, &total).ok());
  EXPECT_EQ(total, 2501);
  ASSERT_EQ(accounts.items.size(), 2u);
  const core::Account& ann = accounts.items[0];
  EXPECT_EQ(ann.id, "2819c223");
  EXPECT_EQ(ann.user_name, "ann@example.com");
  EXPECT_EQ(ann.external_id, "u-1");
  EXPECT_EQ(ann.first_name, "Ann");
  EXPECT_EQ(ann.last_name, "Lee");
  EXPECT_EQ(ann.display_name, "Ann Lee");
  EXPECT_EQ(ann.language, "en_US");
  EXPECT_EQ(ann.email, "Ann@Example.com");  // the primary one, as the target holds it
  EXPECT_EQ(ann.products, "G2M,G2W");       // sorted, de-duplicated
  EXPECT_EQ(ann.admin_role, "full");
  EXPECT_EQ(ann.user_group, "Sales");
  EXPECT_EQ(ann.version, R"(W/"3694e05e9dff590")");
  EXPECT_TRUE(ann.active);
  const core::Account& bo = accounts.items[1];
  EXPECT_EQ(bo.id, "x2");
  EXPECT_EQ(bo.email, "bo@example.com");  // no primary: the first
  EXPECT_EQ(bo.display_name, "");
  EXPECT_EQ(bo.products, "");
  EXPECT_EQ(bo.admin_role, "");
  EXPECT_EQ(bo.user_group, "");
  EXPECT_FALSE(bo.active);
}

// A body whose capacity lacks simdjson's padding is copied; one that has it is read in place.
TEST(ScimCodec, DecodeWithAndWithoutPadding) {
  std::string tight = R"({"totalResults":1,"Resources":[{"id":"1","userName":"a@x.com"}]})";
  tight.shrink_to_fit();
  std::string padded = tight;
  padded.reserve(padded.size() + 64);
  for (const std::string* body : {&tight, &padded}) {
    core::Accounts accounts;
    int64_t total = 0;
    ASSERT_TRUE(DecodeListResponse(*body, &accounts, &total).ok());
    ASSERT_EQ(accounts.items.size(), 1u);
    EXPECT_EQ(accounts.items[0].user_name, "a@x.com");
  }
}

TEST(ScimCodec, DecodeAppendsAcrossPagesAndKeysAreCaseInsensitive) {
  core::Accounts accounts;
  int64_t total = 0;
  ASSERT_TRUE(
      DecodeListResponse(R"({"Resources":[{"ID":"1","USERNAME":"a@x.com"}]})", &accounts, &total)
          .ok());
  ASSERT_TRUE(
      DecodeListResponse(R"({"totalresults":2,"resources":[{"id":"2","userName":"b@x.com"}]})",
                         &accounts, &total)
          .ok());
  EXPECT_EQ(total, 2);
  ASSERT_EQ(accounts.items.size(), 2u);
  EXPECT_EQ(accounts.items[0].id, "1");
  EXPECT_EQ(accounts.items[1].id, "2");
}

TEST(ScimCodec, EmptyListWithoutResources) {
  core::Accounts accounts;
  int64_t total = -1;
  ASSERT_TRUE(DecodeListResponse(R"({"totalResults":0})", &accounts, &total).ok());
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(accounts.items.empty());
}

TEST(ScimCodec, DecodeErrorsNameFieldAndIndex) {
  struct Case {
    const char* json;
    const char* where;
  };
  const Case cases[] = {
      {R"({"Resources":[{"id":"1","userName":"a"},{"id":"2","userName":"b","emails":[{"value":true}]}]})",
       "Resources[1].emails[0].value"},
      {R"({"Resources":[{"id":"1","userName":"a","name":{"givenName":["x"]}}]})",
       "Resources[0].name.givenName"},
      {R"({"Resources":[{"id":"1","userName":"a","active":"maybe"}]})", "Resources[0].active"},
      {R"({"Resources":[{"userName":"a"}]})", "Resources[0].id: missing"},
      {R"({"Resources":[{"id":"1"}]})", "Resources[0].userName: missing"},
      {R"({"Resources":{"id":"1"}})", "Resources"},
      {R"({"totalResults":"many"})", "totalResults"},
      {R"([1,2])", "document"},
      {R"({"Resources":[{"id":"1","userName":"a"},)", "document"},  // truncated
  };
  for (const Case& c : cases) {
    core::Accounts accounts;
    int64_t total = 0;
    const absl::Status status = DecodeListResponse(c.json, &accounts, &total);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << c.json;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.where)) << c.json;
  }
}

TEST(ScimCodec, DecodeSingleUser) {
  core::Accounts accounts;
  ASSERT_TRUE(DecodeUser(R"({"id":"9","userName":"c@x.com","externalId":"u-9",
                             "entitlements":[{"value":"OPENVOICE"}]})",
                         &accounts)
                  .ok());
  ASSERT_EQ(accounts.items.size(), 1u);
  EXPECT_EQ(accounts.items[0].id, "9");
  EXPECT_EQ(accounts.items[0].external_id, "u-9");
  EXPECT_EQ(accounts.items[0].products, "OPENVOICE");
  EXPECT_FALSE(DecodeUser("not json", &accounts).ok());
}

TEST(ScimCodec, DecodeServiceProviderConfig) {
  auto config = DecodeServiceProviderConfig(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": false},
    "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576},
    "filter": {"supported": true, "maxResults": 200},
    "changePassword": {"supported": false},
    "sort": {"supported": false},
    "etag": {"supported": true},
    "authenticationSchemes": [{"type": "oauthbearertoken", "primary": true}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->patch);
  EXPECT_TRUE(config->bulk);
  EXPECT_EQ(config->bulk_max_operations, 1000);
  EXPECT_EQ(config->bulk_max_payload_bytes, 1048576);
  EXPECT_TRUE(config->filter);
  EXPECT_EQ(config->filter_max_results, 200);
  EXPECT_TRUE(config->etag);
  // Absent sections keep the defaults (PATCH assumed).
  auto minimal = DecodeServiceProviderConfig("{}");
  ASSERT_TRUE(minimal.ok());
  EXPECT_TRUE(minimal->patch);
  EXPECT_FALSE(minimal->bulk);
  EXPECT_EQ(DecodeServiceProviderConfig(R"({"patch":{"supported":3}})").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ScimCodec, DecodeGroups) {
  std::vector<ScimGroup> groups;
  int64_t total = 0;
  ASSERT_TRUE(DecodeGroupList(R"({"totalResults":2,"Resources":[
      {"id":"g1","displayName":"Sales","members":[{"value":"u1"}]},
      {"id":"g2","displayName":"Ops"}]})",
                              &groups, &total)
                  .ok());
  EXPECT_EQ(total, 2);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].id, "g1");
  EXPECT_EQ(groups[0].display_name, "Sales");
  EXPECT_EQ(groups[1].display_name, "Ops");
  // Members are read when the answer carries them (numeric ids keep their text).
  EXPECT_TRUE(groups[0].has_members);
  EXPECT_EQ(groups[0].member_ids, std::vector<std::string>{"u1"});
  EXPECT_FALSE(groups[1].has_members);
  EXPECT_TRUE(groups[1].member_ids.empty());
  groups.clear();
  ASSERT_TRUE(DecodeGroupList(R"({"totalResults":1,"Resources":[
      {"id":"g4","displayName":"Num","members":[{"value":42,"display":"x"},{"value":"u2"}]}]})",
                              &groups, &total)
                  .ok());
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].member_ids, (std::vector<std::string>{"42", "u2"}));
  EXPECT_FALSE(DecodeGroupList(R"({"totalResults":1,"Resources":[
      {"id":"g5","displayName":"Bad","members":{"value":"u1"}}]})",
                               &groups, &total)
                   .ok());
  auto group = DecodeGroup(R"({"id":"g3","displayName":"New"})");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->id, "g3");
  EXPECT_FALSE(DecodeGroup(R"({"displayName":"NoId"})").ok());
}

TEST(ScimCodec, ErrorDetail) {
  EXPECT_EQ(ErrorDetail(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
                            "scimType":"uniqueness","detail":"userName taken","status":"409"})"),
            "uniqueness: userName taken");
  EXPECT_EQ(ErrorDetail(R"({"detail":"bad token"})"), "bad token");
  EXPECT_EQ(ErrorDetail("<html>oops</html>"), "");
  EXPECT_EQ(ErrorDetail(""), "");
}

TEST(ScimCodec, EncodeBulkCreate) {
  core::AccountSpec ann = AnnSpec();
  core::AccountSpec bob;
  bob.user_name = "bob@example.com";
  const std::string body = EncodeBulkCreate({&ann, &bob});
  EXPECT_EQ(body.rfind(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],)"
                       R"("Operations":[{"method":"POST","path":"/Users","bulkId":"0","data":)",
                       0),
            0u)
      << body;
  EXPECT_THAT(body, HasSubstr(absl::StrCat(R"("data":)", EncodeUser(ann), "}")));
  EXPECT_THAT(body, HasSubstr(R"({"method":"POST","path":"/Users","bulkId":"1","data":)"));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("failOnErrors")));
}

TEST(ScimCodec, DecodeBulkResponse) {
  absl::StatusOr<std::vector<ScimBulkResult>> results = DecodeBulkResponse(R"({
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
      "Operations": [
        {"method": "POST", "bulkId": "0", "status": "201",
         "location": "http://x/scim/v2/Users/id-7", "version": "W/\"1\""},
        {"method": "POST", "bulkId": "1", "status": 409,
         "response": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                      "scimType": "uniqueness", "detail": "userName taken", "status": "409"}},
        {"method": "POST", "bulkId": "2", "status": {"code": "201"},
         "response": {"id": "id-9", "userName": "c@x.com", "name": {"givenName": "C"}}},
        {"method": "POST", "bulkId": "3", "status": "oops"}]})");
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[0].bulk_id, "0");
  EXPECT_EQ((*results)[0].status, 201);
  EXPECT_EQ((*results)[0].id, "id-7");
  EXPECT_EQ((*results)[1].status, 409);
  EXPECT_EQ((*results)[1].detail, "uniqueness: userName taken");
  EXPECT_EQ((*results)[1].id, "");
  EXPECT_EQ((*results)[2].status, 201);
  EXPECT_EQ((*results)[2].id, "id-9");
  EXPECT_EQ((*results)[3].status, 0);
  EXPECT_EQ(DecodeBulkResponse(R"({"schemas": []})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeBulkResponse("nope").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace usersync::io
