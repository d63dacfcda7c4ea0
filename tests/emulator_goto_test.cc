// Integration tests of usersync-target's GoTo face (/admin/rest/v1), its seats and welcome
// email outbox, and the SCIM /Bulk endpoint: the real program on a loopback port, over real
// HTTP (tests/support). Each test starts its own emulator process.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

using Strings = std::vector<std::string>;

// One batch member: {"email", "firstName", "lastName"} plus `extra` JSON members.
std::string Member(const std::string& email, const std::string& extra = "") {
  return absl::StrCat(R"({"email":")", email, R"(","firstName":"Ann","lastName":"Lee")",
                      extra.empty() ? "" : ",", extra, "}");
}

// The default catalog's key of `product` (emulator_licenses.h): G2M ...101, G2T ...102,
// G2W ...103, OPENVOICE ...104.
std::string KeyOf(const std::string& product) {
  const Strings products = {"G2M", "G2T", "G2W", "OPENVOICE"};
  for (size_t index = 0; index < products.size(); ++index) {
    if (products[index] == product) return absl::StrCat(7902142105473202101u + index);
  }
  return "0";
}

// "licenseKeys":[...] for the licenses of `products` in the default catalog.
std::string LicenseKeys(const Strings& products) {
  Strings keys;
  for (const std::string& product : products) keys.push_back(KeyOf(product));
  return absl::StrCat(R"("licenseKeys":[)", absl::StrJoin(keys, ","), "]");
}

// A batch; `products` become its licenseKeys (the products are granted through licenses).
std::string Batch(const Strings& members, bool suppress_email = false,
                  const Strings& products = {}) {
  return absl::StrCat(R"({"users":[)", absl::StrJoin(members, ","), "],",
                      products.empty() ? "" : LicenseKeys(products) + ",", R"("suppressEmail":)",
                      suppress_email ? "true" : "false", "}");
}

std::string ScimUser(const std::string& user_name, const std::string& entitlement = "") {
  std::string body = absl::StrCat(R"({"userName":")", user_name,
                                  R"(","name":{"givenName":"Bo","familyName":"Ng"})");
  if (!entitlement.empty()) {
    absl::StrAppend(&body, R"(,"entitlements":[{"value":")", entitlement, R"("}])");
  }
  return body + "}";
}

class EmulatorGotoTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator =
        EmulatorProcess::Start(std::move(args));
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
  }

  // A URL under the account: Url("/users") → .../admin/rest/v1/accounts/demo/users.
  std::string Url(const std::string& path) const {
    return absl::StrCat(emulator_->base_url(), "/admin/rest/v1/accounts/demo", path);
  }
  std::string ScimUrl(const std::string& path) const { return emulator_->scim_url() + path; }
  const std::string& token() const { return emulator_->token(); }

  HttpResult Get(const std::string& path) const { return HttpGet(Url(path), token()); }
  HttpResult Put(const std::string& path, const std::string& body) const {
    return HttpPut(Url(path), token(), body);
  }
  HttpResult PostBatch(const Strings& members, bool suppress_email = false,
                       const Strings& products = {}) const {
    return HttpPost(Url("/users"), token(), Batch(members, suppress_email, products));
  }

  // Creates one user by a batch of one (holding the licenses of `products`); returns its key.
  std::string CreateUser(const std::string& email, const std::string& extra = "",
                         const Strings& products = {}) {
    HttpResult result = PostBatch({Member(email, extra)}, /*suppress_email=*/true, products);
    EXPECT_EQ(result.status, 201) << result.body;
    return Json(result.body).Str("/0/key");
  }

  int64_t UserCount() const { return Json(Get("/users?pageSize=0").body).Int("/total"); }

  Json Stats() const {
    HttpResult result = HttpGet(emulator_->base_url() + "/_emulator/stats", token());
    EXPECT_EQ(result.status, 200) << result.body;
    return Json(result.body);
  }

  // The license carrying `product` as "seats/userCount/free" (free = seats - userCount;
  // "null" for both when the license has no "seats": unlimited).
  std::string License(const std::string& product) const {
    Json licenses(Get("/licenses").body);
    for (int64_t index = 0; index < licenses.Size("/results"); ++index) {
      std::string at = absl::StrCat("/results/", index);
      const Strings products = licenses.Strings(at + "/products");
      if (std::find(products.begin(), products.end(), product) == products.end()) continue;
      const int64_t users = licenses.Int(at + "/userCount");
      if (!licenses.Has(at + "/seats")) return absl::StrCat("null/", users, "/null");
      const int64_t seats = licenses.Int(at + "/seats");
      return absl::StrCat(seats, "/", users, "/", std::max<int64_t>(0, seats - users));
    }
    return "<missing>";
  }

  std::unique_ptr<EmulatorProcess> emulator_;
};

TEST_F(EmulatorGotoTest, UserShapeListingPagingAndFilters) {
  Start();
  HttpResult first = PostBatch(
      {Member("Ann.Lee@example.com", R"("locale":"fr_FR",)"
                                     R"("adminRoles":["SUPER_USER"],"externalId":"dir-1",)"
                                     R"("userGroup":"Sales")")},
      false, {"G2M", "G2W", "G2M"});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string ann = Json(first.body).Str("/0/key");

  HttpResult got = Get("/users/" + ann);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.headers["content-type"], "application/json");
  Json user(got.body);
  EXPECT_EQ(user.Str("/key"), ann);
  EXPECT_EQ(user.Str("/email"), "Ann.Lee@example.com");
  EXPECT_EQ(user.Str("/firstName"), "Ann");
  EXPECT_EQ(user.Str("/lastName"), "Lee");
  EXPECT_EQ(user.Str("/locale"), "fr_FR");
  EXPECT_EQ(user.Strings("/products"), (Strings{"G2M", "G2W"}));
  EXPECT_EQ(user.Size("/licenseKeys"), 2);
  EXPECT_EQ(user.Strings("/adminRoles"), (Strings{"SUPER_USER"}));
  EXPECT_EQ(user.Str("/status"), "ACTIVE");
  EXPECT_EQ(user.Str("/userGroup"), "Sales");
  EXPECT_FALSE(user.IsNull("/groupKey"));
  EXPECT_EQ(user.Str("/externalId"), "dir-1");
  EXPECT_EQ(user.Int("/version"), 1);
  // The same store behind SCIM: the role is "full", the group a SCIM Group.
  Json scim(HttpGet(ScimUrl("/Users/" + ann), token()).body);
  EXPECT_EQ(scim.Str("/userName"), "Ann.Lee@example.com");
  EXPECT_EQ(scim.Str("/roles/0/value"), "full");
  EXPECT_EQ(scim.Str("/groups/0/display"), "Sales");

  // A user with only the required fields: the optional ones are null or empty.
  std::vector<std::string> members;
  for (int index = 0; index < 249; ++index) {
    members.push_back(Member(absl::StrCat("user", index, "@example.com"),
                             absl::StrCat(R"("externalId":"d)", index, R"(")")));
  }
  for (size_t begin = 0; begin < members.size(); begin += 100) {
    size_t end = std::min(members.size(), begin + 100);
    ASSERT_EQ(PostBatch(Strings(members.begin() + begin, members.begin() + end), true).status, 201);
  }
  Json plain(Get("/users?filter=" + UrlEncode(R"(email eq "user0@example.com")")).body);
  EXPECT_EQ(plain.Int("/total"), 1);
  EXPECT_TRUE(plain.IsNull("/results/0/locale"));
  EXPECT_TRUE(plain.IsNull("/results/0/groupKey"));
  EXPECT_TRUE(plain.IsNull("/results/0/userGroup"));
  EXPECT_EQ(plain.Size("/results/0/products"), 0);
  EXPECT_EQ(plain.Size("/results/0/adminRoles"), 0);

  // Pages cover every user once, in creation order.
  std::vector<std::string> emails;
  for (int offset = 0; offset < 250; offset += 100) {
    Json page(Get(absl::StrCat("/users?pageSize=100&offset=", offset)).body);
    EXPECT_EQ(page.Int("/total"), 250);
    EXPECT_EQ(page.Size("/results"), offset == 200 ? 50 : 100);
    for (int64_t item = 0; item < page.Size("/results"); ++item) {
      emails.push_back(page.Str(absl::StrCat("/results/", item, "/email")));
    }
  }
  ASSERT_EQ(emails.size(), 250u);
  EXPECT_EQ(emails[0], "Ann.Lee@example.com");
  EXPECT_EQ(emails[1], "user0@example.com");
  EXPECT_EQ(emails[249], "user248@example.com");
  EXPECT_EQ(std::set<std::string>(emails.begin(), emails.end()).size(), 250u);
  EXPECT_EQ(Json(Get("/users").body).Size("/results"), 100);  // default pageSize
  EXPECT_EQ(Json(Get("/users?pageSize=5000").body).Size("/results"), 250);
  EXPECT_EQ(Json(Get("/users?offset=300").body).Size("/results"), 0);
  EXPECT_EQ(Get("/users?pageSize=-1").status, 400);
  EXPECT_EQ(Get("/users?offset=ten").status, 400);

  // Filters: email (case-insensitive), key, externalId; anything else is 400.
  Json by_email(Get("/users?filter=" + UrlEncode(R"(email eq "ANN.lee@EXAMPLE.com")")).body);
  EXPECT_EQ(by_email.Int("/total"), 1);
  EXPECT_EQ(by_email.Str("/results/0/key"), ann);
  Json by_key(Get("/users?filter=" + UrlEncode("key eq \"" + ann + "\"")).body);
  EXPECT_EQ(by_key.Str("/results/0/email"), "Ann.Lee@example.com");
  Json by_external(Get("/users?filter=" + UrlEncode(R"(externalId eq "d7")")).body);
  EXPECT_EQ(by_external.Str("/results/0/email"), "user7@example.com");
  Json nobody(Get("/users?filter=" + UrlEncode(R"(email eq "nobody@example.com")")).body);
  EXPECT_EQ(nobody.Int("/total"), 0);
  EXPECT_EQ(nobody.Size("/results"), 0);
  for (const char* filter : {R"(firstName eq "Ann")", R"(email co "ann")", "email eq ann", ""}) {
    HttpResult bad = Get("/users?filter=" + UrlEncode(filter));
    EXPECT_EQ(bad.status, 400) << filter;
    EXPECT_EQ(Json(bad.body).Str("/errorCode"), "INVALID_FILTER") << filter;
  }
  // A space encoded as '+' is refused (GOTO_API_RESEARCH.md §2b); the same filter with %20
  // answers, and a '+' inside the value travels as %2B.
  HttpResult plus = Get("/users?pageSize=10&filter=email+eq+%22ann.lee%40example.com%22");
  EXPECT_EQ(plus.status, 400);
  EXPECT_EQ(Json(plus.body).Str("/errorCode"), "INVALID_FILTER");
  EXPECT_EQ(Json(Get("/users?filter=email%20eq%20%22ann.lee%40example.com%22").body).Int("/total"),
            1);
  EXPECT_EQ(Get("/users?filter=" + UrlEncode(R"(email eq "a+b@example.com")")).status, 200);

  // Other account keys, users and paths do not exist; the token is required.
  HttpResult other =
      HttpGet(absl::StrCat(emulator_->base_url(), "/admin/rest/v1/accounts/other/users"), token());
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(Json(other.body).Str("/errorCode"), "NOT_FOUND");
  EXPECT_EQ(Get("/users/no-such-key").status, 404);
  EXPECT_EQ(Get("/nothing").status, 404);
  EXPECT_EQ(Json(Get("").body).Str("/accountKey"), "demo");
  HttpResult anonymous = HttpGet(Url("/users"), "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(Json(anonymous.body).Str("/errorCode"), "UNAUTHORIZED");
}

// With --goto-member-status, every member's entry says what happened to it.
TEST_F(EmulatorGotoTest, BatchWithAnExistingEmailCreatesTheOthers) {
  Start({"--goto-member-status"});
  std::string carl = CreateUser("carl@example.com");
  ASSERT_FALSE(carl.empty());
  Strings batch = {Member("a@example.com"), Member("b@example.com"), Member("CARL@example.com"),
                   Member("d@example.com"), Member("e@example.com")};
  HttpResult result = PostBatch(batch);
  ASSERT_EQ(result.status, 409) << result.body;
  Json answer(result.body);
  ASSERT_EQ(answer.Size(""), 5);
  std::vector<std::string> keys;
  for (int index : {0, 1, 3, 4}) {
    std::string at = absl::StrCat("/", index);
    EXPECT_EQ(answer.Str(at + "/status"), "created") << index;
    keys.push_back(answer.Str(at + "/key"));
  }
  EXPECT_EQ(answer.Str("/0/email"), "a@example.com");
  EXPECT_EQ(answer.Str("/2/email"), "CARL@example.com");
  EXPECT_EQ(answer.Str("/2/status"), "conflict");
  EXPECT_EQ(answer.Str("/2/errorCode"), "USER_EXISTS");
  EXPECT_EQ(answer.Str("/2/key"), carl);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 4u);
  EXPECT_EQ(UserCount(), 5);

  // Sending the same batch again creates nobody twice: every member names its account.
  Json again(PostBatch(batch).body);
  for (int index = 0; index < 5; ++index) {
    EXPECT_EQ(again.Str(absl::StrCat("/", index, "/status")), "conflict");
  }
  EXPECT_EQ(again.Str("/0/key"), keys[0]);
  EXPECT_EQ(again.Str("/4/key"), keys[3]);
  EXPECT_EQ(UserCount(), 5);

  // Twice the same email in one batch: the second conflicts with the first's new account.
  Json twice(PostBatch({Member("f@example.com"), Member("F@example.com")}).body);
  EXPECT_EQ(twice.Str("/0/status"), "created");
  EXPECT_EQ(twice.Str("/1/status"), "conflict");
  EXPECT_EQ(twice.Str("/1/key"), twice.Str("/0/key"));
  EXPECT_EQ(UserCount(), 6);

  Json stats = Stats();
  EXPECT_EQ(stats.Int("/batch_creates"), 4);
  EXPECT_EQ(stats.Int("/batch_members"), 13);
  EXPECT_EQ(stats.Int("/creates"), 6);
  EXPECT_EQ(stats.Int("/create_conflicts"), 7);
}

TEST_F(EmulatorGotoTest, MalformedBatchesCreateNothing) {
  Start();
  Strings too_many;
  for (int index = 0; index < 1001; ++index) {
    too_many.push_back(Member(absl::StrCat("u", index, "@example.com")));
  }
  const std::vector<std::string> bodies = {
      Batch(too_many),
      Batch({}),
      Batch({Member("a@example.com"), R"({"email":"b@example.com","firstName":"B"})"}),
      Batch({Member("a@example.com"), Member("not-an-email")}),
      Batch({Member("a@example.com", R"("adminRoles":["OWNER"])")}),
      Batch({Member("a@example.com", R"("products":"G2M")")}),
      R"({"users":[{"email":"a@example.com","firstName":"A","lastName":"B"}],"suppressEmail":1})",
      R"({"members":[]})",
      "{not json"};
  for (const std::string& body : bodies) {
    HttpResult result = HttpPost(Url("/users"), token(), body);
    EXPECT_EQ(result.status, 400) << body.substr(0, 80);
    EXPECT_EQ(Json(result.body).Str("/errorCode"), "INVALID_REQUEST") << body.substr(0, 80);
  }
  HttpResult missing = HttpPost(Url("/users"), token(), bodies[2]);
  EXPECT_NE(Json(missing.body).Str("/message").find("users[1].lastName"), std::string::npos)
      << missing.body;
  EXPECT_EQ(UserCount(), 0);
  EXPECT_EQ(Stats().Int("/batch_creates"), 0);
}

// The license catalog (--license) in GoTo's documented /licenses shape (§5a): keys are JSON
// numbers of 19 digits, an unlimited license has no "seats". Products come only from licenses.
TEST_F(EmulatorGotoTest, LicensesGrantProductsOnCreateAndPut) {
  Start({"--license", "7902142105473202120=G2M:2", "--license", "7902142105473202121=G2M+G2W",
         "--goto-member-status"});
  HttpResult listed = Get("/licenses");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find(R"("key":7902142105473202120,)"), std::string::npos) << listed.body;
  Json licenses(listed.body);
  EXPECT_EQ(licenses.Int("/total"), 2);
  EXPECT_EQ(licenses.Int("/results/0/seats"), 2);
  EXPECT_EQ(licenses.Int("/results/0/userCount"), 0);
  EXPECT_EQ(licenses.Bool("/results/0/enabled"), 1);
  EXPECT_EQ(licenses.Strings("/results/0/products"), (Strings{"G2M"}));
  EXPECT_FALSE(licenses.Has("/results/1/seats"));  // unlimited
  EXPECT_EQ(licenses.Strings("/results/1/products"), (Strings{"G2M", "G2W"}));

  // A key given as a string works too; a multi-product license grants all its products.
  HttpResult both = HttpPost(
      Url("/users"), token(),
      R"({"users":[)" + Member("ann@example.com") + R"(],"licenseKeys":["7902142105473202121"]})");
  ASSERT_EQ(both.status, 201) << both.body;
  const std::string ann = Json(both.body).Str("/0/key");
  EXPECT_EQ(Json(Get("/users/" + ann).body).Strings("/products"), (Strings{"G2M", "G2W"}));

  // PUT licenseKeys replaces the user's licenses (INFERRED, §5b).
  HttpResult put = Put("/users/" + ann, R"({"licenseKeys":[7902142105473202120]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(put.body.find(R"("licenseKeys":[7902142105473202120])"), std::string::npos) << put.body;
  EXPECT_EQ(Json(put.body).Strings("/products"), (Strings{"G2M"}));
  EXPECT_EQ(License("G2M"), "2/1/1");

  // Refusals: a member or PUT "products", an unknown key; nothing is created or changed.
  HttpResult member_products =
      PostBatch({Member("bob@example.com"), Member("cy@example.com", R"("products":["G2M"])")});
  EXPECT_EQ(member_products.status, 400);
  EXPECT_NE(Json(member_products.body).Str("/message").find("users[1].products"), std::string::npos)
      << member_products.body;
  EXPECT_NE(member_products.body.find("licenseKeys"), std::string::npos);
  HttpResult unknown =
      HttpPost(Url("/users"), token(),
               R"({"users":[)" + Member("bob@example.com") +
                   R"(],"licenseKeys":[7902142105473202120,7902142105473202199]})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Json(unknown.body).Str("/errorCode"), "INVALID_REQUEST");
  EXPECT_NE(Json(unknown.body).Str("/message").find("licenseKeys[1]"), std::string::npos)
      << unknown.body;
  EXPECT_EQ(UserCount(), 1);
  HttpResult put_products = Put("/users/" + ann, R"({"products":["G2W"]})");
  EXPECT_EQ(put_products.status, 400);
  EXPECT_NE(Json(put_products.body).Str("/message").find("products"), std::string::npos);
  HttpResult put_unknown = Put("/users/" + ann, R"({"licenseKeys":[1]})");
  EXPECT_EQ(put_unknown.status, 400) << put_unknown.body;
  EXPECT_EQ(Json(Get("/users/" + ann).body).Int("/version"), 2);

  // The license's seats hold: 2 G2M seats, then NO_SEAT.
  HttpResult seats = PostBatch({Member("d@example.com"), Member("e@example.com")}, true);
  ASSERT_EQ(seats.status, 201) << seats.body;  // no licenses: no seats used
  HttpResult full =
      HttpPost(Url("/users"), token(),
               R"({"users":[)" + Member("f@example.com") + "," + Member("g@example.com") +
                   R"(],"licenseKeys":[7902142105473202120]})");
  EXPECT_EQ(full.status, 409) << full.body;
  EXPECT_EQ(Json(full.body).Str("/1/errorCode"), "NO_SEAT");
  EXPECT_EQ(License("G2M"), "2/2/0");
}

TEST_F(EmulatorGotoTest, SeatsRunOutMidBatch) {
  Start({"--seats", "G2W=3", "--goto-member-status"});
  EXPECT_EQ(License("G2W"), "3/0/3");
  EXPECT_EQ(License("G2M"), "null/0/null");  // no --seats: unlimited
  EXPECT_EQ(License("OPENVOICE"), "null/0/null");

  Strings batch;
  for (int index = 0; index < 5; ++index) {
    batch.push_back(Member(absl::StrCat("w", index, "@example.com")));
  }
  HttpResult result = PostBatch(batch, false, {"G2M", "G2W"});
  ASSERT_EQ(result.status, 409) << result.body;
  Json answer(result.body);
  for (int index = 0; index < 3; ++index) {
    EXPECT_EQ(answer.Str(absl::StrCat("/", index, "/status")), "created");
  }
  for (int index = 3; index < 5; ++index) {
    std::string at = absl::StrCat("/", index);
    EXPECT_EQ(answer.Str(at + "/status"), "error");
    EXPECT_EQ(answer.Str(at + "/errorCode"), "NO_SEAT");
    EXPECT_EQ(answer.Str(at + "/product"), "G2W");
    EXPECT_FALSE(answer.Has(at + "/key"));
  }
  EXPECT_EQ(UserCount(), 3);
  EXPECT_EQ(License("G2W"), "3/3/0");
  EXPECT_EQ(License("G2M"), "null/3/null");
  // A user wanting no limited product is still created.
  EXPECT_FALSE(CreateUser("plain@example.com", "", {"G2M"}).empty());

  // SCIM respects the same seats: 409 "NO_SEAT: ..." for the entitlement, nothing created.
  HttpResult scim = HttpPost(ScimUrl("/Users"), token(), ScimUser("s@example.com", "G2W"));
  EXPECT_EQ(scim.status, 409) << scim.body;
  EXPECT_EQ(Json(scim.body).Str("/detail").rfind("NO_SEAT: ", 0), 0u) << scim.body;
  EXPECT_FALSE(Json(scim.body).Has("/scimType"));
  HttpResult scim_user = HttpPost(ScimUrl("/Users"), token(), ScimUser("s@example.com", "G2M"));
  ASSERT_EQ(scim_user.status, 201);
  HttpResult patched =
      HttpPatch(ScimUrl("/Users/" + Json(scim_user.body).Str("/id")), token(),
                R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)"
                R"([{"op":"add","path":"entitlements","value":[{"value":"G2W"}]}]})");
  EXPECT_EQ(patched.status, 409) << patched.body;
  EXPECT_EQ(License("G2W"), "3/3/0");
  EXPECT_EQ(Stats().Int("/seat_denials"), 4);
}

// By default the answer is GoTo's documented one (GOTO_API_RESEARCH.md §3a): {key, email} only,
// an existing user listed like a created one, a member refused for a seat left out.
TEST_F(EmulatorGotoTest, DefaultAnswerIsTheDocumentedBareArray) {
  Start({"--seats", "G2W=1"});
  const std::string carl = CreateUser("carl@example.com");
  ASSERT_FALSE(carl.empty());
  HttpResult result = PostBatch(
      {Member("a@example.com"), Member("CARL@example.com"), Member("b@example.com")},
      /*suppress_email=*/false, {"G2W"});
  ASSERT_EQ(result.status, 409) << result.body;
  Json answer(result.body);
  ASSERT_EQ(answer.Size(""), 2) << result.body;  // b@ had no seat: absent
  EXPECT_EQ(answer.Str("/0/email"), "a@example.com");
  EXPECT_FALSE(answer.Str("/0/key").empty());
  EXPECT_EQ(answer.Str("/1/email"), "CARL@example.com");
  EXPECT_EQ(answer.Str("/1/key"), carl);
  for (const char* field : {"status", "errorCode", "product", "message"}) {
    EXPECT_FALSE(answer.Has(absl::StrCat("/0/", field))) << field;
    EXPECT_FALSE(answer.Has(absl::StrCat("/1/", field))) << field;
  }
  EXPECT_EQ(UserCount(), 2);
  Json stats = Stats();
  EXPECT_EQ(stats.Int("/create_conflicts"), 1);
  EXPECT_EQ(stats.Int("/seat_denials"), 1);
}

// Concurrent batches never hand out more seats than there are.
TEST_F(EmulatorGotoTest, ConcurrentBatchesRespectSeats) {
  Start({"--seats", "G2W=25", "--goto-member-status"});
  constexpr int kThreads = 4;
  constexpr int kPerBatch = 10;
  std::vector<int> created(kThreads, 0);
  std::vector<int> denied(kThreads, 0);
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      Strings batch;
      for (int item = 0; item < kPerBatch; ++item) {
        batch.push_back(Member(absl::StrCat("t", thread_idx, "-", item, "@example.com")));
      }
      Json answer(PostBatch(batch, true, {"G2W"}).body);
      for (int item = 0; item < kPerBatch; ++item) {
        std::string status = answer.Str(absl::StrCat("/", item, "/status"));
        if (status == "created") ++created[thread_idx];
        if (status == "error") ++denied[thread_idx];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int total_created = 0;
  int total_denied = 0;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    total_created += created[thread_idx];
    total_denied += denied[thread_idx];
  }
  EXPECT_EQ(total_created, 25);
  EXPECT_EQ(total_denied, 15);
  EXPECT_EQ(License("G2W"), "25/25/0");
  EXPECT_EQ(UserCount(), 25);
}

// Seats are counted from the users a --db holds; seeds beyond the seats refuse to start.
TEST_F(EmulatorGotoTest, SeatsCountLoadedAndSeededUsers) {
  std::string db = ::testing::TempDir() + "/emulator_goto_seats.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  Start({"--db", db, "--seats", "G2W=2"});
  EXPECT_FALSE(CreateUser("a@example.com", "", {"G2W"}).empty());
  EXPECT_FALSE(CreateUser("b@example.com", "", {"G2W"}).empty());
  emulator_->process().Signal(SIGTERM);
  EXPECT_EQ(emulator_->process().Wait(), 0);

  Start({"--db", db, "--seats", "G2W=2", "--goto-member-status"});
  EXPECT_EQ(License("G2W"), "2/2/0");
  Json denied(PostBatch({Member("c@example.com")}, false, {"G2W"}).body);
  EXPECT_EQ(denied.Str("/0/errorCode"), "NO_SEAT");

  std::string seed = ::testing::TempDir() + "/emulator_goto_seats.jsonl";
  {
    std::ofstream out(seed, std::ios::trunc);
    for (int index = 0; index < 3; ++index)
      out << ScimUser(absl::StrCat("s", index, "@x.com"), "G2W") << "\n";
  }
  ProcessResult result = RunProcess(
      {USERSYNC_TARGET_BINARY, "--port", "0", "--seats", "G2W=2", "--seed-accounts", seed}, {}, "",
      std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(seed + ":3:"), std::string::npos) << result.err;
}

TEST_F(EmulatorGotoTest, PutSuspendsReactivatesAndChangesProductsWithinSeats) {
  Start({"--seats", "G2W=1"});
  std::string ann = CreateUser("ann@example.com", "", {"G2M"});
  std::string bob = CreateUser("bob@example.com", "", {"G2M", "G2W"});
  EXPECT_EQ(License("G2W"), "1/1/0");

  // No free G2W seat: refused, nothing changes.
  HttpResult denied =
      Put("/users/" + ann,
          R"({"licenseKeys":[7902142105473202101,7902142105473202103],"firstName":"Annie"})");
  EXPECT_EQ(denied.status, 409) << denied.body;
  EXPECT_EQ(Json(denied.body).Str("/errorCode"), "NO_SEAT");
  EXPECT_EQ(Json(denied.body).Str("/product"), "G2W");
  Json unchanged(Get("/users/" + ann).body);
  EXPECT_EQ(unchanged.Str("/firstName"), "Ann");
  EXPECT_EQ(unchanged.Int("/version"), 1);

  // Suspending bob frees his seat; he keeps his products.
  HttpResult suspended = Put("/users/" + bob, R"({"status":"SUSPENDED"})");
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(Json(suspended.body).Str("/status"), "SUSPENDED");
  EXPECT_EQ(Json(suspended.body).Strings("/products"), (Strings{"G2M", "G2W"}));
  EXPECT_EQ(Json(suspended.body).Int("/version"), 2);
  EXPECT_EQ(Json(HttpGet(ScimUrl("/Users/" + bob), token()).body).Bool("/active"), 0);
  EXPECT_EQ(License("G2W"), "1/0/1");

  HttpResult granted =
      Put("/users/" + ann,
          R"({"licenseKeys":[7902142105473202101,7902142105473202103],"firstName":"Annie"})");
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(Json(granted.body).Strings("/products"), (Strings{"G2M", "G2W"}));
  EXPECT_EQ(Json(granted.body).Str("/firstName"), "Annie");
  EXPECT_EQ(Json(granted.body).Str("/lastName"), "Lee");  // absent fields are kept
  EXPECT_EQ(License("G2W"), "1/1/0");

  // Reactivating bob would take a G2W seat again: refused until he drops G2W.
  HttpResult reactivate = Put("/users/" + bob, R"({"status":"ACTIVE"})");
  EXPECT_EQ(reactivate.status, 409) << reactivate.body;
  EXPECT_EQ(Json(reactivate.body).Str("/errorCode"), "NO_SEAT");
  HttpResult reactivated =
      Put("/users/" + bob, R"({"status":"ACTIVE","licenseKeys":[7902142105473202101]})");
  ASSERT_EQ(reactivated.status, 200) << reactivated.body;
  EXPECT_EQ(Json(reactivated.body).Str("/status"), "ACTIVE");
  EXPECT_EQ(License("G2W"), "1/1/0");

  // Roles, locale, user group (created on demand), external id; null clears.
  // adminRoles: GoTo's system roles (io/goto/goto_roles.h), any case, kept as given.
  HttpResult changed = Put("/users/" + bob, R"({"adminRoles":["run_reports","MANAGE_USERS"],
                          "locale":"de_DE","userGroup":"Sales","externalId":"dir-9"})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  Json bob_user(changed.body);
  EXPECT_EQ(bob_user.Strings("/adminRoles"), (Strings{"RUN_REPORTS", "MANAGE_USERS"}));
  HttpResult unknown_role = Put("/users/" + bob, R"({"adminRoles":["MANAGER"]})");
  EXPECT_EQ(unknown_role.status, 400) << unknown_role.body;
  EXPECT_EQ(Json(unknown_role.body).Str("/errorCode"), "INVALID_REQUEST");
  EXPECT_EQ(Json(Put("/users/" + bob, R"({"adminRoles":[]})").body).Size("/adminRoles"), 0);
  EXPECT_EQ(bob_user.Str("/locale"), "de_DE");
  EXPECT_EQ(bob_user.Str("/userGroup"), "Sales");
  EXPECT_EQ(bob_user.Str("/externalId"), "dir-9");
  Json groups(Get("/groups").body);
  ASSERT_EQ(groups.Size("/results"), 1);
  EXPECT_EQ(groups.Str("/results/0/name"), "Sales");
  EXPECT_EQ(groups.Str("/results/0/groupKey"), bob_user.Str("/groupKey"));
  EXPECT_EQ(groups.Int("/results/0/userCount"), 1);
  HttpResult moved = Put("/users/" + bob, R"({"userGroup":"Support"})");
  EXPECT_EQ(Json(moved.body).Str("/userGroup"), "Support");
  Json after_move(Get("/groups").body);
  EXPECT_EQ(after_move.Int("/results/0/userCount"), 0);
  EXPECT_EQ(after_move.Int("/results/1/userCount"), 1);
  HttpResult cleared = Put("/users/" + bob, R"({"userGroup":null,"locale":null})");
  EXPECT_TRUE(Json(cleared.body).IsNull("/userGroup"));
  EXPECT_TRUE(Json(cleared.body).IsNull("/locale"));

  // Groups can be created ahead; a taken name conflicts.
  HttpResult group = HttpPost(Url("/groups"), token(), R"({"name":"Finance"})");
  EXPECT_EQ(group.status, 201) << group.body;
  EXPECT_EQ(Json(group.body).Int("/userCount"), 0);
  HttpResult taken = HttpPost(Url("/groups"), token(), R"({"name":"finance"})");
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(Json(taken.body).Str("/errorCode"), "GROUP_EXISTS");
  EXPECT_EQ(Json(taken.body).Str("/groupKey"), Json(group.body).Str("/groupKey"));

  // Errors: a taken email, an unknown user, a stale version, bad values.
  HttpResult taken_email = Put("/users/" + bob, R"({"email":"ANN@example.com"})");
  EXPECT_EQ(taken_email.status, 409);
  EXPECT_EQ(Json(taken_email.body).Str("/errorCode"), "USER_EXISTS");
  EXPECT_EQ(Json(taken_email.body).Str("/userKey"), ann);
  EXPECT_EQ(Put("/users/nobody", R"({"status":"SUSPENDED"})").status, 404);
  HttpResult stale = HttpRequest("PUT", Url("/users/" + ann), token(), R"({"lastName":"X"})",
                                 {"If-Match: W/\"1\""});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(Json(stale.body).Str("/errorCode"), "VERSION_MISMATCH");
  EXPECT_EQ(Put("/users/" + ann, R"({"status":"GONE"})").status, 400);
  EXPECT_EQ(Put("/users/" + ann, R"({"firstName":""})").status, 400);
  EXPECT_EQ(Put("/users/" + ann, R"({"adminRoles":["ROOT"]})").status, 400);
  EXPECT_EQ(HttpDelete(Url("/users/" + ann), token()).status, 405);  // GoTo suspends

  // An email change renames the account (the SCIM userName too).
  HttpResult renamed = Put("/users/" + ann, R"({"email":"annie@example.com"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Json(HttpGet(ScimUrl("/Users/" + ann), token()).body).Str("/userName"),
            "annie@example.com");

  Json stats = Stats();
  EXPECT_EQ(stats.Int("/suspensions"), 1);
  EXPECT_EQ(stats.Int("/seat_denials"), 2);
}

TEST(EmulatorGotoRateLimitTest, GotoThrottlesWithoutRetryAfterWhileScimSendsIt) {
  // One token per 5 s, shared by both faces.
  absl::StatusOr<std::unique_ptr<EmulatorProcess>> started =
      EmulatorProcess::Start({"--rate", "0.2", "--burst", "1"});
  ASSERT_TRUE(started.ok()) << started.status();
  EmulatorProcess& emulator = **started;
  const std::string goto_url = emulator.base_url() + "/admin/rest/v1/accounts/demo/users";
  int throttled = 0;
  for (int request = 0; request < 3; ++request) {
    HttpResult result = HttpGet(goto_url, emulator.token());
    if (result.status != 429) continue;
    ++throttled;
    EXPECT_EQ(result.headers.count("retry-after"), 0u);
    EXPECT_EQ(Json(result.body).Str("/errorCode"), "TOO_MANY_REQUESTS");
  }
  EXPECT_GE(throttled, 2);
  HttpResult scim = HttpGet(emulator.scim_url() + "/Users", emulator.token());
  ASSERT_EQ(scim.status, 429);
  int seconds = 0;
  EXPECT_TRUE(absl::SimpleAtoi(scim.headers["retry-after"], &seconds))
      << scim.headers["retry-after"];
  EXPECT_GE(seconds, 1);
  // The emulator measured one admission per 5 s at most, over both faces.
  HttpResult stats = HttpGet(emulator.base_url() + "/_emulator/stats", emulator.token());
  ASSERT_EQ(stats.status, 200);
  absl::StatusOr<TargetStats> measured = ParseTargetStats(stats.body);
  ASSERT_TRUE(measured.ok()) << measured.status();
  EXPECT_EQ(measured->admitted, 3 - throttled);
  EXPECT_TRUE(measured->AdmittedWithin(0.2, 1));
}

TEST_F(EmulatorGotoTest, OutboxRecordsWelcomeEmails) {
  Start();
  ASSERT_EQ(
      PostBatch({Member("ann@example.com", R"("welcomeTemplate":"sales-welcome","locale":"fr_FR")"),
                 Member("bob@example.com")})
          .status,
      201);
  std::string outbox_url = emulator_->base_url() + "/_emulator/outbox";
  HttpResult outbox = HttpGet(outbox_url, token());
  ASSERT_EQ(outbox.status, 200) << outbox.body;
  Json entries(outbox.body);
  ASSERT_EQ(entries.Size("/results"), 2);
  EXPECT_EQ(entries.Str("/results/0/email"), "ann@example.com");
  EXPECT_EQ(entries.Str("/results/0/template"), "sales-welcome");
  EXPECT_EQ(entries.Str("/results/0/language"), "fr_FR");
  EXPECT_FALSE(entries.Str("/results/0/userKey").empty());
  EXPECT_NE(entries.Str("/results/0/time"), "<missing>");
  EXPECT_EQ(entries.Str("/results/1/email"), "bob@example.com");
  EXPECT_EQ(entries.Str("/results/1/template"), "default");
  EXPECT_EQ(entries.Str("/results/1/language"), "en_US");

  // None for suppressEmail, for members refused, or for SCIM creates.
  EXPECT_EQ(PostBatch({Member("carl@example.com", R"("welcomeTemplate":"x")")}, true).status, 201);
  EXPECT_EQ(PostBatch({Member("ann@example.com"), Member("dana@example.com")}).status, 409);
  EXPECT_EQ(HttpPost(ScimUrl("/Users"), token(), ScimUser("erin@example.com")).status, 201);
  Json after(HttpGet(outbox_url, token()).body);
  ASSERT_EQ(after.Size("/results"), 3);
  EXPECT_EQ(after.Str("/results/2/email"), "dana@example.com");
  EXPECT_EQ(Stats().Int("/welcome_emails"), 3);
  EXPECT_EQ(HttpGet(outbox_url, "").status, 401);
}

// SCIM /Bulk, with the same helpers.
using EmulatorBulkTest = EmulatorGotoTest;

std::string BulkBody(const Strings& operations, int fail_on_errors = 0) {
  std::string body =
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[)" +
      absl::StrJoin(operations, ",") + "]";
  if (fail_on_errors > 0) absl::StrAppend(&body, R"(,"failOnErrors":)", fail_on_errors);
  return body + "}";
}

std::string BulkPost(const std::string& bulk_id, const std::string& path, const std::string& data) {
  return absl::StrCat(R"({"method":"POST","bulkId":")", bulk_id, R"(","path":")", path,
                      R"(","data":)", data, "}");
}

TEST_F(EmulatorBulkTest, ScimBulkRunsEachOperation) {
  Start({"--seats", "G2W=5"});
  Json config(HttpGet(ScimUrl("/ServiceProviderConfig"), token()).body);
  EXPECT_EQ(config.Bool("/bulk/supported"), 1);
  EXPECT_EQ(config.Int("/bulk/maxOperations"), 1000);
  EXPECT_EQ(config.Int("/bulk/maxPayloadSize"), 1048576);

  HttpResult result =
      HttpPost(ScimUrl("/Bulk"), token(),
               BulkBody({BulkPost("u1", "/Users", ScimUser("ann@example.com", "G2W")),
                         BulkPost("u2", "/Users", ScimUser("bob@example.com")),
                         BulkPost("u3", "/Users", ScimUser("carl@example.com")),
                         BulkPost("u4", "/Users", ScimUser("ANN@example.com")),  // taken: 409
                         BulkPost("g1", "/Groups",
                                  R"({"displayName":"Sales","members":[{"value":"bulkId:u1"},)"
                                  R"({"value":"bulkId:u2"}]})"),
                         R"({"method":"PATCH","path":"/Users/bulkId:u3","data":{"schemas":)"
                         R"(["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)"
                         R"([{"op":"replace","path":"active","value":false}]}})",
                         R"({"method":"DELETE","path":"/Users/bulkId:u2"})",
                         BulkPost("u5", "/Users", ScimUser("dana@example.com")),
                         R"({"method":"DELETE","path":"/Users/bulkId:u4"})"}));
  ASSERT_EQ(result.status, 200) << result.body;
  Json bulk(result.body);
  EXPECT_EQ(bulk.Str("/schemas/0"), "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
  ASSERT_EQ(bulk.Size("/Operations"), 9);
  EXPECT_EQ((Strings{bulk.Str("/Operations/0/status"), bulk.Str("/Operations/1/status"),
                     bulk.Str("/Operations/2/status"), bulk.Str("/Operations/3/status"),
                     bulk.Str("/Operations/4/status"), bulk.Str("/Operations/5/status"),
                     bulk.Str("/Operations/6/status"), bulk.Str("/Operations/7/status"),
                     bulk.Str("/Operations/8/status")}),
            (Strings{"201", "201", "201", "409", "201", "200", "204", "201", "409"}));
  EXPECT_EQ(bulk.Str("/Operations/0/method"), "POST");
  EXPECT_EQ(bulk.Str("/Operations/0/bulkId"), "u1");
  std::string ann = bulk.Str("/Operations/0/response/id");
  EXPECT_EQ(bulk.Str("/Operations/0/location"), ScimUrl("/Users/" + ann));
  EXPECT_EQ(bulk.Str("/Operations/0/version"), "W/\"1\"");
  EXPECT_EQ(bulk.Str("/Operations/3/response/scimType"), "uniqueness");
  EXPECT_EQ(bulk.Str("/Operations/8/response/scimType"), "invalidValue");
  EXPECT_FALSE(bulk.Has("/Operations/6/response"));

  // The group holds ann (bob was deleted after); carl is inactive; dana exists.
  std::string group_id = bulk.Str("/Operations/4/response/id");
  Json group(HttpGet(ScimUrl("/Groups/" + group_id), token()).body);
  ASSERT_EQ(group.Size("/members"), 1);
  EXPECT_EQ(group.Str("/members/0/value"), ann);
  std::string carl = bulk.Str("/Operations/2/response/id");
  EXPECT_EQ(Json(HttpGet(ScimUrl("/Users/" + carl), token()).body).Bool("/active"), 0);
  Json users(HttpGet(ScimUrl("/Users?count=0"), token()).body);
  EXPECT_EQ(users.Int("/totalResults"), 3);  // ann, carl, dana
  EXPECT_EQ(License("G2W"), "5/1/4");

  // failOnErrors 1: processing stops after the first failure.
  HttpResult stopped = HttpPost(ScimUrl("/Bulk"), token(),
                                BulkBody({BulkPost("x1", "/Users", ScimUser("ann@example.com")),
                                          BulkPost("x2", "/Users", ScimUser("erin@example.com"))},
                                         /*fail_on_errors=*/1));
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(Json(stopped.body).Size("/Operations"), 1);
  EXPECT_EQ(Json(HttpGet(ScimUrl("/Users?count=0"), token()).body).Int("/totalResults"), 3);

  // Malformed requests and operations.
  EXPECT_EQ(HttpPost(ScimUrl("/Bulk"), token(), R"({"Operations":5})").status, 400);
  Json bad_ops(HttpPost(ScimUrl("/Bulk"), token(),
                        BulkBody({R"({"method":"GET","path":"/Users"})",
                                  R"({"method":"POST","path":"/Users","data":{"userName":"z"}})",
                                  BulkPost("b", "/Bulk", "{}")}))
                   .body);
  EXPECT_EQ(bad_ops.Str("/Operations/0/status"), "400");
  EXPECT_EQ(bad_ops.Str("/Operations/1/status"), "400");  // POST without a bulkId
  EXPECT_EQ(bad_ops.Str("/Operations/2/status"), "400");
  Strings too_many(1001, R"({"method":"DELETE","path":"/Users/x"})");
  EXPECT_EQ(HttpPost(ScimUrl("/Bulk"), token(), BulkBody(too_many)).status, 413);

  // Each bulk request is one request for the rate limit and the counters.
  Json stats = Stats();
  EXPECT_EQ(stats.Int("/bulk_requests"), 3);
  EXPECT_EQ(stats.Int("/bulk_operations"), 13);
}

TEST_F(EmulatorBulkTest, NoBulkFlagTurnsBulkOff) {
  Start({"--no-bulk"});
  Json config(HttpGet(ScimUrl("/ServiceProviderConfig"), token()).body);
  EXPECT_EQ(config.Bool("/bulk/supported"), 0);
  EXPECT_EQ(config.Int("/bulk/maxOperations"), 0);
  HttpResult bulk = HttpPost(ScimUrl("/Bulk"), token(),
                             BulkBody({BulkPost("u1", "/Users", ScimUser("ann@example.com"))}));
  EXPECT_EQ(bulk.status, 501);
  EXPECT_EQ(Json(HttpGet(ScimUrl("/Users?count=0"), token()).body).Int("/totalResults"), 0);
}

}  // namespace
}  // namespace usersync::testing
