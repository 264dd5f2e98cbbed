// vireo::LogDensity, as a host with its own optimiser or sampler uses it:
// the log density against hand-computed formulas (with and without the
// Jacobian), its gradient against central finite differences, the
// transforms' round trip, refusals, and a MAP found by plain gradient ascent.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>
#include <random>

#include "vireo/vireo.hpp"

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";

// A normal mean with an unknown scale: mu real, sigma ≥ 0 (exp map).
const char* normal_model = R"(data {
  N: int<lower=1>
  y: real[N]
}
model {
  mu ~ Normal(1, 2)
  sigma ~ Exponential(1.5)
  plate obs(N) {
    observe y ~ Normal(mu, sigma)
  }
}
)";
// The same model as Stan users write it: a loop, which log_density runs as one batch.
const char* normal_loop_model = R"(data {
  N: int<lower=1>
  y: real[N]
}
model {
  mu ~ Normal(1, 2)
  sigma ~ Exponential(1.5)
  for n in 0..N {
    observe y[n] ~ Normal(mu, sigma)
  }
}
)";
const std::vector<double> ys = {0.3, 1.9, -0.4, 2.2, 1.1};

vireo::Data normal_data(const vireo::Model& m) {
  return vireo::Data::from_arrays(m, {{"N", {{}, {5}}}, {"y", {{5}, ys}}});
}

double log_normal_pdf(double x, double mu, double s) {
  const double z = (x - mu) / s;
  return -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * std::numbers::pi);
}

// Central differences, h = 1e-5: truncation error h²/6 |f'''| ≈ 1e-11 and
// rounding ≈ 1e-16 |f| / h ≈ 1e-10 for |f| ≈ 10, far below the 1e-6 asked.
void check_gradient(vireo::LogDensity& ld, const std::vector<double>& x, bool jacobian) {
  std::vector<double> g;
  ld.log_density(x, &g, jacobian);
  BOOST_TEST_REQUIRE(g.size() == x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double h = 1e-5;
    std::vector<double> xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    const double fd = (ld.log_density(xp, nullptr, jacobian) - ld.log_density(xm, nullptr, jacobian)) / (2 * h);
    BOOST_TEST(std::abs(g[i] - fd) <= 1e-6 * std::max(1.0, std::abs(fd)), "coordinate " << i << ": " << g[i] << " vs " << fd);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(normal_model_matches_the_formula_and_finite_differences) {
  for (const char* text : {normal_model, normal_loop_model}) {
    BOOST_TEST_CONTEXT((text == normal_model ? "plate" : "loop")) {
      vireo::Model m = vireo::Model::from_string(text, "normal.vireo");
      vireo::Data d = normal_data(m);
      vireo::LogDensity ld(m, d);
      BOOST_TEST_REQUIRE(ld.dimension() == 2u);
      BOOST_TEST_REQUIRE(ld.sites().size() == 2u);
      BOOST_TEST(ld.sites()[0].name == "mu");
      BOOST_TEST(ld.sites()[0].constraint == "real");
      BOOST_TEST(ld.sites()[1].name == "sigma");
      BOOST_TEST(ld.sites()[1].constraint == "nonnegative");  // Exponential's support, mapped by exp
      BOOST_TEST(ld.sites()[1].offset == 1u);

      std::mt19937_64 gen(3);
      std::normal_distribution<double> z(0, 1);
      for (int k = 0; k < 5; ++k) {
        const std::vector<double> x = {z(gen), z(gen)};
        const double mu = x[0], sigma = std::exp(x[1]);  // positive: exp
        double want = log_normal_pdf(mu, 1, 2) + std::log(1.5) - 1.5 * sigma;
        for (double y : ys) want += log_normal_pdf(y, mu, sigma);
        // Rounding only: a sum of a few terms of size ≤ 100.
        BOOST_TEST(ld.log_density(x, nullptr, false) == want, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(ld.log_density(x, nullptr, true) == want + x[1], boost::test_tools::tolerance(1e-12));
        check_gradient(ld, x, true);
        check_gradient(ld, x, false);

        auto values = ld.constrain(x);
        BOOST_TEST(values.at("mu").values[0] == mu);
        BOOST_TEST(values.at("sigma").values[0] == sigma, boost::test_tools::tolerance(1e-15));
        const std::vector<double> back = ld.unconstrain(values);
        BOOST_TEST_REQUIRE(back.size() == 2u);
        BOOST_TEST(back[0] == x[0]);
        BOOST_TEST(back[1] == x[1], boost::test_tools::tolerance(1e-13));  // log(exp(u)): rounding
        BOOST_TEST(ld.constrain(back).at("sigma").values[0] == sigma, boost::test_tools::tolerance(1e-13));
      }
      BOOST_CHECK_THROW(ld.log_density({0.0}), vireo::Error);
      BOOST_CHECK_THROW(ld.unconstrain({{"mu", {{}, {0.0}}}, {"sigma", {{}, {-1.0}}}}), vireo::Error);
      BOOST_CHECK_THROW(ld.unconstrain({{"mu", {{}, {0.0}}}}), vireo::Error);
    }
  }
}

BOOST_AUTO_TEST_CASE(eight_schools_gradient_and_round_trip) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  vireo::LogDensity ld(m, d);
  BOOST_TEST_REQUIRE(ld.dimension() == 10u);  // mu, tau, eta[8]
  BOOST_TEST(ld.sites()[2].name == "eta");
  BOOST_TEST((ld.sites()[2].shape == std::vector<std::int64_t>{8}));
  std::mt19937_64 gen(7);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(10);
  for (double& v : x) v = z(gen);
  // The formula: Normal(0, 5) on mu, HalfCauchy(5) on tau = e^u, Normal(0, 1)
  // on eta, y_j ~ Normal(mu + tau eta_j, sigma_j); Jacobian: u.
  const std::vector<double> y = {28, 8, -3, 7, -1, 1, 18, 12}, s = {15, 10, 16, 11, 9, 11, 10, 18};
  const double mu = x[0], tau = std::exp(x[1]);
  double want = log_normal_pdf(mu, 0, 5) + std::log(2 / (std::numbers::pi * 5 * (1 + tau * tau / 25)));
  for (int j = 0; j < 8; ++j) want += log_normal_pdf(x[2 + j], 0, 1) + log_normal_pdf(y[j], mu + tau * x[2 + j], s[j]);
  BOOST_TEST(ld.log_density(x, nullptr, true) == want + x[1], boost::test_tools::tolerance(1e-12));
  check_gradient(ld, x, true);
  const std::vector<double> back = ld.unconstrain(ld.constrain(x));
  for (std::size_t i = 0; i < x.size(); ++i) BOOST_TEST(back[i] == x[i], boost::test_tools::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(refuses_discrete_and_changing_site_sets) {
  vireo::Model coin = vireo::Model::from_string(R"(model {
  z ~ Bernoulli(probs = 0.3)
  x ~ Normal(z, 1)
}
)", "coin.vireo");
  vireo::Data none = vireo::Data::from_arrays(coin, {});
  try {
    vireo::LogDensity ld(coin, none);
    BOOST_FAIL("a discrete site was accepted");
  } catch (const vireo::Error& e) {
    BOOST_TEST(std::string(e.what()).find("site 'z' is discrete") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("coin.vireo:2:") != std::string::npos, e.what());
  }

  // Which branch runs depends on a: whichever the forward runs took, a point
  // with a on the other side meets a site the LogDensity was not made with.
  vireo::Model branchy = vireo::Model::from_string(R"(model {
  a ~ Normal(0, 1)
  if a > 0 { b ~ Normal(0, 1) } else { c ~ Normal(0, 1) }
}
)", "branchy.vireo");
  vireo::Data nothing = vireo::Data::from_arrays(branchy, {});
  int refused = 0;
  try {
    vireo::LogDensity ld(branchy, nothing);
    for (double a : {-1.0, 1.0}) {
      try {
        ld.log_density({a, 0.0});
      } catch (const vireo::Error& e) {
        BOOST_TEST(std::string(e.what()).find("site set changes") != std::string::npos, e.what());
        ++refused;
      }
    }
  } catch (const vireo::Error& e) {
    BOOST_TEST(std::string(e.what()).find("site set changes") != std::string::npos, e.what());
    ++refused;
  }
  BOOST_TEST(refused == 1);
}

// Gradient ascent on log p without the Jacobian, using only this API, finds
// the posterior mode of a conjugate normal mean: with prior Normal(1, 2) and
// known scale 1.5, the mode is (1/4 + Σy/2.25) / (1/4 + N/2.25). A step of
// half the inverse curvature contracts the error by 1/2 per step: 100 steps
// leave 2^-100 of it, below rounding, so the tolerance is rounding's.
BOOST_AUTO_TEST_CASE(gradient_ascent_finds_the_map) {
  vireo::Model m = vireo::Model::from_string(R"(data {
  N: int<lower=1>
  y: real[N]
}
model {
  mu ~ Normal(1, 2)
  plate obs(N) {
    observe y ~ Normal(mu, 1.5)
  }
}
)", "conjugate.vireo");
  vireo::Data d = normal_data(m);
  vireo::LogDensity ld(m, d);
  double sum = 0;
  for (double y : ys) sum += y;
  const double precision = 1 / 4.0 + 5 / 2.25;
  const double mode = (1 / 4.0 + sum / 2.25) / precision;
  std::vector<double> x = {-10.0}, g;
  for (int i = 0; i < 100; ++i) {
    ld.log_density(x, &g, false);
    x[0] += 0.5 / precision * g[0];
  }
  BOOST_TEST(x[0] == mode, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ld.constrain(x).at("mu").values[0] == mode, boost::test_tools::tolerance(1e-12));
}
