// The ELBO of a fit at its current parameters, from fresh draws, split into
// the expected log-likelihood and the KL divergence of the latent sites, and
// — for latent sites inside plates with a vector per element, an amortised
// guide's codes —
// how many coordinates the guide actually uses ("active units", Burda et al.
// 2016: the variance over the plate's elements of E_q[z] above 0.01; a
// coordinate below it carries no information about its element, the
// posterior collapse a KL term that wins too early causes). With full_plates
// set on the context, subsampled plates are evaluated whole.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

struct ActiveUnits {
  std::string site;                 // the latent site (`z`)
  std::string plate;                // its outermost plate
  long elements = 0;                // elements of its plates seen per draw
  std::vector<double> variance;     // per coordinate: the variance over the elements of E_q[z]
  long active = 0;                  // coordinates with variance > active_threshold
};

inline constexpr double active_threshold = 0.01;

struct ElboEvaluation {
  long draws = 0;
  double elbo = 0, elbo_se = 0;  // mean over the draws and its standard error
  // E_q[Σ observed log p] (factors included) and E_q[Σ latent (log q − log p)];
  // elbo = log_likelihood − kl. NaN when enumerated sites are summed out
  // (the split then depends on their conditional posterior).
  double log_likelihood = 0, kl = 0;
  std::vector<ActiveUnits> units;
};

// `draws` executions at the current parameters (nothing is updated), each
// after before_each(i). `enum_sites` non-empty: each draw's ELBO sums those
// sites out (enum_log_weight), and no split is reported.
ElboEvaluation evaluate_elbo(interp::Context& ctx, guide::Guide& guide, long draws,
                             const std::set<ir::SiteId>& enum_sites, const std::function<void(long)>& before_each);

}  // namespace vireo::infer
