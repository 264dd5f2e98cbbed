// kl.hpp — analytic KL(p ‖ q) as tape ops, from a table keyed by the pair of
// family names (Pyro's kl_divergence registry). TraceMeanField_ELBO uses it
// where a pair is listed and falls back to sampling where it is not.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "stdlib/dist/distribution.hpp"

namespace vireo::dist {

// KL(p ‖ q), one value per batch element (the broadcast of both batches).
// Throws NotDefined naming both families when the pair has no closed form here.
Var kl_divergence(const Distribution& p, const Distribution& q);
bool has_kl(std::string_view p, std::string_view q);
// The (p, q) family-name pairs in the table.
std::vector<std::pair<std::string_view, std::string_view>> kl_pairs();

}  // namespace vireo::dist
