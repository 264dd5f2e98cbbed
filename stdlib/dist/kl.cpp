// kl.cpp — the KL table: one row per (p, q) pair, each formula as in
// torch.distributions.kl unless noted.
#include "stdlib/dist/kl.hpp"

#include <limits>
#include <string>

#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

using KlFn = Var (*)(const Distribution& p, const Distribution& q);

using detail::inf;

// log(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½; also LogNormal–LogNormal
// (KL is invariant under the shared map exp).
Var kl_normal_normal(const Distribution& p, const Distribution& q) {
  const Var sp = p.param("scale"), sq = q.param("scale");
  const Var ratio = sp / sq;
  const Var diff = (p.param("loc") - q.param("loc")) / sq;
  return 0.5 * (ad::square(ratio) + ad::square(diff)) - 0.5 - ad::log(ratio);
}

Var kl_half_normal_half_normal(const Distribution& p, const Distribution& q) {
  const Var ratio = p.param("scale") / q.param("scale");
  return 0.5 * ad::square(ratio) - 0.5 - ad::log(ratio);
}

Var kl_gamma_gamma(const Distribution& p, const Distribution& q) {
  const Var ap = p.param("concentration"), bp = p.param("rate");
  const Var aq = q.param("concentration"), bq = q.param("rate");
  return aq * ad::log(bp / bq) + ad::lgamma(aq) - ad::lgamma(ap) + (ap - aq) * ad::digamma(ap) +
         (bq - bp) * ap / bp;
}

Var kl_beta_beta(const Distribution& p, const Distribution& q) {
  const Var a1 = p.param("concentration1"), b1 = p.param("concentration0");
  const Var a2 = q.param("concentration1"), b2 = q.param("concentration0");
  const auto lbeta = [](Var a, Var b) { return ad::lgamma(a) + ad::lgamma(b) - ad::lgamma(a + b); };
  return lbeta(a2, b2) - lbeta(a1, b1) + (a1 - a2) * ad::digamma(a1) + (b1 - b2) * ad::digamma(b1) +
         (a2 - a1 + b2 - b1) * ad::digamma(a1 + b1);
}

Var kl_dirichlet_dirichlet(const Distribution& p, const Distribution& q) {
  const Var ap = p.param("concentration"), aq = q.param("concentration");
  const Var a0 = ad::sum(ap, -1, true);
  return ad::sum(ad::lgamma(aq) - ad::lgamma(ap) + (ap - aq) * (ad::digamma(ap) - ad::digamma(a0)), -1) +
         ad::lgamma(ad::sum(ap, -1)) - ad::lgamma(ad::sum(aq, -1));
}

// Through logits, so that probabilities near 0 and 1 keep their digits:
// log p = −softplus(−l), log(1 − p) = −softplus(l).
Var kl_bernoulli_bernoulli(const Distribution& p, const Distribution& q) {
  const Var pp = p.param("probs"), lp = p.param("logits"), lq = q.param("logits");
  return pp * (ad::softplus(-lq) - ad::softplus(-lp)) + (1.0 - pp) * (ad::softplus(lq) - ad::softplus(lp));
}

// Σ p (log p − log q); a category with p = 0 counts 0.
Var kl_categorical_categorical(const Distribution& p, const Distribution& q) {
  const Var lp = p.param("logits"), lq = q.param("logits");  // normalised log-probabilities
  const Var pp = ad::exp(lp);
  return ad::sum(ad::where(pp > 0.0, pp * (lp - lq), 0.0), -1);
}

Var kl_poisson_poisson(const Distribution& p, const Distribution& q) {
  const Var rp = p.param("rate"), rq = q.param("rate");
  return rp * (ad::log(rp) - ad::log(rq)) - (rp - rq);
}

Var kl_geometric_geometric(const Distribution& p, const Distribution& q) {
  // log(pp/pq) + E_p[k] log((1 − pp)/(1 − pq)), E_p[k] = (1 − pp)/pp. (Not in PyTorch.)
  const Var pp = p.param("probs"), pq = q.param("probs");
  return ad::log(pp / pq) + (1.0 - pp) / pp * (ad::log1p(-pp) - ad::log1p(-pq));
}

Var kl_exponential_exponential(const Distribution& p, const Distribution& q) {
  const Var ratio = q.param("rate") / p.param("rate");
  return ratio - 1.0 - ad::log(ratio);
}

Var kl_laplace_laplace(const Distribution& p, const Distribution& q) {
  const Var sp = p.param("scale"), sq = q.param("scale");
  const Var ratio = sp / sq;
  const Var diff = ad::abs(p.param("loc") - q.param("loc"));
  return -ad::log(ratio) + diff / sq + ratio * ad::exp(-diff / sp) - 1.0;
}

// log((hq − lq)/(hp − lp)) when q's support covers p's, else ∞.
Var kl_uniform_uniform(const Distribution& p, const Distribution& q) {
  const Var lp = p.param("low"), hp = p.param("high"), lq = q.param("low"), hq = q.param("high");
  const Var covers = (lq <= lp) * (hq >= hp);
  return ad::where(covers, ad::log((hq - lq) / (hp - lp)), inf);
}

// Σ log diag Lq − Σ log diag Lp + ½(‖Lq⁻¹ Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − D).
Var kl_mvn_mvn(const Distribution& p, const Distribution& q) {
  const Var lp = p.param("scale_tril"), lq = q.param("scale_tril");
  const auto d = static_cast<double>(p.event_shape()[0]);
  const Var trace_term = ad::sum(ad::square(solve_lower(lq, ad::transpose(lp))));
  const Var mahalanobis = ad::sum(ad::square(solve_lower(lq, q.param("loc") - p.param("loc"))), -1);
  return ad::sum(ad::log(diagonal(lq))) - ad::sum(ad::log(diagonal(lp))) + 0.5 * (trace_term + mahalanobis - d);
}

struct Row {
  std::string_view p, q;
  KlFn fn;
};

const Row table[] = {
    {"Normal", "Normal", kl_normal_normal},
    {"LogNormal", "LogNormal", kl_normal_normal},
    {"HalfNormal", "HalfNormal", kl_half_normal_half_normal},
    {"Gamma", "Gamma", kl_gamma_gamma},
    {"Beta", "Beta", kl_beta_beta},
    {"Dirichlet", "Dirichlet", kl_dirichlet_dirichlet},
    {"Bernoulli", "Bernoulli", kl_bernoulli_bernoulli},
    {"Categorical", "Categorical", kl_categorical_categorical},
    {"Poisson", "Poisson", kl_poisson_poisson},
    {"Geometric", "Geometric", kl_geometric_geometric},
    {"Exponential", "Exponential", kl_exponential_exponential},
    {"Laplace", "Laplace", kl_laplace_laplace},
    {"Uniform", "Uniform", kl_uniform_uniform},
    {"MultivariateNormal", "MultivariateNormal", kl_mvn_mvn},
};

const Row* find(std::string_view p, std::string_view q) {
  for (const Row& r : table)
    if (r.p == p && r.q == q) return &r;
  return nullptr;
}

}  // namespace

Var kl_divergence(const Distribution& p, const Distribution& q) {
  const Row* row = find(p.name(), q.name());
  if (!row)
    throw NotDefined("kl_divergence: no closed form for KL(" + std::string(p.name()) + " || " +
                     std::string(q.name()) + ")");
  return row->fn(p, q);
}

bool has_kl(std::string_view p, std::string_view q) { return find(p, q) != nullptr; }

std::vector<std::pair<std::string_view, std::string_view>> kl_pairs() {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const Row& r : table) out.emplace_back(r.p, r.q);
  return out;
}

}  // namespace vireo::dist
