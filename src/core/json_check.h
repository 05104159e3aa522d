// Checks on JSON read from files before nlohmann converts it: nlohmann turns a
// float into an integer with a plain cast (undefined behaviour out of range,
// found by fuzzing results.jsonl), so integer fields must hold JSON integers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "core/check.h"

namespace dvae {

/// Throws dvae::Error naming where and key unless v, or every element of v's nested
/// arrays, is a JSON integer that fits in int64_t.
inline void require_json_integers(const nlohmann::json& v, const std::string& where, const std::string& key) {
  if (v.is_array()) {
    for (const auto& e : v) require_json_integers(e, where, key);
    return;
  }
  const bool fits = v.is_number_integer() &&
                    (!v.is_number_unsigned() ||
                     v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  DVAE_CHECK(fits, where, ": key \"", key, "\" holds ", v.dump().substr(0, 40),
             ", expected integers (at most 2^63 - 1)");
}

/// require_json_integers on each of keys present in the object j.
inline void require_json_integer_fields(const nlohmann::json& j, const std::string& where,
                                        std::initializer_list<const char*> keys) {
  if (!j.is_object()) return;
  for (const char* key : keys) {
    if (j.contains(key)) require_json_integers(j.at(key), where, key);
  }
}

}  // namespace dvae
