// bernoulli.cpp — Bernoulli(probs | logits) on {0, 1}.
//   logits: log p(x) = x·l − softplus(l)       (finite for |l| up to 1e308)
//   probs:  log p(x) = log p if x = 1, log(1 − p) if x = 0
#include <optional>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Bernoulli final : public Distribution {
 public:
  Bernoulli(std::optional<Var> probs, std::optional<Var> logits)
      : Distribution(detail::tape_of("Bernoulli", {probs ? *probs : *logits}), (probs ? *probs : *logits).shape()),
        probs_(probs), logits_(logits) {
    if (probs_) check_probability("Bernoulli", "probs", *probs_);
    else check_finite("Bernoulli", "logits", *logits_);
  }
  std::string_view name() const override { return "Bernoulli"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::boolean();
    return c;
  }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor p = detail::values_as(param("probs"), s);
    return detail::fill_with(s, [&](auto i) { return rng::bernoulli(g, p[i]) ? 1.0 : 0.0; });
  }
  Var mean() const override { return param("probs"); }
  Var variance() const override {
    const Var p = param("probs");
    return p * (1.0 - p);
  }
  Var entropy() const override {
    if (logits_) return ad::softplus(*logits_) - *logits_ * ad::sigmoid(*logits_);
    const Var p = *probs_;
    return -(ad::where(p > 0.0, p * ad::log(p), 0.0) + ad::where(p < 1.0, (1.0 - p) * ad::log1p(-p), 0.0));
  }
  Var param(std::string_view n) const override {
    if (n == "probs") return probs_ ? *probs_ : ad::sigmoid(*logits_);
    if (n == "logits") return logits_ ? *logits_ : ad::logit(*probs_);
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    if (logits_) return x * *logits_ - ad::softplus(*logits_);
    return ad::where(x == 1.0, ad::log(*probs_), ad::log1p(-*probs_));
  }

 private:
  std::optional<Var> probs_, logits_;
};

}  // namespace

DistributionPtr bernoulli(std::optional<Var> probs, std::optional<Var> logits) {
  check_one_of("Bernoulli", "probs", probs.has_value(), "logits", logits.has_value());
  return std::make_shared<Bernoulli>(probs, logits);
}

Family bernoulli_family() {
  return {"Bernoulli", {"probs", "logits"}, [](Tape&, const Params& p) {
            detail::only_params("Bernoulli", p, {"probs", "logits"});
            return bernoulli(detail::optional_param(p, "probs"), detail::optional_param(p, "logits"));
          },
          DiscreteGuideRule{discrete_guide::logit_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"logits", u}}; }},
          EnumerationRule{[](const Distribution&) -> std::int64_t { return 2; }}};
}

}  // namespace vireo::dist
