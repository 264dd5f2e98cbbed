// Starting values per latent site (FitOptions::init_values and
// init_values_file, `vireo run --init-values FILE.json`): read, checked
// against the model's site names, and turned into the init strategy's
// values. Values are on the constrained scale; each is checked against its
// site's support and shape where the site first runs (runtime/guide/init.cpp).
#pragma once
#include <map>
#include <string>

#include "lang/ir/graph.hpp"
#include "runtime/ad/tensor.hpp"
#include "vireo/vireo.hpp"

namespace vireo::api {

// The values of `file` (a JSON object: site name → number or nested arrays,
// row-major) merged with `given` (which wins for a site named in both).
// Throws vireo::Error (kind Options) naming the file, line and column of a
// malformed file, a value that is not numbers, or an unknown site.
std::map<std::string, ad::Tensor> read_init_values(const ir::Graph& graph, const std::string& file,
                                                   const std::map<std::string, Array>& given);

}  // namespace vireo::api
