// binomial.cpp — Binomial(total_count, probs | logits) on {0, …, total_count}.
//   log p(k) = log C(n, k) + k log p + (n − k) log(1 − p)
//            = log C(n, k) + k·l − n·softplus(l)      (logits; finite for |l| large)
// Entropy by summing over the support (as PyTorch).
#include <algorithm>
#include <optional>

#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Binomial final : public Distribution {
 public:
  Binomial(Var total_count, std::optional<Var> probs, std::optional<Var> logits)
      : Distribution(detail::tape_of("Binomial", {total_count, probs ? *probs : *logits}),
                     detail::broadcast_all({total_count, probs ? *probs : *logits})),
        n_(total_count), probs_(probs), logits_(logits) {
    check_nonnegative_integer("Binomial", "total_count", n_);
    if (probs_) check_probability("Binomial", "probs", *probs_);
    else check_finite("Binomial", "logits", *logits_);
    support_ = constraints::integer_interval(0.0, detail::values_as(n_, batch_shape()));
  }
  std::string_view name() const override { return "Binomial"; }
  const constraints::Constraint& support() const override { return support_; }
  bool support_varies() const override { return tape().node(n_).kind != ad::NodeKind::Constant; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor n = detail::values_as(n_, s), p = detail::values_as(param("probs"), s);
    return detail::fill_with(s, [&](auto i) {
      return static_cast<double>(rng::binomial(g, static_cast<std::int64_t>(n[i]), p[i]));
    });
  }
  Var mean() const override { return n_ * param("probs"); }
  Var variance() const override {
    const Var p = param("probs");
    return n_ * p * (1.0 - p);
  }
  Var entropy() const override {
    const Var k = detail::support_points(tape(), static_cast<std::int64_t>(detail::max_value(n_)), batch_shape().rank());
    // Points past a batch element's own n carry no mass; evaluating them at
    // min(k, n) keeps every intermediate finite.
    const Var lp = log_density(ad::minimum(k, n_));
    return detail::entropy_from_log_probs(ad::where(k <= n_, lp, -1.79e308));
  }
  Var param(std::string_view n) const override {
    if (n == "total_count") return n_;
    if (n == "probs") return probs_ ? *probs_ : ad::sigmoid(*logits_);
    if (n == "logits") return logits_ ? *logits_ : ad::logit(*probs_);
    unknown_param(n);
  }

 protected:
  Var log_density(Var k) const override {
    const Var log_choose = ad::lgamma(n_ + 1.0) - ad::lgamma(k + 1.0) - ad::lgamma(n_ - k + 1.0);
    if (logits_) return log_choose + k * *logits_ - n_ * ad::softplus(*logits_);
    // 0 · log 0 = 0 at probs ∈ {0, 1}.
    const Var p = *probs_;
    return log_choose + ad::where(k == 0.0, 0.0, k * ad::log(p)) +
           ad::where(n_ - k == 0.0, 0.0, (n_ - k) * ad::log1p(-p));
  }

 private:
  Var n_;
  std::optional<Var> probs_, logits_;
  constraints::Constraint support_;  // built once: its bounds are the parameters' values
};

}  // namespace

DistributionPtr binomial(Var total_count, std::optional<Var> probs, std::optional<Var> logits) {
  check_one_of("Binomial", "probs", probs.has_value(), "logits", logits.has_value());
  return std::make_shared<Binomial>(total_count, probs, logits);
}

Family binomial_family() {
  return {"Binomial", {"total_count", "probs", "logits"}, [](Tape&, const Params& p) {
            detail::only_params("Binomial", p, {"total_count", "probs", "logits"});
            return binomial(detail::required_param("Binomial", p, "total_count"), detail::optional_param(p, "probs"),
                            detail::optional_param(p, "logits"));
          },
          DiscreteGuideRule{discrete_guide::logit_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"total_count", prior.param("total_count")}, {"logits", u}}; }},
          EnumerationRule{[](const Distribution& d) -> std::int64_t {
            const Tensor n = d.param("total_count").value();
            double most = 0;
            for (std::int64_t i = 0; i < n.numel(); ++i) most = std::max(most, n[i]);
            return static_cast<std::int64_t>(most) + 1;
          }}};
}

}  // namespace vireo::dist
