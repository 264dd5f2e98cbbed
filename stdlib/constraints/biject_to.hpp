// biject_to.hpp — the table from a continuous constraint to the transform
// that maps ℝ^n onto it (Pyro's biject_to registry).
#pragma once

#include "stdlib/constraints/constraint.hpp"
#include "stdlib/constraints/transform.hpp"

namespace vireo::constraints {

// Throws std::invalid_argument for discrete constraints (they have no
// bijection from ℝ; guides handle those sites with their own family).
TransformPtr biject_to(const Constraint& c);

}  // namespace vireo::constraints
