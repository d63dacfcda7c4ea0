// A job's search as an RFC 4533 refreshOnly content synchronization (see io/ldap/ldap_reader.h,
// SyncRun). The Sync Request control is encoded here with lber (ldap_sync_control.h) and sent
// on the reader's own search path rather than through libldap's ldap_sync_init(): Debian's
// libldap-dev ships no ldap_sync.h, and ldap_sync_poll() would bypass the reader's answer
// deadlines, stop requests, entry bounds and entry decoding, which this path keeps.
//
// What comes back, in any order: entries with a Sync State control (present: a UUID only;
// add / modify: the entry whole, decoded into the job's batch; delete: a UUID), Sync Info
// intermediate messages (a new cookie; a syncIdSet of present or deleted UUIDs), and the
// search result with a Sync Done control (the new cookie, refreshDeletes).
#include <ldap.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/ldap/ldap_reader.h"

namespace usersync::io::ldap_internal {
namespace {

// The value of control `oid` among `controls` (nullopt when absent). Views libldap's memory.
std::optional<std::string_view> ControlValue(LDAPControl** controls, const char* oid) {
  if (controls == nullptr) return std::nullopt;
  LDAPControl* control = ldap_control_find(oid, controls, nullptr);
  if (control == nullptr) return std::nullopt;
  return ToView(control->ldctl_value);
}

struct ControlsFree {
  void operator()(LDAPControl** controls) const { ldap_controls_free(controls); }
};
using ControlsPtr = std::unique_ptr<LDAPControl*, ControlsFree>;

}  // namespace

absl::Status LdapReader::SyncRefused(const Job& job, std::string_view why) const {
  return absl::OutOfRangeError(absl::StrCat(job.what, ": ", options_.url, " ", Sv(why),
                                            " (RFC 4533 content synchronization)"));
}

absl::Status LdapReader::SyncSearch(Connection& conn, Job& job, std::vector<PendingRange>& ranges) {
  LDAP* ld = conn.ld();
  SyncRun& sync = *job.sync;
  sync.ClearAnswer();
  std::vector<char*> attrs = AttributeList(job);
  std::string value = EncodeSyncRequest(sync.cookie);
  LDAPControl request;
  request.ldctl_oid = const_cast<char*>(kSyncRequestOid);
  request.ldctl_value = berval{value.size(), value.data()};
  request.ldctl_iscritical = 1;  // a server that ignores it must refuse, not answer a plain search
  LDAPControl* server_controls[] = {&request, nullptr};
  int msgid = 0;
  const int rc = ldap_search_ext(ld, options_.base_dn.c_str(), LDAP_SCOPE_SUBTREE,
                                 job.filter.c_str(), attrs.data(), /*attrsonly=*/0, server_controls,
                                 nullptr, nullptr, LDAP_NO_LIMIT, &msgid);
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, absl::StrCat(job.what, ": sync search under ", options_.base_dn),
                     Diagnostic(ld));
  }
  while (true) {
    USERSYNC_ASSIGN_OR_RETURN(MessagePtr msg, NextMessage(ld, msgid, job.what));
    if (msg == nullptr) return absl::CancelledError("stopped");
    const int type = ldap_msgtype(msg.get());
    if (type == LDAP_RES_SEARCH_ENTRY) {
      USERSYNC_RETURN_IF_ERROR(SyncEntry(ld, msg.get(), job, ranges));
    } else if (type == LDAP_RES_INTERMEDIATE) {
      USERSYNC_RETURN_IF_ERROR(SyncInfo(ld, msg.get(), job));
    } else if (type == LDAP_RES_SEARCH_RESULT) {
      return EndSync(ld, msg.get(), job);
    }
    // Search references: referrals are not chased.
    if (sync.uuid_count() > sync.max_uuids) {
      ldap_abandon_ext(ld, msgid, nullptr, nullptr);
      return SyncRefused(
          job, absl::StrCat("sent more than ", sync.max_uuids, " entries and UUIDs in one answer"));
    }
  }
}

absl::Status LdapReader::SyncEntry(LDAP* ld, LDAPMessage* msg, Job& job,
                                   std::vector<PendingRange>& ranges) {
  SyncRun& sync = *job.sync;
  LDAPControl** raw = nullptr;
  if (ldap_get_entry_controls(ld, msg, &raw) != LDAP_SUCCESS) raw = nullptr;
  const ControlsPtr controls(raw);
  const std::optional<std::string_view> value = ControlValue(controls.get(), kSyncStateOid);
  if (!value.has_value()) return SyncRefused(job, "sent an entry without a Sync State control");
  absl::StatusOr<SyncStateValue> state = DecodeSyncState(*value);
  if (!state.ok()) return SyncRefused(job, absl::StrCat("sent a ", state.status().message()));
  switch (state->state) {
    case SyncState::kPresent:
      sync.present.push_back(state->uuid);
      return absl::OkStatus();
    case SyncState::kDelete:
      sync.deleted.push_back(state->uuid);
      return absl::OkStatus();
    case SyncState::kAdd:
    case SyncState::kModify:
      sync.changed.push_back(state->uuid);
      return DecodeEntry(ld, msg, job, ranges);
  }
  return absl::OkStatus();
}

absl::Status LdapReader::SyncInfo(LDAP* ld, LDAPMessage* msg, Job& job) {
  SyncRun& sync = *job.sync;
  char* oid = nullptr;
  berval* data = nullptr;
  const int rc = ldap_parse_intermediate(ld, msg, &oid, &data, nullptr, /*freeit=*/0);
  const bool ours = rc == LDAP_SUCCESS && oid != nullptr && std::string_view(oid) == kSyncInfoOid;
  absl::StatusOr<SyncInfoValue> info = absl::DataLossError("unread");
  if (ours) {
    const size_t room = sync.max_uuids - std::min(sync.max_uuids, sync.uuid_count());
    info = DecodeSyncInfo(data == nullptr ? std::string_view() : ToView(*data), room + 1);
  }
  if (oid != nullptr) ldap_memfree(oid);
  if (data != nullptr) ber_bvfree(data);
  if (!ours) return absl::OkStatus();  // another extension's message
  if (!info.ok()) return SyncRefused(job, absl::StrCat("sent a ", info.status().message()));
  if (info->cookie.has_value()) sync.new_cookie = *info->cookie;
  if (info->kind == SyncInfoValue::Kind::kIdSet) {
    std::vector<SyncUuid>& into = info->refresh_deletes ? sync.deleted : sync.present;
    into.insert(into.end(), info->uuids.begin(), info->uuids.end());
  }
  return absl::OkStatus();
}

absl::Status LdapReader::EndSync(LDAP* ld, LDAPMessage* msg, Job& job) {
  SyncRun& sync = *job.sync;
  int result = LDAP_SUCCESS;
  char* diagnostic = nullptr;
  LDAPControl** raw = nullptr;
  const int rc =
      ldap_parse_result(ld, msg, &result, nullptr, &diagnostic, nullptr, &raw, /*freeit=*/0);
  const ControlsPtr controls(raw);
  const std::string diagnostic_text = diagnostic == nullptr ? "" : diagnostic;
  if (diagnostic != nullptr) ldap_memfree(diagnostic);
  if (rc != LDAP_SUCCESS) return LdapError(rc, absl::StrCat(job.what, ": sync search result"), "");
  const std::string because =
      diagnostic_text.empty() ? std::string() : absl::StrCat(" (", diagnostic_text, ")");
  if (result == kSyncRefreshRequired) {
    return SyncRefused(job, absl::StrCat("cannot resume from the stored cookie "
                                         "(e-syncRefreshRequired)",
                                         because));
  }
  if (result == LDAP_UNAVAILABLE_CRITICAL_EXTENSION) {
    return SyncRefused(job, absl::StrCat("refused the Sync Request control", because));
  }
  if (result == LDAP_SIZELIMIT_EXCEEDED || result == LDAP_ADMINLIMIT_EXCEEDED) {
    // Sync searches cannot be paged; a full read pages past the bind DN's size limit.
    return SyncRefused(job, absl::StrCat("stopped the sync search at a size limit", because));
  }
  if (result != LDAP_SUCCESS) {
    return LdapError(
        result,
        absl::StrCat(job.what, ": sync search under ", options_.base_dn, " at ", options_.url),
        diagnostic_text);
  }
  const std::optional<std::string_view> value = ControlValue(controls.get(), kSyncDoneOid);
  if (!value.has_value()) {
    return SyncRefused(job, "answered the sync search without a Sync Done control");
  }
  absl::StatusOr<SyncDoneValue> done = DecodeSyncDone(*value);
  if (!done.ok()) return SyncRefused(job, absl::StrCat("sent a ", done.status().message()));
  if (done->cookie.has_value()) sync.new_cookie = *done->cookie;
  sync.refresh_deletes = done->refresh_deletes;
  return absl::OkStatus();
}

}  // namespace usersync::io::ldap_internal
