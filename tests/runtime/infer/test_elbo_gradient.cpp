// Trace_ELBO's gradient estimate is unbiased: on a model with one discrete
// latent whose ELBO gradient is exact by enumeration, the mean of many
// single-particle surrogate gradients matches it within 4 Monte Carlo
// standard errors.
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <Eigen/Dense>
#include <functional>

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

namespace {

// z1 → z2 → y: z1 ~ Normal(0, 1), z2 ~ Normal(z1, 1), y[k] ~ Normal(z2, 1).
// The posterior is Gaussian with precision Λ = [[2, −1], [−1, 1 + n]] and
// Λ μ = (0, Σy). It factorises as q(z1) q(z2 | z1) with
//   z1 ~ Normal(μ1, √Σ11),   z2 | z1 ~ Normal(a z1 + b, t),
//   a = 1/(1 + n), b = Σy/(1 + n), t = 1/√(1 + n)   (Λ22 z2 = Σy + z1),
// so a hand-written guide of that form, a joint Gaussian (auto_mvn) and
// nothing simpler contain it.
struct Chain {
  std::vector<double> y{1.2, 0.4, 2.1};
  double n() const { return static_cast<double>(y.size()); }
  double sum_y() const { return y[0] + y[1] + y[2]; }
  std::string model() const {
    return R"(data { y: real[3] }
model { z1 ~ Normal(0, 1)  z2 ~ Normal(z1, 1)  observe y ~ Normal(z2, 1) })";
  }
  interp::DataSet data() const {
    return test::dataset({{ad::Tensor(ad::Shape{3}, std::vector<double>(y)), interp::Kind::Real}});
  }
  // Σ = Λ⁻¹ and μ = Σ (0, Σy).
  Eigen::Matrix2d covariance() const {
    Eigen::Matrix2d lambda;
    lambda << 2, -1, -1, 1 + n();
    return lambda.inverse();
  }
  Eigen::Vector2d mean() const { return covariance() * Eigen::Vector2d(0, sum_y()); }
};

double inverse_softplus(double y) { return std::log(std::expm1(y)); }

// Over `draws` single-draw estimates at the current parameters: the mean
// square of every element of the gradient of each parameter in `ps` (at the
// posterior the mean gradient is 0, so this is the gradient's variance).
std::map<std::string, double> gradient_mean_square(test::Fit& fit, const std::vector<std::string>& ps, int draws) {
  std::map<std::string, double> out;
  for (int i = 0; i < draws; ++i) {
    fit.ctx->begin_step();
    auto est = fit.elbo->loss(*fit.ctx, *fit.guide);
    fit.ctx->tape().backward(est.loss);
    for (const std::string& p : ps) {
      const ad::Tensor g = fit.ctx->tape().grad(fit.ctx->param_leaves().at(p));
      for (std::int64_t k = 0; k < g.numel(); ++k) out[p] += g[k] * g[k] / draws;
    }
  }
  return out;
}

// Sticking the landing's gradient against the standard one for a guide set
// to the exact posterior by `set` (after a first step has made its
// parameters): every parameter's STL gradient variance must be rounding
// (below 1e-20 of the largest standard one, whose values are O(1), while
// rounding leaves O(1e-16) per draw), and the standard one must not be.
void expect_stl_vanishes(const std::string& text, const interp::DataSet& data, const std::string& kind,
                         const std::vector<std::string>& ps, const std::function<void(params::ParamStore&)>& set) {
  std::map<std::string, double> ms[2];
  for (int stl = 0; stl < 2; ++stl) {
    test::Fit fit(text, data, 11);
    fit.setup(kind);
    BOOST_TEST_REQUIRE(fit.guide->set_sticking_the_landing(stl == 1));
    fit.ctx->begin_step();
    fit.elbo->loss(*fit.ctx, *fit.guide);  // creates the parameters
    set(fit.store);
    ms[stl] = gradient_mean_square(fit, ps, 50);
  }
  double largest = 0;
  for (const auto& [p, v] : ms[0]) largest = std::max(largest, v);
  BOOST_TEST(largest > 1e-2, kind << ": the standard estimator's gradient variance should not vanish");
  for (const auto& [p, v] : ms[1]) {
    BOOST_TEST_MESSAGE(kind << " " << p << ": gradient variance stl " << v << ", standard " << ms[0][p]);
    BOOST_TEST(v < 1e-20 * largest, kind << " " << p << ": stl gradient variance " << v << " at the posterior");
  }
}

}  // namespace

// At the exact posterior, log p(y, z) − log q(z) is the same for every z, so
// the path-derivative gradient ∇z(log p − log q) · ∂z/∂θ is 0 on every draw —
// provided log q is evaluated with the variational parameters held fixed and
// the sampled values live. A hand-written guide whose z2 depends on z1 needs
// the path from z1 into z2's log q: detaching the whole of z2's loc (a·z1 + b)
// left variances near 1 for m and s.
BOOST_AUTO_TEST_CASE(stl_gradient_vanishes_for_dependent_guides_at_the_posterior) {
  const Chain c;
  const Eigen::Matrix2d cov = c.covariance();
  const Eigen::Vector2d mu = c.mean();
  const double a = 1 / (1 + c.n()), b = c.sum_y() / (1 + c.n()), t = 1 / std::sqrt(1 + c.n());
  const std::string custom =
      c.model() + fmt::format(R"(
guide {{ param m: real = {}  param s: real<lower=0> = {}  param a: real = {}  param b: real = {}
        param t: real<lower=0> = {}
        z1 ~ Normal(m, s)  z2 ~ Normal(a * z1 + b, t) }})",
                              mu[0], std::sqrt(cov(0, 0)), a, b, t);
  expect_stl_vanishes(custom, c.data(), "custom", {"m", "s", "a", "b", "t"}, [](params::ParamStore&) {});

  // auto_mvn: loc = μ, L = chol(Σ) = diag(scale) · U.
  expect_stl_vanishes(c.model(), c.data(), "auto_mvn", {"auto_mvn.loc", "auto_mvn.scale", "auto_mvn.scale_tril"},
                      [&](params::ParamStore& store) {
                        const Eigen::Matrix2d l = cov.llt().matrixL();
                        store.find("auto_mvn.loc")->unconstrained << mu[0], mu[1];
                        store.find("auto_mvn.scale")->unconstrained << inverse_softplus(l(0, 0)), inverse_softplus(l(1, 1));
                        store.find("auto_mvn.scale_tril")->unconstrained << 0, 0, l(1, 0) / l(1, 1), 0;
                      });

  // The flow, on two independent means (a diagonal posterior): its coupling
  // layers start at the identity, loc and scale set to the posterior's.
  // a ~ Normal(0, 1) with w ~ Normal(a, 1): Normal(w/2, √½); b ~ Normal(1, 2)
  // with v ~ Normal(b, 0.5): precision 1/4 + 4, mean (1/4 + 4 v)/(17/4).
  const double w = 0.7, v = -0.3;
  const double b_prec = 0.25 + 4, b_mean = (0.25 + 4 * v) / b_prec;
  std::vector<std::string> flow_params{"auto_realnvp.loc", "auto_realnvp.scale"};
  for (int k = 0; k < 4; ++k)
    for (const char* net : {"scale", "shift"})
      for (const char* what : {"w1", "b1", "w2", "b2"}) flow_params.push_back(fmt::format("auto_realnvp.layer{}.{}.{}", k, net, what));
  expect_stl_vanishes("data { w: real  v: real }\nmodel { a ~ Normal(0, 1)  b ~ Normal(1, 2)  observe w ~ Normal(a, 1)  "
                      "observe v ~ Normal(b, 0.5) }",
                      test::dataset({{ad::Tensor(w), interp::Kind::Real}, {ad::Tensor(v), interp::Kind::Real}}),
                      "auto_realnvp", flow_params, [&](params::ParamStore& store) {
                        store.find("auto_realnvp.loc")->unconstrained << w / 2, b_mean;
                        store.find("auto_realnvp.scale")->unconstrained << inverse_softplus(std::sqrt(0.5)),
                            inverse_softplus(1 / std::sqrt(b_prec));
                      });
}

// Away from the posterior the two estimators differ draw by draw but agree
// in expectation (Roeder et al. 2017: the dropped score term has mean 0):
// the dependent hand-written guide at arbitrary parameters, the means of
// 20000 single-draw gradients of every parameter within 4 standard errors
// of their difference.
BOOST_AUTO_TEST_CASE(stl_matches_the_standard_gradient_in_expectation_for_a_dependent_guide) {
  const Chain c;
  const std::string custom = c.model() + R"(
guide { param m: real = 0.3  param s: real<lower=0> = 1.3  param a: real = -0.4  param b: real = 0.2
        param t: real<lower=0> = 0.6
        z1 ~ Normal(m, s)  z2 ~ Normal(a * z1 + b, t) })";
  const std::vector<std::string> ps{"m", "s", "a", "b", "t"};
  const int draws = 20000;
  double mean[2][5] = {}, var[2][5] = {};
  for (int stl = 0; stl < 2; ++stl) {
    test::Fit fit(custom, c.data(), 3 + stl);
    fit.setup("custom");
    BOOST_TEST_REQUIRE(fit.guide->set_sticking_the_landing(stl == 1));
    double sum2[5] = {};
    for (int i = 0; i < draws; ++i) {
      fit.ctx->begin_step();
      auto est = fit.elbo->loss(*fit.ctx, *fit.guide);
      fit.ctx->tape().backward(est.loss);
      for (std::size_t k = 0; k < ps.size(); ++k) {
        const double g = fit.ctx->tape().grad(fit.ctx->param_leaves().at(ps[k]))[0];
        mean[stl][k] += g / draws;
        sum2[k] += g * g / draws;
      }
    }
    for (std::size_t k = 0; k < ps.size(); ++k) var[stl][k] = (sum2[k] - mean[stl][k] * mean[stl][k]) / draws;
  }
  for (std::size_t k = 0; k < ps.size(); ++k) {
    BOOST_TEST_MESSAGE(ps[k] << ": stl " << mean[1][k] << ", standard " << mean[0][k]);
    BOOST_TEST(std::abs(mean[1][k] - mean[0][k]) < 4 * std::sqrt(var[0][k] + var[1][k]), ps[k]);
  }
}
