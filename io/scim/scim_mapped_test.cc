// The mapped attributes on the SCIM wire (io/scim/scim_attributes.h): written in a User (core
// ones at the top, name.* in name, the enterprise extension under its URN with the URN added
// to schemas), PATCHed by their path (RFC 7644 §3.5.2; "remove" when cleared), and read back
// from a listing, case-insensitively.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/scim/scim_attributes.h"
#include "io/scim/scim_codec.h"

namespace usersync::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// The URN as an absl::StrCat argument (this Abseil takes no std::string_view).
const std::string kUrn(kEnterpriseUserUrn);

const std::string kDepartment = absl::StrCat(kUrn, ":department");
const std::string kManager = absl::StrCat(kUrn, ":manager.value");
const std::string kOrganization = absl::StrCat(kUrn, ":organization");

core::AccountSpec Spec() {
  core::AccountSpec spec;
  spec.user_name = "ann@example.com";
  spec.first_name = "Ann";
  spec.last_name = "Lee";
  spec.attributes = {{"name.middleName", "M"}, {"nickName", ""},     {"title", "Engineer"},
                     {kDepartment, "Sales"},   {kManager, "boss-1"}, {kOrganization, "ACME"}};
  return spec;
}

TEST(ScimMapped, EncodeUserWritesEachInItsPlace) {
  const std::string body = EncodeUser(Spec());
  EXPECT_THAT(body, HasSubstr(absl::StrCat(R"("schemas":["urn:ietf:params:scim:schemas:core:2.0:)",
                                           R"(User",")", kUrn, "\"]")));
  EXPECT_THAT(body, HasSubstr(R"("name":{"givenName":"Ann","familyName":"Lee","middleName":"M"})"));
  EXPECT_THAT(body, HasSubstr(R"("title":"Engineer")"));
  EXPECT_THAT(body, Not(HasSubstr("nickName")));  // "" is absent
  EXPECT_THAT(body,
              HasSubstr(absl::StrCat("\"", kUrn, R"(":{"department":"Sales","manager":{"value":)",
                                     R"("boss-1"},"organization":"ACME"})")));
}

TEST(ScimMapped, NoEnterpriseValueNoExtensionSchema) {
  core::AccountSpec spec = Spec();
  spec.attributes = {{kDepartment, ""}, {"title", "Engineer"}};
  EXPECT_THAT(EncodeUser(spec), Not(HasSubstr(kUrn)));
}

TEST(ScimMapped, PatchUsesThePathAndRemovesWhenCleared) {
  const std::vector<core::Change> changes = {
      {core::Field::kAttribute, "Sales", "Marketing", kDepartment},
      {core::Field::kAttribute, "Engineer", "", "title"}};
  EXPECT_EQ(EncodePatch(changes, Spec()),
            absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)",
                         R"("Operations":[{"op":"replace","path":")", kDepartment,
                         R"(","value":"Marketing"},{"op":"remove","path":"title"}]})"));
}

TEST(ScimMapped, ListingReadsThemBack) {
  core::Accounts accounts;
  core::AccountSpec spec = Spec();
  std::string body = EncodeUser(spec);
  body.insert(1, R"("id":"7",)");
  ASSERT_TRUE(DecodeUser(body, &accounts).ok());
  ASSERT_EQ(accounts.items.size(), 1u);
  EXPECT_THAT(accounts.items[0].attributes,
              ElementsAre(Pair("name.middleName", "M"), Pair("title", "Engineer"),
                          Pair(kDepartment, "Sales"), Pair(kManager, "boss-1"),
                          Pair(kOrganization, "ACME")));
  // Names compare case-insensitively; null is absent; attributes usersync maps not are skipped.
  core::Accounts other;
  ASSERT_TRUE(DecodeUser(absl::StrCat(R"({"id":"8","userName":"b@x.com","TITLE":"Boss",)",
                                      R"("nickName":null,"phoneNumbers":[],")", kUrn,
                                      R"(":{"Department":"Ops","costcenter":"42"}})"),
                         &other)
                  .ok());
  EXPECT_THAT(other.items[0].attributes,
              ElementsAre(Pair("title", "Boss"), Pair(absl::StrCat(kUrn, ":costCenter"), "42"),
                          Pair(kDepartment, "Ops")));
}

}  // namespace
}  // namespace usersync::io
