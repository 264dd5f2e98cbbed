// distribution.cpp — the shared parts of every family: masking log_prob
// outside the support, shapes, and the "not defined" errors.
#include "stdlib/dist/distribution.hpp"

#include <cmath>
#include <limits>

namespace vireo::dist {

Var Distribution::log_prob(Var value) const {
  bool checked = false;
  Var lp = log_density_checked(value, checked);
  ad::Tape& t = tape();
  // Whether the value lies in the support decides which nodes are pushed: a
  // replay of the tape (ad::Tape::forward) must ask again when the value
  // is not a constant (a latent draw), and cannot reuse a mask made of one,
  // nor ask again of bounds read from latent parameters.
  if (t.guards_wanted() && support_varies()) t.mark_opaque(lp);
  const bool varies = t.node(value).kind != ad::NodeKind::Constant;
  if (checked) {
    if (varies && t.guards_wanted()) t.mark_opaque(lp);  // the kernel's own check, not asked again
    return lp;
  }
  const constraints::Constraint& s = support();
  if (s.kind == constraints::Kind::real || s.kind == constraints::Kind::real_vector) return lp;
  if (s.all_inside(value.data(), value.shape())) {  // the usual case, allocation-free
    if (varies && t.guards_wanted())
      t.add_guard([s, i = value.index()](const ad::Tape& tape) {
        const ad::Node& n = tape.node(i);
        return s.all_inside(tape.val(n), n.shape);
      });
    return lp;
  }
  const Tensor inside = s.check(value.value());
  for (std::int64_t i = 0; i < inside.numel(); ++i) {
    if (inside[i] == 0.0) {  // only now pay for a select: −∞ outside the support
      Var mask = t.constant(inside);
      if (varies) t.mark_opaque(mask);
      return ad::where(mask, lp, -std::numeric_limits<double>::infinity());
    }
  }
  // Inside after all (all_inside could not tell cheaply): the same decision, asked again by check().
  if (varies && t.guards_wanted())
    t.add_guard([s, i = value.index()](const ad::Tape& tape) {
      const Tensor ok = s.check(tape.value(i));
      for (std::int64_t i = 0; i < ok.numel(); ++i)
        if (ok[i] == 0.0) return false;
      return true;
    });
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
