// laplace.cpp — Laplace(loc, scale).
//   log p(x) = −log(2 scale) − |x − loc|/scale
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Laplace final : public Distribution {
 public:
  Laplace(Var loc, Var scale)
      : Distribution(detail::tape_of("Laplace", {loc, scale}), detail::broadcast_all({loc, scale})),
        loc_(loc), scale_(scale) {
    check_finite("Laplace", "loc", loc);
    check_positive("Laplace", "scale", scale);
  }
  std::string_view name() const override { return "Laplace"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps = detail::fill_with(extended_shape(sample_shape), [&](auto) { return rng::standard_laplace(g); });
    return loc_ + scale_ * tape().constant(eps);
  }
  Var mean() const override { return ad::broadcast_to(loc_, batch_shape()); }
  Var variance() const override { return ad::broadcast_to(2.0 * ad::square(scale_), batch_shape()); }
  Var entropy() const override { return ad::broadcast_to(1.0 + detail::log_2 + ad::log(scale_), batch_shape()); }
  Var param(std::string_view n) const override {
    if (n == "loc") return loc_;
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override { return -detail::log_2 - ad::log(scale_) - ad::abs(x - loc_) / scale_; }

 private:
  Var loc_, scale_;
};

}  // namespace

DistributionPtr laplace(Var loc, Var scale) { return std::make_shared<Laplace>(loc, scale); }

Family laplace_family() {
  return {"Laplace", {"loc", "scale"}, [](Tape&, const Params& p) {
            detail::only_params("Laplace", p, {"loc", "scale"});
            return laplace(detail::required_param("Laplace", p, "loc"), detail::required_param("Laplace", p, "scale"));
          }};
}

}  // namespace vireo::dist
