// Trace_ELBO: the evidence lower bound E_q[log p(x, z) − log q(z)] estimated
// from guide draws, and the surrogate whose gradient is an unbiased estimate
// of the ELBO's gradient (Ranganath et al. 2014; Schulman et al. 2015,
// "Gradient Estimation Using Stochastic Computation Graphs").
//   1. Run the guide under a trace: every latent site gets a value and log q.
//   2. Run the model under replay(guide trace) and a trace: log p per site.
//   3. ELBO particle = Σ scale·log p − Σ scale·log q.
//   4. Reparameterised sites carry pathwise gradients through their values.
//      Each non-reparameterised guide site s adds log q_s · detach(cost_s):
//      its score term. Rao-Blackwellised per plate element as Pyro's
//      Trace_ELBO does: element n of s is weighted by the terms outside s's
//      plates plus plate slice n of the terms inside them, never by the
//      other elements' terms (they do not depend on element n).
//   5. The loss is −surrogate averaged over the particles.
#pragma once
#include <string>
#include <vector>

#include "runtime/guide/guide.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::infer {

struct ElboEstimate {
  ad::Var loss;       // −surrogate / particles, on ctx's tape
  double elbo = 0;    // the ELBO estimate (mean over particles)
};

// The two traces of one particle.
struct ParticleTraces {
  handlers::Trace guide, model;
};

// Runs guide then model-replayed-against-the-guide once; checks that every
// latent model site has a guide site and vice versa; computes log-densities.
// Throws std::runtime_error naming the site on a mismatch.
void run_particle(interp::Context& ctx, guide::Guide& guide, ParticleTraces& out);

// One per-element cost: Σ of every site's scaled log p (model) and −log q
// (guide), each summed down to `frames` — dimensions of plates outside
// `frames` are summed, plates of `frames` the term lacks are broadcast.
ad::Var downstream_cost(ad::Tape& tape, const ParticleTraces& t, const std::vector<handlers::Frame>& frames);

class TraceElbo {
 public:
  explicit TraceElbo(int particles = 1);
  int particles() const { return particles_; }
  // Builds the loss on ctx's tape; call ctx.begin_step() first.
  ElboEstimate loss(interp::Context& ctx, guide::Guide& guide);
  // Set when a site carries `with baseline(...)`, which this estimator ignores
  // (TraceGraph_ELBO uses it); the caller prints it once.
  const std::string& note() const { return note_; }

 private:
  int particles_;
  std::string note_;
};

}  // namespace vireo::infer
