#include "io/ldif/ldif_reader.h"

#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/directory/entry_mapper.h"

namespace usersync::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A record copied out of the reader (its views die with the next record).
struct Record {
  std::string dn;
  int64_t line = 0;
  std::vector<std::pair<std::string, std::vector<std::string>>> attrs;

  std::vector<std::string> Values(std::string_view name) const {
    for (const auto& [attr_name, values] : attrs) {
      if (core::EqualsIgnoreCase(attr_name, name)) return values;
    }
    return {};
  }
};

Record Copy(const LdifEntry& entry) {
  Record record;
  record.dn = std::string(entry.Dn());
  record.line = entry.line();
  for (size_t attr_idx = 0; attr_idx < entry.attribute_count(); ++attr_idx) {
    std::vector<std::string> values;
    for (std::string_view value : entry.attribute_values(attr_idx)) values.emplace_back(value);
    record.attrs.emplace_back(std::string(entry.attribute_name(attr_idx)), std::move(values));
  }
  return record;
}

absl::StatusOr<std::vector<Record>> ReadAll(LdifReader& reader) {
  std::vector<Record> records;
  while (true) {
    absl::StatusOr<bool> more = reader.Next();
    if (!more.ok()) return more.status();
    if (!*more) return records;
    records.push_back(Copy(reader.entry()));
  }
}

absl::StatusOr<std::vector<Record>> ReadString(std::string contents, std::string name = "x.ldif") {
  std::unique_ptr<LdifReader> reader = LdifReader::FromString(std::move(name), std::move(contents));
  return ReadAll(*reader);
}

std::vector<Record> MustRead(std::string contents) {
  absl::StatusOr<std::vector<Record>> records = ReadString(std::move(contents));
  EXPECT_TRUE(records.ok()) << records.status();
  return records.ok() ? *std::move(records) : std::vector<Record>{};
}

std::string ReadError(std::string contents, std::string name = "x.ldif") {
  absl::StatusOr<std::vector<Record>> records = ReadString(std::move(contents), std::move(name));
  EXPECT_FALSE(records.ok());
  if (records.ok()) return "";
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument) << records.status();
  return std::string(records.status().message());
}

// Writes `contents` to a file of this process ("PID-" before the name: ctest runs tests of this
// binary in parallel processes, and two of them writing one "ad.ldif" read each other's file).
std::string WriteFile(std::string_view file_name, std::string_view contents) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", ::getpid(), "-", Sv(file_name));
  FILE* file = std::fopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr);
  if (file == nullptr) return path;
  EXPECT_EQ(std::fwrite(contents.data(), 1, contents.size(), file), contents.size());
  std::fclose(file);
  return path;
}

// ----------------------------------------------------------------------------------------------
// Reader

TEST(LdifReader, ReadsRecordsAttributesAndMultipleValues) {
  std::vector<Record> records = MustRead(
      "version: 1\n"
      "\n"
      "dn: dc=example,dc=com\n"
      "objectClass: top\n"
      "objectClass: domain\n"
      "dc: example\n"
      "\n"
      "\n"
      "dn: uid=ann,ou=people,dc=example,dc=com\n"
      "objectClass: inetOrgPerson\n"
      "mail: ann@example.com\n"
      "objectClass: person\n"  // not next to its first value
      "cn:Ann Lee\n"           // no space after ':' is legal
      "description:\n");       // an empty value
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].dn, "dc=example,dc=com");
  EXPECT_EQ(records[0].line, 3);
  EXPECT_THAT(records[0].Values("objectClass"), ElementsAre("top", "domain"));
  EXPECT_EQ(records[1].dn, "uid=ann,ou=people,dc=example,dc=com");
  EXPECT_EQ(records[1].line, 9);
  EXPECT_THAT(records[1].Values("objectclass"), ElementsAre("inetOrgPerson", "person"));
  EXPECT_THAT(records[1].Values("cn"), ElementsAre("Ann Lee"));
  EXPECT_THAT(records[1].Values("description"), ElementsAre(""));
}

TEST(LdifReader, VersionLineMayBeFollowedDirectlyByARecord) {
  std::vector<Record> records = MustRead("version: 1\ndn: cn=a\ncn: a\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].line, 2);
}

TEST(LdifReader, AttributeNamesCompareCaseInsensitively) {
  std::unique_ptr<LdifReader> reader =
      LdifReader::FromString("x.ldif", "DN: uid=a\nMAIL: a@example.com\nmail: b@example.com\n");
  absl::StatusOr<bool> more = reader->Next();
  ASSERT_TRUE(more.ok() && *more) << more.status();
  const LdifEntry& entry = reader->entry();
  EXPECT_EQ(entry.Dn(), "uid=a");
  EXPECT_EQ(entry.attribute_count(), 1u);  // one attribute, two values
  EXPECT_THAT(entry.Values("Mail"), ElementsAre("a@example.com", "b@example.com"));
  EXPECT_THAT(entry.Values("mAIL;binary"), ElementsAre("a@example.com", "b@example.com"));
  EXPECT_THAT(entry.Values("cn"), IsEmpty());
  EXPECT_EQ(entry.LineOf("mail"), 2);
  EXPECT_EQ(entry.LineOf("cn"), 1);
}

TEST(LdifReader, FoldedLinesAreJoined) {
  std::vector<Record> records = MustRead(
      "dn: uid=ann,ou=peo\n"
      " ple,dc=example,dc=com\n"
      "description: a long\n"
      "  value that goes\n"
      "  on\n"
      "cn: Ann\n"
      " \n"  // a lone space continues the line with nothing
      "sn:: TG\n"
      " Vl\n");  // folded base64
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dn, "uid=ann,ou=people,dc=example,dc=com");
  EXPECT_THAT(records[0].Values("description"), ElementsAre("a long value that goes on"));
  EXPECT_THAT(records[0].Values("cn"), ElementsAre("Ann"));
  EXPECT_THAT(records[0].Values("sn"), ElementsAre("Lee"));
}

TEST(LdifReader, Base64ValuesAndDns) {
  std::vector<Record> records = MustRead(
      "dn:: dWlkPXpvZSxvdT1wZW9wbGUsZGM9ZXhhbXBsZSxkYz1jb20=\n"
      "cn:: Wm/DqyDDhnLDuHNrw7hiaW5n\n"
      "mail::   ICBNaXhlZC5DYXNlQEV4YW1wbGUuQ09NIA==  \n"
      "empty::\n"
      "objectGUID:: 4AQlP4lP0xGaDAMF6CwzAQ==\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dn, "uid=zoe,ou=people,dc=example,dc=com");
  EXPECT_THAT(records[0].Values("cn"), ElementsAre("Zo\xc3\xab \xc3\x86r\xc3\xb8sk\xc3\xb8"
                                                   "bing"));
  EXPECT_THAT(records[0].Values("mail"), ElementsAre("  Mixed.Case@Example.COM "));
  EXPECT_THAT(records[0].Values("empty"), ElementsAre(""));
  EXPECT_THAT(records[0].Values("objectGUID"),
              ElementsAre(std::string("\xe0\x04\x25\x3f\x89\x4f\xd3\x11\x9a\x0c\x03\x05\xe8\x2c"
                                      "\x33\x01",
                                      16)));
}

TEST(LdifReader, CommentsAreIgnoredIncludingFoldedOnes) {
  std::vector<Record> records = MustRead(
      "# leading comment\n"
      "# folded comment\n"
      " that continues: here\n"
      "version: 1\n"
      "\n"
      "# comment before a record\n"
      "dn: cn=a\n"
      "# comment inside a record\n"
      " continued\n"
      "cn: a\n"
      "\n"
      "# only comments after the last record\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].line, 7);
  ASSERT_EQ(records[0].attrs.size(), 1u);
  EXPECT_THAT(records[0].Values("cn"), ElementsAre("a"));
}

TEST(LdifReader, CrLfLineEnds) {
  std::vector<Record> records = MustRead(
      "version: 1\r\n\r\ndn: cn=a\r\ncn: a\r\ndescription: x\r\n y\r\n\r\ndn: cn=b\r\ncn: b\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].dn, "cn=a");
  EXPECT_THAT(records[0].Values("cn"), ElementsAre("a"));
  EXPECT_THAT(records[0].Values("description"), ElementsAre("xy"));
  EXPECT_EQ(records[1].line, 8);
  EXPECT_THAT(records[1].Values("cn"), ElementsAre("b"));
}

TEST(LdifReader, AttributeOptionsKeepTheBaseName) {
  std::vector<Record> records = MustRead(
      "dn: cn=a\ncn: Ann\ncn;lang-de: Anna\nmember;range=0-1: uid=x\nuserCertificate;binary:: "
      "AAE=\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].Values("cn"), ElementsAre("Ann", "Anna"));
  EXPECT_THAT(records[0].Values("member"), ElementsAre("uid=x"));
  EXPECT_THAT(records[0].Values("usercertificate"), ElementsAre(std::string("\0\1", 2)));
}

TEST(LdifReader, ChangetypeAddIsContentOtherChangetypesAreErrors) {
  std::vector<Record> records = MustRead(
      "dn: cn=a\nchangetype: add\ncn: a\n\ndn: cn=b\ncontrol: 1.2.3 true\nchangetype: ADD\ncn: "
      "b\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].attrs.size(), 1u);
  EXPECT_THAT(records[1].Values("cn"), ElementsAre("b"));
  EXPECT_THAT(records[1].Values("changetype"), IsEmpty());
  EXPECT_EQ(ReadError("dn: cn=a\ncn: a\n\ndn: cn=b\nchangetype: modify\nreplace: cn\ncn: c\n-\n"),
            "x.ldif:5: changetype: modify is not supported (only content records and "
            "changetype: add)");
  EXPECT_THAT(ReadError("dn: cn=a\nchangetype: delete\n"),
              HasSubstr("x.ldif:2: changetype: delete"));
}

// A file cut off mid-line (an interrupted export) is refused at that line, not read as a value:
// "member: uid=qu" would otherwise name a user that does not exist. A folded line counts too.
TEST(LdifReader, TruncatedLastLineIsRefused) {
  EXPECT_EQ(ReadError("dn: cn=g\nmember: uid=ann\nmember: uid=qu"),
            "x.ldif:3: the file ends in the middle of this line (no line break after it): it "
            "looks truncated; export the directory again");
  EXPECT_THAT(ReadError("dn: cn=g\ndescription: a\n b"), HasSubstr("x.ldif:3: the file ends"));
  EXPECT_EQ(MustRead("dn: cn=g\nmember: uid=ann\n").size(), 1u);
  EXPECT_EQ(MustRead("dn: cn=g\r\nmember: uid=ann\r\n").size(), 1u);
}

TEST(LdifReader, ErrorsNameFileAndLine) {
  EXPECT_EQ(ReadError("version: 1\n\ndn: cn=a\ncn a\n", "demo.ldif"),
            "demo.ldif:4: attribute line without ':'");
  EXPECT_EQ(ReadError("dn: cn=a\nsn: b\ncn:: QUJD$\n"),
            "x.ldif:3: invalid base64 in value of 'cn'");
  EXPECT_EQ(ReadError("cn: a\ndn: cn=a\n"), "x.ldif:1: record does not start with dn:");
  EXPECT_EQ(ReadError("dn: cn=a\ncn: a\n\n\n\n\n\n\n dn: cn=b\n"),
            "x.ldif:9: folded line continues nothing");
  EXPECT_EQ(ReadError("dn: cn=a\njpegPhoto:< file:///etc/passwd\n"),
            "x.ldif:2: URL value ('jpegPhoto:<') is not supported: inline the value or base64 it");
  EXPECT_EQ(ReadError("version: 2\n\ndn: cn=a\n"),
            "x.ldif:1: unsupported LDIF version '2' (only 1)");
  EXPECT_EQ(ReadError("dn: cn=a\ncn: a\ndn: cn=b\n"),
            "x.ldif:3: second dn: in one record (a blank line must separate records)");
  EXPECT_EQ(ReadError("dn: cn=a\n: value\n"), "x.ldif:2: attribute line without a name before ':'");
  EXPECT_EQ(ReadError("dn: cn=a\nfirst name: x\n"),
            "x.ldif:2: invalid attribute name 'first name'");
  EXPECT_EQ(ReadError("dn: cn=a\ncn;: x\n"), "x.ldif:2: invalid attribute name 'cn;'");
  EXPECT_EQ(ReadError("dn:: ***\n"), "x.ldif:1: invalid base64 in value of 'dn'");
  // A version line after the first record is just a record that does not start with dn:.
  EXPECT_EQ(ReadError("dn: cn=a\n\nversion: 1\n"), "x.ldif:3: record does not start with dn:");
  // The line of a folded line is the line where it starts.
  EXPECT_EQ(ReadError("dn: cn=a\ncn:: QU\n JD\n *\n"), "x.ldif:2: invalid base64 in value of 'cn'");
}

TEST(LdifReader, ErrorIsSticky) {
  std::unique_ptr<LdifReader> reader =
      LdifReader::FromString("x.ldif", "dn: cn=a\n\nbroken\n\ndn: cn=b\n");
  ASSERT_TRUE(reader->Next().ok());
  absl::StatusOr<bool> second = reader->Next();
  EXPECT_FALSE(second.ok());
  absl::StatusOr<bool> third = reader->Next();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status(), second.status());
}

TEST(LdifReader, AdversarialInputsNeverCrash) {
  EXPECT_THAT(MustRead(""), IsEmpty());
  EXPECT_THAT(MustRead("\n\n\r\n"), IsEmpty());
  EXPECT_THAT(MustRead("# only\n# comments\n continued\n"), IsEmpty());
  EXPECT_THAT(MustRead("version: 1\n"), IsEmpty());
  EXPECT_EQ(ReadError(std::string("dn: cn=a\ncn: a\0b\n", 17)), "x.ldif:2: NUL byte in line");
  EXPECT_EQ(ReadError(std::string("\0\0\0\n", 4)), "x.ldif:1: NUL byte in line");
  EXPECT_EQ(ReadError("dn: cn=a\ncn:: QUJ\n"), "x.ldif:2: invalid base64 in value of 'cn'");
  EXPECT_EQ(ReadError("dn: cn=a\ncn:: QQ=A\n"), "x.ldif:2: invalid base64 in value of 'cn'");
  EXPECT_EQ(ReadError("dn: cn=a\ncn:: ====\n"), "x.ldif:2: invalid base64 in value of 'cn'");
  EXPECT_EQ(ReadError(" \n"), "x.ldif:1: folded line continues nothing");
  EXPECT_EQ(ReadError("dn: cn=a\n\n \ndn: cn=b\n"), "x.ldif:3: folded line continues nothing");
  EXPECT_EQ(ReadError("-\n"), "x.ldif:1: attribute line without ':'");
  EXPECT_EQ(ReadError("dn\n"), "x.ldif:1: attribute line without ':'");
  EXPECT_THAT(MustRead("dn:\n"), ElementsAre(testing::Field(&Record::dn, "")));
  EXPECT_THAT(ReadError("dn"), HasSubstr("x.ldif:1: the file ends in the middle of this line"));
  EXPECT_THAT(ReadError("dn:"), HasSubstr("x.ldif:1: the file ends in the middle of this line"));

  // A 1 MB line.
  std::string long_value(1 << 20, 'x');
  std::vector<Record> records = MustRead("dn: cn=a\ndescription: " + long_value + "\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Values("description")[0].size(), long_value.size());

  // Random bytes with a fixed seed: any answer but a crash is fine.
  std::mt19937 rng(42);
  const std::string alphabet = std::string("dn:cb= \n\r#<\t-;,", 15) + std::string(1, '\0');
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    const int length = static_cast<int>(rng() % 64);
    for (int idx = 0; idx < length; ++idx) input.push_back(alphabet[rng() % alphabet.size()]);
    absl::StatusOr<std::vector<Record>> result = ReadString(input);
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
    }
  }
}

// Records larger than the read buffer and records that straddle buffer refills keep their
// content and their line numbers.
TEST(LdifReader, LargeFileAcrossBufferRefills) {
  std::string contents = "version: 1\n\n";
  int64_t line = 3;
  constexpr int kRecords = 40000;
  for (int record_idx = 0; record_idx < kRecords; ++record_idx) {
    absl::StrAppend(&contents, "dn: uid=u", record_idx, ",ou=people,dc=example,dc=com\n",
                    "objectClass: inetOrgPerson\n", "cn: User ", record_idx, "\n",
                    "description: folded\n", "  value ", record_idx, "\n",
                    "mail:: ", "dUBleGFtcGxlLmNvbQ==", "\n\n");
    line += 7;
  }
  // A 9 MB record: larger than the initial 4 MiB buffer.
  absl::StrAppend(&contents, "dn: cn=big\ndescription: ", std::string(9 << 20, 'y'), "\n\n");
  line += 3;
  absl::StrAppend(&contents, "dn: cn=last\nbroken line\n");
  const int64_t broken_line = line + 1;
  std::string path = WriteFile("large.ldif", contents);

  absl::StatusOr<std::unique_ptr<LdifReader>> reader = LdifReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  int count = 0;
  absl::Status status;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next();
    if (!more.ok()) {
      status = more.status();
      break;
    }
    ASSERT_TRUE(*more) << "ended without the error";
    const LdifEntry& entry = (*reader)->entry();
    if (count < kRecords) {
      ASSERT_EQ(entry.Dn(), absl::StrCat("uid=u", count, ",ou=people,dc=example,dc=com"));
      ASSERT_EQ(entry.line(), 3 + 7 * count);
      ASSERT_THAT(entry.Values("description"), ElementsAre(absl::StrCat("folded value ", count)));
      ASSERT_THAT(entry.Values("mail"), ElementsAre("u@example.com"));
    } else {
      EXPECT_EQ(entry.Dn(), "cn=big");
      EXPECT_EQ(entry.Values("description")[0].size(), size_t{9} << 20);
    }
    ++count;
  }
  EXPECT_EQ(count, kRecords + 1);
  EXPECT_EQ(status.message(), absl::StrCat(path, ":", broken_line, ": attribute line without ':'"));
}

// The file path checks for NUL bytes per chunk read, the string path per string: test both.
TEST(LdifReader, NulByteInAFile) {
  std::string path =
      WriteFile("nul.ldif", std::string("dn: cn=a\ncn: a\n\ndn: cn=b\ncn: b\0\n", 32));
  absl::StatusOr<std::unique_ptr<LdifReader>> reader = LdifReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<Record>> records = ReadAll(**reader);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().message(), path + ":5: NUL byte in line");
}

TEST(LdifReader, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<LdifReader>> reader =
      LdifReader::Open(::testing::TempDir() + "/no-such-file.ldif");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(reader.status().message(), HasSubstr("no-such-file.ldif"));
  absl::StatusOr<std::unique_ptr<LdifReader>> dir = LdifReader::Open(::testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
}

// ----------------------------------------------------------------------------------------------
// EntryMapper and the Directory it builds

constexpr char kDirectory[] = R"(version: 1

dn: dc=example,dc=com
objectClass: domain
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=ann,ou=people,dc=example,dc=com
objectClass: top
objectClass: inetOrgPerson
entryUUID: 00000000-0000-4000-8000-000000000001
uid: ann
cn: Ann Lee
givenName: Ann
sn: Lee
mail: Ann.Lee@Example.COM
mail: ann@other.example.com
preferredLanguage: de_DE
title: Engineer

dn: UID=Bob,OU=People,DC=Example,DC=Com
OBJECTCLASS: InetOrgPerson
ENTRYUUID: 00000000-0000-4000-8000-000000000002
Uid: bob
SN: Smith
departmentNumber: 42

dn: cn=staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: Staff
member: uid=ann , ou=People,dc=example,dc=com
member: cn=Eng,ou=groups,dc=example,dc=com
member: uid=ghost,ou=people,dc=example,dc=com

dn: cn=eng,ou=groups,dc=example,dc=com
objectClass: groupOfNames
member: uid=bob,ou=people,dc=example,dc=com
member: cn=staff,ou=groups,dc=example,dc=com
)";

DirectorySchema TestSchema() {
  DirectorySchema schema;
  schema.extra = {"departmentNumber", "title"};
  return schema;
}

absl::StatusOr<core::Directory> ReadDirectory(std::string_view file_name, std::string_view text,
                                              const DirectorySchema& schema,
                                              LdifReadStats* stats = nullptr) {
  return ReadLdifDirectory(WriteFile(file_name, text), schema, stats);
}

TEST(LdifDirectory, UsersAndGroupsByFilter) {
  LdifReadStats stats;
  absl::StatusOr<core::Directory> dir = ReadDirectory("dir.ldif", kDirectory, TestSchema(), &stats);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(stats.records, 6);
  EXPECT_EQ(stats.users, 2);
  EXPECT_EQ(stats.groups, 2);
  EXPECT_EQ(stats.ignored, 2);
  EXPECT_EQ(stats.member_values, 5);
  ASSERT_EQ(dir->user_count(), 2u);
  ASSERT_EQ(dir->group_count(), 2u);

  std::optional<uint32_t> ann = dir->FindUserByDn("uid=ann,ou=people,dc=example,dc=com");
  ASSERT_TRUE(ann.has_value());
  EXPECT_EQ(dir->user_id[*ann], "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(dir->user_name[*ann], "ann");
  EXPECT_EQ(dir->email[*ann], "Ann.Lee@Example.COM");  // the first value
  EXPECT_EQ(dir->first_name[*ann], "Ann");
  EXPECT_EQ(dir->last_name[*ann], "Lee");
  EXPECT_EQ(dir->display_name[*ann], "Ann Lee");
  EXPECT_EQ(dir->language[*ann], "de_DE");
  EXPECT_EQ(dir->disabled[*ann], 0);
  ASSERT_THAT(dir->extra_names, ElementsAre("departmentNumber", "title"));
  EXPECT_EQ(dir->extra[0][*ann], "");
  EXPECT_EQ(dir->extra[1][*ann], "Engineer");

  // Attribute names in any case; DN found in any spelling.
  std::optional<uint32_t> bob = dir->FindUserByDn("uid=bob,ou=people,dc=example,dc=com");
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(dir->user_id[*bob], "00000000-0000-4000-8000-000000000002");
  EXPECT_EQ(dir->user_name[*bob], "bob");
  EXPECT_EQ(dir->last_name[*bob], "Smith");
  EXPECT_EQ(dir->first_name[*bob], "");
  EXPECT_EQ(dir->extra[0][*bob], "42");
}

TEST(LdifDirectory, MembersResolveToUsersAndNestedGroupsUnknownOnesAreCounted) {
  absl::StatusOr<core::Directory> dir = ReadDirectory("dir.ldif", kDirectory, TestSchema());
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::optional<uint32_t> staff = dir->FindGroupByDn("CN=Staff, OU=Groups, DC=example, DC=com");
  std::optional<uint32_t> eng = dir->FindGroupByDn("cn=eng,ou=groups,dc=example,dc=com");
  std::optional<uint32_t> ann = dir->FindUserByDn("uid=ann,ou=people,dc=example,dc=com");
  std::optional<uint32_t> bob = dir->FindUserByDn("uid=bob,ou=people,dc=example,dc=com");
  ASSERT_TRUE(staff && eng && ann && bob);
  EXPECT_EQ(dir->group_name[*staff], "Staff");
  EXPECT_EQ(dir->group_name[*eng], "cn=eng,ou=groups,dc=example,dc=com");  // no cn: the DN

  auto [staff_begin, staff_end] = dir->MembersOf(*staff);
  ASSERT_EQ(staff_end - staff_begin, 2);  // the ghost is not a member
  EXPECT_FALSE(staff_begin[0].is_group());
  EXPECT_EQ(staff_begin[0].index(), *ann);
  EXPECT_TRUE(staff_begin[1].is_group());
  EXPECT_EQ(staff_begin[1].index(), *eng);

  auto [eng_begin, eng_end] = dir->MembersOf(*eng);
  ASSERT_EQ(eng_end - eng_begin, 2);
  EXPECT_EQ(eng_begin[0].index(), *bob);
  EXPECT_FALSE(eng_begin[0].is_group());
  EXPECT_TRUE(eng_begin[1].is_group());  // the cycle back to staff is kept as an edge
  EXPECT_EQ(eng_begin[1].index(), *staff);

  EXPECT_EQ(dir->unresolved_member_count, 1u);
  ASSERT_EQ(dir->unresolved_examples.size(), 1u);
  EXPECT_EQ(dir->unresolved_examples[0].second, "uid=ghost,ou=people,dc=example,dc=com");
}

TEST(LdifDirectory, CustomFiltersAndAttributes) {
  DirectorySchema schema;
  schema.user_filter = "(&(objectClass=inetOrgPerson)(mail=*@example.com))";
  schema.group_filter = "(cn=staff)";
  schema.email = "MAIL";
  schema.user_name = "mail";
  LdifReadStats stats;
  absl::StatusOr<core::Directory> dir = ReadDirectory("dir.ldif", kDirectory, schema, &stats);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(stats.users, 1);  // bob has no mail
  EXPECT_EQ(stats.groups, 1);
  EXPECT_EQ(stats.ignored, 4);
  ASSERT_EQ(dir->user_count(), 1u);
  EXPECT_EQ(dir->user_name[0], "Ann.Lee@Example.COM");
}

TEST(LdifDirectory, BadFilterIsReported) {
  DirectorySchema schema;
  schema.user_filter = "(objectClass=person";
  absl::StatusOr<core::Directory> dir = ReadDirectory("dir.ldif", kDirectory, schema);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dir.status().message(), HasSubstr("source.user_filter: invalid LDAP filter"));
}

TEST(LdifDirectory, MissingFileThroughTheSource) {
  std::unique_ptr<DirectorySource> source =
      MakeLdifSource(::testing::TempDir() + "/absent.ldif", DirectorySchema{});
  absl::StatusOr<core::Directory> dir = source->Read();
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
}

TEST(LdifDirectory, LdifErrorsComeThroughTheSource) {
  std::string path = WriteFile("broken.ldif", "dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nmail\n");
  absl::StatusOr<core::Directory> dir = MakeLdifSource(path, DirectorySchema{})->Read();
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().message(), path + ":3: attribute line without ':'");
}

DirectorySchema AdSchema() {
  DirectorySchema schema;
  schema.flavor = DirectoryFlavor::kAd;
  schema.user_filter = "(&(objectClass=user)(objectCategory=person))";  // the config's default
  schema.group_filter = "(objectClass=group)";
  schema.id = "objectGUID";
  schema.user_name = "userPrincipalName";
  return schema;
}

constexpr char kAdDirectory[] = R"(dn: CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com
objectClass: top
objectClass: person
objectClass: user
objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example,DC=com
objectGUID:: 4AQlP4lP0xGaDAMF6CwzAQ==
userPrincipalName: ann@corp.example.com
userAccountControl: 512
mail: ann@example.com

dn: CN=Bob Old,OU=Staff,DC=corp,DC=example,DC=com
objectClass: user
objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example,DC=com
objectGUID:: AAECAwQFBgcICQoLDA0ODw==
userAccountControl: 514

dn: CN=Cid Text,OU=Staff,DC=corp,DC=example,DC=com
objectClass: user
objectCategory: cn=person,cn=schema,cn=configuration,dc=corp,dc=example,dc=com
objectGUID: 0A0B0C0D-AAAA-BBBB-CCCC-0123456789AB

dn: CN=PC1,OU=Computers,DC=corp,DC=example,DC=com
objectClass: user
objectClass: computer
objectCategory: CN=Computer,CN=Schema,CN=Configuration,DC=corp,DC=example,DC=com
objectGUID:: AAECAwQFBgcICQoLDA0ODg==

dn: CN=Staff,OU=Groups,DC=corp,DC=example,DC=com
objectClass: group
objectCategory: CN=Group,CN=Schema,CN=Configuration,DC=corp,DC=example,DC=com
cn: Staff
member: CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com
member: CN=Bob Old,OU=Staff,DC=corp,DC=example,DC=com
)";

TEST(LdifDirectory, AdFlavorRendersGuidsAndDisabledFlag) {
  LdifReadStats stats;
  absl::StatusOr<core::Directory> dir = ReadDirectory("ad.ldif", kAdDirectory, AdSchema(), &stats);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(stats.users, 3);
  EXPECT_EQ(stats.ignored, 1);  // the computer
  ASSERT_EQ(dir->user_count(), 3u);
  // The classic GUID {3F2504E0-4F89-11D3-9A0C-0305E82C3301} as AD stores it.
  EXPECT_EQ(dir->user_id[0], "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  EXPECT_EQ(dir->user_name[0], "ann@corp.example.com");
  EXPECT_EQ(dir->disabled[0], 0);  // 512: NORMAL_ACCOUNT
  EXPECT_EQ(dir->user_id[1], "03020100-0504-0706-0809-0a0b0c0d0e0f");
  EXPECT_EQ(dir->disabled[1], 1);  // 514: NORMAL_ACCOUNT | ACCOUNTDISABLE
  EXPECT_EQ(dir->user_id[2], "0a0b0c0d-aaaa-bbbb-cccc-0123456789ab");  // text form, lower-cased
  EXPECT_EQ(dir->disabled[2], 0);
  EXPECT_TRUE(dir->FindUserById("3f2504e0-4f89-11d3-9a0c-0305e82c3301").has_value());
  std::optional<uint32_t> staff =
      dir->FindGroupByDn("cn=staff,ou=groups,dc=corp,dc=example,dc=com");
  ASSERT_TRUE(staff.has_value());
  auto [begin, end] = dir->MembersOf(*staff);
  EXPECT_EQ(end - begin, 2);
}

TEST(LdifDirectory, AdGuidOfWrongLengthNamesLineAndDn) {
  std::string text = absl::StrCat(
      "dn: CN=Ann,DC=corp\nobjectClass: user\nobjectCategory: CN=Person,CN=Schema\n",
      "objectGUID:: 4AQlP4lP0xGaDAMF6CwzAQ==\n\n",
      "dn: CN=Bad,DC=corp\nobjectClass: user\nobjectCategory: CN=Person,CN=Schema\ncn: Bad\n",
      "objectGUID:: AQIDBAUGBwgJCgsM\n");
  absl::StatusOr<core::Directory> dir = ReadDirectory("ad.ldif", text, AdSchema());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dir.status().message(),
              HasSubstr("ad.ldif:10: entry \"CN=Bad,DC=corp\": objectGUID is 12 bytes, expected a "
                        "16-byte binary GUID"));
}

TEST(LdifDirectory, AdUserAccountControlMustBeAnInteger) {
  absl::StatusOr<core::Directory> dir =
      ReadDirectory("ad.ldif",
                    "dn: CN=Ann,DC=corp\nobjectClass: user\nobjectCategory: CN=Person,CN=Schema\n"
                    "userAccountControl: lots\n",
                    AdSchema());
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(dir.status().message(),
              HasSubstr("ad.ldif:4: entry \"CN=Ann,DC=corp\": userAccountControl 'lots' is not"));
}

TEST(LdifDirectory, OpenLdapFlavorKeepsIdsAsText) {
  // Without flavor kAd, neither objectGUID decoding nor userAccountControl applies.
  DirectorySchema schema = AdSchema();
  schema.flavor = DirectoryFlavor::kOpenLdap;
  schema.id = "uid";
  schema.user_filter = "(objectClass=user)";
  absl::StatusOr<core::Directory> dir = ReadDirectory(
      "o.ldif", "dn: uid=a,dc=x\nobjectClass: user\nuid: a\nuserAccountControl: 514\n", schema);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->user_id[0], "a");
  EXPECT_EQ(dir->disabled[0], 0);
}

// "(objectCategory=person)" matches AD's schema-class DN only in flavor kAd; the DN itself
// and other attributes still match as they are.
TEST(LdifEntryMapper, AdObjectCategoryMatchesByClassName) {
  constexpr char kEntry[] =
      "dn: CN=Ann,DC=corp\nobjectClass: user\n"
      "objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=corp\n";
  auto classify = [&](DirectoryFlavor flavor, std::string filter) {
    DirectorySchema schema;
    schema.flavor = flavor;
    schema.user_filter = std::move(filter);
    absl::StatusOr<EntryMapper> mapper = EntryMapper::Create(schema);
    EXPECT_TRUE(mapper.ok()) << mapper.status();
    std::unique_ptr<LdifReader> reader = LdifReader::FromString("x.ldif", kEntry);
    EXPECT_TRUE(*reader->Next());
    return mapper->Classify(reader->entry());
  };
  using Kind = EntryMapper::Kind;
  EXPECT_EQ(classify(DirectoryFlavor::kAd, "(objectCategory=person)"), Kind::kUser);
  EXPECT_EQ(classify(DirectoryFlavor::kAd, "(&(objectClass=user)(objectCategory=PERSON))"),
            Kind::kUser);
  EXPECT_EQ(classify(DirectoryFlavor::kAd,
                     "(objectCategory=CN=Person,CN=Schema,CN=Configuration,DC=corp)"),
            Kind::kUser);
  EXPECT_EQ(classify(DirectoryFlavor::kAd, "(objectCategory=computer)"), Kind::kIgnored);
  EXPECT_EQ(classify(DirectoryFlavor::kOpenLdap, "(objectCategory=person)"), Kind::kIgnored);
}

// The mapper works on any EntryView, not only LDIF entries.
TEST(LdifEntryMapper, ClassifiesAnyEntryView) {
  absl::StatusOr<EntryMapper> mapper = EntryMapper::Create(TestSchema());
  ASSERT_TRUE(mapper.ok()) << mapper.status();
  std::unique_ptr<LdifReader> reader = LdifReader::FromString("x.ldif", kDirectory);
  std::vector<EntryMapper::Kind> kinds;
  while (true) {
    absl::StatusOr<bool> more = reader->Next();
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    kinds.push_back(mapper->Classify(reader->entry()));
  }
  using Kind = EntryMapper::Kind;
  EXPECT_THAT(kinds, ElementsAre(Kind::kIgnored, Kind::kIgnored, Kind::kUser, Kind::kUser,
                                 Kind::kGroup, Kind::kGroup));
}

}  // namespace
}  // namespace usersync::io
