// The joint-vector guides (auto_diagonal_normal, auto_mvn, auto_lowrank_mvn):
// correlations they recover and mean-field guides cannot, constrained sites
// inside the vector, the exact log q of a draw, the refusals (sites that
// change from run to run, subsampled plates), and a small conjugate linear
// regression fitted to its exact evidence.
#include <boost/test/unit_test.hpp>

#include "runtime/rng/samplers.hpp"
#include "vector_fit.hpp"

using namespace vireo;
using test::Schedule;
using test::VectorFit;

namespace {

// x ~ N(0, 1), y | x ~ N(0.8 x, 0.6²), d | x, y ~ N(x − y, 0.5²), d = 1:
// a Gaussian posterior with correlation ≈ 0.92 between x and y.
const char* const correlated_model = R"(
data { d: real }
model {
  x ~ Normal(0, 1)
  y ~ Normal(0.8 * x, 0.6)
  observe d ~ Normal(x - y, 0.5)
}
)";

struct CorrelatedTruth {
  Eigen::Vector2d mean;
  Eigen::Matrix2d cov;
  double log_z;
  CorrelatedTruth() {
    Eigen::Matrix2d prior;
    prior << 1, 0.8, 0.8, 1;
    const Eigen::Vector2d a(1, -1);
    const double noise = 0.25, d = 1;
    Eigen::Matrix2d prec = prior.inverse() + a * a.transpose() / noise;
    cov = prec.inverse();
    mean = cov * a * d / noise;
    const double var_d = a.dot(prior * a) + noise;
    log_z = -0.5 * d * d / var_d - 0.5 * std::log(2 * M_PI * var_d);
  }
};

interp::DataSet correlated_data() { return test::dataset({{ad::Tensor(1.0), interp::Kind::Real}}); }

// Sample mean and covariance of sites x and y over n guide draws.
std::pair<Eigen::Vector2d, Eigen::Matrix2d> draw_moments(VectorFit& fit, int n) {
  Eigen::MatrixXd v(n, 2);
  for (int i = 0; i < n; ++i) {
    handlers::Trace t = fit.guide_trace();
    v(i, 0) = t.find("x")->msg.value.var.item();
    v(i, 1) = t.find("y")->msg.value.var.item();
  }
  Eigen::Vector2d m = v.colwise().mean();
  Eigen::MatrixXd c = v.rowwise() - m.transpose();
  return {m, c.transpose() * c / (n - 1)};
}

double correlation(const Eigen::Matrix2d& c) { return c(0, 1) / std::sqrt(c(0, 0) * c(1, 1)); }

Schedule quick(const std::string& guide) {
  Schedule s;
  s.guide = guide;
  s.lr = 0.05;
  s.lrd = 0.999;  // lr 0.05 → 0.0025 over 3000 steps
  s.particles = 1;
  s.stl = true;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mvn_recovers_the_correlation_mean_field_cannot) {
  const CorrelatedTruth truth;
  const double rho = correlation(truth.cov);
  BOOST_TEST_MESSAGE("exact posterior: mean " << truth.mean.transpose() << ", sd " << truth.cov.diagonal().cwiseSqrt().transpose()
                                              << ", correlation " << rho);
  for (const std::string kind : {"auto_mvn", "auto_lowrank_mvn", "auto_diagonal_normal", "auto_normal"}) {
    VectorFit fit(correlated_model, correlated_data(), 3);
    fit.setup(quick(kind));
    BOOST_TEST(fit.train(3000) == 0);
    // 4000 draws: the correlation's Monte Carlo error is (1 − ρ²)/√n ≈ 0.003,
    // a variance's about √(2/n) ≈ 2% relative.
    auto [m, c] = draw_moments(fit, 4000);
    const double r = correlation(c);
    BOOST_TEST_MESSAGE(kind << ": mean " << m.transpose() << ", sd " << c.diagonal().cwiseSqrt().transpose()
                            << ", correlation " << r);
    const bool full = kind == "auto_mvn" || kind == "auto_lowrank_mvn";
    if (full) {
      BOOST_TEST(std::abs(r - rho) < 0.02);
      for (int i = 0; i < 2; ++i) {
        BOOST_TEST(std::abs(m[i] - truth.mean[i]) < 0.1 * std::sqrt(truth.cov(i, i)));
        BOOST_TEST(std::abs(c(i, i) / truth.cov(i, i) - 1) < 0.1);
      }
      // The exact q of the guide's own parameters, too.
      auto* g = fit.joint();
      const Eigen::MatrixXd qc = g->covariance(fit.store);
      BOOST_TEST(std::abs(qc(0, 1) / std::sqrt(qc(0, 0) * qc(1, 1)) - rho) < 0.02);
      // Gaussian posterior and Gaussian family: the ELBO reaches log Z.
      auto [e, se] = fit.elbo_estimate(2000);
      BOOST_TEST_MESSAGE(kind << ": ELBO " << e << " ± " << se << " vs log Z " << truth.log_z);
      BOOST_TEST(std::abs(e - truth.log_z) < 0.05);
    } else {
      // Mean field: no correlation, and the marginal variances shrink to the
      // conditional ones, 1/Λ_ii (≈ 0.15 here against ≈ 0.94).
      BOOST_TEST(std::abs(r) < 0.05);
      const Eigen::Matrix2d prec = truth.cov.inverse();
      for (int i = 0; i < 2; ++i) BOOST_TEST(std::abs(c(i, i) * prec(i, i) - 1) < 0.15);
    }
  }
}

namespace {

const char* const constrained_model = R"(
data { N: int  y: real[N]  n: int  k: int }
model {
  s ~ HalfNormal(1)
  p ~ Beta(2, 3)
  m ~ Normal(0, 1)
  plate data(N) { observe y ~ Normal(m, s) }
  observe k ~ Binomial(n, p)
}
)";

interp::DataSet constrained_data() {
  return test::dataset({{ad::Tensor(6.0), interp::Kind::Int},
                        {ad::Tensor(ad::Shape{6}, {0.3, -0.2, 0.9, 0.4, 0.1, 0.6}), interp::Kind::Real},
                        {ad::Tensor(40.0), interp::Kind::Int},
                        {ad::Tensor(12.0), interp::Kind::Int}});
}

double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

}  // namespace

BOOST_AUTO_TEST_CASE(constrained_sites_inside_the_joint_vector) {
  for (const std::string kind : {"auto_mvn", "auto_lowrank_mvn", "auto_diagonal_normal"}) {
    BOOST_TEST_CONTEXT(kind) {
      VectorFit fit(constrained_model, constrained_data(), 5);
      Schedule s = quick(kind);
      fit.setup(s);
      BOOST_TEST(fit.train(2000) == 0);
      auto* g = fit.joint();
      BOOST_REQUIRE(g);
      // The layout: program order, one coordinate each.
      BOOST_REQUIRE_EQUAL(g->layout().size(), 3u);
      BOOST_TEST(g->layout()[0].name == "s");
      BOOST_TEST(g->layout()[1].name == "p");
      BOOST_TEST(g->layout()[2].name == "m");
      BOOST_TEST(g->latent_dim() == 3);

      // The guide trace's log q is log N(u; loc, Σ) − Σ log|det J| exactly,
      // u = (log s, logit p, m).
      const Eigen::VectorXd mu = g->mean(fit.store);
      const Eigen::MatrixXd cov = g->covariance(fit.store);
      for (int rep = 0; rep < 5; ++rep) {
        handlers::Trace t = fit.guide_trace();
        const double sv = t.find("s")->msg.value.var.item(), pv = t.find("p")->msg.value.var.item();
        Eigen::Vector3d u(std::log(sv), std::log(pv / (1 - pv)), t.find("m")->msg.value.var.item());
        Eigen::LLT<Eigen::MatrixXd> l(cov);
        const Eigen::VectorXd z = l.matrixL().solve(u - mu);
        const double log_n = -0.5 * z.squaredNorm() - l.matrixL().toDenseMatrix().diagonal().array().log().sum() -
                             1.5 * std::log(2 * M_PI);
        const double log_j = u[0] + log_sigmoid(u[1]) + log_sigmoid(-u[1]);
        double total = 0;
        for (const auto& site : t.sites()) total += ad::sum(site.log_prob).item();
        BOOST_TEST(total == log_n - log_j, boost::test_tools::tolerance(1e-9));
      }

      // Draws stay in the supports, and p's posterior Beta(14, 31) (mean
      // 0.311, sd 0.068) is matched: 2000 draws give a mean to ±0.0015.
      double p_mean = 0;
      const int n = 2000;
      for (int i = 0; i < n; ++i) {
        handlers::Trace t = fit.guide_trace();
        const double sv = t.find("s")->msg.value.var.item(), pv = t.find("p")->msg.value.var.item();
        BOOST_TEST((sv > 0 && std::isfinite(sv)));
        BOOST_TEST((pv > 0 && pv < 1));
        p_mean += pv / n;
      }
      BOOST_TEST_MESSAGE(kind << ": E[p] = " << p_mean << " (exact 14/45 = " << 14.0 / 45 << ")");
      BOOST_TEST(std::abs(p_mean - 14.0 / 45) < 0.01);
    }
  }
}

BOOST_AUTO_TEST_CASE(discrete_sites_keep_their_per_site_guides) {
  // LANGUAGE.md's geometric example: p is continuous, the flips (whose number
  // changes from run to run) are discrete — a joint guide over {p} is fine.
  const char* text = R"(
fn geometric(p, depth) {
  flip ~ Bernoulli(probs = p)
  if flip == 1 { return depth }
  return geometric(p, depth + 1)
}
data { k: int }
model {
  p ~ Beta(1, 1)
  let n = geometric(p, 0)
  observe k ~ Poisson(n + 0.5)
}
)";
  for (const std::string kind : {"auto_mvn", "auto_lowrank_mvn", "auto_diagonal_normal"}) {
    VectorFit fit(text, test::dataset({{ad::Tensor(3.0), interp::Kind::Int}}), 2);
    Schedule s = quick(kind);
    fit.setup(s);
    BOOST_CHECK_NO_THROW(fit.train(300));
    BOOST_TEST(fit.joint()->latent_dim() == 1);
    BOOST_TEST(fit.store.find("auto.logits.flip") != nullptr);
  }
}

namespace {

// The continuous set changes with a discrete draw: w exists only when z = 1.
const char* const changing_model = R"(
data { d: real }
model {
  z ~ Bernoulli(probs = 0.5)
  if z == 1 { w ~ Normal(0, 1) }
  v ~ Normal(0, 1)
  observe d ~ Normal(v, 1)
}
)";

// Runs up to `steps` steps; returns the error message, or "" when none came.
std::string first_error(VectorFit& fit, int steps) {
  try {
    fit.train(steps);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(refuses_a_continuous_set_that_changes) {
  for (const std::string kind : {"auto_mvn", "auto_lowrank_mvn", "auto_diagonal_normal"}) {
    VectorFit fit(changing_model, test::dataset({{ad::Tensor(0.5), interp::Kind::Real}}), 7);
    fit.setup(quick(kind));
    // z = 1 with probability 1/2 on each run: 100 runs change the set almost surely.
    const std::string msg = first_error(fit, 100);
    BOOST_TEST_MESSAGE(kind << ": " << msg);
    BOOST_TEST(msg.find("'w'") != std::string::npos);
    BOOST_TEST(msg.find("same set of continuous sites") != std::string::npos);
    BOOST_TEST(msg.find("auto_normal") != std::string::npos);
  }
  // The per-site guide handles it.
  VectorFit fit(changing_model, test::dataset({{ad::Tensor(0.5), interp::Kind::Real}}), 7);
  fit.setup(quick("auto_normal"));
  BOOST_TEST(first_error(fit, 100) == "");
}

BOOST_AUTO_TEST_CASE(refuses_a_shape_that_changes) {
  const char* text = R"(
data { d: real }
model {
  k ~ Categorical(probs = [0.5, 0.5])
  x: real[k + 1] ~ Normal(0, 1)
  observe d ~ Normal(sum(x), 1)
}
)";
  VectorFit fit(text, test::dataset({{ad::Tensor(0.5), interp::Kind::Real}}), 11);
  fit.setup(quick("auto_mvn"));
  const std::string msg = first_error(fit, 100);
  BOOST_TEST_MESSAGE(msg);
  BOOST_TEST(msg.find("site 'x' has shape") != std::string::npos);
  BOOST_TEST(msg.find("same set of continuous sites") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refuses_subsampled_plates) {
  const char* text = R"(
data { N: int  y: real[N] }
model {
  plate data(N, subsample = 2) as idx {
    z ~ Normal(0, 1)
    observe y[idx] ~ Normal(z, 1)
  }
}
)";
  VectorFit fit(text, test::dataset({{ad::Tensor(4.0), interp::Kind::Int},
                                     {ad::Tensor(ad::Shape{4}, {0.1, 0.2, 0.3, 0.4}), interp::Kind::Real}}));
  fit.setup(quick("auto_mvn"));
  const std::string msg = first_error(fit, 1);
  BOOST_TEST_MESSAGE(msg);
  BOOST_TEST(msg.find("site 'z' is in plate 'data', subsampled to 2 of 4") != std::string::npos);
  BOOST_TEST(msg.find("auto_normal") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lowrank_rank_option) {
  for (int rank : {0, 2}) {
    VectorFit fit(test::linreg_model, test::ConjugateLinreg(Eigen::MatrixXd::Identity(10, 10), Eigen::VectorXd::Ones(10)).data());
    guide::GuideOptions go;
    go.kind = "auto_lowrank_mvn";
    go.rank = rank;
    fit.guide = guide::make_guide(go, fit.graph);
    fit.guide_trace();
    // rank 0: round(√10) = 3, as Pyro chooses.
    const params::Entry* f = fit.store.find("auto_lowrank_mvn.cov_factor");
    BOOST_REQUIRE(f);
    BOOST_TEST(f->shape == (std::vector<std::int64_t>{10, rank == 0 ? 3 : rank}));
  }
}

BOOST_AUTO_TEST_CASE(small_conjugate_regression_reaches_log_z) {
  // N = 40, D = 8, X and y drawn with a fixed seed: the fast cousin of M4.
  rng::Generator r(42);
  const int n = 40, d = 8;
  Eigen::MatrixXd x(n, d);
  Eigen::VectorXd beta(d), y(n);
  for (int j = 0; j < d; ++j) beta[j] = rng::standard_normal(r);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = rng::standard_normal(r);
  for (int i = 0; i < n; ++i) y[i] = x.row(i).dot(beta) + rng::standard_normal(r);
  const test::ConjugateLinreg truth(x, y);
  VectorFit fit(test::linreg_model, truth.data(), 1);
  Schedule s;
  s.guide = "auto_mvn";
  s.lr = 0.05;
  s.lrd = 0.999;
  s.stl = true;
  fit.setup(s);
  BOOST_TEST(fit.train(3000) == 0);
  auto* g = fit.joint();
  const double kl = test::gaussian_kl(g->mean(fit.store), g->covariance(fit.store), truth.post_mean, truth.post_cov);
  auto [e, se] = fit.elbo_estimate(2000);
  BOOST_TEST_MESSAGE("KL(q‖p) " << kl << ", ELBO " << e << " ± " << se << ", log Z " << truth.log_z);
  BOOST_TEST(kl < 0.1);
  BOOST_TEST(std::abs(e - truth.log_z) < 0.2);
}
