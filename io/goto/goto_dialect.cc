#include "io/goto/goto_dialect.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "core/str.h"
#include "io/goto/goto_codec.h"
#include "io/http/http_util.h"

namespace usersync::io {
namespace {

// A member error that is worth sending again in a later batch.
bool TransientMemberError(std::string_view code) {
  return code == "TOO_MANY_REQUESTS" || code == "SERVICE_UNAVAILABLE" || code == "INTERNAL" ||
         code == "TIMEOUT" || code == "UNAVAILABLE";
}

// What one member's result means; `what` names the request ("POST /accounts/k/users").
MemberVerdict Verdict(const GotoMemberResult& result, std::string_view email,
                      const std::string& what) {
  MemberVerdict verdict;
  switch (result.kind) {
    case GotoMemberResult::Kind::kCreated:
      if (result.user_key.empty()) {
        verdict.status = absl::DataLossError(absl::StrCat(what, ": created without a userKey"));
        return verdict;  // kLookUp
      }
      verdict.kind = MemberVerdict::Kind::kCreated;
      verdict.account_id = result.user_key;
      verdict.http_status = 201;
      return verdict;
    case GotoMemberResult::Kind::kConflict:
      verdict.kind = MemberVerdict::Kind::kConflict;
      verdict.account_id = result.user_key;
      verdict.status = absl::AlreadyExistsError(
          absl::StrCat(what, ": HTTP 409 (",
                       result.error_code.empty() ? std::string("USER_EXISTS") : result.error_code,
                       ": ", Sv(email), " is taken)"));
      return verdict;
    case GotoMemberResult::Kind::kError:
      if (result.error_code == "NO_SEAT") {
        verdict.kind = MemberVerdict::Kind::kFailed;
        verdict.status = absl::ResourceExhaustedError(
            absl::StrCat("no seat for ", result.product.empty() ? "a product" : result.product,
                         " at the target (", what, ": NO_SEAT)"));
      } else if (TransientMemberError(result.error_code)) {
        verdict.kind = MemberVerdict::Kind::kRetry;
        verdict.status = absl::UnavailableError(
            absl::StrCat(what, ": ", result.error_code, " ", result.message));
      } else {
        verdict.kind = MemberVerdict::Kind::kFailed;
        verdict.status = absl::InvalidArgumentError(absl::StrCat(
            what, ": ", result.error_code, result.message.empty() ? "" : ": ", result.message));
      }
      return verdict;
    case GotoMemberResult::Kind::kListed:
      // GoTo's documented answer lists created and existing (conflicting) users alike
      // (GOTO_API_RESEARCH.md §3a). The driver takes it as created when its own listing showed
      // the email free (GotoTarget::ClaimListedFree); otherwise it is looked up by its key and
      // adopted only if it carries this member's externalId, as any conflict is, else refused
      // as someone else's account (ForeignHolder).
      if (result.user_key.empty()) break;
      verdict.kind = MemberVerdict::Kind::kListed;
      verdict.account_id = result.user_key;
      verdict.http_status = 201;
      verdict.status =
          absl::AlreadyExistsError(absl::StrCat(what, ": the answer lists ", Sv(email), " as user ",
                                                result.user_key, ", created or existing"));
      return verdict;
    case GotoMemberResult::Kind::kUnknown:
      break;
  }
  verdict.account_id = result.user_key;
  verdict.status = absl::UnknownError(absl::StrCat(what, ": unknown member status"));
  return verdict;  // kLookUp
}

}  // namespace

GotoDialect::GotoDialect(std::string_view base, std::string account_key)
    : HttpDialect(DialectTraits{
          /*name=*/"GoTo", /*permission_hint=*/"the token needs the user administration scope",
          /*content_type=*/"application/json", /*page_base=*/0, /*position_name=*/"offset",
          /*total_name=*/"total", /*resend_noun=*/"batch sends", /*lookup_name=*/"email"}),
      base_(base),
      account_key_(std::move(account_key)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  account_path_ = absl::StrCat("/accounts/", UrlEncode(account_key_));
}

std::string GotoDialect::ErrorDetail(const std::string& body) const {
  const GotoError error = DecodeGotoError(body);
  std::string detail = error.code;
  if (!error.message.empty()) absl::StrAppend(&detail, detail.empty() ? "" : ": ", error.message);
  return detail;
}

std::string GotoDialect::Url(std::string_view path_and_query) const {
  return absl::StrCat(base_, account_path_, Sv(path_and_query));
}

std::string GotoDialect::ListPath(int64_t position, int64_t count) const {
  return absl::StrCat("/users?pageSize=", count, "&offset=", position);
}

std::string GotoDialect::ListLabel() const {
  return absl::StrCat("GET ", base_, account_path_, "/users");
}

absl::Status GotoDialect::DecodeListPage(const std::string& body, core::Accounts* out,
                                         int64_t* total) const {
  return DecodeGotoUserList(body, out, total);
}

absl::Status GotoDialect::FirstPageError(const HttpResponse& first) const {
  if (first.http_status != 404) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("the GoTo target at ", base_, " has no account \"",
                                          account_key_, "\" (", Enrich(*this, first).message(),
                                          ")"));
}

absl::StatusOr<std::vector<MemberVerdict>> GotoDialect::MemberVerdicts(
    const std::vector<HttpOpPtr>& members, const std::string& body) const {
  absl::StatusOr<std::vector<GotoMemberResult>> results = DecodeGotoBatchResults(body);
  if (!results.ok()) return results.status();
  const std::string what = BatchLabel();
  // Results come in request order; match by position when the emails agree, else by email.
  absl::flat_hash_map<std::string, size_t> by_email;
  const bool positional = results->size() == members.size();
  if (!positional) {
    for (size_t result_idx = 0; result_idx < results->size(); ++result_idx) {
      by_email.try_emplace(absl::AsciiStrToLower((*results)[result_idx].email), result_idx);
    }
  }
  std::vector<MemberVerdict> verdicts;
  verdicts.reserve(members.size());
  for (size_t member_idx = 0; member_idx < members.size(); ++member_idx) {
    const std::string_view email = GotoEmail(members[member_idx]->op->spec);
    const GotoMemberResult* result = nullptr;
    if (positional && core::EqualsIgnoreCase((*results)[member_idx].email, email)) {
      result = &(*results)[member_idx];
    } else if (!positional) {
      auto it = by_email.find(absl::AsciiStrToLower(Sv(email)));
      if (it != by_email.end()) result = &(*results)[it->second];
    } else {
      for (const GotoMemberResult& candidate : *results) {
        if (core::EqualsIgnoreCase(candidate.email, email)) {
          result = &candidate;
          break;
        }
      }
    }
    if (result == nullptr) {
      // Every member, created or existing, is in GoTo's answer (§3a): one that is not was
      // neither, and is reported, not guessed at.
      MemberVerdict missing;
      missing.kind = MemberVerdict::Kind::kFailed;
      missing.status = absl::DataLossError(absl::StrCat(what, ": the answer (", results->size(),
                                                        " entries) does not list ", Sv(email),
                                                        ", so it was not created"));
      verdicts.push_back(std::move(missing));
      continue;
    }
    verdicts.push_back(Verdict(*result, email, what));
  }
  return verdicts;
}

std::string_view GotoDialect::LookUpValue(const core::AccountSpec& spec) const {
  return GotoEmail(spec);
}

std::string GotoDialect::LookUpPath(std::string_view value, std::string_view holder_key) const {
  if (!holder_key.empty()) return absl::StrCat("/users/", UrlEncode(holder_key));
  return absl::StrCat("/users?pageSize=10&offset=0&filter=",
                      UrlEncode(GotoFilterEq("email", value)));
}

absl::Status GotoDialect::DecodeLookUp(const std::string& body, bool by_key,
                                       core::Accounts* out) const {
  if (by_key) return DecodeGotoUser(body, out);
  int64_t total = 0;
  return DecodeGotoUserList(body, out, &total);
}

std::string GotoDialect::LookUpContext(std::string_view value, bool) const {
  return absl::StrCat("looking up ", Sv(value));
}

absl::Status GotoDialect::ForeignHolder(const core::AccountSpec& spec,
                                        const core::Account& holder) const {
  return absl::AlreadyExistsError(
      absl::StrCat("email ", Sv(GotoEmail(spec)), " already belongs to GoTo user ", Sv(holder.id),
                   holder.external_id.empty()
                       ? std::string(" (no externalId)")
                       : absl::StrCat(" with externalId \"", Sv(holder.external_id), "\""),
                   ", which usersync did not create for directory id ", Sv(spec.external_id),
                   "; match it (usersync match) or remove it"));
}

}  // namespace usersync::io
