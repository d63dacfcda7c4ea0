// LicenseCatalog: the GoTo face's licenses (GOTO_API_RESEARCH.md §5a): each license has a
// numeric key (decimal text of any length, written as a JSON number), the products it grants
// and a seat count. Products are granted through licenses; the store keeps what a user holds
// as products (shared with the SCIM face's entitlements), and the face derives a user's
// licenseKeys from them (LicenseKeysOf).
//
// Default catalog: one unlimited license per product, G2M 7902142105473202101, G2T ...102,
// G2W ...103, OPENVOICE ...104. `--license KEY=PRODUCT[+PRODUCT...][:SEATS]` (repeatable)
// replaces it; `--seats PRODUCT=N` sets the seats of the license a product resolves to (a
// product no license carries gets a new single-product license, key ...1xx after the last).
//
// Resolution (the same rule as the driver's, io/goto/goto_codec.h ResolveGotoLicenses): a
// product resolves to the license carrying it with the fewest products; ties go to the first
// in catalog order. A multi-product license grants all its products.
//
// Thread-safety: immutable after construction (built once at server start); const methods are
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io::emulator {

struct License {
  std::string key;                    // all digits, any length
  std::vector<std::string> products;  // non-empty, e.g. {"G2M", "G2W"}
  int64_t seats = -1;                 // -1: unlimited
};

class LicenseCatalog {
 public:
  // The default catalog (above).
  LicenseCatalog();
  explicit LicenseCatalog(std::vector<License> licenses) : licenses_(std::move(licenses)) {}

  // One --license value: KEY=PRODUCT[+PRODUCT...][:SEATS]. Errors: InvalidArgument.
  static absl::StatusOr<License> ParseFlag(std::string_view flag);

  // Sets the seats of the license each product resolves to (a product no license carries gets
  // a new single-product license). REQUIRES: seats >= 0.
  void ApplySeats(const std::map<std::string, int64_t>& seats);

  const std::vector<License>& licenses() const { return licenses_; }

  // The license with `key`, or nullptr.
  const License* Find(std::string_view key) const;
  // The license `product` resolves to (see above), or nullptr.
  const License* Resolve(std::string_view product) const;
  // product → seats of the license it resolves to, for the products of limited licenses (the
  // store enforces seats per product: EmulatorStore::SetSeatLimits).
  std::map<std::string, int64_t> SeatLimits() const;
  // The keys of the licenses `products` resolve to, each once, in catalog order (products no
  // license carries are skipped).
  std::vector<std::string> LicenseKeysOf(const std::vector<std::string>& products) const;
  // Every product of the licenses named by `keys`, each once, in the order met.
  // Errors: InvalidArgument "licenseKeys[i]: no license KEY in this account".
  absl::StatusOr<std::vector<std::string>> ProductsOf(const std::vector<std::string>& keys) const;

 private:
  int64_t ResolveIndex(std::string_view product) const;  // -1: none

  std::vector<License> licenses_;
};

}  // namespace usersync::io::emulator
