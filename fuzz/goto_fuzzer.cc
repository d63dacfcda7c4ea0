// Fuzz target: the GoTo answer decoders (io/goto/goto_codec.h), each run on the same body: the
// users listing, one user, a batch create answer, the licenses and an error body. One body for
// all, so that a seed of any kind reaches every decoder.
// Properties: no crash or UB; every decoded view is readable; an error's message stays within
// its documented 200 bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/accounts.h"
#include "fuzz/fuzz_accounts.h"
#include "fuzz/fuzz_check.h"
#include "io/goto/goto_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(usersync::fuzz::AsText(data, size));
  volatile size_t sink = 0;
  {
    usersync::core::Accounts page;
    int64_t total = -1;
    (void)usersync::io::DecodeGotoUserList(body, &page, &total);
    sink = sink + usersync::fuzz::TouchAccounts(page);
  }
  {
    usersync::core::Accounts user;
    (void)usersync::io::DecodeGotoUser(body, &user);
    sink = sink + usersync::fuzz::TouchAccounts(user);
  }
  (void)usersync::io::DecodeGotoBatchResults(body);
  (void)usersync::io::DecodeGotoLicenses(body);
  const usersync::io::GotoError error = usersync::io::DecodeGotoError(body);
  usersync::fuzz::Check(error.message.size() <= 200, "GotoError.message is at most 200 bytes",
                        error.message);
  return 0;
}
