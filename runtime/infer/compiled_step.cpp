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

bool CompiledStep::ready(interp::Context& ctx) const {
  return ready_ && ctx.store().generation() == generation_ && ctx.store().size() == store_size_;
}

bool CompiledStep::recording(interp::Context& ctx) const {
  if (!allowed_) return false;
  const bool changed = generation_ != ctx.store().generation() || store_size_ != ctx.store().size();
  if ((ready_ || have_candidate_) && changed) return true;  // observe() drops and records afresh
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

bool CompiledStep::qualifies(interp::Context& ctx, const ElboEstimate& est) {
  auto no = [&](const char* why) {
    refused_ = why;
    return false;
  };
  if (!ctx.graph().fixed_structure) return no("the program's structure depends on latent values");
  if (!est.elbo_node.valid() || est.elbo_node.tape() != &ctx.tape() || est.loss.tape() != &ctx.tape())
    return no("the loss is not one particle's, on the step's tape");
  const ad::Tape& t = ctx.tape();
  if (t.num_vals() > kMaxValues) return no("the step's tape is too large to copy");
  if (t.first_opaque() >= 0) return no("a value on the tape is computed outside it (a host function, a non-normal draw)");
  return true;
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
  if ((ready_ || have_candidate_) && (generation_ != ctx.store().generation() || store_size_ != ctx.store().size())) drop();
  if (!allowed_ || ready_ || mismatches_ >= kMaxMismatches) return;
  if (!qualifies(ctx, est)) {
    ++mismatches_;
    return;
  }
  Recording now = record(ctx, est);
  if (!noise_matches(ctx.tape(), before, ctx.rng())) {
    refused_ = "the step drew random numbers other than the guide's standard normals";
    ++mismatches_;
    have_candidate_ = false;
    return;
  }
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
  if (leaf_nodes != now.leaves.size()) {
    refused_ = "a leaf on the tape is not a parameter's";
    ++mismatches_;
    have_candidate_ = false;
    return;
  }
  if (have_candidate_ && same_leaves() && now.loss == loss_ && now.elbo == elbo_ &&
      generation_ == ctx.store().generation() && store_size_ == ctx.store().size() &&
      same_tape(program_, ctx.tape())) {
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
