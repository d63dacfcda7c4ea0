// USERSYNC_CHECK: an always-on invariant for can't-happen-after-init conditions. Never use it on
// data that came from LDAP, HTTP or a file: such data is reported, not asserted.
#pragma once

#include <cstdio>
#include <cstdlib>

#define USERSYNC_CHECK(cond)                                                                 \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: USERSYNC_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)
