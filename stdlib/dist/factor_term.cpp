// factor_term.cpp — the distribution behind `factor name = e` (Pyro's Unit,
// the distribution pyro.factor samples from): its log-density is the given
// term e whatever the value, one number per batch element. The site's value
// is e itself, so traces show the term. Not a family of the language: it has
// no registry row and no signature, and is never drawn from.
#include "stdlib/dist/families.hpp"

namespace vireo::dist {
namespace {

class FactorTerm final : public Distribution {
 public:
  explicit FactorTerm(Var log_factor)
      : Distribution(*log_factor.tape(), log_factor.shape()), log_factor_(log_factor) {}
  std::string_view name() const override { return "factor"; }
  // Real, so log_prob never masks: a term of −∞ is the program's own hard constraint.
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::real();
    return c;
  }
  Tensor sample(rng::Generator&, const Shape&) const override {
    not_defined("sample (a factor is a term of the log density, not a distribution to draw from)");
  }
  Var param(std::string_view n) const override {
    if (n == "log_factor") return log_factor_;
    unknown_param(n);
  }

 protected:
  Var log_density(Var) const override { return log_factor_; }

 private:
  Var log_factor_;
};

}  // namespace

DistributionPtr factor_term(Var log_factor) { return std::make_shared<FactorTerm>(log_factor); }

}  // namespace vireo::dist
