// negative_binomial.cpp — NegativeBinomial(total_count, probs), PyTorch's:
// the number of successes (each with probability probs) before total_count
// failures, on {0, 1, …}.
//   log p(k) = lgamma(k + r) − lgamma(r) − lgamma(k + 1) + r log(1 − p) + k log p
// Entropy has no closed form; it is summed over k ≤ mean + 40 sd + 50.
#include <cmath>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class NegativeBinomial final : public Distribution {
 public:
  NegativeBinomial(Var total_count, Var probs)
      : Distribution(detail::tape_of("NegativeBinomial", {total_count, probs}),
                     detail::broadcast_all({total_count, probs})),
        r_(total_count), probs_(probs) {
    check_positive("NegativeBinomial", "total_count", r_);
    check_probability("NegativeBinomial", "probs", probs_);
    const Tensor p = probs_.value();
    for (std::int64_t i = 0; i < p.numel(); ++i)
      if (p[i] == 1.0) throw ParameterError("NegativeBinomial: probs must be in [0, 1); got 1");
  }
  std::string_view name() const override { return "NegativeBinomial"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative_integer();
    return c;
  }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor r = detail::values_as(r_, s), p = detail::values_as(probs_, s);
    return detail::fill_with(s, [&](auto i) { return static_cast<double>(rng::negative_binomial(g, r[i], p[i])); });
  }
  Var mean() const override { return r_ * probs_ / (1.0 - probs_); }
  Var variance() const override { return r_ * probs_ / ad::square(1.0 - probs_); }
  Var entropy() const override {
    const Tensor m = ad::detach(mean()).value(), v = ad::detach(variance()).value();
    double top = 0;
    for (std::int64_t i = 0; i < m.numel(); ++i) top = std::max(top, m[i] + 40.0 * std::sqrt(v[i]) + 50.0);
    const auto k_max = static_cast<std::int64_t>(std::ceil(top));
    return detail::entropy_from_log_probs(log_density(detail::support_points(tape(), k_max, batch_shape().rank())));
  }
  Var param(std::string_view n) const override {
    if (n == "total_count") return r_;
    if (n == "probs") return probs_;
    if (n == "logits") return ad::logit(probs_);
    unknown_param(n);
  }

 protected:
  Var log_density(Var k) const override {
    return ad::lgamma(k + r_) - ad::lgamma(r_) - ad::lgamma(k + 1.0) + r_ * ad::log1p(-probs_) +
           ad::where(k == 0.0, 0.0, k * ad::log(probs_));
  }

 private:
  Var r_, probs_;
};

}  // namespace

DistributionPtr negative_binomial(Var total_count, Var probs) {
  return std::make_shared<NegativeBinomial>(total_count, probs);
}

Family negative_binomial_family() {
  return {"NegativeBinomial", {"total_count", "probs"}, [](Tape&, const Params& p) {
            detail::only_params("NegativeBinomial", p, {"total_count", "probs"});
            return negative_binomial(detail::required_param("NegativeBinomial", p, "total_count"),
                                     detail::required_param("NegativeBinomial", p, "probs"));
          },
          DiscreteGuideRule{discrete_guide::logit_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"total_count", prior.param("total_count")}, {"probs", ad::sigmoid(u)}}; }}};
}

}  // namespace vireo::dist
