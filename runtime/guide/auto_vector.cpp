// The joint-vector automatic guides: AutoContinuous (layout discovery, the
// hand-out of one joint draw to the sites) and its three Gaussian families.
#include "runtime/guide/auto_vector.hpp"

#include <Eigen/Cholesky>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runtime/interp/interpreter.hpp"
#include "runtime/rng/samplers.hpp"
#include "stdlib/constraints/biject_to.hpp"
#include "stdlib/dist/ops.hpp"
#include "stdlib/math/stable.hpp"

namespace vireo::guide {

using handlers::Message;
using handlers::MsgType;

namespace {

using math::log_2pi;

using math::inverse_softplus;
double softplus(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }

// ‖ε‖² of a constant: the part of log q that no parameter moves.
double squared_norm(const ad::Var& eps) {
  const double* p = eps.data();
  double s = 0;
  for (std::int64_t i = 0; i < eps.numel(); ++i) s += p[i] * p[i];
  return s;
}

ad::Shape value_shape(const Message& msg) {
  ad::Shape s = msg.fn->batch_shape();
  for (auto d : msg.fn->event_shape()) s.push_back(d);
  return s;
}

const char* const same_sites_hint =
    "joint-vector guides (auto_diagonal_normal, auto_mvn, auto_lowrank_mvn) need the same set of continuous "
    "sites, with the same shapes, on every run; auto_normal creates each site's guide when the site first "
    "appears and handles models whose sites change from run to run (LANGUAGE.md, \"Automatic guides cover every "
    "latent site\")";

// A joint vector cannot follow a random mini-batch of a plate: the vector
// spans the whole plate, and a subsampled site sees B of its rows.
void refuse_subsample(const Message& msg, const std::string& guide) {
  for (const auto& f : msg.frames)
    if (f.subsample != f.size)
      throw std::runtime_error(fmt::format(
          "site '{}' is in plate '{}', subsampled to {} of {}: {} guides every continuous site with one joint vector "
          "and cannot guide a random mini-batch of it; use auto_normal (its per-site guides follow the subsample) "
          "or drop `subsample =`",
          msg.name, f.name, f.subsample, f.size, guide));
}

}  // namespace

// ---- AutoContinuous ----

// Runs the model once to find the continuous latent sites: each gets its
// initial value from the init strategy (so that the program goes on with a
// sensible value); discrete sites draw from their priors. Every message is
// stopped here, so the handlers outside (the ELBO's guide trace) never see
// the prototype run.
class AutoContinuous::Prototype final : public handlers::Handler {
 public:
  Prototype(AutoContinuous& g, interp::Context& ctx, std::vector<ad::Tensor>& inits)
      : g_(g), ctx_(ctx), inits_(inits) {}

  void process(Message& msg) override {
    msg.stop = true;
    if (msg.type != MsgType::Sample || msg.is_observed || msg.done || msg.fn->is_discrete()) return;
    refuse_subsample(msg, g_.name());
    constraints::TransformPtr t = constraints::biject_to(msg.fn->support());
    ad::Tensor y0 = g_.initial_value(ctx_, msg);
    ad::Tensor u0 = t->inverse(ctx_.tape().constant(y0)).value();
    VectorBlock b;
    b.name = msg.name;
    b.shape = value_shape(msg);
    b.ushape = u0.shape();
    b.offset = g_.dim_;
    b.size = u0.numel();
    b.plates = msg.frames.size();
    g_.dim_ += b.size;
    g_.index_.emplace(b.name, g_.blocks_.size());
    g_.blocks_.push_back(std::move(b));
    scales_.push_back(msg.scale);
    inits_.push_back(std::move(u0));
    msg.value.var = ctx_.tape().constant(y0);
    msg.value.kind = interp::Kind::Real;
    msg.has_value = true;
    msg.done = true;
  }
  const std::vector<double>& scales() const { return scales_; }

 private:
  AutoContinuous& g_;
  interp::Context& ctx_;
  std::vector<ad::Tensor>& inits_;
  std::vector<double> scales_;
};

std::optional<ParamRole> AutoContinuous::parameter_role(const std::string& name) const {
  const std::string prefix = pname("");
  if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
    const std::string role = name.substr(prefix.size());
    return ParamRole{role, "", role == "scale"};
  }
  return AutoGuide::parameter_role(name);
}

void AutoContinuous::discover(interp::Context& ctx) {
  blocks_.clear();
  index_.clear();
  dim_ = 0;
  std::vector<ad::Tensor> inits;
  Prototype proto(*this, ctx, inits);
  // With the parameters already stored (a loaded fit) the prototype's draws
  // must not move the random stream: the run they precede then draws what
  // it would have drawn in a fit that never stopped, so resuming gives the
  // same bytes.
  const bool stored = ctx.store().find(pname("loc")) != nullptr;
  const rng::Generator stream = ctx.rng();
  {
    handlers::HandlerStack::Scoped scope(ctx.handlers(), proto);
    interp::Interpreter(ctx).run(graph_.model);
  }
  if (stored) ctx.rng() = stream;
  // The carrier of the joint term: the first site with the fewest plates
  // (ideally none, so that its log q is one number) among those whose
  // log-density counts (scale > 0).
  carrier_ = 0;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const bool better = proto.scales()[i] > 0 &&
                        (proto.scales()[carrier_] <= 0 || blocks_[i].plates < blocks_[carrier_].plates);
    if (better) carrier_ = i;
  }
  const params::Entry* loc = ctx.store().find(pname("loc"));
  if (!loc) {
    ad::Tensor loc0(ad::Shape{dim_});
    for (std::size_t i = 0; i < blocks_.size(); ++i)
      std::copy(inits[i].data(), inits[i].data() + blocks_[i].size, loc0.data() + blocks_[i].offset);
    init_params(ctx, loc0);
  }
}

void AutoContinuous::run(interp::Context& ctx) {
  // 1. The layout: on the first run, and again whenever the store lacks the
  //    parameters (a fresh store); a stored fit must match it.
  if (blocks_.empty() || !ctx.store().find(pname("loc"))) discover(ctx);
  const params::Entry* loc = ctx.store().find(pname("loc"));
  if (loc && loc->unconstrained.size() != dim_)
    throw std::runtime_error(fmt::format("{}: the stored parameter '{}' has {} coordinates but the model's continuous "
                                         "latent sites have {}; the parameters belong to another model",
                                         name(), loc->name, loc->unconstrained.size(), dim_));
  // 2. One joint draw of u and its log q for this run.
  current_ = dim_ > 0 ? draw(ctx) : Draw{};
  // 3. The model's program hands out the slices (continuous_site).
  seen_.assign(blocks_.size(), false);
  AutoGuide::run(ctx);
  for (std::size_t i = 0; i < blocks_.size(); ++i)
    if (!seen_[i])
      changed(fmt::format("site '{}', a continuous latent site on {}'s first run, did not occur in this run",
                          blocks_[i].name, name()));
}

void AutoContinuous::continuous_site(interp::Context& ctx, Message& msg) {
  (void)ctx;
  auto it = index_.find(msg.name);
  if (it == index_.end())
    changed(fmt::format("site '{}' is a continuous latent site that {}'s first run did not have", msg.name, name()));
  const std::size_t i = it->second;
  const VectorBlock& b = blocks_[i];
  refuse_subsample(msg, name());
  const ad::Shape shape = value_shape(msg);
  if (!(shape == b.shape))
    changed(fmt::format("site '{}' has shape {} in this run but {} on {}'s first run", msg.name, ad::to_string(shape),
                        ad::to_string(b.shape), name()));
  seen_[i] = true;
  constraints::TransformPtr t = constraints::biject_to(msg.fn->support());
  ad::Var x = ad::reshape(ad::slice(current_.u, 0, b.offset, b.offset + b.size), b.ushape);
  ad::Var y = t->forward(x);
  // The site's own term: u ↦ y is a change of variables, so q(y) = q(u) / |det J|.
  ad::Var lq = -t->log_abs_det_jacobian(x, y);
  if (i == carrier_) {
    // The joint log q(u) goes on one site, so that the guide trace's sum is
    // log q(u) − Σ log|det J|: a guide-only entry of its own would be
    // refused by the ELBO's check that guide and model have the same latent
    // sites. The Trace multiplies a site's log-density by its scale and sums
    // its elements, so the term is spread over the elements and divided by
    // the scale: it counts once, whole. Where the term sits does not bias
    // the score terms of discrete sites: u is drawn independently of them.
    if (!(msg.scale > 0))
      throw std::runtime_error(fmt::format("{}: site '{}' carries the joint log-density of the guide but has scale {} in "
                                           "this run; the joint term cannot be weighted by 0",
                                           name(), msg.name, msg.scale));
    lq = lq + current_.log_q / (static_cast<double>(std::max<std::int64_t>(lq.numel(), 1)) * msg.scale);
  }
  msg.value.var = y;
  msg.value.kind = interp::Kind::Real;
  msg.log_prob = lq;
  msg.reparameterized = true;
}

void AutoContinuous::changed(const std::string& what) const {
  throw std::runtime_error(what + "; " + same_sites_hint);
}

Eigen::Map<const Eigen::ArrayXd> AutoContinuous::stored(const params::ParamStore& store, const char* what) const {
  const params::Entry* e = store.find(pname(what));
  if (!e) throw std::logic_error(fmt::format("{}: no parameter '{}' in the store yet (run the guide once)", name(), pname(what)));
  return {e->unconstrained.data(), e->unconstrained.size()};
}

Eigen::VectorXd AutoContinuous::mean(const params::ParamStore& store) const { return stored(store, "loc").matrix(); }

ad::Var AutoContinuous::sticking_the_landing(interp::Context& ctx, const Draw& d, const Eigen::VectorXd& grad_u) const {
  ad::Tape& tape = ctx.tape();
  ad::Tensor g(ad::Shape{grad_u.size()});
  std::copy(grad_u.data(), grad_u.data() + grad_u.size(), g.data());
  // u − detach(u) is 0 in value and the identity in gradient.
  return tape.constant(d.log_q.item()) + ad::sum(tape.constant(g) * (d.u - ad::detach(d.u)));
}

ad::Var AutoContinuous::standard_normal(interp::Context& ctx, std::int64_t n) const {
  ad::Var eps = ctx.tape().push(ad::Shape{n}, nullptr);
  rng::fill_standard_normal(ctx.rng(), ctx.tape().val(eps), n);
  ctx.tape().mark_noise(eps);
  return eps;
}

// ---- AutoDiagonalNormal: u = loc + scale ⊙ ε ----

void AutoDiagonalNormal::init_params(interp::Context& ctx, const ad::Tensor& loc0) {
  param(ctx, pname("loc"), loc0, "real");
  param(ctx, pname("scale"), ad::Tensor(loc0.shape(), inverse_softplus(opts_.init_scale)), "softplus_positive");
}

AutoContinuous::Draw AutoDiagonalNormal::draw(interp::Context& ctx) {
  const std::int64_t d = latent_dim();
  ad::Var loc = ctx.param_leaf(pname("loc"));
  ad::Var scale = ad::softplus(ctx.param_leaf(pname("scale")));
  ad::Var eps = standard_normal(ctx, d);
  Draw r;
  r.u = loc + scale * eps;
  const double c = -0.5 * static_cast<double>(d) * log_2pi;
  // log N(u; loc, diag(scale²)) at u = loc + scale ⊙ ε, exactly.
  r.log_q = -ad::sum(ad::log(scale)) + (c - 0.5 * squared_norm(eps));
  if (stl_) {
    // ∇u log q = −ε / scale.
    const Eigen::Map<const Eigen::ArrayXd> e(eps.data(), d), sv(scale.data(), d);
    r.log_q = sticking_the_landing(ctx, r, -(e / sv).matrix());
  }
  return r;
}

Eigen::MatrixXd AutoDiagonalNormal::covariance(const params::ParamStore& store) const {
  Eigen::ArrayXd s = stored(store, "scale").unaryExpr([](double x) { return softplus(x); });
  return (s * s).matrix().asDiagonal();
}

// ---- AutoMultivariateNormal: u = loc + diag(scale) · U · ε ----
// Pyro's parameterisation: scale (softplus, starts at init_scale) and a unit
// lower-triangular U (strictly lower part free, starts at 0), so that the
// start is init_scale · I, the diagonal of L stays positive without a
// constraint on a matrix entry, and log|det L| = Σ log scale.

void AutoMultivariateNormal::init_params(interp::Context& ctx, const ad::Tensor& loc0) {
  const std::int64_t d = loc0.numel();
  param(ctx, pname("loc"), loc0, "real");
  param(ctx, pname("scale"), ad::Tensor(loc0.shape(), inverse_softplus(opts_.init_scale)), "softplus_positive");
  param(ctx, pname("scale_tril"), ad::Tensor(ad::Shape{d, d}, 0.0), "unit_lower_cholesky");
}

AutoContinuous::Draw AutoMultivariateNormal::draw(interp::Context& ctx) {
  const std::int64_t d = latent_dim();
  if (eye_.numel() != d * d) {
    strict_lower_ = ad::Tensor(ad::Shape{d, d}, 0.0);
    eye_ = ad::Tensor(ad::Shape{d, d}, 0.0);
    for (std::int64_t i = 0; i < d; ++i) {
      eye_[i * d + i] = 1;
      for (std::int64_t j = 0; j < i; ++j) strict_lower_[i * d + j] = 1;
    }
  }
  ad::Tape& tape = ctx.tape();
  ad::Var loc = ctx.param_leaf(pname("loc"));
  ad::Var scale = ad::softplus(ctx.param_leaf(pname("scale")));
  // The entries on and above the diagonal are never read, so they get no gradient.
  ad::Var unit = ad::where(tape.borrow(strict_lower_), ctx.param_leaf(pname("scale_tril")), tape.borrow(eye_));
  ad::Var eps = standard_normal(ctx, d);
  Draw r;
  r.u = loc + scale * ad::matmul(unit, eps);
  const double c = -0.5 * static_cast<double>(d) * log_2pi;
  // log N(u; loc, L Lᵀ) at u = loc + L ε is −½‖ε‖² − log|det L| − (D/2) log 2π.
  r.log_q = -ad::sum(ad::log(scale)) + (c - 0.5 * squared_norm(eps));
  if (stl_) {
    // ∇u log q = −L⁻ᵀ ε = −diag(scale)⁻¹ U⁻ᵀ ε.
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMat> u_tril(unit.data(), d, d);
    const Eigen::Map<const Eigen::VectorXd> e(eps.data(), d), sv(scale.data(), d);
    const Eigen::VectorXd w = u_tril.triangularView<Eigen::UnitLower>().transpose().solve(e);
    r.log_q = sticking_the_landing(ctx, r, -(w.array() / sv.array()).matrix());
  }
  return r;
}

Eigen::MatrixXd AutoMultivariateNormal::scale_tril(const params::ParamStore& store) const {
  const auto s = stored(store, "scale");
  const auto w = stored(store, "scale_tril");
  const Eigen::Index d = s.size();
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index i = 0; i < d; ++i) {
    const double si = softplus(s[i]);
    l(i, i) = si;
    for (Eigen::Index j = 0; j < i; ++j) l(i, j) = si * w[i * d + j];
  }
  return l;
}

Eigen::MatrixXd AutoMultivariateNormal::covariance(const params::ParamStore& store) const {
  const Eigen::MatrixXd l = scale_tril(store);
  return l * l.transpose();
}

// ---- AutoLowRankMultivariateNormal: u = loc + S (F ε₁ + ε₂) ----
// Pyro's parameterisation: Σ = S (F Fᵀ + I) S with S = diag(scale), scale
// starting at √½ · init_scale and F at N(0, 1/rank) entries, so that the
// marginal variances start near init_scale². log q by Woodbury and the
// matrix determinant lemma with K = I + Fᵀ F (rank × rank), v = S⁻¹(u − loc):
//   vᵀ(F Fᵀ + I)⁻¹ v = ‖v‖² − ‖chol(K)⁻¹ Fᵀ v‖²,   log det(F Fᵀ + I) = log det K.

namespace {

ad::Var lowrank_log_q(ad::Tape& tape, ad::Var v, ad::Var f, ad::Var scale, double c) {
  const std::int64_t r = f.shape()[1];
  ad::Tensor eye(ad::Shape{r, r}, 0.0);
  for (std::int64_t i = 0; i < r; ++i) eye[i * r + i] = 1;
  ad::Var k_tril = dist::cholesky(tape.constant(eye) + ad::matmul(ad::transpose(f), f));
  ad::Var b = dist::solve_lower(k_tril, ad::matmul(v, f));
  ad::Var quad = ad::sum(ad::square(v)) - ad::sum(ad::square(b));
  return -0.5 * quad - ad::sum(ad::log(dist::diagonal(k_tril))) - ad::sum(ad::log(scale)) + c;
}

}  // namespace

void AutoLowRankMultivariateNormal::init_params(interp::Context& ctx, const ad::Tensor& loc0) {
  const std::int64_t d = loc0.numel();
  rank_ = opts_.rank > 0 ? opts_.rank : std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(d)))));
  param(ctx, pname("loc"), loc0, "real");
  param(ctx, pname("scale"), ad::Tensor(loc0.shape(), inverse_softplus(std::sqrt(0.5) * opts_.init_scale)),
        "softplus_positive");
  ad::Tensor f(ad::Shape{d, rank_});
  for (std::int64_t i = 0; i < f.numel(); ++i) f[i] = rng::standard_normal(ctx.rng()) / std::sqrt(double(rank_));
  param(ctx, pname("cov_factor"), f, "real");
}

AutoContinuous::Draw AutoLowRankMultivariateNormal::draw(interp::Context& ctx) {
  const std::int64_t d = latent_dim();
  ad::Var loc = ctx.param_leaf(pname("loc"));
  ad::Var scale = ad::softplus(ctx.param_leaf(pname("scale")));
  ad::Var f = ctx.param_leaf(pname("cov_factor"));
  rank_ = static_cast<int>(f.shape()[1]);
  ad::Var v = ad::matmul(f, standard_normal(ctx, rank_)) + standard_normal(ctx, d);
  Draw r;
  r.u = loc + scale * v;
  const double c = -0.5 * static_cast<double>(d) * log_2pi;
  r.log_q = lowrank_log_q(ctx.tape(), v, f, scale, c);
  if (stl_) {
    // ∇u log q = −S⁻¹ (F Fᵀ + I)⁻¹ v = −S⁻¹ (v − F K⁻¹ Fᵀ v).
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMat> fm(f.data(), d, rank_);
    const Eigen::Map<const Eigen::VectorXd> vv(v.data(), d), sv(scale.data(), d);
    Eigen::MatrixXd k = fm.transpose() * fm;
    k.diagonal().array() += 1.0;
    const Eigen::VectorXd t = vv - fm * k.llt().solve(fm.transpose() * vv);
    r.log_q = sticking_the_landing(ctx, r, -(t.array() / sv.array()).matrix());
  }
  return r;
}

Eigen::MatrixXd AutoLowRankMultivariateNormal::covariance(const params::ParamStore& store) const {
  const auto s = stored(store, "scale");
  const auto w = stored(store, "cov_factor");
  const Eigen::Index d = s.size(), r = w.size() / std::max<Eigen::Index>(d, 1);
  Eigen::MatrixXd f(d, r);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < r; ++j) f(i, j) = w[i * r + j];
  const Eigen::VectorXd sd = s.unaryExpr([](double x) { return softplus(x); }).matrix();
  Eigen::MatrixXd cov = f * f.transpose();
  cov.diagonal().array() += 1.0;
  return sd.asDiagonal() * cov * sd.asDiagonal();
}

}  // namespace vireo::guide
