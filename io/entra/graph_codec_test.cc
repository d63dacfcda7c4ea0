#include "io/entra/graph_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace usersync::io {
namespace {

// The shape of the documented answer of GET /v1.0/users (user-list, "Example 1"): a context,
// a nextLink when $top cuts the collection, objects with nulls and an array (businessPhones).
constexpr char kUsersPage[] = R"({
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
  "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=X%274453707402%27",
  "value": [
    {
      "businessPhones": [],
      "displayName": "Conf Room Adams",
      "givenName": null,
      "mail": "Adams@contoso.com",
      "preferredLanguage": null,
      "surname": null,
      "userPrincipalName": "Adams@contoso.com",
      "accountEnabled": true,
      "id": "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0"
    },
    {
      "businessPhones": ["425-555-0100"],
      "displayName": "MOD Administrator",
      "givenName": "MOD",
      "mail": null,
      "preferredLanguage": "en-US",
      "surname": "Administrator",
      "userPrincipalName": "admin@contoso.com",
      "accountEnabled": false,
      "id": "4562bcc8-c436-4f95-b7c0-4f8ce89dca5e"
    }
  ]
})";

TEST(GraphCodec, ReadsUsersPage) {
  absl::StatusOr<GraphPage> page = DecodeGraphPage(kUsersPage, "GET /users");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->next_link,
            "https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=X%274453707402%27");
  const GraphObject& adams = page->objects[0];
  EXPECT_EQ(adams.Get("id"), "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0");
  EXPECT_EQ(adams.Get("MAIL"), "Adams@contoso.com");  // names compare case-insensitively
  EXPECT_EQ(adams.Get("givenName"), "");
  EXPECT_TRUE(adams.Has("givenName"));        // null is present, and empty
  EXPECT_FALSE(adams.Has("businessPhones"));  // arrays are not kept
  EXPECT_EQ(adams.Get("accountEnabled"), "true");
  const GraphObject& admin = page->objects[1];
  EXPECT_EQ(admin.Get("accountEnabled"), "false");
  EXPECT_EQ(admin.Get("preferredLanguage"), "en-US");
  EXPECT_EQ(admin.Get("mail"), "");
}

// GET /groups/{id}/members (group-list-members): directoryObjects, each with @odata.type.
TEST(GraphCodec, ReadsMembersWithTheirTypes) {
  absl::StatusOr<GraphPage> page = DecodeGraphPage(R"json({
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects(id)",
    "value": [
      {"@odata.type": "#microsoft.graph.user", "id": "11111111-2222-3333-4444-555555555555"},
      {"@odata.type": "#microsoft.graph.group", "id": "22222222-2222-3333-4444-555555555555"},
      {"@odata.type": "#microsoft.graph.device", "id": "33333333-2222-3333-4444-555555555555"}
    ]})json",
                                                   "members");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_TRUE(page->next_link.empty());
  EXPECT_EQ(KindOfODataType(page->objects[0].Get("@odata.type")), GraphObjectKind::kUser);
  EXPECT_EQ(KindOfODataType(page->objects[1].Get("@odata.type")), GraphObjectKind::kGroup);
  EXPECT_EQ(KindOfODataType(page->objects[2].Get("@odata.type")), GraphObjectKind::kOther);
}

// GET /servicePrincipals/{id}/appRoleAssignedTo (serviceprincipal-list-approleassignedto):
// appRoleAssignment objects (resources/approleassignment).
TEST(GraphCodec, ReadsAppRoleAssignments) {
  absl::StatusOr<GraphPage> page = DecodeGraphPage(R"json({
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('8e881353-1735-45af-af21-ee1344582a4d')/appRoleAssignedTo",
    "value": [{
      "id": "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE",
      "deletedDateTime": null,
      "appRoleId": "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7",
      "createdDateTime": "2021-02-02T04:22:45.9480566Z",
      "principalDisplayName": "alice",
      "principalId": "33ad69f9-da99-4bed-acd0-3f24235cb296",
      "principalType": "User",
      "resourceDisplayName": "dxprovisioning-graphapi-client",
      "resourceId": "8e881353-1735-45af-af21-ee1344582a4d"
    }]})json",
                                                   "assignments");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  const GraphObject& assignment = page->objects[0];
  EXPECT_EQ(assignment.Get("appRoleId"), "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7");
  EXPECT_EQ(assignment.Get("principalId"), "33ad69f9-da99-4bed-acd0-3f24235cb296");
  EXPECT_EQ(KindOfPrincipalType(assignment.Get("principalType")), GraphObjectKind::kUser);
  EXPECT_EQ(KindOfPrincipalType("Group"), GraphObjectKind::kGroup);
  EXPECT_EQ(KindOfPrincipalType("ServicePrincipal"), GraphObjectKind::kOther);
}

// Graph's error answer (resources/errors), and other non-collections, are refused by name.
TEST(GraphCodec, RefusesErrorsAndNonCollections) {
  absl::StatusOr<GraphPage> error = DecodeGraphPage(
      R"({"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}})",
      "GET /users");
  EXPECT_EQ(error.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(error.status().message().find("Authorization_RequestDenied"), std::string::npos)
      << error.status();
  EXPECT_EQ(DecodeGraphPage(R"({"items":[]})", "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeGraphPage(R"({"value":[1]})", "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeGraphPage("not json", "x").status().code(), absl::StatusCode::kDataLoss);
}

// A users delta page shaped as [delta-users]'s deltaLink response: a changed user whole, a
// removed one as id + @removed, and the deltaLink that ends the round.
TEST(GraphCodec, DecodesAUsersDeltaPage) {
  absl::StatusOr<GraphPage> page = DecodeGraphPage(
      R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users",
          "@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc",
          "value":[{"givenName":"Ann","id":"u-1","businessPhones":[]},
                   {"id":"u-2","@removed":{"reason":"changed"}}]})",
      "GET /users/delta");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->delta_link, "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc");
  EXPECT_TRUE(page->next_link.empty());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_FALSE(page->objects[0].removed);
  EXPECT_EQ(page->objects[0].Get("givenName"), "Ann");
  EXPECT_TRUE(page->objects[1].removed);
  EXPECT_EQ(page->objects[1].removed_reason, "changed");
}

// A groups delta object shaped as [delta-groups]: members@delta with an added user and a
// removed one.
TEST(GraphCodec, DecodesMembersDelta) {
  absl::StatusOr<GraphPage> page = DecodeGraphPage(
      R"({"@odata.nextLink":"https://graph.microsoft.com/v1.0/groups/delta?$skiptoken=x",
          "value":[{"displayName":"Sales","id":"g-1","members@delta":[
            {"@odata.type":"#microsoft.graph.user","id":"u-1"},
            {"@odata.type":"#microsoft.graph.user","id":"u-2","@removed":{"reason":"deleted"}}]}]})",
      "GET /groups/delta");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  const GraphObject& group = page->objects[0];
  EXPECT_TRUE(group.has_members_delta);
  ASSERT_EQ(group.members_delta.size(), 2u);
  EXPECT_EQ(group.members_delta[0].id, "u-1");
  EXPECT_FALSE(group.members_delta[0].removed);
  EXPECT_EQ(group.members_delta[1].id, "u-2");
  EXPECT_TRUE(group.members_delta[1].removed);
  EXPECT_EQ(KindOfODataType(group.members_delta[1].odata_type), GraphObjectKind::kUser);
}

}  // namespace
}  // namespace usersync::io
