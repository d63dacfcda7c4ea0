#include "io/goto/goto_target.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

// --- Check and seats ------------------------------------------------------------------------

absl::Status GotoTarget::Check() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  HttpResponse account = pipeline().Call(Request("GET", ""));
  if (account.http_status == 404) {
    return absl::NotFoundError(absl::StrCat(
        "the GoTo target at ", Sv(goto_.base()), " has no account \"", goto_.account_key(),
        "\"; check target.account_key (", Enrich(account).message(), ")"));
  }
  if (!account.status.ok()) return ReachError(account);
  return CheckListing();
}

absl::StatusOr<FreeSeatList> GotoTarget::FreeSeats() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  HttpResponse response = pipeline().Call(Request("GET", "/licenses"));
  if (!response.status.ok()) {
    return WithPrefix(ReachError(response), "reading the GoTo licenses (free seats)");
  }
  absl::StatusOr<FreeSeatList> seats = DecodeGotoLicenses(response.body);
  if (!seats.ok()) {
    return WithPrefix(seats.status(),
                      absl::StrCat("GET ", Sv(goto_.base()), goto_.account_path(), "/licenses"));
  }
  return seats;
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
  switch (op.kind) {
    case core::OpKind::kCreate:
      queue()->Add(std::move(state));
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
      Finish(state, absl::ResourceExhaustedError(absl::StrCat(
                        "no seat for ", error.product.empty() ? "a product" : error.product,
                        " at the target (", Enrich(response).message(), ")")));
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
  std::vector<const core::AccountSpec*> specs;
  specs.reserve(members.size());
  for (const HttpOpPtr& member : members) {
    ++member->sends;
    specs.push_back(&member->op->spec);
  }
  CountBatch(members.size());
  std::string body = EncodeGotoCreateBatch(specs, options_.suppress_email);
  pipeline().Submit(Request("POST", "/users", std::move(body), /*idempotent=*/false),
                    [this, members = std::move(members), from_queue](HttpResponse response) {
                      OnBatchAnswer(members, response);
                      // After the retried members were re-queued: they may go out now.
                      if (from_queue) queue()->BatchDone();
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
