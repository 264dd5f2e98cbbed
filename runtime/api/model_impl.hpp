// What a vireo::Model holds: its source file and its site graph. Internal to
// runtime/api; the later fitting code reads the graph from here.
#pragma once
#include <vector>

#include "runtime/api/access.hpp"
#include "vireo/vireo.hpp"
#include "lang/ir/graph.hpp"
#include "lang/source.hpp"
#include "stdlib/signatures/host_table.hpp"

namespace vireo {

struct detail::HostTable {
  sig::HostTable rows;
};

struct detail::ModelImpl {
  lang::SourceFile source;
  ir::Graph graph;
  std::vector<Diagnostic> warnings;
  std::string rendered_warnings;
};

}  // namespace vireo
