// distribution.cpp — the shared parts of every family: masking log_prob
// outside the support, shapes, and the "not defined" errors.
#include "stdlib/dist/distribution.hpp"

#include <cmath>
#include <limits>

namespace vireo::dist {

Var Distribution::log_prob(Var value) const {
  bool checked = false;
  Var lp = log_density_checked(value, checked);
  if (checked) return lp;
  const constraints::Constraint& s = support();
  if (s.kind == constraints::Kind::real || s.kind == constraints::Kind::real_vector) return lp;
  if (s.all_inside(value.data(), value.shape())) return lp;  // the usual case, allocation-free
  const Tensor inside = s.check(value.value());
  for (std::int64_t i = 0; i < inside.numel(); ++i) {
    if (inside[i] == 0.0)  // only now pay for a select: −∞ outside the support
      return ad::where(tape().constant(inside), lp, -std::numeric_limits<double>::infinity());
  }
  return lp;
}

Var Distribution::rsample(rng::Generator&, const Shape&) const {
  not_defined("rsample (it is not reparameterisable)");
}
Var Distribution::mean() const { not_defined("mean"); }
Var Distribution::variance() const { not_defined("variance"); }
Var Distribution::entropy() const { not_defined("entropy"); }

Shape Distribution::extended_shape(const Shape& sample_shape) const {
  Shape s = sample_shape;
  for (auto d : batch_shape_) s.push_back(d);
  for (auto d : event_shape_) s.push_back(d);
  return s;
}

void Distribution::not_defined(std::string_view what) const {
  throw NotDefined(std::string(name()) + ": " + std::string(what) + " is not defined");
}

void Distribution::unknown_param(std::string_view param) const {
  throw std::invalid_argument(std::string(name()) + ": no parameter named '" + std::string(param) + "'");
}

}  // namespace vireo::dist
