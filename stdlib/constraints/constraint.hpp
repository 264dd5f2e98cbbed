// constraint.hpp — the support of a distribution or a parameter, as a value:
// a kind plus, for bounded kinds, its bounds. Names follow torch.distributions
// .constraints so that the signature table, guides and messages can use them.
// biject_to (biject_to.hpp) maps each continuous kind to a transform.
#pragma once

#include <string>

#include "runtime/ad/tensor.hpp"

namespace vireo::constraints {

enum class Kind {
  real,                 // ℝ, elementwise
  real_vector,          // ℝ^D, event dim 1 (MultivariateNormal)
  positive,             // (0, ∞)
  nonnegative,          // [0, ∞)
  greater_than,         // (lower, ∞)
  less_than,            // (−∞, upper)
  interval,             // (lower, upper); Uniform's support
  unit_interval,        // [0, 1]
  simplex,              // event dim 1: x ≥ 0, Σ x = 1
  lower_cholesky,       // event dim 2: lower triangular, positive diagonal
  positive_definite,    // event dim 2: symmetric positive definite (check(): symmetry and a positive diagonal only)
  boolean,              // {0, 1}
  nonnegative_integer,  // {0, 1, 2, …}
  integer_interval,     // {lower, …, upper}; Binomial's support
};

struct Constraint {
  Kind kind = Kind::real;
  ad::Tensor lower{0.0};  // greater_than, interval, integer_interval
  ad::Tensor upper{0.0};  // less_than, interval, integer_interval

  // "real", "positive", "interval(-1, 3)", "integer_interval(0, 10)", …
  std::string name() const;
  bool is_discrete() const;
  // Rightmost dimensions that form one point: 0 elementwise, 1 for vectors
  // (simplex, real_vector), 2 for matrices.
  int event_dim() const;
  // 1.0 where `value` (per event) lies in the support, else 0.0; the shape
  // is value's (broadcast with the bounds) without the event dimensions.
  ad::Tensor check(const ad::Tensor& value) const;
  // Whether every element of the n values at `x` (of `shape`) is in the
  // support, without allocating: true only if check() would be all ones.
  // Answers false when it cannot tell cheaply (bounds that broadcast, event
  // kinds other than real_vector), so a caller falls back to check().
  bool all_inside(const double* x, const ad::Shape& shape) const;
};

// Whether v is 0 or 1 (Kind::boolean's element test, which all_inside and
// check() use): v(v − 1) is 0 exactly at 0 and 1 — elsewhere |v| is at least
// the smallest subnormal and |v − 1| at least 2⁻⁵³, so the product cannot
// round to 0; ±inf and NaN give inf or NaN. One comparison, which vectorises
// where v == 0 || v == 1 does not (a plate's 0/1 data, checked every step).
inline bool is_boolean(double v) { return v * (v - 1) == 0; }

Constraint real();
Constraint real_vector();
Constraint positive();
Constraint nonnegative();
Constraint greater_than(ad::Tensor lower);
Constraint less_than(ad::Tensor upper);
Constraint interval(ad::Tensor lower, ad::Tensor upper);
Constraint unit_interval();
Constraint simplex();
Constraint lower_cholesky();
Constraint positive_definite();
Constraint boolean();
Constraint nonnegative_integer();
Constraint integer_interval(ad::Tensor lower, ad::Tensor upper);

}  // namespace vireo::constraints
