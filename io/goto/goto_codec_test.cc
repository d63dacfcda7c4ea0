#include "io/goto/goto_codec.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/http/testing/test_accounts.h"

namespace usersync::io {
namespace {

using http_testing::AnnSpec;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(GotoCodec, EncodesACreateBatch) {
  core::AccountSpec ann = AnnSpec();
  ann.privileges = "MANAGE_USERS,RUN_REPORTS";  // a manager's adminRoles are its privileges
  core::AccountSpec bob;
  bob.user_name = bob.email = "bob@example.com";
  bob.first_name = "Bob";
  bob.last_name = "O\"Neil";
  // Products never go in a member: they are the batch's licenseKeys, numbers of any length.
  EXPECT_EQ(EncodeGotoCreateBatch({&ann, &bob}, false,
                                  {"7902142105473202101", "78888886011013972886849029"}),
            R"({"users":[{"email":"ann@example.com","firstName":"Ann","lastName":"Lee",)"
            R"("locale":"de_DE","adminRoles":["MANAGE_USERS","RUN_REPORTS"],)"
            R"("externalId":"dir-1","userGroup":"Sales","welcomeTemplate":"onboarding"},)"
            R"({"email":"bob@example.com","firstName":"Bob","lastName":"O\"Neil"}],)"
            R"("licenseKeys":[7902142105473202101,78888886011013972886849029],)"
            R"("suppressEmail":false})");
}

TEST(GotoCodec, UpdateWritesOnlyChangedFieldsGotoHolds) {
  core::AccountSpec spec = AnnSpec();
  spec.admin_role = "full";
  spec.language = "";
  spec.user_group = "";
  const std::vector<core::Change> changes = {
      {core::Field::kProducts, "G2M", "G2M,G2W"},  {core::Field::kAdminRole, "", "full"},
      {core::Field::kLanguage, "en_US", ""},       {core::Field::kUserGroup, "Ops", ""},
      {core::Field::kDisplayName, "A", "Ann Lee"}, {core::Field::kLastName, "L", "Lee"}};
  // A product change sends the full resolved license set (replace semantics).
  EXPECT_EQ(
      EncodeGotoUpdate(changes, spec, std::nullopt, {"7902142105473202101", "7902142105473202103"}),
      R"({"licenseKeys":[7902142105473202101,7902142105473202103],)"
      R"("adminRoles":["SUPER_USER"],"locale":null,)"
      R"("userGroup":null,"lastName":"Lee"})");
}

// admin_role and privileges both map to "adminRoles": written once, from the desired state;
// demoting to none writes [] (clears, GOTO_API_RESEARCH.md §4a).
TEST(GotoCodec, UpdateWritesAdminRolesOnce) {
  core::AccountSpec spec = AnnSpec();
  spec.privileges = "MANAGE_SEATS,RUN_REPORTS";
  EXPECT_EQ(EncodeGotoUpdate({{core::Field::kAdminRole, "full", "manager"},
                              {core::Field::kPrivileges, "", "MANAGE_SEATS,RUN_REPORTS"}},
                             spec, std::nullopt),
            R"({"adminRoles":["MANAGE_SEATS","RUN_REPORTS"]})");
  spec.admin_role = "";
  spec.privileges = "";
  EXPECT_EQ(EncodeGotoUpdate({{core::Field::kAdminRole, "manager", ""}}, spec, std::nullopt),
            R"({"adminRoles":[]})");
  // A role set is not part of the user body: the driver assigns it with its own requests.
  EXPECT_EQ(EncodeGotoUpdate({{core::Field::kRoleSet, "", "Helpdesk"}}, spec, std::nullopt), "");
}

TEST(GotoCodec, UpdateOfDisplayNameAloneSendsNothing) {
  EXPECT_EQ(EncodeGotoUpdate({{core::Field::kDisplayName, "A", "Ann Lee"}}, AnnSpec(), std::nullopt), "");
}

TEST(GotoCodec, StatusOverridesTheActiveChange) {
  EXPECT_EQ(EncodeGotoUpdate({}, AnnSpec(), false), R"({"status":"SUSPENDED"})");
  EXPECT_EQ(
      EncodeGotoUpdate({{core::Field::kActive, "false", "true"}, {core::Field::kFirstName, "A", "Ann"}}, AnnSpec(), true),
      R"({"firstName":"Ann","status":"ACTIVE"})");
  // user_name and email both map to "email": written once.
  EXPECT_EQ(
      EncodeGotoUpdate({{core::Field::kUserName, "a", "ann@example.com"}, {core::Field::kEmail, "a", "ann@example.com"}},
                       AnnSpec(), std::nullopt),
      R"({"email":"ann@example.com"})");
}

// adminRoles → admin_role and privileges (io/goto/goto_roles.h): SUPER_USER wins and keeps no
// privileges; otherwise the known system roles make a manager (unknown ones are not kept);
// roleSets ids (strings or numbers) make a manager too, kept as ids for the driver to name.
TEST(GotoCodec, DecodesAdminRolesAndRoleSets) {
  const std::string body = R"({"results": [
      {"key": "1", "email": "a@x.com", "adminRoles": ["MANAGE_USERS", "SUPER_USER"]},
      {"key": "2", "email": "b@x.com", "adminRoles": ["run_reports", "MANAGER", "MANAGE_USERS"]},
      {"key": "3", "email": "c@x.com", "adminRoles": [], "roleSets": [77, "12"]},
      {"key": "4", "email": "d@x.com", "adminRoles": ["SOMETHING_NEW"], "roleSets": []}]})";
  core::Accounts accounts;
  ASSERT_TRUE(DecodeGotoUserList(body, &accounts, nullptr).ok());
  ASSERT_EQ(accounts.items.size(), 4u);
  EXPECT_EQ(accounts.items[0].admin_role, "full");
  EXPECT_EQ(accounts.items[0].privileges, "");
  EXPECT_EQ(accounts.items[1].admin_role, "manager");
  EXPECT_EQ(accounts.items[1].privileges, "MANAGE_USERS,RUN_REPORTS");
  EXPECT_EQ(accounts.items[1].role_set, "");
  EXPECT_EQ(accounts.items[2].admin_role, "manager");
  EXPECT_EQ(accounts.items[2].privileges, "");
  EXPECT_EQ(accounts.items[2].role_set, "12,77");
  EXPECT_EQ(accounts.items[3].admin_role, "");
}

// usersync's own user fields (GOTO_SHAPES.md: not in the public material): a create member
// carries them when set, a PUT when changed ([] and null clear), a listing reads them back.
TEST(GotoCodec, DeviceGroupsAndSettingsTemplateGoAndComeBack) {
  core::AccountSpec spec;
  spec.user_name = spec.email = "ann@example.com";
  spec.first_name = "Ann";
  spec.last_name = "Lee";
  spec.device_groups = "Kiosks,Laptops";
  spec.settings_template = "Standard";
  EXPECT_EQ(EncodeGotoCreateBatch({&spec}, false),
            R"({"users":[{"email":"ann@example.com","firstName":"Ann","lastName":"Lee",)"
            R"("deviceGroups":["Kiosks","Laptops"],"settingsTemplate":"Standard"}],)"
            R"("suppressEmail":false})");
  spec.device_groups.clear();
  spec.settings_template.clear();
  const std::vector<core::Change> changes = {{core::Field::kDeviceGroups, "Kiosks", ""},
                                             {core::Field::kSettingsTemplate, "Standard", ""}};
  EXPECT_EQ(EncodeGotoUpdate(changes, spec, std::nullopt),
            R"({"deviceGroups":[],"settingsTemplate":null})");

  const std::string body = R"({"results": [
      {"key": "1", "email": "a@x.com", "deviceGroups": ["Laptops", "Kiosks"],
       "settingsTemplate": "Standard"},
      {"key": "2", "email": "b@x.com", "deviceGroups": [], "settingsTemplate": null},
      {"key": "3", "email": "c@x.com"}]})";
  core::Accounts accounts;
  ASSERT_TRUE(DecodeGotoUserList(body, &accounts, nullptr).ok());
  ASSERT_EQ(accounts.items.size(), 3u);
  EXPECT_EQ(accounts.items[0].device_groups, "Kiosks,Laptops");
  EXPECT_EQ(accounts.items[0].settings_template, "Standard");
  EXPECT_TRUE(accounts.items[1].Returned(core::Field::kDeviceGroups));
  EXPECT_TRUE(accounts.items[1].Returned(core::Field::kSettingsTemplate));
  EXPECT_EQ(accounts.items[1].device_groups, "");
  // An answer without them (GoTo's documented user, until confirmed): not compared.
  EXPECT_FALSE(accounts.items[2].Returned(core::Field::kDeviceGroups));
  EXPECT_FALSE(accounts.items[2].Returned(core::Field::kSettingsTemplate));
  EXPECT_TRUE(accounts.items[2].Returned(core::Field::kPrivileges));
}

TEST(GotoCodec, FilterQuotesTheValue) {
  EXPECT_EQ(GotoFilterEq("email", R"(a"b@x.com)"), R"(email eq "a\"b@x.com")");
}

TEST(GotoCodec, DecodesAUserListing) {
  const std::string body = R"({"results": [
      {"userKey": "k1", "email": "Ann@Example.com", "firstName": "Ann", "lastName": "Lee",
       "locale": "de_DE", "products": ["G2W", "G2M", "G2W"], "adminRoles": ["MANAGER", "SUPER_USER"],
       "status": "ACTIVE", "groupKey": "g1", "userGroup": "Sales", "externalId": "dir-1",
       "version": 3},
      {"userKey": 42, "email": "bob@example.com", "firstName": "Bob", "lastName": "Ray",
       "locale": null, "products": [], "adminRoles": [], "status": "SUSPENDED",
       "groupKey": null, "userGroup": null, "externalId": null, "version": 1}],
    "total": 7})";
  core::Accounts accounts;
  int64_t total = 0;
  ASSERT_TRUE(DecodeGotoUserList(body, &accounts, &total).ok());
  EXPECT_EQ(total, 7);
  ASSERT_EQ(accounts.items.size(), 2u);
  const core::Account& ann = accounts.items[0];
  EXPECT_EQ(ann.id, "k1");
  EXPECT_EQ(ann.email, "Ann@Example.com");
  EXPECT_EQ(ann.user_name, "Ann@Example.com");
  EXPECT_EQ(ann.display_name, "Ann Lee");
  EXPECT_EQ(ann.language, "de_DE");
  EXPECT_EQ(ann.products, "G2M,G2W");
  EXPECT_EQ(ann.admin_role, "full");
  EXPECT_EQ(ann.user_group, "Sales");
  EXPECT_EQ(ann.external_id, "dir-1");
  EXPECT_EQ(ann.version, "3");
  EXPECT_TRUE(ann.active);
  const core::Account& bob = accounts.items[1];
  EXPECT_EQ(bob.id, "42");
  EXPECT_EQ(bob.products, "");
  EXPECT_EQ(bob.admin_role, "");
  EXPECT_EQ(bob.user_group, "");
  EXPECT_FALSE(bob.active);
}

TEST(GotoCodec, ListingErrorsNameTheField) {
  core::Accounts accounts;
  int64_t total = 0;
  absl::Status status = DecodeGotoUserList(
      R"({"results": [{"userKey": "k1", "email": "a@x.com"}, {"email": "b@x.com"}], "total": 2})",
      &accounts, &total);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("results[1].key"));
  status = DecodeGotoUserList(R"({"results": [{"userKey": "k", "email": 5}]})", &accounts, &total);
  EXPECT_THAT(std::string(status.message()), HasSubstr("results[0].email"));
  EXPECT_EQ(DecodeGotoUserList(R"({"total": 0})", &accounts, &total).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeGotoUserList("not json", &accounts, &total).code(), absl::StatusCode::kDataLoss);
}

TEST(GotoCodec, DecodesBatchResults) {
  absl::StatusOr<std::vector<GotoMemberResult>> results = DecodeGotoBatchResults(R"({"results": [
      {"email": "a@x.com", "status": "created", "userKey": "k1"},
      {"email": "b@x.com", "status": "conflict", "errorCode": "USER_EXISTS", "userKey": "k0"},
      {"email": "c@x.com", "status": "error", "errorCode": "NO_SEAT", "product": "G2W"},
      {"email": "d@x.com", "status": "queued"}]})");
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[0].kind, GotoMemberResult::Kind::kCreated);
  EXPECT_EQ((*results)[0].user_key, "k1");
  EXPECT_EQ((*results)[1].kind, GotoMemberResult::Kind::kConflict);
  EXPECT_EQ((*results)[1].user_key, "k0");
  EXPECT_EQ((*results)[1].error_code, "USER_EXISTS");
  EXPECT_EQ((*results)[2].kind, GotoMemberResult::Kind::kError);
  EXPECT_EQ((*results)[2].product, "G2W");
  EXPECT_EQ((*results)[3].kind, GotoMemberResult::Kind::kUnknown);
  EXPECT_EQ(DecodeGotoBatchResults(R"({"errorCode": "X"})").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(GotoCodec, DecodesLicensesSkippingUnlimitedProducts) {
  absl::StatusOr<FreeSeatList> seats = DecodeGotoLicenses(R"({"results": [
      {"product": "G2M", "seats": null, "used": 3, "free": null},
      {"product": "G2W", "seats": 5, "used": 5, "free": 0},
      {"product": "OPENVOICE", "seats": 10, "used": 2, "free": 8}]})");
  ASSERT_TRUE(seats.ok()) << seats.status();
  EXPECT_THAT(*seats, ElementsAre(Pair("G2W", 0), Pair("OPENVOICE", 8)));
}

// §5a: a 19-digit key (kept as text, never through double), a multi-product license and an
// unlimited one (no "seats").
TEST(GotoCodec, DecodesTheLicenseCatalog) {
  absl::StatusOr<GotoLicenseCatalog> catalog = DecodeGotoLicenseCatalog(R"({"results": [
      {"key": 7902142105473202120, "description": "Meeting", "type": "x", "enabled": true,
       "seats": 50, "userCount": 48, "products": ["G2M"], "userKeys": [1, 2]},
      {"key": "7902142105473202121", "seats": 10, "userCount": 3, "products": ["G2M", "G2W"]},
      {"key": 78888886011013972886849029, "userCount": 7, "products": ["OPENVOICE"]}],
      "total": 3})");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ASSERT_EQ(catalog->licenses.size(), 3u);
  EXPECT_EQ(catalog->licenses[0].key, "7902142105473202120");
  EXPECT_EQ(catalog->licenses[1].key, "7902142105473202121");
  EXPECT_EQ(catalog->licenses[2].key, "78888886011013972886849029");
  EXPECT_FALSE(catalog->licenses[2].seats.has_value());
  EXPECT_THAT(catalog->Products(), ElementsAre("G2M", "G2W", "OPENVOICE"));
  // G2M resolves to the single-product license, G2W to the only one carrying it; OPENVOICE is
  // unlimited (left out).
  EXPECT_THAT(catalog->FreeSeats(), ElementsAre(Pair("G2M", 2), Pair("G2W", 7)));
  EXPECT_EQ(
      DecodeGotoLicenseCatalog(R"({"results":[{"key":1.5,"products":["G2M"]}]})").status().code(),
      absl::StatusCode::kDataLoss);
}

// The resolution rule: the license carrying the product with the fewest products; ties go to
// the first listed. A multi-product license then grants all of its products.
TEST(GotoCodec, ResolvesProductsToLicenseKeys) {
  GotoLicenseCatalog catalog;
  catalog.licenses = {{"30", {"G2M", "G2W"}, 10, 0},
                      {"10", {"G2M"}, std::nullopt, 0},
                      {"20", {"G2T", "G2W"}, std::nullopt, 0},
                      {"11", {"G2M"}, std::nullopt, 0}};
  EXPECT_EQ(catalog.Resolve("G2M")->key, "10");
  EXPECT_EQ(catalog.Resolve("G2W")->key, "30");  // tie of two: the first listed
  EXPECT_EQ(catalog.Resolve("GTM"), nullptr);
  absl::StatusOr<std::vector<std::string>> keys = catalog.KeysFor("G2M,G2W");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(*keys, ElementsAre("30", "10"));  // listing order
  keys = catalog.KeysFor("G2M,GTM");
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(keys.status().message()),
              ::testing::AllOf(HasSubstr("\"GTM\""), HasSubstr("G2M, G2T, G2W")));
}

TEST(GotoCodec, DecodesErrors) {
  GotoError error =
      DecodeGotoError(R"({"errorCode": "USER_EXISTS", "message": "taken", "userKey": "k9"})");
  EXPECT_EQ(error.code, "USER_EXISTS");
  EXPECT_EQ(error.message, "taken");
  EXPECT_EQ(error.user_key, "k9");
  EXPECT_EQ(DecodeGotoError("<html>").code, "");
}

}  // namespace
}  // namespace usersync::io
