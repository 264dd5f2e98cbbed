// dirichlet.cpp — Dirichlet(concentration) on the simplex; the last axis of
// concentration is the event, the others batch. With α₀ = Σ α:
//   log p(x) = Σ (α − 1) log x + lgamma(α₀) − Σ lgamma(α)
// rsample: G/ΣG with G ~ Gamma(α, 1) implicitly reparameterised.
#include <cfloat>
#include <vector>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/dist/ops.hpp"

namespace vireo::dist {
namespace {

using detail::without_last;

class Dirichlet final : public Distribution {
 public:
  explicit Dirichlet(Var concentration)
      : Distribution(detail::tape_of("Dirichlet", {concentration}), without_last(checked(concentration).shape()),
                     Shape{concentration.shape()[concentration.rank() - 1]}),
        alpha_(concentration) {
    check_positive("Dirichlet", "concentration", alpha_);
  }
  std::string_view name() const override { return "Dirichlet"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::simplex();
    return c;
  }
  bool has_rsample() const override { return true; }

  // Each event normalised in log space (rng::dirichlet), so small
  // concentrations do not turn into 0/0.
  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor a = detail::values_as(alpha_, s);
    Tensor out(s);
    const std::int64_t k = event_shape()[0];
    for (std::int64_t i = 0; i < out.numel(); i += k)
      rng::dirichlet(g, std::span<const double>(a.data() + i, k), std::span<double>(out.data() + i, k));
    return out;
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Var gam = ad::clamp(standard_gamma_rsample(alpha_, extended_shape(sample_shape), g), DBL_MIN, DBL_MAX);
    return gam / ad::sum(gam, -1, true);
  }
  Var mean() const override { return alpha_ / ad::sum(alpha_, -1, true); }
  Var variance() const override {
    const Var a0 = ad::sum(alpha_, -1, true);
    return alpha_ * (a0 - alpha_) / (ad::square(a0) * (a0 + 1.0));
  }
  Var entropy() const override {
    const Var a0 = ad::sum(alpha_, -1);
    const double k = static_cast<double>(event_shape()[0]);
    return ad::sum(ad::lgamma(alpha_), -1) - ad::lgamma(a0) + (a0 - k) * ad::digamma(a0) -
           ad::sum((alpha_ - 1.0) * ad::digamma(alpha_), -1);
  }
  Var param(std::string_view n) const override {
    if (n == "concentration") return alpha_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    return ad::sum((alpha_ - 1.0) * ad::log(x), -1) + ad::lgamma(ad::sum(alpha_, -1)) -
           ad::sum(ad::lgamma(alpha_), -1);
  }

 private:
  static Var checked(Var concentration) {
    check_vector("Dirichlet", "concentration", concentration);
    return concentration;
  }
  Var alpha_;
};

}  // namespace

DistributionPtr dirichlet(Var concentration) { return std::make_shared<Dirichlet>(concentration); }

Family dirichlet_family() {
  return {"Dirichlet", {"concentration"}, [](Tape&, const Params& p) {
            detail::only_params("Dirichlet", p, {"concentration"});
            return dirichlet(detail::required_param("Dirichlet", p, "concentration"));
          }};
}

}  // namespace vireo::dist
