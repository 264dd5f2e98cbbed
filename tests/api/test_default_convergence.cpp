// Issue 14, item 1, for the joint Gaussians: a fit given no option but
// `auto_mvn` converges, on a small model that starts far from its posterior
// (the nested-plate model, default 2000 steps) and on M4 (d = 100, 5000
// steps). Both are conjugate, so the exact posterior and log Z are known and
// lie in the guide's family; each fit is judged by its final parameters.
// Before the plateau:100 default (inv_sqrt:100 from the first step) the
// nested fit ended with mu at 0.32 against the exact 1.49 (2.2 posterior sd
// off on the worst of the seeds below); a constant rate reaches it but leaves
// M4 9–26 nats below log Z.
#include <boost/test/unit_test.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "vireo/vireo.hpp"

namespace {

double softplus(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }

}  // namespace

// mu ~ Normal(0, 10); a_j ~ Normal(mu, 2), j = 1..3; y_jk ~ Normal(a_j, 1),
// k = 1, 2. θ = (mu, a) has prior N(0, Σ0), Σ0 = [[100, 100·1ᵀ], [100·1,
// 100·11ᵀ + 4I]]; the likelihood adds M = 2 to a_j's precision and Σ_k y_jk
// to its information: exact mean (1.494, 1.499, 0.433, 2.610), sds (1.216,
// 0.680, 0.680, 0.680). The guide's mean and covariance are read from its
// final parameters (loc; L = diag(softplus(scale)) · U), so no Monte Carlo
// error enters the comparison: the tolerances are the issue's, 0.1 posterior
// sd for a mean and 10% for an sd, on every seed 0–19. Measured: at most
// 0.015 sd and 0.3%.
BOOST_AUTO_TEST_CASE(auto_mvn_with_no_options_reaches_the_nested_posterior) {
  const int J = 3, M = 2, D = J + 1;
  const std::vector<double> ys = {1, 2, 0.5, 0.1, 3, 2.5};
  Eigen::MatrixXd s0 = Eigen::MatrixXd::Constant(D, D, 100.0);
  for (int j = 1; j < D; ++j) s0(j, j) += 4.0;
  Eigen::MatrixXd prec = s0.inverse();
  Eigen::VectorXd info = Eigen::VectorXd::Zero(D);
  for (int j = 0; j < J; ++j) {
    prec(j + 1, j + 1) += M;
    for (int k = 0; k < M; ++k) info(j + 1) += ys[static_cast<std::size_t>(j * M + k)];
  }
  const Eigen::MatrixXd cov = prec.inverse();
  const Eigen::VectorXd mean = cov * info;

  const vireo::Model model = vireo::Model::from_string(R"(data { J: int<lower=1>  M: int<lower=1>  y: real[J, M] }
model {
  mu ~ Normal(0, 10)
  plate schools(J) {
    a ~ Normal(mu, 2)
    plate pupils(M) { observe y ~ Normal(a, 1) }
  }
})",
                                                       "nested.vireo");
  const vireo::Data data = vireo::Data::from_arrays(model, {{"J", {{}, {J}}}, {"M", {{}, {M}}}, {"y", {{J, M}, ys}}});
  double worst_mean = 0, worst_sd = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    vireo::FitOptions o;
    o.guide = vireo::Guide::AutoMvn;
    o.seed = seed;
    vireo::Fit fit(model, data, o);
    fit.run(2000);  // `vireo run`'s default
    const std::map<std::string, vireo::Array> p = fit.parameters();
    const std::vector<double>& loc = p.at("auto_mvn.loc").values;
    const std::vector<double>& scale = p.at("auto_mvn.scale").values;
    const std::vector<double>& tril = p.at("auto_mvn.scale_tril").values;
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(D, D);
    for (int i = 0; i < D; ++i) {
      l(i, i) = softplus(scale[static_cast<std::size_t>(i)]);
      for (int j = 0; j < i; ++j) l(i, j) = l(i, i) * tril[static_cast<std::size_t>(i * D + j)];
    }
    const Eigen::MatrixXd q_cov = l * l.transpose();
    for (int i = 0; i < D; ++i) {
      const double sd = std::sqrt(cov(i, i));
      const double mean_error = std::abs(loc[static_cast<std::size_t>(i)] - mean(i)) / sd;
      const double sd_error = std::abs(std::sqrt(q_cov(i, i)) / sd - 1);
      BOOST_TEST(mean_error < 0.1, "seed " << seed << ", coordinate " << i << ": mean " << loc[static_cast<std::size_t>(i)]
                                           << " against " << mean(i));
      BOOST_TEST(sd_error < 0.1, "seed " << seed << ", coordinate " << i << ": sd " << std::sqrt(q_cov(i, i))
                                         << " against " << sd);
      worst_mean = std::max(worst_mean, mean_error);
      worst_sd = std::max(worst_sd, sd_error);
    }
  }
  BOOST_TEST_MESSAGE("nested, auto_mvn defaults, seeds 0-19: worst mean error " << worst_mean
                                                                                << " posterior sd, worst sd error " << worst_sd);
}

// M4 (d = 100, N = 200, /work/shared/bench): auto_mvn with no option ends
// within 0.5 nat of the exact log Z after 5000 steps. The ELBO is estimated
// at the final parameters over 4000 draws; at the exact posterior log p −
// log q is constant, so near it the estimate's own error is far below 0.1
// nat. Measured on seeds 0–9: at most 0.004 nat below log Z (inv_sqrt:100
// from the start: 0.001; a constant rate: 9–26; lr 0.03 with inv_sqrt:100: 3–37).
BOOST_AUTO_TEST_CASE(auto_mvn_with_no_options_reaches_log_z_on_m4) {
  std::ifstream truth(VIREO_SHARED_DIR "/bench/data/conjugate_linreg_d100_truth.json");
  const double log_z = nlohmann::json::parse(truth).at("log_marginal_likelihood").get<double>();
  const vireo::Model model = vireo::Model::from_string(R"(data { N: int D: int X: real[N, D] y: real[N] }
model {
  beta: real[D] ~ Normal(0, 1)
  plate data(N) { observe y ~ Normal(X @ beta, 1) }
})",
                                                       "m4.vireo");
  const vireo::Data data = vireo::Data::from_json_file(model, VIREO_SHARED_DIR "/bench/data/conjugate_linreg_d100.json");
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    vireo::FitOptions o;
    o.guide = vireo::Guide::AutoMvn;
    o.seed = seed;
    vireo::Fit fit(model, data, o);
    fit.run(5000);
    const double gap = log_z - fit.diagnose(4000).elbo;
    BOOST_TEST_MESSAGE("M4, auto_mvn defaults, seed " << seed << ": " << gap << " nats below log Z; the decay started at step "
                                                      << *fit.lr_decay_start());
    BOOST_TEST(gap < 0.5, "seed " << seed << ": " << gap << " nats below log Z");
    BOOST_TEST(gap > -0.1, "seed " << seed << ": an ELBO above log Z would be a bug");
  }
}
