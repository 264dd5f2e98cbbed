#include "runtime/infer/tracegraph_elbo.hpp"

#include "runtime/infer/nonfinite.hpp"

#include <fmt/format.h>

#include <cmath>

namespace vireo::infer {

using handlers::TraceSite;

TraceGraphElbo::TraceGraphElbo(const ir::Graph& graph, TraceGraphOptions o) : graph_(graph), opts_(std::move(o)) {
  if (opts_.particles < 1) throw std::invalid_argument("--particles must be at least 1");
  if (opts_.default_baseline.leave_one_out && opts_.particles < 2)
    throw std::invalid_argument("a leave-one-out baseline needs --particles 2 or more");
}

namespace {

ad::Shape frame_shape(const handlers::Frames& frames) {
  ad::Shape s;
  for (const auto& f : frames) s.push_back(f.subsample);
  return s;
}

}  // namespace

ad::Var TraceGraphElbo::neural_baseline(interp::Context& ctx, const TraceSite& s, const BaselineSpec& spec) {
  if (!s.msg.baseline_input)
    throw std::runtime_error(fmt::format("site '{}': a learned baseline needs its input: `with baseline(net = e)`", s.msg.name));
  ad::Shape fs = frame_shape(s.msg.frames);
  std::int64_t rows = fs.numel();
  ad::Var x = ad::detach(s.msg.baseline_input->var);  // the input carries no gradient
  std::int64_t features = x.numel() / std::max<std::int64_t>(rows, 1);
  if (features * rows != x.numel())
    throw std::runtime_error(fmt::format("site '{}': the baseline input of shape {} does not have one row per element of the site's plates {}",
                                         s.msg.name, ad::to_string(x.shape()), ad::to_string(fs)));
  x = ad::reshape(x, ad::Shape{rows, features});
  const std::string base = "baseline." + s.msg.site->name + ".";
  auto make = [&](const std::string& n, ad::Tensor init) {
    if (!ctx.store().find(base + n)) {
      params::Entry e{base + n, init.shape().to_vector(), "real",
                      Eigen::Map<const Eigen::ArrayXd>(init.data(), static_cast<Eigen::Index>(init.numel()))};
      ctx.store().add(std::move(e));
    }
    return ctx.param_leaf(base + n);
  };
  if (!ctx.store().find(base + "w1")) {
    // Uniform(±1/sqrt(features)) first layer; zero last layer so the baseline starts at 0.
    ad::Tensor w1(ad::Shape{features, spec.hidden});
    double r = 1 / std::sqrt(static_cast<double>(features));
    for (std::int64_t i = 0; i < w1.numel(); ++i) w1[i] = (2 * ctx.rng().uniform() - 1) * r;
    make("w1", w1);
  }
  ad::Var w1 = make("w1", {}), b1 = make("b1", ad::Tensor(ad::Shape{spec.hidden}, 0.0));
  ad::Var w2 = make("w2", ad::Tensor(ad::Shape{spec.hidden}, 0.0)), b2 = make("b2", ad::Tensor(0.0));
  ad::Var h = ad::relu(ad::matmul(x, w1) + b1);
  return ad::reshape(ad::matmul(h, w2) + b2, fs);
}

ElboEstimate TraceGraphElbo::loss(interp::Context& ctx, guide::Guide& guide) {
  if (!down_) {
    guide_runs_model_ = guide.runs_model_program();
    down_ = std::make_unique<Downstream>(graph_, guide_runs_model_);
  }
  for (auto& [name, c] : pending_) c.count = 0;  // a loss that throws leaves nothing pending
  const int P = opts_.particles;
  std::vector<std::vector<SiteCost>> costs(static_cast<std::size_t>(P));
  std::vector<ParticleTraces>& traces = particles_state_.traces;  // run_particles sizes it

  // 1. Every particle's traces (run_particles) and downstream costs.
  auto elbo_of = [&](int p, interp::Context& pctx, const ParticleTraces& t) {
    ad::Tape& tape = pctx.tape();
    ad::Var elbo = particle_elbo(tape, t);
    const auto& gs = t.guide.sites();
    for (std::size_t i = 0; i < gs.size(); ++i) {
      const TraceSite& s = gs[i];
      if (!is_latent(s) || s.msg.reparameterized || !s.has_log_prob || !s.msg.mask) continue;
      Downstream::Terms terms = down_->of(t.guide, t.model, i);
      ad::Shape fs = frame_shape(s.msg.frames);
      ad::Var cost = ad::zeros(tape, fs);
      for (std::size_t g : terms.guide) {
        const TraceSite& u = gs[g];
        if (u.has_log_prob && u.msg.mask) cost = cost - down_->align(u.log_prob, u.msg.frames, s.msg.frames) * u.msg.scale;
      }
      for (std::size_t m : terms.model) {
        const TraceSite& u = t.model.sites()[m];
        if (u.has_log_prob && u.msg.mask) cost = cost + down_->align(u.log_prob, u.msg.frames, s.msg.frames) * u.msg.scale;
      }
      cost = ad::broadcast_to(cost, fs);
      costs[static_cast<std::size_t>(p)].push_back({i, cost, cost.value()});
    }
    return elbo;
  };

  // 2. Surrogates with baselines. Every particle uses the averages as they
  //    were before this step; the mean cost of the particles that have the
  //    site is recorded for end_step(). A learned baseline's loss is part
  //    of its particle's share (run_particles sums the shares).
  auto surrogate_of = [&](int p, interp::Context& pctx, const ParticleTraces& t, const ad::Var& elbo) {
    ad::Tape& tape = pctx.tape();
    ad::Var baseline_loss = tape.constant(0.0);
    ad::Var surrogate = elbo;
    // The ELBO's −log q of a score-function site keeps its value but loses
    // its gradient: that term reaches the surrogate only through the site's
    // cost (step 3). See the header: kept, it acts as a baseline off by one.
    ad::Var direct = t.guide.log_prob_sum(tape, [](const TraceSite& s) { return is_latent(s) && !s.msg.reparameterized; });
    surrogate = surrogate + (direct - ad::detach(direct));
    for (const SiteCost& c : costs[static_cast<std::size_t>(p)]) {
      const TraceSite& s = t.guide.sites()[c.index];
      const std::string& name = s.msg.name;
      BaselineSpec spec = s.msg.site && s.msg.site->baseline.given ? BaselineSpec::from_site(s.msg.site->baseline)
                                                                    : opts_.default_baseline;
      const ad::Shape& shape = c.value.shape();
      ad::Tensor b(shape, 0.0);
      const Average* avg = nullptr;
      if (spec.average) {
        auto it = averages_.find(name);
        if (it != averages_.end() && it->second.mean.shape() == shape) avg = &it->second;
        PendingCosts& acc = pending_[name];
        if (acc.count == 0) {  // the step's first cost of this site fixes its shape
          if (acc.sum.shape() == shape)
            for (std::int64_t k = 0; k < acc.sum.numel(); ++k) acc.sum[k] = 0;
          else
            acc.sum = ad::Tensor(shape, 0.0);
          acc.beta = spec.beta;
        }
        if (acc.sum.shape() == shape) {
          for (std::int64_t k = 0; k < b.numel(); ++k) acc.sum[k] += c.value[k];
          ++acc.count;
        }
      }
      // The other particles' costs of this site, for leave-one-out.
      ad::Tensor others(shape, 0.0);
      int n = 0;
      if (spec.leave_one_out)
        for (int q = 0; q < P; ++q) {
          if (q == p) continue;
          for (const SiteCost& o : costs[static_cast<std::size_t>(q)])
            if (traces[static_cast<std::size_t>(q)].guide.sites()[o.index].msg.name == name && o.value.shape() == shape) {
              for (std::int64_t k = 0; k < b.numel(); ++k) others[k] += o.value[k];
              ++n;
            }
        }
      if (spec.average && spec.leave_one_out) {
        // Pooled: the bias-corrected average counts as the costs it stands
        // for (its effective sample size), the other particles as one each.
        double w = 0, corr = 1;
        if (avg && avg->updates > 0) {
          double bt = std::pow(spec.beta, static_cast<double>(avg->updates));
          double b2t = std::pow(spec.beta, 2.0 * static_cast<double>(avg->updates));
          corr = 1 - bt;
          w = avg->particles * corr * corr * (1 + spec.beta) / ((1 - spec.beta) * (1 - b2t));
        }
        if (w + n > 0)
          for (std::int64_t k = 0; k < b.numel(); ++k) b[k] = (w * (avg ? avg->mean[k] / corr : 0.0) + others[k]) / (w + n);
      } else if (spec.average) {
        if (avg) b = avg->mean;  // Pyro's rule: the average before this step's update
      } else if (n > 0) {
        for (std::int64_t k = 0; k < b.numel(); ++k) b[k] = others[k] / n;
      }
      ad::Var bvar = tape.constant(b);
      bool trained = false;
      if (spec.value) {
        bvar = bvar + (s.msg.baseline_value ? s.msg.baseline_value->var : tape.constant(spec.fixed));
        trained = true;
      }
      if (spec.net) {
        bvar = bvar + neural_baseline(pctx, s, spec);
        trained = true;
      }
      bvar = ad::broadcast_to(bvar, c.value.shape());
      if (trained) baseline_loss = baseline_loss + ad::sum(ad::square(ad::detach(c.cost) - bvar));
      surrogate = surrogate + ad::sum(s.log_prob * ad::detach(c.cost - bvar));
    }
    return surrogate - baseline_loss;
  };
  ParticleSums sums = run_particles(ctx, guide, P, particles_state_, elbo_of, surrogate_of);
  ElboEstimate est;
  est.nonfinite = std::move(sums.nonfinite);
  refused_draws_ += sums.ruled_out;
  est.loss = sums.loss;
  est.elbo = sums.elbo;
  return est;
}

void TraceGraphElbo::end_step() {
  for (auto& [name, c] : pending_) {
    if (c.count == 0) continue;
    Average& a = averages_[name];
    if (!(a.mean.shape() == c.sum.shape())) a = Average{ad::Tensor(c.sum.shape(), 0.0), 0, c.count};
    for (std::int64_t k = 0; k < c.sum.numel(); ++k) a.mean[k] = c.beta * a.mean[k] + (1 - c.beta) * c.sum[k] / c.count;
    ++a.updates;
    a.particles = c.count;
    c.count = 0;  // applied once
  }
}

nlohmann::json TraceGraphElbo::state() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, avg] : averages_) {
    const ad::Tensor& m = avg.mean;
    std::vector<std::int64_t> shape(m.shape().begin(), m.shape().end());
    out[name] = {{"shape", shape},
                 {"values", std::vector<double>(m.data(), m.data() + m.numel())},
                 {"updates", avg.updates},
                 {"particles", avg.particles}};
  }
  return out;
}

void TraceGraphElbo::load_state(const nlohmann::json& state) {
  if (state.is_null()) return;
  std::map<std::string, Average> loaded;
  try {
    for (const auto& [name, e] : state.items()) {
      auto shape = e.at("shape").get<std::vector<std::int64_t>>();
      auto values = e.at("values").get<std::vector<double>>();
      Average& a = loaded[name];
      a.mean = ad::Tensor(ad::Shape(shape), std::move(values));
      a.updates = e.value("updates", 1000000L);  // older states: long settled
      a.particles = e.value("particles", 1);
      if (a.updates < 0 || a.particles < 1) throw std::invalid_argument("negative update or particle count");
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the saved baseline averages are malformed: ") + e.what());
  }
  averages_ = std::move(loaded);
  for (auto& [name, c] : pending_) c.count = 0;
}

std::map<std::string, double> gradient_variance(interp::Context& ctx, guide::Guide& guide, Elbo& elbo, int draws) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> acc;  // Σg, Σg² per entry
  for (int i = 0; i < draws; ++i) {
    ctx.begin_step();
    ElboEstimate est = elbo.loss(ctx, guide);
    ctx.tape().backward(est.loss);
    for (const auto& [name, leaf] : ctx.param_leaves()) {
      ad::Tensor g = ctx.tape().grad(leaf);
      auto& [s1, s2] = acc[name];
      s1.resize(static_cast<std::size_t>(g.numel()), 0.0);
      s2.resize(static_cast<std::size_t>(g.numel()), 0.0);
      for (std::int64_t k = 0; k < g.numel(); ++k) {
        s1[static_cast<std::size_t>(k)] += g[k];
        s2[static_cast<std::size_t>(k)] += g[k] * g[k];
      }
    }
  }
  std::map<std::string, double> out;
  for (const auto& [name, sums] : acc) {
    double v = 0;
    for (std::size_t k = 0; k < sums.first.size(); ++k) {
      double m = sums.first[k] / draws;
      v += (sums.second[k] / draws - m * m) * draws / std::max(1, draws - 1);
    }
    out[name] = v;
  }
  return out;
}

}  // namespace vireo::infer
