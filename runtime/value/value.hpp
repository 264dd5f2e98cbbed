// Run-time values of the interpreter: a Var on the step's tape, its element
// kind, and which of its leading dimensions belong to which plate.
//
// Plate alignment (LANGUAGE.md, "Plates are vectorised"): a plate-indexed
// value's leading dimensions are its plates' sizes, outermost first, then its
// event dimensions. Between plate-indexed values, dimensions of the same
// plate are aligned whatever their position; every other dimension — and
// every dimension of a plain value (data, params, values from outside the
// plate) — broadcasts as in NumPy, right-aligned against the full shape.
// `align` implements that rule; every binary operation goes through it.
#pragma once
#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "lang/ir/graph.hpp"
#include "runtime/ad/ad.hpp"

namespace vireo::interp {

enum class Kind : std::uint8_t { Int, Real, Bool };

// A value's plates: rarely more than a few, kept inline.
using PlateList = boost::container::small_vector<ir::PlateId, 4>;

struct Value {
  ad::Var var;
  Kind kind = Kind::Real;
  // Plates of the leading dimensions, outermost first; empty for a plain value.
  PlateList plates;

  bool plain() const { return plates.empty(); }
  int event_rank() const { return var.rank() - static_cast<int>(plates.size()); }
};

// The order of plates: by nesting depth, then by id (plates of one body are
// nested or disjoint, so depth decides whenever both can be active).
struct PlateOrder {
  const ir::Graph* graph;
  int depth(ir::PlateId p) const;
  bool before(ir::PlateId a, ir::PlateId b) const;
};

// The plates of a result combining `values`, in order.
PlateList union_plates(const PlateOrder& order, std::initializer_list<const Value*> values);

// Reshapes `v` so that it broadcasts correctly against other operands laid
// out as `plates` followed by `event_rank` event dimensions: a size-1 axis for
// each missing plate, then size-1 axes to pad v's event part to event_rank.
// Plain values are returned unchanged (NumPy right alignment does the rest).
ad::Var align(const Value& v, const PlateList& plates, int event_rank);

// Kind of an arithmetic result: Int only if both are Int (or Bool).
Kind arithmetic_kind(Kind a, Kind b);

}  // namespace vireo::interp
