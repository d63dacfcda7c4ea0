// Helpers for the decoder fuzz targets (fuzz/scim_fuzzer.cc, fuzz/goto_fuzzer.cc): read every
// byte a decoded core::Accounts snapshot views, so ASan reports a view into freed memory.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/accounts.h"
#include "fuzz/fuzz_check.h"

namespace usersync::fuzz {

inline size_t TouchAccounts(const core::Accounts& accounts) {
  size_t sum = 0;
  for (const core::Account& account : accounts.items) {
    sum += TouchText(account.id) + TouchText(account.version);
    for (core::Field field : core::kAllFields) sum += TouchText(account.Get(field));
  }
  return sum;
}

}  // namespace usersync::fuzz
