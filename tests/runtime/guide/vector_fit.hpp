// Test support for the joint-vector guides: a model compiled from text with
// its data, a fit with a chosen guide and schedule, ELBO estimates from many
// fresh draws, and the exact Gaussian quantities of conjugate linear
// regression (posterior, log evidence, KL of a Gaussian q to it).
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lang/ir/compile.hpp"
#include "runtime/guide/auto_vector.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/infer/svi.hpp"

namespace vireo::test {

struct Schedule {
  std::string guide = "auto_mvn";
  double lr = 0.05;
  double lrd = 1.0;       // clipped_adam: lr ← lr · lrd before every step
  int particles = 1;
  int steps = 1000;
  bool stl = false;       // AutoContinuous::set_sticking_the_landing
  double init_scale = 0.1;
  std::string init = "median";
  int flow_layers = 4, flow_hidden = 32;  // auto_realnvp
};

struct VectorFit {
  lang::SourceFile source;
  ir::Graph graph;
  interp::DataSet data;
  params::ParamStore store;
  rng::Generator rng;
  std::unique_ptr<interp::Context> ctx;
  std::unique_ptr<guide::Guide> guide;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<infer::TraceElbo> elbo;
  std::unique_ptr<infer::Svi> svi;

  VectorFit(const std::string& text, interp::DataSet d, std::uint64_t seed = 1)
      : source("test.vireo", text), data(std::move(d)), rng(seed) {
    lang::Diagnostics diags;
    auto g = ir::compile(source, diags);
    if (!g) throw std::runtime_error(diags.render(source));
    graph = std::move(*g);
    ctx = std::make_unique<interp::Context>(graph, data, store, rng);
  }

  void setup(const Schedule& s) {
    guide::GuideOptions go;
    go.kind = s.guide;
    go.init_scale = s.init_scale;
    go.init = guide::InitStrategy::parse(s.init);
    go.flow_layers = s.flow_layers;
    go.flow_hidden = s.flow_hidden;
    guide = guide::make_guide(go, graph);
    if (auto* v = joint()) v->set_sticking_the_landing(s.stl);
    optim::OptimOptions oo;
    oo.name = "clipped_adam";
    oo.lr = s.lr;
    oo.lrd = s.lrd;
    optimizer = optim::make_optimizer(oo);
    elbo = std::make_unique<infer::TraceElbo>(s.particles);
    svi = std::make_unique<infer::Svi>(*ctx, *guide, *optimizer, *elbo);
  }
  guide::AutoContinuous* joint() { return dynamic_cast<guide::AutoContinuous*>(guide.get()); }

  // Trains; returns how many steps were rejected as non-finite.
  int train(int steps) {
    int rejected = 0;
    for (int i = 0; i < steps; ++i) rejected += svi->step().applied ? 0 : 1;
    return rejected;
  }

  // The ELBO from `draws` fresh guide draws, one per tape (a tape never holds
  // them all). Returns the mean and its standard error.
  std::pair<double, double> elbo_estimate(int draws) {
    infer::TraceElbo e(1);
    std::vector<double> v;
    for (int i = 0; i < draws; ++i) {
      ctx->begin_step();
      v.push_back(e.loss(*ctx, *guide).elbo);
    }
    double m = 0, s2 = 0;
    for (double x : v) m += x / static_cast<double>(v.size());
    for (double x : v) s2 += (x - m) * (x - m) / static_cast<double>(v.size() - 1);
    return {m, std::sqrt(s2 / static_cast<double>(v.size()))};
  }

  // One guide trace (latent sites only), on a fresh step.
  handlers::Trace guide_trace() {
    ctx->begin_step();
    handlers::Trace t;
    handlers::TraceHandler h(t);
    handlers::HandlerStack::Scoped s(ctx->handlers(), h);
    guide->run(*ctx);
    t.compute_log_probs();
    return t;
  }
};

inline interp::DataSet dataset(std::vector<std::pair<ad::Tensor, interp::Kind>> items) {
  interp::DataSet d;
  for (auto& [t, k] : items) {
    d.values.push_back(std::move(t));
    d.kinds.push_back(k);
  }
  return d;
}

// KL(N(m, S) ‖ N(mu, C)) for D-dimensional Gaussians.
inline double gaussian_kl(const Eigen::VectorXd& m, const Eigen::MatrixXd& s, const Eigen::VectorXd& mu,
                          const Eigen::MatrixXd& c) {
  Eigen::LLT<Eigen::MatrixXd> lc(c), ls(s);
  const double d = static_cast<double>(m.size());
  const Eigen::VectorXd diff = mu - m;
  const double logdet_c = 2 * lc.matrixL().toDenseMatrix().diagonal().array().log().sum();
  const double logdet_s = 2 * ls.matrixL().toDenseMatrix().diagonal().array().log().sum();
  return 0.5 * ((lc.solve(s)).trace() + diff.dot(lc.solve(diff)) - d + logdet_c - logdet_s);
}

// y ~ N(X β, I), β ~ N(0, I): the exact posterior and log evidence.
struct ConjugateLinreg {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  Eigen::VectorXd post_mean;
  Eigen::MatrixXd post_cov;
  double log_z = 0;

  ConjugateLinreg(Eigen::MatrixXd x_, Eigen::VectorXd y_) : x(std::move(x_)), y(std::move(y_)) {
    const Eigen::Index n = x.rows(), d = x.cols();
    Eigen::MatrixXd prec = x.transpose() * x + Eigen::MatrixXd::Identity(d, d);
    post_cov = prec.llt().solve(Eigen::MatrixXd::Identity(d, d));
    post_mean = post_cov * x.transpose() * y;
    Eigen::MatrixXd marg = x * x.transpose() + Eigen::MatrixXd::Identity(n, n);
    Eigen::LLT<Eigen::MatrixXd> l(marg);
    const double logdet = 2 * l.matrixL().toDenseMatrix().diagonal().array().log().sum();
    log_z = -0.5 * y.dot(l.solve(y)) - 0.5 * logdet - 0.5 * static_cast<double>(n) * std::log(2 * M_PI);
  }
  interp::DataSet data() const {
    const Eigen::Index n = x.rows(), d = x.cols();
    ad::Tensor xt(ad::Shape{n, d}), yt(ad::Shape{n});
    for (Eigen::Index i = 0; i < n; ++i) {
      yt[i] = y[i];
      for (Eigen::Index j = 0; j < d; ++j) xt[i * d + j] = x(i, j);
    }
    return dataset({{ad::Tensor(static_cast<double>(n)), interp::Kind::Int},
                    {ad::Tensor(static_cast<double>(d)), interp::Kind::Int},
                    {xt, interp::Kind::Real},
                    {yt, interp::Kind::Real}});
  }
};

inline const char* const linreg_model = R"(
data { N: int D: int X: real[N, D] y: real[N] }
model {
  beta: real[D] ~ Normal(0, 1)
  plate data(N) { observe y ~ Normal(X @ beta, 1) }
}
)";

}  // namespace vireo::test
