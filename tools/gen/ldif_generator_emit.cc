#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/ldap_filter.h"
#include "core/str.h"
#include "io/directory/entry_mapper.h"
#include "tools/gen/ldif_generator.h"
#include "tools/gen/ldif_generator_internal.h"

// The generator's output side: the entries in LDIF order (Emitter), and the sinks they go to
// (RFC 2849 text, or a core::Directory through io::EntryMapper). Planning is in
// ldif_generator.cc.
namespace usersync::io {
namespace gen_internal {
namespace {

// RFC 2849 text into a buffer that is flushed to an fd or appended to a string.
class LdifSink final : public EntrySink {
 public:
  LdifSink(int fd, std::string* out) : fd_(fd), out_(out), buf_(new char[kBufferBytes]) {}

  void Preamble(std::string_view text) override { Put(text); }
  void Begin(std::string_view dn) override { Line("dn", dn); }
  void Add(std::string_view name, std::string_view value) override { Line(name, value); }
  void End() override { Put("\n"); }

  // Writes what is buffered. Returns errno of a failed write (0: none).
  int Finish() {
    Flush();
    return error_;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  // RFC 2849 SAFE-STRING, and no trailing space (it would not survive a round trip).
  static bool Safe(std::string_view value) {
    if (value.empty()) return true;
    const auto first = static_cast<unsigned char>(value.front());
    if (first == ' ' || first == ':' || first == '<') return false;
    if (value.back() == ' ') return false;
    for (char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte == 0 || byte == '\n' || byte == '\r' || byte >= 0x80) return false;
    }
    return true;
  }

  void Line(std::string_view name, std::string_view value) {
    // name + ":: " + base64 + "\n" fits: values are short (< 1 KiB).
    Reserve(name.size() + 4 + (value.size() + 2) / 3 * 4);
    Append(name);
    if (Safe(value)) {
      Append(": ");
      Append(value);
    } else {
      Append(":: ");
      AppendBase64(value);
    }
    Append("\n");
  }

  void AppendBase64(std::string_view value) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* in = reinterpret_cast<const unsigned char*>(value.data());
    size_t idx = 0;
    char* out = buf_.get() + used_;
    for (; idx + 3 <= value.size(); idx += 3) {
      const uint32_t n = (uint32_t{in[idx]} << 16) | (uint32_t{in[idx + 1]} << 8) | in[idx + 2];
      *out++ = kAlphabet[(n >> 18) & 63];
      *out++ = kAlphabet[(n >> 12) & 63];
      *out++ = kAlphabet[(n >> 6) & 63];
      *out++ = kAlphabet[n & 63];
    }
    if (idx < value.size()) {
      uint32_t n = uint32_t{in[idx]} << 16;
      if (idx + 1 < value.size()) n |= uint32_t{in[idx + 1]} << 8;
      *out++ = kAlphabet[(n >> 18) & 63];
      *out++ = kAlphabet[(n >> 12) & 63];
      *out++ = idx + 1 < value.size() ? kAlphabet[(n >> 6) & 63] : '=';
      *out++ = '=';
    }
    used_ = static_cast<size_t>(out - buf_.get());
  }

  void Reserve(size_t n) {
    USERSYNC_CHECK(n <= kBufferBytes);
    if (used_ + n > kBufferBytes) Flush();
  }
  // REQUIRES: Reserve() made room.
  void Append(std::string_view s) {
    std::memcpy(buf_.get() + used_, s.data(), s.size());
    used_ += s.size();
  }
  void Put(std::string_view s) {
    Reserve(s.size());
    Append(s);
  }

  void Flush() {
    bytes_ += used_;
    if (out_ != nullptr) {
      out_->append(buf_.get(), used_);
    } else {
      size_t done = 0;
      while (error_ == 0 && done < used_) {
        const ssize_t n = ::write(fd_, buf_.get() + done, used_ - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          error_ = errno;
        } else {
          done += static_cast<size_t>(n);
        }
      }
    }
    used_ = 0;
  }

  int fd_;
  std::string* out_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  uint64_t bytes_ = 0;
  int error_ = 0;
};

// Entries mapped straight into a DirectoryBuilder by io::EntryMapper.
class BuilderSink final : public EntrySink {
 public:
  explicit BuilderSink(EntryMapper mapper)
      : mapper_(std::move(mapper)), builder_(mapper_.extra_names()) {}

  void Begin(std::string_view dn) override {
    entry_.Clear();
    block_idx_ = 0;
    block_used_ = 0;
    entry_.dn = Store(dn);
  }
  void Add(std::string_view name, std::string_view value) override {
    entry_.AddValue(name, Store(value));
  }
  void End() override {
    if (!status_.ok()) return;
    absl::StatusOr<EntryMapper::Kind> kind = mapper_.Add(entry_, builder_);
    if (!kind.ok()) status_ = kind.status();
  }

  absl::StatusOr<core::Directory> Finish() && {
    if (!status_.ok()) return status_;
    return std::move(builder_).Finish();
  }

 private:
  // One entry, as EntryMapper reads it. Attribute names are the generator's literals.
  class Entry final : public core::EntryView {
   public:
    std::string_view Dn() const override { return dn; }
    std::span<const std::string_view> Values(std::string_view name) const override {
      for (size_t attr_idx = 0; attr_idx < attr_count_; ++attr_idx) {
        if (core::EqualsIgnoreCase(attrs_[attr_idx].name, name)) return attrs_[attr_idx].values;
      }
      return {};
    }
    void Clear() { attr_count_ = 0; }
    void AddValue(std::string_view name, std::string_view value) {
      // Values of one attribute come together, so only the last attribute can match.
      if (attr_count_ == 0 || attrs_[attr_count_ - 1].name != name) {
        if (attr_count_ == attrs_.size()) attrs_.emplace_back();
        attrs_[attr_count_].name = name;
        attrs_[attr_count_].values.clear();
        ++attr_count_;
      }
      attrs_[attr_count_ - 1].values.push_back(value);
    }

    std::string_view dn;

   private:
    struct Attr {
      std::string_view name;
      std::vector<std::string_view> values;  // capacity reused from entry to entry
    };
    std::vector<Attr> attrs_;
    size_t attr_count_ = 0;
  };

  // Copies `s` into blocks that are reused from entry to entry.
  std::string_view Store(std::string_view s) {
    USERSYNC_CHECK(s.size() <= kBufferBytes);
    if (block_idx_ < blocks_.size() && block_used_ + s.size() > kBufferBytes) {
      ++block_idx_;
      block_used_ = 0;
    }
    if (block_idx_ == blocks_.size()) blocks_.emplace_back(new char[kBufferBytes]);
    char* out = blocks_[block_idx_].get() + block_used_;
    std::memcpy(out, s.data(), s.size());
    block_used_ += s.size();
    return std::string_view(out, s.size());
  }

  EntryMapper mapper_;
  core::DirectoryBuilder builder_;
  Entry entry_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_idx_ = 0;
  size_t block_used_ = 0;
  absl::Status status_;
};

// Writes the plan's entries into a sink. One per Emit call (it owns the text buffers).
class Emitter {
 public:
  Emitter(const Plan& plan, uint64_t seed, EntrySink& sink)
      : plan_(plan), seed_(seed), ad_(plan.ad), base_(plan.base_dn), sink_(sink) {}

  // The base entry and the two OUs.
  void BaseEntries() {
    sink_.Begin(base_);
    sink_.Add("objectClass", "top");
    if (plan_.first_rdn_type == "dc") {
      sink_.Add("objectClass", "dcObject");
      sink_.Add("objectClass", "organization");
      sink_.Add("dc", plan_.first_rdn_value);
      sink_.Add("o", plan_.first_rdn_value);
    } else if (plan_.first_rdn_type == "o") {
      sink_.Add("objectClass", "organization");
      sink_.Add("o", plan_.first_rdn_value);
    } else {
      sink_.Add("objectClass", "organizationalUnit");
      sink_.Add("ou", plan_.first_rdn_value);
    }
    sink_.End();
    for (std::string_view ou : {"people", "groups"}) {
      dn_.Clear();
      dn_.Add("ou=").Add(ou).Add(',').Add(base_);
      sink_.Begin(dn_.view());
      sink_.Add("objectClass", "top");
      sink_.Add("objectClass", "organizationalUnit");
      sink_.Add("ou", ou);
      sink_.End();
    }
  }

  void User(int64_t user_idx) {
    const UserTraits t = Traits(seed_, ad_, user_idx);
    dn_.Clear();
    AddUserDn(dn_, t, user_idx);
    sink_.Begin(dn_.view());
    sink_.Add("objectClass", "top");
    sink_.Add("objectClass", "person");
    sink_.Add("objectClass", "organizationalPerson");
    IdentityAttributes(t, user_idx);
    if (t.messy != Messy::kNoGiven) sink_.Add("givenName", t.first->display);
    sink_.Add("sn", t.last->display);
    if (ad_) {
      value_.Clear();
      value_.Add(t.first->display).Add(' ').Add(t.last->display);
      sink_.Add("displayName", value_.view());
    }
    Mail(t, user_idx);
    if (value_.size() > 0) sink_.Add("mail", value_.view());
    if (!t.language.empty()) sink_.Add("preferredLanguage", t.language);
    value_.Clear();
    value_.AddInt(static_cast<uint64_t>(user_idx % 997 + 100));
    sink_.Add(ad_ ? "department" : "departmentNumber", value_.view());
    sink_.Add("title", t.title);
    value_.Clear();
    value_.AddInt(static_cast<uint64_t>(user_idx));
    sink_.Add(ad_ ? "employeeID" : "employeeNumber", value_.view());
    if (ad_) sink_.Add("userAccountControl", t.disabled ? "514" : "512");
    sink_.End();
  }

  void Group(int64_t group) {
    dn_.Clear();
    AddGroupDn(dn_, group);
    sink_.Begin(dn_.view());
    sink_.Add("objectClass", "top");
    sink_.Add("objectClass", ad_ ? "group" : "groupOfNames");
    value_.Clear();
    AddGroupName(value_, group);
    sink_.Add("cn", value_.view());
    const auto uuid = UuidBytes(seed_, kGroupUuidBit | static_cast<uint64_t>(group));
    if (ad_) {
      sink_.Add("sAMAccountName", value_.view());
      sink_.Add("objectGUID",
                std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
    } else {
      value_.Clear();
      AddUuidString(uuid, value_);
      sink_.Add("entryUUID", value_.view());
    }
    plan_.ForEachMember(seed_, group, [&](MemberKind kind, int64_t idx) {
      value_.Clear();
      if (kind == MemberKind::kUser) {
        AddUserDn(value_, Traits(seed_, ad_, idx), idx);
      } else if (kind == MemberKind::kGroup) {
        AddGroupDn(value_, idx);
      } else if (idx < 0) {
        value_.Add(ad_ ? "cn=ghost" : "uid=ghost").Add(",ou=people,").Add(base_);
      } else {
        value_.Add(ad_ ? "cn=gone-" : "uid=gone-").AddInt(static_cast<uint64_t>(idx));
        value_.Add(",ou=people,").Add(base_);
      }
      sink_.Add("member", value_.view());
    });
    sink_.End();
  }

 private:
  // uid (openldap) or sAMAccountName-style login: ascii first "." ascii last + index.
  static void AddUid(Text& out, const UserTraits& t, int64_t user_idx) {
    out.Add(t.first->ascii).Add('.').Add(t.last->ascii).AddInt(static_cast<uint64_t>(user_idx));
  }

  void AddUserDn(Text& out, const UserTraits& t, int64_t user_idx) const {
    if (ad_) {
      out.Add("cn=").Add(t.first->display).Add(' ').Add(t.last->display).Add(' ');
      out.AddInt(static_cast<uint64_t>(user_idx));
    } else {
      out.Add("uid=");
      AddUid(out, t, user_idx);
    }
    out.Add(",ou=people,").Add(base_);
  }

  void AddGroupName(Text& out, int64_t group) const {
    if (group == plan_.goto_users()) {
      out.Add("goto-users");
    } else if (group == plan_.organizers()) {
      out.Add("organizers");
    } else if (group == plan_.trainers()) {
      out.Add("trainers");
    } else if (group == plan_.contractors()) {
      out.Add("contractors");
    } else if (group >= plan_.tree) {
      out.Add("chain-").AddInt(static_cast<uint64_t>(group - plan_.tree));
    } else if (group < kFanOut) {
      out.Add("dept-").AddInt(static_cast<uint64_t>(group));
    } else {
      out.Add("team-").AddInt(static_cast<uint64_t>(group));
    }
  }

  void AddGroupDn(Text& out, int64_t group) const {
    out.Add("cn=");
    AddGroupName(out, group);
    out.Add(",ou=groups,").Add(base_);
  }

  // The user's object class, naming and id attributes: AD's or openldap's.
  void IdentityAttributes(const UserTraits& t, int64_t user_idx) {
    const auto uuid = UuidBytes(seed_, static_cast<uint64_t>(user_idx));
    if (ad_) {
      sink_.Add("objectClass", "user");
      value_.Clear();
      value_.Add("CN=Person,CN=Schema,CN=Configuration,").Add(base_);
      sink_.Add("objectCategory", value_.view());
      value_.Clear();
      value_.Add(t.first->display).Add(' ').Add(t.last->display).Add(' ');
      value_.AddInt(static_cast<uint64_t>(user_idx));
      sink_.Add("cn", value_.view());
      // sAMAccountName: at most 20 characters, the index always whole.
      value_.Clear();
      value_.Add(t.first->ascii.substr(0, 1));
      const size_t digits = DecimalDigits(static_cast<uint64_t>(user_idx));
      value_.Add(t.last->ascii.substr(0, 19 - digits)).AddInt(static_cast<uint64_t>(user_idx));
      sink_.Add("sAMAccountName", value_.view());
      value_.Clear();
      AddUid(value_, t, user_idx);
      value_.Add('@').Add(plan_.domain);
      sink_.Add("userPrincipalName", value_.view());
      sink_.Add("objectGUID",
                std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
    } else {
      sink_.Add("objectClass", "inetOrgPerson");
      value_.Clear();
      AddUid(value_, t, user_idx);
      sink_.Add("uid", value_.view());
      value_.Clear();
      AddUuidString(uuid, value_);
      sink_.Add("entryUUID", value_.view());
      value_.Clear();
      value_.Add(t.first->display).Add(' ').Add(t.last->display);
      sink_.Add("cn", value_.view());
    }
  }

  // mail, with the user's messy-data trait; none for kNoEmail.
  void Mail(const UserTraits& t, int64_t user_idx) {
    value_.Clear();
    switch (t.messy) {
      case Messy::kNoEmail:
        break;
      case Messy::kForeign:
        AddUid(value_, t, user_idx);
        value_.Add('@').Add(kForeignDomain);
        break;
      case Messy::kMixedCase:
      case Messy::kPadded: {
        if (t.messy == Messy::kPadded) value_.Add("  ");
        const size_t at = value_.size();
        AddUid(value_, t, user_idx);
        value_.UpperAt(at);
        value_.Add('@');
        const size_t domain_at = value_.size();
        value_.Add(plan_.domain);
        value_.UpperFrom(domain_at);
        if (t.messy == Messy::kPadded) value_.Add(' ');
        break;
      }
      case Messy::kDuplicate: {
        // The previous user's mailbox, spelled in other case.
        const UserTraits partner = Traits(seed_, ad_, user_idx - 1);
        AddUid(value_, partner, user_idx - 1);
        value_.UpperAt(0);
        value_.Add('@').Add(plan_.domain);
        break;
      }
      default:
        AddUid(value_, t, user_idx);
        value_.Add('@').Add(plan_.domain);
        break;
    }
  }

  const Plan& plan_;
  const uint64_t seed_;
  const bool ad_;
  const std::string_view base_;
  EntrySink& sink_;
  Text dn_;
  Text value_;
};

}  // namespace
}  // namespace gen_internal

using gen_internal::BuilderSink;
using gen_internal::Emitter;
using gen_internal::LdifSink;

void LdifGenerator::Emit(gen_internal::EntrySink& sink) const {
  if (options_.version_line) sink.Preamble("version: 1\n\n");
  Emitter emitter(*plan_, options_.seed, sink);
  emitter.BaseEntries();
  for (int64_t user_idx = 0; user_idx < plan_->users; ++user_idx) emitter.User(user_idx);
  // Groups: the fixed ones first, then the generated ones.
  for (int64_t group = plan_->groups; group < plan_->all_groups(); ++group) emitter.Group(group);
  for (int64_t group = 0; group < plan_->groups; ++group) emitter.Group(group);
}

absl::StatusOr<uint64_t> LdifGenerator::WriteFd(int fd, const std::string& name_for_errors) const {
  LdifSink sink(fd, nullptr);
  Emit(sink);
  const int error = sink.Finish();
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat(name_for_errors, ": write failed: ", std::strerror(error)));
  }
  return sink.bytes();
}

absl::StatusOr<uint64_t> LdifGenerator::WriteFile(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    const std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(error));
    if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  absl::StatusOr<uint64_t> bytes = WriteFd(fd, path);
  if (::close(fd) != 0 && bytes.ok()) {
    return absl::UnavailableError(absl::StrCat(path, ": close failed: ", std::strerror(errno)));
  }
  return bytes;
}

std::string LdifGenerator::WriteString() const {
  std::string out;
  LdifSink sink(-1, &out);
  Emit(sink);
  sink.Finish();
  return out;
}

absl::StatusOr<core::Directory> LdifGenerator::BuildDirectory() const {
  absl::StatusOr<EntryMapper> mapper = EntryMapper::Create(DefaultSchema());
  if (!mapper.ok()) return mapper.status();
  BuilderSink sink(*std::move(mapper));
  Emit(sink);
  return std::move(sink).Finish();
}

}  // namespace usersync::io
