#include "io/http/http_target.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/hash.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "core/token_bucket.h"
#include "io/http/http_util.h"

namespace usersync::io {
namespace {

std::string OpLabel(const core::Operation& op) {
  std::string label(core::OpKindName(op.kind));
  if (!op.account_id.empty()) absl::StrAppend(&label, " ", Sv(op.account_id));
  if (!op.email.empty()) {
    absl::StrAppend(&label, op.account_id.empty() ? " " : " (", Sv(op.email),
                    op.account_id.empty() ? "" : ")");
  }
  return label;
}

}  // namespace

absl::Status HttpDialect::FirstPageError(const HttpResponse&) const { return absl::OkStatus(); }

absl::Status HttpDialect::ErrorInSuccess(const HttpResponse&) const { return absl::OkStatus(); }

absl::Status Enrich(const HttpDialect& dialect, const HttpResponse& response) {
  if (response.status.ok()) return dialect.ErrorInSuccess(response);
  if (response.http_status < 400) return response.status;
  const std::string detail = dialect.ErrorDetail(response.body);
  if (detail.empty()) return response.status;
  return absl::Status(response.status.code(),
                      absl::StrCat(response.status.message(), " (", detail, ")"));
}

HttpTarget::HttpTarget(std::unique_ptr<HttpDialect> dialect, int page_size, int64_t max_accounts)
    : dialect_(std::move(dialect)), page_size_(page_size), max_accounts_(max_accounts) {}

HttpTarget::~HttpTarget() { Shutdown(); }

absl::Status HttpTarget::ValidateOptions(std::string_view name, std::string_view base_url,
                                         int page_size, int64_t max_accounts) {
  if (!absl::StartsWith(Sv(base_url), "http://") && !absl::StartsWith(Sv(base_url), "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("target.url must be an http:// or https:// URL, got \"", Sv(base_url), "\""));
  }
  if (page_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(name), " page size must be at least 1, got ", page_size));
  }
  if (max_accounts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("target.max_accounts must be at least 1, got ", max_accounts));
  }
  return absl::OkStatus();
}

absl::Status HttpTarget::StartPipeline(const PipelineOptions& options) {
  USERSYNC_ASSIGN_OR_RETURN(pipeline_, HttpPipeline::Start(options));
  // Enough pages ahead to keep every connection busy between answers, and no more.
  list_window_pages_ = std::max(64, 4 * options.concurrency);
  sent_at_once_ = options.concurrency;
  if (options.rate > 0) {
    sent_at_once_ =
        std::min(sent_at_once_, static_cast<int>(std::ceil(core::ClientBurst(options.burst))));
  }
  token_source_ = options.token_source;
  return absl::OkStatus();
}

void HttpTarget::HoldPartialBatches(bool hold) {
  BatchQueue<HttpOpPtr>* batches = queue();
  if (batches == nullptr) return;
  batches->SetHolding(hold);
  if (!hold) batches->Flush();
}

size_t HttpTarget::OperationsWanted() const {
  const BatchQueue<HttpOpPtr>* batches = queue();
  if (batches == nullptr) return 0;
  return batches->batch_size() * static_cast<size_t>(std::max(sent_at_once_, 1) + 1);
}

void HttpTarget::Shutdown() {
  if (pipeline_ == nullptr || shut_down_) return;
  shut_down_ = true;
  // Held creates go out, and every callback runs, while the driver is still whole.
  Flush();
  pipeline_->Drain();
}

HttpRequest HttpTarget::Request(std::string method, std::string_view path_and_query,
                                std::string body, bool idempotent) const {
  HttpRequest request;
  request.method = std::move(method);
  request.url = dialect_->Url(path_and_query);
  request.body = std::move(body);
  request.content_type = std::string(dialect_->traits().content_type);
  request.idempotent = idempotent;
  return request;
}

absl::Status HttpTarget::ReachError(const HttpResponse& response) const {
  const std::string_view name = dialect_->traits().name;
  const std::string_view base = dialect_->base();
  if (response.status.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the ", Sv(name), " target at ", Sv(base), " rejected the bearer token; check ",
        token_source_, " (", Enrich(response).message(), ")"));
  }
  if (response.status.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the ", Sv(name), " target at ", Sv(base),
        " accepted the token but does not allow this call; ",
        Sv(dialect_->traits().permission_hint), " (", Enrich(response).message(), ")"));
  }
  if (response.http_status == 0 && response.status.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat("cannot reach the ", Sv(name), " target at ",
                                               Sv(base), ": ", response.status.message()));
  }
  return Enrich(response);
}

absl::Status HttpTarget::CheckListing(int64_t count) {
  HttpResponse response =
      pipeline_->Call(Request("GET", dialect_->ListPath(dialect_->traits().page_base, count)));
  if (!response.status.ok()) {
    absl::Status particular = dialect_->FirstPageError(response);
    return particular.ok() ? ReachError(response) : particular;
  }
  core::Accounts accounts;
  int64_t total = 0;
  USERSYNC_RETURN_IF_ERROR(WithPrefix(dialect_->DecodeListPage(response.body, &accounts, &total),
                                      dialect_->ListLabel()));
  AddFinding(absl::StrCat("accounts: ", total, " at the target (a page of ", accounts.items.size(),
                          " read and decoded, nothing changed)"));
  return absl::OkStatus();
}

// --- The parallel paged lister --------------------------------------------------------------

// A listing in progress: pages decode into one Accounts (on the pipeline thread, one at a time)
// and remember which items they added.
struct HttpTarget::ListState {
  struct Page {
    int64_t position;
    size_t begin;
    size_t end;
  };
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  absl::Status error ABSL_GUARDED_BY(mu);
  int64_t error_position ABSL_GUARDED_BY(mu) = 0;
  std::vector<Page> pages ABSL_GUARDED_BY(mu);
  // Written only by page callbacks (serialized on the pipeline thread); read by the listing
  // thread once `pending` is 0 (the mutex orders the two).
  core::Accounts accounts;
  int64_t total = 0;  // the first page's claim; every other page must repeat it
  // Set by the listing thread before the first page request (under `mu` after), then fixed.
  int64_t base = 0;      // the first user's position (the dialect's page_base)
  int64_t per_page = 0;  // users per page, as the first page showed
  int64_t next_index ABSL_GUARDED_BY(mu) = 0;  // of the next page to request, from 0

  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pending == 0; }
  void Fail(absl::Status status, int64_t position) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (error.ok() || position < error_position) {
      error = std::move(status);
      error_position = position;
    }
  }

  // The pages in position order, provided they hold exactly `total` distinct users. A user
  // listed twice means the listing moved under us or the server repeats itself: either way a
  // user may be missing elsewhere, so it is an error, not something to deduplicate.
  absl::StatusOr<core::Accounts> Assemble(const HttpDialect& dialect) {
    absl::MutexLock lock(&mu);
    if (!error.ok()) return error;
    std::sort(pages.begin(), pages.end(),
              [](const Page& a, const Page& b) { return a.position < b.position; });
    // id → the position of the page that listed it first.
    absl::flat_hash_map<std::string_view, int64_t, absl::Hash<std::string_view>> first_seen;
    first_seen.reserve(accounts.items.size());
    const std::string_view position_name = dialect.traits().position_name;
    for (const Page& page : pages) {
      for (size_t item_idx = page.begin; item_idx < page.end; ++item_idx) {
        const std::string_view id = accounts.items[item_idx].id;
        auto [it, inserted] = first_seen.try_emplace(id, page.position);
        if (inserted) continue;
        return absl::DataLossError(absl::StrCat(
            dialect.ListLabel(), ": the page at ", Sv(position_name), " ", page.position,
            " lists id ", Sv(id), " again (first listed by the page at ", Sv(position_name), " ",
            it->second, "); the listing is not trustworthy, nothing was planned from it"));
      }
    }
    if (static_cast<int64_t>(first_seen.size()) != total) {
      return absl::DataLossError(
          absl::StrCat(dialect.ListLabel(), ": the pages hold ", first_seen.size(), " users but ",
                       Sv(dialect.traits().total_name), " is ", total,
                       "; the listing is not trustworthy, nothing was planned from it"));
    }
    // Pages usually arrive in order: then the accounts already are (no copy of a million).
    const bool in_order =
        std::adjacent_find(pages.begin(), pages.end(), [](const Page& a, const Page& b) {
          return a.end != b.begin;
        }) == pages.end();
    if (in_order) return std::move(accounts);
    std::vector<core::Account> ordered;
    ordered.reserve(accounts.items.size());
    for (const Page& page : pages) {
      ordered.insert(ordered.end(), accounts.items.begin() + static_cast<ptrdiff_t>(page.begin),
                     accounts.items.begin() + static_cast<ptrdiff_t>(page.end));
    }
    accounts.items = std::move(ordered);
    return std::move(accounts);
  }
};

absl::StatusOr<core::Accounts> HttpTarget::ListAccounts() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  const HttpDialect& dialect = *dialect_;
  const int64_t base = dialect.traits().page_base;
  HttpResponse first = pipeline_->Call(Request("GET", dialect.ListPath(base, page_size_)));
  if (!first.status.ok()) {
    absl::Status particular = dialect.FirstPageError(first);
    return particular.ok() ? ReachError(first) : particular;
  }
  auto state = std::make_shared<ListState>();
  USERSYNC_RETURN_IF_ERROR(
      WithPrefix(dialect.DecodeListPage(first.body, &state->accounts, &state->total),
                 absl::StrCat(dialect.ListLabel(), " page at ", Sv(dialect.traits().position_name),
                              " ", base)));
  if (state->total < 0 || state->total > max_accounts_) {
    // Checked before anything is queued: a lying total would otherwise queue a request (and
    // hold the memory) for every page it claims.
    return absl::DataLossError(absl::StrCat(
        dialect.ListLabel(), ": ", Sv(dialect.traits().total_name), " is ", state->total,
        state->total < 0
            ? ""
            : absl::StrCat(", above the cap of ", max_accounts_, " accounts (target.max_accounts)"),
        "; the listing is refused"));
  }
  const int64_t got = static_cast<int64_t>(state->accounts.items.size());
  {
    absl::MutexLock lock(&state->mu);
    state->pages.push_back({base, 0, state->accounts.items.size()});
  }
  if (got < state->total) {
    if (got == 0) {
      return absl::DataLossError(absl::StrCat(dialect.ListLabel(), ": ",
                                              Sv(dialect.traits().total_name), " is ", state->total,
                                              " but the first page holds no users"));
    }
    // A server may cap the page size below ours (GoTo: 1000): page by what it actually gave.
    state->base = base;
    state->per_page = std::min<int64_t>(got, page_size_);
    {
      absl::MutexLock lock(&state->mu);
      state->next_index = got;
      ++state->pending;  // held while the window is opened: no early "done"
    }
    for (int page_idx = 0; page_idx < list_window_pages_; ++page_idx) FetchNextPage(state);
    absl::MutexLock lock(&state->mu);
    --state->pending;
    state->mu.Await(absl::Condition(state.get(), &ListState::Done));
  }
  return state->Assemble(dialect);
}

void HttpTarget::FetchNextPage(const std::shared_ptr<ListState>& state) {
  int64_t index = 0;
  {
    absl::MutexLock lock(&state->mu);
    if (state->next_index >= state->total || !state->error.ok()) return;
    index = state->next_index;
    state->next_index += state->per_page;
  }
  FetchPage(state, state->base + index, state->per_page);
}

void HttpTarget::FetchPage(const std::shared_ptr<ListState>& state, int64_t position,
                           int64_t count) {
  {
    absl::MutexLock lock(&state->mu);
    ++state->pending;
  }
  pipeline_->Submit(
      Request("GET", dialect_->ListPath(position, count)),
      [this, state, position, count](HttpResponse response) {
        const DialectTraits& traits = dialect_->traits();
        const std::string page_label = absl::StrCat(dialect_->ListLabel(), " page at ",
                                                    Sv(traits.position_name), " ", position);
        absl::Status status = WithPrefix(Enrich(response), page_label);
        const size_t begin = state->accounts.items.size();
        int64_t page_total = 0;
        if (status.ok()) {
          status = WithPrefix(
              dialect_->DecodeListPage(response.body, &state->accounts, &page_total), page_label);
        }
        const size_t end = state->accounts.items.size();
        const int64_t page_got = static_cast<int64_t>(end - begin);
        const int64_t index = position - traits.page_base;
        if (status.ok() && page_total != state->total) {
          // The listing changed while it was read: positions have shifted, users may be missed.
          status = absl::DataLossError(
              absl::StrCat(page_label, ": ", Sv(traits.total_name), " is ", page_total,
                           " but the first page said ", state->total,
                           "; the accounts changed while they were listed (run again)"));
        } else if (status.ok() && page_got == 0) {
          status = absl::DataLossError(absl::StrCat(page_label, ": no users, but ",
                                                    Sv(traits.total_name), " is ", state->total));
        } else if (status.ok() && page_got < count && index + page_got < state->total) {
          // A short page before the end: ask for the rest of it.
          FetchPage(state, position + page_got, count - page_got);
        }
        {
          absl::MutexLock lock(&state->mu);
          if (status.ok()) {
            state->pages.push_back({position, begin, end});
          } else {
            state->Fail(std::move(status), position);
          }
        }
        FetchNextPage(state);  // the window slides (nothing more after a failure)
        absl::MutexLock lock(&state->mu);
        --state->pending;
      });
}

// --- Operations -----------------------------------------------------------------------------

void HttpTarget::Finish(HttpOpPtr state, absl::Status status) {
  if (status.ok() && !state->products_refused.ok()) {
    status = state->products_refused;
    state->outcome.rest_applied = true;
    state->outcome.http_status = 409;  // the refusal's, not the retry's 200: what failed
  }
  state->outcome.status = WithPrefix(status, OpLabel(*state->op));
  if (!pipeline_->OnPipelineThread()) {
    // Finished without a request: `done` still runs on the I/O thread.
    pipeline_->Post([state] {
      std::function<void(OpOutcome)> done = std::move(state->done);
      done(std::move(state->outcome));
    });
    return;
  }
  std::function<void(OpOutcome)> done = std::move(state->done);
  done(std::move(state->outcome));
}

BatchQueue<HttpOpPtr>* HttpTarget::MakeQueue(size_t batch_size) {
  absl::MutexLock lock(&queue_mu_);
  if (queue_ == nullptr) {
    queue_ = std::make_unique<BatchQueue<HttpOpPtr>>(
        batch_size, [this](std::vector<HttpOpPtr> members) { SendBatch(std::move(members)); },
        [this](std::function<void()> task) { pipeline_->Post(std::move(task)); });
    queue_ptr_.store(queue_.get(), std::memory_order_release);
  }
  return queue_.get();
}

void HttpTarget::CountBatch(size_t members) {
  ++batches_;
  batched_creates_ += static_cast<int64_t>(members);
}

void HttpTarget::OnBatchAnswer(const std::vector<HttpOpPtr>& members,
                               const HttpResponse& response) {
  // The request's attempts are shared by its members: each counts them (they all waited).
  for (const HttpOpPtr& member : members) member->Count(response);
  if (dialect_->HasMemberResults(response)) {
    absl::StatusOr<std::vector<MemberVerdict>> verdicts =
        dialect_->MemberVerdicts(members, response.body);
    if (!verdicts.ok()) {
      // No per-member answer: find out member by member.
      const absl::Status why = response.status.ok()
                                   ? WithPrefix(verdicts.status(), dialect_->BatchLabel())
                                   : Enrich(response);
      for (const HttpOpPtr& member : members) {
        LookUpCreated(member, "", /*after_unknown_outcome=*/response.status.ok(), why);
      }
      return;
    }
    for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
      Apply(members[member_idx], std::move((*verdicts)[member_idx]));
    }
    return;
  }
  if (response.ambiguous) {
    // The batch may or may not have been applied: look every member up before sending again.
    for (const HttpOpPtr& member : members) {
      LookUpCreated(member, "", /*after_unknown_outcome=*/true, Enrich(response));
    }
    return;
  }
  if (OnBatchRefused(members, response)) return;
  // 401, 403, retries exhausted, cancelled, ...: every member shares the failure.
  const absl::Status status = Enrich(response);
  for (const HttpOpPtr& member : members) Finish(member, status);
}

void HttpTarget::Apply(HttpOpPtr member, MemberVerdict verdict) {
  if (verdict.http_status != 0) member->outcome.http_status = verdict.http_status;
  switch (verdict.kind) {
    case MemberVerdict::Kind::kCreated:
      member->outcome.account_id = std::move(verdict.account_id);
      OnCreated(std::move(member));
      return;
    case MemberVerdict::Kind::kListed:
      if (ClaimListedFree(member->op->spec)) {
        member->outcome.account_id = std::move(verdict.account_id);
        OnCreated(std::move(member));
        return;
      }
      [[fallthrough]];
    case MemberVerdict::Kind::kConflict:
      LookUpCreated(std::move(member), std::move(verdict.account_id),
                    /*after_unknown_outcome=*/false, std::move(verdict.status));
      return;
    case MemberVerdict::Kind::kLookUp:
      LookUpCreated(std::move(member), std::move(verdict.account_id),
                    /*after_unknown_outcome=*/true, std::move(verdict.status));
      return;
    case MemberVerdict::Kind::kRetry:
      RetryCreate(std::move(member), std::move(verdict.status));
      return;
    case MemberVerdict::Kind::kFailed:
      Finish(std::move(member), std::move(verdict.status));
      return;
  }
}

void HttpTarget::RetryCreate(HttpOpPtr state, absl::Status why) {
  if (state->sends >= kMaxCreateSends) {
    const int sends = state->sends;
    Finish(std::move(state),
           absl::Status(why.code(), absl::StrCat(why.message(), " (gave up after ", sends, " ",
                                                 Sv(dialect_->traits().resend_noun), ")")));
    return;
  }
  queue()->Add(std::move(state));
}

absl::StatusOr<core::Accounts> HttpTarget::LookUpAccounts(const std::vector<std::string>& ids,
                                                          const std::vector<std::string>& emails) {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  if (ids.empty() && emails.empty()) {
    // Nothing to look up: one account's page all the same, so that a cycle with nothing to do
    // still reports an unreachable or refusing target, as a listing would.
    const HttpResponse page =
        pipeline_->Call(Request("GET", dialect_->ListPath(dialect_->traits().page_base, 1)));
    if (!page.status.ok()) return ReachError(page);
    return core::Accounts();
  }
  struct Found {
    absl::Mutex mu;
    core::Accounts accounts ABSL_GUARDED_BY(mu);
    absl::Status first_error ABSL_GUARDED_BY(mu);
  };
  auto found = std::make_shared<Found>();
  const auto look_up = [&](std::string_view value, std::string_view key) {
    const bool by_key = !key.empty();
    std::string context = by_key ? absl::StrCat("looking up account ", Sv(key))
                                 : dialect_->LookUpContext(value, false);
    pipeline_->Submit(Request("GET", dialect_->LookUpPath(value, key)),
                      [this, found, by_key, context = std::move(context)](HttpResponse response) {
                        absl::MutexLock lock(&found->mu);
                        if (!found->first_error.ok()) return;
                        absl::Status status;
                        if (response.status.ok()) {
                          status = dialect_->DecodeLookUp(response.body, by_key, &found->accounts);
                        } else if (!(by_key && response.http_status == 404)) {
                          status = Enrich(response);
                        }
                        if (!status.ok()) found->first_error = WithPrefix(status, context);
                      });
  };
  for (const std::string& id : ids) look_up("", id);
  for (const std::string& email : emails) look_up(email, "");
  pipeline_->Drain();
  absl::MutexLock lock(&found->mu);
  USERSYNC_RETURN_IF_ERROR(found->first_error);
  core::Accounts out = std::move(found->accounts);
  // An account found by id and by email is kept once (the views stay in the same arena).
  core::StrViewSet seen;
  std::erase_if(out.items,
                [&](const core::Account& account) { return !seen.insert(account.id).second; });
  return out;
}

void HttpTarget::LookUpCreated(HttpOpPtr state, std::string holder_key, bool after_unknown_outcome,
                               absl::Status why) {
  const bool by_key = !holder_key.empty();
  const std::string path = dialect_->LookUpPath(dialect_->LookUpValue(state->op->spec), holder_key);
  pipeline_->Submit(Request("GET", path), [this, state, by_key, after_unknown_outcome,
                                           why = std::move(why)](HttpResponse response) {
    OnLookUp(state, by_key, after_unknown_outcome, why, response);
  });
}

void HttpTarget::OnLookUp(HttpOpPtr state, bool by_key, bool after_unknown_outcome,
                          const absl::Status& why, const HttpResponse& response) {
  state->Count(response);
  const core::AccountSpec& spec = state->op->spec;
  const std::string_view value = dialect_->LookUpValue(spec);
  core::Accounts found;
  absl::Status decoded;
  if (response.status.ok()) {
    decoded = dialect_->DecodeLookUp(response.body, by_key, &found);
  } else if (!(by_key && response.http_status == 404)) {
    Finish(state, WithPrefix(Enrich(response), absl::StrCat(dialect_->LookUpContext(value, false),
                                                            " after: ", why.message())));
    return;
  }
  if (!decoded.ok()) {
    Finish(state, WithPrefix(decoded, dialect_->LookUpContext(value, true)));
    return;
  }
  for (const core::Account& account : found.items) {
    if (!core::EqualsIgnoreCase(dialect_->AccountValue(account), value)) continue;
    if (!spec.external_id.empty() && account.external_id == spec.external_id) {
      // Ours: created by the request whose outcome was unknown, or by an earlier, interrupted run.
      state->outcome.account_id = std::string(account.id);
      OnCreated(std::move(state));
      return;
    }
    Finish(state, dialect_->ForeignHolder(spec, account));
    return;
  }
  if (by_key) {
    // The holder named by the conflict is gone (or renamed): look for the value itself.
    LookUpCreated(std::move(state), "", after_unknown_outcome, why);
    return;
  }
  if (after_unknown_outcome) {
    Resend(std::move(state), why);  // the lost request did not create it
    return;
  }
  Finish(state, absl::AlreadyExistsError(absl::StrCat(why.message(), "; no user with ",
                                                      Sv(dialect_->traits().lookup_name), " ",
                                                      Sv(value), " is visible to a filter")));
}

// --- The rest -------------------------------------------------------------------------------

void HttpTarget::Flush() {
  if (BatchQueue<HttpOpPtr>* held = queue()) held->Flush();
}

void HttpTarget::Drain() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  Flush();
  pipeline_->Drain();
}

void HttpTarget::Cancel() {
  pipeline_->Cancel();
  BatchQueue<HttpOpPtr>* held = queue();
  if (held == nullptr) return;
  for (HttpOpPtr& state : held->TakeAll()) {
    Finish(std::move(state), absl::CancelledError("cancelled before it was sent"));
  }
}

TargetStats HttpTarget::stats() const {
  const PipelineStats p = pipeline_->stats();
  return TargetStats{.requests = p.requests,
                     .retries = p.retries,
                     .throttled = p.throttled,
                     .server_errors = p.server_errors,
                     .transport_errors = p.transport_errors,
                     .wait_seconds = p.rate_wait_seconds + p.backoff_wait_seconds,
                     .rate_wait_seconds = p.rate_wait_seconds,
                     .backoff_wait_seconds = p.backoff_wait_seconds,
                     .current_rate = p.current_rate,
                     .batches = batches_.load(),
                     .batched_creates = batched_creates_.load()};
}

}  // namespace usersync::io
