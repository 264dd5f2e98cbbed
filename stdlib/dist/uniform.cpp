// uniform.cpp — Uniform(low, high).
//   log p(x) = −log(high − low) for low ≤ x ≤ high, −∞ outside
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Uniform final : public Distribution {
 public:
  Uniform(Var low, Var high)
      : Distribution(detail::tape_of("Uniform", {low, high}), detail::broadcast_all({low, high})), low_(low), high_(high) {
    check_finite("Uniform", "low", low);
    check_finite("Uniform", "high", high);
    check_less("Uniform", "low", low, "high", high);
    support_ = constraints::interval(low_.value(), high_.value());
  }
  std::string_view name() const override { return "Uniform"; }
  const constraints::Constraint& support() const override { return support_; }
  bool support_varies() const override {
    return tape().node(low_).kind != ad::NodeKind::Constant || tape().node(high_).kind != ad::NodeKind::Constant;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor u = detail::fill_with(extended_shape(sample_shape), [&](auto) { return g.uniform(); });
    return low_ + (high_ - low_) * tape().constant(u);
  }
  Var mean() const override { return 0.5 * (low_ + high_); }
  Var variance() const override { return ad::square(high_ - low_) / 12.0; }
  Var entropy() const override { return ad::log(high_ - low_); }
  Var param(std::string_view n) const override {
    if (n == "low") return low_;
    if (n == "high") return high_;
    unknown_param(n);
  }

 protected:
  // x · 0 carries x's shape into the result (the density does not vary with x).
  Var log_density(Var x) const override { return x * 0.0 - ad::log(high_ - low_); }

 private:
  Var low_, high_;
  constraints::Constraint support_;  // built once: its bounds are the parameters' values
};

}  // namespace

DistributionPtr uniform(Var low, Var high) { return std::make_shared<Uniform>(low, high); }

Family uniform_family() {
  return {"Uniform", {"low", "high"}, [](Tape&, const Params& p) {
            detail::only_params("Uniform", p, {"low", "high"});
            return uniform(detail::required_param("Uniform", p, "low"), detail::required_param("Uniform", p, "high"));
          }};
}

}  // namespace vireo::dist
