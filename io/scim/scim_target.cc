#include "io/scim/scim_target.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

void ScimTarget::UpdateUser(StatePtr state) {
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
  pipeline().Submit(Request(method, path, std::move(body)), [this, state](HttpResponse response) {
    state->Count(response);
    absl::Status status = Enrich(response);  // a 2xx carrying a SCIM Error fails too
    if (!status.ok()) {
      Finish(state, std::move(status));
      return;
    }
    UserGroupStep(state);
  });
}

void ScimTarget::DeactivateUser(StatePtr state) {
  const std::string path = absl::StrCat("/Users/", state->op->account_id);
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
  pipeline().Submit(Request("DELETE", absl::StrCat("/Users/", state->op->account_id)),
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
