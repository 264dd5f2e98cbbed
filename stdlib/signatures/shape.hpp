// Symbolic shapes and the shape rules of the builtin table. A dimension is a
// known number, a symbol (a data name such as `N`, equal to itself only), or
// unknown. The checker uses symbols; the runtime can use the same functions
// with known numbers only. Mismatches are reported only when both sides are
// known: a number and a symbol may agree at run time, so they never conflict.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stdlib/signatures/signature.hpp"

namespace vireo::sig {

struct Dim {
  enum class Kind : std::uint8_t { Unknown, Fixed, Symbol };
  Kind kind = Kind::Unknown;
  std::int64_t size = 0;  // when Fixed
  std::string symbol;     // when Symbol
  // Alignment tag: dimensions carrying the same tag (>= 0) are the same axis
  // whatever their position (the language's plate dimensions). -1: none.
  int tag = -1;

  static Dim fixed(std::int64_t n) { return {Kind::Fixed, n, {}, -1}; }
  static Dim named(std::string s) { return {Kind::Symbol, 0, std::move(s), -1}; }
  static Dim unknown() { return {}; }
  bool is_one() const { return kind == Kind::Fixed && size == 1; }
  std::string str() const;  // "3", "N", "?"
};

// Both known and certainly different (a number never conflicts with a symbol).
bool conflicts(const Dim& a, const Dim& b);
// Both known and certainly equal.
bool same(const Dim& a, const Dim& b);

struct Shape {
  std::vector<Dim> dims;  // outermost first; empty = scalar
  std::size_t rank() const { return dims.size(); }
  std::string str() const;  // "[N, 3]", "scalar"
};
using MaybeShape = std::optional<Shape>;  // nullopt: not known, not even the rank

struct ShapeOutcome {
  MaybeShape shape;
  std::string error;  // non-empty: what does not fit, in the user's words
};

// NumPy broadcasting, right-aligned. Tagged dimensions align by tag: when both
// sides carry tags, those dimensions are taken out, merged (ordered by tag) and
// put in front of the broadcast of the rest.
ShapeOutcome broadcast(const MaybeShape& a, const MaybeShape& b);
// `a @ b`: vector·vector -> scalar, matrix@vector, vector@matrix, matrix@matrix,
// with leading batch dims broadcast. Tagged (plate) dimensions are batch
// dimensions: each operand's per-element shape (its dims after the tagged
// ones) is multiplied, and the plates are merged in front.
ShapeOutcome matmul(const MaybeShape& a, const MaybeShape& b);

// Plate-indexed values inside open plates (LANGUAGE.md, "Plates are
// vectorised"): a value's full shape is every open plate (size 1 where the
// value does not vary along it), then its per-element shape. `open` holds the
// open plates' sizes, tagged, outermost first.
// The number of leading tagged dimensions (a plate-indexed value's plates).
std::size_t plate_rank(const Shape& s);
// The dims after the plates: one element's shape.
Shape per_element(const Shape& s);
// NumPy broadcasting of a and b inside the open plates: between two
// plate-indexed values as broadcast(); a plain array against a plate-indexed
// value is right-aligned against the latter's full shape, so a plain array
// may reach into the plate dimensions (a value from an outer plate then
// lines up with the inner plates) but never beyond them.
ShapeOutcome broadcast_in(const MaybeShape& a, const MaybeShape& b, const std::vector<Dim>& open);

// The argument of a shape rule: its shape and, for SizeArgs/Fill/Arange/OneHot
// size arguments, its value as a dimension when it is a literal or data name.
struct ShapeArg {
  MaybeShape shape;
  std::optional<Dim> as_dim;
  bool present = true;  // false for an absent optional parameter
};
// The shape of a call's result (for a distribution: batch shape followed by
// event shape). args are in parameter order, then variadic extras.
// `open`: the open plates (see broadcast_in); elementwise arguments and
// fill's value are taken per plate element.
ShapeOutcome result_shape(const Signature& sig, const std::vector<ShapeArg>& args, const std::vector<Dim>& open = {});

}  // namespace vireo::sig
