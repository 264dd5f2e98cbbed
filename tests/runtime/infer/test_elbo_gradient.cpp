// Trace_ELBO's gradient estimate is unbiased: on a model with one discrete
// latent whose ELBO gradient is exact by enumeration, the mean of many
// single-particle surrogate gradients matches it within 4 Monte Carlo
// standard errors.
#define BOOST_TEST_MODULE elbo_gradient
#include <boost/test/unit_test.hpp>

#include "support/fit.hpp"

using namespace vireo;

BOOST_AUTO_TEST_CASE(score_function_gradient_is_unbiased) {
  test::Fit fit(R"(data { y: real }
model { z ~ Bernoulli(probs = 0.3)  observe y ~ Normal(2 * z, 1) }
guide { param q: real<lower=0, upper=1> = 0.6  z ~ Bernoulli(probs = q) })",
                test::dataset({{ad::Tensor(1.5), interp::Kind::Real}}));
  fit.setup("custom");
  const int n = 20000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    fit.ctx->begin_step();
    auto est = fit.elbo->loss(*fit.ctx, *fit.guide);
    fit.ctx->tape().backward(est.loss);
    double g = -fit.ctx->tape().grad(fit.ctx->param_leaves().at("q"))[0];  // d ELBO / d logit(q)
    sum += g;
    sum2 += g * g;
  }
  double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
  // Exact: ELBO(θ) = Σ_z q(z) [log p(z) + log p(y|z) − log q(z)], q = σ(θ).
  auto logn = [](double x, double m) { return -0.5 * (x - m) * (x - m) - 0.5 * std::log(2 * M_PI); };
  double q = 0.6;
  double f1 = std::log(0.3) + logn(1.5, 2) - std::log(q), f0 = std::log(0.7) + logn(1.5, 0) - std::log(1 - q);
  // dELBO/dθ = q(1−q)·(f1 − f0) + Σ_z q(z)·d(−log q(z))/dθ, and the last sum is 0.
  double exact = q * (1 - q) * (f1 - f0);
  BOOST_TEST_MESSAGE("mean " << mean << " ± " << se << ", exact " << exact);
  BOOST_TEST(std::abs(mean - exact) < 4 * se);
}
