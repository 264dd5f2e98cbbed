// Where a non-finite ELBO came from. When a step's loss is NaN or ±∞ the
// user needs the site, not the number: the first site, in execution order
// (the guide's sites, then the model's), whose distribution parameters, value
// or log-density is not finite, with the distribution and the offending
// parameter values — "model site 'y' (Normal): scale = 0 at [3]; log p = -inf".
#pragma once
#include <string>

#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

// Empty when every site of both traces is finite (the non-finite value then
// arose between sites, e.g. in a deterministic expression).
std::string describe_nonfinite(const ParticleTraces& t);

// The site a parameter belongs to, for messages: automatic guides name their
// parameters auto.<role>.<site>; "site 'tau' (auto_normal's scale)". Returns
// "parameter 'name'" for parameters of a hand-written guide.
std::string describe_parameter(const std::string& name);

}  // namespace vireo::infer
