// Trace_ELBO's gradient estimate is unbiased: on a model with one discrete
// latent whose ELBO gradient is exact by enumeration, the mean of many
// single-particle surrogate gradients matches it within 4 Monte Carlo
// standard errors.
#define BOOST_TEST_MODULE elbo_gradient
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "runtime/infer/meanfield_elbo.hpp"
#include "runtime/infer/tracegraph_elbo.hpp"
#include "support/fit.hpp"

using namespace vireo;

namespace {

// The mean over n fresh single-step estimates of d loss / d `param` (element
// 0) at the current parameters, and the variance of that mean.
std::pair<double, double> mean_loss_gradient(test::Fit& fit, const std::string& param, int n) {
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    fit.ctx->begin_step();
    auto est = fit.elbo->loss(*fit.ctx, *fit.guide);
    fit.ctx->tape().backward(est.loss);
    const double g = fit.ctx->tape().grad(fit.ctx->param_leaves().at(param))[0];
    sum += g;
    sum2 += g * g;
  }
  const double m = sum / n;
  return {m, (sum2 / n - m * m) / n};
}

}  // namespace

BOOST_AUTO_TEST_CASE(score_function_gradient_is_unbiased) {
  test::Fit fit(R"(data { y: real }
model { z ~ Bernoulli(probs = 0.3)  observe y ~ Normal(2 * z, 1) }
guide { param q: real<lower=0, upper=1> = 0.6  z ~ Bernoulli(probs = q) })",
                test::dataset({{ad::Tensor(1.5), interp::Kind::Real}}));
  fit.setup("custom");
  const auto [loss_mean, variance] = mean_loss_gradient(fit, "q", 20000);
  const double mean = -loss_mean, se = std::sqrt(variance);  // d ELBO / d logit(q)
  // Exact: ELBO(θ) = Σ_z q(z) [log p(z) + log p(y|z) − log q(z)], q = σ(θ).
  auto logn = [](double x, double m) { return -0.5 * (x - m) * (x - m) - 0.5 * std::log(2 * M_PI); };
  double q = 0.6;
  double f1 = std::log(0.3) + logn(1.5, 2) - std::log(q), f0 = std::log(0.7) + logn(1.5, 0) - std::log(1 - q);
  // dELBO/dθ = q(1−q)·(f1 − f0) + Σ_z q(z)·d(−log q(z))/dθ, and the last sum is 0.
  double exact = q * (1 - q) * (f1 - f0);
  BOOST_TEST_MESSAGE("mean " << mean << " ± " << se << ", exact " << exact);
  BOOST_TEST(std::abs(mean - exact) < 4 * se);
}

// Rao-Blackwellisation per plate element, when the guide has its own `plate
// data` (another statement of the graph, the same plate): element n's score
// term is weighted by the costs of slice n only, so changing x[3] changes the
// gradient of phi[3] and of no other phi[n], for the same random draws. Under
// both estimators. (Matching the two plates by statement instead of by name
// silently summed every element's cost into every score: M3's phi variance
// went from Pyro's 10^5 to 10^10.)
BOOST_AUTO_TEST_CASE(score_terms_see_only_their_plate_slice) {
  const char* text = R"(data { N: int  x: real[N] }
model { plate data(N) { z ~ Bernoulli(probs = 0.5)  observe x ~ Normal(3 * z, 1) } }
guide { param phi: real[N] = 0  plate data(N) { z ~ Bernoulli(logits = phi) } })";
  auto gradient = [&](double x3, const std::string& estimator) {
    ad::Tensor x(ad::Shape{4}, std::vector<double>{0.5, 2.0, -1.0, x3});
    test::Fit fit(text, test::dataset({{ad::Tensor(4.0), interp::Kind::Int}, {x, interp::Kind::Real}}), 7);
    fit.setup("custom");
    std::unique_ptr<infer::Elbo> elbo;
    if (estimator == "trace") elbo = std::make_unique<infer::TraceElbo>(1);
    else elbo = std::make_unique<infer::TraceGraphElbo>(fit.graph, infer::TraceGraphOptions{1, infer::BaselineSpec::parse("none")});
    fit.ctx->begin_step();
    auto est = elbo->loss(*fit.ctx, *fit.guide);
    fit.ctx->tape().backward(est.loss);
    return fit.ctx->tape().grad(fit.ctx->param_leaves().at("phi"));
  };
  for (std::string estimator : {"trace", "tracegraph"}) {
    BOOST_TEST_CONTEXT(estimator) {
      ad::Tensor a = gradient(1.0, estimator), b = gradient(25.0, estimator);
      for (int n = 0; n < 3; ++n) BOOST_TEST(a[n] == b[n]);
      BOOST_TEST(a[3] != b[3]);
    }
  }
}

// A plate whose elements mix: every x[m] reads sum(z), so x[m]'s term depends
// on every z[n], and refining z[n]'s cost to plate slice n would drop the
// terms of the other slices — a biased gradient. Such a plate is not refined
// (dependencies.hpp, the rule): each element's score sees the whole cost.
// The mean of 20000 single-draw gradients of phi must match the exact one,
// computed by enumerating the four values of z, within 4 standard errors,
// under Trace_ELBO, TraceGraph_ELBO and TraceMeanField_ELBO.
BOOST_AUTO_TEST_CASE(mixing_plates_are_not_refined) {
  const char* text = R"(data { N: int  x: real[N] }
model { plate data(N) { z ~ Bernoulli(probs = 0.5)  observe x ~ Normal(sum(z), 1) } }
guide { param phi: real[N] = 0  plate data(N) { z ~ Bernoulli(logits = phi) } })";
  const double x[2] = {0.3, 2.2}, phi[2] = {0.4, -0.7};
  // The exact ELBO as a function of phi, by enumeration.
  auto exact_elbo = [&](const double* ph) {
    double e = 0;
    for (int z0 = 0; z0 < 2; ++z0)
      for (int z1 = 0; z1 < 2; ++z1) {
        double lq = 0, lp = 2 * std::log(0.5);
        for (int n = 0; n < 2; ++n) {
          const double p1 = 1 / (1 + std::exp(-ph[n]));
          lq += std::log((n == 0 ? z0 : z1) ? p1 : 1 - p1);
          const double d = x[n] - (z0 + z1);
          lp += -0.5 * d * d - 0.5 * std::log(2 * M_PI);
        }
        e += std::exp(lq) * (lp - lq);
      }
    return e;
  };
  double exact[2];
  for (int n = 0; n < 2; ++n) {
    double up[2] = {phi[0], phi[1]}, down[2] = {phi[0], phi[1]};
    up[n] += 1e-5;
    down[n] -= 1e-5;
    exact[n] = (exact_elbo(up) - exact_elbo(down)) / 2e-5;
  }
  for (std::string estimator : {"trace", "tracegraph", "meanfield"}) {
    BOOST_TEST_CONTEXT(estimator) {
      test::Fit fit(text,
                    test::dataset({{ad::Tensor(2.0), interp::Kind::Int},
                                   {ad::Tensor(ad::Shape{2}, std::vector<double>{x[0], x[1]}), interp::Kind::Real}}),
                    5);
      fit.setup("custom");
      std::unique_ptr<infer::Elbo> elbo;
      if (estimator == "trace") elbo = std::make_unique<infer::TraceElbo>(1);
      else if (estimator == "meanfield") elbo = std::make_unique<infer::TraceMeanFieldElbo>(1);
      else elbo = std::make_unique<infer::TraceGraphElbo>(fit.graph, infer::TraceGraphOptions{1, infer::BaselineSpec::parse("none")});
      fit.ctx->begin_step();
      elbo->loss(*fit.ctx, *fit.guide);  // creates phi
      fit.store.find("phi")->unconstrained << phi[0], phi[1];
      const int draws = 20000;
      double sum[2] = {0, 0}, sum2[2] = {0, 0};
      for (int i = 0; i < draws; ++i) {
        fit.ctx->begin_step();
        auto est = elbo->loss(*fit.ctx, *fit.guide);
        fit.ctx->tape().backward(est.loss);
        ad::Tensor g = fit.ctx->tape().grad(fit.ctx->param_leaves().at("phi"));
        for (int n = 0; n < 2; ++n) {
          sum[n] -= g[n];
          sum2[n] += g[n] * g[n];
        }
      }
      for (int n = 0; n < 2; ++n) {
        const double mean = sum[n] / draws, se = std::sqrt((sum2[n] / draws - mean * mean) / draws);
        BOOST_TEST_MESSAGE(estimator << " phi[" << n << "]: " << mean << " ± " << se << ", exact " << exact[n]);
        BOOST_TEST(std::abs(mean - exact[n]) < 4 * se, "phi[" << n << "]: " << mean << " ± " << se << ", exact " << exact[n]);
      }
    }
  }
}

// Sticking the landing under auto_normal. mu ~ Normal(0, 1) with y ~
// Normal(mu, 1) at four points: the posterior is Normal(Σy/5, 1/√5), inside
// auto_normal's family. With the guide set to it, log p(y, mu) − log q(mu) is
// the same for every draw, so the path-derivative gradient is exactly zero on
// every draw, while the standard estimator's is not (its score part
// −∇log q has mean zero, not value zero). Also on a positive site (a
// log-normal guide through exp), where the Jacobian enters log q.
BOOST_AUTO_TEST_CASE(stl_gradient_vanishes_at_the_posterior) {
  const double y[4] = {1.2, 0.4, 2.1, 1.3};
  const double mean = (y[0] + y[1] + y[2] + y[3]) / 5, sd = 1 / std::sqrt(5.0);
  const std::string model = R"(data { y: real[4] }
model { mu ~ Normal(0, 1)  observe y ~ Normal(mu, 1) })";
  // The largest |∂loss/∂p| over 10 draws for the parameters `ps` of a guide
  // `kind` set to the posterior (auto_normal's through the store, a hand-written one by its text).
  auto largest_gradient = [&](const std::string& text, const std::string& kind, std::vector<std::string> ps, bool stl) {
    test::Fit fit(text, test::dataset({{ad::Tensor(ad::Shape{4}, std::vector<double>(y, y + 4)), interp::Kind::Real}}), 9);
    fit.setup(kind);
    BOOST_TEST_REQUIRE(fit.guide->set_sticking_the_landing(stl));
    if (kind == "auto_normal") {
      fit.ctx->begin_step();
      fit.elbo->loss(*fit.ctx, *fit.guide);  // creates the parameters
      fit.store.find("auto.loc.mu")->unconstrained[0] = mean;
      fit.store.find("auto.scale.mu")->unconstrained[0] = std::log(std::expm1(sd));  // softplus⁻¹
    }
    double largest = 0;
    for (int i = 0; i < 10; ++i) {
      fit.ctx->begin_step();
      auto est = fit.elbo->loss(*fit.ctx, *fit.guide);
      fit.ctx->tape().backward(est.loss);
      for (const std::string& p : ps)
        largest = std::max(largest, std::abs(fit.ctx->tape().grad(fit.ctx->param_leaves().at(p))[0]));
    }
    return largest;
  };
  const double with = largest_gradient(model, "auto_normal", {"auto.loc.mu", "auto.scale.mu"}, true),
               without = largest_gradient(model, "auto_normal", {"auto.loc.mu", "auto.scale.mu"}, false);
  BOOST_TEST_MESSAGE("largest |gradient| over 10 draws at the posterior: stl " << with << ", standard " << without);
  BOOST_TEST(with < 1e-9);
  BOOST_TEST(without > 1e-2);

  // The same with a hand-written guide set to the posterior: its site's
  // distribution is rebuilt with detached parameters for log q.
  const std::string custom =
      model + fmt::format("\nguide {{ param m: real = {}  param s: real<lower=0> = {}  mu ~ Normal(m, s) }}", mean, sd);
  const double custom_with = largest_gradient(custom, "custom", {"m", "s"}, true),
               custom_without = largest_gradient(custom, "custom", {"m", "s"}, false);
  BOOST_TEST_MESSAGE("hand-written guide: stl " << custom_with << ", standard " << custom_without);
  BOOST_TEST(custom_with < 1e-9);
  BOOST_TEST(custom_without > 1e-2);

  // Positive site: tau ~ Gamma(3, 2) with no data; the guide on log tau is
  // Normal, so q (a log-normal) is not the Gamma posterior, but at any guide
  // the STL and standard gradients have the same expectation: compare their
  // means over 20000 draws within 4 standard errors of the difference.
  auto mean_gradient = [&](bool stl) {
    test::Fit fit("model { tau ~ Gamma(3, 2) }", test::dataset({}), 4);
    fit.setup("auto_normal");
    BOOST_TEST_REQUIRE(fit.guide->set_sticking_the_landing(stl));
    fit.ctx->begin_step();
    fit.elbo->loss(*fit.ctx, *fit.guide);
    fit.store.find("auto.scale.tau")->unconstrained[0] = 0.0;  // scale softplus(0) ≈ 0.69
    return mean_loss_gradient(fit, "auto.scale.tau", 20000);
  };
  const auto [m_stl, v_stl] = mean_gradient(true);
  const auto [m_std, v_std] = mean_gradient(false);
  BOOST_TEST_MESSAGE("d/d scale on a positive site: stl " << m_stl << ", standard " << m_std);
  BOOST_TEST(std::abs(m_stl - m_std) < 4 * std::sqrt(v_stl + v_std));
}
