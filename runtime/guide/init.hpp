// Initialisation strategies for automatic guides (Pyro's init_to_*): where a
// latent site's guide starts, as a constrained value of the site's shape.
// The default, init_to_median, starts each site at the median of 15 prior
// draws — robust to heavy tails where the mean is useless or undefined.
#pragma once
#include <map>
#include <string>

#include "runtime/ad/ad.hpp"
#include "runtime/handlers/message.hpp"

namespace vireo::guide {

struct InitStrategy {
  enum class Kind { Median, Mean, Sample, Feasible, Uniform, Value };
  Kind kind = Kind::Median;
  double radius = 2.0;                         // init_to_uniform: unconstrained U(−radius, radius)
  int median_draws = 15;                       // init_to_median
  // Starting values by site name, constrained, for every kind (other sites
  // start by the kind; `value` alone: the median). Checked against the
  // site's shape and support when it runs.
  std::map<std::string, ad::Tensor> values;

  // "median", "mean", "sample", "feasible", "uniform", "uniform(0.5)", "value"; throws std::invalid_argument.
  static InitStrategy parse(const std::string& text);
  std::string name() const;
};

// The initial constrained value for the latent site `msg` (its prior is
// msg.fn, its shape the prior's batch + event shape). Falls back to
// init_to_feasible when a strategy yields a non-finite value.
ad::Tensor initial_value(const InitStrategy& s, const handlers::Message& msg, rng::Generator& rng);

}  // namespace vireo::guide
