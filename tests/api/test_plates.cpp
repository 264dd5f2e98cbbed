// Issue 13 at run time, through the embedding API: an observe inside nested
// plates, event-shaped observes, `@` with plate-indexed operands, fill per
// plate element — each against log-densities and values computed here by
// hand from the traced draws — and the nested-plate model's exact Gaussian
// posterior reached by auto_mvn.
#include <boost/test/unit_test.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <map>

#include "vireo/vireo.hpp"

namespace {

const double log_2pi = std::log(2 * M_PI);

const vireo::TraceEntry& entry(const std::vector<vireo::TraceEntry>& sites, const std::string& name) {
  for (const auto& s : sites)
    if (s.name == name) return s;
  BOOST_FAIL("no site " << name);
  return sites.front();
}

double normal_lp(double x, double mu, double sd) {
  double z = (x - mu) / sd;
  return -0.5 * z * z - std::log(sd) - 0.5 * log_2pi;
}

double bernoulli_logit_lp(double x, double logit) {
  return x * logit - std::log1p(std::exp(logit));
}

const char* nested_model = R"(
data { J: int<lower=1>  M: int<lower=1>  y: real[J, M] }
model {
  mu ~ Normal(0, 10)
  plate schools(J) {
    a ~ Normal(mu, 2)
    plate pupils(M) {
      deterministic b = a + zeros(M)
      observe y ~ Normal(a, 1)
    }
  }
}
)";

const int J = 3, M = 4;
const std::vector<double> ys = {1.0, 2.0, 0.5, 1.5, -1.0, 0.0, -0.5, -2.0, 3.0, 2.5, 4.0, 3.5};

std::map<std::string, vireo::Array> nested_data() {
  return {{"J", {{}, {J}}}, {"M", {{}, {M}}}, {"y", {{J, M}, ys}}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(observe_inside_nested_plates) {
  vireo::Model m = vireo::Model::from_string(nested_model, "nested.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, nested_data());
  vireo::Fit fit(m, d, {.seed = 3});
  vireo::Execution ex = fit.trace();
  const auto& a = entry(ex.model, "a");
  BOOST_TEST(a.shape == (std::vector<std::int64_t>{J}), boost::test_tools::per_element());
  // b = a + zeros(M): a lines up with the schools plate, broadcast over pupils.
  const auto& b = entry(ex.model, "b");
  BOOST_TEST(b.shape == (std::vector<std::int64_t>{J, M}), boost::test_tools::per_element());
  const auto& y = entry(ex.model, "y");
  double lp = 0;
  for (int j = 0; j < J; ++j)
    for (int k = 0; k < M; ++k) {
      BOOST_TEST(b.value[j * M + k] == a.value[j]);
      lp += normal_lp(ys[j * M + k], a.value[j], 1);
    }
  BOOST_TEST(y.log_density == lp, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(event_observe_and_matmul_in_a_plate) {
  // Per element: h [H]; h @ w2 + b2 is [P]; W @ h is [H]; x[idx] is one
  // P-dimensional observation per element (with and without the written type).
  const char* text = R"(
data { N: int  P: int  H: int  x: int<lower=0, upper=1>[N, P]  x2: int<lower=0, upper=1>[N, P] }
model {
  param w2: real[H, P] = [[0.5, -1, 0.25], [2, 0.1, -0.3]]
  param b2: real[P] = [0.2, -0.4, 0.6]
  param W: real[H, H] = [[1, 2], [-1, 0.5]]
  plate data(N, subsample = 3) as idx {
    h: real[H] ~ Normal(0, 1)
    deterministic g = W @ h
    deterministic l = h @ w2 + b2
    deterministic r = fill(h[0], 5)
    observe x[idx] ~ Bernoulli(logits = h @ w2 + b2)
  }
  plate again(N, subsample = 3) as jdx {
    observe x2[jdx]: int[P] ~ Bernoulli(logits = b2)
  }
}
)";
  vireo::Model m = vireo::Model::from_string(text, "event.vireo");
  const int N = 5, P = 3, H = 2;
  std::vector<double> xs = {0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1};
  vireo::Data d = vireo::Data::from_arrays(m, {{"N", {{}, {N}}}, {"P", {{}, {P}}}, {"H", {{}, {H}}}, {"x", {{N, P}, xs}}, {"x2", {{N, P}, xs}}});
  vireo::Fit fit(m, d, {.seed = 5});
  vireo::Execution ex = fit.trace();
  double w2[2][3] = {{0.5, -1, 0.25}, {2, 0.1, -0.3}}, b2[3] = {0.2, -0.4, 0.6}, W[2][2] = {{1, 2}, {-1, 0.5}};
  const auto& h = entry(ex.model, "h");
  const auto& g = entry(ex.model, "g");
  const auto& l = entry(ex.model, "l");
  const auto& r = entry(ex.model, "r");
  const int B = 3;
  BOOST_TEST(h.shape == (std::vector<std::int64_t>{B, H}), boost::test_tools::per_element());
  BOOST_TEST(g.shape == (std::vector<std::int64_t>{B, H}), boost::test_tools::per_element());
  BOOST_TEST(l.shape == (std::vector<std::int64_t>{B, P}), boost::test_tools::per_element());
  BOOST_TEST(r.shape == (std::vector<std::int64_t>{B, 5}), boost::test_tools::per_element());
  for (int n = 0; n < B; ++n) {
    for (int i = 0; i < H; ++i)
      BOOST_TEST(g.value[n * H + i] == W[i][0] * h.value[n * H] + W[i][1] * h.value[n * H + 1],
                 boost::test_tools::tolerance(1e-12));
    for (int p = 0; p < P; ++p)
      BOOST_TEST(l.value[n * P + p] == h.value[n * H] * w2[0][p] + h.value[n * H + 1] * w2[1][p] + b2[p],
                 boost::test_tools::tolerance(1e-12));
    for (int k = 0; k < 5; ++k) BOOST_TEST(r.value[n * 5 + k] == h.value[n * H]);
  }
  // The observed rows are x[idx]: the log density sums the event [P] and is
  // scaled by N / B for the subsample.
  for (const char* site : {"x", "x2"}) {
    bool typed = std::string(site) == "x2";
    const auto* obs = &entry(ex.model, site);
    BOOST_TEST_CONTEXT(site) {
      BOOST_TEST(obs->shape == (std::vector<std::int64_t>{B, P}), boost::test_tools::per_element());
      double lp = 0;
      for (int n = 0; n < B; ++n)
        for (int p = 0; p < P; ++p) {
          double logit = typed ? b2[p] : l.value[n * P + p];
          lp += bernoulli_logit_lp(obs->value[n * P + p], logit);
        }
      BOOST_TEST(obs->log_density == lp * N / B, boost::test_tools::tolerance(1e-9));
    }
  }
}

BOOST_AUTO_TEST_CASE(nested_plates_reach_the_exact_posterior_with_auto_mvn) {
  // Exact posterior by Gaussian conjugacy: θ = (mu, a_1..a_J) has prior
  // N(0, Σ0) with Σ0 = [[100, 100·1ᵀ], [100·1, 100·11ᵀ + 4I]], and
  // y_jk = a_j + ε, ε ~ N(0, 1): the precision adds M on a_j's diagonal and
  // the information vector adds Σ_k y_jk.
  const int D = J + 1;
  Eigen::MatrixXd S0 = Eigen::MatrixXd::Constant(D, D, 100.0);
  for (int j = 1; j < D; ++j) S0(j, j) += 4.0;
  Eigen::MatrixXd prec = S0.inverse();
  Eigen::VectorXd info = Eigen::VectorXd::Zero(D);
  for (int j = 0; j < J; ++j) {
    prec(j + 1, j + 1) += M;
    for (int k = 0; k < M; ++k) info(j + 1) += ys[j * M + k];
  }
  Eigen::MatrixXd cov = prec.inverse();
  Eigen::VectorXd mean = cov * info;

  vireo::Model m = vireo::Model::from_string(nested_model, "nested.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, nested_data());
  vireo::Fit fit(m, d, {.guide = vireo::Guide::AutoMvn, .seed = 11, .init_scale = 1, .estimator = vireo::Estimator::Stl, .average_last = 0.25});
  fit.run(6000);
  // 20000 posterior draws: the Monte Carlo error of a mean is sd/√20000 ≈
  // 0.007 sd and of an sd about 0.5%, far inside the tolerances (0.1 sd for
  // means, 10% for sds) that the fit's own error must meet.
  vireo::Summary s = fit.summarize(20000);
  auto site = [&](const std::string& name) -> const vireo::SiteSummary& {
    for (const auto& x : s.sites)
      if (x.name == name) return x;
    BOOST_FAIL("no summary for " << name);
    return s.sites.front();
  };
  const auto& mu = site("mu");
  const auto& a = site("a");
  BOOST_TEST(std::abs(mu.mean[0] - mean(0)) < 0.1 * std::sqrt(cov(0, 0)), mu.mean[0] << " vs " << mean(0));
  BOOST_TEST(std::abs(mu.sd[0] / std::sqrt(cov(0, 0)) - 1) < 0.1, mu.sd[0] << " vs " << std::sqrt(cov(0, 0)));
  for (int j = 0; j < J; ++j) {
    double sd = std::sqrt(cov(j + 1, j + 1));
    BOOST_TEST(std::abs(a.mean[j] - mean(j + 1)) < 0.1 * sd, "a" << j << ": " << a.mean[j] << " vs " << mean(j + 1));
    BOOST_TEST(std::abs(a.sd[j] / sd - 1) < 0.1, "a" << j << ": " << a.sd[j] << " vs " << sd);
  }
}
