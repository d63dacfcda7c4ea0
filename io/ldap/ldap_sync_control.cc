#include "io/ldap/ldap_sync_control.h"

#include <lber.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io::ldap_internal {
namespace {

// The syncInfoValue CHOICE's context tags.
constexpr ber_tag_t kNewCookieTag = 0x80;       // [0] primitive
constexpr ber_tag_t kRefreshDeleteTag = 0xa1;   // [1] constructed
constexpr ber_tag_t kRefreshPresentTag = 0xa2;  // [2] constructed
constexpr ber_tag_t kIdSetTag = 0xa3;           // [3] constructed

// A read cursor over one BER value (the buffer stays the caller's). Every getter checks the
// tag first, so that a malformed value is an error, never a misread.
class BerReader {
 public:
  // REQUIRES: `value` is not empty. ber_init copies it (lber's in-place buffer type is not
  // public).
  BerReader(std::string_view value, std::string_view control) : control_(control) {
    berval bv{value.size(), const_cast<char*>(value.data())};
    ber_ = ber_init(&bv);
  }
  ~BerReader() {
    if (ber_ != nullptr) ber_free(ber_, 1);
  }
  BerReader(const BerReader&) = delete;
  BerReader& operator=(const BerReader&) = delete;
  BerElement* ber() { return ber_; }
  bool ok() const { return ber_ != nullptr; }

  ber_tag_t Peek() {
    ber_len_t len = 0;
    return ber_peek_tag(ber(), &len);
  }
  absl::Status Enter(ber_tag_t tag, std::string_view what) {
    ber_len_t len = 0;
    if (ber_skip_tag(ber(), &len) != tag) return Malformed(absl::StrCat("no ", Sv(what)));
    return absl::OkStatus();
  }
  absl::StatusOr<ber_int_t> Enumerated(std::string_view what) {
    ber_int_t value = 0;
    if (Peek() != LBER_ENUMERATED || ber_get_enum(ber(), &value) == LBER_DEFAULT) {
      return Malformed(absl::StrCat("no ", Sv(what)));
    }
    return value;
  }
  absl::StatusOr<std::string_view> Octets(std::string_view what, size_t max_bytes,
                                          ber_tag_t tag = LBER_OCTETSTRING) {
    berval bv{0, nullptr};
    if (Peek() != tag || ber_get_stringbv(ber(), &bv, LBER_BV_NOTERM) == LBER_DEFAULT) {
      return Malformed(absl::StrCat("no ", Sv(what)));
    }
    if (bv.bv_len > max_bytes) {
      return Malformed(
          absl::StrCat(Sv(what), " of ", bv.bv_len, " bytes (at most ", max_bytes, ")"));
    }
    return std::string_view(bv.bv_val == nullptr ? "" : bv.bv_val, bv.bv_len);
  }
  absl::StatusOr<SyncUuid> Uuid() {
    absl::StatusOr<std::string_view> raw = Octets("entryUUID", 16);
    if (!raw.ok()) return raw.status();
    if (raw->size() != 16) return Malformed(absl::StrCat("a UUID of ", raw->size(), " bytes"));
    SyncUuid uuid;
    for (size_t idx = 0; idx < 16; ++idx) uuid[idx] = static_cast<uint8_t>((*raw)[idx]);
    return uuid;
  }
  // An OPTIONAL cookie: set when the next element is an OCTET STRING.
  absl::Status OptionalCookie(std::optional<std::string>& cookie) {
    if (Peek() != LBER_OCTETSTRING) return absl::OkStatus();
    absl::StatusOr<std::string_view> value = Octets("cookie", kMaxSyncCookieBytes);
    if (!value.ok()) return value.status();
    cookie.emplace(*value);
    return absl::OkStatus();
  }
  // A BOOLEAN with a DEFAULT: `value` stays as it is when the next element is no BOOLEAN.
  absl::Status OptionalBoolean(bool& value, std::string_view what) {
    if (Peek() != LBER_BOOLEAN) return absl::OkStatus();
    ber_int_t raw = 0;
    if (ber_get_boolean(ber(), &raw) == LBER_DEFAULT)
      return Malformed(absl::StrCat("bad ", Sv(what)));
    value = raw != 0;
    return absl::OkStatus();
  }
  // Nothing may follow the value.
  absl::Status End() {
    if (Peek() != LBER_DEFAULT) return Malformed("trailing data");
    return absl::OkStatus();
  }
  absl::Status Malformed(std::string_view why) const {
    return absl::DataLossError(absl::StrCat("malformed ", Sv(control_), ": ", Sv(why)));
  }

 private:
  std::string_view control_;
  BerElement* ber_ = nullptr;
};

absl::Status CheckNotEmpty(std::string_view value, std::string_view control) {
  if (value.empty()) return absl::DataLossError(absl::StrCat("malformed ", Sv(control), ": empty"));
  return absl::OkStatus();
}

// The UUIDs of a syncIdSet's SET OF, at most `max_uuids`.
absl::Status ReadUuidSet(BerReader& reader, size_t max_uuids, std::vector<SyncUuid>& uuids) {
  if (reader.Peek() != LBER_SET) return reader.Malformed("no syncUUIDs");
  ber_len_t len = 0;
  char* last = nullptr;
  for (ber_tag_t tag = ber_first_element(reader.ber(), &len, &last); tag != LBER_DEFAULT;
       tag = ber_next_element(reader.ber(), &len, last)) {
    if (uuids.size() >= max_uuids) {
      return reader.Malformed(absl::StrCat("more than ", max_uuids, " syncUUIDs in one message"));
    }
    absl::StatusOr<SyncUuid> uuid = reader.Uuid();
    if (!uuid.ok()) return uuid.status();
    uuids.push_back(*uuid);
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeSyncRequest(std::string_view cookie) {
  BerElement* ber = ber_alloc_t(LBER_USE_DER);
  // refreshOnly (1); reloadHint stays at its DEFAULT FALSE, so it is not sent.
  ber_printf(ber, "{e", static_cast<ber_int_t>(1));
  if (!cookie.empty()) {
    berval bv{cookie.size(), const_cast<char*>(cookie.data())};
    ber_printf(ber, "O", &bv);
  }
  ber_printf(ber, "N}");
  berval out{0, nullptr};
  std::string value;
  if (ber_flatten2(ber, &out, /*alloc=*/0) == 0) value.assign(out.bv_val, out.bv_len);
  ber_free(ber, 1);
  return value;
}

absl::StatusOr<SyncStateValue> DecodeSyncState(std::string_view value) {
  static constexpr char kWhat[] = "Sync State control (1.3.6.1.4.1.4203.1.9.1.2)";
  if (absl::Status empty = CheckNotEmpty(value, kWhat); !empty.ok()) return empty;
  BerReader reader(value, kWhat);
  if (!reader.ok()) return reader.Malformed("cannot be read");
  if (absl::Status s = reader.Enter(LBER_SEQUENCE, "SEQUENCE"); !s.ok()) return s;
  absl::StatusOr<ber_int_t> state = reader.Enumerated("state");
  if (!state.ok()) return state.status();
  if (*state < 0 || *state > 3) return reader.Malformed(absl::StrCat("state ", *state));
  SyncStateValue out;
  out.state = static_cast<SyncState>(*state);
  absl::StatusOr<SyncUuid> uuid = reader.Uuid();
  if (!uuid.ok()) return uuid.status();
  out.uuid = *uuid;
  if (absl::Status s = reader.OptionalCookie(out.cookie); !s.ok()) return s;
  if (absl::Status s = reader.End(); !s.ok()) return s;
  return out;
}

absl::StatusOr<SyncDoneValue> DecodeSyncDone(std::string_view value) {
  static constexpr char kWhat[] = "Sync Done control (1.3.6.1.4.1.4203.1.9.1.3)";
  if (absl::Status empty = CheckNotEmpty(value, kWhat); !empty.ok()) return empty;
  BerReader reader(value, kWhat);
  if (!reader.ok()) return reader.Malformed("cannot be read");
  if (absl::Status s = reader.Enter(LBER_SEQUENCE, "SEQUENCE"); !s.ok()) return s;
  SyncDoneValue out;
  if (absl::Status s = reader.OptionalCookie(out.cookie); !s.ok()) return s;
  if (absl::Status s = reader.OptionalBoolean(out.refresh_deletes, "refreshDeletes"); !s.ok()) {
    return s;
  }
  if (absl::Status s = reader.End(); !s.ok()) return s;
  return out;
}

absl::StatusOr<SyncInfoValue> DecodeSyncInfo(std::string_view value, size_t max_uuids) {
  static constexpr char kWhat[] = "Sync Info message (1.3.6.1.4.1.4203.1.9.1.4)";
  if (absl::Status empty = CheckNotEmpty(value, kWhat); !empty.ok()) return empty;
  BerReader reader(value, kWhat);
  if (!reader.ok()) return reader.Malformed("cannot be read");
  SyncInfoValue out;
  const ber_tag_t tag = reader.Peek();
  if (tag == kNewCookieTag) {
    out.kind = SyncInfoValue::Kind::kNewCookie;
    absl::StatusOr<std::string_view> cookie =
        reader.Octets("newcookie", kMaxSyncCookieBytes, kNewCookieTag);
    if (!cookie.ok()) return cookie.status();
    out.cookie.emplace(*cookie);
    if (absl::Status s = reader.End(); !s.ok()) return s;
    return out;
  }
  if (tag != kRefreshDeleteTag && tag != kRefreshPresentTag && tag != kIdSetTag) {
    return reader.Malformed(absl::StrCat("unknown choice tag 0x", absl::Hex(tag)));
  }
  if (absl::Status s = reader.Enter(tag, "SEQUENCE"); !s.ok()) return s;
  if (absl::Status s = reader.OptionalCookie(out.cookie); !s.ok()) return s;
  if (tag == kIdSetTag) {
    out.kind = SyncInfoValue::Kind::kIdSet;
    if (absl::Status s = reader.OptionalBoolean(out.refresh_deletes, "refreshDeletes"); !s.ok()) {
      return s;
    }
    if (absl::Status s = ReadUuidSet(reader, max_uuids, out.uuids); !s.ok()) return s;
  } else {
    out.kind = tag == kRefreshDeleteTag ? SyncInfoValue::Kind::kRefreshDelete
                                        : SyncInfoValue::Kind::kRefreshPresent;
    if (absl::Status s = reader.OptionalBoolean(out.refresh_done, "refreshDone"); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = reader.End(); !s.ok()) return s;
  return out;
}

std::string UuidString(const SyncUuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t idx = 0; idx < uuid.size(); ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out.push_back('-');
    out.push_back(kHex[uuid[idx] >> 4]);
    out.push_back(kHex[uuid[idx] & 0xf]);
  }
  return out;
}

std::optional<SyncUuid> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  SyncUuid uuid{};
  size_t pos = 0;
  for (size_t idx = 0; idx < uuid.size(); ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) {
      if (text[pos++] != '-') return std::nullopt;
    }
    const int high = nibble(text[pos++]);
    const int low = nibble(text[pos++]);
    if (high < 0 || low < 0) return std::nullopt;
    uuid[idx] = static_cast<uint8_t>(high << 4 | low);
  }
  return uuid;
}

std::string FormatSyncCursor(const SyncCursor& cursor) {
  return absl::StrCat(Sv(kSyncCursorPrefix), absl::Base64Escape(cursor.users), ",",
                      absl::Base64Escape(cursor.groups));
}

bool IsSyncCursor(std::string_view cursor) { return cursor.starts_with(kSyncCursorPrefix); }

absl::StatusOr<SyncCursor> ParseSyncCursor(std::string_view cursor) {
  auto refused = [&]() { return absl::OutOfRangeError("the stored RFC 4533 cursor is damaged"); };
  if (!IsSyncCursor(cursor)) return refused();
  const std::string_view body = cursor.substr(kSyncCursorPrefix.size());
  const size_t comma = body.find(',');
  if (comma == std::string_view::npos) return refused();
  SyncCursor out;
  const std::string users(body.substr(0, comma));
  const std::string groups(body.substr(comma + 1));
  if (!absl::Base64Unescape(users, &out.users) || !absl::Base64Unescape(groups, &out.groups) ||
      out.users.empty() || out.groups.empty() || out.users.size() > kMaxSyncCookieBytes ||
      out.groups.size() > kMaxSyncCookieBytes) {
    return refused();
  }
  return out;
}

}  // namespace usersync::io::ldap_internal
