#include "runtime/infer/trace_elbo.hpp"

#include <limits>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runtime/handlers/replay.hpp"
#include "runtime/infer/dependencies.hpp"
#include "runtime/infer/nonfinite.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::infer {

using handlers::MsgType;
using handlers::TraceSite;

bool is_latent(const TraceSite& s) { return s.msg.type == MsgType::Sample && !s.msg.is_observed; }

namespace {
bool latent(const TraceSite& s) { return is_latent(s); }
}  // namespace

// Sums the plate dimensions of `lp` (laid out as `have`, outermost first)
// that `want` lacks, then inserts size-1 axes for the plates of `want` that
// `have` lacks, so the result broadcasts against `want`'s layout. Plates are
// matched by name, as Pyro matches frames: the guide's `plate data` and the
// model's are different statements of the graph but one plate.
ad::Var sum_to_frames(const ad::Var& lp, const handlers::Frames& have, const handlers::Frames& want,
                      const std::set<std::string>* unrefined) {
  if (unrefined && !unrefined->empty()) {
    bool any = false;
    for (const auto& w : want) any = any || unrefined->count(w.name);
    if (any) {
      handlers::Frames refined;
      for (const auto& w : want)
        if (!unrefined->count(w.name)) refined.push_back(w);
      ad::Var x = sum_to_frames(lp, have, refined);
      ad::Shape shape;
      int j = 0;
      for (const auto& w : want) shape.push_back(unrefined->count(w.name) ? 1 : x.shape()[j++]);
      return ad::reshape(x, shape);
    }
  }
  ad::Var x = lp;
  for (int k = static_cast<int>(have.size()) - 1; k >= 0; --k) {
    bool kept = false;
    for (const auto& w : want) kept = kept || w.name == have[static_cast<std::size_t>(k)].name;
    if (!kept) x = ad::sum(x, k);
  }
  ad::Shape shape;
  std::size_t j = 0;
  std::vector<std::string> remaining;
  for (const auto& h : have)
    for (const auto& w : want)
      if (w.name == h.name) remaining.push_back(h.name);
  for (const auto& w : want) {
    if (j < remaining.size() && remaining[j] == w.name) {
      shape.push_back(x.shape()[static_cast<int>(j)]);
      ++j;
    } else {
      shape.push_back(1);
    }
  }
  return ad::reshape(x, shape);
}

ad::Var particle_elbo(ad::Tape& tape, const ParticleTraces& t) {
  return t.model.log_prob_sum(tape) - t.guide.log_prob_sum(tape, [](const TraceSite& s) { return latent(s); });
}

bool model_rules_out(const ParticleTraces& t) {
  auto log_probs = [](const handlers::Trace& tr, bool& neg_inf, bool& bad) {
    for (const auto& s : tr.sites()) {
      if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask || s.msg.scale == 0) continue;
      const ad::Tensor lp = s.log_prob.value();
      for (std::int64_t i = 0; i < lp.numel(); ++i) {
        if (lp[i] == -std::numeric_limits<double>::infinity()) neg_inf = true;
        else if (!std::isfinite(lp[i])) bad = true;
      }
    }
  };
  bool guide_inf = false, guide_bad = false, model_inf = false, model_bad = false;
  log_probs(t.guide, guide_inf, guide_bad);
  log_probs(t.model, model_inf, model_bad);
  return model_inf && !model_bad && !guide_inf && !guide_bad;
}

void run_particle(interp::Context& ctx, guide::Guide& guide, ParticleTraces& out) {
  // A guide may draw from its plan; the model's run confirms it, or the
  // particle is run again the plain way (Guide::run_planned), from the same
  // random stream: the plan is a cache, and whether it was ready (which
  // depends on what ran before, a diagnostic included) changes no number.
  const rng::Generator stream = ctx.rng();
  bool again = false;
  do {
    if (again) ctx.rng() = stream;
    again = true;
    out.guide.clear();
    out.model.clear();
    {
      handlers::TraceHandler trace(out.guide);
      handlers::HandlerStack::Scoped s(ctx.handlers(), trace);
      guide.run_planned(ctx);
    }
    {
      handlers::TraceHandler trace(out.model);
      handlers::ReplayHandler replay(out.guide);
      handlers::HandlerStack::Scoped s1(ctx.handlers(), trace);
      handlers::HandlerStack::Scoped s2(ctx.handlers(), replay);
      interp::Interpreter(ctx).run(ctx.graph().model);
    }
  } while (!guide.confirm(out.guide, out.model));
  const std::set<ir::SiteId>* summed_out = guide.enumerated_sites();
  for (const auto& s : out.model.sites())
    if (latent(s) && !out.guide.find(s.msg.name) && !(summed_out && s.msg.site && summed_out->count(s.msg.site->id)))
      throw std::runtime_error(fmt::format(
          "site '{}' is latent in the model but the guide has no site '{}'; add `{} ~ …` to the guide", s.msg.name,
          s.msg.name, s.msg.name));
  for (const auto& s : out.guide.sites()) {
    if (!latent(s)) continue;
    const TraceSite* m = out.model.find(s.msg.name);
    if (!m || !latent(*m))
      throw std::runtime_error(fmt::format("the guide samples '{}', which is not a latent site of the model", s.msg.name));
  }
  out.guide.compute_log_probs();
  out.model.compute_log_probs();
  if (const double w = ctx.latent_weight(); w != 1.0) {
    for (auto& s : out.guide.sites())
      if (latent(s)) s.msg.scale *= w;
    for (auto& s : out.model.sites())
      if (latent(s)) s.msg.scale *= w;
  }
}

ad::Var downstream_cost(ad::Tape& tape, const ParticleTraces& t, const handlers::Frames& frames,
                        const std::set<std::string>* unrefined) {
  ad::Var cost = tape.constant(0.0);
  auto add = [&](const TraceSite& s, double sign) {
    if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask) return;
    cost = cost + sum_to_frames(s.log_prob, s.msg.frames, frames, unrefined) * (sign * s.msg.scale);
  };
  for (const auto& s : t.model.sites()) add(s, 1.0);
  for (const auto& s : t.guide.sites())
    if (latent(s)) add(s, -1.0);
  return cost;
}

const std::set<std::string>& MixingPlates::of(const ir::Graph& graph) {
  if (graph_ != &graph) {
    plates_ = mixing_plates(graph);
    graph_ = &graph;
  }
  return plates_;
}

TraceElbo::TraceElbo(int particles) : particles_(particles) {
  if (particles < 1) throw std::invalid_argument("--particles must be at least 1");
}

ParticleSums run_particles(interp::Context& ctx, guide::Guide& guide, int particles, std::vector<ParticleTraces>& traces,
                           const std::function<ad::Var(int, const ParticleTraces&)>& elbo_of,
                           const std::function<ad::Var(int, const ParticleTraces&, const ad::Var&)>& surrogate_of,
                           const std::function<std::string(int)>& explain) {
  ad::Tape& tape = ctx.tape();
  const auto P = static_cast<std::size_t>(particles);
  if (traces.size() != P) traces.resize(P);
  ParticleSums out;
  // 1. Traces and ELBOs. The ELBO handles live on the tape; a small vector
  //    per step (P handles) is all this allocates.
  std::vector<ad::Var> elbos(P);
  double elbo_sum = 0;
  for (std::size_t p = 0; p < P; ++p) {
    run_particle(ctx, guide, traces[p]);
    elbos[p] = elbo_of(static_cast<int>(p), traces[p]);
    elbo_sum += elbos[p].item();
    if (!std::isfinite(elbos[p].item()) && model_rules_out(traces[p])) ++out.ruled_out;
    if (!std::isfinite(elbos[p].item()) && out.nonfinite.empty()) {
      out.nonfinite = describe_nonfinite(traces[p]);
      if (out.nonfinite.empty() && explain) out.nonfinite = explain(static_cast<int>(p));
    }
  }
  // 2. Surrogates, summed in particle order.
  out.surrogate = tape.constant(0.0);
  for (std::size_t p = 0; p < P; ++p)
    out.surrogate = out.surrogate + surrogate_of(static_cast<int>(p), traces[p], elbos[p]);
  out.elbo = elbo_sum / particles;
  return out;
}

ElboEstimate TraceElbo::loss(interp::Context& ctx, guide::Guide& guide) {
  ad::Tape& tape = ctx.tape();
  auto elbo_of = [&](int, const ParticleTraces& t) { return particle_elbo(tape, t); };
  auto surrogate_of = [&](int, const ParticleTraces& t, const ad::Var& elbo) {
    // A score-function site's −log q keeps its value but not its gradient
    // (Pyro: its entropy_term is zero): that gradient has expectation zero
    // and would act as a baseline one nat off (tracegraph_elbo.hpp, step 5).
    auto scored = [](const TraceSite& s) { return latent(s) && !s.msg.reparameterized; };
    ad::Var surrogate = elbo;
    if (std::any_of(t.guide.sites().begin(), t.guide.sites().end(), scored)) {
      ad::Var direct = t.guide.log_prob_sum(tape, scored);
      surrogate = surrogate + (direct - ad::detach(direct));
    }
    for (const auto& s : t.guide.sites()) {
      if (!latent(s) || s.msg.reparameterized || !s.has_log_prob || !s.msg.mask) continue;
      if (s.msg.site && s.msg.site->baseline.given && note_.empty())
        note_ = fmt::format("note: Trace_ELBO ignores `with baseline(...)` (site '{}'); use --elbo tracegraph to use it",
                            s.msg.name);
      // Score term, Rao-Blackwellised per plate element.
      ad::Var cost = ad::detach(downstream_cost(tape, t, s.msg.frames, &mixing_.of(ctx.graph())));
      surrogate = surrogate + ad::sum(s.log_prob * cost);
    }
    return surrogate;
  };
  ParticleSums sums = run_particles(ctx, guide, particles_, traces_, elbo_of, surrogate_of);
  ElboEstimate est;
  est.nonfinite = std::move(sums.nonfinite);
  refused_draws_ += sums.ruled_out;
  est.loss = -sums.surrogate / static_cast<double>(particles_);
  est.elbo = sums.elbo;
  return est;
}

}  // namespace vireo::infer
