// usersync-target keeps a User Sync rule's settings (issue 14): the SCIM face as usersync's
// extension schema (io/scim_extension.h: POST, PATCH by "<URN>:<attribute>", by the URN alone
// and without a path, returned in "schemas" and its object), the GoTo face as the user's
// deviceGroups and settingsTemplate (emulator_goto.h), the same store behind both; values are
// bounded (emulator_store.h kMaxRuleSettingValues). The real program over real HTTP.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "io/scim_extension.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"

namespace usersync::testing {
namespace {

using Strings = std::vector<std::string>;
const std::string kUrn(io::kRuleSettingsUrn);

class EmulatorRuleSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start({});
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
  }
  std::string Scim(const std::string& path) const { return emulator_->scim_url() + path; }
  std::string Goto(const std::string& path) const {
    return absl::StrCat(emulator_->base_url(), "/admin/rest/v1/accounts/demo", path);
  }
  const std::string& token() const { return emulator_->token(); }

  // POSTs a SCIM User carrying `extension` (the extension object's JSON); returns its id.
  std::string CreateScimUser(const std::string& extension) {
    const std::string body = absl::StrCat(
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",")", kUrn,
        R"("],"userName":"ann@example.com","name":{"givenName":"Ann","familyName":"Lee"},)", R"(")",
        kUrn, R"(":)", extension, "}");
    HttpResult created = HttpPost(Scim("/Users"), token(), body);
    EXPECT_EQ(created.status, 201) << created.body;
    return JsonView(created.body).Str("/id");
  }
  HttpResult Patch(const std::string& id, const std::string& operations) const {
    return HttpPatch(
        Scim("/Users/" + id), token(),
        absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)",
                     R"("Operations":[)", operations, "]}"));
  }
  static std::string Ext(const std::string& name) { return absl::StrCat("/", kUrn, "/", name); }

  std::unique_ptr<EmulatorProcess> emulator_;
};

// POST stores the extension; the answer and a GET return it with its URN in "schemas".
TEST_F(EmulatorRuleSettingsTest, ScimStoresAndReturnsTheExtension) {
  const std::string id = CreateScimUser(
      R"({"privileges":["MANAGE_USERS"],"managedGroups":["Sales"],)"
      R"("deviceGroups":["Kiosks","Kiosks","Laptops"],"settingsTemplate":"Standard",)"
      R"("welcomeTemplate":"onboarding","unknown":1})");
  HttpResult got = HttpGet(Scim("/Users/" + id), token());
  ASSERT_EQ(got.status, 200) << got.body;
  JsonView user(got.body);
  EXPECT_EQ(user.Strings("/schemas"),
            (Strings{"urn:ietf:params:scim:schemas:core:2.0:User", kUrn}));
  EXPECT_EQ(user.Strings(Ext("privileges")), (Strings{"MANAGE_USERS"}));
  EXPECT_EQ(user.Strings(Ext("managedGroups")), (Strings{"Sales"}));
  EXPECT_EQ(user.Strings(Ext("deviceGroups")), (Strings{"Kiosks", "Laptops"}));
  EXPECT_EQ(user.Str(Ext("settingsTemplate")), "Standard");
  EXPECT_EQ(user.Str(Ext("welcomeTemplate")), "onboarding");
  EXPECT_FALSE(user.Has(Ext("unknown")));
}

// The PATCH forms of RFC 7644 §3.5.2 on the extension: a path "<URN>:<attribute>" (replace,
// add, remove, remove of one value), the URN alone with an object, and no path at all.
TEST_F(EmulatorRuleSettingsTest, ScimPatchesTheExtension) {
  const std::string id = CreateScimUser(R"({"deviceGroups":["Kiosks"]})");
  ASSERT_EQ(Patch(id, absl::StrCat(R"({"op":"add","path":")", kUrn,
                                   R"(:deviceGroups","value":["Laptops"]},)",
                                   R"({"op":"replace","path":")", kUrn,
                                   R"(:SETTINGSTEMPLATE","value":"Standard"})"))
                .status,
            200);
  JsonView after_add(HttpGet(Scim("/Users/" + id), token()).body);
  EXPECT_EQ(after_add.Strings(Ext("deviceGroups")), (Strings{"Kiosks", "Laptops"}));
  EXPECT_EQ(after_add.Str(Ext("settingsTemplate")), "Standard");

  ASSERT_EQ(
      Patch(id,
            absl::StrCat(
                R"({"op":"remove","path":")", kUrn, R"(:deviceGroups","value":["Kiosks"]},)",
                R"({"op":"replace","path":")", kUrn, R"(","value":{"managedGroups":["Sales"]}},)",
                R"({"op":"replace","value":{")", kUrn, R"(":{"privileges":["RUN_REPORTS"]}}})"))
          .status,
      200);
  JsonView after_mixed(HttpGet(Scim("/Users/" + id), token()).body);
  EXPECT_EQ(after_mixed.Strings(Ext("deviceGroups")), (Strings{"Laptops"}));
  EXPECT_EQ(after_mixed.Strings(Ext("managedGroups")), (Strings{"Sales"}));
  EXPECT_EQ(after_mixed.Strings(Ext("privileges")), (Strings{"RUN_REPORTS"}));

  // Removing the whole extension leaves nothing, and the URN leaves "schemas".
  ASSERT_EQ(Patch(id, absl::StrCat(R"({"op":"remove","path":")", kUrn, R"("})")).status, 200);
  JsonView cleared(HttpGet(Scim("/Users/" + id), token()).body);
  EXPECT_FALSE(cleared.Has(absl::StrCat("/", kUrn)));
  EXPECT_EQ(cleared.Strings("/schemas"), (Strings{"urn:ietf:params:scim:schemas:core:2.0:User"}));

  // An attribute the extension does not define is a bad path.
  HttpResult unknown =
      Patch(id, absl::StrCat(R"({"op":"replace","path":")", kUrn, R"(:nope","value":"x"})"));
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(JsonView(unknown.body).Str("/scimType"), "invalidPath");
}

// The store bounds the lists and the values: a 101st device group is refused, nothing kept.
TEST_F(EmulatorRuleSettingsTest, ValuesAreBounded) {
  std::string groups;
  for (int group_idx = 0; group_idx <= 100; ++group_idx) {
    absl::StrAppend(&groups, group_idx == 0 ? "" : ",", "\"g", group_idx, "\"");
  }
  const std::string body =
      absl::StrCat(R"({"userName":"bo@example.com","name":{"givenName":"Bo","familyName":"Ng"},")",
                   kUrn, R"(":{"deviceGroups":[)", groups, "]}}");
  HttpResult refused = HttpPost(Scim("/Users"), token(), body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("deviceGroups"), std::string::npos) << refused.body;
  EXPECT_EQ(JsonView(HttpGet(Scim("/Users"), token()).body).Int("/totalResults"), 0);
}

// The GoTo face: a create member's deviceGroups / settingsTemplate, a PUT changing them ([]
// and null clear), every user carrying both; the SCIM face shows the same store.
TEST_F(EmulatorRuleSettingsTest, GotoStoresAndReturnsDeviceGroupsAndSettingsTemplate) {
  HttpResult created =
      HttpPost(Goto("/users"), token(),
               R"({"users":[{"email":"cy@example.com","firstName":"Cy","lastName":"Po",)"
               R"("deviceGroups":["Laptops","Kiosks"],"settingsTemplate":"Standard",)"
               R"("welcomeTemplate":"onboarding"}],"suppressEmail":true})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = JsonView(created.body).Str("/0/key");
  JsonView user(HttpGet(Goto("/users/" + key), token()).body);
  EXPECT_EQ(user.Strings("/deviceGroups"), (Strings{"Laptops", "Kiosks"}));
  EXPECT_EQ(user.Str("/settingsTemplate"), "Standard");
  JsonView scim(HttpGet(Scim("/Users/" + key), token()).body);
  EXPECT_EQ(scim.Strings(Ext("deviceGroups")), (Strings{"Laptops", "Kiosks"}));
  EXPECT_EQ(scim.Str(Ext("welcomeTemplate")), "onboarding");

  HttpResult put =
      HttpPut(Goto("/users/" + key), token(), R"({"deviceGroups":[],"settingsTemplate":null})");
  ASSERT_EQ(put.status, 200) << put.body;
  JsonView cleared(put.body);
  EXPECT_EQ(cleared.Size("/deviceGroups"), 0);
  EXPECT_TRUE(cleared.IsNull("/settingsTemplate"));
  HttpResult bad = HttpPut(Goto("/users/" + key), token(), R"({"deviceGroups":"Kiosks"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

}  // namespace
}  // namespace usersync::testing
