// Subsampling is unbiased: with a plate `data(N, subsample = B)`, the ELBO
// estimate and its gradient, averaged over many mini-batches (and guide
// draws), equal the full-data ones at the same parameters. The per-site
// automatic guide holds one loc and scale per row of the full plate and
// gathers the mini-batch's rows; both log p and log q of the plate's sites
// are scaled by N / B.
//
// Both estimates are Monte Carlo means of K draws; their difference is
// compared with its standard error sqrt(var_a / K + var_b / K). With 25
// quantities tested (the ELBO and 24 gradient elements), a 4.5-SE bound has
// a family-wise false alarm rate of 25 · 6.8e-6 ≈ 2e-4 (and the seeds are
// fixed). Power: leaving out the N / B scale of the plate's log q alone
// moves the mean ELBO by about 3 · 1.2 · (10/3 − 1) ≈ 8 nats, over 20 SEs.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "support/fit.hpp"

using namespace vireo;
using test::dataset;
using test::Fit;
using I = interp::Kind;

namespace {

constexpr int n_rows = 10;

const std::vector<double> ys = {1.2, -0.3, 2.5, 0.8, -1.1, 0.4, 1.9, 0.0, 3.1, -0.7};

std::string program(const std::string& plate) {
  return R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  s ~ HalfNormal(2)
  )" + plate + R"( {
    z ~ Normal(mu, s)
    observe y[idx] ~ Normal(z, 0.5)
  }
})";
}

interp::DataSet data() { return dataset({{ad::Tensor(static_cast<double>(n_rows)), I::Int}, {ad::Tensor::vector(ys), I::Real}}); }

// Means and variances of the ELBO and of every gradient element over K evaluations.
struct Estimate {
  std::vector<std::string> names;  // "elbo", then "param[i]"
  std::vector<double> mean, var;
};

Estimate estimate(Fit& fit, int draws) {
  Estimate out;
  std::vector<double> sum, sum2;
  for (int k = 0; k < draws; ++k) {
    fit.ctx->begin_step();
    infer::ElboEstimate est = fit.elbo->loss(*fit.ctx, *fit.guide);
    ad::Tape& tape = fit.ctx->tape();
    tape.backward(est.loss);
    std::vector<double> row = {est.elbo};
    std::vector<std::string> names = {"elbo"};
    std::vector<std::pair<std::string, ad::Var>> leaves(fit.ctx->param_leaves().begin(), fit.ctx->param_leaves().end());
    std::sort(leaves.begin(), leaves.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [name, leaf] : leaves) {
      const double* g = tape.grad_data(leaf);
      for (std::int64_t i = 0; i < leaf.numel(); ++i) {
        row.push_back(g ? -g[i] : 0.0);  // the loss is −ELBO
        names.push_back(name + "[" + std::to_string(i) + "]");
      }
    }
    if (k == 0) {
      out.names = names;
      sum.assign(row.size(), 0.0);
      sum2.assign(row.size(), 0.0);
    }
    BOOST_REQUIRE(names == out.names);
    for (std::size_t j = 0; j < row.size(); ++j) {
      sum[j] += row[j];
      sum2[j] += row[j] * row[j];
    }
  }
  for (std::size_t j = 0; j < sum.size(); ++j) {
    double m = sum[j] / draws;
    out.mean.push_back(m);
    out.var.push_back((sum2[j] / draws - m * m) * draws / (draws - 1.0));
  }
  return out;
}

// Gives every parameter of `fit` the same, non-trivial values (a guide away
// from the posterior, so that the gradient is not zero).
void set_parameters(Fit& fit) {
  for (auto& e : fit.store.entries())
    for (Eigen::Index i = 0; i < e.unconstrained.size(); ++i)
      e.unconstrained[i] = 0.3 * std::sin(1.7 * static_cast<double>(i) + static_cast<double>(e.name.size())) - 0.2;
}

}  // namespace

BOOST_AUTO_TEST_CASE(subsampled_elbo_and_gradient_are_unbiased) {
  constexpr int draws = 40000;
  Fit full(program("plate data(N) as idx"), data(), 11);
  Fit sub(program("plate data(N, subsample = 3) as idx"), data(), 12);
  for (Fit* f : {&full, &sub}) {
    f->setup("auto_normal", 0.01);
    f->ctx->begin_step();
    f->elbo->loss(*f->ctx, *f->guide);  // creates the parameters
    set_parameters(*f);
  }
  BOOST_REQUIRE_EQUAL(full.store.size(), sub.store.size());
  for (const auto& e : full.store.entries()) {
    const params::Entry* s = sub.store.find(e.name);
    BOOST_REQUIRE_MESSAGE(s, "the subsampled fit has no parameter " << e.name);
    BOOST_REQUIRE_EQUAL(s->unconstrained.size(), e.unconstrained.size());  // full-size, gathered per batch
  }

  Estimate a = estimate(full, draws), b = estimate(sub, draws);
  BOOST_REQUIRE(a.names == b.names);
  BOOST_REQUIRE_GE(a.names.size(), 2u * n_rows + 3);
  for (std::size_t j = 0; j < a.names.size(); ++j) {
    double se = std::sqrt(a.var[j] / draws + b.var[j] / draws);
    BOOST_TEST(std::abs(a.mean[j] - b.mean[j]) <= 4.5 * se,
               a.names[j] << ": full data " << a.mean[j] << ", subsampled " << b.mean[j] << " (SE of the difference " << se
                          << ")");
  }
  // The comparison has power: the subsampled estimate is much noisier than
  // the full one, yet its mean ELBO is pinned to within half a nat.
  BOOST_TEST(std::sqrt(a.var[0] / draws + b.var[0] / draws) < 0.5);
}
