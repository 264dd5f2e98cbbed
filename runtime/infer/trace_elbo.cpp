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
#include "runtime/par/parallel.hpp"

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
      // A loop whose latent sites the guide drew as one batch each runs as one batch too.
      struct Replayed {
        interp::Context& c;
        ~Replayed() { c.set_replayed(nullptr); }
      } replayed{ctx};
      ctx.set_replayed(&out.guide);
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

namespace {

// Step 1 of one particle: its traces and its ELBO.
void trace_particle(int p, interp::Context& ctx, guide::Guide& guide, ParticleTraces& traces, ad::Var& elbo,
                    const std::function<ad::Var(int, interp::Context&, const ParticleTraces&)>& elbo_of) {
  run_particle(ctx, guide, traces);
  elbo = elbo_of(p, ctx, traces);
}

// The ELBOs' sum and what the first non-finite one says, in particle order.
void tally(ParticleSums& out, const std::vector<ad::Var>& elbos, const std::vector<ParticleTraces>& traces,
           const std::function<std::string(int)>& explain) {
  double elbo_sum = 0;
  for (std::size_t p = 0; p < elbos.size(); ++p) {
    const double e = elbos[p].item();
    elbo_sum += e;
    if (!std::isfinite(e) && model_rules_out(traces[p])) ++out.ruled_out;
    if (!std::isfinite(e) && out.nonfinite.empty()) {
      out.nonfinite = describe_nonfinite(traces[p]);
      if (out.nonfinite.empty() && explain) out.nonfinite = explain(static_cast<int>(p));
    }
  }
  out.elbo = elbo_sum / static_cast<double>(elbos.size());
}

}  // namespace

ParticleSums run_particles(interp::Context& ctx, guide::Guide& guide, int particles, Particles& work,
                           const std::function<ad::Var(int, interp::Context&, const ParticleTraces&)>& elbo_of,
                           const std::function<ad::Var(int, interp::Context&, const ParticleTraces&, const ad::Var&)>& surrogate_of,
                           const std::function<std::string(int)>& explain) {
  const auto P = static_cast<std::size_t>(particles);
  if (work.traces.size() != P) work.traces.resize(P);
  ParticleSums out;
  std::vector<ad::Var> elbos(P);
  if (P == 1) {  // on ctx itself: nothing to merge
    trace_particle(0, ctx, guide, work.traces[0], elbos[0], elbo_of);
    tally(out, elbos, work.traces, explain);
    out.loss = -surrogate_of(0, ctx, work.traces[0], elbos[0]);
    out.elbo_node = elbos[0];
    return out;
  }

  // Each particle's context, its generator keyed by (this step's generator, p).
  if (work.contexts.size() != P) {
    work.contexts.clear();
    work.generators.assign(P, rng::Generator(0));  // never resized again: the contexts point into it
    for (std::size_t p = 0; p < P; ++p)
      work.contexts.push_back(std::make_unique<interp::Context>(ctx, work.generators[p]));
  }
  // One word of ctx's generator keys the particles: a caller that draws
  // again without reseeding (a loop of evaluations) gets fresh particles.
  const std::uint64_t key = ctx.rng().next_u64();
  auto start = [&](std::size_t p) {
    work.generators[p] = rng::Generator::keyed(key, p);
    work.contexts[p]->settings_from(ctx);
    work.contexts[p]->begin_step();
  };

  // 1. Traces and ELBOs: in parallel with the store read-only and a guide
  //    copy each, unless a particle would create a parameter; then in order.
  work.guides.resize(P);
  bool copies = true;
  for (std::size_t p = 0; p < P && copies; ++p) copies = (work.guides[p] = guide.clone()) != nullptr;
  bool done = false;
  if (copies) {
    params::ParamStore& store = ctx.store();
    std::exception_ptr error;
    store.set_frozen(true);
    try {
      par::for_each(static_cast<std::int64_t>(P), [&](std::int64_t q) {
        const auto p = static_cast<std::size_t>(q);
        start(p);
        trace_particle(static_cast<int>(p), *work.contexts[p], *work.guides[p], work.traces[p], elbos[p], elbo_of);
      });
    } catch (...) {
      error = std::current_exception();
    }
    store.set_frozen(false);
    done = !store.add_refused();
    if (done && error) std::rethrow_exception(error);
  }
  if (!done)
    for (std::size_t p = 0; p < P; ++p) {
      start(p);
      trace_particle(static_cast<int>(p), *work.contexts[p], guide, work.traces[p], elbos[p], elbo_of);
    }
  for (std::size_t p = 0; p < P; ++p)
    for (const auto& plate : work.contexts[p]->subsampled_plates()) ctx.subsampled_plates().insert(plate);
  tally(out, elbos, work.traces, explain);

  // 2. Surrogates, in particle order: particle p's share of the loss.
  work.losses.resize(P);
  double total = 0;
  for (std::size_t p = 0; p < P; ++p) {
    work.losses[p] = -surrogate_of(static_cast<int>(p), *work.contexts[p], work.traces[p], elbos[p]) /
                     static_cast<double>(P);
    total += work.losses[p].item();
  }

  // 3. Each particle's gradients on its own tape, summed in particle order.
  if (std::isfinite(total))
    par::for_each(static_cast<std::int64_t>(P), [&](std::int64_t q) {
      work.contexts[static_cast<std::size_t>(q)]->tape().backward(work.losses[static_cast<std::size_t>(q)]);
    });
  //    Which particles' tapes hold a gradient of each parameter, in order;
  //    then every parameter's sum, in chunks that may run on threads.
  work.names.clear();
  work.index.clear();
  std::vector<std::vector<const double*>> parts;
  for (std::size_t p = 0; p < P; ++p) {
    const ad::Tape& tape = work.contexts[p]->tape();
    for (const auto& [name, leaf] : work.contexts[p]->param_leaves()) {
      auto [it, added] = work.index.emplace(name, work.names.size());
      const std::size_t k = it->second;
      if (added) {
        work.names.push_back(name);
        parts.emplace_back();
        if (work.grads.size() <= k) work.grads.emplace_back();
        work.grads[k].resize(static_cast<Eigen::Index>(leaf.numel()));
      }
      if (!std::isfinite(total)) continue;
      if (const double* d = tape.grad_data(leaf)) parts[k].push_back(d);
    }
  }
  std::vector<std::pair<std::size_t, std::int64_t>> pieces;  // (parameter, chunk)
  for (std::size_t k = 0; k < work.names.size(); ++k)
    for (std::int64_t c = 0; c < par::num_chunks(work.grads[k].size()); ++c) pieces.emplace_back(k, c);
  par::for_each(static_cast<std::int64_t>(pieces.size()), [&](std::int64_t i) {
    const auto [k, c] = pieces[static_cast<std::size_t>(i)];
    Eigen::ArrayXd& g = work.grads[k];
    const std::int64_t b = c * par::kChunk, e = std::min<std::int64_t>(g.size(), b + par::kChunk);
    auto out = g.segment(b, e - b);
    out.setZero();
    for (const double* d : parts[k]) out += Eigen::Map<const Eigen::ArrayXd>(d + b, e - b);
  });

  // 4. The loss on ctx's tape: its value the particles' sum, its gradient
  //    with respect to each parameter's leaf the summed gradient.
  //    The leaves read the store in place (frozen): nothing reads their
  //    values, and the store changes only after the backward pass.
  std::vector<ad::Var> leaves;
  leaves.reserve(work.names.size());
  ctx.store().set_frozen(true);
  for (const std::string& name : work.names) leaves.push_back(ctx.param_leaf(name));
  ctx.store().set_frozen(false);
  const std::vector<Eigen::ArrayXd>* grads = &work.grads;
  ad::Tape& tape = ctx.tape();
  out.loss = tape.push_custom(ad::Shape{}, leaves, [grads](ad::Tape& t, const ad::Node& n) {
    const double g = t.adj(n)[0];
    const std::vector<std::int32_t> in = t.custom_inputs(n);
    for (std::size_t k = 0; k < in.size(); ++k) {
      const ad::Node& x = t.node(in[k]);
      if (x.adj < 0) continue;
      double* gx = t.adj(x);
      const Eigen::ArrayXd& gk = (*grads)[k];
      for (Eigen::Index i = 0; i < gk.size(); ++i) gx[i] += g * gk[i];
    }
  });
  tape.val(out.loss)[0] = total;
  return out;
}

ElboEstimate TraceElbo::loss(interp::Context& ctx, guide::Guide& guide) {
  auto elbo_of = [&](int, interp::Context& pctx, const ParticleTraces& t) { return particle_elbo(pctx.tape(), t); };
  auto surrogate_of = [&](int, interp::Context& pctx, const ParticleTraces& t, const ad::Var& elbo) {
    ad::Tape& tape = pctx.tape();
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
  ParticleSums sums = run_particles(ctx, guide, particles_, particles_state_, elbo_of, surrogate_of);
  ElboEstimate est;
  est.nonfinite = std::move(sums.nonfinite);
  refused_draws_ += sums.ruled_out;
  est.loss = sums.loss;
  est.elbo = sums.elbo;
  est.elbo_node = sums.elbo_node;
  return est;
}

}  // namespace vireo::infer
