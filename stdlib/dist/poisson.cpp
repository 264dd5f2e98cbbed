// poisson.cpp — Poisson(rate) on {0, 1, …}.
//   log p(k) = k log λ − λ − lgamma(k + 1)      (0 · log 0 = 0 at λ = 0)
// Entropy has no closed form; it is summed over k ≤ λ + 20√λ + 30, past
// which the mass is below e^−100 (well under double precision).
#include <cmath>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Poisson final : public Distribution {
 public:
  explicit Poisson(Var rate) : Distribution(detail::tape_of("Poisson", {rate}), rate.shape()), rate_(rate) {
    check_nonnegative("Poisson", "rate", rate);
    check_finite("Poisson", "rate", rate);
  }
  std::string_view name() const override { return "Poisson"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative_integer();
    return c;
  }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor r = detail::values_as(rate_, s);
    return detail::fill_with(s, [&](auto i) { return static_cast<double>(rng::poisson(g, r[i])); });
  }
  Var mean() const override { return rate_; }
  Var variance() const override { return rate_; }
  Var entropy() const override {
    const double top = detail::max_value(rate_);
    const auto k_max = static_cast<std::int64_t>(std::ceil(top + 20.0 * std::sqrt(top) + 30.0));
    return detail::entropy_from_log_probs(log_density(detail::support_points(tape(), k_max, batch_shape().rank())));
  }
  Var param(std::string_view n) const override {
    if (n == "rate") return rate_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var k) const override {
    return ad::where(k == 0.0, 0.0, k * ad::log(rate_)) - rate_ - ad::lgamma(k + 1.0);
  }

 private:
  Var rate_;
};

}  // namespace

DistributionPtr poisson(Var rate) { return std::make_shared<Poisson>(rate); }

Family poisson_family() {
  return {"Poisson", {"rate"}, [](Tape&, const Params& p) {
            detail::only_params("Poisson", p, {"rate"});
            return poisson(detail::required_param("Poisson", p, "rate"));
          },
          DiscreteGuideRule{discrete_guide::log_of_rate,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"rate", ad::exp(u)}}; }}};
}

}  // namespace vireo::dist
