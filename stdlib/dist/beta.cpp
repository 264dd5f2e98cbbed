// beta.cpp — Beta(concentration1, concentration0): concentration1 = a weighs
// x, concentration0 = b weighs 1 − x (PyTorch's names).
//   log p(x) = (a − 1) log x + (b − 1) log(1 − x) − log B(a, b),  0 < x < 1
// rsample: Ga/(Ga + Gb) with both gammas implicitly reparameterised.
#include <cfloat>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

class Beta final : public Distribution {
 public:
  Beta(Var c1, Var c0)
      : Distribution(detail::tape_of("Beta", {c1, c0}), detail::broadcast_all({c1, c0})), c1_(c1), c0_(c0) {
    check_positive("Beta", "concentration1", c1);
    check_positive("Beta", "concentration0", c0);
  }
  std::string_view name() const override { return "Beta"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::unit_interval();
    return c;
  }
  bool has_rsample() const override { return true; }

  // Draws are clamped to [tiny, 1 − ε] (as PyTorch) so log_prob stays finite.
  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor a = detail::values_as(c1_, s), b = detail::values_as(c0_, s);
    return detail::fill_with(
        s, [&](auto i) { return std::clamp(rng::beta(g, a[i], b[i]), DBL_MIN, 1.0 - DBL_EPSILON / 2); });
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Var ga = ad::clamp(standard_gamma_rsample(c1_, s, g), DBL_MIN, DBL_MAX);
    const Var gb = ad::clamp(standard_gamma_rsample(c0_, s, g), DBL_MIN, DBL_MAX);
    return ad::clamp(ga / (ga + gb), DBL_MIN, 1.0 - DBL_EPSILON / 2);
  }
  Var mean() const override { return c1_ / (c1_ + c0_); }
  Var variance() const override {
    const Var total = c1_ + c0_;
    return c1_ * c0_ / (ad::square(total) * (total + 1.0));
  }
  Var entropy() const override {
    const Var total = c1_ + c0_;
    return log_beta() - (c1_ - 1.0) * ad::digamma(c1_) - (c0_ - 1.0) * ad::digamma(c0_) +
           (total - 2.0) * ad::digamma(total);
  }
  Var param(std::string_view n) const override {
    if (n == "concentration1") return c1_;
    if (n == "concentration0") return c0_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    return (c1_ - 1.0) * ad::log(x) + (c0_ - 1.0) * ad::log1p(-x) - log_beta();
  }

 private:
  Var log_beta() const { return ad::lgamma(c1_) + ad::lgamma(c0_) - ad::lgamma(c1_ + c0_); }
  Var c1_, c0_;
};

}  // namespace

DistributionPtr beta(Var concentration1, Var concentration0) {
  return std::make_shared<Beta>(concentration1, concentration0);
}

Family beta_family() {
  return {"Beta", {"concentration1", "concentration0"}, [](Tape&, const Params& p) {
            detail::only_params("Beta", p, {"concentration1", "concentration0"});
            return beta(detail::required_param("Beta", p, "concentration1"),
                        detail::required_param("Beta", p, "concentration0"));
          }};
}

}  // namespace vireo::dist
