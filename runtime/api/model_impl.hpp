// What a vireo::Model holds: its source file and its site graph. Internal to
// runtime/api; the later fitting code reads the graph from here.
#pragma once
#include <vector>

#include "vireo/vireo.hpp"
#include "lang/ir/graph.hpp"
#include "lang/source.hpp"
#include "stdlib/signatures/host_table.hpp"

namespace vireo {

struct HostFunctions::Table {
  sig::HostTable rows;
};

struct Model::Impl {
  lang::SourceFile source;
  ir::Graph graph;
  std::vector<Diagnostic> warnings;
  std::string rendered_warnings;
};

}  // namespace vireo
