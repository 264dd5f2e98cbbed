// categorical.cpp — Categorical(probs | logits) on {0, …, K − 1}; the last
// axis of the parameter indexes the categories, the others are batch.
// probs are normalised to sum to 1 and logits by log_softmax, as PyTorch.
// No mean or variance (PyTorch returns NaN): categories are labels.
#include <optional>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

using detail::without_last;

class Categorical final : public Distribution {
 public:
  Categorical(std::optional<Var> probs, std::optional<Var> logits)
      : Distribution(detail::tape_of("Categorical", {probs ? *probs : *logits}),
                     without_last((probs ? *probs : *logits).shape())),
        probs_(probs), logits_(logits) {
    const Var p = probs ? *probs : *logits;
    check_vector("Categorical", probs ? "probs" : "logits", p);
    if (probs_) {
      check_nonnegative("Categorical", "probs", *probs_);
      const Tensor total = ad::sum(*probs_, -1).value();
      for (std::int64_t i = 0; i < total.numel(); ++i)
        if (!(total[i] > 0))
          throw ParameterError("Categorical: probs must have a positive sum; got all zeros");
    } else {
      const Tensor l = logits_->value();
      for (std::int64_t i = 0; i < l.numel(); ++i)
        if (std::isnan(l[i]) || l[i] == INFINITY)
          throw ParameterError("Categorical: logits must be finite or -inf; got " + std::to_string(l[i]));
    }
    log_probs_ = logits_ ? ad::log_softmax(*logits_, -1) : ad::log(*probs_) - ad::log(ad::sum(*probs_, -1, true));
    support_ = constraints::integer_interval(0.0, static_cast<double>(num_categories() - 1));
  }
  std::string_view name() const override { return "Categorical"; }
  std::int64_t num_categories() const { return log_probs_.shape()[log_probs_.rank() - 1]; }
  const constraints::Constraint& support() const override { return support_; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor p = ad::exp(log_probs_).value();
    const std::int64_t k = num_categories(), batch = batch_shape().numel();
    return detail::fill_with(s, [&](auto i) {
      const double* row = p.data() + (i % batch) * k;
      return static_cast<double>(rng::categorical(g, std::span<const double>(row, k)));
    });
  }
  // −Σ p log p over the last axis; a category with p = 0 counts 0.
  Var entropy() const override {
    return -ad::sum(ad::exp(log_probs_) * ad::clamp(log_probs_, -1.79e308, 0.0), -1);
  }
  Var param(std::string_view n) const override {
    if (n == "probs") return probs_ ? *probs_ / ad::sum(*probs_, -1, true) : ad::softmax(*logits_, -1);
    if (n == "logits") return log_probs_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    // Values outside {0, …, K − 1} are masked to −∞ by log_prob; gather at a
    // clamped index so the lookup itself stays in range.
    const Tensor v = x.value();
    const Tensor clamped = detail::fill_with(v.shape(), [&](auto i) {
      return std::clamp(std::floor(std::isnan(v[i]) ? 0.0 : v[i]), 0.0, static_cast<double>(num_categories() - 1));
    });
    return ad::take_along_last(log_probs_, detail::to_indices(clamped));
  }

 private:
  std::optional<Var> probs_, logits_;
  Var log_probs_;
  constraints::Constraint support_;  // built once: its bounds are the parameters' values
};

}  // namespace

DistributionPtr categorical(std::optional<Var> probs, std::optional<Var> logits) {
  check_one_of("Categorical", "probs", probs.has_value(), "logits", logits.has_value());
  return std::make_shared<Categorical>(probs, logits);
}

Family categorical_family() {
  return {"Categorical", {"probs", "logits"}, [](Tape&, const Params& p) {
            detail::only_params("Categorical", p, {"probs", "logits"});
            return categorical(detail::optional_param(p, "probs"), detail::optional_param(p, "logits"));
          },
          DiscreteGuideRule{discrete_guide::log_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"logits", u}}; }},
          EnumerationRule{[](const Distribution& d) -> std::int64_t {
            const Var logits = d.param("logits");
            return logits.rank() == 0 ? 1 : logits.shape()[logits.rank() - 1];
          }}};
}

}  // namespace vireo::dist
