#include "runtime/infer/svi.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "runtime/infer/nonfinite.hpp"
#include "runtime/rng/generator.hpp"

namespace vireo::infer {

OnNonfinite parse_on_nonfinite(const std::string& text) {
  if (text == "skip") return OnNonfinite::Skip;
  if (text == "stop") return OnNonfinite::Stop;
  if (text == "shrink-lr") return OnNonfinite::ShrinkLr;
  throw std::invalid_argument("unknown --on-nonfinite policy '" + text + "'; choose skip, stop or shrink-lr");
}

Svi::Svi(interp::Context& ctx, guide::Guide& guide, optim::Optimizer& optimizer, Elbo& elbo, StabilityOptions stability)
    : ctx_(ctx), guide_(guide), optim_(optimizer), elbo_(elbo), opts_(std::move(stability)), base_lr_(optimizer.lr()) {
  if (opts_.clip_grad_norm < 0 || !std::isfinite(opts_.clip_grad_norm))
    throw std::invalid_argument("--clip-grad-norm must be a positive number (0: off)");
  if (opts_.clip_value < 0 || !std::isfinite(opts_.clip_value))
    throw std::invalid_argument("--clip-value must be a positive number (0: off)");
  if (opts_.max_consecutive < 1) throw std::invalid_argument("the number of refused steps that stop a fit must be at least 1");
  if (opts_.kl_anneal < 0) throw std::invalid_argument("--kl-anneal must be a number of steps (0: off)");
  if (!(opts_.kl_floor > 0 && opts_.kl_floor <= 1)) throw std::invalid_argument("--kl-floor must be in (0, 1]");
}

double Svi::latent_weight(long t) const {
  if (opts_.kl_anneal <= 0 || t >= opts_.kl_anneal) return 1.0;
  return opts_.kl_floor + (1 - opts_.kl_floor) * static_cast<double>(t) / static_cast<double>(opts_.kl_anneal);
}

StepResult Svi::refuse(StepResult r, std::string why, std::size_t stored) {
  r.applied = false;
  ctx_.store().truncate(stored);
  if (exchange_) exchange_->agree(std::make_exception_ptr(std::runtime_error("the step was refused: " + why)));
  ++consecutive_;
  switch (opts_.on_nonfinite) {
    case OnNonfinite::Stop:
      r.stop = true;
      break;
    case OnNonfinite::ShrinkLr:
      shrink_ *= opts_.shrink;
      optim_.set_lr(optim_.lr() * opts_.shrink);
      why += fmt::format("; the learning rate is now {:.3g}", optim_.lr());
      [[fallthrough]];
    case OnNonfinite::Skip:
      if (consecutive_ >= opts_.max_consecutive) {
        r.stop = true;
        why = fmt::format("{} steps in a row were refused; the last: {}", consecutive_, why);
      }
      break;
  }
  r.rejected_because = std::move(why);
  return r;
}

StepResult Svi::step() {
  // Nothing that outlives the step changes before the step is known to be
  // finite (STYLE.md): the loss and the optimizer only propose; commit()
  // applies. A refused step leaves parameters, optimizer, baselines, the
  // schedule's clock and the annealing weight as they were; only the random
  // stream, which the host reseeds per attempt, moves on.
  const long t = steps_;
  const double lr = opts_.schedule.constant() ? optim_.lr() : base_lr_ * opts_.schedule.factor(t) * shrink_;
  const std::size_t stored = ctx_.store().size();  // parameters first created by this step go if it is refused
  const double weight = latent_weight(t);
  StepResult r;
  r.lr = lr;
  ElboEstimate est;
  // A step recorded earlier and replayed (compiled_step.hpp): the same bits
  // as running the program, or, when anything is not finite, not used.
  const bool may_replay = opts_.replay && weight == 1.0 && !exchange_ && elbo_.replayable();
  const bool replayed = may_replay && compiled_.ready(ctx_) && compiled_.run(ctx_);
  ad::Tape& tape = replayed ? compiled_.tape() : ctx_.tape();
  if (replayed) {
    est.elbo = compiled_.elbo();
    est.loss = compiled_.loss();
    r.loss = -est.elbo;
  } else {
    const rng::Generator before = ctx_.rng();
    ctx_.set_latent_weight(weight);
    ctx_.begin_step();
    // While a replay is being recorded, decisions on latent values are kept (ad::Tape::add_guard).
    struct Guards {
      ad::Tape& t;
      ~Guards() { t.want_guards(false); }
    } guards{ctx_.tape()};
    ctx_.tape().want_guards(may_replay && compiled_.recording(ctx_));
    // The step's executions only: evaluations, traces and diagnoses run every
    // loop iteration by iteration.
    struct Stepping {
      interp::Context& c;
      explicit Stepping(interp::Context& ctx, bool batch) : c(ctx) {
        c.set_batch_loops(batch);
        c.set_stepping(true);
      }
      ~Stepping() {
        c.set_batch_loops(false);
        c.set_stepping(false);
      }
    } stepping(ctx_, elbo_.batches_loops());
    try {
      est = elbo_.loss(ctx_, guide_);
    } catch (const interp::RunError& e) {
      ctx_.set_latent_weight(1.0);
      if (!e.numeric() || exchange_) {
        ctx_.store().truncate(stored);
        if (exchange_) exchange_->agree(std::current_exception());
        throw;
      }
      r.loss = std::numeric_limits<double>::quiet_NaN();
      r.error = e;
      return refuse(r, e.what(), stored);
    } catch (...) {
      ctx_.set_latent_weight(1.0);
      ctx_.store().truncate(stored);
      if (exchange_) exchange_->agree(std::current_exception());
      throw;
    }
    ctx_.set_latent_weight(1.0);
    r.loss = -est.elbo;
    if (!std::isfinite(est.loss.item())) {
      std::string why = fmt::format("the ELBO is {}", std::isfinite(est.elbo) ? "finite but the surrogate loss is not" : fmt::format("{}", est.elbo));
      if (!est.nonfinite.empty()) why += " at " + est.nonfinite;
      return refuse(r, why, stored);
    }
    if (may_replay) compiled_.observe(ctx_, before, est);
    tape.backward(est.loss);
  }

  // 1. Gather every gradient first: a step is applied whole or not at all.
  //    The buffers live across steps, so this copies without allocating.
  std::vector<params::Entry*>& entries = entries_;
  std::vector<Eigen::ArrayXd>& grads = grads_;
  entries.clear();
  entry_index_.clear();
  double norm2 = 0;
  std::optional<StepResult> refused;
  auto gather = [&](const std::string& name, const ad::Var& leaf, std::size_t index) {
    const std::size_t k = entries.size();
    params::Entry* e = &ctx_.store().entries()[index];
    entries.push_back(e);
    entry_index_.push_back(index);
    if (grads.size() <= k) grads.emplace_back();
    Eigen::ArrayXd& g = grads[k];
    const double* d = tape.grad_data(leaf);
    if (leaf.numel() == 1) {  // a scalar parameter (one per loop iteration): no array machinery
      g.resize(1);
      g[0] = d ? *d : 0.0;
      if (std::isfinite(g[0])) {
        if (opts_.clip_value > 0) g[0] = std::min(std::max(g[0], -opts_.clip_value), opts_.clip_value);
        norm2 += g[0] * g[0];
        return true;
      }
    } else if (d) {
      g = Eigen::Map<const Eigen::ArrayXd>(d, static_cast<Eigen::Index>(leaf.numel()));
    } else {
      g.setZero(static_cast<Eigen::Index>(leaf.numel()));
    }
    if (!g.allFinite())
      for (Eigen::Index i = 0; i < g.size(); ++i)
        if (!std::isfinite(g[i])) {
          refused = refuse(r, fmt::format("the gradient for {} is {} (parameter '{}', element {}, value {:.6g}); the ELBO was {:.6g}",
                                          describe_parameter(guide_, name), g[i], name, i, e->unconstrained[i], est.elbo), stored);
          return false;
        }
    if (opts_.clip_value > 0) g = g.cwiseMax(-opts_.clip_value).cwiseMin(opts_.clip_value);
    norm2 += g.square().sum();
    return true;
  };
  if (replayed) {
    for (const CompiledStep::Leaf& l : compiled_.leaves())
      if (!gather(ctx_.store().entries()[l.entry].name, ad::Var(&tape, l.node), l.entry)) return *refused;
  } else {
    std::size_t k = 0;
    for (const auto& [name, leaf] : ctx_.param_leaves())
      if (!gather(name, leaf, ctx_.param_leaf_entry(k++))) return *refused;
  }
  // A data-parallel fit: the whole data's ELBO and gradient from every rank's share.
  if (exchange_) {
    double elbo = est.elbo;
    norm2 = exchange_->reduce(elbo, entries, grads);
    est.elbo = elbo;
    r.loss = -elbo;
  }
  r.grad_norm = std::sqrt(norm2);
  if (!std::isfinite(r.grad_norm)) {
    // Every element is finite but their squares overflow: say whose is largest.
    std::size_t at = 0;
    Eigen::Index el = 0;
    double top = 0;
    for (std::size_t k = 0; k < entries.size(); ++k)
      for (Eigen::Index i = 0; i < grads[k].size(); ++i)
        if (std::abs(grads[k][i]) > top) {
          top = std::abs(grads[k][i]);
          at = k;
          el = i;
        }
    const std::string& name = entries[at]->name;
    std::string whose = describe_parameter(guide_, name);
    if (whose.find("'" + name + "'") == std::string::npos) whose += " (parameter '" + name + "')";
    return refuse(r, fmt::format("the gradient's norm overflows: its largest element, {:.3g}, is for {}, element {}; the ELBO was {:.6g}",
                                 grads[at][el], whose, el, est.elbo), stored);
  }
  if (opts_.clip_grad_norm > 0 && r.grad_norm > opts_.clip_grad_norm) {
    const double f = opts_.clip_grad_norm / r.grad_norm;
    for (std::size_t k = 0; k < entries.size(); ++k) grads[k] *= f;
  }

  // 2. The update of every parameter, into scratch: an update that would
  //    overflow a parameter refuses the step before anything moved.
  std::vector<Eigen::ArrayXd>& next = next_;
  if (next.size() < entries.size()) next.resize(entries.size());
  optim_.begin_step(lr);
  r.lr = optim_.step_lr();
  for (std::size_t k = 0; k < entries.size(); ++k) {
    params::Entry* e = entries[k];
    optim_.propose(entry_index_[k], e->name, e->unconstrained, grads[k], next[k]);
    if (next[k].size() == 1 ? !std::isfinite(next[k][0]) : !next[k].allFinite())
      return refuse(r, fmt::format("the update of {} overflows (parameter '{}', gradient norm {:.3g}, learning rate {:.3g})",
                                   describe_parameter(guide_, e->name), e->name, r.grad_norm, optim_.step_lr()), stored);
  }

  if (exchange_) exchange_->agree(nullptr);  // every rank's update is finite

  // 3. Commit: the one place where per-step state moves.
  for (std::size_t k = 0; k < entries.size(); ++k) {  // same size: no allocation
    if (next[k].size() == 1 && entries[k]->unconstrained.size() == 1)
      entries[k]->unconstrained[0] = next[k][0];
    else
      entries[k]->unconstrained = next[k];
  }
  optim_.commit();
  elbo_.end_step();
  opts_.schedule.end_step(t, est.elbo);
  ++steps_;
  consecutive_ = 0;
  return r;
}

double Svi::evaluate_loss() {
  const std::size_t stored = ctx_.store().size();
  ctx_.begin_step();
  double elbo = 0;
  try {
    elbo = elbo_.loss(ctx_, guide_).elbo;
  } catch (...) {
    ctx_.store().truncate(stored);
    throw;
  }
  ctx_.store().truncate(stored);
  return -elbo;
}

}  // namespace vireo::infer
