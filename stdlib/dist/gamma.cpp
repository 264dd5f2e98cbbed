// gamma.cpp — Gamma(concentration, rate).
//   log p(x) = α log β + (α − 1) log x − β x − lgamma(α),  x > 0
// rsample: z/β with z ~ Gamma(α, 1) implicitly reparameterised (ops.hpp).
#include <cfloat>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

class Gamma final : public Distribution {
 public:
  Gamma(Var concentration, Var rate)
      : Distribution(detail::tape_of("Gamma", {concentration, rate}), detail::broadcast_all({concentration, rate})),
        concentration_(concentration), rate_(rate) {
    check_positive("Gamma", "concentration", concentration);
    check_positive("Gamma", "rate", rate);
  }
  std::string_view name() const override { return "Gamma"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative();
    return c;
  }
  bool has_rsample() const override { return true; }

  // Draws below the smallest normal double are clamped to it (as PyTorch), so
  // that log_prob of a draw stays finite for small concentrations.
  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor a = detail::values_as(concentration_, s), b = detail::values_as(rate_, s);
    return detail::fill_with(s, [&](auto i) { return std::max(rng::standard_gamma(g, a[i]) / b[i], DBL_MIN); });
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Var z = standard_gamma_rsample(concentration_, extended_shape(sample_shape), g);
    return ad::clamp(z / rate_, DBL_MIN, DBL_MAX);
  }
  Var mean() const override { return concentration_ / rate_; }
  Var variance() const override { return concentration_ / ad::square(rate_); }
  Var entropy() const override {
    const Var a = concentration_;
    return a - ad::log(rate_) + ad::lgamma(a) + (1.0 - a) * ad::digamma(a);
  }
  Var param(std::string_view n) const override {
    if (n == "concentration") return concentration_;
    if (n == "rate") return rate_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    const Var a = concentration_;
    return a * ad::log(rate_) + (a - 1.0) * ad::log(x) - rate_ * x - ad::lgamma(a);
  }

 private:
  Var concentration_, rate_;
};

}  // namespace

DistributionPtr gamma(Var concentration, Var rate) { return std::make_shared<Gamma>(concentration, rate); }

Family gamma_family() {
  return {"Gamma", {"concentration", "rate"}, [](Tape&, const Params& p) {
            detail::only_params("Gamma", p, {"concentration", "rate"});
            return gamma(detail::required_param("Gamma", p, "concentration"), detail::required_param("Gamma", p, "rate"));
          }};
}

}  // namespace vireo::dist
