// GotoDialect: the GoTo admin API shape as an HttpDialect (DESIGN.md "Target kinds"): URLs under
// /accounts/{accountKey}, 0-based `offset` paging with `pageSize`, batch answers read member by
// member, look-ups by userKey or by `email eq "..."`, and GoTo's {"errorCode", "message"} error
// bodies. The GoTo driver (goto_target.h) runs it on the shared HttpTarget skeleton.
//
// Thread-safety: immutable after construction; every method is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/http/http_target.h"

namespace usersync::io {

class GotoDialect final : public HttpDialect {
 public:
  // `base`: e.g. http://127.0.0.1:8080/admin/rest/v1 (a trailing '/' is ignored).
  GotoDialect(std::string_view base, std::string account_key);

  const std::string& account_key() const { return account_key_; }
  const std::string& account_path() const { return account_path_; }  // "/accounts/<key>"

  std::string_view base() const override { return base_; }
  std::string ErrorDetail(const std::string& body) const override;

  std::string Url(std::string_view path_and_query) const override;

  std::string ListPath(int64_t position, int64_t count) const override;
  std::string ListLabel() const override;
  absl::Status DecodeListPage(const std::string& body, core::Accounts* out,
                              int64_t* total) const override;
  absl::Status FirstPageError(const HttpResponse& first) const override;

  std::string BatchLabel() const override { return absl::StrCat("POST ", account_path_, "/users"); }
  bool HasMemberResults(const HttpResponse& response) const override {
    return response.status.ok() || response.http_status == 409;
  }
  absl::StatusOr<std::vector<MemberVerdict>> MemberVerdicts(const std::vector<HttpOpPtr>& members,
                                                            const std::string& body) const override;

  std::string_view LookUpValue(const core::AccountSpec& spec) const override;
  std::string_view AccountValue(const core::Account& account) const override {
    return account.email;
  }
  std::string LookUpPath(std::string_view value, std::string_view holder_key) const override;
  absl::Status DecodeLookUp(const std::string& body, bool by_key,
                            core::Accounts* out) const override;
  std::string LookUpContext(std::string_view value, bool decoding) const override;
  absl::Status ForeignHolder(const core::AccountSpec& spec,
                             const core::Account& holder) const override;

 private:
  std::string base_;
  std::string account_key_;
  std::string account_path_;
};

}  // namespace usersync::io
