// The automatic guides' shared machinery and the per-site families
// (AutoNormal, AutoDelta, and the discrete per-site guides).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "runtime/guide/auto_realnvp.hpp"
#include "runtime/guide/auto_vector.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/interp/interpreter.hpp"
#include "runtime/par/parallel.hpp"
#include "stdlib/constraints/biject_to.hpp"
#include "stdlib/dist/checks.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/registry.hpp"
#include "stdlib/math/stable.hpp"
#include "runtime/rng/samplers.hpp"

namespace vireo::guide {

using handlers::Message;
using handlers::MsgType;

void AutoGuide::run(interp::Context& ctx) {
  ctx_ = &ctx;
  handlers::HandlerStack::Scoped scope(ctx.handlers(), *this);
  // Observed sites would only be stopped in process(): skip them whole.
  interp::Interpreter(ctx, /*latent_only=*/true).run(graph_.model);
}

namespace {

bool subsampled(const handlers::Frames& frames) {
  for (const auto& f : frames)
    if (f.subsample != f.size) return true;
  return false;
}

bool same_values(const ad::Tensor& a, const ad::Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

// Whether two messages of a latent site ask the guide for the same thing:
// name, plates, scale, mask and support.
bool same_site(const Message& a, const Message& b) {
  if (a.name != b.name || a.scale != b.scale || a.mask != b.mask || a.frames.size() != b.frames.size()) return false;
  for (std::size_t i = 0; i < a.frames.size(); ++i) {
    const auto &f = a.frames[i], &g = b.frames[i];
    if (f.plate != g.plate || f.name != g.name || f.size != g.size || f.subsample != g.subsample) return false;
  }
  const constraints::Constraint &s = a.fn->support(), &t = b.fn->support();
  return s.kind == t.kind && same_values(s.lower, t.lower) && same_values(s.upper, t.upper);
}

}  // namespace

void AutoGuide::run_planned(interp::Context& ctx) {
  if (!plannable()) return run(ctx);
  last_stepping_ = ctx.stepping();
  if (!plan_ready_ || skip_plan_once_) {
    skip_plan_once_ = false;
    if (!ctx.stepping()) {  // an evaluation: interpreted, and nothing recorded (Context::stepping)
      last_run_ = Mode::Plain;
      return run(ctx);
    }
    recording_.clear();
    recording_ok_ = true;
    mode_ = Mode::Recording;
    last_run_ = Mode::Plain;
    try {
      run(ctx);
    } catch (...) {
      mode_ = Mode::Plain;
      throw;
    }
    mode_ = Mode::Plain;
    last_run_ = Mode::Recording;
    return;
  }
  ctx_ = &ctx;
  plan_missed_ = false;
  mode_ = Mode::Planned;
  last_run_ = Mode::Plain;
  try {
    handlers::HandlerStack::Scoped scope(ctx.handlers(), *this);
    for (std::size_t i = 0; i < plan_.size();) {
      if (const std::size_t taken = send_batch(ctx, i)) {
        i += taken;
        continue;
      }
      scratch_ = plan_[i++];
      scratch_.rng = &ctx.rng();
      scratch_.tape = &ctx.tape();
      ctx.handlers().apply(scratch_);
    }
  } catch (const PlanMissed&) {
    plan_missed_ = true;
  } catch (const interp::RunError&) {
    mode_ = Mode::Plain;
    throw;
  } catch (const std::exception& e) {
    // As the interpreter reports a failing site: where it is, and whether the
    // numbers of this step (a scale that underflowed) made it fail, so that
    // SVI may refuse the step instead of stopping.
    mode_ = Mode::Plain;
    throw interp::site_error(scratch_.site, scratch_.name, e);
  }
  mode_ = Mode::Plain;
  last_run_ = Mode::Planned;
}

namespace {

// Whether two messages' supports are the same (kind and bounds).
bool same_support(const Message& a, const Message& b) {
  const constraints::Constraint &s = a.fn->support(), &t = b.fn->support();
  return s.kind == t.kind && same_values(s.lower, t.lower) && same_values(s.upper, t.upper);
}

// Whether a bound of a batched site's support is, at iteration `it` of the
// batch (n iterations), the iteration site's bound `one`: the same values
// for every iteration, or the iteration's row.
bool bound_at(const ad::Tensor& batched, std::int64_t n, std::int64_t it, const ad::Tensor& one) {
  if (batched.numel() == one.numel()) return std::equal(one.data(), one.data() + one.numel(), batched.data());
  if (batched.shape().rank() < 1 || batched.shape()[0] != n || batched.numel() != n * one.numel()) return false;
  const double* row = batched.data() + it * one.numel();
  return std::equal(one.data(), one.data() + one.numel(), row);
}

// Whether the plan's message `p` is iteration `it` of the model's batched
// site `m`, whose support is `t`.
bool same_iteration(const Message& p, const Message& m, const constraints::Constraint& t, std::int64_t n, std::int64_t it) {
  if (p.site != m.site || p.loop_index.size() != 1 || p.loop_index[0] != m.batch_first + it || !p.frames.empty() ||
      m.frames.size() != 1 || p.scale != m.scale || p.mask != m.mask)
    return false;
  const constraints::Constraint& s = p.fn->support();
  return s.kind == t.kind && bound_at(t.lower, n, it, s.lower) && bound_at(t.upper, n, it, s.upper);
}

}  // namespace

std::size_t AutoGuide::batch_length(std::size_t i) const {
  const Message& first = plan_[i];
  if (!first.site || first.site->batch_loop == ir::none || first.loop_index.size() != 1 || !first.frames.empty()) return 0;
  const ir::BatchLoop& loop = graph_.batch_loops.at(static_cast<std::size_t>(first.site->batch_loop));
  const std::size_t k = loop.latent.size();
  std::size_t end = i;
  while (end < plan_.size() && plan_[end].site && plan_[end].site->batch_loop == first.site->batch_loop) ++end;
  if ((end - i) % k != 0 || (end - i) / k < 2) return 0;
  const std::size_t n = (end - i) / k;
  const std::int64_t lo = first.loop_index[0];
  // The iterations in order, each with the loop's sites in the body's order,
  // on one scale, and each site with one support throughout.
  for (std::size_t it = 0; it < n; ++it)
    for (std::size_t j = 0; j < k; ++j) {
      const Message& p = plan_[i + it * k + j];
      if (p.site->id != loop.latent[j] || p.loop_index.size() != 1 || p.loop_index[0] != lo + static_cast<std::int64_t>(it) ||
          !p.frames.empty() || p.scale != first.scale || p.mask != first.mask || !same_support(p, plan_[i + j]))
        return 0;
    }
  return end - i;
}

std::size_t AutoGuide::send_batch(interp::Context& ctx, std::size_t i) {
  if (!ctx.batch_loops() || batches_refused_) return 0;
  // Where the plan's batches are: found once per plan.
  std::size_t& length = batch_lengths_[i];
  if (length == unknown_length) length = batch_length(i);
  if (length == 0) return 0;
  const std::size_t k = graph_.batch_loops.at(static_cast<std::size_t>(plan_[i].site->batch_loop)).latent.size();
  if (batch_.size() < k) batch_.resize(k);
  const std::span<Message> out(batch_.data(), k);
  if (!continuous_batch(ctx, i, std::span<const Message>(plan_.data() + i, length), k, out)) return 0;
  for (Message& b : out) {
    b.rng = &ctx.rng();
    b.tape = &ctx.tape();
    try {
      ctx.handlers().apply(b);
    } catch (const interp::RunError&) {
      throw;
    } catch (const std::exception& e) {
      throw interp::site_error(b.site, b.name, e);
    }
  }
  return length;
}

bool AutoGuide::confirm(handlers::Trace& guide_trace, const handlers::Trace& model_trace) {
  const Mode last = last_run_;
  last_run_ = Mode::Plain;
  if (last == Mode::Recording) {
    bool same = recording_ok_ && recording_.size() == plan_.size();
    for (std::size_t i = 0; same && i < plan_.size(); ++i) same = same_site(recording_[i], plan_[i]);
    agreeing_runs_ = !recording_ok_ ? 0 : same ? agreeing_runs_ + 1 : 1;
    std::swap(plan_, recording_);
    ++plan_version_;
    batch_lengths_.assign(plan_.size(), unknown_length);
    plan_ready_ = recording_ok_ && agreeing_runs_ >= needed_runs_;
    return true;
  }
  if (last != Mode::Planned) return true;
  // A loop drawn as one batch that the model ran one iteration at a time:
  // run again without batches, and draw none from now on. (A run abandoned
  // for a missing parameter is run again below, batches and all.)
  for (const auto& g : guide_trace.sites())
    if (!plan_missed_ && g.msg.batch_first >= 0 && !model_trace.find(g.msg.name)) {
      batches_refused_ = true;
      return false;
    }
  // The model's latent sites of this run must be the plan's, in order; a
  // loop's batched sites stand for the plan's block of its iterations (k
  // sites each, iteration by iteration), one after another in the body's order.
  bool ok = !plan_missed_;
  std::size_t k = 0;
  const ir::BatchLoop* loop = nullptr;  // the batch being matched
  std::size_t block = 0, next = 0, width = 0;
  std::int64_t n = 0;
  for (const auto& s : model_trace.sites()) {
    if (!ok) break;
    const Message& m = s.msg;
    if (m.type != MsgType::Sample || m.is_observed) continue;
    if (m.batch_first < 0) {
      ok = (!loop || next == width) && k < plan_.size() && same_site(plan_[k], m);
      loop = nullptr;
      ++k;
      continue;
    }
    if (!loop || next == width) {  // the batch's first site
      ok = (!loop || next == width) && m.site && m.site->batch_loop != ir::none && m.value.var.rank() >= 1;
      if (!ok) break;
      loop = &graph_.batch_loops.at(static_cast<std::size_t>(m.site->batch_loop));
      width = loop->latent.size();
      n = m.value.var.shape()[0];
      block = k;
      next = 0;
      k += static_cast<std::size_t>(n) * width;
      ok = k <= plan_.size();
      if (!ok) break;
    }
    ok = m.site->id == loop->latent[next] && m.value.var.rank() >= 1 && m.value.var.shape()[0] == n;
    const constraints::Constraint& support = m.fn->support();
    for (std::int64_t it = 0; ok && it < n; ++it)
      ok = same_iteration(plan_[block + static_cast<std::size_t>(it) * width + next], m, support, n, it);
    ++next;
  }
  if (loop && next != width) ok = false;
  if (!ok || k != plan_.size()) {
    if (!last_stepping_) {  // an evaluation: rerun interpreted; the steps' plan stays
      skip_plan_once_ = true;
      return false;
    }
    plan_ready_ = false;
    agreeing_runs_ = 0;
    needed_runs_ = std::min(2 * needed_runs_, 1 << 12);
    return false;
  }
  // Each guide site's distribution is the model's of this run, as an
  // interpreted run would have recorded it (the plan's are from the run it
  // was recorded on).
  for (auto& g : guide_trace.sites())
    if (g.msg.type == MsgType::Sample)
      if (const handlers::TraceSite* m = model_trace.find(g.msg.name)) g.msg.fn = m->msg.fn;
  return true;
}

void AutoGuide::process(Message& msg) {
  // The guide's trace holds latent sites only: observed and deterministic
  // sites are hidden from the handlers outside (the ELBO's guide trace).
  if (msg.type == MsgType::Deterministic || (msg.type == MsgType::Sample && msg.is_observed)) {
    msg.stop = true;
    return;
  }
  if (msg.type == MsgType::Sample && enumerated(msg)) {
    // Summed out by the ELBO: the program goes on with a placeholder in the
    // support, which no continuous site's guide depends on (enumerable sites
    // decide no branch, loop or support), and the guide's trace never sees it.
    ad::Shape shape = msg.fn->batch_shape();
    for (auto d : msg.fn->event_shape()) shape.push_back(d);
    msg.value.var = ctx_->tape().constant(ad::Tensor(shape, 0.0));
    msg.value.kind = interp::Kind::Int;
    msg.value.plates.clear();
    for (const auto& f : msg.frames) msg.value.plates.push_back(f.plate);
    msg.has_value = true;
    msg.done = true;
    msg.stop = true;
    if (mode_ == Mode::Recording) recording_ok_ = false;
    return;
  }
  if (mode_ == Mode::Recording) {
    // A site the plan can hold: a continuous latent draw, as the guide receives it.
    if (msg.type == MsgType::Sample && !msg.done && !msg.fn->is_discrete() && !subsampled(msg.frames) &&
        !msg.baseline_value && !msg.baseline_input)
      recording_.push_back(msg);
    else
      recording_ok_ = false;
  }
  if (msg.type != MsgType::Sample || msg.done) return;
  if (msg.fn->is_discrete())
    discrete_site(*ctx_, msg);
  else
    continuous_site(*ctx_, msg);
  // A stored parameter of another shape (loaded from another model's fit)
  // would broadcast silently into the site's value: refused.
  ad::Shape want = msg.fn->batch_shape();
  for (auto d : msg.fn->event_shape()) want.push_back(d);
  if (!(msg.value.var.shape() == want))
    throw std::runtime_error(fmt::format("{}: the value drawn at site '{}' has shape {} but the site has shape {}: a "
                                         "stored parameter of this site does not fit it (parameters of another model?)",
                                         name(), msg.name, ad::to_string(msg.value.var.shape()), ad::to_string(want)));
  msg.has_value = true;
  msg.done = true;
  msg.value.plates.clear();
  for (const auto& f : msg.frames) msg.value.plates.push_back(f.plate);
}

bool AutoGuide::has_param(interp::Context& ctx, const std::string& name) const { return ctx.store().find(name) != nullptr; }

namespace {
constexpr const char* site_roles[] = {"loc", "scale", "value", "logits"};
}

std::string AutoGuide::site_param(const char* role, const std::string& site) { return std::string("auto.") + role + "." + site; }

std::optional<ParamRole> AutoGuide::parameter_role(const std::string& name) const {
  for (const char* role : site_roles) {
    const std::string prefix = site_param(role, "");
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
      return ParamRole{role, name.substr(prefix.size()), std::string(role) == "scale"};
  }
  return std::nullopt;
}

ad::Var AutoGuide::param(interp::Context& ctx, const std::string& name, const ad::Tensor& unconstrained_init,
                         const std::string& constraint) {
  if (!ctx.store().find(name)) {
    params::Entry e;
    e.name = name;
    e.shape = unconstrained_init.shape().to_vector();
    e.constraint = constraint;
    e.unconstrained =
        Eigen::Map<const Eigen::ArrayXd>(unconstrained_init.data(), static_cast<Eigen::Index>(unconstrained_init.numel()));
    ctx.store().add(std::move(e));
  }
  return ctx.param_leaf(name);
}

ad::Tensor AutoGuide::initial_value(interp::Context& ctx, const Message& msg) {
  return guide::initial_value(opts_.init, msg, ctx.rng());
}

namespace {

// A site's parameters span the full plate; under a subsampled plate the
// guide uses the rows of this step's indices. Only the outermost plate of a
// site may be subsampled (its axis 0).
struct Subsampling {
  bool active = false;
  std::int64_t full = 0;
  const ad::IntTensor* idx = nullptr;  // this execution's indices (ctx's, alive for the step)
};

Subsampling subsampling(interp::Context& ctx, const Message& msg) {
  Subsampling s;
  for (std::size_t k = 0; k < msg.frames.size(); ++k) {
    const auto& f = msg.frames[k];
    if (f.subsample == f.size) continue;
    if (k != 0)
      throw std::runtime_error(fmt::format(
          "automatic guides support subsampling only in a site's outermost plate; site '{}' is subsampled in plate '{}'",
          msg.name, f.name));
    s.active = true;
    s.full = f.size;
    s.idx = &ctx.subsample_indices().at(f.plate);
  }
  return s;
}

// Tiles a minibatch-shaped initial value over the full plate (row i of the
// full array takes row i mod B).
ad::Tensor tile_rows(const ad::Tensor& t, std::int64_t full) {
  ad::Shape s = t.shape();
  std::int64_t b = s[0], row = t.numel() / std::max<std::int64_t>(b, 1);
  s[0] = full;
  ad::Tensor out(s);
  for (std::int64_t i = 0; i < full; ++i)
    for (std::int64_t j = 0; j < row; ++j) out[i * row + j] = t[(i % b) * row + j];
  return out;
}

using math::inverse_softplus;

}  // namespace

void AutoNormal::continuous_site(interp::Context& ctx, Message& msg) {
  ad::Tape& tape = ctx.tape();
  constraints::TransformPtr t = constraints::biject_to(msg.fn->support());
  Subsampling sub = subsampling(ctx, msg);
  const std::string loc_name = site_param("loc", msg.name), scale_name = site_param("scale", msg.name);
  ad::Var loc = ctx.find_param_leaf(loc_name);  // the store asked once: this runs per site per step
  if (!loc.valid()) {
    if (planned()) throw PlanMissed{};  // msg.fn is the plan's: not for initial values
    ad::Tensor y0 = initial_value(ctx, msg);
    ad::Tensor u0 = t->inverse(tape.constant(y0)).value();
    if (sub.active) u0 = tile_rows(u0, sub.full);
    param(ctx, loc_name, u0, "real");
    param(ctx, scale_name, ad::Tensor(u0.shape(), inverse_softplus(opts_.init_scale)), "softplus_positive");
    loc = ctx.param_leaf(loc_name);
  }
  ad::Var scale = ad::softplus(ctx.param_leaf(scale_name));
  if (sub.active) {
    loc = ad::gather(loc, *sub.idx);
    scale = ad::gather(scale, *sub.idx);
  }
  dist::DistributionPtr q;
  try {
    q = dist::normal(loc, scale);
  } catch (const dist::ParameterError& e) {
    // Say which parameter of which guide, in its stored (unconstrained) terms.
    const ad::Tensor s = ctx.param_leaf(scale_name).value(), l = ctx.param_leaf(loc_name).value();
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < s.numel(); ++i)
      if (!(std::isfinite(l[i]) && std::isfinite(s[i]) && math::softplus(s[i]) > 0)) {
        bad = i;
        break;
      }
    throw dist::ParameterError(fmt::format("guide site '{}' (auto_normal's Normal): {} (element {}: {} = {:.6g}, {} = {:.6g})",
                                           msg.name, e.what(), bad, loc_name, l[bad], scale_name, s[bad]));
  }
  ad::Var u = q->rsample(*msg.rng);
  ad::Var y = t->forward(u);
  ad::Var lq = stl_ ? dist::normal(ad::detach(loc), ad::detach(scale))->log_prob(u) : q->log_prob(u);
  for (int i = 0; i < t->unconstrained_event_dim(); ++i) lq = ad::sum(lq, -1);
  msg.value.var = y;
  msg.value.kind = interp::Kind::Real;
  msg.log_prob = lq - t->log_abs_det_jacobian(u, y);
  msg.reparameterized = true;
  // On ℝ the transform is the identity: the value is a plain draw from q.
  if (msg.fn->support().kind == constraints::Kind::real) msg.q_dist = q;
}

bool AutoNormal::continuous_batch(interp::Context& ctx, std::size_t at, std::span<const Message> block, std::size_t k,
                                  std::span<Message> out) {
  ad::Tape& tape = ctx.tape();
  const std::size_t n = block.size() / k;
  const Message& first = block[0];
  const ir::BatchLoop& loop = graph_.batch_loops.at(static_cast<std::size_t>(first.site->batch_loop));
  // Each iteration's leaves in the order continuous_site makes them (the
  // step's parameter order), each of the site's own shape (a stored
  // parameter that does not fit is left to continuous_site to refuse).
  std::vector<std::vector<ad::Var>> locs(k), scales(k);
  std::vector<ad::Shape> shapes(k);
  for (std::size_t j = 0; j < k; ++j) {
    locs[j].reserve(n);
    scales[j].reserve(n);
    shapes[j] = block[j].fn->batch_shape();
    for (auto d : block[j].fn->event_shape()) shapes[j].push_back(d);
  }
  if (entries_.size() < at + block.size()) entries_.resize(at + block.size());
  for (std::size_t it = 0; it < n; ++it)
    for (std::size_t j = 0; j < k; ++j) {
      const Message& m = block[it * k + j];
      Entries& where = entries_[at + it * k + j];
      if (where.plan != plan_version() || where.store != ctx.store().generation()) {
        const params::Entry *l = ctx.store().find(site_param("loc", m.name)), *s = ctx.store().find(site_param("scale", m.name));
        if (!l || !s) throw PlanMissed{};  // made by an interpreted run, which draws them one by one
        const params::Entry* base = ctx.store().entries().data();
        where = {plan_version(), ctx.store().generation(), static_cast<std::size_t>(l - base),
                 static_cast<std::size_t>(s - base)};
      }
      ad::Var loc = ctx.param_leaf_at(where.loc_at);
      ad::Var scale = ctx.param_leaf_at(where.scale_at);
      if (!(loc.shape() == shapes[j]) || !(scale.shape() == shapes[j])) return false;  // nothing drawn yet
      locs[j].push_back(loc);
      scales[j].push_back(scale);
    }
  // The noise as continuous_site draws it: iteration by iteration, each
  // site's own draws in turn.
  std::vector<std::vector<double>> noise(k);
  for (std::size_t j = 0; j < k; ++j) noise[j].resize(n * static_cast<std::size_t>(shapes[j].numel()));
  for (std::size_t it = 0; it < n; ++it)
    for (std::size_t j = 0; j < k; ++j) {
      const std::int64_t per = shapes[j].numel();
      rng::fill_standard_normal(ctx.rng(), noise[j].data() + it * static_cast<std::size_t>(per), per);
    }
  for (std::size_t j = 0; j < k; ++j) {
    const Message& m = block[j];
    constraints::TransformPtr t = constraints::biject_to(m.fn->support());
    ad::Var loc = ad::stack(locs[j]);
    ad::Var scale = ad::softplus(ad::stack(scales[j]));
    dist::DistributionPtr q;
    try {
      q = dist::normal(loc, scale);
    } catch (const dist::ParameterError&) {
      throw PlanMissed{};  // the interpreted run names the iteration's site and parameter
    }
    // With one site per iteration, its draws are those of one fill of the
    // whole block (fill_standard_normal draws one chunk in order), so they
    // are the step's noise in node order, which a recorded step draws again
    // (infer::CompiledStep); several sites' draws interleave, and are data.
    ad::Var eps;
    if (k == 1 && loc.numel() <= par::kChunk) {
      eps = tape.push(loc.shape(), nullptr);
      std::copy(noise[j].begin(), noise[j].end(), tape.val(eps));
      tape.mark_noise(eps);
    } else {
      eps = tape.constant(ad::Tensor(loc.shape(), std::move(noise[j])));
    }
    ad::Var u = loc + scale * eps;  // as Normal::rsample
    ad::Var y = t->forward(u);
    ad::Var lq = stl_ ? dist::normal(ad::detach(loc), ad::detach(scale))->log_prob(u) : q->log_prob(u);
    for (int i = 0; i < t->unconstrained_event_dim(); ++i) lq = ad::sum(lq, -1);
    Message& b = out[j];
    b = m;
    b.name = interp::batch_site_name(m.site->name, m.loop_index[0], m.loop_index[0] + static_cast<std::int64_t>(n));
    b.batch_first = m.loop_index[0];
    b.loop_index.clear();
    b.frames.clear();
    b.frames.push_back(handlers::Frame{interp::loop_batch_plate, loop.frame, static_cast<std::int64_t>(n),
                                       static_cast<std::int64_t>(n)});
    b.value = interp::Value{y, interp::Kind::Real, {interp::loop_batch_plate}};
    b.has_value = true;
    b.done = true;
    b.log_prob = lq - t->log_abs_det_jacobian(u, y);
    b.reparameterized = true;
    b.q_dist = m.fn->support().kind == constraints::Kind::real ? q : nullptr;
  }
  return true;
}

void AutoDelta::continuous_site(interp::Context& ctx, Message& msg) {
  ad::Tape& tape = ctx.tape();
  constraints::TransformPtr t = constraints::biject_to(msg.fn->support());
  Subsampling sub = subsampling(ctx, msg);
  const std::string name = site_param("value", msg.name);
  if (!has_param(ctx, name)) {
    ad::Tensor u0 = t->inverse(tape.constant(initial_value(ctx, msg))).value();
    if (sub.active) u0 = tile_rows(u0, sub.full);
    param(ctx, name, u0, "real");
  }
  ad::Var u = ctx.param_leaf(name);
  if (sub.active) u = ad::gather(u, *sub.idx);
  msg.value.var = t->forward(u);
  msg.value.kind = interp::Kind::Real;
  ad::Shape plates;
  for (const auto& f : msg.frames) plates.push_back(f.subsample);
  msg.log_prob = ad::zeros(tape, plates);  // a point mass: log q = 0 at its own value
  msg.reparameterized = true;
}

void AutoGuide::discrete_site(interp::Context& ctx, Message& msg) {
  ad::Tape& tape = ctx.tape();
  const dist::Family* family = dist::find_family(msg.fn->name());
  if (!family || !family->discrete_guide)
    throw std::runtime_error(fmt::format("site '{}': no automatic guide for the discrete family {}", msg.name, msg.fn->name()));
  const dist::DiscreteGuideRule& rule = *family->discrete_guide;
  Subsampling sub = subsampling(ctx, msg);
  const std::string name = site_param("logits", msg.name);
  if (!has_param(ctx, name)) {
    ad::Tensor init = rule.init(*msg.fn);
    if (sub.active) init = tile_rows(init, sub.full);
    param(ctx, name, init, "real");
  }
  ad::Var l = ctx.param_leaf(name);
  if (sub.active) l = ad::gather(l, *sub.idx);
  dist::DistributionPtr q = family->make(tape, rule.params(*msg.fn, l));
  ad::Var z = tape.constant(q->sample(*msg.rng));
  msg.value.var = z;
  msg.value.kind = interp::Kind::Int;
  msg.log_prob = q->log_prob(z);
  msg.reparameterized = false;
  msg.q_dist = q;
}

}  // namespace vireo::guide
