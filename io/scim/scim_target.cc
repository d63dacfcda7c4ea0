#include "io/scim/scim_target.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/check.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/http/http_util.h"
#include "io/scim/scim_dialect.h"

namespace usersync::io {
namespace {

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

const core::Change* FindChange(const core::Operation& op, core::Field field) {
  for (const core::Change& change : op.changes) {
    if (change.field == field) return &change;
  }
  return nullptr;
}

// The products a 409 on an update refused: the one the detail names ("NO_SEAT: no free seat
// for product G2W (...)", the emulator's; RFC 7644 has no seat error), else those the change
// adds.
std::string RefusedProducts(const core::Operation& op, std::string_view detail) {
  constexpr std::string_view kMarker = "for product ";
  if (const size_t at = detail.find(kMarker); at != std::string_view::npos) {
    const std::string_view rest = detail.substr(at + kMarker.size());
    return std::string(rest.substr(0, rest.find_first_of(" ,;()")));
  }
  const core::Change* change = FindChange(op, core::Field::kProducts);
  std::vector<absl::string_view> added;
  const std::vector<absl::string_view> before = absl::StrSplit(Sv(change->before), ',');
  for (absl::string_view product : absl::StrSplit(Sv(change->after), ',', absl::SkipEmpty())) {
    if (std::find(before.begin(), before.end(), product) == before.end()) added.push_back(product);
  }
  return added.empty() ? std::string("a product") : absl::StrJoin(added, ", ");
}

// The request an update, link or reactivation sends: PATCH of its changes, or PUT of the whole
// resource; without its products change (the account's products kept) when `with_products` is
// false. An empty body: nothing to send.
std::pair<std::string, std::string> UpdateRequest(const core::Operation& op, bool patch,
                                                  bool with_products) {
  const bool reactivate = op.kind == core::OpKind::kReactivate;
  core::AccountSpec spec = op.spec;
  if (reactivate) spec.active = true;
  std::vector<core::Change> changes;
  for (const core::Change& change : op.changes) {
    if (change.field == core::Field::kProducts && !with_products) {
      spec.products = change.before;
    } else {
      changes.push_back(change);
    }
  }
  if (!patch) return {"PUT", EncodeUser(spec)};
  if (reactivate && FindChange(op, core::Field::kActive) == nullptr) {
    changes.push_back(core::Change{core::Field::kActive, "false", "true"});
  }
  return {"PATCH", EncodePatch(changes, spec)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScimTarget>> ScimTarget::Start(ScimTargetOptions options) {
  USERSYNC_RETURN_IF_ERROR(
      ValidateOptions("SCIM", options.base_url, options.page_size, options.max_accounts));
  std::unique_ptr<ScimTarget> target(new ScimTarget(std::move(options)));
  USERSYNC_RETURN_IF_ERROR(target->StartPipeline(target->options_.pipeline));
  return target;
}

ScimTarget::ScimTarget(ScimTargetOptions options)
    : HttpTarget(std::make_unique<ScimDialect>(options.base_url), options.page_size,
                 options.max_accounts),
      options_(std::move(options)),
      scim_(static_cast<const ScimDialect&>(dialect())) {}

ScimTarget::~ScimTarget() { Shutdown(); }

ScimServiceConfig ScimTarget::service_config() const {
  absl::MutexLock lock(&mu_);
  return config_.value_or(ScimServiceConfig{});
}

// --- Check ----------------------------------------------------------------------------------

absl::Status ScimTarget::ReadServiceConfig(bool strict) {
  HttpResponse response = pipeline().Call(Request("GET", "/ServiceProviderConfig"));
  absl::StatusOr<ScimServiceConfig> config = ScimServiceConfig{};
  if (response.status.ok()) {
    config = DecodeServiceProviderConfig(response.body);
  } else if (response.status.code() != absl::StatusCode::kNotFound) {
    // A server without /ServiceProviderConfig (404) gets the defaults; anything else is real
    // for Check(). Operations go on with the defaults and report their own failures.
    if (strict) return ReachError(response);
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
  if (pipeline().OnPipelineThread()) return;  // cannot block here: defaults apply
  // Best effort: a failure leaves the defaults (PATCH), and the operation itself reports.
  ReadServiceConfig(/*strict=*/false).IgnoreError();
}

absl::Status ScimTarget::Check() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  USERSYNC_RETURN_IF_ERROR(ReadServiceConfig(/*strict=*/true));
  return CheckListing();
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
      if (BatchQueue<HttpOpPtr>* queue = BulkQueue()) {
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

void ScimTarget::UpdateUser(StatePtr state, bool with_products) {
  const core::Operation& op = *state->op;
  const std::string path = absl::StrCat("/Users/", Sv(op.account_id));
  auto [method, body] = UpdateRequest(op, state->patch, with_products);
  if (body.empty()) {  // only the user group changed (or nothing: a bare link)
    UserGroupStep(std::move(state));
    return;
  }
  pipeline().Submit(Request(method, path, std::move(body)), [this, state](HttpResponse response) {
    state->Count(response);
    absl::Status status = Enrich(response);  // a 2xx carrying a SCIM Error fails too
    if (!status.ok() && response.http_status == 409 && state->products_refused.ok() &&
        FindChange(*state->op, core::Field::kProducts) != nullptr) {
      const std::string detail = scim_.ErrorDetail(response.body);
      if (!absl::StartsWith(detail, "uniqueness")) {
        // Not a user name conflict: taken as the products refused (no seat). The rest goes
        // again without them; a conflict of another kind fails that retry as well.
        state->products_refused = absl::ResourceExhaustedError(
            absl::StrCat("no seat for ", RefusedProducts(*state->op, detail), " at the target (",
                         status.message(), "); the other changes were applied"));
        UpdateUser(state, /*with_products=*/false);
        return;
      }
    }
    if (!status.ok()) {
      Finish(state, std::move(status));
      return;
    }
    UserGroupStep(state);
  });
}

void ScimTarget::DeactivateUser(StatePtr state) {
  const std::string path = absl::StrCat("/Users/", Sv(state->op->account_id));
  auto finish = [this, state](HttpResponse response) {
    state->Count(response);
    Finish(state, Enrich(response));
  };
  if (state->patch) {
    pipeline().Submit(Request("PATCH", path, EncodeActivePatch(false)), std::move(finish));
    return;
  }
  // Without PATCH: read the resource, then PUT it back inactive.
  pipeline().Submit(Request("GET", path), [this, state, path, finish](HttpResponse response) {
    state->Count(response);
    absl::Status status = Enrich(response);
    if (!status.ok()) {
      Finish(state, std::move(status));
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
    pipeline().Submit(Request("PUT", path, EncodeUser(spec)), finish);
  });
}

void ScimTarget::DeleteUser(StatePtr state) {
  pipeline().Submit(Request("DELETE", absl::StrCat("/Users/", Sv(state->op->account_id))),
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

absl::StatusOr<std::unique_ptr<TargetApi>> MakeScimTarget(ScimTargetOptions options) {
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<ScimTarget> target,
                            ScimTarget::Start(std::move(options)));
  return std::unique_ptr<TargetApi>(std::move(target));
}

}  // namespace usersync::io
