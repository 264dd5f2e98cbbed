// Lowering: a checked AST -> the site graph (graph.hpp), then the static
// dependency edges (dependencies.cpp). Run it only on a program that
// lang::check accepted; on anything else it still returns a graph (unknown
// names become NaN constants) but that graph means nothing.
#pragma once
#include <string>

#include "lang/ast.hpp"
#include "lang/ir/graph.hpp"

namespace vireo::ir {

// `name` becomes Graph::name (the file's stem, for printers); `hosts` the
// host functions the checker accepted calls of (Graph::hosts).
Graph lower(const lang::ast::Program& program, std::string name,
            std::shared_ptr<const sig::HostTable> hosts = nullptr);

// Fills graph.edges, model_sites and guide_sites, and Body::recursive.
// lower() calls it; exposed for tests.
void compute_dependencies(Graph& graph);

// Marks the model's `for` loops whose iterations may run as one batch
// (Stmt::batchable; batch_loops.cpp). lower() calls it; exposed for tests.
void mark_batchable_loops(Graph& graph);

// Sets Graph::fixed_structure and what breaks it (fixed_structure.cpp).
// lower() calls it; exposed for tests.
void mark_fixed_structure(Graph& graph);

}  // namespace vireo::ir
