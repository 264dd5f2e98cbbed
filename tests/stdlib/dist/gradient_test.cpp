// gradient_test.cpp — finite-difference checks (tests/support/gradcheck.hpp,
// the one oracle) of every family's log_prob w.r.t. its value (continuous
// families) and each parameter, and of rsample's pathwise derivative at a
// fixed seed. Gamma-based draws (Gamma, InverseGamma, Beta, Dirichlet,
// StudentT) are made by inversion of a uniform, so a fixed seed holds each
// draw's CDF value fixed: the difference quotient is then the implicit
// reparameterisation gradient itself.
#include <boost/test/unit_test.hpp>

#include "support/gradcheck.hpp"
#include "dist_test_util.hpp"
#include "stdlib/dist/ops.hpp"
#include "stdlib/math/special.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

using namespace vireo;
using namespace vireo::dist;
using namespace vireo::dist::testing;

namespace {

struct GradCase {
  std::string dist;
  NamedTensors params;        // each becomes a leaf unless listed in `constant`
  ad::Tensor value;           // where log_prob is evaluated
  bool value_is_continuous;   // differentiate w.r.t. the value too
  std::vector<std::string> constant = {};  // parameters held fixed (integers: total_count)
  // Matrix parameters passed as (A + Aᵀ)/2 of the leaf A: the family checks
  // symmetry, which a one-entry finite-difference step would break.
  std::vector<std::string> symmetrised = {};
  // Matrix parameters passed as tril(A): the family checks that the upper
  // triangle is zero, which a finite-difference step there would break.
  std::vector<std::string> lower_triangular = {};
  // The value is passed as x/Σx: a step in one coordinate would leave the
  // simplex, where log_prob is −∞.
  bool value_normalised = false;
};

ad::Var tril(ad::Var a) {
  const std::int64_t d = a.shape()[0];
  ad::Tensor mask(ad::Shape{d, d});
  for (std::int64_t r = 0; r < d; ++r)
    for (std::int64_t c = 0; c <= r; ++c) mask[r * d + c] = 1.0;
  return a * a.tape()->constant(mask);
}

const std::vector<GradCase> log_prob_cases = {
    {"Normal", {{"loc", 0.3}, {"scale", 1.7}}, vec({-2.0, 0.1, 4.0}), true},
    {"Normal", {{"loc", vec({0.0, 1.0})}, {"scale", vec({0.5, 2.0})}}, vec({0.2, -1.0}), true},
    {"HalfNormal", {{"scale", 1.3}}, vec({0.1, 1.0, 3.0}), true},
    {"LogNormal", {{"loc", 0.2}, {"scale", 0.7}}, vec({0.1, 1.0, 3.5}), true},
    {"Cauchy", {{"loc", -1.0}, {"scale", 0.5}}, vec({-3.0, -1.0, 2.0}), true},
    {"HalfCauchy", {{"scale", 2.0}}, vec({0.1, 1.0, 7.0}), true},
    {"StudentT", {{"df", 3.5}, {"loc", 1.0}, {"scale", 2.0}}, vec({-5.0, 1.0, 4.0}), true},
    {"Laplace", {{"loc", 0.5}, {"scale", 1.5}}, vec({-3.0, 0.2, 2.0}), true},
    {"Exponential", {{"rate", 2.0}}, vec({0.01, 0.5, 3.0}), true},
    {"Gamma", {{"concentration", 2.5}, {"rate", 1.5}}, vec({0.05, 1.0, 4.0}), true},
    {"Gamma", {{"concentration", 0.3}, {"rate", 2.0}}, vec({1e-3, 0.1, 2.0}), true},
    {"InverseGamma", {{"concentration", 3.0}, {"rate", 2.0}}, vec({0.2, 1.0, 5.0}), true},
    {"Beta", {{"concentration1", 2.0}, {"concentration0", 5.0}}, vec({0.01, 0.3, 0.9}), true},
    {"Beta", {{"concentration1", 0.5}, {"concentration0", 0.5}}, vec({0.01, 0.5, 0.99}), true},
    {"Uniform", {{"low", -1.0}, {"high", 3.0}}, vec({-0.5, 0.0, 2.9}), true},
    {"Bernoulli", {{"probs", 0.3}}, vec({0.0, 1.0}), false},
    {"Bernoulli", {{"logits", -1.2}}, vec({0.0, 1.0}), false},
    {"Binomial", {{"total_count", 10.0}, {"probs", 0.35}}, vec({0.0, 3.0, 10.0}), false, {"total_count"}},
    {"Binomial", {{"total_count", 10.0}, {"logits", 0.4}}, vec({0.0, 3.0, 10.0}), false, {"total_count"}},
    {"Categorical", {{"probs", vec({0.2, 0.5, 0.3})}}, vec({0.0, 1.0, 2.0}), false},
    {"Categorical", {{"logits", vec({0.1, -2.0, 1.5})}}, vec({0.0, 1.0, 2.0}), false},
    {"Poisson", {{"rate", 3.5}}, vec({0.0, 2.0, 7.0}), false},
    {"Geometric", {{"probs", 0.25}}, vec({0.0, 1.0, 5.0}), false},
    {"NegativeBinomial", {{"total_count", 4.0}, {"probs", 0.3}}, vec({0.0, 3.0, 12.0}), false},
    {"MultivariateNormal",
     {{"loc", vec({1.0, 0.0, -1.0})}, {"covariance_matrix", mat({{2.0, 0.3, 0.0}, {0.3, 1.0, -0.4}, {0.0, -0.4, 1.5}})}},
     mat({{0.0, 0.0, 0.0}, {3.0, -2.0, 1.0}}), true, {}, {"covariance_matrix"}},
    {"MultivariateNormal",
     {{"loc", vec({1.0, 0.0})}, {"scale_tril", mat({{1.5, 0.0}, {-0.4, 0.8}})}}, mat({{0.0, 0.5}, {3.0, -2.0}}), true, {}, {},
     {"scale_tril"}},
    {"Dirichlet", {{"concentration", vec({1.5, 2.0, 0.7})}}, vec({0.2, 0.5, 0.3}), true, {}, {}, {}, true},
};

bool contains(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& k : names)
    if (k == name) return true;
  return false;
}
bool is_constant(const GradCase& c, const std::string& name) { return contains(c.constant, name); }

// Builds the case from gradcheck's leaves (the parameters that vary, then the
// value if continuous) and constants for the rest.
DistributionPtr build(const GradCase& c, ad::Tape& tape, const std::vector<ad::Var>& leaves, std::size_t& used) {
  Params p;
  used = 0;
  for (const auto& [k, v] : c.params) {
    ad::Var x = is_constant(c, k) ? tape.constant(v) : leaves[used++];
    if (contains(c.symmetrised, k)) x = 0.5 * (x + ad::transpose(x));
    if (contains(c.lower_triangular, k)) x = tril(x);
    p.emplace(k, x);
  }
  return make_distribution(c.dist, tape, p);
}

std::vector<ad::Tensor> inputs_of(const GradCase& c, bool with_value) {
  std::vector<ad::Tensor> in;
  for (const auto& [k, v] : c.params)
    if (!is_constant(c, k)) in.push_back(v);
  if (with_value) in.push_back(c.value);
  return in;
}

std::string describe(const GradCase& c) {
  std::string s = c.dist + "(";
  for (const auto& [k, v] : c.params) s += k + " ";
  return s + ")";
}

}  // namespace

BOOST_AUTO_TEST_CASE(log_prob_gradients) {
  for (const GradCase& c : log_prob_cases) {
    BOOST_TEST_CONTEXT(describe(c)) {
      const auto r = vireo::testing::gradcheck(
          [&](ad::Tape& tape, const std::vector<ad::Var>& leaves) {
            std::size_t used = 0;
            const DistributionPtr d = build(c, tape, leaves, used);
            ad::Var x = c.value_is_continuous ? leaves[used] : tape.constant(c.value);
            if (c.value_normalised) x = x / ad::sum(x);
            return d->log_prob(x);
          },
          inputs_of(c, c.value_is_continuous));
      BOOST_TEST(r.ok, r.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(rsample_pathwise_gradients) {
  int checked = 0;
  for (const GradCase& c : log_prob_cases) {
    {
      ad::Tape probe;
      Params p;
      for (const auto& [k, v] : c.params) p.emplace(k, probe.leaf(v));
      if (!make_distribution(c.dist, probe, p)->has_rsample()) continue;
    }
    BOOST_TEST_CONTEXT(describe(c) << " rsample") {
      const auto r = vireo::testing::gradcheck(
          [&](ad::Tape& tape, const std::vector<ad::Var>& leaves) {
            std::size_t used = 0;
            rng::Generator g(1234);  // the same noise (and CDF values) at every evaluation
            return build(c, tape, leaves, used)->rsample(g, ad::Shape{4});
          },
          inputs_of(c, false));
      BOOST_TEST(r.ok, r.message);
    }
    ++checked;
  }
  BOOST_TEST(checked == 18);  // every reparameterisable case of the table
}

// The implicit gamma gradient against the derivative of P⁻¹(α, u) at fixed u,
// over a wide range of shapes and CDF values.
BOOST_AUTO_TEST_CASE(implicit_gamma_holds_cdf_fixed) {
  for (double alpha : {0.05, 0.3, 1.0, 2.5, 30.0, 500.0}) {
    for (double u : {1e-6, 0.1, 0.5, 0.9, 0.999999}) {
      BOOST_TEST_CONTEXT("alpha " << alpha << ", u " << u) {
        const auto r = vireo::testing::gradcheck(
            [u](ad::Tape&, const std::vector<ad::Var>& leaves) {
              const double a = leaves[0].item();
              return implicit_gamma(leaves[0], ad::Tensor(math::gamma_p_inv(a, u)));
            },
            {ad::Tensor(alpha)}, {1e-6, 1e-5, 1e-12});
        BOOST_TEST(r.ok, r.message);
      }
    }
  }
}

// Bernoulli(logits).log_prob(x) with x and the logits of one shape (an
// observed plate) is one tape node, not x·l, softplus(l) and their
// difference: the same numbers and gradients, bit for bit, as that
// composite, on the scalar path (5 elements) and the vectorised one (100
// and 1700, which the node computes in strips of 512; even counts, so that
// the node's value lies as the composite's softplus did, and Eigen's
// kernels split it alike), the logits' gradient and a value's (a leaf here)
// both; and a finite-difference check of the logits' gradient. The last
// case's logits are all ones at which Eigen's packet exp and log and the
// scalar std::exp and std::log round x·l − softplus(l) differently: a strip
// that started off a packet boundary would compute some element on the
// other path than the composite does, and show.
BOOST_AUTO_TEST_CASE(bernoulli_logits_one_node) {
  auto value = [](double l, double x, bool packet) {
    // The node's (and elementwise.cpp's) expression, on one path or the other.
    if (!packet) {
      const double e = std::exp(-std::abs(l));
      return x * l - (std::max(l, 0.0) + (std::log(1.0 + e) - (((1.0 + e) - 1.0) - e) / (1.0 + e)));
    }
    const Eigen::Array2d L = Eigen::Array2d::Constant(l), X = Eigen::Array2d::Constant(x);
    const Eigen::Array2d e = (-L.abs()).exp();
    const Eigen::Array2d out = X * L - (L.max(0.0) + ((1.0 + e).log() - (((1.0 + e) - 1.0) - e) / (1.0 + e)));
    return out[0];
  };
  std::vector<double> apart;  // logits at which the two paths part, for x = 0 and x = 1
  for (int k = 0; k < 20000 && apart.size() < 64; ++k) {
    const double l = -9.0 + 18.0 * k / 20000.0 + 1e-7;
    if (value(l, 0, false) != value(l, 0, true) && value(l, 1, false) != value(l, 1, true)) apart.push_back(l);
  }
  BOOST_TEST_REQUIRE(apart.size() >= 16u);
  for (const auto& [n, parted] : {std::pair{std::int64_t{5}, false}, std::pair{std::int64_t{100}, false},
                                   std::pair{std::int64_t{1700}, false}, std::pair{std::int64_t{1700}, true}}) {
    BOOST_TEST_CONTEXT("n = " << n << (parted ? ", logits where the paths part" : "")) {
      ad::Tensor l(ad::Shape{n}), x(ad::Shape{n});
      for (std::int64_t i = 0; i < n; ++i) {
        l[i] = i % 7 == 0 ? (i % 2 ? 40.0 : -40.0) : 3.0 * std::sin(0.7 * static_cast<double>(i));
        if (parted) l[i] = apart[static_cast<std::size_t>(i) % apart.size()];
        x[i] = i % 3 == 0 ? 1.0 : 0.0;
      }
      ad::Tape fused, plain;
      const ad::Var lf = fused.leaf(l), xf = fused.leaf(x);
      const std::size_t before = fused.num_nodes();
      const ad::Var lpf = make_distribution("Bernoulli", fused, {{"logits", lf}})->log_prob(xf);
      BOOST_TEST(fused.num_nodes() - before == 1u);
      const ad::Var lc = plain.leaf(l), xc = plain.leaf(x);
      const ad::Var lpc = xc * lc - ad::softplus(lc);
      fused.backward(ad::sum(lpf * 1.5));
      plain.backward(ad::sum(lpc * 1.5));
      const ad::Tensor vf = lpf.value(), vc = lpc.value(), glf = fused.grad(lf), glc = plain.grad(lc),
                       gxf = fused.grad(xf), gxc = plain.grad(xc);
      for (std::int64_t i = 0; i < n; ++i) {
        BOOST_TEST(vf[i] == vc[i], "value " << i);
        BOOST_TEST(glf[i] == glc[i], "logits' gradient " << i);
        BOOST_TEST(gxf[i] == gxc[i], "value's gradient " << i);
      }
      const auto r = vireo::testing::gradcheck(
          [&](ad::Tape& tape, const std::vector<ad::Var>& leaves) {
            return make_distribution("Bernoulli", tape, {{"logits", leaves[0]}})->log_prob(tape.constant(x));
          },
          {l});
      BOOST_TEST(r.ok, r.message);
    }
  }
}

// The sum of that node (an observed plate's log-likelihood, as
// Trace::log_prob_sum takes it) is its summed form (Tape::set_summed_form):
// the gradient goes from the sum's one adjoint straight into the logits
// (and a value that is a leaf), and the node's own adjoint is never filled.
// Bit for bit the numbers of the sum taken through a node in between (× 1,
// exact), on the scalar and the vectorised paths, with data and with a
// leaf as the value; and, when the node has another consumer too, the two
// gradients add up.
BOOST_AUTO_TEST_CASE(bernoulli_logits_summed_form) {
  for (const std::int64_t n : {std::int64_t{5}, std::int64_t{100}, std::int64_t{1700}}) {
    for (const bool data : {true, false}) {
      BOOST_TEST_CONTEXT("n = " << n << (data ? ", data" : ", a leaf as the value")) {
        ad::Tensor l(ad::Shape{n}), x(ad::Shape{n}), w(ad::Shape{n});
        for (std::int64_t i = 0; i < n; ++i) {
          l[i] = i % 7 == 0 ? (i % 2 ? 40.0 : -40.0) : 3.0 * std::sin(0.7 * static_cast<double>(i));
          x[i] = i % 3 == 0 ? 1.0 : 0.0;
          w[i] = std::cos(0.3 * static_cast<double>(i));
        }
        ad::Tape summed, through;
        const ad::Var ls = summed.leaf(l), xs = data ? summed.constant(x) : summed.leaf(x);
        const ad::Var lt = through.leaf(l), xt = data ? through.constant(x) : through.leaf(x);
        const ad::Var lps = make_distribution("Bernoulli", summed, {{"logits", ls}})->log_prob(xs);
        const ad::Var lpt = make_distribution("Bernoulli", through, {{"logits", lt}})->log_prob(xt);
        const ad::Var ss = ad::sum(lps), st = ad::sum(lpt * 1.0);
        BOOST_TEST(ss.item() == st.item());
        summed.backward(ss);
        through.backward(st);
        const ad::Tensor gls = summed.grad(ls), glt = through.grad(lt), gxs = summed.grad(xs), gxt = through.grad(xt),
                         node = summed.grad(lps);
        for (std::int64_t i = 0; i < n; ++i) {
          BOOST_TEST(gls[i] == glt[i], "logits' gradient " << i);
          BOOST_TEST(gxs[i] == gxt[i], "value's gradient " << i);
          BOOST_TEST(node[i] == 0.0, "the node's own adjoint " << i);
        }
        // Another consumer of the node: its gradient and the sum's add up.
        ad::Tape both;
        const ad::Var lb = both.leaf(l), xb = data ? both.constant(x) : both.leaf(x);
        const ad::Var lpb = make_distribution("Bernoulli", both, {{"logits", lb}})->log_prob(xb);
        both.backward(ad::sum(lpb) + ad::sum(lpb * both.constant(w)));
        const ad::Tensor glb = both.grad(lb);
        for (std::int64_t i = 0; i < n; ++i) {
          // Each term is O(1) and rounded apart: an absolute tolerance
          // (where 1 + w cancels, a relative one would not hold).
          const double sig = 1 / (1 + std::exp(-l[i]));
          BOOST_TEST(std::abs(glb[i] - (1 + w[i]) * (x[i] - sig)) < 1e-14, "element " << i);
        }
      }
    }
  }
}
