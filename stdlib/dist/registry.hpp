// registry.hpp — the table of distribution families keyed by their
// LANGUAGE.md name, with PyTorch/Pyro parameter names. The runtime binds the
// builtin signature table (stdlib/signatures) to these rows by name.
// Adding a family: one new file defining its class, its factory and its row,
// plus one line in registry.cpp.
#pragma once

#include <boost/container/small_vector.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stdlib/dist/distribution.hpp"

namespace vireo::dist {

// A family's parameters by name. A family takes at most three, so they are
// kept inline, in the order given: building a distribution every step
// allocates nothing for them.
class Params {
 public:
  using value_type = std::pair<std::string, Var>;
  using const_iterator = const value_type*;

  Params() = default;
  Params(std::initializer_list<value_type> init) {
    for (const auto& [name, v] : init) emplace(name, v);
  }
  // Adds `name` unless it is there already (as std::map::emplace does);
  // returns whether it was added.
  bool emplace(std::string_view name, Var v) {
    if (find(name) != end()) return false;
    items_.emplace_back(std::string(name), v);
    return true;
  }
  const_iterator find(std::string_view name) const {
    for (const value_type& it : items_)
      if (it.first == name) return &it;
    return end();
  }
  std::size_t count(std::string_view name) const { return find(name) != end() ? 1 : 0; }
  const_iterator begin() const { return items_.data(); }
  const_iterator end() const { return items_.data() + items_.size(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  boost::container::small_vector<value_type, 3> items_;
};

// How the automatic guides guide a latent site of a discrete family: by an
// unconstrained array (one entry per element, or per category) that starts
// from the prior's parameters — probabilities clipped to [1e-3, 1 − 1e-3], as
// LANGUAGE.md says — and gives the guide distribution's parameters, in the
// family's own parameterisation (Bernoulli: logits; Poisson: log rate).
struct DiscreteGuideRule {
  Tensor (*init)(const Distribution& prior);
  // The guide's parameters from the unconstrained array `u`; fixed parameters
  // (a Binomial's total_count) are the prior's.
  Params (*params)(const Distribution& prior, const Var& u);
};

// The usual starting points of a DiscreteGuideRule.
namespace discrete_guide {
Tensor logit_of_probs(const Distribution& prior);  // logit(clip(probs))
Tensor log_of_probs(const Distribution& prior);    // log(clip(probs)): a Categorical's logits
Tensor log_of_rate(const Distribution& prior);     // log(max(rate, 1e-3))
}  // namespace discrete_guide

// How `--elbo enum` sums a discrete family out: its values are 0, 1, …,
// support_size − 1 (the largest over the batch; a value outside an element's
// own support has log mass −∞ there). Families with unbounded support
// (Poisson, Geometric, NegativeBinomial) have no rule.
struct EnumerationRule {
  std::int64_t (*support_size)(const Distribution& d);
};

struct Family {
  std::string_view name;
  // Parameter names in positional order; alternatives ("probs | logits")
  // are listed as separate names and exactly one of them must be given.
  std::vector<std::string_view> params;
  // Builds the distribution; throws ParameterError naming the family and the
  // parameter for a missing, unknown or invalid one.
  DistributionPtr (*make)(Tape& tape, const Params& params);
  // Discrete families: how an automatic guide parameterises their sites.
  std::optional<DiscreteGuideRule> discrete_guide = std::nullopt;
  // Finite-support families: how enumeration lists their values.
  std::optional<EnumerationRule> enumeration = std::nullopt;
};

const std::vector<Family>& families();
// nullptr for an unknown name.
const Family* find_family(std::string_view name);
// find_family + make; throws std::invalid_argument for an unknown family.
DistributionPtr make_distribution(std::string_view name, Tape& tape, const Params& params);

}  // namespace vireo::dist
