// exponential.cpp — Exponential(rate).
//   log p(x) = log rate − rate·x,  x ≥ 0
#include "runtime/rng/samplers.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"

namespace vireo::dist {
namespace {

class Exponential final : public Distribution {
 public:
  explicit Exponential(Var rate) : Distribution(detail::tape_of("Exponential", {rate}), rate.shape()), rate_(rate) {
    check_positive("Exponential", "rate", rate);
  }
  std::string_view name() const override { return "Exponential"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::nonnegative();
    return c;
  }
  bool has_rsample() const override { return true; }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    return ad::detach(rsample(g, sample_shape)).value();
  }
  Var rsample(rng::Generator& g, const Shape& sample_shape) const override {
    const Tensor eps =
        detail::fill_with(extended_shape(sample_shape), [&](auto) { return rng::standard_exponential(g); });
    return tape().constant(eps) / rate_;
  }
  Var mean() const override { return 1.0 / rate_; }
  Var variance() const override { return 1.0 / ad::square(rate_); }
  Var entropy() const override { return 1.0 - ad::log(rate_); }
  Var param(std::string_view n) const override {
    if (n == "rate") return rate_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override { return ad::log(rate_) - rate_ * x; }

 private:
  Var rate_;
};

}  // namespace

DistributionPtr exponential(Var rate) { return std::make_shared<Exponential>(rate); }

Family exponential_family() {
  return {"Exponential", {"rate"}, [](Tape&, const Params& p) {
            detail::only_params("Exponential", p, {"rate"});
            return exponential(detail::required_param("Exponential", p, "rate"));
          }};
}

}  // namespace vireo::dist
