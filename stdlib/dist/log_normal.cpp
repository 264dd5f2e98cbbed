// log_normal.cpp — LogNormal(loc, scale): exp(X) for X ~ Normal(loc, scale).
//   log p(x) = −(log x − loc)²/(2 scale²) − log scale − ½ log 2π − log x
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class LogNormal final : public Distribution {
 public:
  LogNormal(Var loc, Var scale)
      : Distribution(detail::tape_of("LogNormal", {loc, scale}), detail::broadcast_all({loc, scale})),
        loc_(loc), scale_(scale) {
    check_finite("LogNormal", "loc", loc);
    check_positive("LogNormal", "scale", scale);
  }
  std::string_view name() const override { return "LogNormal"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::positive();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps = detail::fill_with(extended_shape(sample_shape), [&](auto) { return rng::standard_normal(g); });
    return ad::exp(loc_ + scale_ * tape().constant(eps));
  }
  Var mean() const override { return ad::exp(loc_ + 0.5 * ad::square(scale_)); }
  Var variance() const override {
    const Var s2 = ad::square(scale_);
    return ad::expm1(s2) * ad::exp(2.0 * loc_ + s2);
  }
  Var entropy() const override { return 0.5 + 0.5 * detail::log_2pi + ad::log(scale_) + loc_; }
  Var param(std::string_view n) const override {
    if (n == "loc") return loc_;
    if (n == "scale") return scale_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var log_x = ad::log(x);
    const Var z = (log_x - loc_) / scale_;
    return -0.5 * ad::square(z) - ad::log(scale_) - 0.5 * detail::log_2pi - log_x;
  }

 private:
  Var loc_, scale_;
};

}  // namespace

DistributionPtr log_normal(Var loc, Var scale) { return std::make_shared<LogNormal>(loc, scale); }

Family log_normal_family() {
  return {"LogNormal", {"loc", "scale"}, [](Tape&, const Params& p) {
            detail::only_params("LogNormal", p, {"loc", "scale"});
            return log_normal(detail::required_param("LogNormal", p, "loc"),
                              detail::required_param("LogNormal", p, "scale"));
          }};
}

}  // namespace vireo::dist
