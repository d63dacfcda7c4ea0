// Integration tests of usersync-target: the real program on a loopback port, over real HTTP
// (tests/support). Each test starts its own emulator process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync::testing {
namespace {

using Json = JsonView;

std::unique_ptr<EmulatorProcess> StartEmulator(std::vector<std::string> args = {},
                                               std::string token = "test-token") {
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator =
      EmulatorProcess::Start(std::move(args), std::move(token));
  EXPECT_TRUE(emulator.ok()) << emulator.status();
  return emulator.ok() ? *std::move(emulator) : nullptr;
}

std::string UserBody(const std::string& user_name, const std::string& external_id = "") {
  std::string body = absl::StrCat(
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")", user_name,
      R"(","name":{"givenName":"Ann","familyName":"Lee"},"displayName":"Ann Lee",)",
      R"("emails":[{"value":")", user_name, R"(","type":"work","primary":true}],)",
      R"("active":true,"preferredLanguage":"en_US","entitlements":[{"value":"G2M"}])");
  if (!external_id.empty()) absl::StrAppend(&body, R"(,"externalId":")", external_id, R"(")");
  return body + "}";
}

std::string PatchBody(const std::string& operations) {
  return absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)",
                      R"("Operations":[)", operations, "]}");
}

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = StartEmulator();
    ASSERT_NE(emulator_, nullptr);
  }

  std::string Url(const std::string& path) const { return emulator_->scim_url() + path; }
  const std::string& token() const { return emulator_->token(); }

  // Creates a user and returns its id ("" and a test failure otherwise).
  std::string CreateUser(const std::string& user_name, const std::string& external_id = "") {
    HttpResult result = HttpPost(Url("/Users"), token(), UserBody(user_name, external_id));
    EXPECT_EQ(result.status, 201) << result.body;
    return Json(result.body).Str("/id");
  }

  Json Stats() const {
    HttpResult result = HttpGet(emulator_->base_url() + "/_emulator/stats", token());
    EXPECT_EQ(result.status, 200) << result.body;
    return Json(result.body);
  }

  std::unique_ptr<EmulatorProcess> emulator_;
};

TEST_F(EmulatorTest, RejectsMissingOrWrongToken) {
  HttpResult missing = HttpGet(Url("/Users"), "");
  EXPECT_EQ(missing.status, 401);
  Json error(missing.body);
  EXPECT_EQ(error.Str("/schemas/0"), "urn:ietf:params:scim:api:messages:2.0:Error");
  EXPECT_EQ(error.Str("/status"), "401");
  EXPECT_EQ(missing.headers["content-type"], "application/scim+json");

  EXPECT_EQ(HttpGet(Url("/Users"), "wrong-token").status, 401);
  EXPECT_EQ(HttpGet(Url("/Users"), token() + "x").status, 401);
  EXPECT_EQ(HttpGet(emulator_->base_url() + "/_emulator/stats", "wrong-token").status, 401);
  EXPECT_EQ(HttpGet(Url("/Users"), token()).status, 200);
  // The rejected attempts changed nothing.
  EXPECT_EQ(Stats().Int("/users"), 0);
}

TEST_F(EmulatorTest, UserLifecycle) {
  HttpResult created = HttpPost(Url("/Users"), token(), UserBody("ann.lee@example.com", "dir-1"));
  ASSERT_EQ(created.status, 201) << created.body;
  Json user(created.body);
  std::string id = user.Str("/id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(created.headers["location"], Url("/Users/" + id));
  EXPECT_EQ(created.headers["etag"], "W/\"1\"");
  EXPECT_EQ(user.Str("/schemas/0"), "urn:ietf:params:scim:schemas:core:2.0:User");
  EXPECT_EQ(user.Str("/userName"), "ann.lee@example.com");
  EXPECT_EQ(user.Str("/externalId"), "dir-1");
  EXPECT_EQ(user.Str("/name/givenName"), "Ann");
  EXPECT_EQ(user.Str("/emails/0/value"), "ann.lee@example.com");
  EXPECT_EQ(user.Str("/emails/0/type"), "work");
  EXPECT_EQ(user.Bool("/emails/0/primary"), 1);
  EXPECT_EQ(user.Bool("/active"), 1);
  EXPECT_EQ(user.Str("/entitlements/0/value"), "G2M");
  EXPECT_EQ(user.Str("/meta/resourceType"), "User");
  EXPECT_EQ(user.Str("/meta/version"), "W/\"1\"");
  EXPECT_EQ(user.Str("/meta/location"), Url("/Users/" + id));

  HttpResult got = HttpGet(Url("/Users/" + id), token());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json(got.body).Str("/userName"), "ann.lee@example.com");

  Json list(HttpGet(Url("/Users"), token()).body);
  EXPECT_EQ(list.Str("/schemas/0"), "urn:ietf:params:scim:api:messages:2.0:ListResponse");
  EXPECT_EQ(list.Int("/totalResults"), 1);
  EXPECT_EQ(list.Int("/startIndex"), 1);
  EXPECT_EQ(list.Int("/itemsPerPage"), 1);
  EXPECT_EQ(list.Str("/Resources/0/id"), id);

  // userName is caseExact=false: the filter matches another spelling.
  Json by_name(
      HttpGet(Url("/Users?filter=" + UrlEncode(R"(userName eq "ANN.Lee@Example.com")")), token())
          .body);
  EXPECT_EQ(by_name.Int("/totalResults"), 1);
  EXPECT_EQ(by_name.Str("/Resources/0/id"), id);
  Json by_external(
      HttpGet(Url("/Users?filter=" + UrlEncode(R"(externalId eq "dir-1")")), token()).body);
  EXPECT_EQ(by_external.Str("/Resources/0/id"), id);
  Json by_id(HttpGet(Url("/Users?filter=" + UrlEncode("id eq \"" + id + "\"")), token()).body);
  EXPECT_EQ(by_id.Int("/totalResults"), 1);
  Json nobody(
      HttpGet(Url("/Users?filter=" + UrlEncode(R"(userName eq "bob@example.com")")), token()).body);
  EXPECT_EQ(nobody.Int("/totalResults"), 0);
  EXPECT_EQ(nobody.Size("/Resources"), 0);

  // PATCH: each path kind.
  HttpResult patched =
      HttpPatch(Url("/Users/" + id), token(),
                PatchBody(R"({"op":"replace","path":"name.familyName","value":"Lee-Smith"},
                   {"op":"replace","path":"active","value":false},
                   {"op":"replace","path":"displayName","value":"Ann Lee-Smith"},
                   {"op":"add","path":"preferredLanguage","value":"fr_FR"},
                   {"op":"replace","path":"emails[type eq \"work\"].value","value":"ann.smith@example.com"},
                   {"op":"add","path":"entitlements","value":[{"value":"G2W"}]},
                   {"op":"remove","path":"entitlements[value eq \"G2M\"]"},
                   {"op":"add","path":"roles","value":[{"value":"manager"}]},
                   {"op":"replace","path":"externalId","value":"dir-2"})"));
  ASSERT_EQ(patched.status, 200) << patched.body;
  Json after(patched.body);
  EXPECT_EQ(after.Str("/name/familyName"), "Lee-Smith");
  EXPECT_EQ(after.Str("/name/givenName"), "Ann");
  EXPECT_EQ(after.Bool("/active"), 0);
  EXPECT_EQ(after.Str("/displayName"), "Ann Lee-Smith");
  EXPECT_EQ(after.Str("/preferredLanguage"), "fr_FR");
  EXPECT_EQ(after.Str("/emails/0/value"), "ann.smith@example.com");
  EXPECT_EQ(after.Size("/entitlements"), 1);
  EXPECT_EQ(after.Str("/entitlements/0/value"), "G2W");
  EXPECT_EQ(after.Str("/roles/0/value"), "manager");
  EXPECT_EQ(after.Str("/externalId"), "dir-2");
  EXPECT_EQ(after.Str("/meta/version"), "W/\"2\"");
  EXPECT_EQ(patched.headers["etag"], "W/\"2\"");

  // No-path operations (the value is an object of attributes) and userName.
  patched =
      HttpPatch(Url("/Users/" + id), token(), PatchBody(R"({"op":"replace","value":{"active":true,
                                    "name":{"givenName":"Annie"},"userName":"annie@example.com"}},
                                   {"op":"remove","path":"roles"},
                                   {"op":"replace","path":"emails",
                                    "value":[{"value":"annie@example.com","type":"work"}]})"));
  ASSERT_EQ(patched.status, 200) << patched.body;
  Json renamed(patched.body);
  EXPECT_EQ(renamed.Bool("/active"), 1);
  EXPECT_EQ(renamed.Str("/name/givenName"), "Annie");
  EXPECT_EQ(renamed.Str("/name/familyName"), "Lee-Smith");
  EXPECT_EQ(renamed.Str("/userName"), "annie@example.com");
  EXPECT_EQ(renamed.Str("/emails/0/value"), "annie@example.com");
  EXPECT_FALSE(renamed.Has("/roles"));
  EXPECT_EQ(renamed.Str("/meta/version"), "W/\"3\"");

  // A patch that changes nothing keeps the version.
  patched = HttpPatch(Url("/Users/" + id), token(),
                      PatchBody(R"({"op":"replace","path":"active","value":true})"));
  EXPECT_EQ(Json(patched.body).Str("/meta/version"), "W/\"3\"");

  // Errors: an unknown path (nickName is kept since mappings: favoriteColor is not), a read-only
  // attribute, a wrong type, an unsupported op. None of them changes the user.
  HttpResult bad = HttpPatch(Url("/Users/" + id), token(),
                             PatchBody(R"({"op":"replace","path":"displayName","value":"X"},
                                          {"op":"replace","path":"favoriteColor","value":"x"})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad.body).Str("/scimType"), "invalidPath");
  bad = HttpPatch(Url("/Users/" + id), token(),
                  PatchBody(R"({"op":"add","path":"groups","value":[{"value":"g"}]})"));
  EXPECT_EQ(Json(bad.body).Str("/scimType"), "mutability");
  bad = HttpPatch(Url("/Users/" + id), token(),
                  PatchBody(R"({"op":"replace","path":"active","value":"maybe"})"));
  EXPECT_EQ(Json(bad.body).Str("/scimType"), "invalidValue");
  bad = HttpPatch(Url("/Users/" + id), token(), PatchBody(R"({"op":"move","path":"active"})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(HttpGet(Url("/Users/" + id), token()).body).Str("/displayName"), "Ann Lee-Smith");

  // If-Match with a stale version: 412, nothing changes.
  HttpResult stale = HttpRequest("PATCH", Url("/Users/" + id), token(),
                                 PatchBody(R"({"op":"replace","path":"displayName","value":"Y"})"),
                                 {"If-Match: W/\"1\""});
  EXPECT_EQ(stale.status, 412);

  // PUT replaces: attributes left out are gone; id and created stay.
  HttpResult put = HttpPut(Url("/Users/" + id), token(),
                           R"({"userName":"annie@example.com","name":{"givenName":"Annie",
                               "familyName":"Smith"},"active":false})");
  ASSERT_EQ(put.status, 200) << put.body;
  Json replaced(put.body);
  EXPECT_EQ(replaced.Str("/id"), id);
  EXPECT_EQ(replaced.Str("/name/familyName"), "Smith");
  EXPECT_EQ(replaced.Bool("/active"), 0);
  EXPECT_FALSE(replaced.Has("/displayName"));
  EXPECT_FALSE(replaced.Has("/entitlements"));
  EXPECT_EQ(replaced.Str("/meta/created"), user.Str("/meta/created"));
  EXPECT_EQ(replaced.Str("/meta/version"), "W/\"4\"");
  EXPECT_EQ(HttpPut(Url("/Users/" + id), token(), R"({"name":{"givenName":"x"}})").status, 400);

  HttpResult deleted = HttpDelete(Url("/Users/" + id), token());
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  HttpResult gone = HttpGet(Url("/Users/" + id), token());
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Json(gone.body).Str("/status"), "404");
  EXPECT_EQ(HttpDelete(Url("/Users/" + id), token()).status, 404);
  EXPECT_EQ(HttpPatch(Url("/Users/" + id), token(), PatchBody(R"({"op":"remove","path":"roles"})"))
                .status,
            404);
  EXPECT_EQ(Json(HttpGet(Url("/Users"), token()).body).Int("/totalResults"), 0);
}

TEST_F(EmulatorTest, DuplicateUserNameConflicts) {
  std::string ann = CreateUser("ann@example.com");
  std::string bob = CreateUser("bob@example.com");
  HttpResult duplicate = HttpPost(Url("/Users"), token(), UserBody("ANN@Example.com"));
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(Json(duplicate.body).Str("/scimType"), "uniqueness");
  // Renaming bob onto ann's name conflicts too, by PATCH and by PUT.
  HttpResult renamed =
      HttpPatch(Url("/Users/" + bob), token(),
                PatchBody(R"({"op":"replace","path":"userName","value":"ann@EXAMPLE.com"})"));
  EXPECT_EQ(renamed.status, 409);
  EXPECT_EQ(HttpPut(Url("/Users/" + bob), token(), UserBody("ann@example.com")).status, 409);
  // A user may change the case of its own name.
  EXPECT_EQ(HttpPatch(Url("/Users/" + ann), token(),
                      PatchBody(R"({"op":"replace","path":"userName","value":"Ann@example.com"})"))
                .status,
            200);
  HttpResult missing_name = HttpPost(Url("/Users"), token(), R"({"displayName":"Nobody"})");
  EXPECT_EQ(missing_name.status, 400);
  EXPECT_EQ(Json(missing_name.body).Str("/scimType"), "invalidValue");
  Json stats = Stats();
  EXPECT_EQ(stats.Int("/users"), 2);
  EXPECT_EQ(stats.Int("/creates"), 2);
  EXPECT_EQ(stats.Int("/create_conflicts"), 1);
}

TEST_F(EmulatorTest, PagesCoverEveryUserExactlyOnce) {
  std::vector<std::string> ids;
  for (int index = 0; index < 250; ++index) {
    ids.push_back(CreateUser(absl::StrCat("user", index, "@example.com")));
  }
  std::vector<std::string> listed;
  for (int start = 1; start <= 250; start += 100) {
    Json page(HttpGet(Url(absl::StrCat("/Users?startIndex=", start, "&count=100")), token()).body);
    EXPECT_EQ(page.Int("/totalResults"), 250);
    EXPECT_EQ(page.Int("/startIndex"), start);
    int64_t items = page.Int("/itemsPerPage");
    EXPECT_EQ(items, start == 201 ? 50 : 100);
    EXPECT_EQ(page.Size("/Resources"), items);
    for (int64_t item = 0; item < items; ++item) {
      listed.push_back(page.Str(absl::StrCat("/Resources/", item, "/id")));
    }
  }
  // Creation order, each user once.
  EXPECT_EQ(listed, ids);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), 250u);

  Json past_end(HttpGet(Url("/Users?startIndex=400&count=100"), token()).body);
  EXPECT_EQ(past_end.Int("/totalResults"), 250);
  EXPECT_EQ(past_end.Size("/Resources"), 0);
  Json zero(HttpGet(Url("/Users?count=0"), token()).body);
  EXPECT_EQ(zero.Int("/totalResults"), 250);
  EXPECT_EQ(zero.Int("/itemsPerPage"), 0);
  // Default count is 100; startIndex < 1 counts as 1.
  Json defaults(HttpGet(Url("/Users?startIndex=-5"), token()).body);
  EXPECT_EQ(defaults.Int("/itemsPerPage"), 100);
  EXPECT_EQ(defaults.Str("/Resources/0/id"), ids[0]);
  EXPECT_EQ(HttpGet(Url("/Users?count=ten"), token()).status, 400);

  // After deletions, the pages still cover the rest exactly once, in order.
  std::vector<std::string> kept;
  for (size_t index = 0; index < ids.size(); ++index) {
    if (index % 3 == 1) {
      EXPECT_EQ(HttpDelete(Url("/Users/" + ids[index]), token()).status, 204);
    } else {
      kept.push_back(ids[index]);
    }
  }
  listed.clear();
  for (int start = 1; start <= static_cast<int>(kept.size()); start += 70) {
    Json page(HttpGet(Url(absl::StrCat("/Users?startIndex=", start, "&count=70")), token()).body);
    EXPECT_EQ(page.Int("/totalResults"), static_cast<int64_t>(kept.size()));
    for (int64_t item = 0; item < page.Size("/Resources"); ++item) {
      listed.push_back(page.Str(absl::StrCat("/Resources/", item, "/id")));
    }
  }
  EXPECT_EQ(listed, kept);
}

TEST_F(EmulatorTest, RejectsUnsupportedFilters) {
  for (const char* filter : {R"(userName co "ann")", R"(title eq "x")",
                             R"(userName eq "a" and active eq true)", "userName eq ann", ""}) {
    HttpResult result = HttpGet(Url(absl::StrCat("/Users?filter=", UrlEncode(filter))), token());
    EXPECT_EQ(result.status, 400) << filter;
    EXPECT_EQ(Json(result.body).Str("/scimType"), "invalidFilter") << filter;
  }
}

TEST_F(EmulatorTest, GroupMembershipShowsInUsers) {
  std::string ann = CreateUser("ann@example.com");
  std::string bob = CreateUser("bob@example.com");
  HttpResult created =
      HttpPost(Url("/Groups"), token(),
               absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)",
                            R"("displayName":"Sales","members":[{"value":")", ann, R"("}]})"));
  ASSERT_EQ(created.status, 201) << created.body;
  Json group(created.body);
  std::string group_id = group.Str("/id");
  EXPECT_EQ(group.Str("/displayName"), "Sales");
  EXPECT_EQ(group.Str("/members/0/value"), ann);
  EXPECT_EQ(created.headers["location"], Url("/Groups/" + group_id));

  Json ann_user(HttpGet(Url("/Users/" + ann), token()).body);
  EXPECT_EQ(ann_user.Str("/groups/0/value"), group_id);
  EXPECT_EQ(ann_user.Str("/groups/0/display"), "Sales");
  EXPECT_FALSE(Json(HttpGet(Url("/Users/" + bob), token()).body).Has("/groups"));

  HttpResult added =
      HttpPatch(Url("/Groups/" + group_id), token(),
                PatchBody(absl::StrCat(R"({"op":"add","path":"members","value":[{"value":")", bob,
                                       R"("}]})")));
  EXPECT_EQ(added.status, 204) << added.body;
  Json after_add(HttpGet(Url("/Groups/" + group_id), token()).body);
  EXPECT_EQ(after_add.Size("/members"), 2);
  EXPECT_EQ(Json(HttpGet(Url("/Users/" + bob), token()).body).Str("/groups/0/display"), "Sales");

  HttpResult removed = HttpPatch(
      Url("/Groups/" + group_id), token(),
      PatchBody(absl::StrCat(R"({"op":"remove","path":"members[value eq \")", ann, R"(\"]"})")));
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_FALSE(Json(HttpGet(Url("/Users/" + ann), token()).body).Has("/groups"));

  // Unknown members are refused; a duplicate displayName conflicts; filters find the group.
  HttpResult unknown =
      HttpPatch(Url("/Groups/" + group_id), token(),
                PatchBody(R"({"op":"add","path":"members","value":[{"value":"nobody"}]})"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(HttpPost(Url("/Groups"), token(), R"({"displayName":"SALES"})").status, 409);
  Json found(
      HttpGet(Url("/Groups?filter=" + UrlEncode(R"(displayName eq "sales")")), token()).body);
  EXPECT_EQ(found.Int("/totalResults"), 1);
  EXPECT_EQ(found.Str("/Resources/0/id"), group_id);
  Json without_members(HttpGet(Url("/Groups?excludedAttributes=members"), token()).body);
  EXPECT_EQ(without_members.Int("/totalResults"), 1);
  EXPECT_FALSE(without_members.Has("/Resources/0/members"));

  // Deleting a user removes it from its groups.
  EXPECT_EQ(HttpDelete(Url("/Users/" + bob), token()).status, 204);
  Json after_delete(HttpGet(Url("/Groups/" + group_id), token()).body);
  EXPECT_EQ(after_delete.Size("/members"), 0);

  // Replace sets the whole membership; PUT renames.
  EXPECT_EQ(
      HttpPatch(Url("/Groups/" + group_id), token(),
                PatchBody(absl::StrCat(R"({"op":"replace","path":"members","value":[{"value":")",
                                       ann, R"("}]})")))
          .status,
      204);
  HttpResult put =
      HttpPut(Url("/Groups/" + group_id), token(),
              absl::StrCat(R"({"displayName":"Marketing","members":[{"value":")", ann, R"("}]})"));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put.body).Str("/displayName"), "Marketing");
  EXPECT_EQ(Json(HttpGet(Url("/Users/" + ann), token()).body).Str("/groups/0/display"),
            "Marketing");

  EXPECT_EQ(HttpDelete(Url("/Groups/" + group_id), token()).status, 204);
  EXPECT_EQ(HttpGet(Url("/Groups/" + group_id), token()).status, 404);
  EXPECT_FALSE(Json(HttpGet(Url("/Users/" + ann), token()).body).Has("/groups"));
}

TEST_F(EmulatorTest, ServiceProviderConfig) {
  HttpResult result = HttpGet(Url("/ServiceProviderConfig"), token());
  ASSERT_EQ(result.status, 200);
  Json config(result.body);
  EXPECT_EQ(config.Bool("/patch/supported"), 1);
  EXPECT_EQ(config.Bool("/bulk/supported"), 1);  // off with --no-bulk (emulator_goto_test)
  EXPECT_EQ(config.Int("/bulk/maxOperations"), 1000);
  EXPECT_EQ(config.Bool("/filter/supported"), 1);
  EXPECT_EQ(config.Int("/filter/maxResults"), 1000);
  EXPECT_EQ(config.Bool("/changePassword/supported"), 0);
  EXPECT_EQ(config.Bool("/sort/supported"), 0);
  EXPECT_EQ(config.Bool("/etag/supported"), 1);
  EXPECT_EQ(config.Str("/authenticationSchemes/0/type"), "oauthbearertoken");
}

TEST_F(EmulatorTest, MalformedBodiesAre400AndHarmless) {
  std::string id = CreateUser("ann@example.com");
  const std::vector<std::string> garbage = {"{not json",
                                            "",
                                            "[]",
                                            "null",
                                            R"({"userName": 5})",
                                            R"({"userName":"a"} trailing)",
                                            std::string("{\"userName\":\"\xff\xfe\"}"),
                                            std::string(100000, '['),
                                            "\"just a string\""};
  for (const std::string& body : garbage) {
    HttpResult post = HttpPost(Url("/Users"), token(), body);
    EXPECT_EQ(post.status, 400) << body.substr(0, 40);
    Json error(post.body);
    EXPECT_EQ(error.Str("/status"), "400");
    EXPECT_NE(error.Str("/scimType"), "<missing>");
    EXPECT_EQ(HttpPatch(Url("/Users/" + id), token(), body).status, 400) << body.substr(0, 40);
    EXPECT_EQ(HttpPut(Url("/Users/" + id), token(), body).status, 400) << body.substr(0, 40);
    EXPECT_EQ(HttpPost(Url("/Groups"), token(), body).status, 400) << body.substr(0, 40);
  }
  EXPECT_EQ(Json(HttpPost(Url("/Users"), token(), "{not json").body).Str("/scimType"),
            "invalidSyntax");
  // Still serving, and nothing changed.
  Json stats = Stats();
  EXPECT_EQ(stats.Int("/users"), 1);
  EXPECT_EQ(stats.Int("/groups"), 0);
  EXPECT_EQ(Json(HttpGet(Url("/Users/" + id), token()).body).Str("/meta/version"), "W/\"1\"");
  EXPECT_EQ(HttpGet(Url("/NoSuchThing"), token()).status, 404);
  EXPECT_EQ(HttpDelete(Url("/Users"), token()).status, 405);
}

TEST_F(EmulatorTest, StatsCountOperations) {
  std::string ann = CreateUser("ann@example.com");
  std::string bob = CreateUser("bob@example.com");
  EXPECT_EQ(HttpPost(Url("/Users"), token(), UserBody("ann@example.com")).status, 409);
  EXPECT_EQ(HttpPatch(Url("/Users/" + ann), token(),
                      PatchBody(R"({"op":"replace","path":"active","value":false})"))
                .status,
            200);
  EXPECT_EQ(HttpDelete(Url("/Users/" + bob), token()).status, 204);
  Json stats = Stats();
  EXPECT_EQ(stats.Int("/users"), 1);
  EXPECT_EQ(stats.Int("/active_users"), 0);
  EXPECT_EQ(stats.Int("/groups"), 0);
  EXPECT_EQ(stats.Int("/requests"), 5);  // stats requests are not counted
  EXPECT_EQ(stats.Int("/throttled"), 0);
  EXPECT_EQ(stats.Int("/injected_failures"), 0);
  EXPECT_EQ(stats.Int("/creates"), 2);
  EXPECT_EQ(stats.Int("/create_conflicts"), 1);
  EXPECT_EQ(stats.Int("/updates"), 1);
  EXPECT_EQ(stats.Int("/deletes"), 1);
}

TEST_F(EmulatorTest, ConcurrentCreatesAreAllKept) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      for (int item = 0; item < kPerThread; ++item) {
        HttpResult result = HttpPost(Url("/Users"), token(),
                                     UserBody(absl::StrCat("t", thread_idx, "-", item, "@x.com")));
        if (result.status == 201) ids[thread_idx].push_back(Json(result.body).Str("/id"));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : ids) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(Json(HttpGet(Url("/Users?count=0"), token()).body).Int("/totalResults"),
            kThreads * kPerThread);
}

TEST(EmulatorRateLimitTest, BurstGets429WithRetryAfter) {
  auto emulator = StartEmulator({"--rate", "5", "--burst", "5"});
  ASSERT_NE(emulator, nullptr);
  int ok = 0;
  int throttled = 0;
  for (int request = 0; request < 20; ++request) {
    HttpResult result = HttpGet(emulator->scim_url() + "/Users", emulator->token());
    if (result.status == 200) ++ok;
    if (result.status == 429) {
      ++throttled;
      int seconds = 0;
      EXPECT_TRUE(absl::SimpleAtoi(result.headers["retry-after"], &seconds))
          << result.headers["retry-after"];
      EXPECT_GE(seconds, 1);
      EXPECT_EQ(Json(result.body).Str("/status"), "429");
    }
  }
  EXPECT_EQ(ok + throttled, 20);
  EXPECT_GE(ok, 5);  // the burst
  EXPECT_GT(throttled, 0);
  // The admin endpoint is not rate limited and saw every throttled request.
  HttpResult stats = HttpGet(emulator->base_url() + "/_emulator/stats", emulator->token());
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(Json(stats.body).Int("/throttled"), throttled);
  EXPECT_EQ(Json(stats.body).Int("/requests"), 20);
  // What the emulator measured of its admissions: every 200, within 5/s and a burst of 5.
  absl::StatusOr<TargetStats> measured = ParseTargetStats(stats.body);
  ASSERT_TRUE(measured.ok()) << measured.status();
  EXPECT_EQ(measured->admitted, ok);
  EXPECT_TRUE(measured->AdmittedWithin(5, 5));
}

TEST(EmulatorRateLimitTest, NoRetryAfterFlagOmitsTheHeader) {
  auto emulator = StartEmulator({"--rate", "1", "--burst", "1", "--no-retry-after"});
  ASSERT_NE(emulator, nullptr);
  int throttled = 0;
  for (int request = 0; request < 10; ++request) {
    HttpResult result = HttpGet(emulator->scim_url() + "/Users", emulator->token());
    if (result.status == 429) {
      ++throttled;
      EXPECT_EQ(result.headers.count("retry-after"), 0u);
    }
  }
  EXPECT_GT(throttled, 0);
}

TEST(EmulatorFaultTest, FailRateOneFailsEveryRequestWithoutChanges) {
  auto emulator = StartEmulator({"--fail-rate", "1.0"});
  ASSERT_NE(emulator, nullptr);
  const std::string& token = emulator->token();
  HttpResult post = HttpPost(emulator->scim_url() + "/Users", token, UserBody("ann@example.com"));
  EXPECT_EQ(post.status, 503);
  EXPECT_EQ(Json(post.body).Str("/status"), "503");
  EXPECT_EQ(HttpGet(emulator->scim_url() + "/Users", token).status, 503);
  EXPECT_EQ(HttpPost(emulator->scim_url() + "/Groups", token, R"({"displayName":"G"})").status,
            503);
  HttpResult stats = HttpGet(emulator->base_url() + "/_emulator/stats", token);
  ASSERT_EQ(stats.status, 200);
  Json counts(stats.body);
  EXPECT_EQ(counts.Int("/users"), 0);
  EXPECT_EQ(counts.Int("/groups"), 0);
  EXPECT_EQ(counts.Int("/creates"), 0);
  EXPECT_EQ(counts.Int("/injected_failures"), 3);
}

TEST(EmulatorFaultTest, FailRateHalfFailsSomeAndIsReproducible) {
  // The same seed and request order give the same answers.
  std::vector<long> runs[2];
  for (std::vector<long>& statuses : runs) {
    auto emulator = StartEmulator({"--fail-rate", "0.5", "--seed", "42"});
    ASSERT_NE(emulator, nullptr);
    for (int request = 0; request < 40; ++request) {
      statuses.push_back(HttpGet(emulator->scim_url() + "/Users", emulator->token()).status);
    }
  }
  EXPECT_EQ(runs[0], runs[1]);
  int failed = static_cast<int>(std::count(runs[0].begin(), runs[0].end(), 503));
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 40);
}

std::string WriteFile(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::trunc) << content;
  return path;
}

TEST(EmulatorSeedTest, SeedAccountsAreLoaded) {
  std::string path =
      WriteFile("seed_ok.jsonl",
                absl::StrCat(UserBody("ann@example.com", "d1"), "\n\n",
                             R"({"id":"fixed-id-1","userName":"bob@example.com","active":false})",
                             "\n", UserBody("carl@example.com"), "\n"));
  auto emulator = StartEmulator({"--seed-accounts", path});
  ASSERT_NE(emulator, nullptr);
  Json list(HttpGet(emulator->scim_url() + "/Users", emulator->token()).body);
  EXPECT_EQ(list.Int("/totalResults"), 3);
  EXPECT_EQ(list.Str("/Resources/0/userName"), "ann@example.com");
  EXPECT_EQ(list.Str("/Resources/1/id"), "fixed-id-1");
  EXPECT_EQ(list.Str("/Resources/2/userName"), "carl@example.com");
  HttpResult bob = HttpGet(emulator->scim_url() + "/Users/fixed-id-1", emulator->token());
  ASSERT_EQ(bob.status, 200);
  EXPECT_EQ(Json(bob.body).Bool("/active"), 0);
}

TEST(EmulatorSeedTest, BadSeedLineFailsStartNamingFileAndLine) {
  std::string path = WriteFile("seed_bad.jsonl", absl::StrCat(UserBody("ann@example.com"), "\n",
                                                              R"({"userName": 5})", "\n"));
  ProcessResult result =
      RunProcess({USERSYNC_TARGET_BINARY, "--port", "0", "--seed-accounts", path}, {}, "",
                 std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(path + ":2:"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;

  std::string duplicate =
      WriteFile("seed_dup.jsonl",
                absl::StrCat(UserBody("ann@example.com"), "\n", UserBody("ANN@example.com"), "\n"));
  result = RunProcess({USERSYNC_TARGET_BINARY, "--port", "0", "--seed-accounts", duplicate}, {}, "",
                      std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(duplicate + ":2:"), std::string::npos) << result.err;
}

TEST(EmulatorCommandLineTest, BadUsageExitsWithTwo) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--port", "0", "--rate", "fast"},
           {"--port", "0", "--fail-rate", "2"},
           {"--port", "0", "--seats", "G2M"},
           {"--port", "0", "--token-env", "USERSYNC_TEST_SURELY_UNSET_VARIABLE"},
           {"--no-such-flag"}}) {
    args.insert(args.begin(), USERSYNC_TARGET_BINARY);
    ProcessResult result = RunProcess(args, {}, "", std::chrono::seconds(30));
    EXPECT_EQ(result.exit_code, 2) << args[1] << " " << args.back() << ": " << result.err;
    EXPECT_FALSE(result.err.empty());
  }
}

TEST(EmulatorCommandLineTest, PortInUseExitsWithOne) {
  auto first = StartEmulator();
  ASSERT_NE(first, nullptr);
  ProcessResult result =
      RunProcess({USERSYNC_TARGET_BINARY, "--port", std::to_string(first->port())}, {}, "",
                 std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find(std::to_string(first->port())), std::string::npos) << result.err;
}

TEST(EmulatorProcessTest, SigtermStopsPromptlyWithAnIdleKeepAliveConnection) {
  auto emulator = StartEmulator();
  ASSERT_NE(emulator, nullptr);
  // A raw connection that made one request and stays open (keep-alive, 60 s idle timeout).
  int sock = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(emulator->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  std::string request = "GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(sock, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buffer[256];
  ASSERT_GT(read(sock, buffer, sizeof(buffer)), 0);

  emulator->process().Signal(SIGTERM);
  absl::StatusOr<int> exit_code = emulator->process().WaitFor(std::chrono::seconds(20));
  ASSERT_TRUE(exit_code.ok()) << "still running 20 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  close(sock);
}

TEST(EmulatorDbTest, DbPersistsAcrossRestarts) {
  std::string db = ::testing::TempDir() + "/emulator_persist.db";
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
  std::string ann;
  std::string bob;
  std::string group_id;
  {
    auto emulator = StartEmulator({"--db", db});
    ASSERT_NE(emulator, nullptr);
    const std::string scim = emulator->scim_url();
    const std::string& token = emulator->token();
    ann = Json(HttpPost(scim + "/Users", token, UserBody("ann@example.com", "d1")).body).Str("/id");
    bob = Json(HttpPost(scim + "/Users", token, UserBody("bob@example.com")).body).Str("/id");
    std::string carl =
        Json(HttpPost(scim + "/Users", token, UserBody("carl@example.com")).body).Str("/id");
    EXPECT_EQ(HttpPatch(scim + "/Users/" + ann, token,
                        PatchBody(R"({"op":"replace","path":"active","value":false},
                                     {"op":"add","path":"roles","value":[{"value":"full"}]})"))
                  .status,
              200);
    EXPECT_EQ(HttpDelete(scim + "/Users/" + carl, token).status, 204);
    group_id = Json(HttpPost(scim + "/Groups", token,
                             absl::StrCat(R"({"displayName":"Sales","members":[{"value":")", ann,
                                          R"("},{"value":")", bob, R"("}]})"))
                        .body)
                   .Str("/id");
    EXPECT_EQ(HttpPatch(scim + "/Groups/" + group_id, token,
                        PatchBody(absl::StrCat(R"({"op":"remove","path":"members[value eq \")", bob,
                                               R"(\"]"})")))
                  .status,
              204);
    emulator->process().Signal(SIGTERM);
    EXPECT_EQ(emulator->process().Wait(), 0);
  }
  auto emulator = StartEmulator({"--db", db});
  ASSERT_NE(emulator, nullptr);
  const std::string scim = emulator->scim_url();
  const std::string& token = emulator->token();
  Json list(HttpGet(scim + "/Users", token).body);
  EXPECT_EQ(list.Int("/totalResults"), 2);
  EXPECT_EQ(list.Str("/Resources/0/id"), ann);
  EXPECT_EQ(list.Str("/Resources/1/id"), bob);
  Json ann_user(HttpGet(scim + "/Users/" + ann, token).body);
  EXPECT_EQ(ann_user.Bool("/active"), 0);
  EXPECT_EQ(ann_user.Str("/roles/0/value"), "full");
  EXPECT_EQ(ann_user.Str("/externalId"), "d1");
  EXPECT_EQ(ann_user.Str("/entitlements/0/value"), "G2M");
  EXPECT_EQ(ann_user.Str("/meta/version"), "W/\"2\"");
  EXPECT_EQ(ann_user.Str("/groups/0/value"), group_id);
  Json group(HttpGet(scim + "/Groups/" + group_id, token).body);
  EXPECT_EQ(group.Size("/members"), 1);
  EXPECT_EQ(group.Str("/members/0/value"), ann);
  // Constraints and ids survive too: the name is still taken, and a new user gets a new id.
  EXPECT_EQ(HttpPost(scim + "/Users", token, UserBody("ANN@example.com")).status, 409);
  std::string dana =
      Json(HttpPost(scim + "/Users", token, UserBody("dana@example.com")).body).Str("/id");
  EXPECT_NE(dana, ann);
  EXPECT_NE(dana, bob);
  EXPECT_NE(dana, group_id);
  Json stats(HttpGet(emulator->base_url() + "/_emulator/stats", token).body);
  EXPECT_EQ(stats.Int("/users"), 3);
  EXPECT_EQ(stats.Int("/active_users"), 2);
  EXPECT_EQ(stats.Int("/groups"), 1);
}

}  // namespace
}  // namespace usersync::testing
