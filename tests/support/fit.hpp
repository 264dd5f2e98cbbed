// Test support: compile a model from text, hand it data, fit it with SVI and
// read posterior draws from the guide — the whole pipeline without the CLI.
#pragma once
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lang/ir/compile.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/infer/svi.hpp"

namespace vireo::test {

struct Fit {
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

  Fit(const std::string& text, interp::DataSet d, std::uint64_t seed = 1)
      : source("test.vireo", text), data(std::move(d)), rng(seed) {
    lang::Diagnostics diags;
    auto g = ir::compile(source, diags);
    if (!g) throw std::runtime_error(diags.render(source));
    graph = std::move(*g);
    ctx = std::make_unique<interp::Context>(graph, data, store, rng);
  }
  void setup(const std::string& guide_kind = "auto_normal", double lr = 0.05, double lrd = 1.0, int particles = 1) {
    guide::GuideOptions go;
    go.kind = guide_kind;
    guide = guide::make_guide(go, graph);
    optim::OptimOptions oo;
    oo.name = "clipped_adam";
    oo.lr = lr;
    oo.lrd = lrd;
    optimizer = optim::make_optimizer(oo);
    elbo = std::make_unique<infer::TraceElbo>(particles);
    svi = std::make_unique<infer::Svi>(*ctx, *guide, *optimizer, *elbo);
  }
  void train(int steps) {
    for (int i = 0; i < steps; ++i) svi->step();
  }
  // `n` guide draws of every latent site's value (flattened).
  std::map<std::string, std::vector<std::vector<double>>> draws(int n) {
    std::map<std::string, std::vector<std::vector<double>>> out;
    for (int i = 0; i < n; ++i) {
      ctx->begin_step();
      handlers::Trace t;
      handlers::TraceHandler h(t);
      handlers::HandlerStack::Scoped s(ctx->handlers(), h);
      guide->run(*ctx);
      for (const auto& site : t.sites()) {
        if (site.msg.type != handlers::MsgType::Sample || site.msg.is_observed) continue;
        const double* p = site.msg.value.var.data();
        out[site.msg.name].emplace_back(p, p + site.msg.value.var.numel());
      }
    }
    return out;
  }
};

struct Moments {
  std::vector<double> mean, sd;
};
inline Moments moments(const std::vector<std::vector<double>>& rows) {
  std::size_t k = rows.at(0).size();
  Moments m{std::vector<double>(k, 0.0), std::vector<double>(k, 0.0)};
  for (const auto& r : rows)
    for (std::size_t j = 0; j < k; ++j) m.mean[j] += r[j] / static_cast<double>(rows.size());
  for (const auto& r : rows)
    for (std::size_t j = 0; j < k; ++j) m.sd[j] += (r[j] - m.mean[j]) * (r[j] - m.mean[j]) / static_cast<double>(rows.size() - 1);
  for (auto& s : m.sd) s = std::sqrt(s);
  return m;
}

inline interp::DataSet dataset(std::vector<std::pair<ad::Tensor, interp::Kind>> items) {
  interp::DataSet d;
  for (auto& [t, k] : items) {
    d.values.push_back(std::move(t));
    d.kinds.push_back(k);
  }
  return d;
}

// Eight schools (examples/eight_schools.vireo) and its data: a small model
// with a positive latent and a plate, for tests of the fitting machinery.
inline const char* const eight_schools = R"(data { J: int<lower=1>  y: real[J]  sigma: real<lower=0>[J] }
model {
  mu ~ Normal(0, 5)
  tau ~ HalfCauchy(5)
  plate schools(J) {
    eta ~ Normal(0, 1)
    deterministic theta = mu + tau * eta
    observe y ~ Normal(theta, sigma)
  }
})";

inline interp::DataSet schools() {
  return dataset({{ad::Tensor(8.0), interp::Kind::Int},
                  {ad::Tensor(ad::Shape{8}, std::vector<double>{28, 8, -3, 7, -1, 1, 18, 12}), interp::Kind::Real},
                  {ad::Tensor(ad::Shape{8}, std::vector<double>{15, 10, 16, 11, 9, 11, 10, 18}), interp::Kind::Real}});
}

}  // namespace vireo::test
