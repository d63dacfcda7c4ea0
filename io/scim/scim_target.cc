#include "io/scim/scim_target.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/retry.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io {
namespace {

constexpr int kMaxCreatePosts = 3;  // POSTs of one user when outcomes stay unknown

HttpRequest Request(std::string method, std::string url, std::string body = {},
                    bool idempotent = true) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  request.idempotent = idempotent;
  return request;
}

absl::Status WithPrefix(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Sv(prefix), ": ", status.message()));
}

// The pipeline's status, plus the SCIM error's scimType/detail when the server sent one.
absl::Status Enrich(const HttpResponse& response) {
  if (response.status.ok() || response.http_status < 400) return response.status;
  const std::string detail = ErrorDetail(response.body);
  if (detail.empty()) return response.status;
  return absl::Status(response.status.code(),
                      absl::StrCat(response.status.message(), " (", detail, ")"));
}

std::string ListQuery(int64_t start_index, int64_t count) {
  return absl::StrCat("/Users?startIndex=", start_index, "&count=", count);
}

// The last path segment of a Location header (the new resource's id).
std::string IdFromLocation(std::string_view location) {
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  const size_t slash = location.rfind('/');
  return std::string(slash == std::string_view::npos ? location : location.substr(slash + 1));
}

core::AccountSpec SpecFromAccount(const core::Account& account) {
  core::AccountSpec spec;
  spec.user_name = std::string(account.user_name);
  spec.email = std::string(account.email);
  spec.external_id = std::string(account.external_id);
  spec.first_name = std::string(account.first_name);
  spec.last_name = std::string(account.last_name);
  spec.display_name = std::string(account.display_name);
  spec.language = std::string(account.language);
  spec.products = std::string(account.products);
  spec.admin_role = std::string(account.admin_role);
  spec.active = account.active;
  return spec;
}

std::string OpLabel(const core::Operation& op) {
  std::string label(core::OpKindName(op.kind));
  if (!op.account_id.empty()) absl::StrAppend(&label, " ", op.account_id);
  if (!op.email.empty()) {
    absl::StrAppend(&label, op.account_id.empty() ? " " : " (", op.email,
                    op.account_id.empty() ? "" : ")");
  }
  return label;
}

const core::Change* FindChange(const core::Operation& op, core::Field field) {
  for (const core::Change& change : op.changes) {
    if (change.field == field) return &change;
  }
  return nullptr;
}

}  // namespace

// One operation in progress: what it still has to do and what it has done so far.
struct ScimTarget::OpState {
  const core::Operation* op = nullptr;
  std::function<void(OpOutcome)> done;
  OpOutcome outcome;
  bool patch = true;  // the server takes PATCH
  int posts = 0;      // create: POSTs sent
  bool group_change = false;
  std::string old_group;  // remove the user from this group ("" = none)
  std::string new_group;  // add the user to this group ("" = none)

  void Count(const HttpResponse& response) {
    outcome.attempts += response.attempts;
    outcome.http_status = response.http_status;
  }
};

absl::StatusOr<std::unique_ptr<ScimTarget>> ScimTarget::Start(ScimTargetOptions options) {
  if (!absl::StartsWith(options.base_url, "http://") &&
      !absl::StartsWith(options.base_url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target.url must be an http:// or https:// URL, got \"", options.base_url, "\""));
  }
  if (options.page_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("SCIM page size must be at least 1, got ", options.page_size));
  }
  std::unique_ptr<ScimTarget> target(new ScimTarget(std::move(options)));
  USERSYNC_ASSIGN_OR_RETURN(target->pipeline_, HttpPipeline::Start(target->options_.pipeline));
  return target;
}

ScimTarget::ScimTarget(ScimTargetOptions options) : options_(std::move(options)) {
  base_ = options_.base_url;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

ScimTarget::~ScimTarget() {
  // Held bulk creates go out before the pipeline drains (its destructor runs next).
  Flush();
}

std::string ScimTarget::Url(std::string_view path_and_query) const {
  return absl::StrCat(base_, Sv(path_and_query));
}

ScimServiceConfig ScimTarget::service_config() const {
  absl::MutexLock lock(&mu_);
  return config_.value_or(ScimServiceConfig{});
}

// --- Check and listing ----------------------------------------------------------------------

namespace {

// What a failed call means for reaching the target at all.
absl::Status ReachError(const HttpResponse& response, std::string_view base) {
  if (response.status.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat("the SCIM target at ", Sv(base),
                     " rejected the bearer token; check the variable named by target.token_env (",
                     Enrich(response).message(), ")"));
  }
  if (response.status.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the SCIM target at ", Sv(base),
        " accepted the token but does not allow this call; the token needs user provisioning "
        "rights (",
        Enrich(response).message(), ")"));
  }
  if (response.http_status == 0 && response.status.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat("cannot reach the SCIM target at ", Sv(base), ": ",
                                               response.status.message()));
  }
  return Enrich(response);
}

}  // namespace

absl::Status ScimTarget::ReadServiceConfig(bool strict) {
  HttpResponse response = pipeline_->Call(Request("GET", Url("/ServiceProviderConfig")));
  absl::StatusOr<ScimServiceConfig> config = ScimServiceConfig{};
  if (response.status.ok()) {
    config = DecodeServiceProviderConfig(response.body);
  } else if (response.status.code() != absl::StatusCode::kNotFound) {
    // A server without /ServiceProviderConfig (404) gets the defaults; anything else is real
    // for Check(). Operations go on with the defaults and report their own failures.
    if (strict) return ReachError(response, base_);
    config = ScimServiceConfig{};
  }
  if (!config.ok()) {
    if (strict) return WithPrefix(config.status(), "GET /ServiceProviderConfig");
    config = ScimServiceConfig{};
  }
  absl::MutexLock lock(&mu_);
  config_ = *config;
  return absl::OkStatus();
}

void ScimTarget::EnsureServiceConfig() {
  {
    absl::MutexLock lock(&mu_);
    if (config_.has_value()) return;
  }
  if (pipeline_->OnPipelineThread()) return;  // cannot block here: defaults apply
  // Best effort: a failure leaves the defaults (PATCH), and the operation itself reports.
  ReadServiceConfig(/*strict=*/false).IgnoreError();
}

absl::Status ScimTarget::Check() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  USERSYNC_RETURN_IF_ERROR(ReadServiceConfig(/*strict=*/true));
  HttpResponse response = pipeline_->Call(Request("GET", Url(ListQuery(1, 1))));
  if (!response.status.ok()) return ReachError(response, base_);
  core::Accounts accounts;
  int64_t total = 0;
  return WithPrefix(DecodeListResponse(response.body, &accounts, &total),
                    absl::StrCat("GET ", base_, "/Users"));
}

namespace {

// A listing in progress: pages decode into one Accounts (on the pipeline thread, one at a time)
// and remember which items they added.
struct ListState {
  struct Page {
    int64_t start_index;
    size_t begin;
    size_t end;
  };
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  absl::Status error ABSL_GUARDED_BY(mu);
  int64_t error_start ABSL_GUARDED_BY(mu) = 0;
  std::vector<Page> pages ABSL_GUARDED_BY(mu);
  // Written only by page callbacks (serialized on the pipeline thread); read by the listing
  // thread once `pending` is 0 (the mutex orders the two).
  core::Accounts accounts;
  int64_t total = 0;

  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pending == 0; }
  void Fail(absl::Status status, int64_t start_index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (error.ok() || start_index < error_start) {
      error = std::move(status);
      error_start = start_index;
    }
  }
};

}  // namespace

absl::StatusOr<core::Accounts> ScimTarget::ListAccounts() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  const int64_t page_size = options_.page_size;
  HttpResponse first = pipeline_->Call(Request("GET", Url(ListQuery(1, page_size))));
  if (!first.status.ok()) return ReachError(first, base_);

  auto state = std::make_shared<ListState>();
  USERSYNC_RETURN_IF_ERROR(
      WithPrefix(DecodeListResponse(first.body, &state->accounts, &state->total),
                 absl::StrCat("GET ", base_, "/Users page at startIndex 1")));
  const int64_t got = static_cast<int64_t>(state->accounts.items.size());
  {
    absl::MutexLock lock(&state->mu);
    state->pages.push_back({1, 0, state->accounts.items.size()});
  }
  if (got < state->total) {
    if (got == 0) {
      return absl::DataLossError(absl::StrCat("GET ", base_, "/Users: totalResults is ",
                                              state->total, " but the first page holds no users"));
    }
    // A server may cap the page size below ours: page by what it actually gave.
    const int64_t per_page = std::min<int64_t>(got, page_size);
    std::function<void(int64_t, int64_t)> fetch;
    // `fetch` is captured by reference in callbacks: it outlives them (we wait below).
    fetch = [this, state, &fetch](int64_t start, int64_t count) {
      {
        absl::MutexLock lock(&state->mu);
        ++state->pending;
      }
      pipeline_->Submit(Request("GET", Url(ListQuery(start, count))), [this, state, &fetch, start,
                                                                       count](
                                                                          HttpResponse response) {
        absl::Status status = Enrich(response);
        size_t begin = state->accounts.items.size();
        if (status.ok()) {
          int64_t ignored_total = 0;
          status = WithPrefix(DecodeListResponse(response.body, &state->accounts, &ignored_total),
                              absl::StrCat("GET ", base_, "/Users page at startIndex ", start));
        }
        const size_t end = state->accounts.items.size();
        const int64_t page_got = static_cast<int64_t>(end - begin);
        // A short page before the end: ask for the rest of it.
        if (status.ok() && page_got > 0 && page_got < count && start + page_got <= state->total) {
          fetch(start + page_got, count - page_got);
        }
        absl::MutexLock lock(&state->mu);
        if (status.ok()) {
          state->pages.push_back({start, begin, end});
        } else {
          state->Fail(std::move(status), start);
        }
        --state->pending;
      });
    };
    for (int64_t start = 1 + got; start <= state->total; start += per_page) {
      fetch(start, per_page);
    }
    absl::MutexLock lock(&state->mu);
    state->mu.Await(absl::Condition(state.get(), &ListState::Done));
  }

  absl::MutexLock lock(&state->mu);
  if (!state->error.ok()) return state->error;
  std::sort(state->pages.begin(), state->pages.end(),
            [](const ListState::Page& a, const ListState::Page& b) {
              return a.start_index < b.start_index;
            });
  core::Accounts& accounts = state->accounts;
  std::vector<core::Account> ordered;
  ordered.reserve(accounts.items.size());
  absl::flat_hash_set<std::string_view, absl::Hash<std::string_view>> seen;
  seen.reserve(accounts.items.size());
  for (const ListState::Page& page : state->pages) {
    for (size_t item_idx = page.begin; item_idx < page.end; ++item_idx) {
      const core::Account& account = accounts.items[item_idx];
      if (seen.insert(account.id).second) ordered.push_back(account);
    }
  }
  accounts.items = std::move(ordered);
  return std::move(accounts);
}

// --- Operations -----------------------------------------------------------------------------

void ScimTarget::Execute(const core::Operation& op, std::function<void(OpOutcome)> done) {
  EnsureServiceConfig();
  auto state = std::make_shared<OpState>();
  state->op = &op;
  state->done = std::move(done);
  state->outcome.account_id = op.account_id;
  state->patch = service_config().patch;
  if (op.kind == core::OpKind::kCreate) {
    state->new_group = op.spec.user_group;
    state->group_change = !state->new_group.empty();
  } else if (const core::Change* change = FindChange(op, core::Field::kUserGroup)) {
    state->group_change = true;
    state->old_group = change->before;
    state->new_group = change->after;
  }
  if (op.kind != core::OpKind::kCreate && op.account_id.empty()) {
    Finish(std::move(state), absl::InvalidArgumentError("the operation names no account id"));
    return;
  }
  switch (op.kind) {
    case core::OpKind::kCreate:
      if (BatchQueue<std::shared_ptr<OpState>>* queue = BulkQueue()) {
        queue->Add(std::move(state));
      } else {
        PostUser(std::move(state));
      }
      return;
    case core::OpKind::kUpdate:
    case core::OpKind::kLink:
    case core::OpKind::kReactivate:
      UpdateUser(std::move(state));
      return;
    case core::OpKind::kDeactivate:
      DeactivateUser(std::move(state));
      return;
    case core::OpKind::kDelete:
      DeleteUser(std::move(state));
      return;
  }
  Finish(std::move(state), absl::InvalidArgumentError("unknown operation kind"));
}

void ScimTarget::Finish(std::shared_ptr<OpState> state, absl::Status status) {
  state->outcome.status = WithPrefix(status, OpLabel(*state->op));
  if (!pipeline_->OnPipelineThread()) {
    // Finished without a request (nothing to send): `done` still runs on the I/O thread.
    pipeline_->Post([state] {
      std::function<void(OpOutcome)> done = std::move(state->done);
      done(std::move(state->outcome));
    });
    return;
  }
  std::function<void(OpOutcome)> done = std::move(state->done);
  done(std::move(state->outcome));
}

void ScimTarget::PostUser(std::shared_ptr<OpState> state) {
  ++state->posts;
  pipeline_->Submit(
      Request("POST", Url("/Users"), EncodeUser(state->op->spec), /*idempotent=*/false),
      [this, state](HttpResponse response) {
        state->Count(response);
        if (response.status.ok()) {
          core::Accounts created;
          std::string id;
          if (DecodeUser(response.body, &created).ok() && !created.items.empty()) {
            id = std::string(created.items[0].id);
          } else if (!response.location.empty()) {
            id = IdFromLocation(response.location);
          }
          if (id.empty()) {
            Finish(state, absl::DataLossError("POST /Users: the answer names no id"));
            return;
          }
          state->outcome.account_id = std::move(id);
          UserGroupStep(state);
          return;
        }
        if (response.http_status == 409) {
          LookUpCreated(state, /*after_unknown_outcome=*/false, Enrich(response));
        } else if (response.ambiguous) {
          LookUpCreated(state, /*after_unknown_outcome=*/true, Enrich(response));
        } else {
          Finish(state, Enrich(response));
        }
      });
}

// --- /Bulk creates ---------------------------------------------------------------------------

BatchQueue<std::shared_ptr<ScimTarget::OpState>>* ScimTarget::BulkQueue() {
  if (options_.batch <= 1) return nullptr;
  int64_t size = options_.batch;
  {
    absl::MutexLock lock(&mu_);
    if (!config_.has_value() || !config_->bulk || bulk_refused_) return nullptr;
    if (config_->bulk_max_operations > 0) size = std::min(size, config_->bulk_max_operations);
  }
  if (size <= 1) return nullptr;
  absl::MutexLock lock(&queue_mu_);
  if (bulk_queue_ == nullptr) {
    bulk_queue_ = std::make_unique<BatchQueue<std::shared_ptr<OpState>>>(
        static_cast<size_t>(size),
        [this](std::vector<std::shared_ptr<OpState>> members) { SendBulk(std::move(members)); },
        [this](std::function<void()> task) { pipeline_->Post(std::move(task)); });
  }
  return bulk_queue_.get();
}

BatchQueue<std::shared_ptr<ScimTarget::OpState>>* ScimTarget::ExistingBulkQueue() {
  absl::MutexLock lock(&queue_mu_);
  return bulk_queue_.get();
}

void ScimTarget::SendBulk(std::vector<std::shared_ptr<OpState>> members) {
  ++batches_;
  batched_creates_ += static_cast<int64_t>(members.size());
  SendBulkPart(std::move(members), std::make_shared<std::atomic<int>>(1));
}

void ScimTarget::SendBulkPart(std::vector<std::shared_ptr<OpState>> members,
                              std::shared_ptr<std::atomic<int>> parts_left) {
  bool refused = false;
  int64_t max_payload = 0;
  {
    absl::MutexLock lock(&mu_);
    refused = bulk_refused_;
    if (config_.has_value()) max_payload = config_->bulk_max_payload_bytes;
  }
  auto part_done = [this, parts_left] {
    if (parts_left->fetch_sub(1) == 1) ExistingBulkQueue()->BatchDone();
  };
  if (refused) {  // learnt since these were queued: one POST /Users each
    for (std::shared_ptr<OpState>& member : members) PostUser(member);
    part_done();
    return;
  }
  std::vector<const core::AccountSpec*> specs;
  specs.reserve(members.size());
  for (const std::shared_ptr<OpState>& member : members) specs.push_back(&member->op->spec);
  std::string body = EncodeBulkCreate(specs);
  if (max_payload > 0 && static_cast<int64_t>(body.size()) > max_payload && members.size() > 1) {
    // Over the server's bulk.maxPayloadSize: two halves, each its own request.
    const size_t half = members.size() / 2;
    std::vector<std::shared_ptr<OpState>> second(members.begin() + static_cast<ptrdiff_t>(half),
                                                 members.end());
    members.resize(half);
    parts_left->fetch_add(1);
    SendBulkPart(std::move(members), parts_left);
    SendBulkPart(std::move(second), parts_left);
    return;
  }
  for (const std::shared_ptr<OpState>& member : members) ++member->posts;
  pipeline_->Submit(Request("POST", Url("/Bulk"), std::move(body), /*idempotent=*/false),
                    [this, members = std::move(members), part_done](HttpResponse response) {
                      OnBulkAnswer(members, response);
                      part_done();  // after the retried members were re-queued
                    });
}

void ScimTarget::OnBulkAnswer(std::vector<std::shared_ptr<OpState>> members,
                              const HttpResponse& response) {
  for (const std::shared_ptr<OpState>& member : members) member->Count(response);
  if (response.status.ok()) {
    absl::StatusOr<std::vector<ScimBulkResult>> results = DecodeBulkResponse(response.body);
    if (!results.ok()) {
      const absl::Status why = WithPrefix(results.status(), "POST /Bulk");
      for (std::shared_ptr<OpState>& member : members) {
        LookUpCreated(member, /*after_unknown_outcome=*/true, why);
      }
      return;
    }
    // bulkId is the member's index in this request; answers without one go by position.
    std::vector<const ScimBulkResult*> by_member(members.size(), nullptr);
    for (size_t result_idx = 0; result_idx < results->size(); ++result_idx) {
      const ScimBulkResult& result = (*results)[result_idx];
      size_t member_idx = 0;
      if (absl::SimpleAtoi(result.bulk_id, &member_idx)) {
        if (member_idx < members.size()) by_member[member_idx] = &result;
      } else if (result.bulk_id.empty() && result_idx < members.size() &&
                 by_member[result_idx] == nullptr) {
        by_member[result_idx] = &result;
      }
    }
    for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
      std::shared_ptr<OpState>& member = members[member_idx];
      const ScimBulkResult* result = by_member[member_idx];
      if (result == nullptr) {
        LookUpCreated(
            member, /*after_unknown_outcome=*/true,
            absl::UnknownError(absl::StrCat("POST /Bulk: no answer for bulkId ", member_idx)));
        continue;
      }
      const int code = result->status;
      const std::string context = absl::StrCat("POST /Bulk (POST /Users, bulkId ", member_idx,
                                               "): HTTP ", code, result->detail.empty() ? "" : " (",
                                               result->detail, result->detail.empty() ? "" : ")");
      if (code == 200 || code == 201) {
        member->outcome.http_status = code;
        if (result->id.empty()) {
          LookUpCreated(member, /*after_unknown_outcome=*/true,
                        absl::DataLossError(absl::StrCat(context, ": the answer names no id")));
          continue;
        }
        member->outcome.account_id = result->id;
        UserGroupStep(member);
      } else if (code == 409) {
        member->outcome.http_status = code;
        LookUpCreated(member, /*after_unknown_outcome=*/false, core::StatusFromHttp(code, context));
      } else if (code == 408 || code == 429 || code == 503) {
        // Refused before anything was done: send it again in a later bulk.
        RetryBulkMember(member, core::StatusFromHttp(code, context));
      } else if (code == 0 || code == 500 || code == 502 || code == 504) {
        LookUpCreated(
            member, /*after_unknown_outcome=*/true,
            code == 0 ? absl::UnknownError(context) : core::StatusFromHttp(code, context));
      } else {
        member->outcome.http_status = code;
        Finish(member, core::StatusFromHttp(code, context));
      }
    }
    return;
  }
  if (response.ambiguous) {
    for (std::shared_ptr<OpState>& member : members) {
      LookUpCreated(member, /*after_unknown_outcome=*/true, Enrich(response));
    }
    return;
  }
  const int code = response.http_status;
  if (code == 404 || code == 405 || code == 501) {
    absl::MutexLock lock(&mu_);
    bulk_refused_ = true;  // ServiceProviderConfig said yes, the server says no
  }
  if (code == 404 || code == 405 || code == 501 || code == 400 || code == 413) {
    // The bulk as such was refused, nothing was created: one POST /Users each.
    for (std::shared_ptr<OpState>& member : members) {
      --member->posts;
      PostUser(member);
    }
    return;
  }
  const absl::Status status = Enrich(response);
  for (std::shared_ptr<OpState>& member : members) Finish(member, status);
}

void ScimTarget::RetryBulkMember(std::shared_ptr<OpState> state, absl::Status why) {
  if (state->posts >= kMaxCreatePosts) {
    Finish(state, absl::Status(why.code(), absl::StrCat(why.message(), " (gave up after ",
                                                        state->posts, " sends)")));
    return;
  }
  ExistingBulkQueue()->Add(std::move(state));
}

void ScimTarget::LookUpCreated(std::shared_ptr<OpState> state, bool after_unknown_outcome,
                               absl::Status post_status) {
  const std::string filter = FilterEq("userName", state->op->spec.user_name);
  pipeline_->Submit(
      Request("GET", Url(absl::StrCat("/Users?filter=", UrlEncode(filter)))),
      [this, state, after_unknown_outcome, post_status](HttpResponse response) {
        state->Count(response);
        const core::AccountSpec& spec = state->op->spec;
        if (!response.status.ok()) {
          Finish(state, WithPrefix(Enrich(response), absl::StrCat("looking up userName after: ",
                                                                  post_status.message())));
          return;
        }
        core::Accounts found;
        int64_t total = 0;
        absl::Status decoded = DecodeListResponse(response.body, &found, &total);
        if (!decoded.ok()) {
          Finish(state, WithPrefix(decoded, "GET /Users?filter=userName"));
          return;
        }
        const core::Account* match = nullptr;
        for (const core::Account& account : found.items) {
          if (absl::EqualsIgnoreCase(Sv(account.user_name), Sv(spec.user_name))) {
            match = &account;
            break;
          }
        }
        if (match != nullptr) {
          if (!spec.external_id.empty() && match->external_id == spec.external_id) {
            state->outcome.account_id = std::string(match->id);
            UserGroupStep(state);
            return;
          }
          Finish(state,
                 absl::AlreadyExistsError(absl::StrCat(
                     "userName ", spec.user_name, " already exists at the target as account ",
                     Sv(match->id), " with externalId \"", Sv(match->external_id),
                     "\", which usersync did not create for directory id ", spec.external_id,
                     "; match it (usersync match) or remove it")));
          return;
        }
        if (after_unknown_outcome && state->posts < kMaxCreatePosts) {
          PostUser(state);  // the lost POST did not create it: send it again
          return;
        }
        if (after_unknown_outcome) {
          Finish(state, post_status);
          return;
        }
        Finish(state, absl::AlreadyExistsError(
                          absl::StrCat(post_status.message(), "; no user with userName ",
                                       spec.user_name, " is visible to a filter")));
      });
}

void ScimTarget::UpdateUser(std::shared_ptr<OpState> state) {
  const core::Operation& op = *state->op;
  const bool reactivate = op.kind == core::OpKind::kReactivate;
  const std::string path = absl::StrCat("/Users/", op.account_id);
  std::string body;
  std::string method;
  if (state->patch) {
    method = "PATCH";
    if (reactivate && FindChange(op, core::Field::kActive) == nullptr) {
      std::vector<core::Change> changes = op.changes;
      changes.push_back(core::Change{core::Field::kActive, "false", "true"});
      core::AccountSpec spec = op.spec;
      spec.active = true;
      body = EncodePatch(changes, spec);
    } else if (reactivate) {
      core::AccountSpec spec = op.spec;
      spec.active = true;
      body = EncodePatch(op.changes, spec);
    } else {
      body = EncodePatch(op.changes, op.spec);
    }
  } else {
    method = "PUT";
    core::AccountSpec spec = op.spec;
    if (reactivate) spec.active = true;
    body = EncodeUser(spec);
  }
  if (body.empty()) {  // only the user group changed (or nothing: a bare link)
    UserGroupStep(std::move(state));
    return;
  }
  pipeline_->Submit(Request(method, Url(path), std::move(body)),
                    [this, state](HttpResponse response) {
                      state->Count(response);
                      if (!response.status.ok()) {
                        Finish(state, Enrich(response));
                        return;
                      }
                      UserGroupStep(state);
                    });
}

void ScimTarget::DeactivateUser(std::shared_ptr<OpState> state) {
  const std::string path = absl::StrCat("/Users/", state->op->account_id);
  auto finish = [this, state](HttpResponse response) {
    state->Count(response);
    Finish(state, Enrich(response));
  };
  if (state->patch) {
    pipeline_->Submit(Request("PATCH", Url(path), EncodeActivePatch(false)), std::move(finish));
    return;
  }
  // Without PATCH: read the resource, then PUT it back inactive.
  pipeline_->Submit(Request("GET", Url(path)), [this, state, path, finish](HttpResponse response) {
    state->Count(response);
    if (!response.status.ok()) {
      Finish(state, Enrich(response));
      return;
    }
    core::Accounts current;
    absl::Status decoded = DecodeUser(response.body, &current);
    if (!decoded.ok() || current.items.empty()) {
      Finish(state, WithPrefix(decoded, absl::StrCat("GET ", path)));
      return;
    }
    core::AccountSpec spec = SpecFromAccount(current.items[0]);
    spec.active = false;
    pipeline_->Submit(Request("PUT", Url(path), EncodeUser(spec)), finish);
  });
}

void ScimTarget::DeleteUser(std::shared_ptr<OpState> state) {
  pipeline_->Submit(Request("DELETE", Url(absl::StrCat("/Users/", state->op->account_id))),
                    [this, state](HttpResponse response) {
                      state->Count(response);
                      // Already gone (or a retried DELETE whose first try went through).
                      if (response.http_status == 404) {
                        Finish(state, absl::OkStatus());
                        return;
                      }
                      Finish(state, Enrich(response));
                    });
}

// --- User group membership ------------------------------------------------------------------

void ScimTarget::UserGroupStep(std::shared_ptr<OpState> state) {
  if (!state->group_change || state->old_group == state->new_group) {
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  if (state->old_group.empty()) {
    AddToGroup(std::move(state));
    return;
  }
  ResolveGroup(state->old_group, /*create=*/false, [this, state](absl::StatusOr<std::string> id) {
    if (!id.ok()) {
      Finish(state, id.status());
      return;
    }
    if (id->empty()) {  // the old group is gone: nothing to leave
      AddToGroup(state);
      return;
    }
    pipeline_->Submit(
        Request("PATCH", Url(absl::StrCat("/Groups/", *id)),
                EncodeGroupMembershipPatch(state->outcome.account_id, /*add=*/false)),
        [this, state](HttpResponse response) {
          state->Count(response);
          const absl::Status status = Enrich(response);
          // Not a member any more (404, or 400 noTarget): the goal is reached.
          const bool not_member = status.code() == absl::StatusCode::kNotFound ||
                                  (status.code() == absl::StatusCode::kInvalidArgument &&
                                   absl::StrContains(status.message(), "noTarget"));
          if (!status.ok() && !not_member) {
            Finish(state, WithPrefix(status, absl::StrCat("leaving group ", state->old_group)));
            return;
          }
          AddToGroup(state);
        });
  });
}

void ScimTarget::AddToGroup(std::shared_ptr<OpState> state) {
  if (state->new_group.empty()) {
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  ResolveGroup(state->new_group, /*create=*/true, [this, state](absl::StatusOr<std::string> id) {
    if (!id.ok()) {
      Finish(state, WithPrefix(id.status(), absl::StrCat("group ", state->new_group)));
      return;
    }
    pipeline_->Submit(Request("PATCH", Url(absl::StrCat("/Groups/", *id)),
                              EncodeGroupMembershipPatch(state->outcome.account_id, /*add=*/true)),
                      [this, state](HttpResponse response) {
                        state->Count(response);
                        Finish(state, WithPrefix(Enrich(response),
                                                 absl::StrCat("joining group ", state->new_group)));
                      });
  });
}

void ScimTarget::ResolveGroup(const std::string& name, bool create, GroupCallback done) {
  bool load = false;
  bool post = false;
  std::optional<std::string> id;
  {
    absl::MutexLock lock(&mu_);
    switch (groups_state_) {
      case GroupCacheState::kNotLoaded:
        groups_state_ = GroupCacheState::kLoading;
        load = true;
        [[fallthrough]];
      case GroupCacheState::kLoading:
        pending_lookups_.push_back({name, create, std::move(done)});
        break;
      case GroupCacheState::kLoaded: {
        auto it = group_ids_.find(name);
        if (it != group_ids_.end()) {
          id = it->second;
        } else if (!create) {
          id = std::string();
        } else {
          auto [waiters, first] = creating_.try_emplace(name);
          waiters->second.push_back(std::move(done));
          post = first;
        }
        break;
      }
    }
  }
  if (load) LoadGroupsPage(1);
  if (post) CreateGroup(name, 0);
  if (id.has_value()) done(std::move(*id));
}

void ScimTarget::LoadGroupsPage(int64_t start_index) {
  const int64_t count = options_.page_size;
  pipeline_->Submit(
      Request("GET", Url(absl::StrCat("/Groups?startIndex=", start_index, "&count=", count,
                                      "&excludedAttributes=members"))),
      [this, start_index](HttpResponse response) {
        absl::Status status = Enrich(response);
        std::vector<ScimGroup> groups;
        int64_t total = 0;
        if (status.ok()) {
          status = WithPrefix(DecodeGroupList(response.body, &groups, &total),
                              absl::StrCat("GET /Groups page at startIndex ", start_index));
        }
        if (!status.ok()) {
          GroupsLoaded(std::move(status));
          return;
        }
        {
          absl::MutexLock lock(&mu_);
          for (ScimGroup& group : groups) {
            group_ids_.try_emplace(std::move(group.display_name), std::move(group.id));
          }
        }
        const int64_t next = start_index + static_cast<int64_t>(groups.size());
        if (!groups.empty() && next <= total) {
          LoadGroupsPage(next);
        } else {
          GroupsLoaded(absl::OkStatus());
        }
      });
}

void ScimTarget::GroupsLoaded(absl::Status status) {
  std::vector<PendingLookup> pending;
  {
    absl::MutexLock lock(&mu_);
    groups_state_ = status.ok() ? GroupCacheState::kLoaded : GroupCacheState::kNotLoaded;
    pending.swap(pending_lookups_);
  }
  for (PendingLookup& lookup : pending) {
    if (status.ok()) {
      ResolveGroup(lookup.name, lookup.create, std::move(lookup.done));
    } else {
      lookup.done(status);
    }
  }
}

void ScimTarget::CreateGroup(const std::string& name, int posts) {
  pipeline_->Submit(
      Request("POST", Url("/Groups"), EncodeGroup(name), /*idempotent=*/false),
      [this, name, posts](HttpResponse response) {
        if (response.status.ok()) {
          absl::StatusOr<ScimGroup> group = DecodeGroup(response.body);
          if (group.ok()) {
            GroupCreated(name, group->id);
          } else if (!response.location.empty()) {
            GroupCreated(name, IdFromLocation(response.location));
          } else {
            GroupCreated(name, WithPrefix(group.status(), "POST /Groups"));
          }
          return;
        }
        if (response.http_status != 409 && !response.ambiguous) {
          GroupCreated(name, Enrich(response));
          return;
        }
        // It exists (409), or may (unknown outcome): look it up by name.
        const absl::Status post_status = Enrich(response);
        pipeline_->Submit(
            Request("GET", Url(absl::StrCat("/Groups?excludedAttributes=members&filter=",
                                            UrlEncode(FilterEq("displayName", name))))),
            [this, name, posts, post_status](HttpResponse lookup) {
              std::vector<ScimGroup> groups;
              int64_t total = 0;
              absl::Status status = Enrich(lookup);
              if (status.ok()) status = DecodeGroupList(lookup.body, &groups, &total);
              if (!status.ok()) {
                GroupCreated(name, std::move(status));
                return;
              }
              for (const ScimGroup& group : groups) {
                if (group.display_name == name) {
                  GroupCreated(name, group.id);
                  return;
                }
              }
              if (post_status.code() == absl::StatusCode::kUnavailable &&
                  posts + 1 < kMaxCreatePosts) {
                CreateGroup(name, posts + 1);
                return;
              }
              GroupCreated(name, post_status);
            });
      });
}

void ScimTarget::GroupCreated(const std::string& name, absl::StatusOr<std::string> id) {
  std::vector<GroupCallback> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (id.ok()) group_ids_[name] = *id;
    auto it = creating_.find(name);
    if (it != creating_.end()) {
      waiters = std::move(it->second);
      creating_.erase(it);
    }
  }
  for (GroupCallback& waiter : waiters) waiter(id);
}

// --- The rest -------------------------------------------------------------------------------

void ScimTarget::Flush() {
  if (BatchQueue<std::shared_ptr<OpState>>* queue = ExistingBulkQueue()) queue->Flush();
}

void ScimTarget::Drain() {
  Flush();
  pipeline_->Drain();
}

void ScimTarget::Cancel() {
  pipeline_->Cancel();
  BatchQueue<std::shared_ptr<OpState>>* queue = ExistingBulkQueue();
  if (queue == nullptr) return;
  for (std::shared_ptr<OpState>& state : queue->TakeAll()) {
    Finish(std::move(state), absl::CancelledError("cancelled before it was sent"));
  }
}

TargetStats ScimTarget::stats() const {
  const PipelineStats p = pipeline_->stats();
  TargetStats s;
  s.requests = p.requests;
  s.retries = p.retries;
  s.throttled = p.throttled;
  s.server_errors = p.server_errors;
  s.transport_errors = p.transport_errors;
  s.wait_seconds = p.rate_wait_seconds + p.backoff_wait_seconds;
  s.rate_wait_seconds = p.rate_wait_seconds;
  s.backoff_wait_seconds = p.backoff_wait_seconds;
  s.current_rate = p.current_rate;
  s.batches = batches_.load();
  s.batched_creates = batched_creates_.load();
  return s;
}

absl::StatusOr<std::unique_ptr<TargetApi>> MakeScimTarget(ScimTargetOptions options) {
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<ScimTarget> target,
                            ScimTarget::Start(std::move(options)));
  return std::unique_ptr<TargetApi>(std::move(target));
}

}  // namespace usersync::io
