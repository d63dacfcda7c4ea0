// GotoTarget's role sets (goto_role_sets.h): the listing reads and names them, and each
// operation that changes a user's role set sends its own request after the user's.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/goto/goto_codec.h"
#include "io/goto/goto_dialect.h"
#include "io/goto/goto_target.h"
#include "io/http/http_util.h"

namespace usersync::io {
namespace {

// Whether `op` asks for a role-set request: a create with a role set, or a role_set change.
bool ChangesRoleSet(const core::Operation& op) {
  if (op.kind == core::OpKind::kCreate) return !op.spec.role_set.empty();
  for (const core::Change& change : op.changes) {
    if (change.field == core::Field::kRoleSet) return true;
  }
  return false;
}

}  // namespace

absl::Status GotoTarget::LoadRoleSets() {
  HttpResponse response = pipeline().Call(Request("GET", "/rolesets"));
  if (!response.status.ok()) {
    return WithPrefix(ReachError(response), "reading the GoTo role sets (custom roles)");
  }
  absl::StatusOr<std::vector<GotoRoleSet>> role_sets = DecodeGotoRoleSets(response.body);
  if (!role_sets.ok()) {
    return WithPrefix(role_sets.status(),
                      absl::StrCat("GET ", Sv(goto_.base()), goto_.account_path(), "/rolesets"));
  }
  absl::MutexLock lock(&role_sets_mu_);
  role_sets_ = RoleSetTable(*std::move(role_sets));
  role_sets_loaded_ = true;
  return absl::OkStatus();
}

absl::Status GotoTarget::LoadRuleRoleSets() {
  USERSYNC_RETURN_IF_ERROR(LoadRoleSets());
  absl::MutexLock lock(&role_sets_mu_);
  for (const std::string& name : options_.role_sets) {
    if (role_sets_.IdOf(name).empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("role_set \"", name, "\" (rules) is not a role set of GoTo account ",
                       goto_.account_key(), "; it has ", role_sets_.Names(),
                       ": define the custom role in GoTo Admin, or correct the rule's role_set"));
    }
  }
  return absl::OkStatus();
}

absl::Status GotoTarget::CheckRoleSets() {
  if (options_.role_sets.empty()) return absl::OkStatus();
  USERSYNC_RETURN_IF_ERROR(LoadRuleRoleSets());
  absl::MutexLock lock(&role_sets_mu_);
  AddFinding(absl::StrCat("role sets: ", role_sets_.Names(), " (GET ", goto_.account_path(),
                          "/rolesets; every role_set the rules name is there)"));
  return absl::OkStatus();
}

absl::StatusOr<core::Accounts> GotoTarget::ListWithRoleSets() {
  USERSYNC_CHECK(!pipeline().OnPipelineThread());
  if (!options_.role_sets.empty()) USERSYNC_RETURN_IF_ERROR(LoadRuleRoleSets());
  USERSYNC_ASSIGN_OR_RETURN(core::Accounts accounts, HttpTarget::ListAccounts());
  bool any_role_set = false;
  for (const core::Account& account : accounts.items) any_role_set |= !account.role_set.empty();
  if (!any_role_set) return accounts;
  bool loaded = false;
  {
    absl::MutexLock lock(&role_sets_mu_);
    loaded = role_sets_loaded_;
  }
  // Users hold role sets the rules do not name: their names make plans readable. Without the
  // listing the ids stand in (any role set still differs from a rule's none).
  if (!loaded && !LoadRoleSets().ok()) return accounts;
  absl::MutexLock lock(&role_sets_mu_);
  for (core::Account& account : accounts.items) {
    if (!account.role_set.empty()) {
      account.role_set = accounts.Store(role_sets_.NamesOf(account.role_set));
    }
  }
  return accounts;
}

void GotoTarget::AfterUser(HttpOpPtr state) {
  const core::Operation& op = *state->op;
  if (!ChangesRoleSet(op)) {
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  const std::string_view email = GotoEmail(op.spec);
  const core::CompactString& name = op.spec.role_set;
  std::string path;
  std::string what;
  if (name.empty()) {
    path = GotoRemoveRoleSetPath(email);
    what = "removing the user's role set";
  } else {
    std::string id;
    {
      absl::MutexLock lock(&role_sets_mu_);
      id = std::string(role_sets_.IdOf(name));
    }
    if (id.empty()) {
      Finish(std::move(state),
             absl::FailedPreconditionError(
                 absl::StrCat("role set \"", Sv(name), "\" is not known (not in GET /rolesets)")));
      return;
    }
    path = GotoAssignRoleSetPath(id, email);
    what = absl::StrCat("assigning role set \"", Sv(name), "\" (id ", id, ")");
  }
  const bool assign = !name.empty();
  pipeline().Submit(Request(assign ? "PUT" : "DELETE", path, assign ? "{}" : ""),
                    [this, state, what](HttpResponse response) {
                      state->Count(response);
                      if (response.status.ok()) {
                        Finish(state, absl::OkStatus());
                      } else {
                        Finish(state, WithPrefix(Enrich(response), what));
                      }
                    });
}

}  // namespace usersync::io
