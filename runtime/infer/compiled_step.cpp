#include "runtime/infer/compiled_step.hpp"

#include <cmath>
#include <cstring>
#include <exception>

#include "runtime/rng/samplers.hpp"

namespace vireo::infer {

namespace {

// A larger tape is not copied: its steps are dominated by array arithmetic,
// which a replay does not make cheaper.
constexpr std::int64_t kMaxValues = std::int64_t{1} << 22;  // 32 MB of doubles

bool same_bits(const double* a, const double* b, std::int64_t n) {
  return n == 0 || std::memcmp(a, b, static_cast<std::size_t>(n) * sizeof(double)) == 0;
}

}  // namespace

bool CompiledStep::store_changed(interp::Context& ctx) const {
  return generation_ != ctx.store().generation() || store_size_ != ctx.store().size();
}

bool CompiledStep::ready(interp::Context& ctx) const { return ready_ && !store_changed(ctx); }

bool CompiledStep::recording(interp::Context& ctx) const {
  if (!allowed_) return false;
  if ((ready_ || have_candidate_) && store_changed(ctx)) return true;  // observe() drops and records afresh
  return !ready_ && mismatches_ < kMaxMismatches;
}

void CompiledStep::drop() {
  have_candidate_ = ready_ = false;
  mismatches_ = 0;
  leaves_.clear();
  noise_.clear();
  ops_.clear();
  backward_order_.clear();
  program_.clear();
}

const char* CompiledStep::disqualified(interp::Context& ctx, const ElboEstimate& est) {
  if (!ctx.graph().fixed_structure) return "the program's structure depends on latent values";
  if (!est.elbo_node.valid() || est.elbo_node.tape() != &ctx.tape() || est.loss.tape() != &ctx.tape())
    return "the loss is not one particle's, on the step's tape";
  const ad::Tape& t = ctx.tape();
  if (t.num_vals() > kMaxValues) return "the step's tape is too large to copy";
  if (t.first_opaque() >= 0) return "a value on the tape is computed outside it (a host function, a non-normal draw)";
  return nullptr;
}

CompiledStep::Recording CompiledStep::record(interp::Context& ctx, const ElboEstimate& est) const {
  Recording r;
  std::size_t k = 0;
  for (const auto& [_, leaf] : ctx.param_leaves()) {
    r.leaves.push_back({leaf.index(), ctx.param_leaf_entry(k)});
    ++k;
  }
  r.loss = est.loss.index();
  r.elbo = est.elbo_node.index();
  return r;
}

// Same operations, shapes, inputs, per-node numbers, integers, and the same
// constants to the bit. Leaves and noise are compared by shape only.
bool CompiledStep::same_tape(const ad::Tape& a, const ad::Tape& b) {
  if (a.num_nodes() != b.num_nodes() || a.num_ints() != b.num_ints()) return false;
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(a.num_nodes()); ++i) {
    const ad::Node& x = a.node(i);
    const ad::Node& y = b.node(i);
    if (x.kind != y.kind || x.shape != y.shape || x.numel != y.numel || x.adj != y.adj || x.backward != y.backward ||
        x.forward != y.forward || x.in[0] != y.in[0] || x.in[1] != y.in[1] || x.in[2] != y.in[2] ||
        x.iaux[0] != y.iaux[0] || x.iaux[1] != y.iaux[1] || x.iaux[2] != y.iaux[2] ||
        std::memcmp(&x.daux, &y.daux, sizeof(double)) != 0)
      return false;
    if (x.kind == ad::NodeKind::Constant && !same_bits(a.val(x), b.val(y), x.numel)) return false;
  }
  return a.num_ints() == 0 || std::memcmp(a.ints(0), b.ints(0), a.num_ints() * sizeof(std::int64_t)) == 0;
}

bool CompiledStep::noise_matches(const ad::Tape& tape, const rng::Generator& before, const rng::Generator& after) {
  rng::Generator g = before;
  std::vector<double>& d = draws_;
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(tape.num_nodes()); ++i) {
    const ad::Node& n = tape.node(i);
    if (n.kind != ad::NodeKind::Noise) continue;
    d.resize(static_cast<std::size_t>(n.numel));
    rng::fill_standard_normal(g, d.data(), n.numel);
    if (!same_bits(d.data(), tape.val(n), n.numel)) return false;
  }
  return g.state() == after.state();
}

void CompiledStep::observe(interp::Context& ctx, const rng::Generator& before, const ElboEstimate& est) {
  // The store changed under the program (a parameter added or removed, a
  // load): record again, from scratch.
  if ((ready_ || have_candidate_) && store_changed(ctx)) drop();
  if (!allowed_ || ready_ || mismatches_ >= kMaxMismatches) return;
  // This step cannot be the program, nor the first of two that agree.
  auto refuse = [&](const char* why) {
    refused_ = why;
    ++mismatches_;
    have_candidate_ = false;
  };
  if (const char* why = disqualified(ctx, est)) return refuse(why);
  Recording now = record(ctx, est);
  if (!noise_matches(ctx.tape(), before, ctx.rng()))
    return refuse("the step drew random numbers other than the guide's standard normals");
  auto same_leaves = [&] {
    if (now.leaves.size() != leaves_.size()) return false;
    for (std::size_t k = 0; k < now.leaves.size(); ++k)
      if (now.leaves[k].node != leaves_[k].node || now.leaves[k].entry != leaves_[k].entry) return false;
    return true;
  };
  // Every leaf on the tape must be a parameter's, refilled from the store.
  std::size_t leaf_nodes = 0;
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(ctx.tape().num_nodes()); ++i)
    leaf_nodes += ctx.tape().node(i).kind == ad::NodeKind::Leaf;
  if (leaf_nodes != now.leaves.size()) return refuse("a leaf on the tape is not a parameter's");
  // (A candidate is of this store: a changed store dropped it above.)
  if (have_candidate_ && same_leaves() && now.loss == loss_ && now.elbo == elbo_ && same_tape(program_, ctx.tape())) {
    ready_ = true;
    refused_.clear();
    noise_.clear();
    ops_.clear();
    backward_order_.clear();
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(program_.num_nodes()); ++i) {
      if (program_.node(i).kind == ad::NodeKind::Noise) noise_.push_back(i);
      if (program_.node(i).kind == ad::NodeKind::Op) ops_.push_back(i);
    }
    return;
  }
  if (have_candidate_) {
    refused_ = "two steps built different tapes";
    ++mismatches_;
  }
  program_.copy_from(ctx.tape());
  leaves_ = std::move(now.leaves);
  loss_ = now.loss;
  elbo_ = now.elbo;
  generation_ = ctx.store().generation();
  store_size_ = ctx.store().size();
  have_candidate_ = true;
}

bool CompiledStep::run(interp::Context& ctx) {
  const std::vector<params::Entry>& entries = ctx.store().entries();
  for (const Leaf& l : leaves_) {
    const ad::Node& n = program_.node(l.node);
    const Eigen::ArrayXd& u = entries[l.entry].unconstrained;
    if (u.size() != n.numel) return false;  // resized in place: the interpreter says what it makes of it
    double* v = program_.val(n);
    if (n.numel == 1)
      *v = u[0];
    else
      std::copy(u.data(), u.data() + n.numel, v);
  }
  rng::Generator g = ctx.rng();
  for (std::int32_t i : noise_) {
    const ad::Node& n = program_.node(i);
    rng::fill_standard_normal(g, program_.val(n), n.numel);
  }
  try {
    program_.forward(ops_);
  } catch (const std::exception&) {  // a kernel that refuses its input (cholesky): the interpreter names the site
    return false;
  }
  // A decision made while recording no longer holds (a draw left a support,
  // a parameter its domain): the interpreter masks it or refuses the step.
  if (!program_.guards_hold()) return false;
  const double loss = program_.val(program_.node(loss_))[0];
  elbo_value_ = program_.val(program_.node(elbo_))[0];
  if (!std::isfinite(loss) || !std::isfinite(elbo_value_)) return false;
  // The first replay finds which nodes' backward runs; the others run just those.
  if (backward_order_.empty())
    program_.backward(ad::Var(&program_, loss_), &backward_order_);
  else
    program_.backward_along(ad::Var(&program_, loss_), backward_order_);
  for (const Leaf& l : leaves_) {
    const ad::Node& n = program_.node(l.node);
    if (n.adj < 0) continue;
    const double* d = program_.adj(n);
    for (std::int64_t j = 0; j < n.numel; ++j)
      if (!std::isfinite(d[j])) return false;
  }
  ctx.rng() = g;
  ++replayed_;
  return true;
}

}  // namespace vireo::infer
