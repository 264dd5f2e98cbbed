// Where a non-finite ELBO came from. When a step's loss is NaN or ±∞ the
// user needs the site, not the number: the first site, in execution order
// (the guide's sites, then the model's), whose distribution parameters, value
// or log-density is not finite, with the distribution and the offending
// parameter values — "model site 'y' (Normal): scale = 0 at [3]; log p = -inf".
#pragma once
#include <string>

#include "runtime/guide/guide.hpp"
#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

// Empty when every site of both traces is finite (the non-finite value then
// arose between sites, e.g. in a deterministic expression).
std::string describe_nonfinite(const ParticleTraces& t);

// The site a parameter belongs to, for messages, as the guide says
// (Guide::parameter_role): "site 'tau' (the automatic guide's scale)", "the
// auto_mvn guide's 'scale_tril' (all continuous sites jointly)", or
// "parameter 'name'" for one the guide did not make (a model's `param`, a
// hand-written guide's).
std::string describe_parameter(const guide::Guide& guide, const std::string& name);

}  // namespace vireo::infer
