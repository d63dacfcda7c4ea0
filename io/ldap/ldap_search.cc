// What one search thread of an LDAP read does on its connection (see io/ldap/ldap_reader.h):
// the paged search, the decoding of its entries, and Active Directory's ranged retrieval.
#include <ldap.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/retry.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/directory/attribute_name.h"
#include "io/ldap/ldap_reader.h"

namespace usersync::io::ldap_internal {
namespace {

using core::EqualsIgnoreCase;

// ldap_result() waits in slices this long, so a search notices a stop request quickly.
constexpr std::chrono::milliseconds kPollSlice{100};
// Follow-up range reads of one group before it is declared broken (AD gives 1,500 values a
// read: this is 1.5 billion members).
constexpr int kMaxRangeReads = 1'000'000;

// The DN of search entry `msg`, for a message ("?" when it cannot be decoded).
std::string EntryDn(LDAP* ld, LDAPMessage* msg) {
  char* dn = ldap_get_dn(ld, msg);
  if (dn == nullptr) return "?";
  std::string out(dn);
  ldap_memfree(dn);
  return out;
}

}  // namespace

absl::StatusOr<MessagePtr> LdapReader::NextMessage(LDAP* ld, int msgid, std::string_view what) {
  const core::MonoTime deadline = options_.clock->Now() + options_.timeout;
  while (true) {
    if (Stopped()) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      return MessagePtr();
    }
    if (options_.read_coalesce.count() > 0 && !InputPending(ld)) {
      absl::SleepFor(absl::FromChrono(options_.read_coalesce));
    }
    timeval slice = ToTimeval(kPollSlice);
    LDAPMessage* msg = nullptr;
    const int rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &slice, &msg);
    if (rc > 0) return MessagePtr(msg);
    if (rc < 0) {
      const int code = LastResultCode(ld);
      return LdapError(code, absl::StrCat(Sv(what), ": connection to ", options_.url),
                       Diagnostic(ld));
    }
    if (options_.clock->Now() >= deadline) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      return absl::DeadlineExceededError(
          absl::StrCat(Sv(what), ": no answer from ", options_.url, " in ",
                       absl::FormatDuration(absl::FromChrono(options_.timeout))));
    }
  }
}

absl::Status LdapReader::CheckEntryBounds(std::string_view dn, const berval* values,
                                          size_t& value_count, size_t& value_bytes) const {
  for (size_t value_idx = 0; values[value_idx].bv_val != nullptr; ++value_idx) {
    value_bytes += values[value_idx].bv_len;
    if (++value_count > options_.max_entry_values) {
      return absl::ResourceExhaustedError(absl::StrCat("entry \"", Sv(dn), "\" from ", options_.url,
                                                       " has more than ", options_.max_entry_values,
                                                       " values, the most one entry may hold"));
    }
  }
  if (value_bytes > options_.max_entry_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("entry \"", Sv(dn), "\" from ", options_.url, " holds more than ",
                     options_.max_entry_bytes, " bytes of values, the most one entry may hold"));
  }
  return absl::OkStatus();
}

absl::Status LdapReader::DecodeEntry(LDAP* ld, LDAPMessage* msg, Job& job,
                                     std::vector<PendingRange>& ranges) {
  const std::vector<std::string_view>& bases = job.groups ? group_bases_ : user_bases_;
  BerElement* ber = nullptr;
  berval dn;
  int rc = ldap_get_dn_ber(ld, msg, &ber, &dn);
  if (rc != LDAP_SUCCESS) {
    if (ber != nullptr) ber_free(ber, 0);
    return absl::DataLossError(absl::StrCat(job.what, ": undecodable entry from ", options_.url,
                                            ": ", ldap_err2string(rc)));
  }
  job.batch.BeginEntry(ToView(dn));
  std::optional<ValueRange> member_range;
  absl::Status status;
  uint32_t next_attr = 0;
  size_t value_count = 0;
  size_t value_bytes = 0;
  berval attribute;
  BerVarray values = nullptr;
  for (rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values); rc == LDAP_SUCCESS;
       rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values)) {
    if (attribute.bv_val == nullptr) break;
    if (values != nullptr && status.ok()) {
      status = CheckEntryBounds(ToView(dn), values, value_count, value_bytes);
    }
    if (!status.ok()) {
      ber_memfree(values);
      values = nullptr;
      break;
    }
    const std::string_view description = ToView(attribute);
    const std::string_view base = AttributeBaseName(description);
    // Servers send the attributes in one order for every entry: try the one after the last.
    uint32_t attr_idx = next_attr;
    if (attr_idx >= bases.size() || !EqualsIgnoreCase(bases[attr_idx], base)) {
      attr_idx = 0;
      while (attr_idx < bases.size() && !EqualsIgnoreCase(bases[attr_idx], base)) ++attr_idx;
    }
    next_attr = attr_idx + 1;
    if (attr_idx < bases.size() && values != nullptr) {
      if (job.groups && EqualsIgnoreCase(base, options_.schema.member)) {
        absl::StatusOr<std::optional<ValueRange>> range = ParseValueRange(description);
        if (!range.ok()) {
          status = absl::DataLossError(
              absl::StrCat("group \"", Sv(ToView(dn)), "\": ", range.status().message()));
        } else if (range->has_value()) {
          member_range = **range;
        }
      }
      for (size_t value_idx = 0; values[value_idx].bv_val != nullptr; ++value_idx) {
        job.batch.AddValue(attr_idx, ToView(values[value_idx]));
      }
    }
    if (values != nullptr) ber_memfree(values);
    values = nullptr;
  }
  if (ber != nullptr) ber_free(ber, 0);
  job.batch.EndEntry();
  if (member_range.has_value() && !member_range->last()) {
    ranges.push_back(
        PendingRange{static_cast<uint32_t>(job.batch.size() - 1), member_range->high + 1});
  }
  return status;
}

std::vector<char*> LdapReader::AttributeList(const Job& job) {
  const std::vector<std::string>& names = job.groups ? group_attributes_ : user_attributes_;
  std::vector<char*> attrs;
  for (const std::string& name : names) attrs.push_back(const_cast<char*>(name.c_str()));
  attrs.push_back(nullptr);
  return attrs;
}

absl::Status LdapReader::Search(Connection& conn, Job& job, size_t job_idx, int page_size,
                                std::vector<PendingRange>& ranges) {
  if (job.sync != nullptr) return SyncSearch(conn, job, ranges);
  LDAP* ld = conn.ld();
  std::vector<char*> attrs = AttributeList(job);

  std::string cookie;
  std::vector<MessagePtr> pending;  // entries of the last page, decoded after the next request
  auto decode_pending = [&]() -> absl::Status {
    for (MessagePtr& msg : pending) {
      USERSYNC_RETURN_IF_ERROR(DecodeEntry(ld, msg.get(), job, ranges));
      msg.reset();
    }
    pending.clear();
    Publish(job, job_idx, /*final=*/false);
    return absl::OkStatus();
  };

  while (true) {
    berval cookie_bv{cookie.size(), cookie.empty() ? nullptr : cookie.data()};
    LDAPControl* page_control = nullptr;
    int rc = ldap_create_page_control(ld, static_cast<ber_int_t>(page_size), &cookie_bv,
                                      /*iscritical=*/1, &page_control);
    if (rc != LDAP_SUCCESS) return LdapError(rc, job.what, "cannot build the paging control");
    LDAPControl* server_controls[] = {page_control, nullptr};
    int msgid = 0;
    rc = ldap_search_ext(ld, options_.base_dn.c_str(), LDAP_SCOPE_SUBTREE, job.filter.c_str(),
                         attrs.data(), /*attrsonly=*/0, server_controls, nullptr, nullptr,
                         LDAP_NO_LIMIT, &msgid);
    ldap_control_free(page_control);
    if (rc != LDAP_SUCCESS) {
      return LdapError(rc, absl::StrCat(job.what, ": search under ", options_.base_dn),
                       Diagnostic(ld));
    }
    // The server works on this page while the last one is decoded.
    USERSYNC_RETURN_IF_ERROR(decode_pending());

    while (true) {
      USERSYNC_ASSIGN_OR_RETURN(MessagePtr msg, NextMessage(ld, msgid, job.what));
      if (msg == nullptr) return absl::CancelledError("stopped");
      const int type = ldap_msgtype(msg.get());
      if (type == LDAP_RES_SEARCH_ENTRY) {
        pending.push_back(std::move(msg));
        if (pending.size() > 2 * static_cast<size_t>(page_size)) {
          ldap_abandon_ext(ld, msgid, nullptr, nullptr);
          return absl::ResourceExhaustedError(
              absl::StrCat(job.what, ": ", options_.url, " sent more than ", 2 * page_size,
                           " entries in one page of ", page_size,
                           " (the server does not honour paging); last entry \"",
                           Sv(EntryDn(ld, pending.back().get())), "\""));
        }
        continue;
      }
      if (type == LDAP_RES_SEARCH_REFERENCE) continue;  // referrals are not chased
      if (type != LDAP_RES_SEARCH_RESULT) continue;
      const int64_t entries =
          job.published_entries + static_cast<int64_t>(job.batch.size() + pending.size());
      USERSYNC_RETURN_IF_ERROR(EndPage(ld, msg.get(), job, page_size, entries, cookie));
      break;
    }
    if (cookie.empty()) {
      USERSYNC_RETURN_IF_ERROR(decode_pending());
      Publish(job, job_idx, /*final=*/true);
      return absl::OkStatus();
    }
  }
}

absl::Status LdapReader::EndPage(LDAP* ld, LDAPMessage* msg, const Job& job, int page_size,
                                 int64_t entries, std::string& cookie) {
  int result = LDAP_SUCCESS;
  char* diagnostic = nullptr;
  LDAPControl** controls = nullptr;
  const int rc = ldap_parse_result(ld, msg, &result, nullptr, &diagnostic, nullptr, &controls,
                                   /*freeit=*/0);
  const std::string diagnostic_text = diagnostic == nullptr ? "" : diagnostic;
  if (diagnostic != nullptr) ldap_memfree(diagnostic);
  if (rc != LDAP_SUCCESS) {
    if (controls != nullptr) ldap_controls_free(controls);
    return LdapError(rc, absl::StrCat(job.what, ": search result"), "");
  }
  if (result != LDAP_SUCCESS) {
    if (controls != nullptr) ldap_controls_free(controls);
    if (result == LDAP_ADMINLIMIT_EXCEEDED || result == LDAP_SIZELIMIT_EXCEEDED) {
      return absl::ResourceExhaustedError(absl::StrCat(
          job.what, ": the server refused pages of ", page_size, " entries after ", entries,
          " entries: ", ldap_err2string(result), diagnostic_text.empty() ? "" : " (",
          diagnostic_text, diagnostic_text.empty() ? "" : ")",
          " (a limit on the bind DN's searches: it must be allowed to read every entry)"));
    }
    if (result == LDAP_REFERRAL) {
      return absl::FailedPreconditionError(absl::StrCat(
          job.what, ": ", options_.url, " answered the search under ", options_.base_dn,
          " with a referral (referrals are not chased): point source.url at a server "
          "that holds this base DN"));
    }
    return LdapError(
        result, absl::StrCat(job.what, ": search under ", options_.base_dn, " at ", options_.url),
        diagnostic_text);
  }
  cookie.clear();
  LDAPControl* page_response =
      controls == nullptr ? nullptr
                          : ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
  if (page_response != nullptr) {
    ber_int_t estimate = 0;
    berval next_cookie{0, nullptr};
    if (ldap_parse_pageresponse_control(ld, page_response, &estimate, &next_cookie) ==
        LDAP_SUCCESS) {
      cookie.assign(ToView(next_cookie));
      ber_memfree(next_cookie.bv_val);
    }
  }
  if (controls != nullptr) ldap_controls_free(controls);
  return absl::OkStatus();
}

// One group's member list as its range reads gather it.
struct RangeRead {
  std::string_view dn;
  std::vector<std::string_view> members;  // views into the job's batch
  int64_t low = 0;                        // the first value the current read asks for
  std::string request;                    // the current read's attribute: "member;range=1500-*"
  std::optional<ValueRange> got;          // the range the server answered to it

  // The list cut short: never a silent truncation.
  absl::Status Incomplete(std::string_view why) const {
    return absl::DataLossError(
        absl::StrCat("group \"", Sv(dn), "\": member list incomplete: ", members.size(),
                     " members read, then ", Sv(why), " (the group is not used cut short)"));
  }
};

namespace {

// The values of a range read's answer entry (`msg`), added to `read` (stored in `batch`).
absl::Status TakeRangeValues(LDAP* ld, LDAPMessage* msg, std::string_view member, EntryBatch& batch,
                             RangeRead& read) {
  BerElement* ber = nullptr;
  berval entry_dn;
  if (ldap_get_dn_ber(ld, msg, &ber, &entry_dn) != LDAP_SUCCESS) {
    if (ber != nullptr) ber_free(ber, 0);
    return read.Incomplete("an undecodable answer");
  }
  berval attribute;
  BerVarray values = nullptr;
  absl::Status status;
  for (int rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values);
       rc == LDAP_SUCCESS && attribute.bv_val != nullptr;
       rc = ldap_get_attribute_ber(ld, msg, ber, &attribute, &values)) {
    const std::string_view description = ToView(attribute);
    if (EqualsIgnoreCase(AttributeBaseName(description), member) && status.ok()) {
      absl::StatusOr<std::optional<ValueRange>> range = ParseValueRange(description);
      if (!range.ok()) {
        status = read.Incomplete(StdSv(range.status().message()));
      } else if (!range->has_value() || (*range)->low != read.low) {
        status = read.Incomplete(absl::StrCat("the server answered \"", Sv(description),
                                              "\" to a request for ", read.request));
      } else {
        read.got = **range;
        for (size_t value_idx = 0; values != nullptr && values[value_idx].bv_val != nullptr;
             ++value_idx) {
          read.members.push_back(batch.Store(ToView(values[value_idx])));
        }
      }
    }
    if (values != nullptr) ber_memfree(values);
    values = nullptr;
  }
  if (ber != nullptr) ber_free(ber, 0);
  return status;
}

}  // namespace

absl::Status LdapReader::ReadRanges(Connection& conn, Job& job,
                                    const std::vector<PendingRange>& ranges) {
  LDAP* ld = conn.ld();
  const std::string& member = options_.schema.member;
  for (const PendingRange& pending : ranges) {
    RangeRead read;
    read.dn = job.batch.Dn(pending.entry_idx);
    std::span<const std::string_view> first = job.batch.Values(pending.entry_idx, member);
    read.members.assign(first.begin(), first.end());
    read.low = pending.next_low;
    for (int reads = 0;; ++reads) {
      if (reads >= kMaxRangeReads) return read.Incomplete("too many range reads");
      if (Stopped()) return absl::CancelledError("stopped");
      read.request = RangedDescription(member, read.low);
      read.got.reset();
      char* attrs[] = {read.request.data(), nullptr};
      const std::string base(read.dn);
      int msgid = 0;
      const int rc = ldap_search_ext(ld, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
                                     nullptr, nullptr, nullptr, LDAP_NO_LIMIT, &msgid);
      ++job.range_searches;
      if (rc != LDAP_SUCCESS) {
        absl::Status error = LdapError(rc, absl::StrCat("reading ", read.request), Diagnostic(ld));
        if (core::IsRetryable(error)) return error;
        return read.Incomplete(StdSv(error.message()));
      }
      USERSYNC_RETURN_IF_ERROR(AwaitRange(ld, msgid, job, read));
      if (!read.got.has_value()) {
        return read.Incomplete(absl::StrCat("the server returned no values for ", read.request));
      }
      if (read.got->last()) break;
      read.low = read.got->high + 1;
    }
    job.full_members[pending.entry_idx] = std::move(read.members);
  }
  return absl::OkStatus();
}

absl::Status LdapReader::AwaitRange(LDAP* ld, int msgid, Job& job, RangeRead& read) {
  while (true) {
    absl::StatusOr<MessagePtr> msg = NextMessage(ld, msgid, job.what);
    if (!msg.ok()) {
      return absl::Status(msg.status().code(),
                          absl::StrCat("group \"", Sv(read.dn), "\" after ", read.members.size(),
                                       " members: ", msg.status().message()));
    }
    if (*msg == nullptr) return absl::CancelledError("stopped");
    const int type = ldap_msgtype(msg->get());
    if (type == LDAP_RES_SEARCH_ENTRY) {
      USERSYNC_RETURN_IF_ERROR(
          TakeRangeValues(ld, msg->get(), options_.schema.member, job.batch, read));
    } else if (type == LDAP_RES_SEARCH_RESULT) {
      int result = LDAP_SUCCESS;
      char* diagnostic = nullptr;
      ldap_parse_result(ld, msg->get(), &result, nullptr, &diagnostic, nullptr, nullptr, 0);
      const std::string diagnostic_text = diagnostic == nullptr ? "" : diagnostic;
      if (diagnostic != nullptr) ldap_memfree(diagnostic);
      if (result == LDAP_SUCCESS) return absl::OkStatus();
      absl::Status error =
          LdapError(result, absl::StrCat("reading ", read.request), diagnostic_text);
      if (core::IsRetryable(error)) return error;
      return read.Incomplete(StdSv(error.message()));
    }
  }
}

}  // namespace usersync::io::ldap_internal
