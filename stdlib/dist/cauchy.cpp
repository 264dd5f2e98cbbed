// cauchy.cpp — Cauchy(loc, scale). No mean or variance.
//   log p(x) = −log π − log scale − log(1 + ((x − loc)/scale)²)
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Cauchy final : public Distribution {
 public:
  Cauchy(Var loc, Var scale)
      : Distribution(detail::tape_of("Cauchy", {loc, scale}), detail::broadcast_all({loc, scale})),
        loc_(loc), scale_(scale) {
    check_finite("Cauchy", "loc", loc);
    check_positive("Cauchy", "scale", scale);
  }
  std::string_view name() const override { return "Cauchy"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps = detail::fill_with(extended_shape(sample_shape), [&](auto) { return rng::standard_cauchy(g); });
    return loc_ + scale_ * tape().constant(eps);
  }
  Var entropy() const override {
    return ad::broadcast_to(std::log(4.0 * std::numbers::pi) + ad::log(scale_), batch_shape());
  }
  Var param(std::string_view n) const override {
    if (n == "loc") return loc_;
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var z = (x - loc_) / scale_;
    return -detail::log_pi - ad::log(scale_) - ad::log1p(ad::square(z));
  }

 private:
  Var loc_, scale_;
};

}  // namespace

DistributionPtr cauchy(Var loc, Var scale) { return std::make_shared<Cauchy>(loc, scale); }

Family cauchy_family() {
  return {"Cauchy", {"loc", "scale"}, [](Tape&, const Params& p) {
            detail::only_params("Cauchy", p, {"loc", "scale"});
            return cauchy(detail::required_param("Cauchy", p, "loc"), detail::required_param("Cauchy", p, "scale"));
          }};
}

}  // namespace vireo::dist
