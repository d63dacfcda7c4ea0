#include "io/ldap/ldap_sync_control.h"

#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::io::ldap_internal {
namespace {

using ::testing::HasSubstr;

std::string Bytes(std::string_view hex) { return absl::HexStringToBytes(std::string(hex)); }

constexpr char kCookie[] = "rid=000,csn=20261207175040.057356Z#000000#000#000000";

TEST(SyncControl, RequestIsRefreshOnlyWithTheCookie) {
  // SEQUENCE { ENUMERATED 1, OCTET STRING "c1" }
  EXPECT_EQ(EncodeSyncRequest("c1"), Bytes("30070a0101040263"
                                           "31"));
  // No cookie: the first refresh (reloadHint FALSE is the DEFAULT and not sent).
  EXPECT_EQ(EncodeSyncRequest(""), Bytes("30030a0101"));
}

// The Sync State control slapd 2.5 sent for a changed entry (ldapsearch -E sync=ro).
TEST(SyncControl, DecodesSlapdsSyncState) {
  absl::StatusOr<SyncStateValue> state =
      DecodeSyncState(Bytes("30150a010104107385f73a86b21041862fa9ed76351c1b"));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state, SyncState::kAdd);
  EXPECT_EQ(UuidString(state->uuid), "7385f73a-86b2-1041-862f-a9ed76351c1b");
  EXPECT_FALSE(state->cookie.has_value());
}

TEST(SyncControl, DecodesSlapdsSyncDone) {
  absl::StatusOr<SyncDoneValue> present = DecodeSyncDone(
      Bytes("303604347269643d3030302c63736e3d32303236313230373137353034302e3035373335365a2330"
            "30303030302330303023303030303030"));
  ASSERT_TRUE(present.ok()) << present.status();
  EXPECT_EQ(present->cookie, std::string(kCookie));
  EXPECT_FALSE(present->refresh_deletes);

  absl::StatusOr<SyncDoneValue> deletes = DecodeSyncDone(Bytes("30050401630101ff"));
  ASSERT_TRUE(deletes.ok()) << deletes.status();
  EXPECT_EQ(deletes->cookie, std::string("c"));
  EXPECT_TRUE(deletes->refresh_deletes);

  // slapd's "nothing changed" answer: no cookie, refreshDeletes TRUE.
  absl::StatusOr<SyncDoneValue> unchanged = DecodeSyncDone(Bytes("30030101ff"));
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_FALSE(unchanged->cookie.has_value());
  EXPECT_TRUE(unchanged->refresh_deletes);
}

TEST(SyncControl, DecodesEachSyncInfoChoice) {
  absl::StatusOr<SyncInfoValue> cookie = DecodeSyncInfo(Bytes("80026331"), 10);
  ASSERT_TRUE(cookie.ok()) << cookie.status();
  EXPECT_EQ(cookie->kind, SyncInfoValue::Kind::kNewCookie);
  EXPECT_EQ(cookie->cookie, std::string("c1"));

  // refreshPresent { refreshDone FALSE }
  absl::StatusOr<SyncInfoValue> present = DecodeSyncInfo(Bytes("a203010100"), 10);
  ASSERT_TRUE(present.ok()) << present.status();
  EXPECT_EQ(present->kind, SyncInfoValue::Kind::kRefreshPresent);
  EXPECT_FALSE(present->refresh_done);

  // syncIdSet { cookie "c", refreshDeletes TRUE, { two UUIDs } }
  const std::string uuid_a = "7385f73a86b21041862fa9ed76351c1b";
  const std::string uuid_b = "75d7d9d686b21041956f6dc3625f7b32";
  absl::StatusOr<SyncInfoValue> ids = DecodeSyncInfo(Bytes("a32b0401630101ff3124"
                                                           "0410" +
                                                           uuid_a + "0410" + uuid_b),
                                                     10);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->kind, SyncInfoValue::Kind::kIdSet);
  EXPECT_EQ(ids->cookie, std::string("c"));
  EXPECT_TRUE(ids->refresh_deletes);
  ASSERT_EQ(ids->uuids.size(), 2u);
  EXPECT_EQ(UuidString(ids->uuids[1]), "75d7d9d6-86b2-1041-956f-6dc3625f7b32");

  // A present set (refreshDeletes at its DEFAULT FALSE), as syncprov sends the present phase.
  absl::StatusOr<SyncInfoValue> present_ids = DecodeSyncInfo(Bytes("a3143112"
                                                                   "0410" +
                                                                   uuid_a),
                                                             10);
  ASSERT_TRUE(present_ids.ok()) << present_ids.status();
  EXPECT_FALSE(present_ids->refresh_deletes);
  EXPECT_EQ(present_ids->uuids.size(), 1u);
}

// A broken or hostile server: every malformed value is an error naming the control.
TEST(SyncControl, MalformedValuesAreErrorsNamingTheControl) {
  absl::StatusOr<SyncStateValue> short_uuid = DecodeSyncState(Bytes("30080a0101040300aabb"));
  ASSERT_FALSE(short_uuid.ok());
  EXPECT_EQ(short_uuid.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(short_uuid.status().message(), HasSubstr("Sync State control (1.3.6.1.4.1.4203"));
  EXPECT_FALSE(DecodeSyncState(Bytes("30030a0109")).ok());  // state 9
  EXPECT_FALSE(DecodeSyncState("").ok());
  EXPECT_FALSE(DecodeSyncState(Bytes("3015")).ok());           // truncated
  EXPECT_FALSE(DecodeSyncDone(Bytes("0401630101ff")).ok());    // no SEQUENCE
  EXPECT_FALSE(DecodeSyncDone(Bytes("3003020101")).ok());      // an INTEGER where none belongs
  EXPECT_FALSE(DecodeSyncInfo(Bytes("a403010100"), 10).ok());  // no such choice
  const std::string uuid =
      "0410"
      "7385f73a86b21041862fa9ed76351c1b";
  absl::StatusOr<SyncInfoValue> too_many = DecodeSyncInfo(Bytes("a326"
                                                                "3124" +
                                                                uuid + uuid),
                                                          /*max_uuids=*/1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("more than 1 syncUUIDs"));
  // A cookie over the bound.
  std::string big(kMaxSyncCookieBytes + 1, 'x');
  // SEQUENCE (65,542 bytes) { OCTET STRING (65,537 bytes) }
  std::string done = Bytes("3083010006") + Bytes("0483010001") + big;
  EXPECT_FALSE(DecodeSyncDone(done).ok());
}

TEST(SyncControl, UuidStringsRoundTrip) {
  const std::optional<SyncUuid> uuid = ParseUuid("7385F73A-86b2-1041-862f-a9ed76351c1b");
  ASSERT_TRUE(uuid.has_value());
  EXPECT_EQ(UuidString(*uuid), "7385f73a-86b2-1041-862f-a9ed76351c1b");
  EXPECT_FALSE(ParseUuid("7385f73a86b21041862fa9ed76351c1b").has_value());
  EXPECT_FALSE(ParseUuid("7385f73a-86b2-1041-862f-a9ed76351c1g").has_value());
  EXPECT_FALSE(ParseUuid("7385f73a-86b2-1041-862fa-9ed76351c1b").has_value());
}

TEST(SyncControl, CursorSaysItsMechanismAndRoundTrips) {
  const SyncCursor cursor{kCookie, "rid=000,csn=2"};
  const std::string text = FormatSyncCursor(cursor);
  EXPECT_TRUE(text.starts_with("rfc4533:"));
  EXPECT_TRUE(IsSyncCursor(text));
  EXPECT_FALSE(IsSyncCursor("20261207153000Z"));  // a watermark
  absl::StatusOr<SyncCursor> parsed = ParseSyncCursor(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, cursor);
  EXPECT_EQ(ParseSyncCursor("rfc4533:!!,x").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseSyncCursor("rfc4533:YQ==").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseSyncCursor("20261207153000Z").status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace usersync::io::ldap_internal
