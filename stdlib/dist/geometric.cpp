// geometric.cpp — Geometric(probs), PyTorch's: the number of failures before
// the first success, on {0, 1, …}.
//   log p(k) = k log(1 − p) + log p
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Geometric final : public Distribution {
 public:
  explicit Geometric(Var probs) : Distribution(detail::tape_of("Geometric", {probs}), probs.shape()), probs_(probs) {
    check_each_in_half_open(probs);
  }
  std::string_view name() const override { return "Geometric"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative_integer();
    return c;
  }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor p = detail::values_as(probs_, s);
    return detail::fill_with(s, [&](auto i) { return static_cast<double>(rng::geometric(g, p[i])); });
  }
  Var mean() const override { return 1.0 / probs_ - 1.0; }
  Var variance() const override { return (1.0 - probs_) / ad::square(probs_); }
  // −[p log p + (1 − p) log(1 − p)]/p.
  Var entropy() const override {
    const Var p = probs_;
    return -(p * ad::log(p) + ad::where(p < 1.0, (1.0 - p) * ad::log1p(-p), 0.0)) / p;
  }
  Var param(std::string_view n) const override {
    if (n == "probs") return probs_;
    if (n == "logits") return ad::logit(probs_);
    unknown_param(n);
  }

 protected:
  Var log_density(Var k) const override {
    return ad::where(k == 0.0, 0.0, k * ad::log1p(-probs_)) + ad::log(probs_);
  }

 private:
  static void check_each_in_half_open(Var probs) {
    check_probability("Geometric", "probs", probs);
    const Tensor t = probs.value();
    for (std::int64_t i = 0; i < t.numel(); ++i)
      if (t[i] == 0.0) throw ParameterError("Geometric: probs must be in (0, 1]; got 0");
  }
  Var probs_;
};

}  // namespace

DistributionPtr geometric(Var probs) { return std::make_shared<Geometric>(probs); }

Family geometric_family() {
  return {"Geometric", {"probs"}, [](Tape&, const Params& p) {
            detail::only_params("Geometric", p, {"probs"});
            return geometric(detail::required_param("Geometric", p, "probs"));
          },
          DiscreteGuideRule{discrete_guide::logit_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"probs", ad::sigmoid(u)}}; }}};
}

}  // namespace vireo::dist
