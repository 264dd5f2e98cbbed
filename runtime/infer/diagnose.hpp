// Diagnostics of a fit at its current parameters: the ELBO broken down per
// site (the mean scaled log p of every model site and log q of every guide
// site over many draws), the gradient norm of every parameter, guide scales
// that collapsed or exploded, and — when the ELBO is extremely low — a
// comparison per latent site of where the guide puts it with where the prior
// does, and how tight each likelihood is, with plain advice.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

struct SiteDiagnosis {
  std::string name;
  std::string kind;          // "latent" | "observed"
  std::string distribution;  // the model's
  double log_p = 0;          // mean over draws of Σ scaled log p (model)
  double log_q = 0;          // latent: mean of Σ scaled log q (guide); 0 for observed
  // Latent sites: the guide's mean and sd of the (first element of the) value,
  // and the prior's mean and sd there (NaN when the family has none).
  double guide_mean = 0, guide_sd = 0, prior_mean = 0, prior_sd = 0;
  long elements = 0;
  long present = 0;  // draws in which the site appeared
};

struct Diagnosis {
  long draws = 0;
  double elbo = 0;  // mean over the draws
  std::vector<SiteDiagnosis> sites;  // the model's order of first appearance
  std::map<std::string, double> grad_norm;  // mean over draws of each parameter's gradient norm
  std::vector<std::string> warnings;  // collapsed/exploded scales, sites far from their priors
  std::vector<std::string> advice;
  std::string to_text() const;
};

// `draws` evaluations at the current parameters; nothing is updated.
// `before_each(i)` (may be empty) runs before draw i (to reseed).
Diagnosis diagnose(interp::Context& ctx, guide::Guide& guide, Elbo& elbo, long draws,
                   const std::function<void(long)>& before_each = {});

}  // namespace vireo::infer
