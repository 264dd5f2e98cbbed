// The whole front end in one call: text -> parse -> check -> site graph.
// Used by the embedding API (runtime/api), the tests and the fuzz target.
#pragma once
#include <optional>
#include <string>

#include "lang/diagnostic.hpp"
#include "lang/ir/graph.hpp"
#include "lang/source.hpp"

namespace vireo::ir {

// Parses and checks `file`, reporting into `diags`; lowers it when there are
// no errors. nullopt when any stage reported an error.
std::optional<Graph> compile(const lang::SourceFile& file, lang::Diagnostics& diags);

// Warns where an observe's support depends on a latent value (Uniform(0, M)
// with M latent), with the reparameterisation that avoids it (support_warnings.cpp).
void warn_latent_supports(const Graph& g, const lang::SourceFile& file, lang::Diagnostics& diags);

// Refuses `with enumerate` where the program shows the site cannot be summed
// out: a family with unbounded support, a guide's site, or a value that
// decides a branch, a loop bound, a plate size or a recursion (support_warnings.cpp).
void check_enumerate_options(const Graph& g, lang::Diagnostics& diags);

// "dir/eight_schools.vireo" -> "eight_schools"
std::string stem(const std::string& file_name);

}  // namespace vireo::ir
