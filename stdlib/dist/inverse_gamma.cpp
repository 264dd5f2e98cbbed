// inverse_gamma.cpp — InverseGamma(concentration, rate): 1/X for X ~ Gamma(α, β).
//   log p(x) = α log β − lgamma(α) − (α + 1) log x − β/x,  x > 0
#include <cfloat>
#include <limits>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

using detail::inf;

class InverseGamma final : public Distribution {
 public:
  InverseGamma(Var concentration, Var rate)
      : Distribution(detail::tape_of("InverseGamma", {concentration, rate}),
                     detail::broadcast_all({concentration, rate})),
        concentration_(concentration), rate_(rate) {
    check_positive("InverseGamma", "concentration", concentration);
    check_positive("InverseGamma", "rate", rate);
  }
  std::string_view name() const override { return "InverseGamma"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::positive();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor a = detail::values_as(concentration_, s), b = detail::values_as(rate_, s);
    return detail::fill_with(s, [&](auto i) { return b[i] / std::max(rng::standard_gamma(g, a[i]), DBL_MIN); });
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Var z = standard_gamma_rsample(concentration_, extended_shape(sample_shape), g);
    return rate_ / ad::clamp(z, DBL_MIN, DBL_MAX);
  }
  // β/(α − 1) where α > 1, else ∞.
  Var mean() const override {
    const Var a = ad::broadcast_to(concentration_, batch_shape());
    return ad::where(a > 1.0, rate_ / (a - 1.0), inf);
  }
  // β²/((α − 1)²(α − 2)) where α > 2, else ∞.
  Var variance() const override {
    const Var a = ad::broadcast_to(concentration_, batch_shape());
    return ad::where(a > 2.0, ad::square(rate_) / (ad::square(a - 1.0) * (a - 2.0)), inf);
  }
  Var entropy() const override {
    const Var a = concentration_;
    return a + ad::log(rate_) + ad::lgamma(a) - (1.0 + a) * ad::digamma(a);
  }
  Var param(std::string_view n) const override {
    if (n == "concentration") return concentration_;
    if (n == "rate") return rate_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var a = concentration_;
    return a * ad::log(rate_) - ad::lgamma(a) - (a + 1.0) * ad::log(x) - rate_ / x;
  }

 private:
  Var concentration_, rate_;
};

}  // namespace

DistributionPtr inverse_gamma(Var concentration, Var rate) {
  return std::make_shared<InverseGamma>(concentration, rate);
}

Family inverse_gamma_family() {
  return {"InverseGamma", {"concentration", "rate"}, [](Tape&, const Params& p) {
            detail::only_params("InverseGamma", p, {"concentration", "rate"});
            return inverse_gamma(detail::required_param("InverseGamma", p, "concentration"),
                                 detail::required_param("InverseGamma", p, "rate"));
          }};
}

}  // namespace vireo::dist
