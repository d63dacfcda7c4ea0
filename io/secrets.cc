#include "io/secrets.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace usersync::io {
namespace {

class Registry {
 public:
  void Add(std::string_view value) {
    absl::MutexLock lock(&mu_);
    for (std::string form : {std::string(value), PercentEncoded(value), Base64(value)}) {
      // A short base64 prefix (of a 4- or 5-byte value) would match unrelated encoded text.
      if (form.size() < kMinSecretLength || (form.size() < 8 && form != value)) continue;
      if (std::find(forms_.begin(), forms_.end(), form) != forms_.end()) continue;
      forms_.push_back(std::move(form));
    }
    // Longest first: a form that contains another is replaced before the shorter one can cut it.
    std::stable_sort(forms_.begin(), forms_.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
    shortest_.store(forms_.back().size(), std::memory_order_release);
  }

  bool Contains(std::string_view text) const {
    // Most text checked (ids, emails) is shorter than any token: no lock, no search.
    if (text.size() < shortest_.load(std::memory_order_acquire)) return false;
    absl::ReaderMutexLock lock(&mu_);
    for (const std::string& form : forms_) {
      if (text.find(form) != std::string_view::npos) return true;
    }
    return false;
  }

  std::string Redact(std::string_view text) const {
    std::string out(text);
    if (text.size() < shortest_.load(std::memory_order_acquire)) return out;
    absl::ReaderMutexLock lock(&mu_);
    for (const std::string& form : forms_) {
      size_t pos = 0;
      while ((pos = out.find(form, pos)) != std::string::npos) {
        out.replace(pos, form.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
    return out;
  }

  void Clear() {
    absl::MutexLock lock(&mu_);
    forms_.clear();
    shortest_.store(kNone, std::memory_order_release);
  }

 private:
  static std::string PercentEncoded(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
      const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                              c == '~';
      if (unreserved) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      }
    }
    return out;
  }

  static std::string Base64(std::string_view value) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t idx = 0;
    for (; idx + 3 <= value.size(); idx += 3) {
      const uint32_t n = (uint32_t{static_cast<unsigned char>(value[idx])} << 16) |
                         (uint32_t{static_cast<unsigned char>(value[idx + 1])} << 8) |
                         uint32_t{static_cast<unsigned char>(value[idx + 2])};
      for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
    }
    // The padded tail is left out: the value may sit inside a longer encoded string (a Basic
    // header's "user:password"), where its last group is encoded with what follows it.
    return out;
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> forms_ ABSL_GUARDED_BY(mu_);
  // The length of the shortest form registered; kNone while none is.
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
  std::atomic<size_t> shortest_{kNone};
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

}  // namespace

void RegisterSecret(std::string_view value) {
  if (value.size() < kMinSecretLength) return;
  TheRegistry().Add(value);
}

bool ContainsSecret(std::string_view text) { return TheRegistry().Contains(text); }

std::string Redact(std::string_view text) { return TheRegistry().Redact(text); }

void ClearSecretsForTest() { TheRegistry().Clear(); }

}  // namespace usersync::io
