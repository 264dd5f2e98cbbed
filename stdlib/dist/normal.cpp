// normal.cpp — Normal(loc, scale).
//   log p(x) = −(x − loc)²/(2 scale²) − log scale − ½ log 2π
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

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
    return loc_ + scale_ * tape().constant_from(extended_shape(sample_shape), [&] { return rng::standard_normal(g); });
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
