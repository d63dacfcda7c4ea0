// The SCIM driver's listing against fake servers that page, refuse, repeat or lie: a listing
// is whole or an error (io/http/http_target.h), whatever the server does.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/testing/fake_target_server.h"
#include "io/scim/scim_target.h"

namespace usersync::io {
namespace {

using http_testing::FakeTargetServer;
using http_testing::FastPipeline;
using ::testing::HasSubstr;

constexpr char kScimPath[] = "/scim/v2";

std::unique_ptr<ScimTarget> StartTarget(const std::string& base_url, int page_size = 1000) {
  ScimTargetOptions options;
  options.base_url = base_url;
  options.pipeline = FastPipeline();
  options.page_size = page_size;
  auto target = ScimTarget::Start(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status();
  return std::move(target).value();
}

// A server capping the page size below ours: listing pages by what it really returns.
TEST(ScimTargetFake, ServerCappedPageSize) {
  FakeTargetServer fake;
  fake.server().Get("/scim/v2/Users", [](const httplib::Request& req, httplib::Response& res) {
    const int total = 23;
    const int start = std::stoi(req.get_param_value("startIndex"));
    const int count = std::min(5, std::stoi(req.get_param_value("count")));  // cap: 5
    std::string body = absl::StrCat(R"({"totalResults":)", total, R"(,"Resources":[)");
    for (int i = start; i < start + count && i <= total; ++i) {
      if (i > start) body += ",";
      absl::StrAppend(&body, R"({"id":"id-)", i, R"(","userName":"u)", i, R"(@x.com"})");
    }
    body += "]}";
    res.set_content(body, "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/100);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 23u);
  for (int i = 0; i < 23; ++i) EXPECT_EQ(accounts->items[i].id, absl::StrCat("id-", i + 1));
}

TEST(ScimTargetFake, ListingErrorNamesThePage) {
  FakeTargetServer fake;
  fake.server().Get("/scim/v2/Users", [](const httplib::Request& req, httplib::Response& res) {
    const int start = std::stoi(req.get_param_value("startIndex"));
    if (start == 3) {
      res.set_content(R"({"totalResults":4,"Resources":[{"id":"x"}]})", "application/scim+json");
      return;
    }
    res.set_content(absl::StrCat(R"({"totalResults":4,"Resources":[{"id":"id-)", start,
                                 R"(","userName":"u@x.com"},{"id":"id-)", start + 1,
                                 R"(","userName":"v@x.com"}]})"),
                    "application/scim+json");
  });
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("startIndex 3"));
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("Resources[0].userName"));
}

// --- A listing is whole or an error (never shorter, never deduplicated) ---------------------

// What the fake listing answers for one page: users id-N / uN@x.com for N in `ids`.
struct FakePage {
  int http_status = 200;
  int64_t total = 0;
  std::vector<int> ids;
};

// Serves GET /scim/v2/Users by `page(startIndex, count)`; counts the GETs in *gets if given.
void ServeListing(FakeTargetServer& fake, std::function<FakePage(int, int)> page,
                  std::atomic<int>* gets = nullptr) {
  fake.server().Get("/scim/v2/Users", [page = std::move(page), gets](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (gets != nullptr) ++*gets;
    const FakePage answer =
        page(std::stoi(req.get_param_value("startIndex")), std::stoi(req.get_param_value("count")));
    res.status = answer.http_status;
    if (answer.http_status != 200) {
      res.set_content(R"({"detail":"try later"})", "application/scim+json");
      return;
    }
    std::string body = absl::StrCat(R"({"totalResults":)", answer.total, R"(,"Resources":[)");
    for (size_t idx = 0; idx < answer.ids.size(); ++idx) {
      absl::StrAppend(&body, idx == 0 ? "" : ",", R"({"id":"id-)", answer.ids[idx],
                      R"(","userName":"u)", answer.ids[idx], R"(@x.com"})");
    }
    body += "]}";
    res.set_content(body, "application/scim+json");
  });
  fake.Start();
}

FakePage Page(int64_t total, std::vector<int> ids) {
  FakePage page;
  page.total = total;
  page.ids = std::move(ids);
  return page;
}

FakePage Refused() {
  FakePage page;
  page.http_status = 503;
  return page;
}

// An honest page of a listing of `total` users id-1..id-total.
FakePage HonestPage(int total, int start, int count) {
  FakePage page = Page(total, {});
  for (int id = start; id < start + count && id <= total; ++id) page.ids.push_back(id);
  return page;
}

// A page refused once (503, as usersync-target --fail-rate does) is retried; the listing stays
// whole and in order.
TEST(ScimTargetFake, ListingRetriesARefusedPageAndStaysWhole) {
  FakeTargetServer fake;
  std::atomic<int> refusals{0};
  ServeListing(fake, [&](int start, int count) {
    if (start == 5 && refusals++ == 0) return Refused();
    return HonestPage(10, start, count);
  });
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(accounts->items[i].id, absl::StrCat("id-", i + 1));
  EXPECT_EQ(refusals.load(), 2);
}

// A page refused until the retries run out fails the listing; it is not left out.
TEST(ScimTargetFake, ListingWithAPageRefusedForGoodIsUnavailable) {
  FakeTargetServer fake;
  ServeListing(fake, [](int start, int count) {
    if (start == 5) return Refused();
    return HonestPage(10, start, count);
  });
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("startIndex 5"));
}

// An empty page before the promised total used to end the listing 2 users short, silently.
TEST(ScimTargetFake, EmptyPageBeforeTheTotalIsDataLoss) {
  FakeTargetServer fake;
  ServeListing(fake, [](int start, int count) {
    if (start == 5) return Page(10, {});
    return HonestPage(10, start, count);
  });
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss)
      << (accounts.ok() ? absl::StrCat(accounts->items.size(), " accounts") : "");
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("startIndex 5"));
}

// A user deleted while the pages are read shifts every later page by one: one user would be
// skipped. The later pages' smaller total gives it away.
TEST(ScimTargetFake, TotalChangingWhileListedIsDataLoss) {
  FakeTargetServer fake;
  ServeListing(fake, [](int start, int count) {
    if (start < 5) return HonestPage(10, start, count);
    FakePage shifted = Page(9, {});  // id-3 is gone: startIndex 5 now holds id-6, id-7
    for (int id = start + 1; id < start + 1 + count && id <= 10; ++id) shifted.ids.push_back(id);
    return shifted;
  });
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(accounts.status().message()),
              HasSubstr("changed while they were listed"));
}

// A server ignoring startIndex answers the first page again and again: that used to be
// deduplicated into a 2-user listing of a 6-user target.
TEST(ScimTargetFake, RepeatedPageIsDataLoss) {
  FakeTargetServer fake;
  ServeListing(fake, [](int, int) { return Page(6, {1, 2}); });
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/2);
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss)
      << (accounts.ok() ? absl::StrCat(accounts->items.size(), " accounts") : "");
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("lists id id-1 again"));
}

TEST(ScimTargetFake, IdTwiceInOnePageIsDataLoss) {
  FakeTargetServer fake;
  ServeListing(fake, [](int, int) { return Page(2, {7, 7}); });
  auto target = StartTarget(fake.base(kScimPath));
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("lists id id-7 again"));
}

TEST(ScimTargetFake, MoreUsersThanTheTotalIsDataLoss) {
  FakeTargetServer fake;
  ServeListing(fake, [](int, int) { return Page(2, {1, 2, 3}); });
  auto target = StartTarget(fake.base(kScimPath));
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(accounts.status().message()),
              HasSubstr("hold 3 users but totalResults is 2"));
}

// Issue 12: totalResults 10^12 with one user per page queued a request per claimed page until
// memory ran out. Refused after the first page, nothing queued.
TEST(ScimTargetFake, ClaimedTotalAboveTheCapIsRefusedAfterOneRequest) {
  FakeTargetServer fake;
  std::atomic<int> gets{0};
  ServeListing(
      fake, [](int start, int) { return Page(1'000'000'000'000, {start}); }, &gets);
  auto target = StartTarget(fake.base(kScimPath));
  auto accounts = target->ListAccounts();
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(accounts.status().message()),
              HasSubstr("above the cap of 50000000 accounts (target.max_accounts)"));
  EXPECT_EQ(gets.load(), 1);
}

// A total under the cap with one user per page no longer queues a request per claimed page:
// only a window of pages is requested ahead of the answers.
TEST(ScimTargetFake, ListingRequestsAWindowOfPagesAhead) {
  FakeTargetServer fake;
  absl::Notification checked;
  ServeListing(fake, [&](int start, int) {
    if (start == 1) return Page(1'000'000, {1});
    checked.WaitForNotification();
    FakePage bad = Page(1'000'000, {});
    bad.http_status = 400;  // final: the listing fails and the window stops sliding
    return bad;
  });
  auto target = StartTarget(fake.base(kScimPath));
  absl::StatusOr<core::Accounts> accounts;
  std::thread lister([&] { accounts = target->ListAccounts(); });
  absl::SleepFor(absl::Milliseconds(200));
  const int64_t submitted = target->pipeline_stats().submitted;
  checked.Notify();
  lister.join();
  EXPECT_GT(submitted, 8);   // the window is opened (FastPipeline: 8 in flight)
  EXPECT_LE(submitted, 65);  // the first page + a window of 64
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LE(target->pipeline_stats().submitted, 65);
}

TEST(ScimTargetFake, MaxAccountsIsAnOption) {
  FakeTargetServer fake;
  ServeListing(fake, [](int start, int count) { return HonestPage(11, start, count); });
  for (const int64_t cap : {10, 11}) {
    ScimTargetOptions options;
    options.base_url = fake.base(kScimPath);
    options.pipeline = FastPipeline();
    options.max_accounts = cap;
    auto target = ScimTarget::Start(std::move(options));
    ASSERT_TRUE(target.ok()) << target.status();
    auto accounts = (*target)->ListAccounts();
    if (cap == 10) {
      EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss);
    } else {
      ASSERT_TRUE(accounts.ok()) << accounts.status();
      EXPECT_EQ(accounts->items.size(), 11u);
    }
  }
  ScimTargetOptions zero;
  zero.base_url = fake.base(kScimPath);
  zero.max_accounts = 0;
  EXPECT_EQ(ScimTarget::Start(std::move(zero)).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- User groups from the Group listing (Users without "groups") ----------------------------

// Three users that carry no "groups" attribute, on one page.
void ServeUsersWithoutGroups(FakeTargetServer& fake) {
  fake.server().Get("/scim/v2/Users", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"totalResults":3,"Resources":[{"id":"u1","userName":"a@x.com"},
        {"id":"u2","userName":"b@x.com"},{"id":"u3","userName":"c@x.com"}]})",
                    "application/scim+json");
  });
}

// One group a page: `pages[startIndex - 1]` is the Resources body, `total` the claimed total.
void ServeGroups(FakeTargetServer& fake, std::vector<std::string> pages, std::vector<int> totals) {
  fake.server().Get(
      "/scim/v2/Groups", [pages, totals](const httplib::Request& req, httplib::Response& res) {
        const size_t index = std::stoul(req.get_param_value("startIndex")) - 1;
        const std::string page = index < pages.size() ? pages[index] : "";
        const int total = totals[std::min(index, totals.size() - 1)];
        res.set_content(absl::StrCat(R"({"totalResults":)", total, R"(,"Resources":[)", page, "]}"),
                        "application/scim+json");
      });
}

// A user in two groups takes the first listed, as groups[0] would be; one in none keeps "".
TEST(ScimTargetFake, UserGroupsComeFromTheGroupListing) {
  FakeTargetServer fake;
  ServeUsersWithoutGroups(fake);
  ServeGroups(fake,
              {R"({"id":"g1","displayName":"Sales","members":[{"value":"u2"}]})",
               R"({"id":"g2","displayName":"Ops","members":[{"value":"u2"},{"value":"u3"}]})",
               R"({"id":"g3","displayName":"Empty"})"},
              {3});
  fake.Start();
  auto target = StartTarget(fake.base(kScimPath), /*page_size=*/1);
  auto accounts = target->ListAccounts();
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->items.size(), 3u);
  EXPECT_EQ(accounts->items[0].user_group, "");
  EXPECT_EQ(accounts->items[1].user_group, "Sales");
  EXPECT_EQ(accounts->items[2].user_group, "Ops");
}

// A Group listing is whole or an error, as the user listing is (kDataLoss naming the page).
TEST(ScimTargetFake, GroupListingThatLiesIsRefused) {
  const std::string g1 = R"({"id":"g1","displayName":"Sales","members":[{"value":"u1"}]})";
  const std::string g2 = R"({"id":"g2","displayName":"Ops"})";
  struct Case {
    std::vector<std::string> pages;
    std::vector<int> totals;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{g1, g1}, {2}, "group g1 listed twice"},
      {{g1, g2}, {2, 3}, "totalResults changed from 2 to 3"},
      {{g1, ""}, {2}, "an empty page before totalResults 2"},
      {{g1}, {100'000'001}, "above the limit"},
  };
  for (const Case& lie : cases) {
    FakeTargetServer fake;
    ServeUsersWithoutGroups(fake);
    ServeGroups(fake, lie.pages, lie.totals);
    fake.Start();
    auto target = StartTarget(fake.base(kScimPath), /*page_size=*/1);
    auto accounts = target->ListAccounts();
    EXPECT_EQ(accounts.status().code(), absl::StatusCode::kDataLoss) << lie.says;
    EXPECT_THAT(std::string(accounts.status().message()), HasSubstr(lie.says));
    EXPECT_THAT(std::string(accounts.status().message()), HasSubstr("GET /Groups page"));
  }
}

}  // namespace
}  // namespace usersync::io
