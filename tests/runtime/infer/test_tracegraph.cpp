// TraceGraph_ELBO: its gradient estimate is unbiased with every kind of
// baseline and with none — the mean of many single-step estimates matches
// the exact ELBO gradient, computed by enumerating the discrete latents,
// within 4 Monte Carlo standard errors — and each single estimate is
// exactly ∇log q(z) · (cost − b), with no direct ∇(−log q) term.
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "runtime/infer/tracegraph_elbo.hpp"
#include "support/fit.hpp"

using namespace vireo;

namespace {

// z1 → z2 → y: a chain of two discrete latents; the guide mirrors it.
std::string program(const std::string& option) {
  return fmt::format(R"(data {{ y: real }}
model {{
  z1 ~ Bernoulli(probs = 0.4)
  z2 ~ Bernoulli(probs = 0.2 + 0.6 * z1)
  observe y ~ Normal(z1 + 2 * z2, 1)
}}
guide {{
  param a: real<lower=0, upper=1> = 0.5
  param b: real<lower=0, upper=1> = 0.3
  param c: real<lower=0, upper=1> = 0.7
  z1 ~ Bernoulli(probs = a) {0}
  z2 ~ Bernoulli(probs = b + (c - b) * z1) {0}
}})",
                     option);
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// The exact ELBO at unconstrained (logit) parameters, by enumeration.
double exact_elbo(double la, double lb, double lc, double y) {
  double a = sigmoid(la), b = sigmoid(lb), c = sigmoid(lc), total = 0;
  auto lognorm = [](double x, double m) { return -0.5 * (x - m) * (x - m) - 0.5 * std::log(2 * M_PI); };
  for (int z1 = 0; z1 < 2; ++z1)
    for (int z2 = 0; z2 < 2; ++z2) {
      double q1 = z1 ? a : 1 - a, p2g = b + (c - b) * z1, q2 = z2 ? p2g : 1 - p2g;
      double p1 = z1 ? 0.4 : 0.6, p2m = 0.2 + 0.6 * z1, p2 = z2 ? p2m : 1 - p2m;
      double logp = std::log(p1) + std::log(p2) + lognorm(y, z1 + 2 * z2);
      total += q1 * q2 * (logp - std::log(q1) - std::log(q2));
    }
  return total;
}

struct Case {
  std::string name, option, default_baseline;
  int particles;
};

void check_unbiased(const Case& c, int draws) {
  const double y = 2.2;
  test::Fit fit(program(c.option), test::dataset({{ad::Tensor(y), interp::Kind::Real}}), 11);
  fit.setup("custom");
  infer::TraceGraphOptions o;
  o.particles = c.particles;
  o.default_baseline = infer::BaselineSpec::parse(c.default_baseline);
  infer::TraceGraphElbo elbo(fit.graph, o);
  const char* names[3] = {"a", "b", "c"};
  double s1[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
  for (int i = 0; i < draws; ++i) {
    fit.ctx->begin_step();
    auto est = elbo.loss(*fit.ctx, *fit.guide);
    fit.ctx->tape().backward(est.loss);
    for (int k = 0; k < 3; ++k) {
      double g = -fit.ctx->tape().grad(fit.ctx->param_leaves().at(names[k]))[0];
      s1[k] += g;
      s2[k] += g * g;
    }
    // Keep a learned baseline learning, as it would during training.
    if (c.option.find("net") != std::string::npos) {
      for (const auto& [name, leaf] : fit.ctx->param_leaves()) {
        if (name.rfind("baseline.", 0) != 0) continue;
        auto* e = fit.store.find(name);
        ad::Tensor g = fit.ctx->tape().grad(leaf);
        for (std::int64_t j = 0; j < g.numel(); ++j) e->unconstrained[j] -= 0.01 * g[j];
      }
    }
  }
  // Exact gradient: central differences of the enumerated ELBO (exact to ~1e-9).
  double u[3] = {0, std::log(0.3 / 0.7), std::log(0.7 / 0.3)};
  for (int k = 0; k < 3; ++k) {
    double h = 1e-5, up[3] = {u[0], u[1], u[2]}, dn[3] = {u[0], u[1], u[2]};
    up[k] += h;
    dn[k] -= h;
    double exact = (exact_elbo(up[0], up[1], up[2], y) - exact_elbo(dn[0], dn[1], dn[2], y)) / (2 * h);
    double mean = s1[k] / draws, se = std::sqrt((s2[k] / draws - mean * mean) / draws);
    BOOST_TEST(std::abs(mean - exact) < 4 * se,
               c.name << ": d/d" << names[k] << " mean " << mean << " ± " << se << ", exact " << exact);
  }
}

}  // namespace

// 10^5 estimates in the long suite; 10^4 in the fast one (the tolerance is in
// standard errors, so both are exact tests; the long one is sharper).
#ifndef TRACEGRAPH_DRAWS
#define TRACEGRAPH_DRAWS 100000
#endif

BOOST_AUTO_TEST_CASE(unbiased_with_every_baseline) {
  const int draws = TRACEGRAPH_DRAWS;
  std::vector<Case> cases = {
      {"no baseline", "", "none", 1},
      {"decaying average", "with baseline(beta = 0.9)", "none", 1},
      {"fixed value", "with baseline(value = -4)", "none", 1},
      {"learned", "with baseline(net = y, hidden = 4)", "none", 1},
      {"average + learned", "with baseline(beta = 0.9, net = y, hidden = 4)", "none", 1},
      {"leave-one-out", "", "loo", 4},
  };
  for (const auto& c : cases) check_unbiased(c, c.particles > 1 ? draws / c.particles : draws);
}

// One Bernoulli latent, so the cost of z is the whole particle ELBO and z can
// be read off the ELBO estimate. With a = sigmoid(u) and q(z) = a^z (1−a)^(1−z),
// each single estimate of ∂ELBO/∂u must be exactly (z − a)·(cost(z) − b):
// the score term alone. The ELBO's own −log q(z) must not add its gradient
// −(z − a) as well — zero in expectation, but it would shift every estimate by
// ±a (here ±0.5), a baseline off by one nat (Pyro leaves it out likewise).
BOOST_AUTO_TEST_CASE(single_estimate_is_the_score_term_alone) {
  const double y = 1.5, a = 0.5;
  auto lognorm = [](double x, double m) { return -0.5 * (x - m) * (x - m) - 0.5 * std::log(2 * M_PI); };
  auto cost = [&](int z) { return std::log(z ? 0.4 : 0.6) + lognorm(y, 2.0 * z) - std::log(z ? a : 1 - a); };
  struct Single {
    std::string option, baseline;
    double b;  // the baseline every draw uses
  };
  for (const Single& c : {Single{"", "none", 0.0}, Single{"with baseline(value = -3)", "none", -3.0}}) {
    const std::string text = fmt::format(R"(data {{ y: real }}
model {{
  z ~ Bernoulli(probs = 0.4)
  observe y ~ Normal(2 * z, 1)
}}
guide {{
  param a: real<lower=0, upper=1> = 0.5
  z ~ Bernoulli(probs = a) {0}
}})",
                                         c.option);
    test::Fit fit(text, test::dataset({{ad::Tensor(y), interp::Kind::Real}}), 3);
    fit.setup("custom");
    infer::TraceGraphOptions o;
    o.default_baseline = infer::BaselineSpec::parse(c.baseline);
    infer::TraceGraphElbo elbo(fit.graph, o);
    int seen[2] = {0, 0};
    for (int i = 0; i < 20; ++i) {
      fit.ctx->begin_step();
      auto est = elbo.loss(*fit.ctx, *fit.guide);
      fit.ctx->tape().backward(est.loss);
      double g = -fit.ctx->tape().grad(fit.ctx->param_leaves().at("a"))[0];
      int z = std::abs(est.elbo - cost(1)) < 1e-9 ? 1 : 0;
      BOOST_TEST_REQUIRE(std::abs(est.elbo - cost(z)) < 1e-9, "the ELBO " << est.elbo << " is neither cost(0) nor cost(1)");
      ++seen[z];
      double expected = (z - a) * (cost(z) - c.b);
      BOOST_TEST(std::abs(g - expected) < 1e-9,
                 "'" << c.option << "', z = " << z << ": ∂ELBO/∂u " << g << ", expected " << expected << " (with the direct "
                     << "term: " << expected - (z - a) << ")");
    }
    BOOST_TEST((seen[0] > 0 && seen[1] > 0), "20 draws gave z = 0 " << seen[0] << " times, z = 1 " << seen[1] << " times");
  }
}
