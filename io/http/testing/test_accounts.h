// Test users and operations shared by the HTTP drivers' and codecs' unit tests (io/scim,
// io/goto). Header-only, test-only; plain values, no threads.
#pragma once

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/plan.h"

namespace usersync::io::http_testing {

// Ann Lee, the codecs' example user: every attribute set (products G2M,G2W, manager, group
// Sales, welcome template "onboarding", language de_DE, externalId dir-1).
inline core::AccountSpec AnnSpec() {
  core::AccountSpec spec;
  spec.user_name = "ann@example.com";
  spec.email = spec.user_name;
  spec.external_id = "dir-1";
  spec.first_name = "Ann";
  spec.last_name = "Lee";
  spec.display_name = "Ann Lee";
  spec.language = "de_DE";
  spec.products = "G2M,G2W";
  spec.admin_role = "manager";
  spec.user_group = "Sales";
  spec.welcome_template = "onboarding";
  return spec;
}

// user<i>@example.com, externalId dir-<i>, First<i> Last<i>.
inline core::AccountSpec TestSpec(int i, std::string products = {}) {
  core::AccountSpec spec;
  spec.user_name = absl::StrCat("user", i, "@example.com");
  spec.email = spec.user_name;
  spec.external_id = absl::StrCat("dir-", i);
  spec.first_name = absl::StrCat("First", i);
  spec.last_name = absl::StrCat("Last", i);
  spec.display_name = absl::StrCat("First", i, " Last", i);
  spec.products = std::move(products);
  return spec;
}

inline core::Operation CreateOp(const core::AccountSpec& spec) {
  core::Operation op;
  op.kind = core::OpKind::kCreate;
  op.directory_id = spec.external_id;
  op.email = spec.user_name;
  op.spec = spec;
  return op;
}

// An operation on an existing account (update, link, deactivate, ...); set spec and changes
// as the case needs.
inline core::Operation AccountOp(core::OpKind kind, std::string account_id) {
  core::Operation op;
  op.kind = kind;
  op.account_id = std::move(account_id);
  return op;
}

}  // namespace usersync::io::http_testing
