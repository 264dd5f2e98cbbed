// half_normal.cpp — HalfNormal(scale): |X| for X ~ Normal(0, scale).
//   log p(x) = log 2 − x²/(2 scale²) − log scale − ½ log 2π,  x ≥ 0
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class HalfNormal final : public Distribution {
 public:
  explicit HalfNormal(Var scale) : Distribution(detail::tape_of("HalfNormal", {scale}), scale.shape()), scale_(scale) {
    check_positive("HalfNormal", "scale", scale);
  }
  std::string_view name() const override { return "HalfNormal"; }
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
        detail::fill_with(extended_shape(sample_shape), [&](auto) { return std::abs(rng::standard_normal(g)); });
    return scale_ * tape().constant(eps);
  }
  Var mean() const override { return scale_ * std::sqrt(2.0 / std::numbers::pi); }
  Var variance() const override { return ad::square(scale_) * (1.0 - 2.0 / std::numbers::pi); }
  // ½ log(π scale² / 2) + ½.
  Var entropy() const override { return ad::log(scale_) + 0.5 * std::log(std::numbers::pi / 2.0) + 0.5; }
  Var param(std::string_view n) const override {
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var z = x / scale_;
    return detail::log_2 - 0.5 * ad::square(z) - ad::log(scale_) - 0.5 * detail::log_2pi;
  }

 private:
  Var scale_;
};

}  // namespace

DistributionPtr half_normal(Var scale) { return std::make_shared<HalfNormal>(scale); }

Family half_normal_family() {
  return {"HalfNormal", {"scale"}, [](Tape&, const Params& p) {
            detail::only_params("HalfNormal", p, {"scale"});
            return half_normal(detail::required_param("HalfNormal", p, "scale"));
          }};
}

}  // namespace vireo::dist
