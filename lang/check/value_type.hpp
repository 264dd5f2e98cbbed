// What the checker knows about a value: its element kind and its shape
// (symbolic, from the data block; plate dimensions tagged with the plate's
// id so that they align whatever their position).
#pragma once
#include <string>

#include "stdlib/signatures/shape.hpp"

namespace vireo::lang::check_detail {

enum class Kind { Unknown, Int, Real, Bool };

inline const char* kind_word(Kind k) {
  switch (k) {
    case Kind::Int: return "int";
    case Kind::Real: return "real";
    case Kind::Bool: return "bool";
    case Kind::Unknown: break;
  }
  return "value";
}

struct ValueType {
  Kind kind = Kind::Unknown;
  sig::MaybeShape shape;  // nullopt: unknown

  static ValueType unknown() { return {}; }
  static ValueType scalar(Kind k) { return {k, sig::Shape{}}; }
  bool is_scalar() const { return shape && shape->rank() == 0; }
  bool known_non_scalar() const { return shape && shape->rank() > 0; }
  bool is_integral() const { return kind == Kind::Int || kind == Kind::Bool; }
};

}  // namespace vireo::lang::check_detail
