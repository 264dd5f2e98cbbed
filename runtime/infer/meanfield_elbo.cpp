#include "runtime/infer/meanfield_elbo.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "runtime/infer/nonfinite.hpp"
#include "stdlib/dist/kl.hpp"

namespace vireo::infer {

using handlers::Frame;
using handlers::MsgType;
using handlers::TraceSite;

dist::DistributionPtr guide_distribution(const TraceSite& g) {
  if (g.msg.q_dist) return g.msg.q_dist;
  if (!g.msg.log_prob) return g.msg.fn;
  return nullptr;
}

std::optional<ad::Var> site_kl(const TraceSite& g, const TraceSite& m) {
  if (!is_latent(g) || !is_latent(m) || !g.msg.has_value) return std::nullopt;
  // −scale·KL is the expectation of scale·log p − scale·log q only when
  // both sides carry the same weight.
  if (g.msg.scale != m.msg.scale || !g.msg.mask || !m.msg.mask) return std::nullopt;
  const dist::DistributionPtr q = guide_distribution(g);
  const dist::DistributionPtr& p = m.msg.fn;
  if (!q || !p || !dist::has_kl(q->name(), p->name())) return std::nullopt;
  // Shapes that differ would broadcast the KL where the Monte Carlo terms
  // count each side's elements separately: leave those to Monte Carlo.
  if (!(q->batch_shape() == p->batch_shape()) || !(q->event_shape() == p->event_shape())) return std::nullopt;
  ad::Shape drawn = q->batch_shape();
  for (int k = 0; k < q->event_shape().rank(); ++k) drawn.push_back(q->event_shape()[k]);
  if (!(g.msg.value.var.shape() == drawn)) return std::nullopt;
  if (q->batch_shape().rank() < static_cast<int>(m.msg.frames.size())) return std::nullopt;
  ad::Var kl;
  try {
    kl = dist::kl_divergence(*q, *p);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("while computing KL({} ‖ {}) at site '{}': {}", q->name(), p->name(),
                                         m.msg.name, e.what()));
  }
  // One number per plate element, as Trace::compute_log_probs does for log p.
  const int keep = static_cast<int>(m.msg.frames.size());
  while (kl.rank() > keep) kl = ad::sum(kl, -1);
  return kl;
}

namespace {

// One term of a particle's ELBO: weight · Σ value, value per plate element.
struct Term {
  ad::Var value;
  const handlers::Frames* frames;
  double weight;                          // ±scale
  const std::string* kl_of = nullptr;     // set on a −KL term: its site
};

std::vector<Term> elbo_terms(const ParticleTraces& t) {
  std::vector<Term> terms;
  std::vector<const std::string*> analytic;
  for (const auto& m : t.model.sites()) {
    if (m.msg.type != MsgType::Sample || !m.has_log_prob || !m.msg.mask) continue;
    if (is_latent(m)) {
      const TraceSite* g = t.guide.find(m.msg.name);  // run_particle checked that it exists
      if (g) {
        if (std::optional<ad::Var> kl = site_kl(*g, m)) {
          terms.push_back({*kl, &m.msg.frames, -m.msg.scale, &m.msg.name});
          analytic.push_back(&m.msg.name);
          continue;
        }
      }
    }
    terms.push_back({m.log_prob, &m.msg.frames, m.msg.scale});
  }
  for (const auto& g : t.guide.sites()) {
    if (!is_latent(g) || !g.has_log_prob || !g.msg.mask) continue;
    bool done = false;
    for (const std::string* a : analytic) done = done || *a == g.msg.name;
    // A score-function site's sampled −log q keeps its value, not its
    // gradient (zero in expectation; see tracegraph_elbo.hpp, step 5).
    if (!done) terms.push_back({g.msg.reparameterized ? g.log_prob : ad::detach(g.log_prob), &g.msg.frames, -g.msg.scale});
  }
  return terms;
}

// Pyro's check of the mean-field requirement: the guide's latent sites in
// the model's order. Sufficient, not necessary.
std::string order_note(const ParticleTraces& t) {
  std::vector<std::string> model, guide;
  for (const auto& s : t.model.sites())
    if (is_latent(s)) model.push_back(s.msg.name);
  for (const auto& s : t.guide.sites())
    if (is_latent(s)) guide.push_back(s.msg.name);
  if (model == guide) return "";
  return fmt::format(
      "note: TraceMeanField_ELBO could not verify that the guide is mean-field: its latent sites come in the order {} "
      "but the model's in {}; the estimate is exact only when each guide site depends on sites before it in the "
      "model's order — sample them in the model's order",
      fmt::join(guide, ", "), fmt::join(model, ", "));
}

// Where a non-finite particle came from when the sites themselves are finite:
// a KL term.
std::string describe_kl(const std::vector<Term>& terms) {
  for (const Term& term : terms) {
    if (!term.kl_of) continue;
    const ad::Tensor v = term.value.value();
    for (std::int64_t i = 0; i < v.numel(); ++i)
      if (!std::isfinite(v[i]))
        return fmt::format("site '{}': KL(q ‖ p) = {}{}", *term.kl_of, v[i],
                           v.numel() > 1 ? fmt::format(" at element {}", i) : "");
  }
  return "";
}

}  // namespace

TraceMeanFieldElbo::TraceMeanFieldElbo(int particles) : particles_(particles) {
  if (particles < 1) throw std::invalid_argument("--particles must be at least 1");
}

ElboEstimate TraceMeanFieldElbo::loss(interp::Context& ctx, guide::Guide& guide) {
  std::vector<std::vector<Term>> terms_of(static_cast<std::size_t>(particles_));  // per particle
  // 1. (the traces: run_particles) 2. The particle's ELBO, term by term
  //    (particles may run on several threads: only particle 0 writes the note).
  auto elbo_of = [&](int p, interp::Context& pctx, const ParticleTraces& t) {
    ad::Tape& tape = pctx.tape();
    if (p == 0 && note_.empty()) note_ = order_note(t);
    std::vector<Term>& terms = terms_of[static_cast<std::size_t>(p)];
    terms = elbo_terms(t);
    ad::Var elbo = tape.constant(0.0);
    for (const Term& term : terms) elbo = elbo + ad::sum(term.value) * term.weight;
    return elbo;
  };
  auto explain = [&](int p) { return describe_kl(terms_of[static_cast<std::size_t>(p)]); };
  // 3. Score terms of the non-reparameterised guide sites, per plate
  // element except in plates whose elements mix.
  auto surrogate_of = [&](int p, interp::Context& pctx, const ParticleTraces& t, const ad::Var& elbo) {
    ad::Tape& tape = pctx.tape();
    const std::vector<Term>& terms = terms_of[static_cast<std::size_t>(p)];
    ad::Var surrogate = elbo;
    const std::set<std::string>& mixing = mixing_.of(ctx.graph());
    for (const auto& s : t.guide.sites()) {
      if (!is_latent(s) || s.msg.reparameterized || !s.has_log_prob || !s.msg.mask) continue;
      if (s.msg.site && s.msg.site->baseline.given && note_.empty())
        note_ = fmt::format(
            "note: TraceMeanField_ELBO ignores `with baseline(...)` (site '{}'); use --elbo tracegraph to use it",
            s.msg.name);
      ad::Var cost = tape.constant(0.0);
      for (const Term& term : terms) {
        // The site's own KL is a function of the sites upstream of it, not of
        // its draw: it would add only noise.
        if (term.kl_of && *term.kl_of == s.msg.name) continue;
        cost = cost + sum_to_frames(term.value, *term.frames, s.msg.frames, &mixing) * term.weight;
      }
      surrogate = surrogate + ad::sum(s.log_prob * ad::detach(cost));
    }
    return surrogate;
  };
  ParticleSums sums = run_particles(ctx, guide, particles_, particles_state_, elbo_of, surrogate_of, explain);
  // 4. The loss.
  ElboEstimate est;
  est.nonfinite = std::move(sums.nonfinite);
  refused_draws_ += sums.ruled_out;
  est.loss = sums.loss;
  est.elbo = sums.elbo;
  est.elbo_node = sums.elbo_node;
  return est;
}

}  // namespace vireo::infer
