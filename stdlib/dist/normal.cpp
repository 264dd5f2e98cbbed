// normal.cpp — Normal(loc, scale).
//   log p(x) = −(x − loc)²/(2 scale²) − log scale − ½ log 2π
#include <cmath>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

// log p(x) as one tape node when x, loc and scale have one shape (every site
// the interpreter builds, whose parameters are broadcast to the site's
// shape): one pass forward and back instead of seven nodes. Same forward
// numbers as the composite below.
void log_density_backward(Tape& t, const ad::Node& n) {
  const ad::Node &nx = t.node(n.in[0]), &nl = t.node(n.in[1]), &ns = t.node(n.in[2]);
  const double *x = t.val(nx), *l = t.val(nl), *s = t.val(ns), *g = t.adj(n);
  double* gx = nx.adj >= 0 ? t.adj(nx) : nullptr;
  double* gl = nl.adj >= 0 ? t.adj(nl) : nullptr;
  double* gs = ns.adj >= 0 ? t.adj(ns) : nullptr;
  for (std::int64_t i = 0; i < n.numel; ++i) {
    const double z = (x[i] - l[i]) / s[i];
    const double dz = g[i] * z / s[i];  // ∂/∂loc = z/scale = −∂/∂x
    if (gx) gx[i] -= dz;
    if (gl) gl[i] += dz;
    if (gs) gs[i] += g[i] * (z * z - 1) / s[i];
  }
}

// The log scale: std::log of each scale, or, with kLogScaleNode, read from
// node iaux[0], which holds those logarithms (ad::log of a constant scale,
// a constant itself): a replayed step need not take the logarithm of the
// data's or a prior's scales again. Same numbers either way.
template <bool kLogScaleNode>
void log_density_forward(Tape& t, const ad::Node& nr) {
  const double *xv = t.val(t.node(nr.in[0])), *l = t.val(t.node(nr.in[1])), *s = t.val(t.node(nr.in[2]));
  const double* log_s = kLogScaleNode ? t.val(t.node(static_cast<std::int32_t>(nr.iaux[0]))) : nullptr;
  double* out = t.val(nr);
  for (std::int64_t i = 0; i < nr.numel; ++i) {
    const double z = (xv[i] - l[i]) / s[i];
    out[i] = -0.5 * (z * z) - (kLogScaleNode ? log_s[i] : std::log(s[i])) - 0.5 * detail::log_2pi;
  }
}

// (compute_pure: the log scale node is a constant whenever the scale is, so
// the value is a constant whenever x, loc and scale are.)
Var fused_log_density(Tape& t, Var x, Var loc, Var scale) {
  const bool constant_scale = t.node(scale).kind == ad::NodeKind::Constant;
  const Var log_scale = constant_scale ? ad::log(scale) : Var();
  Var r = t.push(t.node(x).shape, &log_density_backward, x.index(), loc.index(), scale.index());
  if (constant_scale) t.mutable_node(r).iaux[0] = log_scale.index();
  t.compute_pure(r, constant_scale ? &log_density_forward<true> : &log_density_forward<false>);
  return r;
}

class Normal final : public Distribution {
 public:
  Normal(Var loc, Var scale)
      : Distribution(detail::tape_of("Normal", {loc, scale}), detail::broadcast_all({loc, scale})),
        loc_(loc), scale_(scale) {
    check_finite("Normal", "loc", loc);
    check_positive("Normal", "scale", scale);
  }
  std::string_view name() const override { return "Normal"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    // A large site's draws come in keyed chunks (fill_standard_normal), which may be drawn on several threads.
    Var eps = tape().push(extended_shape(sample_shape), nullptr);
    rng::fill_standard_normal(g, tape().val(eps), eps.numel());
    tape().mark_noise(eps);
    return loc_ + scale_ * eps;
  }
  Var mean() const override { return ad::broadcast_to(loc_, batch_shape()); }
  Var variance() const override { return ad::broadcast_to(ad::square(scale_), batch_shape()); }
  Var entropy() const override {
    return ad::broadcast_to(0.5 + 0.5 * detail::log_2pi + ad::log(scale_), batch_shape());
  }
  Var param(std::string_view n) const override {
    if (n == "loc") return loc_;
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    Tape& t = tape();
    if (x.valid() && x.tape() == &t) {
      t.check(x, "Normal.log_prob");
      const Shape& shape = x.shape();
      if (loc_.shape() == shape && scale_.shape() == shape) return fused_log_density(t, x, loc_, scale_);
    }
    const Var z = (x - loc_) / scale_;
    return -0.5 * ad::square(z) - ad::log(scale_) - 0.5 * detail::log_2pi;
  }

 private:
  Var loc_, scale_;
};

}  // namespace

DistributionPtr normal(Var loc, Var scale) { return std::make_shared<Normal>(loc, scale); }

Family normal_family() {
  return {"Normal", {"loc", "scale"}, [](Tape&, const Params& p) {
            detail::only_params("Normal", p, {"loc", "scale"});
            return normal(detail::required_param("Normal", p, "loc"), detail::required_param("Normal", p, "scale"));
          }};
}

}  // namespace vireo::dist
