// registry.hpp — the table of distribution families keyed by their
// LANGUAGE.md name, with PyTorch/Pyro parameter names. The runtime binds the
// builtin signature table (stdlib/signatures) to these rows by name.
// Adding a family: one new file defining its class, its factory and its row,
// plus one line in registry.cpp.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stdlib/dist/distribution.hpp"

namespace vireo::dist {

using Params = std::map<std::string, Var, std::less<>>;

struct Family {
  std::string_view name;
  // Parameter names in positional order; alternatives ("probs | logits")
  // are listed as separate names and exactly one of them must be given.
  std::vector<std::string_view> params;
  // Builds the distribution; throws ParameterError naming the family and the
  // parameter for a missing, unknown or invalid one.
  DistributionPtr (*make)(Tape& tape, const Params& params);
};

const std::vector<Family>& families();
// nullptr for an unknown name.
const Family* find_family(std::string_view name);
// find_family + make; throws std::invalid_argument for an unknown family.
DistributionPtr make_distribution(std::string_view name, Tape& tape, const Params& params);

}  // namespace vireo::dist
