// half_cauchy.cpp — HalfCauchy(scale): |X| for X ~ Cauchy(0, scale). No mean or variance.
//   log p(x) = log 2 − log π − log scale − log(1 + (x/scale)²),  x ≥ 0
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class HalfCauchy final : public Distribution {
 public:
  explicit HalfCauchy(Var scale) : Distribution(detail::tape_of("HalfCauchy", {scale}), scale.shape()), scale_(scale) {
    check_positive("HalfCauchy", "scale", scale);
  }
  std::string_view name() const override { return "HalfCauchy"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps =
        detail::fill_with(extended_shape(sample_shape), [&](auto) { return std::abs(rng::standard_cauchy(g)); });
    return scale_ * tape().constant(eps);
  }
  Var entropy() const override { return std::log(2.0 * std::numbers::pi) + ad::log(scale_); }
  Var param(std::string_view n) const override {
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    return detail::log_2 - detail::log_pi - ad::log(scale_) - ad::log1p(ad::square(x / scale_));
  }

 private:
  Var scale_;
};

}  // namespace

DistributionPtr half_cauchy(Var scale) { return std::make_shared<HalfCauchy>(scale); }

Family half_cauchy_family() {
  return {"HalfCauchy", {"scale"}, [](Tape&, const Params& p) {
            detail::only_params("HalfCauchy", p, {"scale"});
            return half_cauchy(detail::required_param("HalfCauchy", p, "scale"));
          }};
}

}  // namespace vireo::dist
