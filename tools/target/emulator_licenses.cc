#include "tools/target/emulator_licenses.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/str.h"

namespace usersync::io::emulator {
namespace {

// The first default key; GoTo's one real license key seen is 7902142105473202120 (§5a).
constexpr uint64_t kFirstKey = 7902142105473202101u;

bool AllDigits(std::string_view text) {
  return !text.empty() && text.size() <= 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool Carries(const License& license, std::string_view product) {
  return std::find(license.products.begin(), license.products.end(), product) !=
         license.products.end();
}

}  // namespace

LicenseCatalog::LicenseCatalog() {
  uint64_t key = kFirstKey;
  for (const char* product : {"G2M", "G2T", "G2W", "OPENVOICE"}) {
    licenses_.push_back(License{absl::StrCat(key++), {product}, -1});
  }
}

absl::StatusOr<License> LicenseCatalog::ParseFlag(std::string_view flag) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--license: expected KEY=PRODUCT[+PRODUCT...][:SEATS], got '", Sv(flag), "' (",
                     Sv(why), ")"));
  };
  const size_t eq = flag.find('=');
  if (eq == std::string_view::npos) return bad("no '='");
  License license;
  license.key = std::string(flag.substr(0, eq));
  if (!AllDigits(license.key)) return bad("the key must be 1 to 64 decimal digits");
  std::string_view products = flag.substr(eq + 1);
  if (const size_t colon = products.find(':'); colon != std::string_view::npos) {
    if (!absl::SimpleAtoi(Sv(products.substr(colon + 1)), &license.seats) || license.seats < 0) {
      return bad("seats must be a whole number >= 0");
    }
    products = products.substr(0, colon);
  }
  for (absl::string_view product : absl::StrSplit(Sv(products), '+')) {
    if (product.empty()) return bad("an empty product");
    license.products.emplace_back(product);
  }
  return license;
}

void LicenseCatalog::ApplySeats(const std::map<std::string, int64_t>& seats) {
  for (const auto& [product, count] : seats) {
    int64_t index = ResolveIndex(product);
    if (index < 0) {
      uint64_t key = kFirstKey + licenses_.size();
      while (Find(absl::StrCat(key)) != nullptr) ++key;
      licenses_.push_back(License{absl::StrCat(key), {product}, -1});
      index = static_cast<int64_t>(licenses_.size()) - 1;
    }
    licenses_[static_cast<size_t>(index)].seats = count;
  }
}

const License* LicenseCatalog::Find(std::string_view key) const {
  for (const License& license : licenses_) {
    if (license.key == key) return &license;
  }
  return nullptr;
}

int64_t LicenseCatalog::ResolveIndex(std::string_view product) const {
  int64_t best = -1;
  for (size_t license_idx = 0; license_idx < licenses_.size(); ++license_idx) {
    const License& license = licenses_[license_idx];
    if (!Carries(license, product)) continue;
    if (best < 0 ||
        license.products.size() < licenses_[static_cast<size_t>(best)].products.size()) {
      best = static_cast<int64_t>(license_idx);
    }
  }
  return best;
}

const License* LicenseCatalog::Resolve(std::string_view product) const {
  const int64_t index = ResolveIndex(product);
  return index < 0 ? nullptr : &licenses_[static_cast<size_t>(index)];
}

std::map<std::string, int64_t> LicenseCatalog::SeatLimits() const {
  std::map<std::string, int64_t> limits;
  for (const License& license : licenses_) {
    for (const std::string& product : license.products) {
      if (Resolve(product) == &license && license.seats >= 0) limits[product] = license.seats;
    }
  }
  return limits;
}

std::vector<std::string> LicenseCatalog::LicenseKeysOf(
    const std::vector<std::string>& products) const {
  std::vector<std::string> keys;
  for (const License& license : licenses_) {
    for (const std::string& product : products) {
      if (Resolve(product) == &license) {
        keys.push_back(license.key);
        break;
      }
    }
  }
  return keys;
}

absl::StatusOr<std::vector<std::string>> LicenseCatalog::ProductsOf(
    const std::vector<std::string>& keys) const {
  std::vector<std::string> products;
  for (size_t key_idx = 0; key_idx < keys.size(); ++key_idx) {
    const License* license = Find(keys[key_idx]);
    if (license == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("licenseKeys[", key_idx, "]: no license ",
                                                     keys[key_idx], " in this account"));
    }
    for (const std::string& product : license->products) {
      if (std::find(products.begin(), products.end(), product) == products.end()) {
        products.push_back(product);
      }
    }
  }
  return products;
}

}  // namespace usersync::io::emulator
