// Printers of the site graph: a text listing (`vireo graph --format text`,
// stable enough to assert on in tests) and Graphviz DOT in the style of
// Pyro's render_model — latent sites as ellipses, observed sites shaded,
// params as small boxes, deterministic sites dashed, plates as clusters
// labelled "name (size)", edges from the static dependencies.
#pragma once
#include <string>

#include "lang/ir/graph.hpp"

namespace vireo::ir {

// An expression of `body` written back as source text: `mu + tau * eta`.
std::string expr_text(const Graph& g, BodyId body, ExprId id);

// Data, plates, sites (kind, distribution, plates, loops, options) and edges, one per line.
std::string to_text(const Graph& g);

struct DotOptions {
  bool include_guide = false;  // also draw the guide's sites, in a cluster of their own
};
std::string to_dot(const Graph& g, const DotOptions& options = {});

}  // namespace vireo::ir
