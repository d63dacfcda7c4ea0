#include "io/goto/goto_target.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/check.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/goto/goto_codec.h"
#include "io/goto/goto_dialect.h"
#include "io/http/http_util.h"

namespace usersync::io {
namespace {

constexpr int kMaxBatch = 1000;  // GoTo takes 1 to 1000 users per batch

// The member index a 400 names ("users[3].email: ..."), or -1.
int64_t MemberIndexOf(std::string_view message) {
  const size_t at = message.find("users[");
  if (at == std::string_view::npos) return -1;
  const size_t begin = at + 6;
  const size_t end = message.find(']', begin);
  if (end == std::string_view::npos) return -1;
  int64_t index = -1;
  if (!absl::SimpleAtoi(Sv(message.substr(begin, end - begin)), &index)) return -1;
  return index;
}

// A 64-bit hash of `email` lower-cased (ASCII; GoTo compares emails case-insensitively).
// `scratch` is reused between calls.
uint64_t EmailHash(std::string_view email, std::string* scratch) {
  scratch->assign(email);
  for (char& c : *scratch) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return absl::Hash<std::string_view>{}(std::string_view(*scratch));
}

bool ChangesProducts(const core::Operation& op) {
  return std::any_of(op.changes.begin(), op.changes.end(), [](const core::Change& change) {
    return change.field == core::Field::kProducts;
  });
}

// The PUT body of an update, link or reactivation; without its products change when the target
// had no seat for them (`license_keys` then unused).
std::string UpdateBody(const core::Operation& op, const std::vector<std::string>& license_keys,
                       bool with_products) {
  const std::optional<bool> active =
      op.kind == core::OpKind::kReactivate ? std::optional<bool>(true) : std::nullopt;
  if (with_products) return EncodeGotoUpdate(op.changes, op.spec, active, license_keys);
  std::vector<core::Change> rest;
  std::copy_if(op.changes.begin(), op.changes.end(), std::back_inserter(rest),
               [](const core::Change& change) { return change.field != core::Field::kProducts; });
  return EncodeGotoUpdate(rest, op.spec, active);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GotoTarget>> GotoTarget::Start(GotoTargetOptions options) {
  USERSYNC_RETURN_IF_ERROR(
      ValidateOptions("GoTo", options.base_url, options.page_size, options.max_accounts));
  if (options.account_key.empty()) {
    return absl::InvalidArgumentError(
        "target.account_key is required for target.kind = \"goto\" (the GoTo account's key)");
  }
  if (options.batch < 1 || options.batch > kMaxBatch) {
    return absl::InvalidArgumentError(absl::StrCat("target.batch must be between 1 and ", kMaxBatch,
                                                   " for GoTo, got ", options.batch));
  }
  std::unique_ptr<GotoTarget> target(new GotoTarget(std::move(options)));
  USERSYNC_RETURN_IF_ERROR(target->StartPipeline(target->options_.pipeline));
  target->MakeQueue(static_cast<size_t>(target->options_.batch));
  return target;
}

GotoTarget::GotoTarget(GotoTargetOptions options)
    : HttpTarget(std::make_unique<GotoDialect>(options.base_url, options.account_key),
                 options.page_size, options.max_accounts),
      options_(std::move(options)),
      goto_(static_cast<const GotoDialect&>(dialect())) {}

GotoTarget::~GotoTarget() { Shutdown(); }

absl::StatusOr<core::Accounts> GotoTarget::ListAccounts() {
  USERSYNC_ASSIGN_OR_RETURN(core::Accounts accounts, ListWithRoleSets());
  std::vector<uint64_t> hashes;
  hashes.reserve(accounts.items.size());
  std::string scratch;
  for (const core::Account& account : accounts.items) {
    hashes.push_back(EmailHash(goto_.AccountValue(account), &scratch));
  }
  std::sort(hashes.begin(), hashes.end());
  absl::MutexLock lock(&listed_mu_);
  listed_ = true;
  listed_emails_ = std::move(hashes);
  claimed_emails_.clear();  // users created since are in the new listing
  return accounts;
}

bool GotoTarget::ClaimListedFree(const core::AccountSpec& spec) {
  std::string scratch;
  const uint64_t hash = EmailHash(GotoEmail(spec), &scratch);
  absl::MutexLock lock(&listed_mu_);
  if (!listed_ || std::binary_search(listed_emails_.begin(), listed_emails_.end(), hash)) {
    return false;
  }
  return claimed_emails_.insert(hash).second;
}

// --- Check and seats ------------------------------------------------------------------------

absl::Status GotoTarget::Check() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  USERSYNC_RETURN_IF_ERROR(CheckAccount());
  USERSYNC_RETURN_IF_ERROR(CheckListing(options_.page_size));
  return CheckRoleSets();
}

absl::Status GotoTarget::CheckAccount() {
  // GET /me is GoTo's documented way to the accounts of the token's user ([DOC]
  // GOTO_API_RESEARCH.md §1a); GET /accounts/{k} is not documented (§1e).
  HttpRequest request = Request("GET", "");
  request.url = absl::StrCat(Sv(goto_.base()), "/me");
  HttpResponse me = pipeline().Call(std::move(request));
  if (me.http_status == 401 || me.http_status == 403 || me.http_status == 404) {
    // Some tokens are not answered at /me (§1c): the listing checks the account key instead.
    AddFinding(absl::StrCat("account: ", goto_.account_key(), " (GET /me answered HTTP ",
                            me.http_status, "; the users listing checks the key)"));
    return absl::OkStatus();
  }
  if (!me.status.ok()) return ReachError(me);
  absl::StatusOr<std::vector<GotoAccountRef>> accounts = DecodeGotoMe(me.body);
  if (!accounts.ok()) return WithPrefix(accounts.status(), absl::StrCat("GET ", Sv(goto_.base()), "/me"));
  for (const GotoAccountRef& account : *accounts) {
    if (account.key != goto_.account_key()) continue;
    AddFinding(absl::StrCat("account: ", account.key,
                            account.name.empty() ? "" : absl::StrCat(" \"", account.name, "\""),
                            " (GET /me: the token's user belongs to ", accounts->size(),
                            accounts->size() == 1 ? " account)" : " accounts)"));
    return absl::OkStatus();
  }
  std::string known;
  for (size_t i = 0; i < accounts->size() && i < 10; ++i) {
    const GotoAccountRef& account = (*accounts)[i];
    absl::StrAppend(&known, i == 0 ? "" : ", ", account.key,
                    account.name.empty() ? "" : absl::StrCat(" (", account.name, ")"));
  }
  return absl::NotFoundError(absl::StrCat(
      "the GoTo target at ", Sv(goto_.base()), " has no account \"", goto_.account_key(),
      "\" for this token; check target.account_key: GET /me lists ", known,
      accounts->size() > 10 ? ", ..." : ""));
}

absl::StatusOr<GotoLicenseCatalog> GotoTarget::ReadCatalog() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  HttpResponse response = pipeline().Call(Request("GET", "/licenses"));
  if (!response.status.ok()) {
    return WithPrefix(ReachError(response), "reading the GoTo licenses");
  }
  absl::StatusOr<GotoLicenseCatalog> catalog = DecodeGotoLicenseCatalog(response.body);
  if (!catalog.ok()) {
    return WithPrefix(catalog.status(),
                      absl::StrCat("GET ", Sv(goto_.base()), goto_.account_path(), "/licenses"));
  }
  absl::MutexLock lock(&catalog_mu_);
  catalog_ = *catalog;
  return catalog;
}

absl::StatusOr<TargetOffer> GotoTarget::Offer() {
  USERSYNC_ASSIGN_OR_RETURN(GotoLicenseCatalog catalog, ReadCatalog());
  AddLicenseFindings(catalog);
  TargetOffer offer;
  offer.products = catalog.Products();
  offer.free_seats = catalog.FreeSeats();
  return offer;
}

void GotoTarget::AddLicenseFindings(const GotoLicenseCatalog& catalog) {
  constexpr size_t kShown = 20;  // a line each; an account with more is summarized
  AddFinding(absl::StrCat("licenses: ", catalog.licenses.size(), " (GET ",
                          goto_.account_path(), "/licenses)"));
  for (size_t i = 0; i < catalog.licenses.size() && i < kShown; ++i) {
    const GotoLicense& license = catalog.licenses[i];
    AddFinding(absl::StrCat(
        "  ", license.key.empty() ? std::string("(no key)") : license.key, " ",
        absl::StrJoin(license.products, "+"), ": ",
        license.seats.has_value() ? absl::StrCat(*license.seats, " seats, ") : "no seat count, ",
        license.user_count, " used"));
  }
  if (catalog.licenses.size() > kShown) {
    AddFinding(absl::StrCat("  ... and ", catalog.licenses.size() - kShown, " more"));
  }
}

absl::StatusOr<std::vector<std::string>> GotoTarget::LicenseKeys(std::string_view products,
                                                                 bool may_read) {
  {
    absl::MutexLock lock(&catalog_mu_);
    if (catalog_.has_value()) return catalog_->KeysFor(products);
  }
  if (!may_read) return absl::InternalError("the GoTo licenses were not read before a create");
  USERSYNC_ASSIGN_OR_RETURN(GotoLicenseCatalog catalog, ReadCatalog());
  return catalog.KeysFor(products);
}

// --- Operations -----------------------------------------------------------------------------

void GotoTarget::Execute(const core::Operation& op, std::function<void(OpOutcome)> done) {
  auto state = std::make_shared<HttpOp>();
  state->op = &op;
  state->done = std::move(done);
  state->outcome.account_id = op.account_id;
  if (op.kind != core::OpKind::kCreate && op.account_id.empty()) {
    Finish(std::move(state), absl::InvalidArgumentError("the operation names no account id"));
    return;
  }
  // Products are granted through licenses: resolve them now, on the run's thread, so a
  // product no license carries fails here and the catalog is there for the batch sends.
  std::vector<std::string> license_keys;
  if ((op.kind == core::OpKind::kCreate && !op.spec.products.empty()) || ChangesProducts(op)) {
    absl::StatusOr<std::vector<std::string>> keys =
        LicenseKeys(op.spec.products, /*may_read=*/true);
    if (!keys.ok()) {
      Finish(std::move(state), keys.status());
      return;
    }
    license_keys = *std::move(keys);
  }
  switch (op.kind) {
    case core::OpKind::kCreate:
      queue()->Add(std::move(state));
      return;
    case core::OpKind::kUpdate:
    case core::OpKind::kLink:
    case core::OpKind::kReactivate:
      Put(state, UpdateBody(op, license_keys, /*with_products=*/true));
      return;
    case core::OpKind::kDeactivate:
      Put(state, EncodeGotoUpdate({}, op.spec, false));
      return;
    case core::OpKind::kDelete:
      Finish(std::move(state),
             absl::UnimplementedError(
                 "GoTo users cannot be deleted: the GoTo admin API offers suspension only; set "
                 "[deprovision] action = \"deactivate\" (suspend) for target.kind = \"goto\""));
      return;
  }
  Finish(std::move(state), absl::InvalidArgumentError("unknown operation kind"));
}

void GotoTarget::Put(HttpOpPtr state, std::string body) {
  if (body.empty()) {  // nothing GoTo holds changed (e.g. display_name only)
    AfterUser(std::move(state));
    return;
  }
  const std::string path = absl::StrCat("/users/", UrlEncode(state->op->account_id));
  pipeline().Submit(Request("PUT", path, std::move(body)), [this, state](HttpResponse response) {
    state->Count(response);
    if (response.status.ok()) {
      AfterUser(state);
      return;
    }
    const GotoError error = DecodeGotoError(response.body);
    if (response.http_status == 409 && error.code == "NO_SEAT") {
      absl::Status no_seat = absl::ResourceExhaustedError(
          absl::StrCat("no seat for ", error.product.empty() ? "a product" : error.product,
                       " at the target (", Enrich(response).message(), ")"));
      if (ChangesProducts(*state->op) && state->products_refused.ok()) {
        // The rest of the update goes through without the products (PUT replaces only the
        // fields present); the refusal is the outcome once the rest is done.
        state->products_refused = absl::ResourceExhaustedError(
            absl::StrCat(no_seat.message(), "; the other changes were applied"));
        Put(state, UpdateBody(*state->op, {}, /*with_products=*/false));
        return;
      }
      Finish(state, std::move(no_seat));
      return;
    }
    if (response.http_status == 409 && error.code == "USER_EXISTS") {
      Finish(state,
             absl::AlreadyExistsError(absl::StrCat("the new email ", Sv(GotoEmail(state->op->spec)),
                                                   " already belongs to GoTo user ", error.user_key,
                                                   " (", Enrich(response).message(), ")")));
      return;
    }
    Finish(state, Enrich(response));
  });
}

void GotoTarget::Send(std::vector<HttpOpPtr> members, bool from_queue) {
  // "licenseKeys" and "suppressEmail" apply to every member of a POST (§3a, §3b): one POST per
  // license set and suppress flag, in the order each first appears. The queue's batch is done
  // when all of them are.
  struct PostGroup {
    std::vector<std::string> keys;
    bool suppress_welcome = false;
    std::vector<HttpOpPtr> members;
  };
  std::vector<PostGroup> groups;
  for (HttpOpPtr& member : members) {
    const core::AccountSpec& spec = member->op->spec;
    absl::StatusOr<std::vector<std::string>> keys =
        spec.products.empty() ? std::vector<std::string>{} : LicenseKeys(spec.products, false);
    if (!keys.ok()) {
      Finish(std::move(member), keys.status());
      continue;
    }
    auto group = std::find_if(groups.begin(), groups.end(), [&](const PostGroup& entry) {
      return entry.keys == *keys && entry.suppress_welcome == spec.suppress_welcome;
    });
    if (group == groups.end()) {
      group = groups.insert(groups.end(), {*std::move(keys), spec.suppress_welcome, {}});
    }
    group->members.push_back(std::move(member));
  }
  if (groups.empty()) {
    if (from_queue) queue()->BatchDone();
    return;
  }
  auto remaining = std::make_shared<std::atomic<size_t>>(groups.size());
  for (PostGroup& group : groups) {
    Post(std::move(group.members), group.keys, [this, remaining, from_queue] {
      // After the retried members were re-queued: they may go out now.
      if (remaining->fetch_sub(1) == 1 && from_queue) queue()->BatchDone();
    });
  }
}

void GotoTarget::Post(std::vector<HttpOpPtr> members, const std::vector<std::string>& license_keys,
                      std::function<void()> done) {
  std::vector<const core::AccountSpec*> specs;
  specs.reserve(members.size());
  for (const HttpOpPtr& member : members) {
    ++member->sends;
    specs.push_back(&member->op->spec);
  }
  CountBatch(members.size());
  // Send() grouped the members by their flag: the first one's is every one's.
  const bool suppress_email = members.front()->op->spec.suppress_welcome;
  std::string body = EncodeGotoCreateBatch(specs, suppress_email, license_keys);
  pipeline().Submit(
      Request("POST", "/users", std::move(body), /*idempotent=*/false),
      [this, members = std::move(members), done = std::move(done)](HttpResponse response) {
        OnBatchAnswer(members, response);
        done();
      });
}

bool GotoTarget::OnBatchRefused(const std::vector<HttpOpPtr>& members,
                                const HttpResponse& response) {
  if (response.http_status != 400 && response.http_status != 422) return false;
  if (members.size() <= 1) return false;
  // GoTo refuses the whole batch for one bad member and creates nothing: take that member out
  // and send the others again.
  const absl::Status status = Enrich(response);
  const int64_t bad = MemberIndexOf(StdSv(status.message()));
  if (bad >= 0 && static_cast<size_t>(bad) < members.size()) {
    for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
      if (static_cast<int64_t>(member_idx) == bad) {
        Finish(members[member_idx], status);
      } else {
        --members[member_idx]->sends;  // nothing was created: this send does not count
        queue()->Add(members[member_idx]);
      }
    }
    return true;
  }
  // Which member is wrong is not said: each one on its own.
  for (const HttpOpPtr& member : members) {
    --member->sends;
    Send({member}, /*from_queue=*/false);
  }
  return true;
}

absl::StatusOr<std::unique_ptr<TargetApi>> MakeGotoTarget(GotoTargetOptions options) {
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<GotoTarget> target,
                            GotoTarget::Start(std::move(options)));
  return std::unique_ptr<TargetApi>(std::move(target));
}

}  // namespace usersync::io
