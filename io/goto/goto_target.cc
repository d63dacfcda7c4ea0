#include "io/goto/goto_target.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/check.h"
#include "core/retry.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/goto/goto_codec.h"

namespace usersync::io {
namespace {

constexpr int kMaxCreateSends = 3;  // batch sends of one member while outcomes stay unknown
constexpr int kMaxBatch = 1000;     // GoTo takes 1 to 1000 users per batch
constexpr std::string_view kJson = "application/json";

// Percent-encodes everything but RFC 3986 unreserved characters (for a path segment or a query
// value).
std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

absl::Status WithPrefix(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Sv(prefix), ": ", status.message()));
}

// The pipeline's status plus GoTo's "(CODE: message)" when the answer carries one.
absl::Status Enrich(const HttpResponse& response) {
  if (response.status.ok() || response.http_status < 400) return response.status;
  const GotoError error = DecodeGotoError(response.body);
  if (error.code.empty() && error.message.empty()) return response.status;
  std::string detail = error.code;
  if (!error.message.empty()) absl::StrAppend(&detail, detail.empty() ? "" : ": ", error.message);
  return absl::Status(response.status.code(),
                      absl::StrCat(response.status.message(), " (", detail, ")"));
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

std::string_view SpecEmail(const core::AccountSpec& spec) {
  return spec.email.empty() ? spec.user_name : spec.email;
}

// A member error that is worth sending again in a later batch.
bool TransientMemberError(std::string_view code) {
  return code == "TOO_MANY_REQUESTS" || code == "SERVICE_UNAVAILABLE" || code == "INTERNAL" ||
         code == "TIMEOUT" || code == "UNAVAILABLE";
}

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

// What a failed call means for reaching the target at all.
absl::Status ReachError(const HttpResponse& response, std::string_view base) {
  if (response.status.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat("the GoTo target at ", Sv(base),
                     " rejected the bearer token; check the variable named by target.token_env (",
                     Enrich(response).message(), ")"));
  }
  if (response.status.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(
        absl::StrCat("the GoTo target at ", Sv(base),
                     " accepted the token but does not allow this call; the token needs the user "
                     "administration scope (",
                     Enrich(response).message(), ")"));
  }
  if (response.http_status == 0 && response.status.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat("cannot reach the GoTo target at ", Sv(base), ": ",
                                               response.status.message()));
  }
  return Enrich(response);
}

}  // namespace

// One operation in progress.
struct GotoTarget::OpState {
  const core::Operation* op = nullptr;
  std::function<void(OpOutcome)> done;
  OpOutcome outcome;
  int sends = 0;  // create: batch sends that carried this member

  void Count(const HttpResponse& response) {
    outcome.attempts += response.attempts;
    outcome.http_status = response.http_status;
  }
};

absl::StatusOr<std::unique_ptr<GotoTarget>> GotoTarget::Start(GotoTargetOptions options) {
  if (!absl::StartsWith(options.base_url, "http://") &&
      !absl::StartsWith(options.base_url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target.url must be an http:// or https:// URL, got \"", options.base_url, "\""));
  }
  if (options.account_key.empty()) {
    return absl::InvalidArgumentError(
        "target.account_key is required for target.kind = \"goto\" (the GoTo account's key)");
  }
  if (options.page_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("GoTo page size must be at least 1, got ", options.page_size));
  }
  if (options.batch < 1 || options.batch > kMaxBatch) {
    return absl::InvalidArgumentError(absl::StrCat("target.batch must be between 1 and ", kMaxBatch,
                                                   " for GoTo, got ", options.batch));
  }
  std::unique_ptr<GotoTarget> target(new GotoTarget(std::move(options)));
  USERSYNC_ASSIGN_OR_RETURN(target->pipeline_, HttpPipeline::Start(target->options_.pipeline));
  GotoTarget* raw = target.get();
  target->queue_ = std::make_unique<BatchQueue<StatePtr>>(
      static_cast<size_t>(raw->options_.batch),
      [raw](std::vector<StatePtr> members) { raw->SendBatch(std::move(members), true); },
      [raw](std::function<void()> task) { raw->pipeline_->Post(std::move(task)); });
  return target;
}

GotoTarget::GotoTarget(GotoTargetOptions options) : options_(std::move(options)) {
  base_ = options_.base_url;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  account_path_ = absl::StrCat("/accounts/", UrlEncode(options_.account_key));
}

GotoTarget::~GotoTarget() {
  // Held creates go out before the pipeline drains (its destructor runs next).
  if (queue_ != nullptr) queue_->Flush();
}

std::string GotoTarget::Url(std::string_view path_and_query) const {
  return absl::StrCat(base_, account_path_, Sv(path_and_query));
}

HttpRequest GotoTarget::Request(std::string method, std::string path_and_query, std::string body,
                                bool idempotent) const {
  HttpRequest request;
  request.method = std::move(method);
  request.url = Url(path_and_query);
  request.body = std::move(body);
  request.content_type = std::string(kJson);
  request.idempotent = idempotent;
  return request;
}

// --- Check, listing, seats ------------------------------------------------------------------

absl::Status GotoTarget::Check() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  HttpResponse account = pipeline_->Call(Request("GET", ""));
  if (account.http_status == 404) {
    return absl::NotFoundError(absl::StrCat("the GoTo target at ", base_, " has no account \"",
                                            options_.account_key, "\"; check target.account_key (",
                                            Enrich(account).message(), ")"));
  }
  if (!account.status.ok()) return ReachError(account, base_);
  HttpResponse users = pipeline_->Call(Request("GET", "/users?pageSize=1&offset=0"));
  if (!users.status.ok()) return ReachError(users, base_);
  core::Accounts accounts;
  int64_t total = 0;
  return WithPrefix(DecodeGotoUserList(users.body, &accounts, &total),
                    absl::StrCat("GET ", base_, account_path_, "/users"));
}

namespace {

// A listing in progress: pages decode into one Accounts (on the pipeline thread, one at a time)
// and remember which items they added.
struct ListState {
  struct Page {
    int64_t offset;
    size_t begin;
    size_t end;
  };
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  absl::Status error ABSL_GUARDED_BY(mu);
  int64_t error_offset ABSL_GUARDED_BY(mu) = 0;
  std::vector<Page> pages ABSL_GUARDED_BY(mu);
  // Written only by page callbacks (serialized on the pipeline thread); read by the listing
  // thread once `pending` is 0 (the mutex orders the two).
  core::Accounts accounts;
  int64_t total = 0;

  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pending == 0; }
  void Fail(absl::Status status, int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (error.ok() || offset < error_offset) {
      error = std::move(status);
      error_offset = offset;
    }
  }
};

std::string PageQuery(int64_t offset, int64_t count) {
  return absl::StrCat("/users?pageSize=", count, "&offset=", offset);
}

}  // namespace

absl::StatusOr<core::Accounts> GotoTarget::ListAccounts() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  const int64_t page_size = options_.page_size;
  HttpResponse first = pipeline_->Call(Request("GET", PageQuery(0, page_size)));
  if (first.http_status == 404) {
    return absl::NotFoundError(absl::StrCat("the GoTo target at ", base_, " has no account \"",
                                            options_.account_key, "\" (", Enrich(first).message(),
                                            ")"));
  }
  if (!first.status.ok()) return ReachError(first, base_);

  auto state = std::make_shared<ListState>();
  const std::string where = absl::StrCat("GET ", base_, account_path_, "/users");
  USERSYNC_RETURN_IF_ERROR(
      WithPrefix(DecodeGotoUserList(first.body, &state->accounts, &state->total),
                 absl::StrCat(where, " page at offset 0")));
  const int64_t got = static_cast<int64_t>(state->accounts.items.size());
  {
    absl::MutexLock lock(&state->mu);
    state->pages.push_back({0, 0, state->accounts.items.size()});
  }
  if (got < state->total) {
    if (got == 0) {
      return absl::DataLossError(
          absl::StrCat(where, ": total is ", state->total, " but the first page holds no users"));
    }
    // The server may cap the page size below ours (GoTo: 1000): page by what it gave.
    const int64_t per_page = std::min<int64_t>(got, page_size);
    std::function<void(int64_t, int64_t)> fetch;
    // `fetch` is captured by reference in callbacks: it outlives them (we wait below).
    fetch = [this, state, &fetch, &where](int64_t offset, int64_t count) {
      {
        absl::MutexLock lock(&state->mu);
        ++state->pending;
      }
      pipeline_->Submit(Request("GET", PageQuery(offset, count)), [state, &fetch, &where, offset,
                                                                   count](HttpResponse response) {
        absl::Status status = Enrich(response);
        const size_t begin = state->accounts.items.size();
        if (status.ok()) {
          int64_t ignored_total = 0;
          status = WithPrefix(DecodeGotoUserList(response.body, &state->accounts, &ignored_total),
                              absl::StrCat(where, " page at offset ", offset));
        }
        const size_t end = state->accounts.items.size();
        const int64_t page_got = static_cast<int64_t>(end - begin);
        // A short page before the end: ask for the rest of it.
        if (status.ok() && page_got > 0 && page_got < count && offset + page_got < state->total) {
          fetch(offset + page_got, count - page_got);
        }
        absl::MutexLock lock(&state->mu);
        if (status.ok()) {
          state->pages.push_back({offset, begin, end});
        } else {
          state->Fail(std::move(status), offset);
        }
        --state->pending;
      });
    };
    for (int64_t offset = got; offset < state->total; offset += per_page) {
      fetch(offset, per_page);
    }
    absl::MutexLock lock(&state->mu);
    state->mu.Await(absl::Condition(state.get(), &ListState::Done));
  }

  absl::MutexLock lock(&state->mu);
  if (!state->error.ok()) return state->error;
  std::sort(state->pages.begin(), state->pages.end(),
            [](const ListState::Page& a, const ListState::Page& b) { return a.offset < b.offset; });
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

absl::StatusOr<FreeSeatList> GotoTarget::FreeSeats() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  HttpResponse response = pipeline_->Call(Request("GET", "/licenses"));
  if (!response.status.ok()) {
    return WithPrefix(ReachError(response, base_), "reading the GoTo licenses (free seats)");
  }
  absl::StatusOr<FreeSeatList> seats = DecodeGotoLicenses(response.body);
  if (!seats.ok()) {
    return WithPrefix(seats.status(), absl::StrCat("GET ", base_, account_path_, "/licenses"));
  }
  return seats;
}

// --- Operations -----------------------------------------------------------------------------

void GotoTarget::Execute(const core::Operation& op, std::function<void(OpOutcome)> done) {
  auto state = std::make_shared<OpState>();
  state->op = &op;
  state->done = std::move(done);
  state->outcome.account_id = op.account_id;
  if (op.kind != core::OpKind::kCreate && op.account_id.empty()) {
    Finish(std::move(state), absl::InvalidArgumentError("the operation names no account id"));
    return;
  }
  switch (op.kind) {
    case core::OpKind::kCreate:
      queue_->Add(std::move(state));
      return;
    case core::OpKind::kUpdate:
    case core::OpKind::kLink:
      Put(state, EncodeGotoUpdate(op.changes, op.spec, std::nullopt));
      return;
    case core::OpKind::kReactivate:
      Put(state, EncodeGotoUpdate(op.changes, op.spec, true));
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

void GotoTarget::Put(StatePtr state, std::string body) {
  if (body.empty()) {  // nothing GoTo holds changed (e.g. display_name only)
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  const std::string path = absl::StrCat("/users/", UrlEncode(state->op->account_id));
  pipeline_->Submit(Request("PUT", path, std::move(body)), [this, state](HttpResponse response) {
    state->Count(response);
    if (response.status.ok()) {
      Finish(state, absl::OkStatus());
      return;
    }
    const GotoError error = DecodeGotoError(response.body);
    if (response.http_status == 409 && error.code == "NO_SEAT") {
      Finish(state, absl::ResourceExhaustedError(absl::StrCat(
                        "no seat for ", error.product.empty() ? "a product" : error.product,
                        " at the target (", Enrich(response).message(), ")")));
      return;
    }
    if (response.http_status == 409 && error.code == "USER_EXISTS") {
      Finish(state,
             absl::AlreadyExistsError(absl::StrCat("the new email ", Sv(SpecEmail(state->op->spec)),
                                                   " already belongs to GoTo user ", error.user_key,
                                                   " (", Enrich(response).message(), ")")));
      return;
    }
    Finish(state, Enrich(response));
  });
}

void GotoTarget::SendBatch(std::vector<StatePtr> members, bool from_queue) {
  std::vector<const core::AccountSpec*> specs;
  specs.reserve(members.size());
  for (const StatePtr& member : members) {
    ++member->sends;
    specs.push_back(&member->op->spec);
  }
  ++batches_;
  batched_creates_ += static_cast<int64_t>(members.size());
  std::string body = EncodeGotoCreateBatch(specs, options_.suppress_email);
  pipeline_->Submit(Request("POST", "/users", std::move(body), /*idempotent=*/false),
                    [this, members = std::move(members), from_queue](HttpResponse response) {
                      OnBatchAnswer(members, response);
                      // After the retried members were re-queued: they may go out now.
                      if (from_queue) queue_->BatchDone();
                    });
}

void GotoTarget::OnBatchAnswer(std::vector<StatePtr> members, const HttpResponse& response) {
  // The request's attempts are shared by its members: each counts them (they all waited).
  for (const StatePtr& member : members) member->Count(response);
  const std::string what = absl::StrCat("POST ", account_path_, "/users");

  if (response.status.ok() || response.http_status == 409) {
    absl::StatusOr<std::vector<GotoMemberResult>> results = DecodeGotoBatchResults(response.body);
    if (!results.ok()) {
      // No per-member answer: find out member by member.
      const absl::Status why = WithPrefix(results.status(), what);
      for (StatePtr& member : members) {
        LookUpCreated(member, "", /*after_unknown_outcome=*/response.status.ok(),
                      response.status.ok() ? why : Enrich(response));
      }
      return;
    }
    // Results come in request order; match by position when the emails agree, else by email.
    absl::flat_hash_map<std::string, size_t> by_email;
    const bool positional = results->size() == members.size();
    if (!positional) {
      for (size_t result_idx = 0; result_idx < results->size(); ++result_idx) {
        by_email.try_emplace(absl::AsciiStrToLower((*results)[result_idx].email), result_idx);
      }
    }
    for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
      StatePtr& member = members[member_idx];
      const std::string_view email = SpecEmail(member->op->spec);
      const GotoMemberResult* result = nullptr;
      if (positional && absl::EqualsIgnoreCase(Sv((*results)[member_idx].email), Sv(email))) {
        result = &(*results)[member_idx];
      } else if (!positional) {
        auto it = by_email.find(absl::AsciiStrToLower(Sv(email)));
        if (it != by_email.end()) result = &(*results)[it->second];
      } else {
        for (const GotoMemberResult& candidate : *results) {
          if (absl::EqualsIgnoreCase(Sv(candidate.email), Sv(email))) {
            result = &candidate;
            break;
          }
        }
      }
      if (result == nullptr) {
        LookUpCreated(
            member, "", /*after_unknown_outcome=*/true,
            absl::UnknownError(absl::StrCat(what, ": the answer does not mention ", Sv(email))));
        continue;
      }
      switch (result->kind) {
        case GotoMemberResult::Kind::kCreated:
          if (result->user_key.empty()) {
            LookUpCreated(member, "", /*after_unknown_outcome=*/true,
                          absl::DataLossError(absl::StrCat(what, ": created without a userKey")));
          } else {
            member->outcome.account_id = result->user_key;
            member->outcome.http_status = 201;
            Finish(member, absl::OkStatus());
          }
          break;
        case GotoMemberResult::Kind::kConflict:
          LookUpCreated(
              member, result->user_key, /*after_unknown_outcome=*/false,
              absl::AlreadyExistsError(absl::StrCat(
                  what, ": HTTP 409 (",
                  result->error_code.empty() ? std::string("USER_EXISTS") : result->error_code,
                  ": ", Sv(email), " is taken)")));
          break;
        case GotoMemberResult::Kind::kError:
          if (result->error_code == "NO_SEAT") {
            Finish(member,
                   absl::ResourceExhaustedError(absl::StrCat(
                       "no seat for ", result->product.empty() ? "a product" : result->product,
                       " at the target (", what, ": NO_SEAT)")));
          } else if (TransientMemberError(result->error_code)) {
            RetryCreate(member, absl::UnavailableError(absl::StrCat(what, ": ", result->error_code,
                                                                    " ", result->message)));
          } else {
            Finish(member, absl::InvalidArgumentError(
                               absl::StrCat(what, ": ", result->error_code,
                                            result->message.empty() ? "" : ": ", result->message)));
          }
          break;
        case GotoMemberResult::Kind::kUnknown:
          LookUpCreated(member, result->user_key, /*after_unknown_outcome=*/true,
                        absl::UnknownError(absl::StrCat(what, ": unknown member status")));
          break;
      }
    }
    return;
  }

  if (response.ambiguous) {
    // The batch may or may not have been applied: look every member up before sending again.
    for (StatePtr& member : members) {
      LookUpCreated(member, "", /*after_unknown_outcome=*/true, Enrich(response));
    }
    return;
  }

  if (response.http_status == 400 || response.http_status == 422) {
    // GoTo refuses the whole batch for one bad member and creates nothing: take that member
    // out and send the others again.
    const absl::Status status = Enrich(response);
    const int64_t bad = MemberIndexOf(StdSv(status.message()));
    if (bad >= 0 && static_cast<size_t>(bad) < members.size() && members.size() > 1) {
      for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
        if (static_cast<int64_t>(member_idx) == bad) {
          Finish(members[member_idx], status);
        } else {
          --members[member_idx]->sends;  // nothing was created: this send does not count
          queue_->Add(members[member_idx]);
        }
      }
      return;
    }
    if (members.size() > 1) {
      // Which member is wrong is not said: each one on its own.
      for (StatePtr& member : members) {
        --member->sends;
        SendBatch({member}, /*from_queue=*/false);
      }
      return;
    }
  }
  // 401, 403, 404, retries exhausted, cancelled, ...: every member shares the failure.
  const absl::Status status = Enrich(response);
  for (StatePtr& member : members) Finish(member, status);
}

void GotoTarget::RetryCreate(StatePtr state, absl::Status why) {
  if (state->sends >= kMaxCreateSends) {
    Finish(std::move(state),
           absl::Status(why.code(), absl::StrCat(why.message(), " (gave up after ", state->sends,
                                                 " batch sends)")));
    return;
  }
  queue_->Add(std::move(state));
}

void GotoTarget::LookUpCreated(StatePtr state, std::string user_key, bool after_unknown_outcome,
                               absl::Status why) {
  const std::string email(SpecEmail(state->op->spec));
  const bool by_key = !user_key.empty();
  const std::string path = by_key ? absl::StrCat("/users/", UrlEncode(user_key))
                                  : absl::StrCat("/users?pageSize=10&offset=0&filter=",
                                                 UrlEncode(GotoFilterEq("email", email)));
  pipeline_->Submit(Request("GET", path), [this, state, email, by_key, after_unknown_outcome,
                                           why](HttpResponse response) {
    state->Count(response);
    const core::AccountSpec& spec = state->op->spec;
    core::Accounts found;
    absl::Status decoded;
    if (response.status.ok()) {
      int64_t total = 0;
      decoded = by_key ? DecodeGotoUser(response.body, &found)
                       : DecodeGotoUserList(response.body, &found, &total);
    } else if (!(by_key && response.http_status == 404)) {
      Finish(state, WithPrefix(Enrich(response),
                               absl::StrCat("looking up ", email, " after: ", why.message())));
      return;
    }
    if (!decoded.ok()) {
      Finish(state, WithPrefix(decoded, absl::StrCat("looking up ", email)));
      return;
    }
    const core::Account* match = nullptr;
    for (const core::Account& account : found.items) {
      if (absl::EqualsIgnoreCase(Sv(account.email), Sv(email))) {
        match = &account;
        break;
      }
    }
    if (match != nullptr) {
      if (!spec.external_id.empty() && match->external_id == spec.external_id) {
        // Ours: created by this batch (unknown outcome) or by an earlier, interrupted run.
        state->outcome.account_id = std::string(match->id);
        Finish(state, absl::OkStatus());
        return;
      }
      Finish(state, absl::AlreadyExistsError(absl::StrCat(
                        "email ", email, " already belongs to GoTo user ", Sv(match->id),
                        match->external_id.empty()
                            ? std::string(" (no externalId)")
                            : absl::StrCat(" with externalId \"", Sv(match->external_id), "\""),
                        ", which usersync did not create for directory id ", spec.external_id,
                        "; match it (usersync match) or remove it")));
      return;
    }
    if (by_key) {
      // The holder named by the conflict is gone (or renamed): look for the email itself.
      LookUpCreated(state, "", after_unknown_outcome, why);
      return;
    }
    if (after_unknown_outcome) {
      RetryCreate(state, why);  // the lost batch did not create it: send it again
      return;
    }
    Finish(state, absl::AlreadyExistsError(absl::StrCat(why.message(), "; no user with email ",
                                                        email, " is visible to a filter")));
  });
}

void GotoTarget::Finish(StatePtr state, absl::Status status) {
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

// --- The rest -------------------------------------------------------------------------------

void GotoTarget::Flush() { queue_->Flush(); }

void GotoTarget::Drain() {
  USERSYNC_CHECK(!pipeline_->OnPipelineThread());
  queue_->Flush();
  pipeline_->Drain();
}

void GotoTarget::Cancel() {
  pipeline_->Cancel();
  for (StatePtr& state : queue_->TakeAll()) {
    Finish(std::move(state), absl::CancelledError("cancelled before it was sent"));
  }
}

TargetStats GotoTarget::stats() const {
  const PipelineStats p = pipeline_->stats();
  TargetStats s;
  s.requests = p.requests;
  s.retries = p.retries;
  s.throttled = p.throttled;
  s.server_errors = p.server_errors;
  s.transport_errors = p.transport_errors;
  s.rate_wait_seconds = p.rate_wait_seconds;
  s.backoff_wait_seconds = p.backoff_wait_seconds;
  s.wait_seconds = p.rate_wait_seconds + p.backoff_wait_seconds;
  s.current_rate = p.current_rate;
  s.batches = batches_.load();
  s.batched_creates = batched_creates_.load();
  return s;
}

absl::StatusOr<std::unique_ptr<TargetApi>> MakeGotoTarget(GotoTargetOptions options) {
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<GotoTarget> target,
                            GotoTarget::Start(std::move(options)));
  return std::unique_ptr<TargetApi>(std::move(target));
}

}  // namespace usersync::io
