// TraceMeanField_ELBO: Trace_ELBO with each latent site's term
// E_q[log p − log q] replaced by −KL(q ‖ p) in closed form wherever the
// guide's distribution and the model's form a pair of the KL table
// (stdlib/dist/kl.hpp), and left to Monte Carlo elsewhere (Pyro's
// trace_mean_field_elbo.py; the closed-form KL term of Kingma & Welling
// 2014, "Auto-Encoding Variational Bayes", §2.3, which usually has lower
// variance than sampling it). Per particle:
//   1. run guide and model as Trace_ELBO does (run_particle): the model's p
//      at each latent site is built from the guide's draws of the sites
//      upstream of it;
//   2. observed site: scale · Σ log p;
//      latent site with an analytic pair (site_kl): −scale · Σ KL(q ‖ p),
//      summed over its plate elements;
//      any other latent site: scale · Σ (log p − log q), as Trace_ELBO;
//   3. each non-reparameterised guide site s adds Σ_n log q_s[n] ·
//      detach(cost_s[n]): the terms of step 2 except s's own KL (which does
//      not depend on s's draw), Rao-Blackwellised per plate element as in
//      Trace_ELBO;
//   4. loss = −surrogate averaged over the particles.
// The assumption (Pyro's): the guide is mean-field, or at least samples its
// sites in the model's order, each conditioned only on sites before it;
// then E_{z<t}[−KL(q_t ‖ p_t(·|z<t))] is exactly site t's share of the
// ELBO. A guide whose latent sites come in another order gets a note (the
// estimate may be biased), as Pyro warns.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

class TraceMeanFieldElbo final : public Elbo {
 public:
  explicit TraceMeanFieldElbo(int particles = 1);
  int particles() const { return particles_; }
  ElboEstimate loss(interp::Context& ctx, guide::Guide& guide) override;
  std::string name() const override { return "meanfield"; }
  bool batches_loops() const override { return true; }
  bool replayable() const override { return true; }

 private:
  int particles_;
  MixingPlates mixing_;  // plates whose costs are not refined per element
  Particles particles_state_;  // one per particle, refilled every step
};

// The guide's distribution of a latent site's value in the model's space:
// msg.q_dist when the guide set one; msg.fn when the value came with no
// log-density of its own (a hand-written guide's `x ~ D(...)`, drawn from
// D); else none (an automatic guide's transformed or joint draw).
dist::DistributionPtr guide_distribution(const handlers::TraceSite& guide_site);

// KL(q ‖ p) per element of the model site's plates (unscaled, dimensions
// past the plates summed), when it has a closed form: q the guide's
// distribution, p the model site's, a pair of the KL table, the same batch
// and event shapes, and the value one draw of that shape; the same scale and
// mask on both sides. Otherwise nullopt: the site is left to Monte Carlo.
std::optional<ad::Var> site_kl(const handlers::TraceSite& guide_site, const handlers::TraceSite& model_site);

}  // namespace vireo::infer
