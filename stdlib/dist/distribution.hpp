// distribution.hpp — the interface every distribution family implements.
// A distribution holds its parameters as Vars of one tape; log_prob, rsample,
// mean, variance, entropy and KL are tape ops, so gradients with respect to
// the value and every parameter come from the tape. Shapes follow PyTorch:
// a value has shape sample_shape + batch_shape + event_shape and log_prob
// returns one number per batch element (sample_shape + batch_shape).
// Families live one per file (normal.cpp, …) and are looked up by their
// LANGUAGE.md name in registry.hpp; analytic KL pairs in kl.hpp.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/ad/ad.hpp"
#include "runtime/rng/generator.hpp"
#include "stdlib/constraints/constraint.hpp"

namespace vireo::dist {

using ad::Shape;
using ad::Tape;
using ad::Tensor;
using ad::Var;

// Thrown for a quantity the family does not define in closed form (the mean
// of a Cauchy, rsample of a discrete family); the message names both.
class NotDefined : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class Distribution {
 public:
  virtual ~Distribution() = default;

  // The LANGUAGE.md name: "Normal", "Bernoulli", …
  virtual std::string_view name() const = 0;
  const Shape& batch_shape() const { return batch_shape_; }
  const Shape& event_shape() const { return event_shape_; }
  // A reference that lives as long as the distribution (a static constant
  // for the families whose support has no parameters).
  virtual const constraints::Constraint& support() const = 0;
  bool is_discrete() const { return support().is_discrete(); }
  virtual bool has_rsample() const { return false; }

  // log density (continuous) or mass (discrete) of `value`, one per batch
  // element; −∞ where the value lies outside the support. Discrete values are
  // passed as doubles holding integers.
  Var log_prob(Var value) const;
  // Draws of shape sample_shape + batch_shape + event_shape, no gradient.
  virtual Tensor sample(rng::Generator& g, const Shape& sample_shape = {}) const = 0;
  // Reparameterised draws: a Var whose gradient w.r.t. the parameters is the
  // pathwise derivative. Throws NotDefined unless has_rsample().
  virtual Var rsample(rng::Generator& g, const Shape& sample_shape = {}) const;

  // Closed forms; throw NotDefined where the family has none.
  virtual Var mean() const;
  virtual Var variance() const;
  virtual Var entropy() const;

  // A parameter by its PyTorch name, including derived ones ("probs" of a
  // logits-parameterised Bernoulli). Throws std::invalid_argument naming the
  // distribution for an unknown name.
  virtual Var param(std::string_view name) const = 0;

  Tape& tape() const { return *tape_; }

 protected:
  Distribution(Tape& tape, Shape batch_shape, Shape event_shape = {})
      : tape_(&tape), batch_shape_(batch_shape), event_shape_(event_shape) {}
  // The density formula, evaluated for values inside the support.
  virtual Var log_density(Var value) const = 0;
  // log_density, for a family whose kernel can also tell, in the pass that
  // reads the values, whether every one lies in support(): `inside` set true
  // only when it did and they all do, and log_prob then skips its own scan of
  // the values (a plate's observed data, every step). Default: log_density,
  // `inside` false.
  virtual Var log_density_checked(Var value, bool& inside) const {
    inside = false;
    return log_density(value);
  }
  // Whether support()'s bounds were read from parameters that are not
  // constants (Uniform(0, M) with M latent): a replay of the tape could not
  // ask the support again with the bounds it computes, so log_prob marks
  // its result as not replayable (ad::Tape::mark_opaque).
  virtual bool support_varies() const { return false; }
  // sample_shape + batch_shape + event_shape.
  Shape extended_shape(const Shape& sample_shape) const;
  [[noreturn]] void not_defined(std::string_view what) const;
  [[noreturn]] void unknown_param(std::string_view param) const;

 private:
  Tape* tape_;
  Shape batch_shape_;
  Shape event_shape_;
};

using DistributionPtr = std::shared_ptr<const Distribution>;

}  // namespace vireo::dist
