// The Real NVP flow guide (auto_realnvp) and its transforms: LOFT's inverse
// and log|det J| against finite differences (far beyond τ too), the soft
// clamp's gradient on both sides of 0, the affine coupling layer's log|det J|
// against a finite-difference Jacobian and its identity start; the
// Student-t base: its log-density against the reference table and the
// unbiasedness of its draws' gradient w.r.t. the degrees of freedom.
#include <boost/test/unit_test.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "runtime/guide/auto_realnvp.hpp"
#include "runtime/guide/flow.hpp"
#include "runtime/rng/samplers.hpp"
#include "support/gradcheck.hpp"
#include "vector_fit.hpp"

using namespace vireo;
namespace flow = vireo::guide::flow;

namespace {

// Evaluates f on a fresh tape at the vector x and returns the values.
template <class F>
Eigen::VectorXd eval(F f, const Eigen::VectorXd& x) {
  ad::Tape tape;
  ad::Tensor t(ad::Shape{x.size()});
  for (Eigen::Index i = 0; i < x.size(); ++i) t[i] = x[i];
  ad::Var y = f(tape, tape.constant(t));
  Eigen::VectorXd r(y.numel());
  for (Eigen::Index i = 0; i < r.size(); ++i) r[i] = y.data()[i];
  return r;
}

ad::Tensor random_tensor(const ad::Shape& s, std::mt19937_64& gen, double sd) {
  std::normal_distribution<double> n(0, sd);
  ad::Tensor t(s);
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = n(gen);
  return t;
}

const std::vector<double> loft_points = {-1e6, -1e3, -150, -100.5, -3.0, -0.2, 0.0, 0.7, 99.0, 101.0, 1e3, 1e6};

}  // namespace

BOOST_AUTO_TEST_CASE(loft_is_the_identity_inside_tau_and_inverts_beyond) {
  const Eigen::VectorXd z = Eigen::Map<const Eigen::VectorXd>(loft_points.data(), loft_points.size());
  const Eigen::VectorXd y = eval([](ad::Tape&, ad::Var v) { return flow::loft(v, 100.0); }, z);
  const Eigen::VectorXd back = eval([](ad::Tape&, ad::Var v) { return flow::loft_inverse(v, 100.0); }, y);
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    if (std::abs(z[i]) <= 100) BOOST_TEST(y[i] == z[i]);
    BOOST_TEST(back[i] == z[i], boost::test_tools::tolerance(1e-10));
    // The soft log: 1e6 lands near τ + log(1e6 − τ + 1).
    if (std::abs(z[i]) > 100)
      BOOST_TEST(std::abs(y[i]) == 100 + std::log(std::abs(z[i]) - 99), boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(loft_log_det_matches_finite_differences) {
  for (double tau : {1.0, 100.0}) {
    for (double z : loft_points) {
      // Central difference of y(z) with a step relative to |z|.
      const double h = 1e-5 * std::max(1.0, std::abs(z));
      auto y_at = [&](double v) {
        return eval([tau](ad::Tape&, ad::Var x) { return flow::loft(x, tau); }, Eigen::VectorXd::Constant(1, v))[0];
      };
      const double dydz = (y_at(z + h) - y_at(z - h)) / (2 * h);
      const double ld =
          eval([tau](ad::Tape&, ad::Var x) { return flow::loft_log_abs_det(x, tau); }, Eigen::VectorXd::Constant(1, z))[0];
      BOOST_TEST_CONTEXT("tau " << tau << ", z " << z) { BOOST_TEST(ld == std::log(std::abs(dydz)), boost::test_tools::tolerance(1e-6)); }
    }
  }
  // The tape's gradients of y and of its log-det agree with the oracle.
  ad::Tensor z(ad::Shape{static_cast<std::int64_t>(loft_points.size())});
  for (std::size_t i = 0; i < loft_points.size(); ++i) z[i] = loft_points[i] == 0.0 ? 0.3 : loft_points[i];
  for (double tau : {1.0, 100.0}) {
    auto r = testing::gradcheck([tau](ad::Tape&, const std::vector<ad::Var>& x) { return flow::loft(x[0], tau); }, {z});
    BOOST_TEST(r.ok, r.message);
    r = testing::gradcheck([tau](ad::Tape&, const std::vector<ad::Var>& x) { return flow::loft_log_abs_det(x[0], tau); }, {z});
    BOOST_TEST(r.ok, r.message);
    r = testing::gradcheck([tau](ad::Tape&, const std::vector<ad::Var>& x) { return flow::loft_inverse(x[0], tau); },
                           {ad::Tensor::vector({-tau - 5, -0.4 * tau, 0.1, 0.5 * tau, tau + 4, tau + 13})});
    BOOST_TEST(r.ok, r.message);
  }
}

BOOST_AUTO_TEST_CASE(soft_clamp_values_and_gradients_on_both_sides_of_zero) {
  const ad::Tensor s = ad::Tensor::vector({-50.0, -4.0, -0.7, -1e-3, 1e-3, 0.05, 0.3, 2.0, 50.0});
  const Eigen::VectorXd sv = Eigen::Map<const Eigen::VectorXd>(s.data(), s.numel());
  const Eigen::VectorXd c = eval([](ad::Tape&, ad::Var v) { return flow::soft_clamp(v); }, sv);
  for (Eigen::Index i = 0; i < sv.size(); ++i) {
    const double a = sv[i] > 0 ? 0.1 : 2.0;
    BOOST_TEST(c[i] == 2 * a / M_PI * std::atan(sv[i] / a), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(c[i] < 0.1);
    BOOST_TEST(c[i] > -2.0);
  }
  for (double ap : {0.1, 1.0})
    for (double an : {2.0, 0.5}) {
      auto r = testing::gradcheck(
          [ap, an](ad::Tape&, const std::vector<ad::Var>& x) { return flow::soft_clamp(x[0], ap, an); }, {s});
      BOOST_TEST(r.ok, r.message);
    }
  auto r = testing::gradcheck([](ad::Tape&, const std::vector<ad::Var>& x) { return flow::atan(x[0]); }, {s});
  BOOST_TEST(r.ok, r.message);
  // The hard clamp: Pyro's [−5, 3].
  const Eigen::VectorXd h = eval([](ad::Tape&, ad::Var v) { return flow::hard_clamp(v); }, sv);
  BOOST_TEST(h[0] == -5.0);
  BOOST_TEST(h[8] == 3.0);
  BOOST_TEST(h[3] == -1e-3);
}

namespace {

struct CouplingNets {
  ad::Tensor w1s, b1s, w2s, b2s, w1t, b1t, w2t, b2t, mask;
  CouplingNets(std::int64_t d, std::int64_t h, bool zero_last, unsigned seed) {
    std::mt19937_64 gen(seed);
    w1s = random_tensor(ad::Shape{h, d}, gen, 0.7);
    b1s = random_tensor(ad::Shape{h}, gen, 0.3);
    w2s = zero_last ? ad::Tensor(ad::Shape{d, h}, 0.0) : random_tensor(ad::Shape{d, h}, gen, 0.4);
    b2s = zero_last ? ad::Tensor(ad::Shape{d}, 0.0) : random_tensor(ad::Shape{d}, gen, 0.2);
    w1t = random_tensor(ad::Shape{h, d}, gen, 0.7);
    b1t = random_tensor(ad::Shape{h}, gen, 0.3);
    w2t = zero_last ? ad::Tensor(ad::Shape{d, h}, 0.0) : random_tensor(ad::Shape{d, h}, gen, 0.4);
    b2t = zero_last ? ad::Tensor(ad::Shape{d}, 0.0) : random_tensor(ad::Shape{d}, gen, 0.2);
    mask = ad::Tensor(ad::Shape{d}, 0.0);
    for (std::int64_t i = 0; i < d / 2; ++i) mask[i] = 1;
  }
  flow::CouplingResult forward(ad::Tape& tape, ad::Var x, flow::Activation act, const flow::ClampOptions& c) const {
    flow::Mlp s{tape.constant(w1s), tape.constant(b1s), tape.constant(w2s), tape.constant(b2s)};
    flow::Mlp t{tape.constant(w1t), tape.constant(b1t), tape.constant(w2t), tape.constant(b2t)};
    return flow::affine_coupling(x, tape.constant(mask), s, t, act, c);
  }
  ad::Var inverse(ad::Tape& tape, ad::Var y, flow::Activation act, const flow::ClampOptions& c) const {
    flow::Mlp s{tape.constant(w1s), tape.constant(b1s), tape.constant(w2s), tape.constant(b2s)};
    flow::Mlp t{tape.constant(w1t), tape.constant(b1t), tape.constant(w2t), tape.constant(b2t)};
    return flow::affine_coupling_inverse(y, tape.constant(mask), s, t, act, c);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(coupling_log_det_matches_a_finite_difference_jacobian) {
  const std::int64_t d = 7, h = 5;
  for (auto act : {flow::Activation::tanh, flow::Activation::relu})
    for (const char* kind : {"soft", "hard", "none"}) {
      flow::ClampOptions c;
      c.kind = kind;
      const CouplingNets nets(d, h, false, 3);
      std::mt19937_64 gen(11);
      std::normal_distribution<double> n(0, 1);
      Eigen::VectorXd x(d);
      for (auto& v : x) v = n(gen);
      auto fwd = [&](ad::Tape& tape, ad::Var v) { return nets.forward(tape, v, act, c).y; };
      Eigen::MatrixXd jac(d, d);
      const double step = 1e-6;
      for (std::int64_t j = 0; j < d; ++j) {
        Eigen::VectorXd xp = x, xm = x;
        xp[j] += step;
        xm[j] -= step;
        jac.col(j) = (eval(fwd, xp) - eval(fwd, xm)) / (2 * step);
      }
      const double ld = eval([&](ad::Tape& tape, ad::Var v) { return nets.forward(tape, v, act, c).log_det; }, x)[0];
      BOOST_TEST_CONTEXT(kind) {
        BOOST_TEST(std::abs(ld) > 1e-3);  // the weights do move the scale
        BOOST_TEST(ld == std::log(std::abs(jac.determinant())), boost::test_tools::tolerance(1e-6));
        // The inverse undoes the layer.
        const Eigen::VectorXd y = eval(fwd, x);
        const Eigen::VectorXd back = eval([&](ad::Tape& tape, ad::Var v) { return nets.inverse(tape, v, act, c); }, y);
        BOOST_TEST((back - x).cwiseAbs().maxCoeff() < 1e-12);
      }
      // Gradients through the layer (to the input) against the oracle.
      ad::Tensor xt(ad::Shape{d});
      for (std::int64_t i = 0; i < d; ++i) xt[i] = x[i];
      auto r = testing::gradcheck(
          [&](ad::Tape& tape, const std::vector<ad::Var>& v) {
            auto res = nets.forward(tape, v[0], act, c);
            return ad::sum(res.y) + res.log_det;
          },
          {xt});
      BOOST_TEST(r.ok, r.message);
    }
}

BOOST_AUTO_TEST_CASE(coupling_starts_as_the_identity) {
  const std::int64_t d = 6;
  const CouplingNets nets(d, 4, true, 5);
  Eigen::VectorXd x(d);
  x << 0.3, -2, 5, 0.01, -7, 1.5;
  ad::Tape tape;
  ad::Tensor xt(ad::Shape{d});
  for (std::int64_t i = 0; i < d; ++i) xt[i] = x[i];
  auto r = nets.forward(tape, tape.constant(xt), flow::Activation::relu, flow::ClampOptions{});
  for (std::int64_t i = 0; i < d; ++i) BOOST_TEST(r.y.data()[i] == x[i]);
  BOOST_TEST(r.log_det.item() == 0.0);
}

// ---- the guide ----

namespace {

// N = 30, D = 5, X and y drawn with a fixed seed: a correlated Gaussian
// posterior with known log Z.
test::ConjugateLinreg small_regression() {
  rng::Generator r(7);
  const int n = 30, d = 5;
  Eigen::MatrixXd x(n, d);
  Eigen::VectorXd beta(d), y(n);
  for (int j = 0; j < d; ++j) beta[j] = rng::standard_normal(r);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = rng::standard_normal(r) + (j > 0 ? 0.8 * x(i, j - 1) : 0.0);
  for (int i = 0; i < n; ++i) y[i] = x.row(i).dot(beta) + rng::standard_normal(r);
  return test::ConjugateLinreg(x, y);
}

// Puts an auto_realnvp guide with options `go` on `fit`, trained by
// Trace_ELBO under Adam(0.01).
void use_flow(test::VectorFit& fit, const guide::GuideOptions& go) {
  fit.guide = guide::make_guide(go, fit.graph);
  optim::OptimOptions oo;
  oo.lr = 0.01;
  fit.optimizer = optim::make_optimizer(oo);
  fit.elbo = std::make_unique<infer::TraceElbo>(1);
  fit.svi = std::make_unique<infer::Svi>(*fit.ctx, *fit.guide, *fit.optimizer, *fit.elbo);
}

}  // namespace

BOOST_AUTO_TEST_CASE(realnvp_starts_as_the_identity_flow) {
  const test::ConjugateLinreg truth = small_regression();
  test::VectorFit fit(test::linreg_model, truth.data(), 1);
  test::Schedule s;
  s.guide = "auto_realnvp";
  fit.setup(s);
  fit.guide_trace();
  // Every coupling layer's last layer is 0: the flow is N(loc, init_scale²).
  const Eigen::MatrixXd cov = fit.joint()->covariance(fit.store);
  BOOST_TEST(cov.rows() == 5);
  // 4000 draws: the sample variance's relative sd is √(2/4000) ≈ 2.2%.
  for (int i = 0; i < 5; ++i) BOOST_TEST(std::abs(cov(i, i) / 0.01 - 1) < 0.1);
  BOOST_REQUIRE(fit.store.find("auto_realnvp.layer3.shift.w2"));
  BOOST_TEST(!fit.store.find("auto_realnvp.layer4.shift.w2"));
}

BOOST_AUTO_TEST_CASE(realnvp_fits_a_small_correlated_posterior) {
  const test::ConjugateLinreg truth = small_regression();
  for (bool stl : {false, true}) {
    BOOST_TEST_CONTEXT("stl " << stl) {
      test::VectorFit fit(test::linreg_model, truth.data(), 1);
      test::Schedule s;
      s.guide = "auto_realnvp";
      s.lr = 0.01;
      s.lrd = 0.999;
      s.stl = stl;
      fit.setup(s);
      BOOST_TEST(fit.train(3000) == 0);
      auto [e, se] = fit.elbo_estimate(2000);
      BOOST_TEST_MESSAGE("auto_realnvp (stl " << stl << "): ELBO " << e << " ± " << se << ", log Z " << truth.log_z);
      BOOST_TEST(e - 3 * se <= truth.log_z);
      BOOST_TEST(truth.log_z - e < 0.5);
    }
  }
}

BOOST_AUTO_TEST_CASE(realnvp_options_hard_clamp_no_clamp_no_loft_and_refusals) {
  const test::ConjugateLinreg truth = small_regression();
  // Each variant trains without a non-finite step on this easy posterior.
  for (const char* clamp : {"hard", "none"})
    for (double tau : {0.0, 100.0}) {
      BOOST_TEST_CONTEXT(clamp << ", tau " << tau) {
        test::VectorFit fit(test::linreg_model, truth.data(), 2);
        guide::GuideOptions go;
        go.kind = "auto_realnvp";
        go.flow_clamp = clamp;
        go.loft_tau = tau;
        go.flow_layers = 2;
        go.flow_hidden = 8;
        use_flow(fit, go);
        BOOST_TEST(fit.train(300) == 0);
        BOOST_TEST(std::isfinite(fit.elbo_estimate(200).first));
      }
    }
  guide::GuideOptions bad;
  bad.kind = "auto_realnvp";
  bad.flow_clamp = "soft-ish";
  test::VectorFit fit(test::linreg_model, truth.data(), 1);
  BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
  bad.flow_clamp = "soft";
  bad.flow_hidden = 0;
  BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
  bad.flow_hidden = 8;
  bad.loft_tau = -1;
  BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
}

namespace {

// A flow with no coupling layer and no LOFT over `model`'s latent vector: u =
// loc + scale ⊙ ε with ε from the Student-t base; its parameters are set
// after the first run.
struct StudentTFlow {
  test::VectorFit fit;
  explicit StudentTFlow(const char* model) : fit(model, interp::DataSet{}, 3) {
    guide::GuideOptions go;
    go.kind = "auto_realnvp";
    go.flow_layers = 0;
    go.loft_tau = 0;
    go.flow_base = "student_t";
    fit.guide = guide::make_guide(go, fit.graph);
    fit.guide_trace();
  }
  void set(const char* what, double value) {
    params::Entry* e = fit.store.find(std::string("auto_realnvp.") + what);
    BOOST_REQUIRE(e);
    e->unconstrained.setConstant(value);
  }
  const guide::AutoRealNvp& flow() const { return dynamic_cast<const guide::AutoRealNvp&>(*fit.guide); }
};

double inverse_softplus(double y) { return std::log(std::expm1(y)); }

}  // namespace

// log q of the Student-t base through loc 1 and scale 2 is StudentT(df, 1,
// 2)'s log-density: the cases of ../shared/reference/distributions.json.
BOOST_AUTO_TEST_CASE(realnvp_student_t_base_log_density_matches_the_reference) {
  std::ifstream in(VIREO_SHARED_DIR "/reference/distributions.json");
  BOOST_REQUIRE(in);
  const nlohmann::json ref = nlohmann::json::parse(in);
  int cases = 0;
  for (const auto& c : ref.at("distributions")) {
    if (c.at("dist") != "StudentT") continue;
    ++cases;
    StudentTFlow f("model { x: real[4] ~ Normal(0, 1) }");
    f.set("loc", c.at("params").at("loc").get<double>());
    f.set("scale", inverse_softplus(c.at("params").at("scale").get<double>()));
    f.set("df", std::log(c.at("params").at("df").get<double>()));
    const auto& xs = c.at("x");
    const auto& lps = c.at("log_prob");
    // Each point alone (all four coordinates at x), then the four together.
    double total = 0;
    Eigen::VectorXd all(4);
    for (std::size_t k = 0; k < xs.size() && k < 4; ++k) {
      const double x = xs.at(k), lp = lps.at(k);
      BOOST_TEST_CONTEXT("x " << x) {
        BOOST_TEST(f.flow().log_q(f.fit.store, Eigen::VectorXd::Constant(4, x)) == 4 * lp,
                   boost::test_tools::tolerance(1e-12));
      }
      all[static_cast<Eigen::Index>(k)] = x;
      total += lp;
    }
    if (xs.size() >= 4) BOOST_TEST(f.flow().log_q(f.fit.store, all) == total, boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(cases > 0);
}

// The draw's pathwise derivative w.r.t. the degrees of freedom is unbiased:
// with loc 0, scale 1 and ν = exp(r) = 5, E[x²] = ν/(ν − 2) = 5/3, so
// ∂E[x²]/∂r = −2ν/(ν − 2)² = −10/9. The mean of ∂(x²)/∂r over 8 coordinates
// × 4000 draws must be within 4 of its standard errors of that (and
// E[x²] of 5/3).
BOOST_AUTO_TEST_CASE(realnvp_student_t_base_df_gradient_is_unbiased) {
  StudentTFlow f("model { x: real[8] ~ Normal(0, 1) }");
  f.set("loc", 0);
  f.set("scale", inverse_softplus(1));
  const double nu = 5;
  f.set("df", std::log(nu));
  std::vector<double> grads, squares;
  for (int i = 0; i < 4000; ++i) {
    const handlers::Trace t = f.fit.guide_trace();
    const ad::Var x = t.sites().front().msg.value.var;
    ad::Tape& tape = f.fit.ctx->tape();
    tape.backward(ad::sum(ad::square(x)));
    const ad::Tensor g = tape.grad(f.fit.ctx->param_leaves().at("auto_realnvp.df"));
    for (std::int64_t j = 0; j < x.numel(); ++j) {
      grads.push_back(g[j]);
      squares.push_back(x.data()[j] * x.data()[j]);
    }
  }
  auto mean_se = [](const std::vector<double>& v) {
    double m = 0, s2 = 0;
    for (double a : v) m += a / static_cast<double>(v.size());
    for (double a : v) s2 += (a - m) * (a - m) / static_cast<double>(v.size() - 1);
    return std::pair{m, std::sqrt(s2 / static_cast<double>(v.size()))};
  };
  const auto [g, g_se] = mean_se(grads);
  const auto [m2, m2_se] = mean_se(squares);
  BOOST_TEST_MESSAGE("dE[x²]/dr " << g << " ± " << g_se << " (exact " << -2 * nu / ((nu - 2) * (nu - 2)) << "), E[x²] "
                                  << m2 << " ± " << m2_se);
  BOOST_TEST(std::abs(g - (-2 * nu / ((nu - 2) * (nu - 2)))) < 4 * g_se);
  BOOST_TEST(std::abs(m2 - nu / (nu - 2)) < 4 * m2_se);
}

BOOST_AUTO_TEST_CASE(realnvp_student_t_base_trains_and_bad_options_are_refused) {
  const test::ConjugateLinreg truth = small_regression();
  test::VectorFit fit(test::linreg_model, truth.data(), 1);
  guide::GuideOptions go;
  go.kind = "auto_realnvp";
  go.flow_base = "student_t";
  go.flow_layers = 2;
  go.flow_hidden = 8;
  use_flow(fit, go);
  BOOST_TEST(fit.train(1000) == 0);
  // The posterior is Gaussian: the fit ends near log Z (the normal base's
  // fit of the same posterior ends within 0.5 nat with 3000 steps).
  const auto [e, se] = fit.elbo_estimate(1000);
  BOOST_TEST_MESSAGE("student_t base: ELBO " << e << " ± " << se << ", log Z " << truth.log_z);
  BOOST_TEST(e - 3 * se <= truth.log_z);
  BOOST_TEST(truth.log_z - e < 2.0);

  for (auto [pos, neg] : {std::pair{0.0, 2.0}, std::pair{0.1, -1.0}}) {
    guide::GuideOptions bad;
    bad.kind = "auto_realnvp";
    bad.flow_alpha_pos = pos;
    bad.flow_alpha_neg = neg;
    BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
  }
  guide::GuideOptions bad;
  bad.kind = "auto_realnvp";
  bad.flow_base = "cauchy";
  BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
  bad.flow_base = "normal";
  bad.flow_net_lr = -0.5;
  BOOST_CHECK_THROW(guide::make_guide(bad, fit.graph), std::invalid_argument);
  bad.flow_net_lr = 0.5;
  BOOST_CHECK_NO_THROW(guide::make_guide(bad, fit.graph));
}
