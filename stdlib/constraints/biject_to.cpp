// biject_to.cpp — one row per continuous constraint kind.
#include "stdlib/constraints/biject_to.hpp"

#include <functional>
#include <stdexcept>
#include <utility>

namespace vireo::constraints {
namespace {

using Maker = std::function<TransformPtr(const Constraint&)>;

const std::pair<Kind, Maker> table[] = {
    {Kind::real, [](const Constraint&) { return identity_transform(); }},
    {Kind::real_vector, [](const Constraint&) { return identity_transform(); }},
    {Kind::positive, [](const Constraint&) { return exp_transform(); }},
    {Kind::nonnegative, [](const Constraint&) { return exp_transform(); }},
    {Kind::greater_than, [](const Constraint& c) { return lower_bound_transform(c.lower); }},
    {Kind::less_than, [](const Constraint& c) { return upper_bound_transform(c.upper); }},
    {Kind::interval, [](const Constraint& c) { return interval_transform(c.lower, c.upper); }},
    {Kind::unit_interval, [](const Constraint&) { return sigmoid_transform(); }},
    {Kind::simplex, [](const Constraint&) { return stick_breaking_transform(); }},
    {Kind::lower_cholesky, [](const Constraint&) { return lower_cholesky_transform(); }},
};

}  // namespace

TransformPtr biject_to(const Constraint& c) {
  for (const auto& [kind, make] : table)
    if (kind == c.kind) return make(c);
  throw std::invalid_argument("biject_to: no transform from unconstrained space onto '" + c.name() +
                              "'" + (c.is_discrete() ? " (a discrete support)" : ""));
}

}  // namespace vireo::constraints
